"""The bot's one aiohttp web server: channels add their webhook routes; /healthz; expiring download links."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

DOWNLOAD_PATH = "/tai/{token}"


@dataclass
class DownloadLinks:
    """Unguessable, expiring URLs for files the bot cannot send itself (Zalo bots cannot send files)."""

    ttl_seconds: float = 24 * 3600
    clock: callable = time.time
    _links: dict[str, tuple[Path, float]] = field(default_factory=dict)

    def add(self, path: Path) -> tuple[str, float]:
        """A new token for `path` and its expiry (a unix time)."""
        token = secrets.token_urlsafe(32)
        expires = self.clock() + self.ttl_seconds
        self._links[token] = (path, expires)
        return token, expires

    async def serve(self, request: web.Request) -> web.StreamResponse:
        now = self.clock()
        for token, (_, expires) in list(self._links.items()):
            if expires <= now:
                del self._links[token]
        entry = self._links.get(request.match_info["token"])
        if entry is None or not entry[0].is_file():
            raise web.HTTPNotFound()
        path = entry[0]
        return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{path.name}"',
                                               "Cache-Control": "no-store"})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_app(links: DownloadLinks | None = None) -> web.Application:
    """An application with /healthz (and the download route); channels add their routes before it starts."""
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", healthz)
    if links is not None:
        app.router.add_get(DOWNLOAD_PATH, links.serve)
    return app


async def start_app(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve the application; the caller cleans up the returned runner."""
    runner = web.AppRunner(app, access_log=None)  # access logs would show webhook paths and download tokens
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
