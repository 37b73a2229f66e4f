"""Console board benchmark: server time and SQL statements of GET /console/ and GET /console/bang at N units.

For each size: a fresh SQLite database (sqlite+aiosqlite, migrated as `hcc-bot run` does) in a temp folder, N
active units, a campaign, reports in a realistic mix of states (not started, in progress with progress and
missing_short kept on the row, submitted, submitted late, returned, accepted; some with a per-unit deadline),
1-2 unit contacts per unit (Zalo/Telegram, a few blocked) and reminder_send rows for most contacts in several
states over three slots. The console then runs for real on 127.0.0.1 (build_app + setup_console + start_app, as
in tests/test_console.py); a client signs in with a one-time link and requests each page 2 times to warm up,
then REPEAT times.

Server time: a middleware added in front of every other one (so it includes the session cookie, the guard, the
board's queries and the template) times each request with time.perf_counter. The round trip over loopback, as
the client sees it, is printed beside it. SQL statements: a SQLAlchemy "before_cursor_execute" listener on the
engine, counted per request by the same middleware (SQLite's BEGIN, sent by storage/db.py, is one of them).
Goal (issue): the same number of statements at every size and <= 200 ms server time at 3,000 units on
SQLite. No asserts on time; a statement count that changes with the number of units is printed as a failure.

    python bench/board_scale.py              # 30, 300 and 3,000 units
    python bench/board_scale.py 100 1000     # other sizes
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from aiohttp import web  # noqa: E402

from bot.console import setup_console  # noqa: E402
from bot.console.auth import create_login  # noqa: E402
from bot.service import Service  # noqa: E402
from bot.web import build_app, start_app  # noqa: E402
from conversations.form import load_form  # noqa: E402
from storage.db import open_database  # noqa: E402
from storage.models import Campaign, Contact, ReminderSend, ReminderSlot, Report, Unit  # noqa: E402

NOW = datetime(2017, 3, 27, 2, 0, tzinfo=timezone.utc)  # 09:00 the day before the deadline
DEADLINE = datetime(2017, 3, 28, 9, 30, tzinfo=timezone.utc)  # 16:30 Asia/Ho_Chi_Minh
WARMUP, REPEAT = 2, 15
PAGES = {"board": "/console/", "fragment": "/console/bang"}
MISSING = ["Cán bộ chính", "Cán bộ dự phòng", "Nhân viên bưu chính", "Thủ tục hành chính", "Kế hoạch",
           "Lãnh đạo phụ trách"]
NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hữu Chi", "Phạm Ngọc Dũng", "Hoàng Minh Hạnh", "Võ Thanh Lan"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def report_row(rng: random.Random, campaign_id: int, unit_id: int) -> dict | None:
    """One unit's report in a realistic mix of states; None for about 10 % of units (no report row yet)."""
    pick = rng.random()
    if pick < 0.10:
        return None
    row = {"campaign_id": campaign_id, "unit_id": unit_id, "created_at": NOW - timedelta(days=5),
           "updated_at": NOW - timedelta(hours=rng.randint(1, 90)), "status": "not_started", "submitted_at": None,
           "last_activity_at": None, "progress": None, "missing_short": None, "review": None,
           "review_comment": None, "reviewed_at": None, "reviewed_by": None, "deadline_at": None,
           "reopened": False}
    activity = NOW - timedelta(minutes=rng.randint(5, 5000))
    if pick < 0.20:  # a report row, nothing answered
        row.update(progress=0, missing_short=", ".join(MISSING[:2]))
    elif pick < 0.50:
        missing = rng.sample(MISSING, rng.randint(1, 3))
        row.update(status="in_progress", last_activity_at=activity, progress=rng.randint(5, 95),
                   missing_short=", ".join(missing[:2]) + ("…" if len(missing) > 2 else ""))
    else:
        late = pick > 0.85
        submitted = DEADLINE + timedelta(hours=2) if late else activity
        row.update(status="submitted_late" if late else "submitted", submitted_at=submitted,
                   last_activity_at=submitted, progress=100, missing_short="")
        if rng.random() < 0.35:
            review = rng.choice(["returned", "accepted", "accepted"])
            row.update(review=review, reviewed_at=NOW - timedelta(hours=1), reviewed_by="Nguyễn Văn An",
                       review_comment="Bổ sung ảnh cán bộ dự phòng." if review == "returned" else None)
    if rng.random() < 0.08:
        row["deadline_at"] = DEADLINE + timedelta(days=rng.randint(1, 4))
    return row


async def populate(db, units: int, seed: int = 1) -> dict[str, int]:
    """Insert the units, the campaign, reports, contacts, slots and sends directly; counts of each."""
    rng = random.Random(seed)
    async with db.transaction() as s:
        campaign = Campaign(title="Bench", doc_ref="123/SNV", province="Đồng Nai", deadline_at=DEADLINE,
                            form_id=load_form().id, created_at=NOW - timedelta(days=6))
        s.add(campaign)
        await s.flush()
        await s.execute(sa.insert(Unit), [
            {"code": f"U{n:04d}", "name": f"Đơn vị thử nghiệm số {n}", "active": True,
             "created_at": NOW - timedelta(days=30)} for n in range(1, units + 1)])
        unit_ids = list(await s.scalars(sa.select(Unit.id).order_by(Unit.id)))
        reports = [r for r in (report_row(rng, campaign.id, u) for u in unit_ids) if r is not None]
        await s.execute(sa.insert(Report), reports)
        contacts = []
        for u in unit_ids:
            for k in range(1 if rng.random() < 0.6 else 2):
                channel = rng.choice(["zalo", "telegram"])
                pid = f"{channel}-{u}-{k}"
                contacts.append({"channel": channel, "platform_user_id": pid, "chat_id": pid,
                                 "display_name": rng.choice(NAMES) if rng.random() < 0.9 else None,
                                 "unit_id": u, "role": "unit", "invite_failures": 0,
                                 "blocked_at": NOW - timedelta(days=1) if rng.random() < 0.03 else None,
                                 "created_at": NOW - timedelta(days=4), "bound_at": NOW - timedelta(days=4)})
        contacts.append({"channel": "telegram", "platform_user_id": "admin", "chat_id": "admin", "unit_id": None,
                         "display_name": "Sở Nội vụ", "role": "admin", "invite_failures": 0,
                         "created_at": NOW - timedelta(days=6)})
        await s.execute(sa.insert(Contact), contacts)
        rows = (await s.execute(sa.select(Contact.id, Contact.unit_id, Contact.channel)
                                .where(Contact.role == "unit"))).all()
        slots = []
        for day, kind in ((-3, "reminder"), (-2, "reminder"), (-1, "manual")):
            slot = ReminderSlot(campaign_id=campaign.id, at=NOW + timedelta(days=day), kind=kind,
                                deadline_at=DEADLINE, fired_at=NOW + timedelta(days=day), fired_by="bench")
            s.add(slot)
            slots.append(slot)
        await s.flush()
        sends = []
        for contact_id, unit_id, channel in rows:
            if rng.random() < 0.15:
                continue  # nothing sent to this contact yet
            for i, slot in enumerate(slots[:rng.randint(1, 3)]):
                last = i == 2 or rng.random() < 0.3
                state = rng.choices(["sent", "failed", "pending", "sending", "skipped", "expired"],
                                    [70, 10, 8, 2, 5, 5])[0] if last else "sent"
                at = slot.at + timedelta(seconds=rng.randint(1, 600))
                sends.append({"slot_id": slot.id, "campaign_id": campaign.id, "unit_id": unit_id,
                              "contact_id": contact_id, "channel": channel, "kind": "unit", "state": state,
                              "attempts": 1 if state in ("sent", "failed") else 0,
                              "last_error": "blocked by user" if state == "failed" else None,
                              "text": "Nhắc nhở: hạn nộp báo cáo 16:30 28/03/2017.",
                              "sent_at": at if state == "sent" else None, "created_at": slot.at,
                              "updated_at": at})
        for start in range(0, len(sends), 2000):
            await s.execute(sa.insert(ReminderSend), sends[start:start + 2000])
    return {"reports": len(reports), "contacts": len(rows), "sends": len(sends)}


async def run_one(units: int) -> dict:
    """Build, serve and measure one size; its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = await open_database(f"sqlite:///{tmp / 'hcc.db'}")
        statements = [0]

        def count(conn, cursor, statement, parameters, context, executemany):
            statements[0] += 1

        try:
            made = await populate(db, units)
            sa.event.listen(db.engine.sync_engine, "before_cursor_execute", count)
            service = Service(db, load_form(), tmp / "photos", lambda: NOW, export_dir=tmp / "exports")
            app = build_app()
            timings: dict[str, list[float]] = {name: [] for name in PAGES}
            queries: dict[str, list[int]] = {name: [] for name in PAGES}
            which = {path: name for name, path in PAGES.items()}

            @web.middleware
            async def timer(request: web.Request, handler):
                before, started = statements[0], time.perf_counter()
                response = await handler(request)
                name = which.get(request.path)
                if name is not None and response.status == 200:
                    timings[name].append((time.perf_counter() - started) * 1000)
                    queries[name].append(statements[0] - before)
                return response

            setup_console(app, service, session_key=os.urandom(32), secure_cookie=False)
            app.middlewares.insert(0, timer)  # outermost: session, guard, handler and template inside it
            port = free_port()
            runner = await start_app(app, "127.0.0.1", port)
            base = f"http://127.0.0.1:{port}"
            figures = {"units": units, **made}
            try:
                async with db.transaction() as s:
                    link = (await create_login(s, officer="Bench", contact_id=None, base_url=base, now=NOW)).url
                async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
                    async with client.get(link) as page:
                        assert page.status == 200, page.status
                    async with client.post(link, allow_redirects=False) as done:
                        assert done.status == 303, done.status
                    for name, path in PAGES.items():
                        round_trips, size = [], 0
                        for i in range(WARMUP + REPEAT):
                            started = time.perf_counter()
                            async with client.get(base + path, allow_redirects=False) as page:
                                body = await page.read()
                                assert page.status == 200, (path, page.status)
                            round_trips.append((time.perf_counter() - started) * 1000)
                            size = len(body)
                        server = timings[name][WARMUP:]
                        counts = queries[name][WARMUP:]
                        figures[name] = {
                            "queries": sorted(set(counts)), "median": statistics.median(server),
                            "max": max(server), "client_median": statistics.median(round_trips[WARMUP:]),
                            "kb": size / 1024, "rows": body.count(b"<tr data-unit=")}
            finally:
                await service.jobs.drain()
                await runner.cleanup()
        finally:
            await db.dispose()
    return figures


def queries_text(values: list[int]) -> str:
    return "/".join(str(v) for v in values)


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [30, 300, 3000]
    print(f"SQLite; server time = middleware around session, guard, handler and template; {REPEAT} requests "
          f"after {WARMUP} warm-ups; client = round trip over loopback.", flush=True)
    header = (f"{'units':>6} | {'page':<8} | {'queries':>7} | {'median ms':>9} | {'max ms':>7} | "
              f"{'client median ms':>16} | {'HTML KB':>7} | rows")
    print(header)
    print("-" * len(header))
    all_figures = []
    for units in sizes:
        figures = asyncio.run(run_one(units))
        all_figures.append(figures)
        for name in PAGES:
            f = figures[name]
            print(f"{units:>6} | {name:<8} | {queries_text(f['queries']):>7} | {f['median']:>9.1f} | "
                  f"{f['max']:>7.1f} | {f['client_median']:>16.1f} | {f['kb']:>7.0f} | {f['rows']}", flush=True)
        print(f"{'':>6}   ({figures['reports']} reports, {figures['contacts']} unit contacts, "
              f"{figures['sends']} reminder sends)", flush=True)
    for name in PAGES:
        seen = {tuple(f[name]["queries"]) for f in all_figures}
        if len(seen) == 1 and len(next(iter(seen))) == 1:
            print(f"{name}: {next(iter(seen))[0]} SQL statements per request at every size (BEGIN included)")
        else:
            print(f"{name}: FAIL, SQL statements per request differ: "
                  + ", ".join(f"{f['units']} units: {queries_text(f[name]['queries'])}" for f in all_figures))
    largest = all_figures[-1]
    print(f"at {largest['units']} units: board median {largest['board']['median']:.0f} ms, fragment median "
          f"{largest['fragment']['median']:.0f} ms (goal <= 200 ms at 3,000 units)")


if __name__ == "__main__":
    main(sys.argv[1:])
