"""The report's web page under /web: `setup_webform` adds the routes under /web to the application `hcc-bot run` serves. The page is a channel: what
the person does there becomes engine events on the same state, in one transaction each (bot/webform/save.py).
"""

from __future__ import annotations

import time
from pathlib import Path

from aiohttp import web

from bot.console import SECURITY_HEADERS  # the same headers as the console's pages
from bot.webform import access
from bot.webform.telegram_app import APP_PATH, TelegramApp
from bot.webform.views import PERSON, WebForm
from conversations import texts

HERE = Path(__file__).parent
STARTED = web.RequestKey("webform_started", float)
SESSION_KEY_FILE = "webform.key"
# As the console's: our own script, styles and images only, no framing, forms posted to ourselves, no Referer.
# Except that Telegram's web client (web.telegram.org) opens a Web App in an iframe: its entry and the report's page
# (with the answers to the page's own forms) may be framed there, and only there.
TELEGRAM_WEB = "https://web.telegram.org"
FRAMED_PATHS = frozenset({APP_PATH, "/web/bao-cao", "/web/luu", "/web/xoa", "/web/nop"})
FRAMED_HEADERS = {k: v.replace("frame-ancestors 'none'", f"frame-ancestors {TELEGRAM_WEB}")
                  for k, v in SECURITY_HEADERS.items() if k != "X-Frame-Options"}


def setup_webform(app: web.Application, service, *, session_key: bytes, secure_cookie: bool,
                  telegram_token: str | None = None) -> WebForm:
    """Mount the page under /web on `app` (and Telegram's Web App entry when the bot has a Telegram token)."""
    sessions = access.Sessions(session_key, secure=secure_cookie)
    view = WebForm(service, sessions, service.clock)
    telegram = TelegramApp(view, telegram_token)

    @web.middleware
    async def guard(request: web.Request, handler):
        request[STARTED] = time.perf_counter()
        path = request.path
        if not path.startswith("/web/") or path.startswith((access.OPEN_PATH, "/web/static/", APP_PATH)):
            return await handler(request)
        person = await sessions.person(request, service.db)
        if person is None:
            if request.method != "GET":
                return web.Response(status=401, text=texts.WEB_FORM_SIGNED_OUT, content_type="text/plain",
                                    charset="utf-8")
            return view.gone(texts.WEB_FORM_SIGNED_OUT, status=401)
        request[PERSON] = person
        return await handler(request)

    async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
        if request.path.startswith("/web/"):
            response.headers.update(FRAMED_HEADERS if request.path in FRAMED_PATHS else SECURITY_HEADERS)
            started = request.get(STARTED)
            if started is not None:  # the server's own time, for bench/webform_save.py and browsers' dev tools
                response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"

    app.middlewares.append(guard)
    app.on_response_prepare.append(security_headers)
    r = app.router
    r.add_get(access.OPEN_PATH + "{token}", view.open_page)
    r.add_post(access.OPEN_PATH + "{token}", view.open)
    r.add_get("/web/bao-cao", view.show)
    r.add_post("/web/luu", view.save_fields)
    r.add_post("/web/xoa", view.delete_item)
    r.add_post("/web/nop", view.submit)
    r.add_get("/web/anh/{photo_id}", view.photo)
    r.add_get(APP_PATH, telegram.page)
    r.add_post(APP_PATH, telegram.sign_in)
    r.add_static("/web/static/", HERE / "static")
    return view
