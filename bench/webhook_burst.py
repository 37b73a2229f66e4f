"""Webhook burst benchmark: the bot process stopped (SIGKILL or SIGTERM) in the middle of a burst of webhook
deliveries, then started again; nothing the bot acknowledged with a 200 may be lost or processed twice.

`python -m bot run` serves a fake Telegram or Zalo server on 127.0.0.1 by webhook. --contacts bound contacts each
send their invite code and the first lines of the sample report (tests/export_samples.py FULL_REPORT, up to the
first photo) one after another without waiting for replies, as a platform delivers a chat's queued updates. A
delivery that gets no 200 (the bot is down or says 503) is delivered again, in order, as the platforms do.
The stop (SIGKILL, or SIGTERM as at a normal shutdown) comes once --stop-after deliveries were answered 200, with
the others in flight; the bot is started again at once.

Counted per run: updates acknowledged (200), processed (the event is in the database), lost (acknowledged, not
processed), processed twice (a reply sent twice), answers stored unlike what the person sent (order or loss),
replies missing (a SIGKILL between a commit and its reply: the person's repeat would get it, see the crash test).

    python bench/webhook_burst.py                                   # both channels, both signals, SQLite + PostgreSQL
    python bench/webhook_burst.py --channel zalo --signal term --contacts 50
    python bench/webhook_burst.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import aiohttp  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bot.channels.chat_queue import split_text  # noqa: E402
from bot.channels.telegram import TEXT_LIMIT as TELEGRAM_LIMIT, reply_text  # noqa: E402
from bot.channels.zalo import TEXT_LIMIT as ZALO_LIMIT, ZaloChannel  # noqa: E402
from storage import queries as q  # noqa: E402
from storage.db import open_database  # noqa: E402
from storage.inbox import undone  # noqa: E402
from storage.models import ProcessedEvent  # noqa: E402
from tests.export_samples import FULL_REPORT  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.test_faults import PHOTO, ZaloPlatform, comparable, expect, invite_contacts, normalise  # noqa: E402

SCRIPT = FULL_REPORT[:FULL_REPORT.index(PHOTO)]  # the lines before the first photo: text only
MARK = "\x1e"  # separates the messages of one line's replies in the dry run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Person:
    user: str  # the platform's user id (Telegram: digits)
    unit: str
    lines: list[str]
    expected_messages: list[str]
    expected_answers: dict
    acked: list[str] = field(default_factory=list)  # platform ids answered 200
    deliveries: int = 0


class Platform:
    """The fake server of one channel, as the bench drives it."""

    def __init__(self, channel: str):
        self.channel = channel
        self.fake = FakeTelegram() if channel == "telegram" else ZaloPlatform()
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        await self.fake.start()
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def stop(self) -> None:
        await self.http.close()
        await self.fake.stop()

    def env(self) -> dict[str, str]:
        if self.channel == "telegram":
            return {"HCC_TELEGRAM_TOKEN": self.fake.token, "HCC_TELEGRAM_API_URL": self.fake.url}
        return {"HCC_ZALO_BOT_TOKEN": self.fake.token, "HCC_ZALO_API_URL": self.fake.url}

    def forget_webhook(self) -> None:
        if self.channel == "telegram":
            self.fake.webhook_url = None
        else:
            self.fake.webhook_set.clear()

    def webhook_ready(self) -> bool:
        return bool(self.fake.webhook_url) if self.channel == "telegram" else self.fake.webhook_set.is_set()

    def update(self, user: str, text: str) -> tuple[str, dict]:
        """(platform id, update) for a text message."""
        if self.channel == "telegram":
            update = self.fake.message(int(user), text=text)
            return str(update["update_id"]), update
        update = self.fake.text(user, text)
        return str(update["message"]["message_id"]), update

    async def post(self, update: dict) -> int | None:
        if self.channel == "telegram":
            url, headers = self.fake.webhook_url, {"X-Telegram-Bot-Api-Secret-Token": self.fake.webhook_secret}
        else:
            url, headers = self.fake.webhook_url, {"X-Bot-Api-Secret-Token": self.fake.webhook_secret or ""}
        if not url:
            return None
        try:
            async with self.http.post(url, json=update, headers=headers) as response:
                return response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return None

    def received(self, user: str) -> list[str]:
        if self.channel == "telegram":
            return [normalise(p["text"]) for p in self.fake.sent(int(user))]
        return [normalise(t) for t in self.fake.inbox[user]]


class Bot:
    """`python -m bot run` by webhook, as the operator starts it."""

    def __init__(self, platform: Platform, data_dir: Path, database_url: str):
        port = free_port()
        self.platform = platform
        self.data_dir = data_dir
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_PROXY": "127.0.0.1,localhost",
                    "HCC_DATA_DIR": str(data_dir), "HCC_DATABASE_URL": database_url,
                    "HCC_PUBLIC_URL": f"http://127.0.0.1:{port}", "HCC_LISTEN": f"127.0.0.1:{port}",
                    **platform.env()}
        self.log = data_dir / "bot.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 60) -> None:
        self.platform.forget_webhook()
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=self.data_dir, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while not self.platform.webhook_ready():
            if self.process.returncode is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the bot did not start (exit code {self.process.returncode}):\n{tail}")
            await asyncio.sleep(0.02)

    async def signal(self, sig: int, timeout: float = 30) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(sig)
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


def expected_for(channel: str, lines: list[str], unit: str, deadline: datetime) -> tuple[list[str], dict]:
    """The messages the person should receive, one per platform message, and the answers to be stored."""
    if channel == "telegram":
        render = lambda r: "".join(MARK + part for part in split_text(reply_text(r), TELEGRAM_LIMIT))  # noqa: E731
    else:
        render = lambda r: "".join(MARK + part for part in split_text(ZaloChannel.render(r), ZALO_LIMIT))  # noqa: E731
    dry = expect(lines, unit, deadline, render)
    messages = [m.rstrip("\n") for line in dry.replies for m in line.split(MARK)[1:]]
    return messages, dry.answers


async def deliver_in_order(platform: Platform, person: Person) -> None:
    """Send each line; a delivery without a 200 is repeated (same update) until it gets one, as platforms do."""
    for line in person.lines:
        platform_id, update = platform.update(person.user, line)
        while True:
            person.deliveries += 1
            status = await platform.post(update)
            if status == 200:
                person.acked.append(platform_id)
                break
            await asyncio.sleep(0.05)


async def settled(database_url: str, channel: str, people: list[Person], platform: Platform,
                  timeout: float = 60) -> None:
    """Wait until the inbox is empty and every expected reply arrived (or nothing moved for 3 s)."""
    db = await open_database(database_url)
    try:
        deadline = time.monotonic() + timeout
        last, quiet_since = None, time.monotonic()
        while time.monotonic() < deadline:
            async with db.sessionmaker() as s:
                waiting = await undone(s, channel)
            seen = sum(len(platform.received(p.user)) for p in people)
            if waiting == 0 and seen >= sum(len(p.expected_messages) for p in people):
                return
            if (waiting, seen) != last:
                last, quiet_since = (waiting, seen), time.monotonic()
            elif waiting == 0 and time.monotonic() - quiet_since > 3:
                return
            await asyncio.sleep(0.05)
    finally:
        await db.dispose()


async def run_once(channel: str, database_url: str, workdir: Path, *, contacts: int, sig: int,
                   stop_after: int = 40) -> dict:
    """One burst with one stop; the counts."""
    platform = Platform(channel)
    await platform.start()
    data_dir = workdir / f"{channel}-{sig}"
    data_dir.mkdir(parents=True, exist_ok=True)
    db = await open_database(database_url)
    try:
        invites, deadline = await invite_contacts(db, contacts, datetime.now(timezone.utc))
    finally:
        await db.dispose()
    people = []
    for n, (code, unit) in enumerate(invites):
        lines = [code, *SCRIPT]
        messages, answers = expected_for(channel, lines, unit, deadline)
        user = str(700_000 + n) if channel == "telegram" else f"burst{n:04d}"
        people.append(Person(user, unit, lines, [normalise(m) for m in messages], answers))
    bot = Bot(platform, data_dir, database_url)
    started = time.monotonic()
    try:
        await bot.start()
        senders = [asyncio.create_task(deliver_in_order(platform, p)) for p in people]
        burst_deadline = time.monotonic() + 120
        while sum(len(p.acked) for p in people) < min(stop_after, contacts * len(SCRIPT)):
            if bot.process.returncode is not None or time.monotonic() > burst_deadline:
                tail = bot.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the bot stopped answering the burst (exit code {bot.process.returncode}):\n{tail}")
            await asyncio.sleep(0.002)
        acked_at_stop = sum(len(p.acked) for p in people)
        await bot.signal(sig)
        await bot.start()
        await asyncio.wait_for(asyncio.gather(*senders), 120)
        await settled(database_url, channel, people, platform)
    finally:
        if bot.process is not None and bot.process.returncode is None:
            await bot.signal(signal.SIGTERM)
        await platform.stop()
    db = await open_database(database_url)
    try:
        async with db.sessionmaker() as s:
            processed = set((await s.scalars(sa.select(ProcessedEvent.event_id)
                                             .where(ProcessedEvent.channel == channel))).all())
            campaign = await q.current_campaign(s)
            answers = {unit.name: comparable(await q.load_answers(s, report.id))
                       for unit, report in await q.reports_by_unit(s, campaign.id) if report is not None}
    finally:
        await db.dispose()
    acked = {i for p in people for i in p.acked}
    twice = sum(sum((Counter(platform.received(p.user)) - Counter(p.expected_messages)).values()) for p in people)
    missing = sum(sum((Counter(p.expected_messages) - Counter(platform.received(p.user))).values()) for p in people)
    return {
        "channel": channel, "signal": signal.Signals(sig).name, "updates": len(acked),
        "acked_at_stop": acked_at_stop, "redelivered": sum(p.deliveries for p in people) - len(acked),
        "processed": len(acked & processed), "lost": len(acked - processed), "twice": twice,
        "wrong_answers": sum(1 for p in people if answers.get(p.unit) != p.expected_answers),
        "missing_replies": missing, "seconds": round(time.monotonic() - started, 1),
    }


async def fresh_postgres(admin_url: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    from bench.crash_restart import create_database, drop_database

    url = await create_database(admin_url)
    return url, lambda: drop_database(admin_url, url)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channel", choices=["telegram", "zalo", "both"], default="both")
    parser.add_argument("--signal", choices=["kill", "term", "both"], default="both")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres", default=os.environ.get("HCC_TEST_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--contacts", type=int, default=20)
    parser.add_argument("--stop-after", type=int, default=40, help="acknowledged deliveries before the stop")
    args = parser.parse_args()
    channels = ["telegram", "zalo"] if args.channel == "both" else [args.channel]
    signals = [signal.SIGKILL, signal.SIGTERM] if args.signal == "both" else \
        [signal.SIGKILL if args.signal == "kill" else signal.SIGTERM]
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    print(f"{args.contacts} contacts x {len(SCRIPT) + 1} updates, delivered in order per chat without waiting; "
          f"the bot stopped after {args.stop_after} were acknowledged")
    print(f"{'database':9} {'channel':9} {'signal':8} {'acked':>6} {'at stop':>8} {'redeliv':>8} {'processed':>9} "
          f"{'lost':>5} {'twice':>6} {'wrong':>6} {'no reply':>9} {'s':>6}")
    for database in databases:
        for channel in channels:
            for sig in signals:
                with tempfile.TemporaryDirectory() as tmp:
                    if database == "sqlite":
                        url, cleanup = f"sqlite+aiosqlite:///{tmp}/hcc.db", None
                    else:
                        url, cleanup = await fresh_postgres(args.postgres)
                    try:
                        r = await run_once(channel, url, Path(tmp), contacts=args.contacts, sig=sig,
                                           stop_after=args.stop_after)
                    finally:
                        if cleanup is not None:
                            await cleanup()
                print(f"{database:9} {r['channel']:9} {r['signal']:8} {r['updates']:>6} {r['acked_at_stop']:>8} "
                      f"{r['redelivered']:>8} {r['processed']:>9} {r['lost']:>5} {r['twice']:>6} "
                      f"{r['wrong_answers']:>6} {r['missing_replies']:>9} {r['seconds']:>6}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
