// The portal's only script: CSRF for htmx requests, and upload progress.
// Served from 'self' so it runs under a Content-Security-Policy without 'unsafe-inline'.
"use strict";

document.addEventListener("htmx:configRequest", function (event) {
  // Every htmx request carries the CSRF token the page was rendered with.
  event.detail.headers["X-CSRFToken"] = document.body.dataset.csrf;
});

document.addEventListener("htmx:xhr:progress", function (event) {
  var form = event.target.closest("form");
  var bar = form && form.querySelector("progress");
  if (bar && event.detail.lengthComputable) {
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }
});

document.addEventListener("htmx:afterRequest", function (event) {
  var form = event.target.closest && event.target.closest("form[data-reset-on-success]");
  if (form && event.detail.successful) {
    form.reset();
    var bar = form.querySelector("progress");
    if (bar) { bar.hidden = true; bar.value = 0; }
  }
});

// Buttons that ask before acting (data-confirm), without inline script.
document.addEventListener("submit", function (event) {
  var question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) { event.preventDefault(); }
}, true);
