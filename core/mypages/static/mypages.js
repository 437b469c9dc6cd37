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
