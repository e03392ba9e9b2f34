// Re-submit a form marked data-autosubmit once (the step-up resume page).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form && !form.dataset.submitted) {
    form.dataset.submitted = "1";
    form.submit();
  }
});
