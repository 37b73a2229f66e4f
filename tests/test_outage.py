"""A database outage while contacts on Telegram and Zalo answer the report: no answer shifts (issue 22, part 1).

The bot runs both channels by webhook in this process, its database reached through a small TCP proxy that the
test stops (connections reset, new ones refused) and starts again. Telegram's clock is 30 s ahead of the bot's and
Zalo's 30 s behind (the `date` of their messages). Contacts answer a line about every second;
Telegram redelivers every delivery that was not answered 200, in order per chat, as Telegram does; a person who
got no reply within PATIENCE sends the same line again, and one told that the bot cannot save sends it again a
moment later. Half the contacts skip their photos with "bỏ qua" (the same line twice in a row: the case the
issue saw shift). At the end every stored report is compared field by field with what the person meant (the pure
engine over the same lines), and every update the bot acknowledged before the database came back must have been
answered within 3 s of its return.

SQLite has no proxy: there the outage is every statement failing with an I/O error for the same time (an
SQLAlchemy event), the fault the bot sees when its disk or file goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.channels.telegram import TelegramChannel, reply_text
from bot.channels.zalo import ZaloChannel
from bot.service import Service
from bot.settings import Settings
from bot.web import build_app, start_app
from conversations import texts
from conversations.form import DEFAULT_FORM
from storage import queries as q
from storage.db import Database, normalize_url, open_database
from storage.models import InboxItem
from tests.export_samples import FULL_REPORT, portrait
from tests.fake_telegram import FakeTelegram
from tests.test_faults import (  # noqa: F401  (pg is a fixture)
    FORM, NOW, PHOTO, Expected, TcpProxy, ZaloPlatform, expect, free_port, invite_contacts, pg, stored,
)

CONTACTS = 8  # half on Telegram, half on Zalo
SCRIPT = FULL_REPORT[:30]  # three staff with photos, the lists, the first counts: every kind of line
PATIENCE = 2.5  # seconds without a reply before a person sends the same line again (the people: 15)
RETRY_PAUSE = (0.4, 0.8)  # seconds before sending again after "cannot save"
THINK = (0.3, 0.7)  # seconds between a reply and the next line
OUTAGE = 7.0  # seconds the database is away (the issue's: 20; kept short to stay under a minute)
CUT_AT_LINE = 5  # the outage starts once every contact has reached this line
ANSWERED_WITHIN = 3.0  # seconds after the database returns by which every acknowledged update is answered
RUNS = int(os.environ.get("HCC_OUTAGE_RUNS") or 1)  # each run a fresh schema or file, its own seed (CI: 2)
# The platforms' clocks (the `date` of a message) are off from the bot's: the bot must not compare them with its own.
TELEGRAM_CLOCK_AHEAD = timedelta(seconds=30)
ZALO_CLOCK_AHEAD = timedelta(seconds=-30)


class RunningClock:
    """The bot's clock: NOW (the day before the deadline) at the start, then moving with real time."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self):
        return NOW + timedelta(seconds=time.monotonic() - self.started)

    def at(self, monotonic: float):
        return NOW + timedelta(seconds=monotonic - self.started)


@dataclass
class Person:
    """One unit contact: the lines they mean, on one channel; what happened to them."""

    channel: str
    user: str
    unit: str
    lines: list[str]
    expected: Expected
    seed: int
    line: int = 0
    resends: int = 0  # the same line again after a silence
    told: int = 0  # "cannot save, send it again" received

    def photo(self, n: int) -> bytes:
        return portrait(((self.seed * 53 + n * 29) % 200, (90 + n * 7) % 250, 160))


class TelegramPeople:
    """Hands the Telegram people's updates to the webhook in order per chat; a non-200 is delivered again after
    a back-off, the chat's later updates waiting behind it (Telegram does not skip an undelivered update)."""

    def __init__(self, fake: FakeTelegram, clock: RunningClock):
        self.fake, self.clock = fake, clock
        self.queues: dict[int, asyncio.Queue] = {}
        self.workers: list[asyncio.Task] = []
        self.redelivered = 0

    def send(self, person: Person, line: str, n: int) -> None:
        user = int(person.user)
        update = (self.fake.photo_message(user, person.photo(n)) if line == PHOTO
                  else self.fake.message(user, text=line))
        update["message"]["date"] = int((self.clock() + TELEGRAM_CLOCK_AHEAD).timestamp())
        self.last_id = update["update_id"]
        if user not in self.queues:
            self.queues[user] = asyncio.Queue()
            self.workers.append(asyncio.create_task(self._deliver(self.queues[user])))
        self.queues[user].put_nowait(update)

    async def _deliver(self, queue: asyncio.Queue) -> None:
        while True:
            update = await queue.get()
            delay = 0.5
            while True:
                with contextlib.suppress(Exception):
                    if 200 == await self.fake.deliver(update):
                        break
                self.redelivered += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            queue.task_done()

    def replies(self, person: Person) -> list[str]:
        return [m["text"] for m in self.fake.sent(int(person.user))]

    async def close(self) -> None:
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)


class ZaloPeople:
    """Hands the Zalo people's messages to the webhook (the bot answers 200 even when it cannot save: it tells
    the person instead)."""

    def __init__(self, platform: ZaloPlatform, clock: RunningClock):
        self.platform, self.clock = platform, clock
        self.posts: set[asyncio.Task] = set()

    def send(self, person: Person, line: str, n: int) -> None:
        update = (self.platform.image(person.user, person.photo(n)) if line == PHOTO
                  else self.platform.text(person.user, line))
        update["message"]["date"] = int((self.clock() + ZALO_CLOCK_AHEAD).timestamp() * 1000)
        self.last_id = update["message"]["message_id"]
        task = asyncio.create_task(self.platform.post(update))
        self.posts.add(task)
        task.add_done_callback(self.posts.discard)

    def replies(self, person: Person) -> list[str]:
        return list(self.platform.inbox[person.user])

    async def close(self) -> None:
        await asyncio.gather(*self.posts, return_exceptions=True)


async def answer(person: Person, people, rng: random.Random) -> None:
    """Send each line and wait for a reply, as a person does: no reply within PATIENCE, the same line again;
    "cannot save", the same line again a moment later (unless the real reply came meanwhile)."""
    for n, line in enumerate(person.lines):
        person.line = n
        first = len(people.replies(person))
        answered = False
        while not answered:
            mark = len(people.replies(person))
            people.send(person, line, n)
            deadline = time.monotonic() + PATIENCE
            while True:
                seen = people.replies(person)
                if any(t != texts.SAVE_FAILED for t in seen[first:]):
                    answered = True
                    break
                if texts.SAVE_FAILED in seen[mark:]:
                    person.told += 1
                    await asyncio.sleep(rng.uniform(*RETRY_PAUSE))
                    answered = any(t != texts.SAVE_FAILED for t in people.replies(person)[first:])
                    break
                if time.monotonic() > deadline:
                    person.resends += 1
                    break
                await asyncio.sleep(0.02)
        await asyncio.sleep(rng.uniform(*THINK))
    person.line = len(person.lines)


def wrong_fields(expected: dict, actual: dict) -> list[str]:
    """The fields whose stored value is not what the person meant (missing, extra or different)."""
    return sorted(k for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k))


@contextlib.asynccontextmanager
async def bot(db: Database, telegram: FakeTelegram, zalo: ZaloPlatform, tmp_path: Path,
              clock: RunningClock) -> AsyncIterator[tuple[TelegramChannel, ZaloChannel]]:
    """Both channels by webhook on one web server, over one service, as `hcc-bot run` sets them up."""
    port = free_port()
    settings = Settings(database_url="unused", data_dir=tmp_path, form_path=DEFAULT_FORM,
                        telegram_token=telegram.token, telegram_api_url=telegram.url,
                        zalo_token=zalo.token, zalo_api_url=zalo.url, public_url=f"http://127.0.0.1:{port}",
                        listen_host="127.0.0.1", listen_port=port)
    service = Service(db, FORM, tmp_path / "photos", clock)
    channels = (TelegramChannel(settings, service, send_interval=0.01, retry_base=0.01),
                ZaloChannel(settings, service, poll_interval=0.01, retry_base=0.01))
    app = build_app()
    for channel in channels:
        channel.add_routes(app)
    runner = await start_app(app, "127.0.0.1", port)
    try:
        for channel in channels:
            await channel.start()
        try:
            yield channels
        finally:
            for channel in channels:
                await channel.stop()
            await service.close()
    finally:
        await runner.cleanup()


def make_people(invites: list[tuple[str, str]], deadline) -> list[Person]:
    """Telegram and Zalo in turn; every other contact skips the photos with "bỏ qua"."""
    people = []
    for n, (code, unit) in enumerate(invites):
        channel = "telegram" if n % 2 == 0 else "zalo"
        script = [("bỏ qua" if line == PHOTO and n % 4 in (2, 3) else line) for line in SCRIPT]
        lines = [code, *script]
        render = reply_text if channel == "telegram" else ZaloChannel.render
        people.append(Person(channel, str(7000 + n) if channel == "telegram" else f"z{n:04d}", unit, lines,
                             expect(lines, unit, deadline, render, now=NOW), seed=n))
    return people


@dataclass
class Outcome:
    wrong: dict[str, list[str]] = field(default_factory=dict)  # unit -> fields not as meant
    late: list[float] = field(default_factory=list)  # seconds after the return, acknowledged updates over the limit
    slowest: float = 0.0  # seconds after the return until the last acknowledged update was answered
    waiting: int = 0  # acknowledged updates waiting for the database when it came back
    resends: int = 0
    told: int = 0
    redelivered: int = 0


async def undone_rows(db: Database) -> set[int]:
    """The inbox rows acknowledged and not yet processed."""
    async with db.transaction() as s:
        return set(await s.scalars(sa.select(InboxItem.id).where(InboxItem.done_at.is_(None))))


async def scenario(db: Database, bot_db: Database, tmp_path: Path, cut: Callable[[], Awaitable[None]],
                   restore: Callable[[], Awaitable[None]], seed: int,
                   waiting: Callable[[], Awaitable[set[int]]]) -> Outcome:
    """The contacts answer; the database goes away once all have started, for OUTAGE seconds; then compare.
    `waiting()` reads the undone inbox rows beside the bot while its database is away."""
    rng = random.Random(seed)
    clock = RunningClock()
    invites, deadline = await invite_contacts(db, CONTACTS, NOW)
    people = make_people(invites, deadline)
    telegram, zalo = FakeTelegram(), await ZaloPlatform().start()
    await telegram.start()
    senders = {"telegram": TelegramPeople(telegram, clock), "zalo": ZaloPeople(zalo, clock)}
    outcome = Outcome()
    try:
        async with bot(bot_db, telegram, zalo, tmp_path, clock) as channels:
            runs = [asyncio.create_task(answer(p, senders[p.channel], random.Random(rng.random()))) for p in people]
            deadline_at = time.monotonic() + 60
            while not all(p.line >= CUT_AT_LINE for p in people):
                assert time.monotonic() < deadline_at, "the contacts did not reach the outage"
                await asyncio.sleep(0.02)
            await cut()
            cut_at = time.monotonic()

            await asyncio.sleep(OUTAGE)
            acknowledged = await waiting()
            await restore()
            back_at = time.monotonic()

            await asyncio.wait_for(asyncio.gather(*runs), 120)
            for channel in channels:
                await channel.queue.drain()
    finally:
        for sender in senders.values():
            await sender.close()
        await telegram.stop()
        await zalo.stop()
    after = {"telegram": await stored(db, "telegram"), "zalo": await stored(db, "zalo")}
    for p in people:
        answers = after[p.channel].answers.get(p.unit, {})
        wrong = wrong_fields(p.expected.answers, answers)
        if wrong:
            outcome.wrong[p.unit] = wrong
    # Every update the inbox held when the database came back (acknowledged, not yet answered): answered within
    # ANSWERED_WITHIN seconds of the return, as the event it is (its row done in the event's transaction).
    async with db.transaction() as s:
        rows = (await s.execute(sa.select(InboxItem.channel, InboxItem.platform_id, InboxItem.done_at)
                                .where(InboxItem.id.in_(acknowledged)))).all()
    back_time = clock.at(back_at)
    for channel, platform_id, done in rows:
        answered = done is not None and platform_id in after[channel].events
        after_return = (done - back_time).total_seconds() if answered else float("inf")
        outcome.slowest = max(outcome.slowest, after_return)
        if after_return > ANSWERED_WITHIN:
            outcome.late.append(after_return)
    outcome.waiting = len(rows)
    outcome.resends = sum(p.resends for p in people)
    outcome.told = sum(p.told for p in people)
    outcome.redelivered = senders["telegram"].redelivered
    print(f"outage {back_at - cut_at:.1f}s, {len(people)} contacts: wrong reports {len(outcome.wrong)} "
          f"{outcome.wrong}, resends {outcome.resends}, told to send again {outcome.told}, telegram redeliveries "
          f"{outcome.redelivered}, {outcome.waiting} acknowledged updates waiting at the return answered at most "
          f"{outcome.slowest:.2f}s after it")
    return outcome


@pytest.mark.parametrize("run", range(RUNS))
async def test_outage__postgres_cut_while_contacts_answer_and_resend__no_answer_shifts(pg, tmp_path, run):
    """PostgreSQL behind a proxy stopped for OUTAGE seconds: every report as meant, no acknowledged update waits
    more than 3 s after the return."""
    url, schema = pg
    direct = await open_database(url, schema=schema)
    parsed = make_url(normalize_url(url))
    proxy = await TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
    try:
        through_proxy = await open_database(proxy.url(url), schema=schema)
        try:
            outcome = await scenario(direct, through_proxy, tmp_path, lambda: proxy.cut("refuse"), proxy.restore,
                                     seed=20170327 + run, waiting=lambda: undone_rows(direct))
        finally:
            await through_proxy.dispose()
    finally:
        await proxy.close()
        await direct.dispose()
    assert {} == outcome.wrong
    assert [] == outcome.late
    assert outcome.resends > 0  # people did send lines again during the outage


class StatementsFail:
    """While `down`, every statement on the engine fails as SQLite's do when its file is unreachable."""

    def __init__(self, db: Database):
        self.down = False
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._check)

    def _check(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.down:
            raise OperationalError(statement, parameters, Exception("disk I/O error"))

    async def cut(self) -> None:
        self.down = True

    async def restore(self) -> None:
        self.down = False


@pytest.mark.parametrize("run", range(RUNS))
async def test_outage__sqlite_statements_fail_while_contacts_answer_and_resend__no_answer_shifts(tmp_path, run):
    """SQLite whose every statement fails for OUTAGE seconds: every report as meant, no acknowledged update
    waits more than 3 s after the return."""
    db = await open_database(f"sqlite:///{tmp_path / 'hcc.db'}")
    try:
        outage = StatementsFail(db)

        async def waiting() -> set[int]:  # read beside the bot, whose statements fail
            with contextlib.closing(sqlite3.connect(tmp_path / "hcc.db")) as conn:
                return {row[0] for row in conn.execute("SELECT id FROM inbox WHERE done_at IS NULL")}

        outcome = await scenario(db, db, tmp_path, outage.cut, outage.restore, seed=20170401 + run, waiting=waiting)
    finally:
        await db.dispose()
    assert {} == outcome.wrong
    assert [] == outcome.late
    assert outcome.resends + outcome.told > 0


# --- the moment that shifted answers: a commit that went through, its acknowledgement lost -----------------------


class CommitAcknowledgementLost:
    """The database commits the event of one update, then the connection breaks before the bot hears that it did
    (a proxy stopped at that moment): the bot sees an error for a transaction that is stored."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch):
        self.target: str | None = None  # the platform id of the update whose commit acknowledgement is lost
        self.lost = 0
        claim_event, transaction = q.claim_event, db.transaction

        async def claim_and_note(s, channel, event_id, *, at):
            s.info["event"] = event_id
            return await claim_event(s, channel, event_id, at=at)

        @contextlib.asynccontextmanager
        async def transaction_then_lost(*, first: bool = False):
            async with transaction(first=first) as s:
                yield s
            if self.target is not None and s.info.get("event") == self.target:
                self.target = None
                self.lost += 1
                raise ConnectionResetError("connection reset after COMMIT")

        monkeypatch.setattr(q, "claim_event", claim_and_note)
        monkeypatch.setattr(db, "transaction", transaction_then_lost)


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
async def test_outage__commit_acknowledgement_lost_at_a_skipped_photo__same_line_again_is_not_the_next_answer(
        sqlite_db, tmp_path, monkeypatch, channel):
    """The "bỏ qua" at the first photo is stored, but the bot hears a connection error instead of the commit's
    success. The person must get the next question (not "cannot save"), and the "bỏ qua" they may send again is
    not the answer to the next question: the stored report is what they meant."""
    lost = CommitAcknowledgementLost(sqlite_db, monkeypatch)
    clock = RunningClock()
    [(code, unit)], deadline = await invite_contacts(sqlite_db, 1, NOW)
    lines = [code, *[("bỏ qua" if line == PHOTO else line) for line in SCRIPT[:12]]]
    render = reply_text if channel == "telegram" else ZaloChannel.render
    person = Person(channel, "7100" if channel == "telegram" else "z7100", unit, lines,
                    expect(lines, unit, deadline, render, now=NOW), seed=1)
    skip_at = lines.index("bỏ qua")
    telegram, zalo = FakeTelegram(), await ZaloPlatform().start()
    await telegram.start()
    sender = TelegramPeople(telegram, clock) if channel == "telegram" else ZaloPeople(zalo, clock)
    original_send = sender.send

    def send(person: Person, line: str, n: int) -> None:
        if n == skip_at and not lost.lost:
            lost.target = "next"
        original_send(person, line, n)
        if lost.target == "next":
            lost.target = str(sender.last_id)

    sender.send = send
    try:
        async with bot(sqlite_db, telegram, zalo, tmp_path, clock) as channels:
            await asyncio.wait_for(answer(person, sender, random.Random(1)), 60)
            for each in channels:
                await each.queue.drain()
    finally:
        await sender.close()
        await telegram.stop()
        await zalo.stop()
    after = await stored(sqlite_db, channel)
    replies = sender.replies(person)
    assert 1 == lost.lost
    assert [] == wrong_fields(person.expected.answers, after.answers[unit])
    assert texts.SAVE_FAILED not in replies  # the update was acknowledged: it is answered, not refused
