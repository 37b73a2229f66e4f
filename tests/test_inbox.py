"""The durable inbox: what a webhook acknowledged is processed once, in each chat's order, across stops and workers."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bench.webhook_burst import run_once
from bot.inbox import InboxWorker
from storage import inbox as inbox_q
from storage.db import open_database
from storage.models import InboxItem

POSTGRES_URL_ENV = "HCC_TEST_POSTGRES_URL"
BURST_CONTACTS = 10


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request, tmp_path):
    """A fresh database: an SQLite file, or a new PostgreSQL database (the bot process uses its public schema)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/hcc.db"
        return
    admin = os.environ.get(POSTGRES_URL_ENV)
    if not admin:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set: PostgreSQL tests skipped")
    from bench.crash_restart import create_database, drop_database

    url = await create_database(admin)
    yield url
    await drop_database(admin, url)


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
async def test_webhook_burst__bot_stopped_midway__every_acknowledged_update_processed_once_in_order(
        database_url, tmp_path, channel, sig):
    """10 contacts send their code and 5 answers by webhook without waiting; the bot process is SIGKILLed or
    SIGTERMed once 20 deliveries were answered 200, then started again. Every update answered 200 is processed,
    none twice, each contact's answers are what they sent, in that order; after a SIGTERM every reply arrived too."""
    result = await run_once(channel, database_url, tmp_path, contacts=BURST_CONTACTS, sig=sig, stop_after=20)
    print(result)
    assert result["updates"] == BURST_CONTACTS * 6
    assert 0 < result["acked_at_stop"] < result["updates"]  # the stop came in the middle of the burst
    if sig == signal.SIGKILL:
        assert result["redelivered"] > 0  # deliveries were refused while the bot was down, and came again
    assert (result["updates"], 0, 0, 0) == (result["processed"], result["lost"], result["twice"],
                                            result["wrong_answers"])
    if sig == signal.SIGTERM:
        assert 0 == result["missing_replies"]


@pytest.fixture
async def pg_schema():
    """(PostgreSQL URL, a fresh schema name), the schema dropped afterwards."""
    admin = os.environ.get(POSTGRES_URL_ENV)
    if not admin:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set: PostgreSQL tests skipped")
    schema = f"t_{os.urandom(6).hex()}"
    yield admin, schema
    db = await open_database(admin, schema=schema, migrate=False)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await db.dispose()


async def fill(db, channel: str, chats: int, per_chat: int, rng: random.Random) -> list[tuple[str, int]]:
    """Rows for `chats` chats, interleaved at random; (chat, sequence number) in arrival order."""
    order = [(f"c{c}", n) for c in range(chats) for n in range(per_chat)]
    order.sort(key=lambda item: (item[1], rng.random()))  # each chat's numbers stay in order
    now = datetime.now(timezone.utc)
    async with db.transaction() as s:
        for i, (chat, n) in enumerate(order):
            await inbox_q.accept(s, channel=channel, platform_id=f"{chat}-{n}", chat=chat,
                                 payload={"chat": chat, "n": n}, at=now + timedelta(microseconds=i))
    return order


async def test_two_workers__one_inbox_on_postgresql__each_row_once_and_each_chat_in_order(pg_schema):
    """Two workers (two engines, as two processes would have) claim one PostgreSQL inbox of 12 chats x 15 rows while
    processing takes random time: each row is processed once, each chat's rows in arrival order, both worked."""
    admin, schema = pg_schema
    db_a = await open_database(admin, schema=schema)
    db_b = await open_database(admin, schema=schema)
    rng = random.Random(7)
    seen: list[tuple[str, str, int]] = []  # (worker, chat, n)
    try:
        order = await fill(db_a, "zalo", 12, 15, rng)

        def processor(name: str):
            async def process(payload: dict) -> None:
                await asyncio.sleep(rng.uniform(0, 0.01))
                seen.append((name, payload["chat"], payload["n"]))
            return process

        workers = [InboxWorker(db, "zalo", processor(name), poll_interval=0.02, batch=2) for db, name in
                   ((db_a, "a"), (db_b, "b"))]
        for worker in workers:
            await worker.start()
        deadline = asyncio.get_running_loop().time() + 30
        while len(seen) < len(order) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        for worker in workers:
            await worker.stop(5)
        async with db_a.sessionmaker() as s:
            left = await inbox_q.undone(s, "zalo")
    finally:
        await db_a.dispose()
        await db_b.dispose()
    assert sorted((c, n) for _, c, n in seen) == sorted(order)  # each once
    for chat in {c for c, _ in order}:
        assert [n for _, c, n in seen if c == chat] == list(range(15)), chat
    assert {"a", "b"} == {w for w, _, _ in seen}
    assert 0 == left


async def test_worker_start__a_dead_process_held_rows__taken_back_at_once_but_a_live_holder_is_left_alone(
        pg_schema):
    """Rows leased to a process of this host that no longer runs are processed at the next start; rows leased to a
    live worker elsewhere wait for its lease (PostgreSQL: several workers)."""
    admin, schema = pg_schema
    db = await open_database(admin, schema=schema)
    done: list[str] = []
    try:
        await fill(db, "telegram", 2, 3, random.Random(1))
        dead_pid = 2 ** 22 + 12345  # above Linux's pid_max default: no such process
        import socket

        until = datetime.now(timezone.utc) + timedelta(minutes=10)
        async with db.transaction() as s:
            await s.execute(sa.update(InboxItem).where(InboxItem.chat == "c0")
                            .values(claimed_by=f"{socket.gethostname()}:{dead_pid}:abc", claimed_until=until))
            await s.execute(sa.update(InboxItem).where(InboxItem.chat == "c1")
                            .values(claimed_by="other-host:1:abc", claimed_until=until))

        async def process(payload: dict) -> None:
            done.append(f"{payload['chat']}-{payload['n']}")

        worker = InboxWorker(db, "telegram", process, poll_interval=0.02)
        await worker.start()  # its first claim is made before start() returns
        await worker.drain()  # what it claimed is processed
        await worker.stop(5)
        async with db.sessionmaker() as s:
            left = await inbox_q.undone(s, "telegram")
    finally:
        await db.dispose()
    assert ["c0-0", "c0-1", "c0-2"] == done
    assert 3 == left  # the live worker's chat: still its own


async def test_processing_fails__retried_in_place_then_given_up__the_chat_goes_on(sqlite_db):
    """An update whose processing raises every time is tried 3 times, then recorded as given up; the next update of
    the same chat is processed after it, not before."""
    calls: list[int] = []

    async def process(payload: dict) -> None:
        calls.append(payload["n"])
        if payload["n"] == 0:
            raise ValueError("a bug")

    await fill(sqlite_db, "zalo", 1, 2, random.Random(1))
    worker = InboxWorker(sqlite_db, "zalo", process, poll_interval=0.02)
    await worker.start()
    for _ in range(200):
        if len(calls) >= 4:
            break
        await asyncio.sleep(0.01)
    await worker.drain()
    await worker.stop(5)
    async with sqlite_db.sessionmaker() as s:
        rows = (await s.execute(sa.select(InboxItem.platform_id, InboxItem.error, InboxItem.done_at.is_not(None),
                                          InboxItem.payload).order_by(InboxItem.id))).all()
    assert [0, 0, 0, 1] == calls
    assert [("c0-0", "ValueError after 3 attempts", True, None), ("c0-1", None, True, None)] == [tuple(r) for r in rows]


def test_lease_holders__another_worker_of_this_process_alive__a_former_run_with_our_pid_dead():
    """Two workers of one process never take each other's chats; a restart that got the same pid (a container's
    pid 1) takes back what the former run held."""
    from bot.inbox import RUN, _dead_on_this_host, worker_name

    me = worker_name()
    host, pid = me.split(":")[:2]
    assert (False, True, False, True) == (
        _dead_on_this_host(worker_name(), me),  # a second worker of this process
        _dead_on_this_host(f"{host}:{pid}:{'0' * len(RUN)}x:abc", me),  # a former run with our pid
        _dead_on_this_host(f"other-host:{pid}:{RUN}:abc", me),  # another machine: its lease runs out by itself
        _dead_on_this_host(f"{host}:{2 ** 22 + 12345}:{RUN}:abc", me),  # a pid that no longer runs
    )
