(function () {
  "use strict";
  var root = document.documentElement;
  root.setAttribute("data-js", "on");
  var controls = document.getElementById("filters");
  if (!controls) { return; }
  controls.hidden = false;
  var text = document.getElementById("filter-text");
  var boxes = controls.querySelectorAll("input[type=checkbox]");
  var cards = document.querySelectorAll("article.finding");
  function apply() {
    var q = text.value.toLowerCase();
    var shown = {};
    boxes.forEach(function (b) { shown[b.value] = b.checked; });
    cards.forEach(function (c) {
      var ok = shown[c.getAttribute("data-severity")] !== false;
      if (ok && q) { ok = c.textContent.toLowerCase().indexOf(q) !== -1; }
      c.hidden = !ok;
    });
  }
  text.addEventListener("input", apply);
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.setAttribute("open", ""); });
  });
})();
