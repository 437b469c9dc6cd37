/* mypages: the little JavaScript the pages use; every page works without it. */
"use strict";
/* A link with data-confirm="ID" opens the <dialog id="ID"> that asks before a destructive
   action; without JavaScript (or <dialog>) the link leads to a page that asks the same. */
document.addEventListener("click", function (event) {
  var trigger = event.target.closest ? event.target.closest("[data-confirm]") : null;
  if (!trigger) { return; }
  var dialog = document.getElementById(trigger.getAttribute("data-confirm"));
  if (!dialog || typeof dialog.showModal !== "function") { return; }
  event.preventDefault();
  dialog.showModal();
});

/* On a phone a table's rows are cards (mypages.css): each cell is labelled with its
   column's header, unless the template labelled it already. */
function labelTableCells() {
  document.querySelectorAll("main table").forEach(function (table) {
    var headers = Array.prototype.map.call(table.querySelectorAll("thead th, thead td"),
                                           function (th) { return th.textContent.trim(); });
    if (!headers.length) { return; }
    table.querySelectorAll("tbody > tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (!cell.hasAttribute("data-label") && headers[index]) {
          cell.setAttribute("data-label", headers[index]);
        }
      });
    });
  });
}

/* Buttons with data-copy="ID" copy the text of #ID; data-print prints the page; both are
   hidden until this script shows them, as they need it. */
document.addEventListener("click", function (event) {
  var copy = event.target.closest ? event.target.closest("[data-copy]") : null;
  if (copy) {
    var source = document.getElementById(copy.getAttribute("data-copy"));
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.innerText.trim()).then(function () {
        var status = document.getElementById(copy.getAttribute("data-copy") + "-copied");
        if (status) { status.hidden = false; }
      });
    }
    return;
  }
  if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
});

/* A page with field errors moves the focus to the first invalid field, so a screen reader
   reads its error and the keyboard is where the fix is. */
function focusFirstInvalid() {
  var invalid = document.querySelector("main [aria-invalid=true]");
  if (invalid && typeof invalid.focus === "function") { invalid.focus(); }
}

document.addEventListener("DOMContentLoaded", function () {
  labelTableCells();
  document.querySelectorAll("[data-copy][hidden], [data-print][hidden]").forEach(function (b) {
    b.hidden = false;
  });
  focusFirstInvalid();
});
