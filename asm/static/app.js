// Small glue for the establishment pages. htmx itself comes from node_modules (see package.json).
document.addEventListener("DOMContentLoaded", () => {
  // A refused form: its summary of errors takes the focus, so screen readers read it and the keyboard starts there.
  document.getElementById("error-summary")?.focus();
  if (window.htmx) {
    // Show 422 answers (field errors, unreadable codes) instead of dropping them.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
  }
});

document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// A choice that applies itself (no inline handlers: the Content-Security-Policy forbids them).
document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-remove]");
  if (button) document.querySelector(button.dataset.remove)?.remove();
});

// After a scan: empty the field and put the cursor back, ready for the next card.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt.closest && event.detail.elt.closest("#scan-form");
  // Not after a 422 (unreadable code): it is swapped as "successful", and its message must stay on screen.
  if (form && event.detail.successful && event.detail.xhr.status < 300) {
    form.reset();
    document.getElementById("scan-result").innerHTML = "";
    document.getElementById("scan-text").focus();
  }
});

// A passport reader typing into the scan field sends the MRZ line by line, with Enter after each: the field keeps
// the lines (run together: the server splits 88, 72 or 90 characters) until the zone is whole, then submits.
document.addEventListener("keydown", (event) => {
  const field = event.target;
  if (event.key !== "Enter" || !(field.matches && field.matches("[data-mrz-wedge]"))) return;
  const text = field.value.replace(/\s/g, "");
  if (!/^[A-Za-z0-9<]+$/.test(text) || !text.includes("<<")) return;
  const whole = [88, 72, 90].includes(text.length);
  const partial = [44, 36, 30, 60].includes(text.length) && !whole;
  if (partial) event.preventDefault();
});

// The header's menu on a phone (app.css folds it when this script runs; without it the menu stays open).
document.documentElement.classList.add("js");
document.addEventListener("click", (event) => {
  const button = event.target.closest(".menu-button");
  if (!button) return;
  const nav = document.getElementById(button.getAttribute("aria-controls"));
  const open = !nav.classList.contains("open");
  nav.classList.toggle("open", open);
  button.setAttribute("aria-expanded", String(open));
});
