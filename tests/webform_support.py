"""Helpers for the web page's tests: `hcc-bot run` with the fake Zalo, a bound unit contact, the link from the chat."""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp

from bot.bootstrap import ensure_units_and_campaign
from bot.form_files import load_form_file
from bot.reminders.control import change_plan
from bot.runner import run_bot
from bot.service import utc_now
from bot.settings import Settings
from conversations.form import DEFAULT_FORM
from storage import queries as q
from storage.db import open_database
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.test_console import free_port

LINK = re.compile(r"http://127\.0\.0\.1:\d+/web/mo/[A-Za-z0-9_-]+")


@dataclass
class Running:
    zalo: FakeZalo
    base: str
    db_url: str
    codes: dict[str, str]  # unit code -> invite code
    clock: list[datetime]

    async def say(self, user: str, text: str, timeout: float = 20) -> str:
        """A message from `user` on Zalo; the bot's replies to it, joined."""
        before = len(self.zalo.texts_to(user))
        self.zalo.push(self.zalo.text(user, text))
        for _ in range(int(timeout * 20)):
            if len(self.zalo.texts_to(user)) > before:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)  # a second message of the same answer
        return "\n".join(self.zalo.texts_to(user)[before:])

    async def photo(self, user: str, data: bytes, timeout: float = 20) -> str:
        before = len(self.zalo.texts_to(user))
        self.zalo.push(self.zalo.image(user, data))
        for _ in range(int(timeout * 20)):
            if len(self.zalo.texts_to(user)) > before:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
        return "\n".join(self.zalo.texts_to(user)[before:])

    async def wait(self, condition, timeout: float = 20) -> None:
        for _ in range(int(timeout * 20)):
            if condition():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("timed out")

    async def link(self, user: str) -> str:
        reply = await self.say(user, "điền trên web")
        found = LINK.search(reply)
        assert found is not None, reply
        return found[0]

    async def db(self):
        return await open_database(self.db_url)


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, units: tuple[str, ...] = ("STP",), telegram: FakeTelegram | None = None,
                      form_path: Path = DEFAULT_FORM):
    zalo = await FakeZalo().start()
    db_url = f"sqlite:///{tmp_path / 'hcc.db'}"
    port = free_port()
    clock = [utc_now()]
    settings = Settings(database_url=db_url, data_dir=tmp_path, form_path=form_path, zalo_token=zalo.token,
                        zalo_api_url=zalo.url, listen_host="127.0.0.1", listen_port=port,
                        **({"telegram_token": telegram.token, "telegram_api_url": telegram.url} if telegram else {}))
    db = await open_database(db_url)
    now = clock[0]
    await ensure_units_and_campaign(db, load_form_file(form_path)[0], now)
    codes = {}
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        await change_plan(s, campaign, now, quiet="không")
        for code in units:
            unit = await q.get_unit_by_code(s, code)
            codes[code] = (await q.create_invite(s, unit_id=unit.id, role="unit", expires_at=now + timedelta(days=3),
                                                 max_uses=5, now=now)).code
    await db.dispose()
    stop = asyncio.Event()
    bot = asyncio.create_task(run_bot(settings, stop=stop, clock=lambda: clock[0]))
    try:
        for _ in range(400):
            if any(method == "getUpdates" for method, _ in zalo.calls):
                break
            await asyncio.sleep(0.05)
        yield Running(zalo, f"http://127.0.0.1:{port}", db_url, codes, clock)
    finally:
        stop.set()
        await asyncio.wait_for(bot, timeout=30)
        await zalo.stop()


def client() -> aiohttp.ClientSession:
    """A browser-like client: keeps cookies for 127.0.0.1, follows no redirect by itself."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def open_link(session: aiohttp.ClientSession, link: str) -> int:
    """Press the button on the link's page: the status of the answer (303 when the session opened)."""
    async with session.post(link, allow_redirects=False) as response:
        return response.status


async def csrf_of(session: aiohttp.ClientSession, base: str) -> tuple[int, str, str]:
    async with session.get(f"{base}/web/bao-cao", allow_redirects=False) as response:
        html = await response.text()
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    return response.status, found[1] if found else "", html
