// Keyboard-first register marking (product.md, Registers). Event delegation on the document,
// so it keeps working after htmx swaps the form. Without JavaScript the inputs still work.
(function () {
  "use strict";
  var PREFIXES = { C: true, J: true, Y: true }; // C1, C2, J1, Y1–Y7 take a digit after the letter

  function codeInputs(form) {
    return Array.prototype.slice.call(form.querySelectorAll("input.code-input"));
  }

  function presentCode(form) {
    return form.dataset.session === "PM" ? "\\" : "/";
  }

  function moveFrom(input, delta) {
    var list = codeInputs(input.form);
    var next = list[list.indexOf(input) + delta];
    if (next) {
      next.focus();
      next.select();
    }
  }

  function minutesFor(input) {
    return input.closest("tr").querySelector("input.minutes-input");
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var form = target.form;
    if (!form || !form.classList.contains("register-form")) return;
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (target.classList.contains("minutes-input")) {
      if (event.key === "Enter" || event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var code = target.closest("tr").querySelector("input.code-input");
        moveFrom(code, event.key === "ArrowUp" ? -1 : 1);
      }
      return;
    }
    if (!target.classList.contains("code-input")) return;
    if (event.key === "ArrowDown" || event.key === "Enter") {
      event.preventDefault();
      moveFrom(target, 1);
      return;
    }
    if (event.key === "ArrowUp") {
      event.preventDefault();
      moveFrom(target, -1);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1) return;
    if (event.key === "/" || event.key === "\\") {
      event.preventDefault();
      target.value = presentCode(form);
      moveFrom(target, 1);
      return;
    }
    var key = event.key.toUpperCase();
    if (/^[0-9]$/.test(key) && PREFIXES[target.value]) {
      event.preventDefault();
      target.value += key;
      moveFrom(target, 1);
      return;
    }
    if (/^[A-Z#]$/.test(key)) {
      event.preventDefault();
      target.value = key;
      if (key === "L" || key === "U") {
        var minutes = minutesFor(target);
        minutes.focus();
        minutes.select();
      } else if (!PREFIXES[key]) {
        moveFrom(target, 1);
      }
    }
  });

  // Tap targets and the save bar's count: shown only when this script runs (without it the
  // inputs post as they are). A tap sets the same value the keyboard does.
  function refresh(form) {
    var inputs = codeInputs(form);
    var marked = inputs.filter(function (input) { return input.value.trim(); }).length;
    var count = form.querySelector("[data-marked-count]");
    if (count && form.dataset.countText) {
      count.textContent = form.dataset.countText
        .replace("{marked}", marked).replace("{total}", inputs.length);
    }
    inputs.forEach(function (input) {
      var taps = input.parentNode.querySelectorAll(".code-tap");
      Array.prototype.forEach.call(taps, function (tap) {
        tap.setAttribute("aria-pressed", String(tap.dataset.code === input.value.trim().toUpperCase()));
      });
    });
  }

  function enhance() {
    Array.prototype.forEach.call(document.querySelectorAll(".register-form"), function (form) {
      Array.prototype.forEach.call(form.querySelectorAll(".code-taps[hidden]"), function (taps) {
        taps.hidden = false;
      });
      refresh(form);
    });
  }

  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.classList.contains("register-form")) refresh(form);
  });
  document.addEventListener("keyup", function (event) {
    var form = event.target.form;
    if (form && form.classList.contains("register-form")) refresh(form);
  });

  document.addEventListener("click", function (event) {
    var tap = event.target.closest(".code-tap");
    if (tap) {
      var input = tap.closest("td").querySelector("input.code-input");
      input.value = tap.dataset.code;
      refresh(input.form);
      if (tap.dataset.code === "L") {
        var minutes = minutesFor(input);
        minutes.focus();
        minutes.select();
      }
      return;
    }
    var button = event.target.closest("[data-all-present]");
    if (!button) return;
    var form = button.form;
    codeInputs(form).forEach(function (input) {
      if (!input.value.trim()) input.value = presentCode(form);
    });
    var first = codeInputs(form)[0];
    if (first) first.focus();
    refresh(form);
  });

  // After an htmx save that found problems, take the tutor to the first one.
  enhance();
  document.body.addEventListener("htmx:afterSettle", function () {
    enhance();
    var problem = document.querySelector(".register-form [aria-invalid=true]");
    if (problem) problem.focus();
  });
})();
