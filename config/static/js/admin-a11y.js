// The admin's two-box selector (filter_horizontal) labels its search icons with aria-label on a
// bare <span>, which has no role that allows a name (axe: aria-prohibited-attr). They are
// pictures of a magnifying glass with a name: role="img".
// Django names its yes/no icons in lists with alt="True"/"False"/"None" in English, whatever the
// language; they get the words of the page's language (the script tag's data-yes/-no/-unknown).
(function () {
  "use strict";
  var words = document.currentScript ? document.currentScript.dataset : {};
  var icons = { yes: words.yes, no: words.no, unknown: words.unknown };
  function fix(root) {
    root.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach(function (el) {
      el.setAttribute("role", "img");
    });
    Object.keys(icons).forEach(function (icon) {
      if (!icons[icon]) return;
      root.querySelectorAll('img[src*="admin/img/icon-' + icon + '"]').forEach(function (el) {
        if (["True", "False", "None"].indexOf(el.getAttribute("alt")) !== -1) {
          el.setAttribute("alt", icons[icon]);
        }
      });
    });
  }
  new MutationObserver(function () { fix(document); })
    .observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", function () { fix(document); });
})();
