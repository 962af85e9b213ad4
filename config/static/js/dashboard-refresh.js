// The dashboard's figures, brought up to date every 30 seconds without reloading the page: the
// same address is fetched again and the figures' part of the page replaced (charts and tables
// alike; the charts' addresses carry the figures' version, so a new version loads new images).
// Without JavaScript the page works as it is; reloading it shows the latest figures.
(function () {
  "use strict";
  var region = document.getElementById("dashboard-figures");
  if (!region || !window.fetch || !window.DOMParser) {
    return;
  }
  var seconds = parseInt(region.getAttribute("data-refresh-seconds"), 10) || 30;
  function refresh() {
    if (document.hidden) {
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("dashboard-figures");
        var current = document.getElementById("dashboard-figures");
        if (fresh && current && fresh.innerHTML !== current.innerHTML) {
          current.innerHTML = fresh.innerHTML;
          current.setAttribute("data-refreshed", String(Date.now()));
        }
      })
      .catch(function () {});
  }
  window.setInterval(refresh, seconds * 1000);
})();
