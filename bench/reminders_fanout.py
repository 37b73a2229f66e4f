"""Reminder fan-out benchmark: 2,000 contacts through a fake Telegram Bot API that enforces 30 messages/s.

The whole path runs: one scheduler pass (run_due) fires the 14:30 slot, claims each row from the database
(SQLite by default), renders its text, and sends it with python-telegram-bot through the send queue. The
fake server on 127.0.0.1 answers 429 with retry_after when more than 30 messages were accepted in the last
second (rolling window) or more than one into the same chat in the last second, and random 429s besides.

Goals (issue 6): achieved rate / 30 >= 0.9, lost = 0, duplicated = 0.

    python bench/reminders_fanout.py                      # 2,000 contacts, 2% random 429s, SQLite
    python bench/reminders_fanout.py --contacts 500 --p429 0.05
    python bench/reminders_fanout.py --database postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import tempfile
import time
from collections import Counter, deque
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from aiohttp import web  # noqa: E402

TOKEN = "123456:BenchTokenForTheFakeServerOnly_0123"
LIMIT_PER_SECOND = 30
CONTACTS_PER_UNIT = 4


class FakeTelegramLimits:
    """getMe and sendMessage, with Telegram's limits enforced: 30 accepted/s overall, 1/s per chat."""

    def __init__(self, p429: float, retry_after: int, seed: int):
        self.p429 = p429
        self.retry_after = retry_after
        self.random = random.Random(seed)
        self.accepted: deque[float] = deque()  # monotonic times of accepted messages, last second
        self.last_in_chat: dict[str, float] = {}
        self.delivered: Counter = Counter()
        self.times: list[float] = []
        self.refused = Counter()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        await self._runner.cleanup()

    def _too_many(self, reason: str) -> web.Response:
        self.refused[reason] += 1
        return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests: retry later",
                                  "parameters": {"retry_after": self.retry_after}}, status=429)

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        if method == "getMe":
            return web.json_response({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "HCC",
                                                             "username": "hcc_bench_bot"}})
        if method != "sendMessage":
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        params = await request.post()
        chat = str(params["chat_id"])
        now = time.monotonic()
        while self.accepted and self.accepted[0] <= now - 1.0:
            self.accepted.popleft()
        if len(self.accepted) >= LIMIT_PER_SECOND:
            return self._too_many("over 30/s")
        if now - self.last_in_chat.get(chat, -10.0) < 1.0:
            return self._too_many("over 1/s in a chat")
        if self.random.random() < self.p429:
            return self._too_many("random")
        self.accepted.append(now)
        self.last_in_chat[chat] = now
        self.delivered[chat] += 1
        self.times.append(now)
        return web.json_response({"ok": True, "result": {
            "message_id": len(self.times), "date": int(time.time()), "text": str(params.get("text", "")),
            "chat": {"id": int(chat), "type": "private"}}})


async def prepare(url: str, contacts: int, schema: str | None):
    """A campaign due at 16:30, contacts spread over units (4 each), nobody submitted."""
    from bot.bootstrap import ensure_units_and_campaign
    from conversations.form import load_form
    from storage import queries as q
    from storage.db import open_database

    form = load_form()
    now = datetime(2017, 3, 27, 2, 0, tzinfo=timezone.utc)
    db = await open_database(url, schema=schema)
    await ensure_units_and_campaign(db, form, now)
    async with db.transaction() as s:
        (await q.current_campaign(s)).deadline_at = datetime(2017, 3, 28, 9, 30, tzinfo=timezone.utc)
        for unit in await q.list_units(s):
            unit.active = False
        units = (contacts + CONTACTS_PER_UNIT - 1) // CONTACTS_PER_UNIT
        await q.upsert_units(s, [(f"B{n:05d}", f"Đơn vị thử số {n + 1}") for n in range(units)], now=now)
        ids = {u.code: u.id for u in await q.list_units(s)}
        for n in range(contacts):
            contact = await q.get_or_create_contact(s, channel="telegram", platform_user_id=str(100_000 + n),
                                                    chat_id=str(100_000 + n), display_name=f"Người {n}", now=now)
            contact.role, contact.unit_id = "unit", ids[f"B{n // CONTACTS_PER_UNIT:05d}"]
    return db, form


async def bench(args: argparse.Namespace) -> int:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.channels.telegram_send import telegram_bot_sender
    from bot.fanout import Fanout
    from bot.reminders.scheduler import run_due
    from storage import queries as q

    server = FakeTelegramLimits(args.p429, args.retry_after, args.seed)
    await server.start()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'bench.db'}"
        schema = f"bench_{secrets.token_hex(4)}" if args.database else None  # a fresh schema, dropped after
        db, form = await prepare(url, args.contacts, schema)
        bot = Bot(TOKEN, base_url=f"{server.url}/bot", request=HTTPXRequest(connection_pool_size=32))
        await bot.initialize()
        slot = datetime(2017, 3, 28, 7, 30, tzinfo=timezone.utc)  # 14:30 Asia/Ho_Chi_Minh
        started = time.monotonic()

        def clock() -> datetime:
            return slot + timedelta(seconds=time.monotonic() - started)

        timed_out = False
        try:
            summary = await asyncio.wait_for(
                run_due(db, form, slot, {"telegram": telegram_bot_sender(lambda: bot)},
                                  fanout=Fanout(), clock=clock), args.timeout)
        except asyncio.TimeoutError:
            timed_out, summary = True, None
        elapsed = time.monotonic() - started
        async with db.transaction() as s:
            states = Counter(row.state for row in await q.list_reminder_sends(s))
        await bot.shutdown()
        await db.dispose()
        if schema is not None:
            from tests.conftest import _drop_schema

            await _drop_schema(url, schema)
    await server.stop()

    expected = {str(100_000 + n) for n in range(args.contacts)}
    lost = len(expected - set(server.delivered))
    duplicated = sum(n - 1 for n in server.delivered.values() if n > 1)
    sent = sum(server.delivered.values())
    rate = sent / elapsed
    window = server.times[-1] - server.times[0] if len(server.times) > 1 else float("nan")
    print(f"contacts: {args.contacts}   database: {'PostgreSQL' if args.database else 'SQLite'}   "
          f"random 429s: {args.p429:.0%} (retry_after {args.retry_after} s)")
    print(f"time: {elapsed:.1f} s for the whole pass (firing the slot, claims, renders, sends, records)"
          + ("   TIMED OUT" if timed_out else ""))
    print(f"achieved rate: {rate:.2f} msg/s over the pass, {sent / window if window else 0:.2f} msg/s first to "
          f"last delivery")
    print(f"rate / 30: {rate / LIMIT_PER_SECOND:.3f}   (goal >= 0.9)")
    print(f"lost: {lost}   (goal 0)")
    print(f"duplicated: {duplicated}   (goal 0)")
    print(f"429s answered: {dict(server.refused) or 0}")
    print(f"database rows: {dict(states)}" + (f"   pass summary: {summary}" if summary else ""))
    ok = rate / LIMIT_PER_SECOND >= 0.9 and lost == 0 and duplicated == 0 and not timed_out
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--p429", type=float, default=0.02, help="share of requests answered 429 at random")
    parser.add_argument("--retry-after", type=int, default=1, help="retry_after of the server's 429s, seconds")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite in a temp folder)")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds")
    parser.add_argument("--seed", type=int, default=6)
    return asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
