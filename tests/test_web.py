"""The bot's web server: signed download links that expire, and survive a restart; /healthz and /livez; webhook
bodies whose fields have the wrong types."""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.bootstrap import ensure_units_and_campaign
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.service import Service
from bot.settings import Settings
from bot.web import DownloadLinks, build_app, load_or_create_key, start_app
from conversations import texts
from conversations.form import DEFAULT_FORM, load_form
from storage.db import Database
from storage.models import InboxItem
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.test_run import free_port


async def fetch(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return response.status, await response.read()


async def test_download_link__valid_then_expired_and_after_restart__served_then_refused(tmp_path):
    (tmp_path / "exports").mkdir()
    target = tmp_path / "exports" / "tong-hop_1_20170328-100000.zip"
    target.write_bytes(b"PK-zip-bytes")
    now = [1_000_000.0]
    links = DownloadLinks(load_or_create_key(tmp_path), tmp_path / "exports", ttl_seconds=3600, clock=lambda: now[0])
    url_path, expires = links.url_path(target)
    restarted = DownloadLinks(load_or_create_key(tmp_path), tmp_path / "exports", clock=lambda: now[0])
    port = free_port()
    runner = await start_app(build_app(restarted), "127.0.0.1", port)
    try:
        base = f"http://127.0.0.1:{port}"
        assert (200, b"PK-zip-bytes") == await fetch(base + url_path)
        escaped = url_path.replace("tong-hop_1_20170328-100000.zip", "%2E%2E/link.key")
        status, body = await fetch(base + escaped)
        assert 404 == status and load_or_create_key(tmp_path) not in body  # the signing key is never served
        forged = url_path.split("/")
        forged[2] = str(int(forged[2]) + 86400)  # a later expiry with the old signature
        assert 404 == (await fetch(base + "/".join(forged)))[0]
        forged[2] = "9" * 5_000  # more digits than int() takes: a 404 like any bad link, not a 500
        assert (404, texts.LINK_EXPIRED.encode()) == await fetch(base + "/".join(forged))
        now[0] = expires + 1
        assert (404, texts.LINK_EXPIRED.encode()) == await fetch(base + url_path)
    finally:
        await runner.cleanup()


# --- /healthz and /livez for a load balancer; webhook bodies of the wrong types (issue 22, part 5) -------------


async def status_of(url: str) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return response.status


@contextlib.asynccontextmanager
async def both_channels(db: Database, tmp_path: Path):
    """Telegram and Zalo by webhook on one server, as `hcc-bot run` sets them up; not started yet."""
    telegram, zalo = FakeTelegram(), await FakeZalo().start()
    await telegram.start()
    port = free_port()
    settings = Settings(database_url="unused", data_dir=tmp_path, form_path=DEFAULT_FORM,
                        telegram_token=telegram.token, telegram_api_url=telegram.url, zalo_token=zalo.token,
                        zalo_api_url=zalo.url, public_url=f"http://127.0.0.1:{port}", listen_port=port)
    service = Service(db, load_form(), tmp_path / "photos")
    channels = [TelegramChannel(settings, service, send_interval=0.01, retry_base=0.01),
                ZaloChannel(settings, service, retry_base=0.01)]
    app = build_app()
    for channel in channels:
        channel.add_routes(app)
    runner = await start_app(app, "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}", channels, telegram, zalo
    finally:
        for channel in channels:
            await channel.stop()
        await service.close()
        await runner.cleanup()
        await telegram.stop()
        await zalo.stop()


async def test_healthz__before_start_ready_database_away_stopping__503_200_503_503_and_livez_always_200(
        sqlite_db, tmp_path):
    down = []

    def fail_while_down(conn, cursor, statement, parameters, context, executemany):
        if down:
            raise OperationalError(statement, parameters, Exception("disk I/O error"))

    event.listen(sqlite_db.engine.sync_engine, "before_cursor_execute", fail_while_down)
    async with both_channels(sqlite_db, tmp_path) as (base, channels, _, _):
        seen = [(await status_of(base + "/healthz"), await status_of(base + "/livez"))]  # serving, not started
        for channel in channels:
            await channel.start()
        seen.append((await status_of(base + "/healthz"), await status_of(base + "/livez")))
        down.append(True)
        seen.append((await status_of(base + "/healthz"), await status_of(base + "/livez")))
        down.clear()
        seen.append((await status_of(base + "/healthz"), await status_of(base + "/livez")))
        await channels[0].stop()  # Telegram stops taking updates (a shutdown under way)
        seen.append((await status_of(base + "/healthz"), await status_of(base + "/livez")))
    assert [(503, 200), (200, 200), (503, 200), (200, 200), (503, 200)] == seen


async def test_webhooks__numbers_where_text_is_read__400_nothing_stored_and_the_next_message_answered(
        sqlite_db, tmp_path):
    await ensure_units_and_campaign(sqlite_db, load_form(), datetime.now(timezone.utc))
    async with both_channels(sqlite_db, tmp_path) as (base, channels, telegram, zalo):
        for channel in channels:
            await channel.start()
        statuses = []
        for field, value in [("text", 12345), ("text", {"a": 1}), ("caption", 7), ("media_group_id", 3)]:
            statuses.append(await telegram.deliver(telegram.message(42, **{field: value})))
        named = telegram.message(42, text="xin chào")
        named["message"]["from"]["first_name"] = 5
        statuses.append(await telegram.deliver(named))
        statuses.append(await telegram.deliver({"update_id": "7", "message": telegram.message(42, text="a")["message"]}))
        for field, value in [("text", 12345), ("photo_url", 9), ("date", "hôm nay")]:
            update = zalo.text("z1", "xin chào")
            update["message"][field] = value
            statuses.append(await zalo.deliver(update))
        named = zalo.text("z1", "xin chào")
        named["message"]["from"]["display_name"] = 77
        statuses.append(await zalo.deliver(named))
        for channel in channels:
            await channel.queue.drain()
        refused_sent = (len(telegram.calls_of("sendMessage")), len(zalo.sent))
        async with sqlite_db.transaction() as s:
            stored = await s.scalar(sa.select(sa.func.count()).select_from(InboxItem))
        assert 200 == await telegram.deliver(telegram.message(42, text="xin chào"))
        assert 200 == await zalo.deliver(zalo.text("z1", "xin chào"))
        await telegram.wait_until(lambda: telegram.sent(42))
        await zalo.wait_sent(1)
    assert [400] * 10 == statuses
    assert ((0, 0), 0) == (refused_sent, stored)
    assert texts.INVITE_PROMPT == telegram.sent(42)[0]["text"]
    assert texts.INVITE_PROMPT == zalo.sent[0].text
