(function () {
  "use strict";
  var root = document.documentElement;
  root.setAttribute("data-js", "on");
  function copyText(text, done) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallback(text)); });
    } else {
      done(fallback(text));
    }
  }
  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var code = button.parentNode.querySelector("pre");
      copyText(code.textContent, function (ok) {
        button.textContent = ok ? "Copied" : "Select and copy";
        button.classList.toggle("done", ok);
        if (!ok) {
          var range = document.createRange();
          range.selectNodeContents(code);
          var sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
        }
        window.setTimeout(function () { button.textContent = "Copy"; button.classList.remove("done"); }, 2000);
      });
    });
  });
  var printAppendix = document.getElementById("print-appendix");
  if (printAppendix) {
    printAppendix.hidden = false;
    printAppendix.querySelector("input").addEventListener("change", function (e) {
      document.body.classList.toggle("print-appendix", e.target.checked);
    });
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) {
      if (!d.closest(".appendix") || document.body.classList.contains("print-appendix")) { d.setAttribute("open", ""); }
    });
  });
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
})();
