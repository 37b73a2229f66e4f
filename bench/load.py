"""Load benchmark: simulated contacts fill in the whole report through fake Telegram and Zalo servers.

Each contact is bound by its own invite code (`/start CODE` on Telegram, the code as text on Zalo) and then
sends the sample report of tests/export_samples.py (FULL_REPORT: 48 answers with 5 staff photos, 4 plan items
and the submission): on Telegram, choices are pressed as inline buttons and photos are sent as photos (getFile,
then a download); on Zalo, everything is text and image URLs. The bot runs in its own process, exactly as
`hcc-bot run` wires it (service, channel, web server; not the reminder scheduler), against SQLite or
PostgreSQL; the fake server and the contacts run in this process and talk to it over HTTP on 127.0.0.1.
Telegram is polled (getUpdates answers batches, as without HCC_PUBLIC_URL); Zalo posts to the webhook.

Modes: closed loop (each contact answers the moment the bot's whole reply has arrived: throughput), paced
(each contact waits 2 s before every answer, ~N/2 answers/s offered, all contacts in lockstep so their photos
arrive together) and realistic (each wait drawn from an exponential distribution of mean 2 s, so contacts
drift apart as people do: latency as people feel it). Latency runs
from the update being offered (queued for getUpdates, or the webhook POST starting) to the arrival at the
fake of the reply's last message. Peak memory is the bot process's peak RSS (VmHWM). Each configuration
stops at a time cap: the rates are over the run, and `done` says how many contacts finished the report
in it (use --whole to let every contact finish). Before the runs, one contact goes through the script with
the bot in this process, to learn how many messages each answer's reply has (a long review comes in parts).

Baselines on the same fake servers, same contacts and same updates: a bare python-telegram-bot echo bot
(one catch-all handler that sends one message per update, concurrent_updates on) and a bare aiohttp Zalo
echo webhook. Goals (issue 7): our closed-loop answers/s >= 0.5 x the echo bot's; paced p95 <= 150 ms at
N = 200 on SQLite; issue 11: realistic-mode p95 <= 150 ms at N = 200 on SQLite.

    python bench/load.py                  # the whole matrix, ~15 minutes
    python bench/load.py --quick          # a ~2 minute smoke run (N = 50, short caps)
    python bench/load.py --channels telegram --databases sqlite --sizes 200 --whole
    python bench/load.py --profile ...    # also profile the bot process (cProfile), top functions printed
    python bench/load.py --channels zalo,telegram --databases sqlite --sizes 20 --modes closed --whole \
        --profile --breakdown-only        # issue 27: CPU, SQL statements and Python calls per answer, by part
    python bench/load.py --channels zalo --databases postgres --sizes 40 --modes closed --workers 1,2
                                          # one bot process against two behind one port (SO_REUSEPORT)

Besides rates and latencies each row has the bot's CPU per answer, SQL statements and commits per answer (counted
in the bot process from READY to the stop: use --whole so that they cover whole reports) and the load average
when the run started: on a machine shared with other work, CPU time and counts compare better than rates.

The machine is part of every figure: the first line names it, and `python speed` times a fixed pure-Python
loop so that runs on different machines can be compared. `other` is how many cores the rest of the machine
kept busy during a run (other people's tests, say); each run first waits a little for quiet (--wait-quiet).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import secrets
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from bench.fake_api import BOT_USER, TELEGRAM_TOKEN, ZALO_TOKEN, FakeTelegramAPI, FakeZaloAPI  # noqa: E402

POSTGRES_URL = os.environ.get("HCC_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
THINK_SECONDS = 2.0
SAVE_FAILED_TEXT = ""  # conversations.texts.SAVE_FAILED, set in main() (the driver imports the product late)
STALL_SECONDS = 60.0  # a reply that takes longer than this counts as lost; the contact stops
PHOTOS = 8  # distinct pre-made JPEGs, reused
GOAL_RATIO = 0.5
GOAL_P95_MS = 150.0
GOAL_WORKERS = 1.7  # issue 27: two workers answer >= 1.7 x one worker's closed-loop rate
GOAL_CPU_ZALO_MS = 4.0  # issue 27: CPU per answer on the Zalo path (on Telegram: at most the echo bot's)


# --- the script ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One answer of the script as the contact sends it, and how many messages the bot's reply has."""

    kind: str  # "text", "press" (a button's callback data) or "photo"
    value: str
    parts: int


def unit_code(n: int) -> str:
    return f"LT{n:05d}"


def unit_name(n: int) -> str:
    return f"Đơn vị thử {n:05d}"  # all the same length, so every contact's replies split alike


def make_jpegs(count: int = PHOTOS) -> list[bytes]:
    """600x800 ID photos as a phone sends them, each a different file: the astronaut of scikit-image's
    public-domain sample data (NASA) framed as an ID photo (tests/face_photos.py), lightly tinted. A real face,
    so that the badge framing's face search costs what it costs on a real badge photo (issue 27: synthetic
    pictures without a face cost the whole search every time; a real ID photo's large face is found at once)."""
    from tests.face_photos import id_photo, jpeg_of

    rng = random.Random(7)
    return [jpeg_of(id_photo((rng.randrange(256), rng.randrange(256), rng.randrange(256)))) for _ in range(count)]


def script_answers() -> list[str]:
    from tests.export_samples import FULL_REPORT

    return list(FULL_REPORT)


async def prepare_database(url: str, schema: str | None, contacts: int) -> list[str]:
    """Migrate, seed the campaign, replace the sample units by one unit per contact; one invite code each."""
    from bot.bootstrap import ensure_units_and_campaign
    from conversations.form import load_form
    from storage import queries as q
    from storage.db import open_database

    now = datetime.now(timezone.utc)
    db = await open_database(url, schema=schema)
    try:
        await ensure_units_and_campaign(db, load_form(), now)
        async with db.transaction() as s:
            for unit in await q.list_units(s):
                unit.active = False
            await q.upsert_units(s, [(unit_code(n), unit_name(n)) for n in range(contacts)], now=now)
            ids = {u.code: u.id for u in await q.list_units(s)}
            codes = []
            for n in range(contacts):
                invite = await q.create_invite(s, unit_id=ids[unit_code(n)], role="unit",
                                               expires_at=now + timedelta(days=7), max_uses=1, now=now)
                codes.append(invite.code)
        return codes
    finally:
        await db.dispose()


async def submitted_reports(url: str, schema: str | None) -> tuple[int, int]:
    """(submitted reports, stored answers) after a run."""
    import sqlalchemy as sa

    from storage.db import open_database
    from storage.models import Answer, Report

    db = await open_database(url, schema=schema, migrate=False)
    try:
        async with db.transaction() as s:
            submitted = await s.scalar(sa.select(sa.func.count()).select_from(Report)
                                       .where(Report.status.in_(("submitted", "submitted_late"))))
            answers = await s.scalar(sa.select(sa.func.count()).select_from(Answer))
        return int(submitted or 0), int(answers or 0)
    finally:
        await db.dispose()


async def drop_schema(url: str, schema: str) -> None:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    from storage.db import normalize_url

    engine = create_async_engine(normalize_url(url))
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- updates as the platforms send them -----------------------------------------------------------


def tg_user(chat: int) -> dict:
    return {"id": chat, "is_bot": False, "first_name": "Lan", "last_name": "Nguyễn", "language_code": "vi"}


def tg_update(fake: FakeTelegramAPI, chat: int, action: Action, keyboard: dict | None, photo: int) -> dict:
    """The Telegram update for one action (`keyboard`: the bot's message whose button is pressed)."""
    update_id = fake.next_update_id()
    if action.kind == "press":
        message = keyboard or {"message_id": 1, "date": int(time.time()), "from": BOT_USER,
                               "chat": {"id": chat, "type": "private"}, "text": "…",
                               "reply_markup": {"inline_keyboard": [[{"text": "…", "callback_data": action.value}]]}}
        return {"update_id": update_id, "callback_query": {"id": str(update_id), "from": tg_user(chat),
                                                           "chat_instance": str(chat), "data": action.value,
                                                           "message": message}}
    message: dict[str, Any] = {"message_id": update_id, "date": int(time.time()), "from": tg_user(chat),
                               "chat": {"id": chat, "type": "private", "first_name": "Lan"}}
    if action.kind == "photo":
        size = len(fake.files[f"p{photo}"])
        message["photo"] = [
            {"file_id": f"t{photo}", "file_unique_id": f"ut{photo}", "width": 68, "height": 90, "file_size": 900},
            {"file_id": f"p{photo}", "file_unique_id": f"up{photo}", "width": 600, "height": 800, "file_size": size},
        ]
    else:
        message["text"] = action.value
        if action.value.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(action.value.split()[0])}]
    return {"update_id": update_id, "message": message}


def zalo_update(fake: FakeZaloAPI, user: str, action: Action, photo: int) -> dict:
    body: dict[str, Any] = {"from": {"id": user, "display_name": "Nguyễn Thị Lan", "is_bot": False},
                            "chat": {"id": user, "chat_type": "PRIVATE"}, "message_id": fake.next_message_id(),
                            "date": int(time.time() * 1000)}
    if action.kind == "photo":
        body["photo_url"] = f"{fake.url}/files/p{photo}.jpg"
        return {"event_name": "message.image.received", "message": body}
    body["text"] = action.value
    return {"event_name": "message.text.received", "message": body}


def tg_files(jpegs: list[bytes]) -> dict[str, bytes]:
    return {f"p{n}": data for n, data in enumerate(jpegs)}  # thumbnails ("t<n>") are deliberately not served


def zalo_files(jpegs: list[bytes]) -> dict[str, bytes]:
    return {f"p{n}.jpg": data for n, data in enumerate(jpegs)}


# --- calibration: one contact, the bot in this process, exact message counts ----------------------


def pick_button(keyboard: dict | None, answer: str) -> str | None:
    """The callback data of the button the answer means: its label, or its 1-based number."""
    from conversations.parsers import fold

    if keyboard is None:
        return None
    buttons = [b for row in keyboard["reply_markup"]["inline_keyboard"] for b in row]
    for button in buttons:
        if fold(button["text"]) == fold(answer):
            return button["callback_data"]
    if answer.isdigit() and 1 <= int(answer) <= len(buttons):
        return buttons[int(answer) - 1]["callback_data"]
    return None


async def calibrate(channel_name: str, jpegs: list[bytes], answers: list[str]) -> tuple[list[Action], list[str]]:
    """Run one contact through the script with the real channel in this process; actions and last replies."""
    from bot.runner import make_channels
    from bot.service import Service
    from bot.settings import Settings
    from bot.web import DownloadLinks, build_app, load_or_create_key, start_app
    from conversations.form import DEFAULT_FORM, load_form
    from storage.db import open_database

    received: list[tuple[Any, dict]] = []
    arrived = asyncio.Event()

    def on_message(chat: Any, message: dict, at: float) -> None:
        received.append((chat, message))
        arrived.set()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'calibration.db'}"
        code = (await prepare_database(url, None, 1))[0]
        db = await open_database(url)
        telegram = channel_name == "telegram"
        fake = (FakeTelegramAPI(tg_files(jpegs), on_message) if telegram else FakeZaloAPI(zalo_files(jpegs), on_message))
        await fake.start()
        port = free_port()
        settings = Settings(database_url=url, data_dir=Path(tmp), form_path=DEFAULT_FORM,
                            telegram_token=TELEGRAM_TOKEN if telegram else None, telegram_api_url=fake.url,
                            zalo_token=None if telegram else ZALO_TOKEN, zalo_api_url=fake.url,
                            public_url=None if telegram else f"http://127.0.0.1:{port}", listen_port=port)
        service = Service(db, load_form(), settings.photos_dir, export_dir=Path(tmp) / "exports")
        links = DownloadLinks(load_or_create_key(settings.data_dir), settings.data_dir / "exports")
        channel = make_channels(settings, service, lambda message: None, links)[0]
        app = build_app(links)
        channel.add_routes(app)
        runner = await start_app(app, "127.0.0.1", port)
        await channel.start()
        actions: list[Action] = []
        replies: list[str] = []
        keyboard = None
        chat: Any = 777 if telegram else "calibration0001"
        try:
            for n, answer in enumerate([f"/start {code}" if telegram else code, *answers]):
                if answer == "PHOTO":
                    kind, value = "photo", ""
                else:
                    data = pick_button(keyboard, answer) if telegram else None
                    kind, value = ("press", data) if data is not None else ("text", answer)
                before = len(received)
                arrived.clear()
                action = Action(kind, value, 0)
                if telegram:
                    fake.offer(tg_update(fake, chat, action, keyboard, n % PHOTOS))
                else:
                    await fake.deliver(zalo_update(fake, chat, action, n % PHOTOS))
                while len(received) == before:
                    await asyncio.wait_for(arrived.wait(), 30)
                    arrived.clear()
                await channel.queue.drain()  # one update in flight: its whole reply is out when the chat is idle
                mine = [m for c, m in received[before:] if c == chat]
                keyboard = next((m for m in reversed(mine) if "reply_markup" in m), None)
                actions.append(Action(kind, value, len(mine)))
                replies.append("\n".join(m["text"] for m in mine))
        finally:
            await channel.stop()
            await service.close()
            await runner.cleanup()
            await fake.stop()
            await db.dispose()
        submitted, _ = await submitted_reports(url, None)
    if submitted != 1:
        raise SystemExit(f"calibration on {channel_name}: the script did not submit the report; last replies:\n"
                         + "\n---\n".join(r[:400] for r in replies[-4:]))
    return actions, replies


# --- the bot process ------------------------------------------------------------------------------


async def serve(args: argparse.Namespace) -> None:
    """Run one bot (ours or an echo baseline) until SIGTERM; print READY once it answers."""
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)  # an experiment: how long a thread waits for the GIL
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile()
    if args.serve == "echo":
        started = await (serve_echo_telegram(args) if args.channel == "telegram" else serve_echo_zalo(args))
    else:
        started = await serve_ours(args)
    cleanup = started
    counts = STATEMENTS.copy()
    print("READY", flush=True)
    if profiler is not None:
        profiler.enable()
    await stop.wait()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.cprofile)
    if args.serve == "ours":  # what the database was asked between READY and the stop (read by the driver)
        (Path(args.data) / f"statements-{os.getpid()}.json").write_text(json.dumps({k: STATEMENTS[k] - counts[k] for k in counts}))
    await cleanup()


STATEMENTS = {"statements": 0, "commits": 0}  # counted in the bot process (see count_statements)


def count_statements(engine) -> None:
    """Count the SQL statements (BEGIN and COMMIT excluded) and the commits the bot's engine runs."""
    from sqlalchemy import event

    def on_statement(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):  # the bot sends SQLite's BEGIN straight to the driver, unseen here
            STATEMENTS["statements"] += 1

    def on_commit(*_: Any) -> None:
        STATEMENTS["commits"] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
    event.listen(engine.sync_engine, "commit", on_commit)


async def serve_ours(args: argparse.Namespace):
    """The service, the channel and the web server wired as bot/runner.py's run_bot does, minus the reminder
    scheduler (its real clock could fire a slot in the middle of a run)."""
    from bot import photos
    from bot.runner import make_channels
    from bot.service import Service
    from bot.settings import Settings
    from bot.web import DownloadLinks, build_app, load_or_create_key, start_app
    from conversations.form import DEFAULT_FORM, load_form
    from storage.db import open_database

    telegram = args.channel == "telegram"
    settings = Settings(database_url=args.database, data_dir=Path(args.data), form_path=DEFAULT_FORM,
                        telegram_token=TELEGRAM_TOKEN if telegram else None, telegram_api_url=args.api,
                        zalo_token=None if telegram else ZALO_TOKEN, zalo_api_url=args.api,
                        public_url=None if telegram else f"http://127.0.0.1:{args.port}",
                        listen_host="127.0.0.1", listen_port=args.port)
    db = await open_database(args.database, schema=args.schema or None)
    count_statements(db.engine)
    service = Service(db, load_form(settings.form_path), settings.photos_dir, export_dir=settings.data_dir / "exports")
    photos.warm_up()  # as bot/runner.py does
    links = DownloadLinks(load_or_create_key(settings.data_dir), settings.data_dir / "exports")

    def on_fatal(message: str) -> None:
        print(f"fatal: {message}", file=sys.stderr, flush=True)

    channels = make_channels(settings, service, on_fatal, links)
    app = build_app(links)
    for channel in channels:
        channel.add_routes(app)
    shared = {"reuse_port": True} if args.reuse_port else {}  # (so that the bench also runs older code)
    runner = await start_app(app, settings.listen_host, settings.listen_port, **shared)
    for channel in channels:
        await channel.start()

    async def cleanup() -> None:
        for channel in reversed(channels):
            await channel.stop()
        await service.jobs.drain()
        await service.close()
        await runner.cleanup()
        await db.dispose()

    return cleanup


async def serve_echo_telegram(args: argparse.Namespace):
    """A bare PTB bot: one catch-all handler, one sendMessage per update (and the answer to a button press)."""
    import logging

    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler

    for name in ("httpx", "telegram.Bot", "telegram.ext.ExtBot"):
        logging.getLogger(name).setLevel(logging.WARNING)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer()
            text = update.callback_query.data or "…"
        elif update.message is not None:
            text = update.message.text or "ảnh"
        else:
            return
        await context.bot.send_message(update.effective_chat.id, text)

    app = (ApplicationBuilder().token(TELEGRAM_TOKEN).base_url(f"{args.api}/bot").base_file_url(f"{args.api}/file/bot")
           .job_queue(None).concurrent_updates(not args.sequential).build())
    app.add_handler(TypeHandler(Update, echo))
    await app.initialize()
    await app.updater.start_polling(allowed_updates=["message", "callback_query"])
    await app.start()

    async def cleanup() -> None:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    return cleanup


async def serve_echo_zalo(args: argparse.Namespace):
    """A bare aiohttp Zalo webhook: answer 200 at once, send one message per update in the background."""
    import hmac

    import aiohttp
    from aiohttp import web

    session = aiohttp.ClientSession()
    base = f"{args.api}/bot{ZALO_TOKEN}"
    secret = secrets.token_urlsafe(32)
    tasks: set[asyncio.Task] = set()

    async def send(chat_id: str, text: str) -> None:
        async with session.post(f"{base}/sendMessage", json={"chat_id": chat_id, "text": text}) as response:
            await response.json(content_type=None)

    async def webhook(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get("X-Bot-Api-Secret-Token", "").encode(), secret.encode()):
            return web.json_response({"ok": False}, status=403)
        message = (await request.json())["message"]
        task = asyncio.create_task(send(str(message["chat"]["id"]), message.get("text") or "ảnh"))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/zalo/webhook", webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    async with session.post(f"{base}/getMe", json={}) as response:
        await response.json()
    async with session.post(f"{base}/setWebhook", json={"url": f"http://127.0.0.1:{args.port}/zalo/webhook",
                                                        "secret_token": secret}) as response:
        await response.json()

    async def cleanup() -> None:
        await asyncio.gather(*tasks, return_exceptions=True)
        await session.close()
        await runner.cleanup()

    return cleanup


# --- the driver ---------------------------------------------------------------------------------


@dataclass
class Config:
    channel: str  # telegram | zalo
    bot: str  # ours | echo | echo-seq
    database: str  # sqlite | postgres | - (echo)
    mode: str  # closed | paced | realistic
    contacts: int
    cap: float
    workers: int = 1  # bot processes behind one address (PostgreSQL, Zalo webhook)


@dataclass
class Result:
    config: Config
    answers: int = 0
    seconds: float = 0.0
    rate: float = 0.0
    p50: float = float("nan")
    p95: float = float("nan")
    p99: float = float("nan")
    done: int = 0
    submitted: int | None = None
    peak_rss_mb: float = 0.0
    bot_cpu: float = 0.0
    driver_cpu: float = 0.0
    pg_cpu: float = 0.0
    other_cpu: float = 0.0  # cores busy with anything else on the machine (other sessions' work)
    bot_cpu_ms: float = float("nan")  # bot process CPU per answer (its photo process included)
    photo_cpu_ms: float = float("nan")  # of which the photo process's (the face search of badge photos)
    p95_photo: float = float("nan")  # p95 of the photo answers alone
    p95_other: float = float("nan")  # p95 of the texts and button presses
    stalled: int = 0
    errors: dict = field(default_factory=dict)
    bot_log_problems: int = 0
    bot_log_kinds: list = field(default_factory=list)
    mean_batch: float = 0.0
    other_before: float = 0.0  # cores busy elsewhere just before the run (see --wait-quiet)
    statements: float = float("nan")  # SQL statements per answer (BEGIN/COMMIT excluded), from READY to the stop
    commits: float = float("nan")  # transactions committed per answer
    load_before: str = ""  # the machine's load average (1, 5, 15 min) when the run started


class Chat:
    """One simulated contact's view of its chat: the reply it waits for."""

    __slots__ = ("expect", "got", "future", "keyboard", "done_at", "refused")

    def __init__(self) -> None:
        self.expect = 0
        self.got = 0
        self.refused = False  # the reply said the bot cannot save right now
        self.future: asyncio.Future | None = None
        self.keyboard: dict | None = None
        self.done_at = 0.0


class Load:
    """The contacts of one run and what they measured."""

    def __init__(self, config: Config, actions: list[Action], think: float, seed: int):
        self.config = config
        self.actions = actions
        self.think = think
        self.random = random.Random(seed)
        self.chats: dict[Any, Chat] = {}
        self.latencies: list[float] = []
        self.photo_latencies: list[float] = []
        self.other_latencies: list[float] = []  # texts and button presses
        self.answers = 0
        self.done = 0
        self.stalled = 0
        self.unexpected = 0
        self.save_failed = 0  # replies saying "cannot save right now": not counted as answers
        self.closed = False  # past the cap: the replies still in flight are nobody's
        self.fake: FakeTelegramAPI | FakeZaloAPI | None = None
        self.echo = config.bot != "ours"

    def on_message(self, chat: Any, message: dict, at: float) -> None:
        state = self.chats.get(chat)
        if state is None or state.future is None or state.future.done():
            self.unexpected += not self.closed
            return
        state.got += 1
        if SAVE_FAILED_TEXT and message.get("text", "").startswith(SAVE_FAILED_TEXT[:60]):
            state.refused = True
        if "reply_markup" in message:
            state.keyboard = message
        if state.got >= state.expect or state.refused:
            state.done_at = at
            state.future.set_result(None)

    async def contact(self, n: int, codes: list[str]) -> None:
        telegram = self.config.channel == "telegram"
        chat: Any = 5_000_000 + n if telegram else f"{n:020x}"
        state = self.chats[chat] = Chat()
        loop = asyncio.get_running_loop()
        paced = self.config.mode in ("paced", "realistic")
        realistic = self.config.mode == "realistic"
        for k, action in enumerate(self.actions):
            if k == 0:
                action = Action("text", f"/start {codes[n]}" if telegram else codes[n], action.parts)
            if paced and k == 0:
                await asyncio.sleep(self.random.uniform(0, self.think))
            elif realistic:
                await asyncio.sleep(self.random.expovariate(1 / self.think))  # people think for varying times
            elif paced:
                await asyncio.sleep(self.think)
            state.expect = 1 if self.echo else action.parts
            state.got = 0
            state.refused = False
            state.future = loop.create_future()
            photo = (n + k) % PHOTOS
            if telegram:
                update = tg_update(self.fake, chat, action, None if self.echo else state.keyboard, photo)
                offered = time.perf_counter()
                self.fake.offer(update)
            else:
                update = zalo_update(self.fake, chat, action, photo)
                offered = time.perf_counter()
                await self.fake.deliver(update)
            try:
                async with asyncio.timeout(STALL_SECONDS):
                    await state.future
            except TimeoutError:
                self.stalled += 1
                return
            if state.refused:  # the answer was not stored: the person would send it again later; this one stops
                self.save_failed += 1
                return
            self.latencies.append(state.done_at - offered)
            (self.photo_latencies if action.kind == "photo" else self.other_latencies).append(state.done_at - offered)
            self.answers += 1
        self.done += 1


def proc_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def tree_cpu_seconds(pid: int) -> float:
    """CPU of the process and of its live children (the bot's photo process)."""
    return proc_cpu_seconds(pid) + children_cpu_seconds(pid)


def children_cpu_seconds(pid: int) -> float:
    """CPU of the live children of a process (the bot's photo process: decoding, the face search, encoding)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    total += proc_cpu_seconds(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return total


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def postgres_cpu_seconds() -> float:
    """CPU time of every process named postgres (the server is on this machine and shares its 2 cores)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += proc_cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


async def wait_for_quiet(limit_seconds: float, threshold: float = 0.3) -> float:
    """Wait (at most `limit_seconds`) until the rest of the machine keeps less than `threshold` cores busy for a
    second; the last measured share. Other work on a 2-core machine would skew every figure."""
    deadline = time.monotonic() + limit_seconds
    while True:
        busy, own = machine_busy_seconds(), time.process_time()
        await asyncio.sleep(1.0)
        other = machine_busy_seconds() - busy - (time.process_time() - own)
        if other < threshold or time.monotonic() >= deadline:
            return other


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def start_bot(config: Config, *, url: str, schema: str | None, api: str, data: Path, port: int,
                    log: Path, cprofile: Path | None, switch_interval: float = 0.0,
                    reuse_port: bool = False) -> asyncio.subprocess.Process:
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", "echo" if config.bot != "ours" else "ours",
               "--channel", config.channel, "--database", url, "--schema", schema or "", "--api", api,
               "--data", str(data), "--port", str(port)]
    if config.bot == "echo-seq":
        command.append("--sequential")
    if switch_interval:
        command += ["--switch-interval", str(switch_interval)]
    if cprofile is not None:
        command += ["--cprofile", str(cprofile)]
    if reuse_port:
        command.append("--reuse-port")
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                   stderr=log.open("wb"), cwd=str(ROOT))
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
    except asyncio.TimeoutError:
        line = b""
    if line.strip() != b"READY":
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise SystemExit(f"the bot did not start ({config}):\n{log.read_text()[-3000:]}")
    return process


async def stop_bot(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL after a few seconds: the figures are taken; the backlog left at the cap need not drain."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 5)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def run_config(config: Config, actions: list[Action], jpegs: list[bytes], args: argparse.Namespace,
                     profile_dir: Path | None) -> Result:
    load = Load(config, actions, args.think, seed=config.contacts)
    ours = config.bot == "ours"
    other_before = await wait_for_quiet(args.wait_quiet) if args.wait_quiet > 0 else 0.0
    load_average = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with tempfile.TemporaryDirectory(prefix="hcc-load-") as tmp:
        tmp_path = Path(tmp)
        schema = f"load_{secrets.token_hex(4)}" if config.database == "postgres" else None
        url = args.postgres if config.database == "postgres" else f"sqlite:///{tmp_path / 'hcc.db'}"
        try:
            codes = await prepare_database(url, schema, config.contacts) if ours else ["x"] * config.contacts
            if config.channel == "telegram":
                fake = FakeTelegramAPI(tg_files(jpegs), load.on_message)
            else:
                fake = FakeZaloAPI(zalo_files(jpegs), load.on_message)
            load.fake = fake
            await fake.start()
            logs = [tmp_path / f"bot-{n}.log" for n in range(config.workers)]
            cprofile = None
            if profile_dir is not None and ours and config.workers == 1:
                cprofile = profile_dir / (f"{config.channel}-{config.database}-{config.mode}-{config.contacts}"
                                          ".pstats")
            port = free_port()
            processes = []
            for log in logs:  # several workers: one address (SO_REUSEPORT), as `hcc-bot run --workers N`
                processes.append(await start_bot(config, url=url, schema=schema, api=fake.url, data=tmp_path,
                                                 port=port, log=log, cprofile=cprofile,
                                                 switch_interval=args.bot_switch_interval,
                                                 reuse_port=config.workers > 1))
            try:
                bot_cpu = sum(tree_cpu_seconds(p.pid) for p in processes)
                photo_cpu = sum(children_cpu_seconds(p.pid) for p in processes)
                pg_cpu, driver_cpu = postgres_cpu_seconds(), time.process_time()
                busy = machine_busy_seconds()
                started = time.perf_counter()
                tasks = [asyncio.create_task(load.contact(n, codes)) for n in range(config.contacts)]
                _, pending = await asyncio.wait(tasks, timeout=config.cap)
                seconds = time.perf_counter() - started
                load.closed = True
                answers = load.answers
                bot_cpu = sum(tree_cpu_seconds(p.pid) for p in processes) - bot_cpu
                photo_cpu = sum(children_cpu_seconds(p.pid) for p in processes) - photo_cpu
                pg_cpu = postgres_cpu_seconds() - pg_cpu
                driver_cpu = time.process_time() - driver_cpu
                busy = machine_busy_seconds() - busy
                peak = max(peak_rss_mb(p.pid) for p in processes)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            finally:
                await asyncio.gather(*(stop_bot(p) for p in processes))
                await fake.stop()
            text = "\n".join(log.read_text(errors="replace") for log in logs)
            bad = [line for line in text.splitlines() if " ERROR " in line or line.startswith("Traceback")]
            problems = len(bad)
            kinds = sorted({line.split(" ERROR ", 1)[-1][:90] for line in bad})[:3]
            if problems and args.show_bot_log:
                print(f"--- bot log ({config}) ---\n{text[-4000:]}", flush=True)
            submitted = (await submitted_reports(url, schema))[0] if ours else None
            counted: dict[str, float] = {}
            for path in tmp_path.glob("statements-*.json") if ours and answers else []:
                for name, value in json.loads(path.read_text()).items():
                    counted[name] = counted.get(name, 0) + value
        finally:
            if schema is not None:
                await drop_schema(url, schema)
    errors = dict(fake.errors)
    if load.save_failed:
        errors["'cannot save' replies"] = load.save_failed
    if load.unexpected:
        errors["messages nobody waited for"] = load.unexpected
    batches = getattr(fake, "batches", [])
    return Result(config, answers=answers, seconds=seconds, rate=answers / seconds if seconds else 0.0,
                  p50=1000 * percentile(load.latencies, 0.50), p95=1000 * percentile(load.latencies, 0.95),
                  p99=1000 * percentile(load.latencies, 0.99), done=load.done, submitted=submitted,
                  peak_rss_mb=peak, bot_cpu=bot_cpu / seconds, driver_cpu=driver_cpu / seconds, pg_cpu=pg_cpu / seconds,
                  other_cpu=max(0.0, busy - bot_cpu - driver_cpu - pg_cpu) / seconds,
                  bot_cpu_ms=1000 * bot_cpu / answers if answers else float("nan"),
                  photo_cpu_ms=1000 * photo_cpu / answers if answers else float("nan"),
                  stalled=load.stalled, errors=errors, bot_log_problems=problems,
                  mean_batch=sum(batches) / len(batches) if batches else 0.0, other_before=other_before,
                  bot_log_kinds=kinds, p95_photo=1000 * percentile(load.photo_latencies, 0.95),
                  p95_other=1000 * percentile(load.other_latencies, 0.95),
                  statements=counted.get("statements", float("nan")) / (answers or 1),
                  commits=counted.get("commits", float("nan")) / (answers or 1), load_before=load_average)


# --- reporting ----------------------------------------------------------------------------------


def python_speed_ms() -> float:
    """Milliseconds for a fixed pure-Python loop (2 million additions), best of 3: lower is a faster core."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for n in range(2_000_000):
            total += n
        best = min(best, time.perf_counter() - started)
    return best * 1000


def machine() -> dict[str, str]:
    import aiohttp
    import sqlalchemy
    import telegram

    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError, IndexError, ValueError):
        memory = f"{int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024:.0f} GiB"
    return {"cpu": model, "cores": str(os.cpu_count()), "memory": memory,
            "python": platform.python_version(), "python speed": f"{python_speed_ms():.0f} ms",
            "python-telegram-bot": telegram.__version__,
            "aiohttp": aiohttp.__version__, "SQLAlchemy": sqlalchemy.__version__, "SQLite": sqlite3.sqlite_version,
            "os": platform.platform()}


async def postgres_version(url: str) -> str:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    from storage.db import normalize_url

    engine = create_async_engine(normalize_url(url))
    try:
        async with engine.connect() as conn:
            return str(await conn.scalar(sa.text("SHOW server_version")))
    except Exception as exc:  # noqa: BLE001 - only shown
        return f"unreachable ({type(exc).__name__})"
    finally:
        await engine.dispose()


def ms(value: float) -> str:
    return "-" if value != value else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def print_header() -> None:
    print(f"{'channel':8} {'bot':8} {'database':8} {'mode':9} {'N':>5} {'cap s':>5} {'secs':>5} {'answers':>7} "
          f"{'ans/s':>6} {'p50 ms':>6} {'p95 ms':>6} {'p99 ms':>6} {'done':>5} {'subm.':>5} {'RSS MB':>6} "
          f"{'bot CPU':>7} {'ms/ans':>6} {'photo':>5} {'SQL/ans':>7} {'tx/ans':>6} {'drv CPU':>7} {'pg CPU':>6} {'other':>5} "
          f"{'load avg':>14}  problems", flush=True)


def print_row(r: Result) -> None:
    c = r.config
    problems = dict(r.errors)
    if r.stalled:
        problems["stalled contacts"] = r.stalled
    if r.bot_log_problems:
        problems["bot log errors"] = f"{r.bot_log_problems}: " + " | ".join(r.bot_log_kinds)
    bot = c.bot if c.workers == 1 else f"{c.bot}x{c.workers}"
    print(f"{c.channel:8} {bot:8} {c.database:8} {c.mode:9} {c.contacts:5} {c.cap:5.0f} {r.seconds:5.1f} "
          f"{r.answers:7} {r.rate:6.0f} {ms(r.p50):>6} {ms(r.p95):>6} {ms(r.p99):>6} {r.done:5} "
          f"{'-' if r.submitted is None else r.submitted:>5} {r.peak_rss_mb:6.0f} {r.bot_cpu:7.0%} {ms(r.bot_cpu_ms):>6} "
          f"{ms(r.photo_cpu_ms):>5} "
          f"{'-' if r.statements != r.statements else f'{r.statements:.1f}':>7} "
          f"{'-' if r.commits != r.commits else f'{r.commits:.2f}':>6} "
          f"{r.driver_cpu:7.0%} {r.pg_cpu:6.0%} {r.other_cpu:5.0%} {r.load_before:>14}  {problems or ''}", flush=True)


def goals(results: list[Result]) -> list[str]:
    lines = []
    echo = {(r.config.channel, r.config.contacts): r for r in results
            if r.config.bot == "echo" and r.config.mode == "closed"}
    for r in results:
        c = r.config
        if c.bot == "ours" and c.mode == "closed" and (c.channel, c.contacts) in echo:
            base = echo[(c.channel, c.contacts)]
            ratio = r.rate / base.rate if base.rate else float("nan")
            cpu_ratio = base.bot_cpu_ms / r.bot_cpu_ms if r.bot_cpu_ms else float("nan")
            lines.append(f"{c.channel:8} {c.database:8} N={c.contacts:<5} closed loop: {r.rate:.0f} / echo "
                         f"{base.rate:.0f} answers/s = {ratio:.2f}   (goal >= {GOAL_RATIO}: "
                         f"{'met' if ratio >= GOAL_RATIO else 'NOT met'});   bot CPU per answer: echo "
                         f"{base.bot_cpu_ms:.1f} ms / ours {r.bot_cpu_ms:.1f} ms = {cpu_ratio:.2f}")
            goal = GOAL_CPU_ZALO_MS if c.channel == "zalo" else base.bot_cpu_ms
            alone = r.bot_cpu_ms - r.photo_cpu_ms  # the baselines have no photo process: compared without it too
            lines.append(f"{'':8} {'':8} {'':7} CPU per answer {r.bot_cpu_ms:.1f} ms (the photo process "
                         f"{r.photo_cpu_ms:.1f} ms of it, the bot {alone:.1f} ms)   (issue 27 goal <= {goal:.1f} ms: "
                         f"{'met' if r.bot_cpu_ms <= goal else 'NOT met'}; the bot alone: "
                         f"{'met' if alone <= goal else 'NOT met'})")
    single = {(r.config.channel, r.config.database, r.config.mode, r.config.contacts): r for r in results
              if r.config.bot == "ours" and r.config.workers == 1}
    for r in results:
        c = r.config
        one = single.get((c.channel, c.database, c.mode, c.contacts))
        if c.bot == "ours" and c.workers > 1 and c.mode == "closed" and one is not None and one.rate:
            ratio = r.rate / one.rate
            lines.append(f"{c.channel:8} {c.database:8} N={c.contacts:<5} closed loop, {c.workers} workers: {r.rate:.0f} / "
                         f"one worker {one.rate:.0f} answers/s = {ratio:.2f}   (goal >= {GOAL_WORKERS}: "
                         f"{'met' if ratio >= GOAL_WORKERS else 'NOT met'});   bot CPU per answer {r.bot_cpu_ms:.1f} / "
                         f"{one.bot_cpu_ms:.1f} ms; contacts done {r.done}, reports submitted {r.submitted}, "
                         f"stalled {r.stalled}, problems {len(r.errors) + r.bot_log_problems}")
            cores = os.cpu_count() or 1
            busy = one.bot_cpu + one.driver_cpu + one.pg_cpu + one.other_cpu  # in cores, during the one-worker run
            if busy > 0:
                lines.append(f"{'':8} {'':8} {'':7} this machine: {cores} cores, {busy:.2f} of them busy in the one-worker "
                             f"run: at most about {cores / busy:.2f}x from more workers here")
    for r in results:
        c = r.config
        if c.bot == "ours" and c.mode in ("paced", "realistic") and c.contacts == 200 and c.database == "sqlite":
            lines.append(f"{c.channel:8} sqlite   N=200   {c.mode} p95: {r.p95:.0f} ms   (goal <= {GOAL_P95_MS:.0f} ms: "
                         f"{'met' if r.p95 <= GOAL_P95_MS else 'NOT met'});   texts and buttons {r.p95_other:.0f} ms, "
                         f"photos {r.p95_photo:.0f} ms")
    return lines


# Own time of every function, summed by where its code lives: (label, path fragments or C-function names).
PROFILE_PARTS = [
    ("SQLAlchemy ORM (loads, flushes, identity map)", ("sqlalchemy/orm/",)),
    ("SQLAlchemy Core (statements, cache keys, results)", ("sqlalchemy/",)),
    ("database driver (sqlite3, asyncpg)", ("sqlite3.", "sqlite_inline", "asyncpg", "aiosqlite")),
    ("greenlet and asyncio glue", ("greenlet", "asyncio/", "_asyncio", "select.epoll")),
    ("aiohttp, sockets (HTTP in and out)", ("aiohttp/", "multidict", "yarl/", "_socket", "ssl")),
    ("python-telegram-bot", ("telegram/",)),
    ("JSON", ("json/", "_json")),
    ("logging", ("logging/",)),
    ("the engine (conversations/)", ("conversations/",)),
    ("bot/ (service, channels, inbox)", ("/bot/",)),
    ("storage/ (queries)", ("/storage/",)),
]
# Cumulative time of the steps of an answer: (label, file fragment, function name).
PROFILE_STEPS = [
    ("service.handle (the event's transaction)", "bot/service.py", "handle"),
    ("  engine.step", "conversations/engine.py", "step"),
    ("  inbox settle (done mark)", "storage/inbox.py", "settle"),
    ("  commit (flush + COMMIT)", "storage/db.py", "transaction"),
    ("photo_kind.photo_plan (is a photo taken, and how)", "bot/photo_kind.py", "photo_plan"),
    ("inbox accept (write before the 200)", "bot/inbox.py", "_write_accepted"),
    ("inbox claim", "bot/inbox.py", "_claim"),
    ("inbox done marks", "bot/inbox.py", "_flush_finished"),
    ("send the replies (Zalo)", "bot/channels/zalo.py", "send_replies"),
    ("send the replies (Telegram)", "bot/channels/telegram_send.py", "send_replies"),
    ("Zalo webhook handler", "bot/channels/zalo.py", "webhook"),
    ("Telegram getUpdates loop", "bot/channels/telegram.py", "poll_forever"),
    ("sent-replies flush", "bot/service.py", "_flush_batch"),
]


def profile_breakdown(path: Path, answers: int) -> list[tuple[str, float, float]]:
    """(label, ms per answer, share) by PROFILE_PARTS, then the steps' cumulative ms per answer (share nan)."""
    import pstats

    stats = pstats.Stats(str(path)).stats  # {(file, line, func): (cc, nc, tottime, cumtime, callers)}
    total = sum(v[2] for v in stats.values())
    parts = {label: 0.0 for label, _ in PROFILE_PARTS}
    rest = 0.0
    for (file, _, func), (_, _, own, _, _) in stats.items():
        where = file if file != "~" else func
        for label, fragments in PROFILE_PARTS:
            if any(fragment in where for fragment in fragments):
                parts[label] += own
                break
        else:
            rest += own
    rows = [(label, 1000 * own / answers, own / total) for label, own in parts.items()]
    rows.append(("everything else (stdlib, Pillow hand-off, ...)", 1000 * rest / answers, rest / total))
    rows.append(("total (under cProfile, which inflates it)", 1000 * total / answers, 1.0))
    calls = sum(v[1] for v in stats.values())  # Python and C calls: a count that contention does not change
    rows.append(("Python function calls per answer (a count, not ms)", calls / answers, float("nan")))
    for label, fragment, name in PROFILE_STEPS:
        cumulative = max((v[3] for (file, _, func), v in stats.items() if func == name and fragment in file),
                         default=0.0)
        rows.append((label, 1000 * cumulative / answers, float("nan")))
    return rows


def print_breakdown(path: Path, answers: int) -> None:
    print(f"\n--- where the bot's CPU went: {path.name}, {answers} answers, ms per answer under cProfile ---")
    for label, per_answer, share in profile_breakdown(path, answers):
        print(f"  {label:55} {per_answer:7.2f} ms  {'' if share != share else f'{share:5.1%}'}")


def print_profile(path: Path, limit: int = 30) -> None:
    import pstats

    print(f"\n--- profile of the bot process: {path.name} (top {limit} by own time) ---")
    stats = pstats.Stats(str(path), stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(limit)
    print(f"--- {path.name}: top {limit} by cumulative time ---")
    stats.sort_stats("cumulative").print_stats(limit)


# --- main ---------------------------------------------------------------------------------------


def configurations(args: argparse.Namespace) -> list[Config]:
    configs = []
    for channel in args.channels:
        for n in args.sizes:
            if not args.no_echo:
                configs.append(Config(channel, "echo", "-", "closed", n, args.cap_echo))
        if not args.no_echo and "paced" in args.modes:
            paced_n = args.echo_paced if args.echo_paced in args.sizes else args.sizes[0]
            configs.append(Config(channel, "echo", "-", "paced", paced_n, args.cap_paced))
        if args.echo_sequential and channel == "telegram":
            for n in args.sizes:
                configs.append(Config(channel, "echo-seq", "-", "closed", n, args.cap_echo))
        for database in args.databases:
            for n in args.sizes:
                for mode in args.modes:
                    for workers in args.workers:
                        if workers > 1 and (database != "postgres" or channel != "zalo"):
                            continue  # several workers: PostgreSQL behind the Zalo webhook only
                        configs.append(Config(channel, "ours", database, mode, n,
                                              args.cap_closed if mode == "closed" else args.cap_paced, workers))
    return configs


async def bench(args: argparse.Namespace) -> int:
    started = time.monotonic()
    info = machine()
    if "postgres" in args.databases:
        info["PostgreSQL"] = await postgres_version(args.postgres)
    print("machine: " + "   ".join(f"{k}: {v}" for k, v in info.items()), flush=True)
    jpegs = make_jpegs()
    answers = script_answers()
    scripts: dict[str, list[Action]] = {}
    for channel in args.channels:
        actions, _ = await calibrate(channel, jpegs, answers)
        scripts[channel] = actions
        kinds = {kind: sum(a.kind == kind for a in actions) for kind in ("text", "press", "photo")}
        print(f"script on {channel}: {len(actions)} answers per contact ({kinds['text']} texts, {kinds['press']} "
              f"button presses, {kinds['photo']} photos of {sum(map(len, jpegs)) // len(jpegs) // 1024} KB), "
              f"{sum(a.parts for a in actions)} bot messages per report; answers with a reply in several parts: "
              f"{sum(a.parts > 1 for a in actions)}", flush=True)
    configs = configurations(args)
    print(f"{len(configs)} configurations; think time {args.think:g} s in paced mode; caps: closed {args.cap_closed:g} s, "
          f"paced {args.cap_paced:g} s, echo {args.cap_echo:g} s\n", flush=True)
    profile_dir = Path(args.profile_dir) if args.profile else None
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    print_header()
    results = []
    for config in configs:
        result = await run_config(config, scripts[config.channel], jpegs, args, profile_dir)
        results.append(result)
        print_row(result)
    print("\ngoals:")
    for line in goals(results):
        print("  " + line)
    busy = [r for r in results if r.other_cpu > 0.25]
    if busy:
        print(f"\nnote: other work kept more than a quarter of a core busy during {len(busy)} of {len(results)} runs "
              f"(up to {max(r.other_cpu for r in busy):.0%} of a core): those figures are lower than the machine "
              f"can do")
    print(f"\nwhole run: {time.monotonic() - started:.0f} s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "results": [
            {**asdict(r), "config": asdict(r.config)} for r in results]}, ensure_ascii=False, indent=1,
            default=str))
    if profile_dir is not None:
        for r in results:
            c = r.config
            path = profile_dir / f"{c.channel}-{c.database}-{c.mode}-{c.contacts}.pstats"
            if c.bot == "ours" and path.exists() and r.answers:
                print_breakdown(path, r.answers)
        if not args.breakdown_only:
            for path in sorted(profile_dir.glob("*.pstats")):
                print_profile(path)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a ~2 minute smoke run: N = 50, short caps")
    parser.add_argument("--channels", default="telegram,zalo")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--sizes", default=None, help="contacts per configuration (default 50,200,1000)")
    parser.add_argument("--modes", default="closed,paced,realistic")
    parser.add_argument("--cap-closed", type=float, default=None, help="seconds per closed-loop run (default 20)")
    parser.add_argument("--cap-paced", type=float, default=None, help="seconds per paced run (default 20)")
    parser.add_argument("--cap-echo", type=float, default=None, help="seconds per echo run (default 8)")
    parser.add_argument("--whole", action="store_true", help="no caps: every contact finishes (at most 900 s a run)")
    parser.add_argument("--think", type=float, default=THINK_SECONDS, help="paced mode: seconds before each answer")
    parser.add_argument("--echo-paced", type=int, default=200, help="N of the paced echo run")
    parser.add_argument("--echo-sequential", action="store_true",
                        help="also the echo bot with PTB's default (updates one at a time)")
    parser.add_argument("--no-echo", action="store_true", help="skip the echo baselines")
    parser.add_argument("--workers", default="1",
                        help="bot processes per run, e.g. 1,2 (more than 1: PostgreSQL and Zalo's webhook only)")
    parser.add_argument("--postgres", default=POSTGRES_URL, help="PostgreSQL URL; each run gets a fresh schema")
    parser.add_argument("--profile", action="store_true", help="cProfile the bot process of our runs")
    parser.add_argument("--profile-dir", default="/tmp/hcc-load-profiles")
    parser.add_argument("--breakdown-only", action="store_true",
                        help="with --profile: print only where the CPU went by part, not the top functions")
    parser.add_argument("--wait-quiet", type=float, default=None,
                        help="before each run, wait up to this many seconds for other work on the machine to stop")
    parser.add_argument("--bot-switch-interval", type=float, default=0.0,
                        help="experiment: sys.setswitchinterval() in the bot process (Python's default is 0.005)")
    parser.add_argument("--show-bot-log", action="store_true", help="print the end of a bot log that has errors")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    # The bot process (started by the driver).
    parser.add_argument("--serve", choices=("ours", "echo"), help=argparse.SUPPRESS)
    parser.add_argument("--channel", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sequential", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--switch-interval", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--cprofile", help=argparse.SUPPRESS)
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return args
    args.channels = [c for c in args.channels.split(",") if c]
    args.databases = [d for d in args.databases.split(",") if d]
    args.modes = [m for m in args.modes.split(",") if m]
    args.workers = [int(w) for w in args.workers.split(",") if w]
    default_sizes = "50" if args.quick else "50,200,1000"
    args.sizes = [int(n) for n in (args.sizes or default_sizes).split(",") if n]
    caps = (6.0, 8.0, 5.0) if args.quick else (20.0, 20.0, 8.0)
    if args.whole:
        caps = (900.0, 900.0, 900.0)
    args.cap_closed = args.cap_closed or caps[0]
    args.cap_paced = args.cap_paced or caps[1]
    args.cap_echo = args.cap_echo or caps[2]
    if args.wait_quiet is None:
        args.wait_quiet = 3.0 if args.quick else 10.0
    return args


def main() -> int:
    global SAVE_FAILED_TEXT
    from conversations import texts

    SAVE_FAILED_TEXT = texts.SAVE_FAILED
    args = parse_args()
    if args.serve:
        asyncio.run(serve(args))
        return 0
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
