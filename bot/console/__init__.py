"""The department's web console on the bot's own web server: sign-in by one-time link, the board, unit pages.

`setup_console` adds the session and guard middlewares, the templates and the routes to the application that
`hcc-bot run` serves (with or without channel tokens).
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import aiohttp_session
import jinja2
from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from bot.console import auth
from bot.console.campaign_edit import setup_campaign_edit
from bot.console.views import Console
from conversations import texts

HERE = Path(__file__).parent
COOKIE = "hcc_console"
SESSION_KEY_FILE = "console.key"
# On every console response (pages, files, redirects, errors): our own script, styles and images only, no inline
# script or style, no framing, forms posted to ourselves only, no Referer (a sign-in link must not leak).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def console_base_url(settings) -> str:
    """Where links to the console point: HCC_PUBLIC_URL, else http://HCC_LISTEN."""
    if settings.public_url:
        return settings.public_url
    host = settings.listen_host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.listen_port}"


def setup_console(app: web.Application, service, *, session_key: bytes, secure_cookie: bool) -> Console:
    """Mount the console under /console on `app`."""
    console = Console(service, secure_cookie=secure_cookie)
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    aiohttp_session.setup(app, EncryptedCookieStorage(session_key, cookie_name=COOKIE, httponly=True,
                                                      samesite="Strict", secure=secure_cookie, path="/console"))

    @web.middleware
    async def guard(request: web.Request, handler):
        path = request.path
        if not path.startswith("/console") or path.startswith((auth.LOGIN_PATH, "/console/static/")):
            return await handler(request)
        officer = await auth.current_officer(request, service.db)
        if officer is None:
            if request.method != "GET" or request.headers.get("X-Live"):
                return web.Response(status=401, text=texts.WEB_SIGNED_OUT, content_type="text/plain",
                                    charset="utf-8")
            return await console.signin_page(request)
        if request.method == "POST" and not await auth.csrf_valid(request):
            return web.Response(status=403, text=texts.WEB_CSRF, content_type="text/plain", charset="utf-8")
        request[auth.OFFICER] = officer
        return await handler(request)

    async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
        if request.path.startswith("/console"):
            response.headers.update(SECURITY_HEADERS)

    app.middlewares.append(guard)
    app.on_response_prepare.append(security_headers)
    r = app.router
    async def to_board(request: web.Request) -> web.Response:
        raise web.HTTPFound("/console/")

    r.add_get("/console", to_board)
    r.add_get("/console/", console.board)
    r.add_get("/console/bang", console.board_live)
    r.add_get(auth.LOGIN_PATH + "{token}", console.login_page)
    r.add_post(auth.LOGIN_PATH + "{token}", console.login)
    r.add_post("/console/dang-xuat", console.logout)
    r.add_post("/console/nhac", console.remind)
    r.add_post("/console/dot", console.choose_campaign)
    r.add_get("/console/don-vi/{code}", console.unit_page)
    r.add_get("/console/don-vi/{code}/bao-cao.docx", console.unit_document)
    r.add_post("/console/don-vi/{code}/duyet", console.accept)
    r.add_post("/console/don-vi/{code}/tra-lai", console.return_)
    r.add_post("/console/don-vi/{code}/mo-lai", console.reopen)
    r.add_post("/console/don-vi/{code}/gia-han", console.extend)
    r.add_get("/console/anh/{photo_id}", console.photo)
    r.add_get("/console/xuat", console.export_page)
    r.add_get("/console/xuat/tinh-trang", console.export_live)
    r.add_post("/console/xuat", console.export_start)
    r.add_get("/console/xuat/tai/{folder}/{name}", console.export_file)
    setup_campaign_edit(r, console)  # a campaign's issuing details (bot/console/campaign_edit.py)
    r.add_static("/console/static/", HERE / "static")
    return console
