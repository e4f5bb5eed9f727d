/* The rewards page's redemption dialog. Without this script each Redeem button
 * opens a confirmation page and redemption is a plain form post; with it, the
 * button opens a modal <dialog> with the cost breakdown, and confirming posts
 * the same form through htmx (see portal/rewards.py). */
(function () {
  "use strict";

  var dialog = document.getElementById("redeem-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return; // keep the plain form flow
  var confirmPart = document.getElementById("redeem-confirm");
  var result = document.getElementById("redeem-result");
  var rewardInput = confirmPart.querySelector('input[name="reward"]');
  var opener = null;

  function balance() {
    var el = document.querySelector("[data-points]");
    return el ? Number(el.dataset.points) : 0;
  }

  function field(name, value) {
    confirmPart.querySelector('[data-field="' + name + '"]').textContent = value;
  }

  function open(button) {
    var cost = Number(button.dataset.cost);
    opener = button;
    field("name", button.dataset.name);
    field("description", button.dataset.description);
    field("balance", balance().toLocaleString());
    field("cost", cost.toLocaleString());
    field("remaining", (balance() - cost).toLocaleString());
    rewardInput.value = button.dataset.rewardId;
    result.innerHTML = "";
    confirmPart.hidden = false;
    dialog.showModal();
    confirmPart.querySelector('button[type="submit"]').focus();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-redeem]");
    if (button) {
      event.preventDefault();
      open(button);
      return;
    }
    if (event.target.closest("[data-close-dialog]")) {
      dialog.close();
    }
  });

  // A click on the backdrop (outside the dialog's box) closes it too.
  dialog.addEventListener("click", function (event) {
    if (event.target !== dialog) return;
    var box = dialog.getBoundingClientRect();
    var inside = event.clientX >= box.left && event.clientX <= box.right &&
      event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) dialog.close();
  });

  dialog.addEventListener("close", function () {
    // The grid may have been replaced; return focus to the same reward's button if it exists.
    var target = opener && document.contains(opener) ? opener
      : opener && document.querySelector('[data-redeem][data-reward-id="' + opener.dataset.rewardId + '"]');
    (target || document.getElementById("points-card") || document.body).focus();
  });

  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target !== result) return;
    // htmx fires this once per settled element (the result and each out-of-band
    // swap), so celebrate each redemption once.
    var redeemed = result.querySelector("[data-redeemed]");
    if (redeemed && !redeemed.dataset.celebrated) {
      redeemed.dataset.celebrated = "true";
      confirmPart.hidden = true;
      var done = result.querySelector("[data-close-dialog]");
      if (done) done.focus();
      if (window.retentionConfetti) window.retentionConfetti(dialog);
    }
  });

  // Arriving from the no-JavaScript flow's redirect with the voucher shown: celebrate too.
  if (document.querySelector("[data-testid=redeemed-panel]") && window.retentionConfetti) {
    window.retentionConfetti(document.body);
  }
})();
