// The admin's two-box selector (filter_horizontal) labels its search icons with aria-label on a
// bare <span>, which has no role that allows a name (axe: aria-prohibited-attr). They are
// pictures of a magnifying glass with a name: role="img".
(function () {
  "use strict";
  function fix(root) {
    root.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach(function (el) {
      el.setAttribute("role", "img");
    });
  }
  new MutationObserver(function () { fix(document); })
    .observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", function () { fix(document); });
})();
