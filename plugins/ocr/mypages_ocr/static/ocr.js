// Shows the reading status of documents as it changes, without reloading the page: each
// element with data-status-url is asked again every two seconds until the document is read
// (or failed); on a document's own page, the page is loaded again once it is read.
(function () {
  "use strict";
  var INTERVAL = 2000;

  function poll(element) {
    var url = element.getAttribute("data-status-url");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { return; }
        element.setAttribute("data-status", status.status);
        element.querySelector(".ocr-status-title").textContent = status.title;
        element.querySelector(".ocr-status-reason").textContent = status.reason;
        if (!status.done) {
          window.setTimeout(function () { poll(element); }, INTERVAL);
        } else if (element.getAttribute("data-reload") === "true" && status.status === "done") {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(function () { poll(element); }, INTERVAL * 5); });
  }

  document.querySelectorAll("[data-status-url]").forEach(function (element) {
    window.setTimeout(function () { poll(element); }, INTERVAL);
  });
}());
