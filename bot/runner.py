"""`hcc-bot run`: every channel whose token is set, in one process, around one web server."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime
from typing import Callable

from bot import photos
from bot.bootstrap import ensure_units_and_campaign
from bot.console import SESSION_KEY_FILE, console_base_url, setup_console
from bot.files import secure_data_dir
from bot.service import Service, utc_now
from bot.reminders.scheduler import run_scheduler, senders_for, stop_scheduler
from bot.settings import Settings
from bot.web import DownloadLinks, build_app, load_or_create_key, start_app
from bot.webform.routes import SESSION_KEY_FILE as WEBFORM_KEY_FILE
from bot.webform.routes import setup_webform
from conversations import texts
from conversations.form import load_form
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


async def run_bot(settings: Settings, *, stop: asyncio.Event | None = None,
                  clock: Callable[[], datetime] = utc_now, channel_factory=make_channels) -> None:
    """Start the web server and the channels; run until `stop` is set, a signal arrives or a channel fails."""
    form = load_form(settings.form_path)
    secure_data_dir(settings.data_dir)  # 0700 / 0600, also for what an older version or a backup left
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
    try:
        await ensure_units_and_campaign(db, form, clock())
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
        runner = await start_app(app, settings.listen_host, settings.listen_port)
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
        await service.jobs.recover()  # exports a killed run left half-built: removed, their requesters told
        scheduler = asyncio.create_task(run_scheduler(db, form, senders_for(started), stop=stop,
                                                      clock=clock, wake=service.wake_reminders))
        print(texts.CLI_RUNNING.format(channels=", ".join(c.name for c in channels) or "web"), flush=True)
        print(texts.CLI_CONSOLE_AT.format(url=console_base_url(settings)), flush=True)
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
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):
                pass
