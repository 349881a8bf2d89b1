// Progressive enhancement of online forms: an element shown only under a condition
// ("Nur auszufüllen, wenn …") is hidden while the condition is not met and appears as soon as it
// is. Hidden inputs are disabled, so the browser neither checks nor sends them; the server
// ignores data of unmet conditions anyway. Without JavaScript every element stays visible with
// its hint, and a condition whose field is on another step is left alone.
(function () {
  var blocks = document.querySelectorAll("[data-bedingung-feld]");
  if (!blocks.length) return;

  function inputsNamed(name) {
    return Array.prototype.filter.call(document.querySelectorAll("input, select, textarea"), function (el) {
      return el.name === name;
    });
  }

  function currentValue(inputs) {
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) return el.value;
      } else {
        return el.value;
      }
    }
    return "";
  }

  function expected(block) {
    try {
      var v = JSON.parse(block.getAttribute("data-bedingung-wert"));
      return String(v);
    } catch (e) {
      return null;
    }
  }

  function apply(block, inputs) {
    var want = expected(block);
    if (want === null) return;
    var met = currentValue(inputs) === want;
    block.hidden = !met;
    Array.prototype.forEach.call(block.querySelectorAll("input, select, textarea, button"), function (el) {
      if (!met) {
        if (!el.disabled) { el.disabled = true; el.setAttribute("data-bedingung-aus", ""); }
      } else if (el.hasAttribute("data-bedingung-aus")) {
        el.disabled = false;
        el.removeAttribute("data-bedingung-aus");
      }
    });
    var hint = block.querySelector(".bedingung");
    if (hint) hint.hidden = true; // the condition is now shown by the form itself
  }

  Array.prototype.forEach.call(blocks, function (block) {
    var inputs = inputsNamed(block.getAttribute("data-bedingung-feld"));
    if (!inputs.length) return; // the field is on another step
    apply(block, inputs);
    inputs.forEach(function (el) {
      el.addEventListener("change", function () { apply(block, inputs); });
      el.addEventListener("input", function () { apply(block, inputs); });
    });
  });
})();
