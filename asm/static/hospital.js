// Hospital pages: after a carer's or a patient's card is scanned, empty the field and keep the cursor there.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt.closest && event.detail.elt.closest(".scan-form-h");
  if (form && event.detail.successful && event.detail.xhr.status < 300) {
    form.reset();
    form.querySelector("input[name=text]")?.focus();
  }
});
