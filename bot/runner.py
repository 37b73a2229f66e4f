"""`hcc-bot run`: every channel whose token is set, in one process, around one web server (or N such processes)."""

from __future__ import annotations

import asyncio
import errno
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
from datetime import datetime
from typing import Callable

from bot import photos
from bot.console import SESSION_KEY_FILE, console_base_url, setup_console
from bot.doctor import AnotherRun, hold_run_lock
from bot.logs import setup_logging
from bot.service import Service, utc_now
from bot.reminders.scheduler import run_scheduler, senders_for, stop_scheduler
from bot.settings import ConfigError, Settings, load_settings_form, prepare_data_dir
from bot.web import DownloadLinks, build_app, load_or_create_key, start_app
from bot.webform.routes import SESSION_KEY_FILE as WEBFORM_KEY_FILE
from bot.webform.routes import setup_webform
from conversations import texts
from storage import queries as q
from storage.db import open_database

log = logging.getLogger(__name__)


class FatalChannelError(RuntimeError):
    """A channel cannot go on (a refused token): one line for the operator."""


def make_channels(settings: Settings, service: Service, on_fatal: Callable[[str], None],
                  links: DownloadLinks | None = None) -> list:
    """The channels whose tokens are set."""
    channels = []
    if settings.zalo_token:
        from bot.channels.zalo import ZaloChannel

        channels.append(ZaloChannel(settings, service, on_fatal=on_fatal, links=links))
    if settings.telegram_token:
        from bot.channels.telegram import TelegramChannel

        channels.append(TelegramChannel(settings, service, on_fatal=on_fatal))
    return channels


def check_workers(settings: Settings, workers: int) -> None:
    """Several workers need what lets them share the work: PostgreSQL (the inbox's chat claims; SQLite has one
    writer) and webhooks (one address; a platform serves its updates to one poller). ConfigError otherwise."""
    if workers < 1:
        raise ConfigError(texts.SET_WORKERS_COUNT.format(workers=workers))
    if workers == 1:
        return
    if not settings.database_url.startswith("postgres"):
        raise ConfigError(texts.SET_WORKERS_SQLITE.format(workers=workers))
    if (settings.zalo_token or settings.telegram_token) and not settings.public_url:
        raise ConfigError(texts.SET_WORKERS_POLLING.format(workers=workers))


def _worker_main(settings: Settings) -> None:
    """One of the `--workers` processes: `hcc-bot run` on the shared address."""
    setup_logging(settings.log_level, settings.log_format)
    code = 0
    try:
        asyncio.run(run_bot(settings, reuse_port=True))
    except FatalChannelError as exc:
        print(texts.CLI_CONFIG_ERROR.format(problem=exc), file=sys.stderr, flush=True)
        code = 2
    except KeyboardInterrupt:
        code = 130
    # A multiprocessing child joins its own children before Python's exit handlers run, and the photo pool's
    # process leaves only when told by one of those handlers: told here, or this process would wait forever.
    photos.stop()
    sys.exit(code)


def run_workers(settings: Settings, workers: int) -> int:
    """`hcc-bot run --workers N`: N bot processes listening on HCC_LISTEN together (SO_REUSEPORT), each with its
    own inbox worker claiming whole chats on the shared PostgreSQL, so both cores work and every chat stays in
    order. A SIGTERM or SIGINT is passed on to every worker; when one worker ends, the others are stopped too.
    The exit code is the first worker's that failed (0 when all stopped cleanly)."""
    check_workers(settings, workers)
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold sockets or threads
    processes = [context.Process(target=_worker_main, args=(settings,), name=f"hcc-bot worker {n + 1}")
                 for n in range(workers)]
    stopping = False

    def stop_all(*_: object) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: the worker finishes the work in flight (bot/inbox.py)

    previous = {sig: signal.signal(sig, stop_all) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        while alive := [p for p in processes if p.is_alive()]:
            multiprocessing.connection.wait([p.sentinel for p in alive], timeout=1.0)
            if not stopping and any(not p.is_alive() for p in processes):
                stop_all()  # one worker ended on its own (a refused token, a crash): stop the others
        codes = [p.exitcode or 0 for p in processes]
        return next((code for code in codes if code not in (0, -signal.SIGTERM)), 0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def run_bot(settings: Settings, *, stop: asyncio.Event | None = None,
                  clock: Callable[[], datetime] = utc_now, channel_factory=make_channels,
                  reuse_port: bool = False) -> None:
    """Start the web server and the channels; run until `stop` is set, a signal arrives or a channel fails."""
    form = load_settings_form(settings)
    prepare_data_dir(settings)  # 0700 / 0600, also for what an older version or a backup left
    try:
        lock = hold_run_lock(settings)  # one run per SQLite data folder; `hcc-bot doctor` reads it
    except AnotherRun as exc:
        raise FatalChannelError(str(exc)) from None
    db = await open_database(settings.database_url)
    stop = stop or asyncio.Event()
    fatal: list[str] = []

    def on_fatal(message: str) -> None:
        fatal.append(message)
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    started = []
    runner = None
    scheduler = None
    service = None
    up = False
    try:
        service = Service(db, form, settings.photos_dir, clock, export_dir=settings.data_dir / "exports",
                          province=settings.province)
        photos.warm_up()  # the photo process starts now, not when the first photos arrive together
        links = DownloadLinks(load_or_create_key(settings.data_dir), settings.data_dir / "exports")
        channels = channel_factory(settings, service, on_fatal, links)
        app = build_app(links)
        service.console_url = console_base_url(settings)
        setup_console(app, service, session_key=load_or_create_key(settings.data_dir, SESSION_KEY_FILE),
                      secure_cookie=(settings.public_url or "").startswith("https://"))
        setup_webform(app, service, session_key=load_or_create_key(settings.data_dir, WEBFORM_KEY_FILE),
                      secure_cookie=(settings.public_url or "").startswith("https://"),
                      telegram_token=settings.telegram_token)
        for channel in channels:
            channel.add_routes(app)
        runner = await _listen(app, settings, reuse_port=reuse_port)
        for channel in channels:
            try:
                await channel.start()
            except Exception as exc:
                if type(exc).__name__.endswith("TokenRefused"):
                    raise FatalChannelError(str(exc)) from None
                log.error("%s channel could not start (%s)", channel.name, type(exc).__name__)
                unreachable = texts.CLI_TELEGRAM_UNREACHABLE if channel.name == "telegram" else texts.CLI_ZALO_UNREACHABLE
                url = settings.telegram_api_url if channel.name == "telegram" else settings.zalo_api_url
                raise FatalChannelError(unreachable.format(url=url)) from None
            started.append(channel)
            mode = f"webhook set at {settings.public_url}/{channel.name}/webhook" if settings.public_url else "polling"
            log.info("%s channel started: %s", channel.name, mode)
        await service.jobs.recover()  # exports a killed run left half-built: removed, their requesters told
        scheduler = asyncio.create_task(run_scheduler(db, form, senders_for(started), stop=stop,
                                                      clock=clock, wake=service.wake_reminders))
        print(texts.CLI_RUNNING.format(channels=", ".join(c.name for c in channels) or "web"), flush=True)
        print(texts.CLI_CONSOLE_AT.format(url=console_base_url(settings)), flush=True)
        async with db.sessionmaker() as s:
            if await q.current_campaign(s) is None:  # a new installation: nothing to remind yet, and why
                print(texts.CLI_RUN_NO_CAMPAIGN, flush=True)
        up = True
        log.info("hcc-bot started: listening on %s:%s, channels: %s", settings.listen_host, settings.listen_port,
                 ", ".join(c.name for c in started) or "none (web console only)")
        await stop.wait()
        if fatal:
            raise FatalChannelError(fatal[0])
    finally:
        stop.set()
        if scheduler is not None:  # before the channels close: the messages in flight finish first
            await stop_scheduler(scheduler)
        for channel in reversed(started):
            await channel.stop()
        if service is not None:
            await service.jobs.drain()
            await service.close()
        if runner is not None:
            await runner.cleanup()
        await db.dispose()
        if lock is not None:
            os.close(lock)
        if up:
            log.info("hcc-bot stopped")
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):
                pass


async def _listen(app, settings: Settings, *, reuse_port: bool = False):
    """Open HCC_LISTEN; a port in use, an address not on this machine or a refused port is one line naming it."""
    try:
        return await start_app(app, settings.listen_host, settings.listen_port, reuse_port=reuse_port)
    except OSError as exc:
        host, port = settings.listen_host, settings.listen_port
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(texts.SET_LISTEN_IN_USE.format(host=host, port=port)) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise ConfigError(texts.SET_LISTEN_DENIED.format(port=port)) from None
        raise ConfigError(texts.SET_LISTEN_NOT_HERE.format(host=host)) from None
