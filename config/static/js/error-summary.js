// Move the keyboard and screen reader focus to the error summary when a page shows one
// (GOV.UK's error summary); the summary also has `autofocus` for browsers that honour it.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});
