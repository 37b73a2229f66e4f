"""`hcc-bot run` with both tokens: Zalo and Telegram in one process, around one web server."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import aiohttp

from bot.runner import run_bot
from bot.settings import Settings
from conversations import texts
from conversations.form import DEFAULT_FORM, load_form
from bot.bootstrap import ensure_units_and_campaign
from storage import queries as q
from storage.db import open_database
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_run__both_tokens__zalo_and_telegram_answer_from_one_process(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="bot.runner")
    zalo, telegram = await FakeZalo().start(), FakeTelegram()
    await telegram.start()
    db_url = f"sqlite:///{tmp_path / 'hcc.db'}"
    port = free_port()
    settings = Settings(database_url=db_url, data_dir=tmp_path, form_path=DEFAULT_FORM,
                        zalo_token=zalo.token, zalo_api_url=zalo.url,
                        telegram_token=telegram.token, telegram_api_url=telegram.url,
                        listen_host="127.0.0.1", listen_port=port)
    seeded = await open_database(db_url)  # a real installation starts empty: the sample units and a campaign
    await ensure_units_and_campaign(seeded, load_form(DEFAULT_FORM), datetime.now(timezone.utc))
    await seeded.dispose()
    stop = asyncio.Event()
    bot = asyncio.create_task(run_bot(settings, stop=stop))
    try:
        await telegram.wait_until(lambda: telegram.calls_of("getUpdates"), timeout=20)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert 200 == response.status
        db = await open_database(db_url)
        async with db.transaction() as s:
            stp = await q.get_unit_by_code(s, "STP")
            cat = await q.get_unit_by_code(s, "CAT")
            now = (await q.current_campaign(s)).created_at
            zalo_code = (await q.create_invite(s, unit_id=stp.id, role="unit", expires_at=now + timedelta(days=3),
                                               max_uses=3, now=now)).code
            telegram_code = (await q.create_invite(s, unit_id=cat.id, role="unit", expires_at=now + timedelta(days=3),
                                                   max_uses=3, now=now)).code
        await db.dispose()

        zalo.push(zalo.text("zalo-user", zalo_code))
        await telegram.text(42, f"/start {telegram_code}")
        await zalo.wait_sent(1, timeout=20)
        await telegram.wait_until(lambda: telegram.sent(42), timeout=20)
        assert zalo.sent[0].text.startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp"))
        assert telegram.sent(42)[0]["text"].startswith(texts.BOUND_UNIT.format(unit="Công an tỉnh"))
        logged = [r.getMessage() for r in caplog.records if r.name == "bot.runner"]
        assert ["zalo channel started: polling", "telegram channel started: polling"] == logged[:2]
        assert logged[2].startswith(f"hcc-bot started: listening on 127.0.0.1:{port}, channels: zalo, telegram")
    finally:
        stop.set()
        await asyncio.wait_for(bot, timeout=30)
        await zalo.stop()
        await telegram.stop()


def test_run__refused_zalo_token__one_line_and_exit_code_2(tmp_path):
    """The process started by the IT person stops at once with one line naming the setting."""
    async def serve_and_run() -> subprocess.CompletedProcess:
        zalo = await FakeZalo(token="right:token").start()
        try:
            env = {"HCC_DATA_DIR": str(tmp_path / "data"), "HCC_ZALO_BOT_TOKEN": "wrong:token",
                   "HCC_ZALO_API_URL": zalo.url, "HCC_LISTEN": f"127.0.0.1:{free_port()}", "PATH": "/usr/bin:/bin"}
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await asyncio.wait_for(process.communicate(), timeout=60)
            return subprocess.CompletedProcess([], process.returncode, out.decode(), err.decode())
        finally:
            await zalo.stop()

    result = asyncio.run(serve_and_run())
    assert 2 == result.returncode
    assert [texts.CLI_CONFIG_ERROR.format(problem=texts.CLI_ZALO_TOKEN_REFUSED)] == result.stderr.strip().splitlines()
    assert "wrong:token" not in result.stderr + result.stdout
