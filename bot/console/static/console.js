// The console's only script: refreshes the parts of a page marked data-poll (the board, an export's progress)
// every few seconds, without reloading the page. Plain fetch; no library, no network beyond this server.
(function () {
  "use strict";
  var PERIOD = 3000;
  function poll(el) {
    var url = el.getAttribute("data-poll");
    function tick() {
      if (document.hidden) { return setTimeout(tick, PERIOD); }
      fetch(url, { headers: { "X-Live": "1" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.status === 401) { window.location.reload(); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== undefined && html !== el.innerHTML) { el.innerHTML = html; }
        })
        .catch(function () { /* the server restarting: try again next time */ })
        .then(function () { setTimeout(tick, PERIOD); });
    }
    setTimeout(tick, PERIOD);
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll]"), poll);
  });
})();
