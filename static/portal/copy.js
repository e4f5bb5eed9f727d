/* Copy buttons: <button data-copy="TEXT" data-copy-status="ID" hidden>. Without
 * JavaScript the buttons stay hidden and the text stays on the page to select. Works
 * on content htmx swaps in later (one listener on the document). */
(function () {
  "use strict";

  function show() {
    document.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    document.body.removeChild(area);
    return copied;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var text = button.dataset.copy;
    var status = document.getElementById(button.dataset.copyStatus);
    var say = function (message) { if (status) status.textContent = message; };
    var failed = function () { say(fallbackCopy(text) ? text + " copied." : "Select the code and copy it."); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { say(text + " copied."); }, failed);
    } else {
      failed();
    }
  });

  document.addEventListener("DOMContentLoaded", show);
  document.addEventListener("htmx:afterSettle", show);
  if (document.readyState !== "loading") show();
})();
