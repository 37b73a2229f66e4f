"""Crash-restart benchmark: `python -m bot run` SIGKILLed at random moments while 100 contacts answer the report.

Each simulated contact answers the whole sample report (tests/export_samples.py FULL_REPORT: 46 answers, 5 of
them photos, then "nộp") through a fake Zalo server on 127.0.0.1, in webhook mode (Zalo polling hands out one update
per call and the bot keeps a second between calls: one update a second for everybody). A contact sends a line,
waits for the reply, and sends the same line again when none came within --patience seconds, as a person would.
The bot process is killed with SIGKILL --kills times, at moments drawn from a seeded RNG, and restarted at once.

At every kill the bot is first frozen (SIGSTOP) and the database read beside it, to count the contacts whose
answer was committed but whose reply had not reached them: the commit-to-reply window. The bot keeps those
replies as pending and sends them again when the person re-sends the same line, so a kill there loses nothing
and stores nothing twice. With --avoid-reply-window the kill is moved out of that window, to compare.

Printed per database: kills; answers acknowledged (a reply reached the person), of them stored and lost;
committed without a reply (the window); lists with more items than the person entered (duplicated), and
contacts whose stored report is not what they answered; re-sends; time and answers per second.

    python bench/crash_restart.py                                 # 100 contacts, 10 kills, SQLite and PostgreSQL
    python bench/crash_restart.py --contacts 20 --kills 4 --database sqlite
    python bench/crash_restart.py --avoid-reply-window
    python bench/crash_restart.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform as host
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import asyncpg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from storage import queries as q  # noqa: E402
from storage.db import normalize_url, open_database  # noqa: E402
from tests.test_faults import (  # noqa: E402
    BotProcess, Contact, ZaloPlatform, answer_report, committed_events, invite_contacts, item_counts,
    kill_at_this_moment, make_contacts, stored,
)


async def prepare(database_url: str, count: int) -> list[Contact]:
    """`count` units of our own (the sample list has 25), a campaign, one invited contact per unit."""
    db = await open_database(database_url)
    now = datetime.now(timezone.utc)
    try:
        async with db.transaction() as s:
            await q.upsert_units(s, [(f"CR{n:03d}", f"Đơn vị thử {n:03d}") for n in range(1, count + 1)], now=now)
        invites, deadline = await invite_contacts(db, count, now)
    finally:
        await db.dispose()
    return make_contacts(invites, deadline)


async def create_database(admin_url: str) -> str:
    """A fresh PostgreSQL database beside the one in `admin_url` (the bot uses the public schema); its URL."""
    url = make_url(normalize_url(admin_url))
    name = f"hcc_crash_{os.urandom(4).hex()}"
    conn = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_database(admin_url: str, database_url: str) -> None:
    name = make_url(database_url).database
    conn = await asyncpg.connect(make_url(normalize_url(admin_url)).set(drivername="postgresql")
                                 .render_as_string(hide_password=False))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def run(label: str, database_url: str | None, args: argparse.Namespace, workdir: Path) -> dict:
    workdir.mkdir(parents=True)
    db_file = workdir / "hcc.db"
    database_url = database_url or f"sqlite:///{db_file}"
    contacts = await prepare(database_url, args.contacts)
    platform = await ZaloPlatform().start()
    bot = BotProcess(platform, workdir, None if database_url.startswith("sqlite") else database_url)
    rng = random.Random(args.seed)
    pg = None if database_url.startswith("sqlite") else await asyncpg.connect(
        make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False))

    async def committed() -> tuple[set[str], bool]:
        if pg is None:
            return committed_events(db_file)
        # PostgreSQL finishes a COMMIT it has received even while the client is frozen: nothing is unseen.
        return {r[0] for r in await pg.fetch("SELECT event_id FROM processed_event WHERE channel = 'zalo'")}, False

    skipped = in_window = 0
    started = time.monotonic()
    try:
        await bot.start()
        runs = [asyncio.create_task(answer_report(platform, c, patience=args.patience, think=(0.0, args.think),
                                                  rng=random.Random(args.seed + c.seed))) for c in contacts]
        for _ in range(args.kills):
            await asyncio.wait(runs, timeout=rng.uniform(args.kill_after / 2, args.kill_after * 1.5))
            if all(r.done() for r in runs):
                break
            moved, hit = await kill_at_this_moment(bot, contacts, committed, rng, args.avoid_reply_window)
            skipped += moved
            in_window += hit
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            await bot.start()
        await asyncio.gather(*runs)
        elapsed = time.monotonic() - started
    finally:
        await bot.stop()
        await platform.stop()
        if pg is not None:
            await pg.close()
    db = await open_database(database_url)
    try:
        after = await stored(db, "zalo")
    finally:
        await db.dispose()
    acked = {i for c in contacts for i in c.acked.values()}
    duplicated = sum(max(0, n - item_counts(c.expected.answers).get(section, 0))
                     for c in contacts for section, n in item_counts(after.answers.get(c.unit, {})).items())
    return {
        "database": label,
        "contacts": len(contacts),
        "kills": bot.kills,
        "acknowledged": len(acked),
        "stored": len(acked & after.events),
        "lost": len(acked - after.events),
        "committed_unacked": len(after.events - acked),
        "kills_in_window": in_window,
        "moments_skipped": skipped,
        "duplicated_items": duplicated,
        "wrong_reports": sum(c.expected.answers != after.answers.get(c.unit) for c in contacts),
        "resends": sum(c.resends for c in contacts),
        "seconds": elapsed,
        "answers_per_second": len(acked) / elapsed,
        "p95_reply": sorted(x for c in contacts for x in c.latencies)[int(0.95 * len(acked))],
    }


def show(results: list[dict], args: argparse.Namespace, legend: bool = False) -> None:
    print(f"\nmachine: {host.machine()}, {os.cpu_count()} CPUs, Python {host.python_version()}, "
          f"{host.system()} {host.release()}; seed {args.seed}, patience {args.patience}s, "
          f"kills {'outside' if args.avoid_reply_window else 'anywhere, including'} the commit-to-reply window")
    header = ("database", "contacts", "kills", "acknowledged", "stored", "lost", "committed_unacked",
              "kills_in_window", "moments_skipped", "duplicated_items", "wrong_reports", "resends", "seconds",
              "answers_per_second", "p95_reply")
    print("  ".join(f"{h:>{max(len(h), 8)}}" for h in header))
    for r in results:
        cells = [f"{r[h]:.1f}" if isinstance(r[h], float) else str(r[h]) for h in header]
        print("  ".join(f"{c:>{max(len(h), 8)}}" for c, h in zip(cells, header)))
    if not legend:
        return
    print("\nacknowledged: answers whose reply reached the person; stored/lost: of those, in the database or not;\n"
          "committed_unacked: committed, but the reply died with the process (the person sends the line again);\n"
          "kills_in_window: contacts in that window when a kill came (moments_skipped: kill moments moved out\n"
          "of it with --avoid-reply-window); duplicated_items: list items beyond what\n"
          "the people entered; wrong_reports: contacts whose stored report differs from what they answered.")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--kill-after", type=float, default=8.0, help="mean seconds between a start and the kill")
    parser.add_argument("--patience", type=float, default=10.0, help="seconds before a person sends again")
    parser.add_argument("--think", type=float, default=0.5, help="at most this many seconds between answers")
    parser.add_argument("--seed", type=int, default=20170327)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres", default=os.environ.get("HCC_TEST_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"),
                        help="a PostgreSQL URL; the run creates and drops its own database beside it")
    parser.add_argument("--avoid-reply-window", action="store_true",
                        help="move each kill out of the commit-to-reply window (to compare)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="hcc-crash-") as tmp:
        if args.database in ("sqlite", "both"):
            results.append(await run("sqlite", None, args, Path(tmp) / "sqlite"))
            show(results[-1:], args)
        if args.database in ("postgres", "both"):
            url = await create_database(args.postgres)
            try:
                results.append(await run("postgres", url, args, Path(tmp) / "postgres"))
            finally:
                await drop_database(args.postgres, url)
            show(results[-1:], args)
    show(results, args, legend=True)


if __name__ == "__main__":
    asyncio.run(main())
