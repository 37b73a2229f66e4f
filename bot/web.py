"""The bot's one aiohttp web server: channels add their webhook routes; /healthz; expiring download links."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from typing import Callable

from aiohttp import web

from conversations import texts
from exports.private_files import FILE_MODE, PARTIAL_SUFFIX, private_folder

DOWNLOAD_ROUTE = "/tai/{expires}/{signature}/{path:.+}"
KEY_FILE = "link.key"


def load_or_create_key(data_dir: Path, name: str = KEY_FILE) -> bytes:
    """A secret kept in the data folder (0600) so every worker and restart shares it: by default the one that
    signs download links."""
    path = data_dir / name
    try:
        return path.read_bytes()
    except FileNotFoundError:
        private_folder(data_dir)
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:  # another worker created it first
            return path.read_bytes()
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key


class DownloadLinks:
    """Signed, expiring URLs for files under `root` (Zalo bots cannot send files): no state to lose on restart."""

    def __init__(self, key: bytes, root: Path, *, ttl_seconds: float = 24 * 3600,
                 clock: Callable[[], float] = time.time):
        self.key, self.root, self.ttl_seconds, self.clock = key, root.resolve(), ttl_seconds, clock

    def _sign(self, expires: int, relative: str) -> str:
        digest = hmac.new(self.key, f"{expires}/{relative}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def url_path(self, path: Path) -> tuple[str, float]:
        """The path part of a link to `path` (inside root) and when it expires (unix time)."""
        relative = path.resolve().relative_to(self.root).as_posix()
        expires = int(self.clock() + self.ttl_seconds)
        return f"/tai/{expires}/{self._sign(expires, relative)}/{relative}", expires

    async def serve(self, request: web.Request) -> web.StreamResponse:
        expires, relative = request.match_info["expires"], request.match_info["path"]
        # A unix time has at most 12 digits: a longer one is refused before int() (Python caps int() at 4,300 digits).
        valid = expires.isdigit() and len(expires) <= 12 and hmac.compare_digest(request.match_info["signature"],
                                                          self._sign(int(expires), relative))
        target = (self.root / relative).resolve()
        if not valid or int(expires) < self.clock() or not target.is_relative_to(self.root) or not target.is_file() \
                or _unfinished(target.relative_to(self.root)):
            return web.Response(status=404, text=texts.LINK_EXPIRED, content_type="text/plain", charset="utf-8")
        return web.FileResponse(target, headers={"Content-Disposition": f'attachment; filename="{target.name}"',
                                                 "Cache-Control": "no-store"})


def _unfinished(relative: Path) -> bool:
    """Work in progress is never served: hidden files (job markers, partial files) and unfinished exports."""
    return any(part.startswith(".") or part.endswith((PARTIAL_SUFFIX, ".part")) for part in relative.parts)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_app(links: DownloadLinks | None = None) -> web.Application:
    """An application with /healthz (and the download route); channels add their routes before it starts."""
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", healthz)
    if links is not None:
        app.router.add_get(DOWNLOAD_ROUTE, links.serve)
    return app


async def start_app(app: web.Application, host: str, port: int, *, reuse_port: bool = False) -> web.AppRunner:
    """Serve the application; the caller cleans up the returned runner. `reuse_port`: several processes listen on
    the same address (SO_REUSEPORT) and the kernel spreads the connections among them (`hcc-bot run --workers`)."""
    runner = web.AppRunner(app, access_log=None)  # access logs would show webhook paths and download links
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_port=reuse_port or None).start()
    return runner
