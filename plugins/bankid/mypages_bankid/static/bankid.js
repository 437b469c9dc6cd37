// The BankID order page: every second, BankID's message and the current QR code (made on the
// server: the secret never comes here); the order is finished when complete, and cancelled
// when the page is left without finishing.
(function () {
  "use strict";
  var page = document.getElementById("bankid-order");
  if (!page || page.dataset.state !== "pending") { return; }
  var message = document.getElementById("bankid-message");
  var qr = document.getElementById("bankid-qr");
  var finish = document.getElementById("bankid-finish");
  var cancel = document.getElementById("bankid-cancel");
  var again = document.getElementById("bankid-again");
  var leaving = true;
  var timer = null;

  function stop() {
    window.clearInterval(timer);
    leaving = false;
  }

  function show(state) {
    message.textContent = state.message;
    if (qr && state.qr) { qr.src = state.qr; }
    if (state.done) {
      stop();
      finish.submit();
    } else if (state.status !== "pending") {
      stop();
      if (qr) { qr.remove(); }
      if (cancel) { cancel.remove(); }
      if (finish) { finish.remove(); }
      again.hidden = false;
    }
  }

  function poll() {
    fetch(page.dataset.status, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (state) { if (state) { show(state); } })
      .catch(function () { /* the next second asks again */ });
  }

  if (finish) { finish.addEventListener("submit", function () { leaving = false; }); }
  if (cancel) { cancel.addEventListener("submit", function () { leaving = false; }); }
  window.addEventListener("pagehide", function () {
    if (!leaving || !cancel) { return; }
    var form = new FormData(cancel);
    form.append("beacon", "1");
    navigator.sendBeacon(cancel.action, form);
  });
  timer = window.setInterval(poll, 1000);
}());
