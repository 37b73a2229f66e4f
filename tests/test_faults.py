"""Faults: the bot killed mid-report, every update delivered twice, the database briefly unreachable, two workers.

The crash tests run `python -m bot run` as a real process against a fake Zalo server in webhook mode, and SIGKILL
it at moments drawn from a seeded RNG. (Polling would take minutes: Zalo hands out one update per call and the bot
keeps a second between calls.) Simulated contacts answer the sample report like people do: send, wait for the
reply, send the same thing again when no reply came. Every reply is compared with what the pure engine says for the
same script without faults, so "the conversation continues at the right question" is checked at every step,
including the first reply after each restart, and not only at the end.

The other tests run the channels in process: every update delivered twice (Telegram and Zalo, polling replays and
webhook retries), PostgreSQL cut and restored behind a TCP proxy, and two workers on one PostgreSQL schema.

Known defects would be pinned by strict xfails (the reason saying what happens); AVOID_REPLY_WINDOW and
AVOID_PHOTO_DEADLOCK were the switches that kept the broader tests clear of the two found, both fixed now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import signal
import socket
import sqlite3
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.bootstrap import ensure_units_and_campaign
from bot.service import Inbound, Service
from bot.settings import Settings
from bot.channels.telegram import TelegramChannel, reply_text
from bot.web import build_app, start_app
from bot.channels.zalo import SECRET_HEADER, ZaloChannel
from conversations import texts
from conversations.engine import Photo, Pick, Reply, ReportInfo, Start, State, Text, step
from conversations.form import DEFAULT_FORM, load_form
from storage import queries as q
from storage.db import Database, normalize_url, open_database
from storage.models import Photo as PhotoRow
from storage.models import ProcessedEvent, ReportVersion
from tests.export_samples import FULL_REPORT, portrait
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

FORM = load_form()
SCRIPT = FULL_REPORT  # the whole sample report, photos included, ending with "nộp"
PHOTO = "PHOTO"
POSTGRES_URL_ENV = "HCC_TEST_POSTGRES_URL"
NOW = datetime(2017, 3, 27, 2, 0, tzinfo=timezone.utc)  # in-process tests: 09:00 the day before the deadline
_WHEN = re.compile(r"\d{1,2}:\d{2} ngày \d{1,2}/\d{1,2}/\d{4}")  # "lúc 14:53 ngày 26/11/2026" in a reply


# --- what the replies should be: the pure engine over the same script, without faults -------------------------


def normalise(text: str) -> str:
    """A reply with its times of day blanked: the bot and the dry run submit a few milliseconds apart."""
    return _WHEN.sub("<lúc>", text)


def comparable(answers: dict) -> dict:
    """Answers with photo ids (which differ between runs) replaced by a marker."""
    return {k: PHOTO if k.endswith(".photo") and isinstance(v, int) else v for k, v in answers.items()}


@dataclass(frozen=True)
class Expected:
    replies: list[str]  # per line (the invite code first): the whole text the person should see, normalised
    answers: dict  # the unit's answers at the end, comparable()


def expect(lines: list[str], unit_name: str, deadline: datetime, render: Callable[[Reply], str],
           now: datetime | None = None, events: dict[int, object] | None = None) -> Expected:
    """Run the engine over `lines` (the first one is the invite code) as the service would, without faults.

    The invite code binds the person, then the engine starts: the service says BOUND_UNIT before the first question.
    `events` replaces the line's text event for some lines (a pressed button).
    """
    now = now or datetime.now(timezone.utc)
    state, out = step(FORM, State(answers={}, report=ReportInfo(unit_name, deadline)), Start(), now)
    first = out[0]
    bound = Reply("\n\n".join([texts.BOUND_UNIT.format(unit=unit_name), first.text]), first.options,
                  first.expects_photo)
    replies = [normalise("\n".join(render(r) for r in [bound, *out[1:]]))]
    for n, line in enumerate(lines[1:], 1):
        event = (events or {}).get(n) or (Photo(n) if line == PHOTO else Text(line))
        state, out = step(FORM, state, event, now)
        replies.append(normalise("\n".join(render(r) for r in out)))
    return Expected(replies, comparable(dict(state.answers)))


def item_counts(answers: dict) -> dict[str, int]:
    """How many items each list has: {"main_staff": 3, "plan": 4, ...}."""
    items = {re.match(r"(\w+)\[(\d+)\]\.", k).groups() for k in answers if re.match(r"\w+\[\d+\]\.", k)}
    counts: dict[str, int] = defaultdict(int)
    for section, _ in items:
        counts[section] += 1
    return dict(counts)


# --- the database side ------------------------------------------------------------------------------------------


async def invite_contacts(db: Database, count: int, now: datetime) -> tuple[list[tuple[str, str]], datetime]:
    """(invite code, unit name) for `count` units of the sample list, and the campaign's deadline."""
    await ensure_units_and_campaign(db, FORM, now)
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        units = (await q.list_units(s))[:count]
        assert count == len(units), f"only {len(units)} units to give contacts to"
        codes = []
        for unit in units:
            invite = await q.create_invite(s, unit_id=unit.id, role="unit", expires_at=now + timedelta(days=7),
                                           max_uses=3, now=now)
            codes.append((invite.code, unit.name))
        return codes, campaign.deadline_at


@dataclass
class Stored:
    answers: dict[str, dict]  # unit name -> comparable answers
    photos: dict[str, int]  # unit name -> photo rows
    versions: dict[str, int]  # unit name -> submitted versions
    events: set[str]  # processed event ids of the channel


async def stored(db: Database, channel: str) -> Stored:
    """What the database holds, per unit with a report."""
    result = Stored({}, {}, {}, set())
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        for unit, report in await q.reports_by_unit(s, campaign.id):
            if report is None:
                continue
            result.answers[unit.name] = comparable(await q.load_answers(s, report.id))
            result.photos[unit.name] = await s.scalar(
                sa.select(sa.func.count()).select_from(PhotoRow).where(PhotoRow.report_id == report.id))
            result.versions[unit.name] = await s.scalar(
                sa.select(sa.func.count()).select_from(ReportVersion).where(ReportVersion.report_id == report.id))
        result.events = set(await s.scalars(
            sa.select(ProcessedEvent.event_id).where(ProcessedEvent.channel == channel)))
    return result


def committed_events(db_file: Path) -> tuple[set[str], bool]:
    """The Zalo message ids the bot has committed, read beside it (SQLite in WAL mode lets a reader in), and
    whether a write transaction is open: its COMMIT may be under way, invisible to readers until recovery."""
    with contextlib.closing(sqlite3.connect(db_file, timeout=10, isolation_level=None)) as conn:
        ids = {row[0] for row in conn.execute("SELECT event_id FROM processed_event WHERE channel = 'zalo'")}
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # "database is locked": the bot holds the write lock
            return ids, True
        conn.execute("ROLLBACK")
        return ids, False


# --- the platform side: a fake Zalo that delivers by webhook and can lose what it sends ------------------------


class ZaloPlatform(FakeZalo):
    """FakeZalo with a message list per chat, webhook deliveries that fail while the bot is down, and a send hook."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.inbox: dict[str, list[str]] = defaultdict(list)
        self.on_send: Callable[[str, str], bool] | None = None  # (chat, text) -> True: the message is lost
        self.webhook_set = asyncio.Event()
        self._arrived: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._counted = 0
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> "ZaloPlatform":
        await super().start()
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        return self

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        await super().stop()

    async def _api(self, request: web.Request) -> web.Response:
        response = await super()._api(request)
        if request.match_info["method"] == "setWebhook":
            self.webhook_set.set()
        for message in self.sent[self._counted:]:
            if self.on_send is not None and self.on_send(message.chat_id, message.text):
                continue  # lost on the way: the person never sees it
            self.inbox[message.chat_id].append(message.text)
            self._arrived[message.chat_id].set()
        self._counted = len(self.sent)
        return response

    async def post(self, update: dict, url: str | None = None, secret: str | None = None) -> int | None:
        """POST an update to the webhook as Zalo would; None when the bot could not be reached (it is lost)."""
        headers = {SECRET_HEADER: secret or self.webhook_secret or ""}
        try:
            async with self._http.post(url or self.webhook_url, json=update, headers=headers) as response:
                return response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return None

    async def wait_reply(self, chat: str, count: int, timeout: float) -> bool:
        """Whether the chat holds `count` messages within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        arrived = self._arrived[chat]
        while len(self.inbox[chat]) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(arrived.wait(), remaining)
        return True


# --- the people ------------------------------------------------------------------------------------------------


@dataclass
class Contact:
    """A unit contact answering the report: the lines to send, what the bot should answer, what happened."""

    user: str
    unit: str
    lines: list[str]
    expected: Expected
    seed: int = 0
    line: int = 0  # the line being answered
    attempts: list[list[str]] = field(default_factory=list)  # message ids sent, per line
    acked: dict[int, str] = field(default_factory=dict)  # line -> the message id its reply answered
    latencies: list[float] = field(default_factory=list)
    resends: int = 0
    refused: list[tuple[int, str, float]] = field(default_factory=list)  # SAVE_FAILED: (line, message id, seconds)

    def photo(self, n: int) -> bytes:
        return portrait(((self.seed * 53 + n * 29) % 200, (90 + n * 7) % 250, 160))

    def waiting_ids(self) -> set[str]:
        """Message ids of the line being answered, while no reply has come for it."""
        if self.line >= len(self.lines) or self.line in self.acked or self.line >= len(self.attempts):
            return set()
        return set(self.attempts[self.line])


def make_contacts(invites: list[tuple[str, str]], deadline: datetime, *, now: datetime | None = None,
                  script: list[str] = SCRIPT, prefix: str = "u") -> list[Contact]:
    """One contact per invite, each to send its code and then `script`."""
    contacts = []
    for n, (code, unit) in enumerate(invites):
        lines = [code, *script]
        contacts.append(Contact(user=f"{prefix}{n:04d}", unit=unit, lines=lines, seed=n,
                                expected=expect(lines, unit, deadline, ZaloChannel.render, now=now)))
    return contacts


async def answer_report(platform: ZaloPlatform, contact: Contact, *, patience: float,
                        think: tuple[float, float] = (0.0, 0.0), rng: random.Random | None = None,
                        deliver: Callable[[dict, int], object] | None = None, resend: bool = True) -> None:
    """Send each line and wait for the reply, as a person does.

    No reply after `patience` seconds: send the line again (or, with `resend=False`, fail: the bot hangs). The bot
    says it cannot save right now: send the line again a moment later. `deliver(update, line)` hands the update to
    the bot (by default the webhook Zalo has registered).
    """
    rng = rng or random.Random(contact.seed)
    deliver = deliver or (lambda update, n: platform.post(update))
    deliveries: set[asyncio.Task] = set()
    for n, line in enumerate(contact.lines):
        contact.line = n
        contact.attempts.append([])
        while True:
            update = (platform.image(contact.user, contact.photo(n)) if line == PHOTO
                      else platform.text(contact.user, line))
            message_id = update["message"]["message_id"]
            contact.attempts[n].append(message_id)
            before = len(platform.inbox[contact.user])
            started = time.monotonic()
            task = asyncio.ensure_future(deliver(update, n))
            deliveries.add(task)
            task.add_done_callback(deliveries.discard)
            if await platform.wait_reply(contact.user, before + 1, patience):
                waited = time.monotonic() - started
                if platform.inbox[contact.user][before] == texts.SAVE_FAILED:
                    contact.refused.append((n, message_id, waited))
                    await asyncio.sleep(rng.uniform(0.05, 0.15))
                    continue
                contact.acked[n] = message_id
                contact.latencies.append(waited)
                break
            if not resend:
                raise AssertionError(f"{contact.user}: no reply within {patience:.0f}s to line {n} ({line[:30]!r})")
            contact.resends += 1
        if think[1] > 0:
            await asyncio.sleep(rng.uniform(*think))
    contact.line = len(contact.lines)
    await asyncio.gather(*deliveries, return_exceptions=True)


# --- the bot as a process ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BotProcess:
    """`python -m bot run` as the operator starts it (Zalo by webhook), with its output in a file."""

    def __init__(self, platform: ZaloPlatform, data_dir: Path, database_url: str | None = None):
        port = free_port()
        self.platform = platform
        self.data_dir = data_dir
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_PROXY": "127.0.0.1,localhost",
                    "HCC_DATA_DIR": str(data_dir), "HCC_ZALO_BOT_TOKEN": platform.token,
                    "HCC_ZALO_API_URL": platform.url, "HCC_PUBLIC_URL": f"http://127.0.0.1:{port}",
                    "HCC_LISTEN": f"127.0.0.1:{port}"}
        if database_url:
            self.env["HCC_DATABASE_URL"] = database_url
        self.log = data_dir / "bot.log"
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0

    async def start(self, timeout: float = 60) -> None:
        """Start the bot and wait until it has registered its webhook."""
        self.platform.webhook_set.clear()
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=self.data_dir, env=self.env, stdout=log, stderr=log)
        ready = asyncio.ensure_future(self.platform.webhook_set.wait())
        exited = asyncio.ensure_future(self.process.wait())
        done, _ = await asyncio.wait({ready, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        exited.cancel()
        if ready not in done:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise AssertionError(f"the bot did not start (exit code {self.process.returncode}):\n{tail}")
        self.starts += 1

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def kill_now(self) -> None:
        """SIGKILL, from anywhere (a fake server's handler too); `reap` waits for the exit."""
        with contextlib.suppress(ProcessLookupError):  # it has just ended by itself
            os.kill(self.process.pid, signal.SIGKILL)
        self.kills += 1

    async def reap(self) -> None:
        await self.process.wait()

    async def kill(self) -> None:
        self.kill_now()
        await self.reap()

    async def stop(self) -> None:
        """SIGTERM and wait, as at a normal shutdown (SIGKILL if it does not stop)."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)
            await self.process.wait()


# The random kills land anywhere, the commit-to-reply window included (the pending replies cover it: see
# test_crash_restart__killed_after_commit_before_the_reply__resent_item_stored_once). bench/crash_restart.py can
# still move kills out of it (--avoid-reply-window) to compare.
AVOID_REPLY_WINDOW = False


async def kill_at_this_moment(bot: BotProcess, contacts: list[Contact],
                              committed: Callable[[], Awaitable[tuple[set[str], bool]]], rng: random.Random,
                              avoid_reply_window: bool = AVOID_REPLY_WINDOW) -> tuple[int, int]:
    """SIGKILL the bot; with `avoid_reply_window`, at a moment when no committed answer waits for its reply.

    The bot is frozen (SIGSTOP) and `committed()` read beside it: the processed event ids, and whether a commit
    may be under way unseen (SQLite). A contact whose message is committed but has no reply yet is in the window;
    so may be one waiting while a commit is under way. Avoiding it, the bot runs on a few milliseconds and is
    frozen again. Returns (moments skipped, contacts seen in the window when the kill came).
    """
    skipped = 0
    while True:
        bot.pause()
        await asyncio.sleep(0.02)  # the requests the bot had already written reach the fake server
        done, writing = await committed()
        waiting = [c.waiting_ids() for c in contacts if c.waiting_ids()]
        in_window = sum(1 for ids in waiting if ids & done)
        if not (avoid_reply_window and (in_window or (writing and waiting))):
            break
        skipped += 1
        bot.resume()
        await asyncio.sleep(rng.uniform(0.002, 0.02))
    await bot.kill()
    return skipped, in_window


# --- 1. Crash-restart ----------------------------------------------------------------------------------------------

CRASH_SEED = 20170327
CRASH_CONTACTS = 3
CRASH_KILLS = 3
PATIENCE = 2.0  # seconds a person waits for a reply before sending the same thing again


@pytest.fixture
async def platform() -> AsyncIterator[ZaloPlatform]:
    server = await ZaloPlatform().start()
    yield server
    await server.stop()


async def sqlite_contacts(tmp_path: Path, count: int, script: list[str] = SCRIPT) -> tuple[Path, list[Contact]]:
    db_file = tmp_path / "hcc.db"
    db = await open_database(f"sqlite:///{db_file}")
    try:
        invites, deadline = await invite_contacts(db, count, datetime.now(timezone.utc))
    finally:
        await db.dispose()
    return db_file, make_contacts(invites, deadline, script=script)


async def test_crash_restart__sigkill_at_random_moments__acknowledged_answers_stored_once_and_resumed(
        platform, tmp_path):
    """3 contacts answer the whole report (with photos) while the bot process is SIGKILLed 3 times and restarted."""
    db_file, contacts = await sqlite_contacts(tmp_path, CRASH_CONTACTS)
    bot = BotProcess(platform, tmp_path)
    rng = random.Random(CRASH_SEED)

    async def committed() -> tuple[set[str], bool]:
        return committed_events(db_file)

    started = time.monotonic()
    await bot.start()
    runs = [asyncio.create_task(answer_report(platform, c, patience=PATIENCE, think=(0.0, 0.03),
                                              rng=random.Random(CRASH_SEED + c.seed))) for c in contacts]
    skipped = []
    try:
        for _ in range(CRASH_KILLS):
            await asyncio.wait(runs, timeout=rng.uniform(0.3, 1.5))  # a random moment of the run
            if all(r.done() for r in runs):
                break
            skipped.append((await kill_at_this_moment(bot, contacts, committed, rng))[0])
            await asyncio.sleep(rng.uniform(0.0, 0.5))  # down a moment longer: deliveries meanwhile are lost
            await bot.start()
        await asyncio.wait_for(asyncio.gather(*runs), 90)
    finally:
        for run in runs:
            run.cancel()
        await bot.stop()
    db = await open_database(f"sqlite:///{db_file}")
    try:
        after = await stored(db, "zalo")
    finally:
        await db.dispose()
    acked = {i for c in contacts for i in c.acked.values()}
    resends = sum(c.resends for c in contacts)
    slowest = max(x for c in contacts for x in c.latencies)
    print(f"crash-restart: {bot.kills} kills, {len(acked)} answers acknowledged, {resends} re-sends, "
          f"{sum(skipped)} kill moments skipped (reply window), slowest reply {slowest:.2f}s, "
          f"{time.monotonic() - started:.1f}s")
    assert CRASH_KILLS == bot.kills
    assert resends > 0  # the kills did cost somebody a reply
    for c in contacts:
        # A kill between a reply going out and its being recorded as sent, while the person (who had not seen it
        # yet) re-sent the line: the repeat gets the kept replies too, so the same reply comes twice in a row (the
        # README's commit→reply window: nothing is stored twice, checked below). Only a re-sent line may do that.
        got = [normalise(t) for t in platform.inbox[c.user]]
        once = [t for i, t in enumerate(got) if i == 0 or t != got[i - 1]]
        # On a mismatch, say what happened: every reply, the message ids each line was sent as, the bot's log.
        assert c.expected.replies == once, (
            c.unit, [t[:60] for t in once], c.attempts, bot.log.read_text(errors="replace")[-3000:])
        assert len(got) - len(once) <= c.resends, c.unit
        assert c.expected.answers == after.answers[c.unit], c.unit
        assert (5, 1) == (after.photos[c.unit], after.versions[c.unit]), c.unit
    # What was acknowledged is stored. The reply a person took for their last attempt at a line may answer an
    # earlier attempt: the inbox kept it while the bot was down, and the repeat sent meanwhile was lost or was
    # recognised as a repeat.
    for c in contacts:
        for n in c.acked:
            assert set(c.attempts[n]) & after.events, (c.unit, n)
    # Anything else stored is a message whose reply died with the process: the person sent that line again, and
    # the repeat got the kept replies (the answers above show it was not stored a second time).
    resent = {i for c in contacts for n, ids in enumerate(c.attempts) for i in ids if c.acked.get(n) != i}
    assert after.events - acked <= resent


async def test_crash_restart__killed_after_commit_before_the_reply__resent_item_stored_once(platform, tmp_path):
    """The bot dies while sending the reply to the first plan item (already committed); the person sends it again."""
    first_item = next(n for n, line in enumerate(SCRIPT) if line.startswith("Rà soát TTHC;"))
    db_file, (contact,) = await sqlite_contacts(tmp_path, 1, SCRIPT[:first_item + 2])  # plan items 1 and 2
    plan_line = first_item + 1  # after the invite code
    bot = BotProcess(platform, tmp_path)
    killed = asyncio.Event()

    def die_while_replying(chat: str, text: str) -> bool:
        if chat == contact.user and contact.line == plan_line and not killed.is_set():
            bot.kill_now()
            killed.set()
            return True
        return False

    platform.on_send = die_while_replying
    await bot.start()
    run = asyncio.create_task(answer_report(platform, contact, patience=1.0))
    try:
        await asyncio.wait_for(killed.wait(), 60)
        await bot.reap()
        await bot.start()
        await asyncio.wait_for(run, 60)
    finally:
        run.cancel()
        await bot.stop()
    db = await open_database(f"sqlite:///{db_file}")
    try:
        after = await stored(db, "zalo")
    finally:
        await db.dispose()
    assert contact.resends >= 1  # the person got no reply and sent the item again
    # The re-sent item got the reply the first one should have had, and was not stored as a second item.
    assert contact.expected.replies == [normalise(t) for t in platform.inbox[contact.user]]
    assert item_counts(contact.expected.answers) == item_counts(after.answers[contact.unit])
    assert contact.expected.answers == after.answers[contact.unit]


def children_of(pid: int) -> set[int]:
    """Processes whose parent is `pid`, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry.name))
    return found


async def test_crash__bot_killed__its_photo_process_exits_too(platform, tmp_path):
    """Photos are processed in a child process: a SIGKILLed bot must not leave it behind."""
    await sqlite_contacts(tmp_path, 1)
    bot = BotProcess(platform, tmp_path)
    await bot.start()
    try:
        deadline = time.monotonic() + 30
        workers: set[int] = set()
        while not workers and time.monotonic() < deadline:  # the worker starts with the bot
            workers = {p for p in children_of(bot.process.pid)
                       if b"multiprocessing" in Path(f"/proc/{p}/cmdline").read_bytes()
                       and b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()}
            await asyncio.sleep(0.1)
        assert workers, "no photo process found"
        await bot.kill()
        while workers and time.monotonic() < deadline:
            workers = {p for p in workers if Path(f"/proc/{p}").exists()
                       and Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"}
            await asyncio.sleep(0.1)
    finally:
        await bot.stop()
    assert set() == workers


# --- 2. Every update delivered twice --------------------------------------------------------------------------


class ReplayingTelegram(FakeTelegram):
    """Hands every update out a second time on the next getUpdates, whatever the offset (a lost confirmation)."""

    def __init__(self) -> None:
        super().__init__()
        self._replay: list[dict] = []
        self._replayed: set[int] = set()
        self.replays = 0  # updates handed out a second time

    async def _m_getUpdates(self, p: dict):
        if self._replay:
            replay, self._replay = self._replay, []
            self.replays += len(replay)
            return replay
        result = await super()._m_getUpdates(p)
        if isinstance(result, list):
            fresh = [u for u in result if u["update_id"] not in self._replayed]
            self._replayed.update(u["update_id"] for u in fresh)
            self._replay.extend(fresh)
        return result


# Lines of the script answered by pressing a button on Telegram (the line's index -> the button's label, value).
TELEGRAM_PRESSES = {4: ("Nữ", "nu"), 5: ("7", "7"), 8: ("Nam", "nam"), 9: ("40", "40"), 12: ("Nữ", "nu"),
                    13: ("9", "9")}
SENTINEL = "alo"  # a greeting at the end: its reply comes after every repeat before it was handled


async def until(predicate: Callable[[], bool], timeout: float = 10) -> None:
    """Wait (checking every 10 ms) until `predicate()` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def telegram_bot(db: Database, fake: FakeTelegram, tmp_path: Path, *, webhook: bool
                       ) -> AsyncIterator[TelegramChannel]:
    port = free_port()
    settings = Settings(database_url="unused", data_dir=tmp_path, form_path=DEFAULT_FORM,
                        telegram_token=fake.token, telegram_api_url=fake.url,
                        public_url=f"http://127.0.0.1:{port}" if webhook else None)
    channel = TelegramChannel(settings, Service(db, FORM, tmp_path / "photos", lambda: NOW), send_interval=0.01,
                              retry_base=0.01)
    app = build_app()
    channel.add_routes(app)
    runner = await start_app(app, "127.0.0.1", port)
    try:
        await channel.start()
        try:
            yield channel
        finally:
            await channel.stop()
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def zalo_bot(db: Database, platform: FakeZalo, tmp_path: Path, *, webhook: bool
                   ) -> AsyncIterator[ZaloChannel]:
    port = free_port()
    settings = Settings(database_url="unused", data_dir=tmp_path, form_path=DEFAULT_FORM,
                        zalo_token=platform.token, zalo_api_url=platform.url,
                        public_url=f"http://127.0.0.1:{port}" if webhook else None,
                        listen_host="127.0.0.1", listen_port=port)
    channel = ZaloChannel(settings, Service(db, FORM, tmp_path / "photos", lambda: NOW), poll_interval=0.01,
                          retry_base=0.01)
    app = build_app()
    channel.add_routes(app)
    runner = await start_app(app, "127.0.0.1", port)
    try:
        await channel.start()
        try:
            yield channel
        finally:
            await channel.stop()
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_telegram_update__delivered_twice__one_reply_and_nothing_stored_twice(sqlite_db, tmp_path, mode):
    """The whole report with photos and buttons; polling: every update comes back on the next getUpdates;
    webhook: every update is POSTed twice, at once for half of them and after the reply for the others."""
    fake = ReplayingTelegram() if mode == "polling" else FakeTelegram()
    await fake.start()
    [(code, unit)], deadline = await invite_contacts(sqlite_db, 1, NOW)
    lines = [code, *SCRIPT, SENTINEL]
    events = {n: Pick(value) for n, (_, value) in TELEGRAM_PRESSES.items()}
    expected = expect(lines, unit, deadline, reply_text, now=NOW, events=events)
    user = 4242
    try:
        async with telegram_bot(sqlite_db, fake, tmp_path, webhook=mode == "webhook"):
            for n, line in enumerate(lines):
                if n in TELEGRAM_PRESSES:
                    update = await fake.press(user, TELEGRAM_PRESSES[n][0])
                elif line == PHOTO:
                    update = await fake.photo(user, portrait((n * 5 % 200, 120, 160)))
                else:
                    update = await fake.text(user, line)
                if mode == "webhook" and n % 2 == 0:
                    assert 200 == await fake.deliver(update)  # the retry comes before the reply
                await fake.wait_until(lambda: len(fake.sent(user)) > n)
                if mode == "webhook" and n % 2 == 1:
                    assert 200 == await fake.deliver(update)  # the retry comes after the reply
            if mode == "polling":
                await until(lambda: len(lines) == fake.replays)  # stopping hands the last ones to the chats
    finally:
        await fake.stop()
    after = await stored(sqlite_db, "telegram")
    assert expected.replies == [normalise(m["text"]) for m in fake.sent(user)]
    assert item_counts(expected.answers) == item_counts(after.answers[unit])
    assert expected.answers == after.answers[unit]
    assert (5, 1, len(lines)) == (after.photos[unit], after.versions[unit], len(after.events))
    assert len(TELEGRAM_PRESSES) == len(fake.calls_of("editMessageText"))  # a repeated press edits nothing


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_zalo_update__delivered_twice__one_reply_and_nothing_stored_twice(sqlite_db, tmp_path, mode):
    """The whole report with photos; polling: every consumed update comes back on a later poll; webhook: every
    update is POSTed twice, at once for half of them and after the reply for the others."""
    platform = await ZaloPlatform(replay_consumed=mode == "polling", idle_as_http_408=False).start()
    [(code, unit)], deadline = await invite_contacts(sqlite_db, 1, NOW)
    lines = [code, *SCRIPT, SENTINEL]
    expected = expect(lines, unit, deadline, ZaloChannel.render, now=NOW)
    user = "6ede9afa66b88fe6d6a9"
    try:
        async with zalo_bot(sqlite_db, platform, tmp_path, webhook=mode == "webhook") as channel:
            for n, line in enumerate(lines):
                update = (platform.image(user, portrait((n * 5 % 200, 120, 160))) if line == PHOTO
                          else platform.text(user, line))
                if n == len(lines) - 1 and mode == "polling":
                    await until(lambda: not platform._consumed)  # every replay handed out before the sentinel
                if mode == "polling":
                    platform.push(update)
                elif n % 2 == 0:
                    assert [200, 200] == await asyncio.gather(platform.post(update), platform.post(update))
                else:
                    assert 200 == await platform.post(update)
                assert await platform.wait_reply(user, n + 1, 10)
                if mode == "webhook" and n % 2 == 1:
                    assert 200 == await platform.post(update)
            if mode == "polling":
                await until(lambda: not platform._consumed)
                polls = len(platform.calls)
                await until(lambda: any(m == "getUpdates" for m, _ in platform.calls[polls:]))  # the last one is in
            await channel.queue.drain()
    finally:
        await platform.stop()
    after = await stored(sqlite_db, "zalo")
    assert expected.replies == [normalise(t) for t in platform.inbox[user]]
    assert item_counts(expected.answers) == item_counts(after.answers[unit])
    assert expected.answers == after.answers[unit]
    assert (5, 1, len(lines)) == (after.photos[unit], after.versions[unit], len(after.events))


# --- 3. The database briefly unreachable -------------------------------------------------------------------------


class TcpProxy:
    """A TCP proxy on 127.0.0.1 in front of PostgreSQL, to cut as a restart or a network blip looks to the bot.

    `cut("refuse")`: every open connection is reset and new ones are refused (PostgreSQL restarting).
    `cut("blackhole")`: connections stay open but nothing goes through, new ones included (packets dropped).
    """

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = free_port()
        self.mode = "open"
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def url(self, database_url: str) -> str:
        """`database_url` pointed at the proxy."""
        parsed = make_url(normalize_url(database_url)).set(host="127.0.0.1", port=self.port)
        return parsed.render_as_string(hide_password=False)

    async def start(self) -> "TcpProxy":
        self.mode = "open"
        self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port, reuse_address=True)
        return self

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)
        self._writers.discard(writer)
        self._writers.discard(up_writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if self.mode == "open":
                    writer.write(data)
                    await writer.drain()
        finally:
            writer.transport.abort()

    async def cut(self, mode: str = "refuse") -> None:
        self.mode = mode
        if mode == "refuse":
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await self._server.wait_closed()

    async def restore(self) -> None:
        if self.mode == "refuse":
            await self.start()
        else:
            for writer in list(self._writers):  # what was held is lost, as after a long partition
                writer.transport.abort()
        self.mode = "open"

    async def close(self) -> None:
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()


@pytest.fixture
async def pg() -> AsyncIterator[tuple[str, str]]:
    """The test PostgreSQL's URL and a fresh schema name, dropped afterwards."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set: PostgreSQL tests skipped")
    schema = f"t_{os.urandom(6).hex()}"
    yield url, schema
    engine = create_async_engine(normalize_url(url))
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


DB_CONTACTS = 2
CUT_SECONDS = 1.5


async def test_database_unreachable__cut_while_contacts_answer__save_failed_then_recovers_without_restart(pg, tmp_path):
    """PostgreSQL behind a proxy that is cut (connections reset, new ones refused) and restored while 2 contacts
    answer the report: the bot says it cannot save the messages sent during the cut and stores nothing for them,
    loses nothing it acknowledged before (a message already in the inbox when the cut came is answered after the
    restore, not refused), and after the restore goes on at the right question without a restart."""
    url, schema = pg
    direct = await open_database(url, schema=schema)
    parsed = make_url(normalize_url(url))
    proxy = await TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
    platform = await ZaloPlatform().start()
    try:
        invites, deadline = await invite_contacts(direct, DB_CONTACTS, NOW)
        contacts = make_contacts(invites, deadline, now=NOW)
        through_proxy = await open_database(proxy.url(url), schema=schema)
        try:
            async with zalo_bot(through_proxy, platform, tmp_path, webhook=True):
                runs = [asyncio.create_task(answer_report(platform, c, patience=45, resend=False))
                        for c in contacts]
                await until(lambda: all(c.line >= 12 for c in contacts), timeout=60)
                await proxy.cut("refuse")
                cut_at = time.monotonic()
                acked_before = {i for c in contacts for i in c.acked.values()}
                at_cut = await stored(direct, "zalo")
                heard_at_cut = {c.user: len(platform.inbox[c.user]) for c in contacts}

                def waiting(c) -> bool:
                    """No reply at all since the cut: the message was in the inbox when it came, and waits for the
                    restore to be answered (an acknowledged update is never refused)."""
                    return not c.refused and len(platform.inbox[c.user]) == heard_at_cut[c.user]

                await until(lambda: sum(len(c.refused) for c in contacts) >= 2 * len(contacts)
                            or (time.monotonic() - cut_at >= CUT_SECONDS
                                and all(len(c.refused) >= 2 or waiting(c) for c in contacts))
                            or any(r.done() for r in runs), timeout=30)  # 10 s was short on a loaded machine
                await asyncio.sleep(max(0.0, CUT_SECONDS - (time.monotonic() - cut_at)))  # a blip of seconds
                waited = {c.user for c in contacts if waiting(c)}
                # A message that reaches the bot during the cut is refused at once (whether or not a contact above
                # happened to send one): the person is told to send it again, nothing is kept.
                probe = platform.text("u-probe", "xin chào")
                asyncio.ensure_future(platform.post(probe))
                assert await platform.wait_reply("u-probe", 1, 5)
                assert [texts.SAVE_FAILED] == platform.inbox["u-probe"]
                during_cut = await stored(direct, "zalo")
                cut_for = time.monotonic() - cut_at
                await proxy.restore()
                await asyncio.wait_for(asyncio.gather(*runs), 90)
        finally:
            await through_proxy.dispose()
        after = await stored(direct, "zalo")
    finally:
        await platform.stop()
        await proxy.close()
        await direct.dispose()
    refused = [r for c in contacts for r in c.refused]
    print(f"database cut for {cut_for:.1f}s: {len(refused)} answers refused with SAVE_FAILED "
          f"(slowest in {max((r[2] for r in refused), default=0):.2f}s), {len(waited)} contacts waited for the restore")
    # Every contact was either told twice that the bot cannot save now, or was waiting for the reply to a message
    # the inbox had taken before the cut (answered after the restore: checked with every reply below).
    assert [] == [c.user for c in contacts if len(c.refused) < 2 and c.user not in waited]
    assert at_cut.events == during_cut.events  # nothing stored while cut
    assert acked_before <= at_cut.events  # nothing acknowledged before it lost
    assert max((r[2] for r in refused), default=0) < 5  # the bot answers, it does not hang
    for c in contacts:
        replies = [normalise(t) for t in platform.inbox[c.user] if t != texts.SAVE_FAILED]
        assert c.expected.replies == replies, c.unit  # every step, the first after the restore too
        assert c.expected.answers == after.answers[c.unit], c.unit
        assert (5, 1) == (after.photos[c.unit], after.versions[c.unit]), c.unit
    assert {i for c in contacts for i in c.acked.values()} == after.events
    assert set() == {r[1] for r in refused} & after.events  # what was refused was not stored


# --- 4. Two workers on one PostgreSQL behind webhooks -----------------------------------------------------------


# Known defect (see test_two_workers__same_photo_to_both_at_once__one_answers_the_other_skips): the same photo
# handled by two workers at once deadlocks on PostgreSQL. Until it is fixed, photos are not sent to both at once.
AVOID_PHOTO_DEADLOCK = False
WORKER_CONTACTS = 3


def webhook_of(channel: ZaloChannel) -> str:
    return f"{channel.settings.public_url}/zalo/webhook"


async def test_two_workers__updates_alternate_and_one_goes_to_both__answered_as_by_one_worker(pg, tmp_path, caplog):
    """Two Service + ZaloChannel workers on one schema and one data folder, behind one webhook address (Zalo holds
    one secret); 3 contacts answer the whole report. Updates go to the workers in turn, and every third one to both
    at once: one reply per update, nothing stored twice, nothing lost."""
    caplog.set_level(logging.INFO, logger="bot.service")
    url, schema = pg
    db_a = await open_database(url, schema=schema)
    db_b = await open_database(url, schema=schema)
    platform = await ZaloPlatform().start()
    try:
        invites, deadline = await invite_contacts(db_a, WORKER_CONTACTS, NOW)
        contacts = make_contacts(invites, deadline, now=NOW)
        async with zalo_bot(db_a, platform, tmp_path, webhook=True) as a, \
                zalo_bot(db_b, platform, tmp_path, webhook=True) as b:
            statuses: list[int | None] = []

            async def deliver(update: dict, n: int) -> None:
                # With the one secret Zalo holds (the last setWebhook's): both workers must accept it.
                both = n % 3 == 0 and not (AVOID_PHOTO_DEADLOCK and update["event_name"].startswith("message.image"))
                targets = [a, b] if both else [(a, b)[n % 2]]
                statuses.extend(await asyncio.gather(*(platform.post(update, webhook_of(w)) for w in targets)))

            await asyncio.wait_for(asyncio.gather(*(answer_report(platform, c, patience=15, resend=False,
                                                                  deliver=deliver) for c in contacts)), 90)
            await a.queue.drain()
            await b.queue.drain()
        after = await stored(db_a, "zalo")
    finally:
        await platform.stop()
        await db_a.dispose()
        await db_b.dispose()
    at_commit = sum("skipped at commit" in r.getMessage() for r in caplog.records)
    print(f"two workers: {len(statuses)} deliveries, {len(statuses) - sum(len(c.acked) for c in contacts)} "
          f"duplicates, {at_commit} of them caught at commit (unique key), the others by the processed-event check")
    assert {200} == set(statuses)
    for c in contacts:
        assert c.expected.replies == [normalise(t) for t in platform.inbox[c.user]], c.unit
        assert item_counts(c.expected.answers) == item_counts(after.answers[c.unit]), c.unit
        assert c.expected.answers == after.answers[c.unit], c.unit
        assert (5, 1) == (after.photos[c.unit], after.versions[c.unit]), c.unit
    assert [] == [c.refused for c in contacts if c.refused]
    assert {i for c in contacts for i in c.acked.values()} == after.events


async def hold_report_then_release(db: Database, unit: str, handling: list[asyncio.Task]) -> None:
    """Hold a key-share lock on the unit's report (as any insert referencing it does) until every task in
    `handling` waits behind it or has finished, then let go: the events reach the report lock together."""
    async with db.engine.connect() as conn:
        transaction = await conn.begin()
        await conn.execute(sa.text("SELECT r.id FROM report r JOIN unit u ON u.id = r.unit_id WHERE u.name = :unit "
                                   "FOR KEY SHARE OF r"), {"unit": unit})
        pid = await conn.scalar(sa.text("SELECT pg_backend_pid()"))
        blocked = sa.text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            waiting = await conn.scalar(blocked, {"pid": pid})
            if waiting + sum(t.done() for t in handling) >= len(handling):
                break
            await asyncio.sleep(0.01)
        await transaction.rollback()


async def test_two_workers__same_photo_to_both_at_once__one_answers_the_other_skips(pg, tmp_path):
    url, schema = pg
    db_a = await open_database(url, schema=schema)
    db_b = await open_database(url, schema=schema)
    try:
        [(code, unit)], _ = await invite_contacts(db_a, 1, NOW)
        workers = [Service(db, FORM, tmp_path / "photos", lambda: NOW) for db in (db_a, db_b)]
        await workers[0].handle(Inbound("zalo", "u1", "u1", "bind", text=code))
        photo = Inbound("zalo", "u1", "u1", "same-photo", photo=portrait((10, 200, 30)))
        handling = [asyncio.create_task(w.handle(photo)) for w in workers]
        await hold_report_then_release(db_a, unit, handling)
        results = await asyncio.gather(*handling)
        after = await stored(db_a, "zalo")
    finally:
        await db_a.dispose()
        await db_b.dispose()
    assert [None] == [r for r in results if r is None]  # one of them skipped it: already processed
    assert [] == [r for r in results if r is not None and r[0].text == texts.SAVE_FAILED]
    assert 1 == after.photos[unit]


async def test_service_photo__two_contacts_of_one_unit_at_once__both_stored_without_save_failed(pg, tmp_path):
    url, schema = pg
    db = await open_database(url, schema=schema)
    try:
        [(code, unit)], _ = await invite_contacts(db, 1, NOW)
        service = Service(db, FORM, tmp_path / "photos", lambda: NOW)
        for user in ("u1", "u2"):
            await service.handle(Inbound("zalo", user, user, f"bind-{user}", text=code))
        handling = [asyncio.create_task(service.handle(Inbound("zalo", user, user, f"photo-{user}",
                                                               photo=portrait((n * 90, 60, 200)))))
                    for n, user in enumerate(("u1", "u2"))]
        await hold_report_then_release(db, unit, handling)
        results = await asyncio.gather(*handling)
        after = await stored(db, "zalo")
    finally:
        await db.dispose()
    assert [False, False] == [r[0].text == texts.SAVE_FAILED for r in results]
    assert 2 == after.photos[unit]
