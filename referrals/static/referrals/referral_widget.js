// The referral widget's copy and share buttons. Without JavaScript the link stays in a
// read-only field to select and the email link works; these buttons stay hidden.
(function () {
  "use strict";

  function say(text) {
    var status = document.getElementById("referral-copied");
    if (status) status.textContent = text;
  }

  function fallbackCopy(input) {
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch (e) {
      return false;
    }
  }

  function setUp() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-copy-target"));
      if (!input) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var done = function () { say("Link copied."); };
        var failed = function () { say(fallbackCopy(input) ? "Link copied." : "Select the link and copy it."); };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(input.value).then(done, failed);
        } else {
          failed();
        }
      });
    });
    document.querySelectorAll("[data-share-url]").forEach(function (button) {
      if (typeof navigator.share !== "function") return; // the device has no share sheet
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.share({
          title: button.getAttribute("data-share-title"),
          text: button.getAttribute("data-share-text"),
          url: button.getAttribute("data-share-url"),
        }).catch(function () { /* the person closed the sheet */ });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
