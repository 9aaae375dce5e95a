// Progress indication for the match form. The form works without this script (a plain POST that
// returns the results page); the script only shows that the server is working while it does.
(function () {
  "use strict";
  var form = document.getElementById("match-form");
  var progress = document.getElementById("progress");
  if (!form || !progress) {
    return;
  }
  var button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", function () {
    progress.hidden = false;
    form.setAttribute("aria-busy", "true");
    // Disabled after this tick, so the browser still sends the form as it was.
    window.setTimeout(function () { if (button) { button.disabled = true; } }, 0);
  });
  // Coming back to the page from the history must not show a stale indicator.
  window.addEventListener("pageshow", function () {
    progress.hidden = true;
    form.removeAttribute("aria-busy");
    if (button) { button.disabled = false; }
  });
  var results = document.getElementById("results");
  if (results && !document.getElementById("form-error")) {
    results.focus();
  }
})();
