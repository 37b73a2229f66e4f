// Inside Telegram's Web App: the launch fragment carries tgWebAppData (initData); the server checks its signature
// and opens the page's session for the Telegram contact. No Telegram script is loaded.
(function () {
  "use strict";
  var params = new URLSearchParams(location.hash.slice(1)), data = params.get("tgWebAppData") || "";
  var status = document.getElementById("tg-status");
  var body = new URLSearchParams();
  body.append("init_data", data);
  fetch("/web/telegram", {method: "POST", body: body, credentials: "same-origin"})
    .then(function (r) { return r.json(); })
    .then(function (res) { if (res.go) location.replace(res.go); else status.textContent = res.message; })
    .catch(function () { status.textContent = status.dataset.failed || status.textContent; });
})();
