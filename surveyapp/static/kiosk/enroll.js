/* Kiosk enrolment: exchange the one-time code (typed, or from a scanned QR's ?code=) for a
 * device token kept in localStorage, then open the rating screen. */
(function () {
  "use strict";

  var form = document.getElementById("enroll-form");
  var input = document.getElementById("code");
  var error = document.getElementById("enroll-error");
  var button = form.querySelector("button[type=submit]");
  var label = button.textContent;

  function fail(message) {
    error.textContent = message;
    button.disabled = false;
    button.textContent = label;
    input.focus();
  }

  function submit() {
    var code = input.value.trim();
    if (!code) { fail(form.dataset.msgEmpty); return; }
    error.textContent = "";
    button.disabled = true;
    button.textContent = form.dataset.msgBusy;
    fetch(form.dataset.api, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "omit",
      cache: "no-store",
      body: JSON.stringify({ code: code })
    }).then(function (res) {
      if (!res.ok) { fail(form.dataset.msgInvalid); return; }
      return res.json().then(function (data) {
        localStorage.setItem("surveyapp.kiosk.token", data.token);
        // A new enrolment starts afresh: a previous device's state must not linger.
        localStorage.removeItem("surveyapp.kiosk.disabled");
        if (data.config) {
          localStorage.setItem("surveyapp.kiosk.config", JSON.stringify(data.config));
        } else {
          localStorage.removeItem("surveyapp.kiosk.config");
        }
        location.replace(form.dataset.kioskUrl);
      });
    }, function () { fail(form.dataset.msgNetwork); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });

  var fromQr = new URLSearchParams(location.search).get("code");
  if (fromQr) {
    input.value = fromQr;
    // Drop the code from the address bar and history once it has been read.
    history.replaceState(null, "", location.pathname);
    submit();
  }
}());
