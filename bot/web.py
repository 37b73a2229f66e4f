"""The bot's one aiohttp web server: channels add their webhook routes, plus /healthz."""

from __future__ import annotations

from aiohttp import web


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_app() -> web.Application:
    """An application with /healthz; channels add their routes before it starts."""
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", healthz)
    return app


async def start_app(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve the application; the caller cleans up the returned runner."""
    runner = web.AppRunner(app, access_log=None)  # access logs would show webhook paths
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
