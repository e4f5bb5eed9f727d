/* A small confetti burst on a <canvas>, written for the rewards page (no library).
 *
 * window.retentionConfetti(container?) draws one burst over the viewport and
 * returns true, or returns false and draws nothing when the visitor asks for
 * reduced motion. The canvas goes inside an open modal <dialog> when there is
 * one, because a modal dialog sits in the top layer above everything else.
 * <html data-confetti="running|done|reduced" data-confetti-bursts="N"> records
 * what happened, for tests and curious engineers. */
(function () {
  "use strict";

  var COLORS = ["#1f6f4a", "#f5b700", "#e4572e", "#2e86de", "#a259ff", "#17c3b2"];
  var DURATION_MS = 2600;
  var PIECES = 160;

  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  function makePiece(width, height) {
    var angle = (Math.random() * 70 + 55) * (Math.PI / 180); // upwards, fanned out
    var speed = Math.random() * 9 + 7;
    var fromLeft = Math.random() < 0.5;
    return {
      x: fromLeft ? width * 0.15 : width * 0.85,
      y: height * 0.75,
      vx: Math.cos(angle) * speed * (fromLeft ? 1 : -1),
      vy: -Math.sin(angle) * speed,
      size: Math.random() * 6 + 5,
      spin: Math.random() * 0.3 - 0.15,
      rotation: Math.random() * Math.PI,
      color: COLORS[Math.floor(Math.random() * COLORS.length)],
      round: Math.random() < 0.3
    };
  }

  function burst(container) {
    var root = document.documentElement;
    if (reducedMotion()) {
      root.dataset.confetti = "reduced";
      return false;
    }
    container = container || document.querySelector("dialog[open]") || document.body;
    var canvas = document.createElement("canvas");
    canvas.className = "confetti-canvas";
    canvas.setAttribute("aria-hidden", "true");
    canvas.dataset.testid = "confetti";
    var ratio = window.devicePixelRatio || 1;
    var width = window.innerWidth;
    var height = window.innerHeight;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    container.appendChild(canvas);
    var context = canvas.getContext("2d");
    context.scale(ratio, ratio);

    var pieces = [];
    for (var i = 0; i < PIECES; i++) pieces.push(makePiece(width, height));
    root.dataset.confetti = "running";
    root.dataset.confettiBursts = String(Number(root.dataset.confettiBursts || 0) + 1);
    var started = null;

    function frame(now) {
      if (started === null) started = now;
      var elapsed = now - started;
      context.clearRect(0, 0, width, height);
      context.globalAlpha = Math.max(0, 1 - Math.max(0, elapsed - DURATION_MS * 0.6) / (DURATION_MS * 0.4));
      pieces.forEach(function (p) {
        p.vy += 0.32; // gravity
        p.vx *= 0.99; // air
        p.x += p.vx;
        p.y += p.vy;
        p.rotation += p.spin;
        context.save();
        context.translate(p.x, p.y);
        context.rotate(p.rotation);
        context.fillStyle = p.color;
        if (p.round) {
          context.beginPath();
          context.arc(0, 0, p.size / 2, 0, Math.PI * 2);
          context.fill();
        } else {
          context.fillRect(-p.size / 2, -p.size / 4, p.size, p.size / 2);
        }
        context.restore();
      });
      if (elapsed < DURATION_MS) {
        window.requestAnimationFrame(frame);
      } else {
        canvas.remove();
        root.dataset.confetti = "done";
      }
    }
    window.requestAnimationFrame(frame);
    return true;
  }

  window.retentionConfetti = burst;
})();
