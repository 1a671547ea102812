/* Progressive enhancement of the survey form; the page works fully without it.
   - follow-up questions appear only when they apply (and are not sent otherwise);
   - a progress line for long questionnaires;
   - a double tap on "send" sends once. */
(function () {
  "use strict";
  var form = document.getElementById("survey");
  if (!form) { return; }

  function checkedValue(name) {
    var el = form.querySelector('input[name="' + name + '"]:checked');
    return el ? el : null;
  }

  var followups = Array.prototype.slice.call(form.querySelectorAll("[data-follows]"));
  function ratingValue(name) {
    var el = checkedValue(name);
    var v = el ? el.getAttribute("data-value") : null;
    return v === null ? null : parseInt(v, 10);
  }
  function updateFollowups() {
    followups.forEach(function (box) {
      var value = ratingValue("q_" + box.getAttribute("data-follows"));
      var max = parseInt(box.getAttribute("data-follows-max"), 10);
      var show = value !== null && value <= max;
      box.hidden = !show;
      Array.prototype.forEach.call(box.querySelectorAll("input,textarea"), function (i) { i.disabled = !show; });
    });
  }

  var bar = document.getElementById("progress");
  var text = document.getElementById("progress-text");
  var box = document.getElementById("progress-box");
  function updateProgress() {
    if (!bar) { return; }
    var names = {};
    Array.prototype.forEach.call(form.querySelectorAll(".q:not([data-follows]) input[name^='q_'], .q:not([data-follows]) textarea"), function (i) {
      names[i.name] = names[i.name] || (i.type === "radio" ? i.checked : i.value.trim() !== "");
    });
    var total = 0, done = 0;
    Object.keys(names).forEach(function (n) { total += 1; if (names[n]) { done += 1; } });
    bar.max = total;
    bar.value = done;
    text.textContent = form.getAttribute("data-progress").replace("{done}", done).replace("{total}", total);
    box.hidden = false;
  }

  form.addEventListener("change", function () { updateFollowups(); updateProgress(); });
  form.addEventListener("input", updateProgress);
  var sent = false;
  window.addEventListener("pageshow", function () { sent = false; });
  form.addEventListener("submit", function (e) {
    if (sent) { e.preventDefault(); return; }
    sent = true;
  });
  updateFollowups();
  updateProgress();
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
