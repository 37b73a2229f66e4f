"""`hcc-bot doctor`: every check an IT person needs after a change, each a ✓ or ✗ line saying what to do."""

from __future__ import annotations

import asyncio
import email.utils
import fcntl
import json
import os
import shutil
import ssl
import stat
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from sqlalchemy.engine import make_url

from conversations import texts
from conversations.answers import format_datetime

RUN_LOCK = "run.lock"  # held by `hcc-bot run` on a SQLite data folder while it runs
MIN_FREE_BYTES = 1024 ** 3  # below 1 GB free, photos and exports may soon fail to save
MAX_CLOCK_SKEW = 60.0  # seconds between this machine and the platform's clock
RECENT_WEBHOOK_ERROR = 15 * 60  # a delivery error Telegram reports from the last 15 minutes is shown
TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"  # bot/channels/telegram.py and zalo.py register these
ZALO_WEBHOOK_PATH = "/zalo/webhook"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str
    fix: str | None = None  # what to do, on ✗

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        return f"{mark} {self.message}" + (f" → {self.fix}" if self.fix and not self.ok else "")

    def as_dict(self) -> dict:
        return asdict(self)


# -- the run lock ---------------------------------------------------------------------------------------------------


class AnotherRun(Exception):
    """Another `hcc-bot run` holds the data folder; str() is one line for the operator."""


def _is_sqlite(settings) -> bool:
    return make_url(settings.database_url).get_backend_name() == "sqlite"


def hold_run_lock(settings) -> int | None:
    """For `hcc-bot run` on SQLite: lock the data folder (released when the process ends); the fd to close."""
    if not _is_sqlite(settings):
        return None  # PostgreSQL: several workers may share it
    fd = os.open(Path(settings.data_dir) / RUN_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise AnotherRun(texts.RUN_ALREADY.format(pid=pid, folder=settings.data_dir)) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def run_holder(data_dir: Path) -> str | None:
    """The pid of the `hcc-bot run` holding this data folder, or None when none does."""
    path = Path(data_dir) / RUN_LOCK
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None
    except BlockingIOError:
        return os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
    finally:
        os.close(fd)


# -- the checks -----------------------------------------------------------------------------------------------------


def check_settings(environ, env_file) -> tuple[Check, object | None]:
    from bot.settings import ConfigError, load_settings, load_settings_form

    try:
        settings = load_settings(environ, env_file)
        load_settings_form(settings)
    except ConfigError as exc:
        return Check("settings", False, texts.DOCTOR_SETTINGS_BAD.format(problem=exc), texts.DOCTOR_SETTINGS_FIX), None
    if settings.public_url and not settings.public_url.startswith("https://"):
        return Check("settings", False, texts.DOCTOR_PUBLIC_HTTP.format(url=settings.public_url),
                     texts.DOCTOR_PUBLIC_HTTP_FIX), None
    mode = texts.DOCTOR_MODE_WEBHOOK.format(url=settings.public_url) if settings.public_url else texts.DOCTOR_MODE_POLLING
    return Check("settings", True, texts.DOCTOR_SETTINGS_OK.format(mode=mode)), settings


async def check_database(settings) -> Check:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    import sqlalchemy as sa

    from storage.db import MIGRATIONS_DIR, DatabaseUnavailable, open_database

    if _is_sqlite(settings) and not Path(make_url(settings.database_url).database or "").is_file():
        return Check("database", False, texts.DOCTOR_DB_MISSING, texts.DOCTOR_DB_MISSING_FIX)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    try:
        db = await open_database(settings.database_url, migrate=False)
    except (DatabaseUnavailable, OSError, ValueError) as exc:
        return Check("database", False, texts.DOCTOR_DB_UNREACHABLE.format(problem=exc), texts.DOCTOR_DB_UNREACHABLE_FIX)
    try:
        async with db.transaction() as s:
            current = (await s.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar()
    except sa.exc.DBAPIError:  # no alembic_version: an empty database
        current = None
    finally:
        await db.dispose()
    if current != head:
        return Check("database", False, texts.DOCTOR_DB_OLD.format(current=current or "–", head=head),
                     texts.DOCTOR_DB_OLD_FIX)
    return Check("database", True, texts.DOCTOR_DB_OK.format(kind=make_url(settings.database_url).get_backend_name(),
                                                             head=head))


def check_data_dir(data_dir: Path) -> Check:
    if not data_dir.is_dir():
        return Check("data_dir", False, texts.DOCTOR_DATA_MISSING.format(path=data_dir), texts.DOCTOR_DATA_MISSING_FIX)
    uid = os.geteuid()
    wrong_owner, too_open = [], []
    for path in [data_dir, *sorted(data_dir.rglob("*"))]:
        if path.is_symlink():
            continue
        info = path.lstat()
        if info.st_uid != uid:
            wrong_owner.append(path)
        if stat.S_IMODE(info.st_mode) & 0o077:
            too_open.append(path)
    if wrong_owner:
        return Check("data_dir", False, texts.DOCTOR_DATA_OWNER.format(path=wrong_owner[0], count=len(wrong_owner)),
                     texts.DOCTOR_DATA_OWNER_FIX.format(path=data_dir, uid=uid))
    if too_open:
        return Check("data_dir", False, texts.DOCTOR_DATA_MODES.format(path=too_open[0], count=len(too_open)),
                     texts.DOCTOR_DATA_MODES_FIX.format(path=data_dir))
    return Check("data_dir", True, texts.DOCTOR_DATA_OK.format(path=data_dir))


def check_disk(data_dir: Path, min_free: int) -> Check:
    folder = data_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    gb = f"{free / 1024 ** 3:.1f}".replace(".", ",")
    if free < min_free:
        return Check("disk", False, texts.DOCTOR_DISK_LOW.format(free=gb, path=folder),
                     texts.DOCTOR_DISK_LOW_FIX.format(need=f"{min_free / 1024 ** 3:.1f}".replace(".", ",")))
    return Check("disk", True, texts.DOCTOR_DISK_OK.format(free=gb, path=folder))


def check_libreoffice() -> Check:
    from exports.pdf import soffice

    program = soffice()
    if program is None:
        return Check("libreoffice", False, texts.DOCTOR_SOFFICE_MISSING, texts.DOCTOR_SOFFICE_FIX)
    return Check("libreoffice", True, texts.DOCTOR_SOFFICE_OK.format(path=program))


async def _api(session: aiohttp.ClientSession, root: str, token: str, method: str) -> tuple[int, dict, str | None]:
    """POST a Bot API method; (HTTP status, JSON body, Date header)."""
    async with session.post(f"{root}/bot{token}/{method}") as response:
        try:
            body = await response.json(content_type=None)
        except ValueError:
            body = {}
        return response.status, body if isinstance(body, dict) else {}, response.headers.get("Date")


async def check_channel(session, name: str, root: str, token: str, public_url: str | None,
                        dates: list[str], now: datetime) -> list[Check]:
    label = texts.CHANNEL_LABELS.get(name, name)
    try:
        status, body, date = await _api(session, root, token, "getMe")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        return [Check(f"{name}_token", False, texts.DOCTOR_API_UNREACHABLE.format(channel=label, url=root,
                                                                                   problem=type(exc).__name__),
                      texts.DOCTOR_API_UNREACHABLE_FIX)]
    if date:
        dates.append(date)
    if not body.get("ok"):
        return [Check(f"{name}_token", False, texts.DOCTOR_TOKEN_REFUSED.format(channel=label, status=status),
                      texts.DOCTOR_TOKEN_FIX.format(setting="HCC_TELEGRAM_TOKEN" if name == "telegram"
                                                    else "HCC_ZALO_BOT_TOKEN"))]
    me = body.get("result") or {}
    account = me.get("username") or me.get("account_name") or me.get("first_name") or me.get("id")
    checks = [Check(f"{name}_token", True, texts.DOCTOR_TOKEN_OK.format(channel=label, account=account))]
    expected = f"{public_url}{TELEGRAM_WEBHOOK_PATH if name == 'telegram' else ZALO_WEBHOOK_PATH}" if public_url else ""
    try:
        status, body, _ = await _api(session, root, token, "getWebhookInfo")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        return checks + [Check(f"{name}_webhook", False, texts.DOCTOR_API_UNREACHABLE.format(
            channel=label, url=root, problem=type(exc).__name__), texts.DOCTOR_API_UNREACHABLE_FIX)]
    if body.get("ok"):
        actual = (body.get("result") or {}).get("url") or ""
    elif name == "zalo" and 404 in (status, body.get("error_code")):  # Zalo: 404 when no webhook is set
        actual = ""
    else:
        return checks + [Check(f"{name}_webhook", False, texts.DOCTOR_WEBHOOK_UNKNOWN.format(channel=label,
                                                                                           status=status),
                               texts.DOCTOR_WEBHOOK_UNKNOWN_FIX)]
    if actual != expected:
        shown = actual or texts.DOCTOR_WEBHOOK_NONE
        return checks + [Check(f"{name}_webhook", False, texts.DOCTOR_WEBHOOK_WRONG.format(
            channel=label, actual=shown, expected=expected or texts.DOCTOR_WEBHOOK_NONE), texts.DOCTOR_WEBHOOK_FIX)]
    result = body.get("result") or {}
    last_error, when = result.get("last_error_message"), result.get("last_error_date")
    if last_error and isinstance(when, int) and now.timestamp() - when < RECENT_WEBHOOK_ERROR:
        return checks + [Check(f"{name}_webhook", False, texts.DOCTOR_WEBHOOK_ERROR.format(channel=label,
                                                                                         error=last_error),
                               texts.DOCTOR_WEBHOOK_ERROR_FIX)]
    shown = expected or texts.DOCTOR_WEBHOOK_NONE
    return checks + [Check(f"{name}_webhook", True, texts.DOCTOR_WEBHOOK_OK.format(channel=label, url=shown))]


async def check_public(session, public_url: str, ssl_context) -> Check:
    """/healthz through the public address (DNS, the proxy, its certificate), as the platforms reach it."""
    url = f"{public_url}/healthz"
    try:
        async with session.get(url, ssl=ssl_context, allow_redirects=False) as response:
            status, text = response.status, await response.text(errors="replace")
    except aiohttp.ClientSSLError as exc:
        return Check("public_url", False, texts.DOCTOR_PUBLIC_TLS.format(url=url, problem=type(exc).__name__),
                     texts.DOCTOR_PUBLIC_TLS_FIX)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
        return Check("public_url", False, texts.DOCTOR_PUBLIC_DOWN.format(url=url, problem=type(exc).__name__),
                     texts.DOCTOR_PUBLIC_DOWN_FIX)
    try:  # another site's page (a proxy's default page, an empty answer) is not the bot, not a network fault
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if not (isinstance(body, dict) and isinstance(body.get("channels"), dict)):  # not bot/web.py's healthz
        return Check("public_url", False, texts.DOCTOR_PUBLIC_NOT_BOT.format(url=url, status=status),
                     texts.DOCTOR_PUBLIC_NOT_BOT_FIX)
    if body.get("ok") is not True or status != 200:
        parts = [texts.CHANNEL_LABELS.get(name, str(name)) for name, ready in body["channels"].items() if not ready]
        parts += [texts.DOCTOR_PUBLIC_PART_DATABASE] if body.get("database") is False else []
        return Check("public_url", False, texts.DOCTOR_PUBLIC_NOT_READY.format(url=url, status=status,
                                                                              parts=", ".join(parts) or "?"),
                     texts.DOCTOR_PUBLIC_NOT_READY_FIX)
    return Check("public_url", True, texts.DOCTOR_PUBLIC_OK.format(url=url))


def check_clock(now: datetime, dates: list[str]) -> Check:
    try:
        zone = ZoneInfo("Asia/Ho_Chi_Minh")
    except ZoneInfoNotFoundError:
        return Check("clock", False, texts.DOCTOR_TZ_MISSING, texts.DOCTOR_TZ_FIX)
    shown = format_datetime(now.astimezone(zone))
    if not dates:
        return Check("clock", True, texts.DOCTOR_CLOCK_UNCHECKED.format(now=shown))
    remote = email.utils.parsedate_to_datetime(dates[0])
    skew = (now - remote).total_seconds()
    if abs(skew) > MAX_CLOCK_SKEW:
        return Check("clock", False, texts.DOCTOR_CLOCK_SKEW.format(now=shown, seconds=round(skew)),
                     texts.DOCTOR_CLOCK_FIX)
    return Check("clock", True, texts.DOCTOR_CLOCK_OK.format(now=shown, seconds=round(skew)))


def check_run(settings) -> Check:
    if not _is_sqlite(settings):
        return Check("run", True, texts.DOCTOR_RUN_POSTGRES)
    pid = run_holder(Path(settings.data_dir))
    if pid is None:
        return Check("run", False, texts.DOCTOR_RUN_NONE.format(folder=settings.data_dir), texts.DOCTOR_RUN_NONE_FIX)
    return Check("run", True, texts.DOCTOR_RUN_ONE.format(pid=pid, folder=settings.data_dir))


async def run_checks(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env"), *,
                     clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                     min_free: int = MIN_FREE_BYTES, ssl_context: ssl.SSLContext | None = None,
                     timeout: float = 15) -> list[Check]:
    """Every check, in the order the README lists them; stops after the settings when those are wrong."""
    first, settings = check_settings(environ, env_file)
    if settings is None:
        return [first]
    checks = [first, await check_database(settings), check_data_dir(Path(settings.data_dir)),
              check_disk(Path(settings.data_dir), min_free), check_libreoffice()]
    dates: list[str] = []
    now = clock()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        for name, root, token in (("telegram", settings.telegram_api_url, settings.telegram_token),
                                  ("zalo", settings.zalo_api_url, settings.zalo_token)):
            if token:
                checks += await check_channel(session, name, root, token, settings.public_url, dates, now)
        if not settings.telegram_token and not settings.zalo_token:
            checks.append(Check("channels", False, texts.DOCTOR_NO_CHANNEL, texts.DOCTOR_NO_CHANNEL_FIX))
        if settings.public_url:
            checks.append(await check_public(session, settings.public_url, ssl_context))
    checks.append(check_clock(clock(), dates))
    checks.append(check_run(settings))
    return checks
