"""The bot's one aiohttp web server: channels add their webhook routes; /healthz and /livez; download links."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
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


HEALTH_CHECKS = web.AppKey("health_checks", dict)  # channel name -> whether it takes updates now
HEALTH_DATABASE = web.AppKey("health_database", object)  # the Database whose answer /healthz waits for
DATABASE_CHECK_TIMEOUT = 2.0  # seconds a /healthz waits for "SELECT 1"


def add_health_check(app: web.Application, name: str, ready: Callable[[], bool], database: Any) -> None:
    """A channel's readiness for /healthz (and the database it writes updates to), added with its routes."""
    app[HEALTH_CHECKS][name] = ready
    app[HEALTH_DATABASE] = database


async def database_answers(database: Any) -> bool:
    """Whether the database answers a "SELECT 1" within DATABASE_CHECK_TIMEOUT (outside the transaction queue)."""
    try:
        async with asyncio.timeout(DATABASE_CHECK_TIMEOUT):
            async with database.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        return True
    except Exception:  # unreachable, refused, timed out, a broken pool: not ready (never a traceback here)
        return False


async def healthz(request: web.Request) -> web.Response:
    """Readiness, for a load balancer: 200 once every channel takes updates (its webhook answers 200, or its
    poller runs) and the database answers; 503 before, during an outage, and while stopping."""
    channels = {name: bool(ready()) for name, ready in request.app[HEALTH_CHECKS].items()}
    database = request.app.get(HEALTH_DATABASE)
    body: dict[str, Any] = {"channels": channels}
    if database is not None:
        body["database"] = await database_answers(database)
    body["ok"] = all(channels.values()) and body.get("database", True)
    return web.json_response(body, status=200 if body["ok"] else 503)


async def livez(request: web.Request) -> web.Response:
    """Liveness: the process is up and serving (whatever the database and the channels say)."""
    return web.json_response({"ok": True})


def build_app(links: DownloadLinks | None = None) -> web.Application:
    """An application with /healthz, /livez (and the download route); channels add their routes (and their
    health checks) before it starts."""
    app = web.Application(client_max_size=1024 * 1024)
    app[HEALTH_CHECKS] = {}
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
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
