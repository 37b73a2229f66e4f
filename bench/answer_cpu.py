"""CPU per answer of the service alone (no HTTP, no channel): a fixed workload, in this process, on SQLite.

Contacts answer the whole sample report (tests/export_samples.py FULL_REPORT, photos included) one answer at a
time through `Service.handle` and `Service.sent`, as a channel calls them; each answer is written to the inbox
first (as the webhook does) so the event's transaction settles it. Printed: process CPU per answer (the photo
process excluded), SQL statements and commits per answer, and with --profile the Python calls per answer (a count
that other work on the machine does not change) and the top functions. The load average is printed with it:
on a busy machine CPU time per answer rises too (shared caches), while the counts stay.

    python bench/answer_cpu.py                 # 20 contacts x 49 answers
    python bench/answer_cpu.py --profile       # and where the time went
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROFILE_FILE = "/tmp/hcc-answer-cpu.pstats"
sys.path.insert(0, str(ROOT))


async def run(contacts: int, profile: bool) -> None:
    from bench.load import count_statements, make_jpegs, prepare_database, script_answers, STATEMENTS
    from bot import photos
    from bot.service import Inbound, Service
    from conversations.form import load_form
    from storage import inbox as inbox_q
    from storage.db import open_database

    jpegs = make_jpegs()
    answers = script_answers()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'hcc.db'}"
        codes = await prepare_database(url, None, contacts)
        db = await open_database(url)
        count_statements(db.engine)
        service = Service(db, load_form(), Path(tmp) / "photos", export_dir=Path(tmp) / "exports")
        photos.warm_up()
        event = 0

        async def answer(user: str, value: str, n: int) -> None:
            nonlocal event
            event += 1
            photo = jpegs[n % len(jpegs)] if value == "PHOTO" else None
            inbound = Inbound("zalo", user, user, str(event), display_name="Nguyễn Thị Lan",
                              text=None if photo else value, photo=photo, sent_at=datetime.now(timezone.utc))
            async with getattr(db, "core_transaction", db.transaction)(first=True) as s:  # the webhook's write
                await inbox_q.accept(s, channel="zalo", platform_id=inbound.event_id,
                                     chat=user, payload={"n": n}, at=datetime.now(timezone.utc))
            replies = await service.handle(inbound)
            assert replies, f"no reply to {value!r}"
            service.sent(inbound)

        # One contact first, not measured: caches, the photo process, SQLAlchemy's compiled statements.
        for n, value in enumerate([codes[0], *answers]):
            await answer("warm-up", value, n)
        profiler = cProfile.Profile() if profile else None
        before = dict(STATEMENTS)
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        count = 0
        for c in range(1, contacts):
            for n, value in enumerate([codes[c], *answers]):
                await answer(f"user{c:05d}", value, n)
                count += 1
        if profiler is not None:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        statements = (STATEMENTS["statements"] - before["statements"]) / count
        commits = (STATEMENTS["commits"] - before["commits"]) / count
        await service.close()
        await db.dispose()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"{count} answers by {contacts - 1} contacts: CPU {1000 * cpu / count:.2f} ms per answer "
          f"(wall {1000 * wall / count:.2f} ms), {statements:.1f} SQL statements and {commits:.2f} commits per answer; "
          f"load average {load}" + ("   (under cProfile: CPU inflated)" if profiler else ""))
    if profiler is not None:
        profiler.dump_stats(PROFILE_FILE)  # for pstats: callers, callees
        stats = pstats.Stats(profiler)
        calls = sum(v[1] for v in stats.stats.values())
        print(f"Python function calls per answer: {calls / count:.0f}")
        stats.sort_stats("tottime").print_stats(25)
        print(f"(the whole profile: {PROFILE_FILE})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=21, help="contacts (the first one warms up; default 21)")
    parser.add_argument("--profile", action="store_true", help="also count Python calls, print the top functions")
    args = parser.parse_args()
    asyncio.run(run(args.contacts, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
