// Development only (DEBUG=1), loaded instead of django-htmx's debug helper.
//
// django-htmx's helper shows every 400, 403, 404 and 500 answer full-screen. Our pages answer a
// refused form (a bad amount, a missing rationale, a refused limit change) with its 4xx status
// and the form with its errors, which htmx swaps in place (see `htmx-config` in base.html): in
// development that must look exactly as in production. So only a server error (5xx), which no
// page answers on purpose, replaces the page, to show Django's debug page.
document.addEventListener("htmx:beforeOnLoad", function (event) {
  const xhr = event.detail.xhr;
  if (xhr.status >= 500) {
    event.stopPropagation();
    document.documentElement.innerHTML = xhr.response;
  }
});
