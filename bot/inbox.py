"""The durable inbox: a channel's updates are written to the database before they are acknowledged, then
processed from there, per chat in arrival order, by whichever worker holds the chat (storage/inbox.py).

A webhook answers 200 only after `accept` has committed the update; a poller moves on (Telegram: confirms the
offset; Zalo: polls again) only after the same. The worker claims undone rows, runs the channel's `process` for
each (one chat after another, different chats side by side) and the service marks the row done in the event's
own transaction; rows that never became an event (a group chat, an edited message, an album's later photo)
are marked done here. At start every undone row is processed; a stop lets the work in flight finish within a
grace period and leaves the rest undone, its leases given back, for the next start or another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from bot.channels.chat_queue import ChatQueue
from bot.service import utc_now
from storage import inbox as inbox_q
from storage.db import DB_ERRORS, Database, DatabaseUnavailable

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # how long a claim holds without renewal; renewed every LEASE / 3
POLL_INTERVAL = 1.0  # seconds between claims when nothing wakes the worker (other workers' rows, expired leases)
PROCESS_ATTEMPTS = 3  # an update whose processing raises is tried this often, then given up (logged)
# Issue 22: a database error is not a failed attempt. The update was acknowledged, so it waits in place (keeping its
# chat's order) and is tried again every RETRY_CAP seconds at most, answered within that once the database is back.
RETRY_FIRST, RETRY_CAP = 0.1, 0.5  # seconds; the claim loop and a poller's writes wait the same way
REMEMBERED = 10_000  # first arrivals of updates whose write failed, kept in memory
STOP_GRACE = 10.0  # seconds the work in flight may take at a stop
LOOP_STOP_GRACE = 5.0  # seconds the claim loop may take to finish its turn at a stop (then it is cancelled)
KEEP_DONE = timedelta(days=30)  # done rows (ids and times only; the payload is emptied when done) kept this long


RUN = secrets.token_hex(4)  # this process's run: a former run that had our pid has another one


def worker_name() -> str:
    """host:pid:run:worker — host and pid let the next start on this host take back a dead worker's leases; the run
    tells a former process that had our pid (a container's pid 1) from another worker of this one."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{RUN}:{secrets.token_hex(3)}"


def _dead_on_this_host(holder: str, me: str) -> bool:
    """Whether a lease holder was a process of this host that no longer runs (or a former run with our pid)."""
    host, pid, run, *_ = holder.split(":") + ["", "", ""]
    my_host, my_pid, my_run, *_ = me.split(":") + ["", "", ""]
    if host != my_host or not pid.isdigit():
        return False
    if pid == my_pid:
        return run != my_run  # our pid: this process (alive), or a former run that had the same pid (dead)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, owned by someone else
        return False
    return False


class InboxWorker:
    """Accepts one channel's updates into the inbox and processes them from there."""

    def __init__(self, db: Database, channel: str, process: Callable[[dict[str, Any]], Awaitable[None]], *,
                 settled: set[tuple[str, str]] | None = None, clock: Callable[[], datetime] = utc_now,
                 lease: timedelta = LEASE, poll_interval: float = POLL_INTERVAL, batch: int = 200):
        self.db = db
        self.channel = channel
        self.process = process
        self.settled = settled if settled is not None else set()  # the service's marks (Service.settled)
        self.clock = clock
        self.lease = lease
        self.poll_interval = poll_interval
        self.batch = batch  # chats claimed at once
        self.name = worker_name()
        self.queue = ChatQueue()
        self._held: set[int] = set()  # rows claimed and not yet done (or their done mark not yet written)
        self._to_finish: dict[int, str | None] = {}  # row -> error, for rows done outside an event
        # Platform ids whose accept failed and whose sender was told to send again (Zalo): should the failure
        # have come after the commit went through, the row is not processed (the re-sent message is).
        self.refused: set[str] = set()
        # Platform id -> when it first reached us, for updates whose write failed (a webhook's 503, a poller's
        # retry): written with that time when it succeeds, so a repeat the person sent meanwhile is seen as sent
        # before the replies to the first (bot/repeats.py, before_its_replies).
        self._first_seen: dict[str, datetime] = {}
        self._wake = asyncio.Event()
        self._to_write: list[tuple[str, str, dict[str, Any], asyncio.Future]] = []  # waiting for the next write
        self._writer: asyncio.Task | None = None
        self._accepted = 0  # generation of accepts; the loop has claimed everything up to `_claimed`
        self._claimed = 0
        self._task: asyncio.Task | None = None
        self._stopping = False

    # -- receiving -------------------------------------------------------------------------------

    async def accept(self, platform_id: str, chat: str, payload: dict[str, Any]) -> bool:
        """Write an update into the inbox (committed when this returns); False when it was there already. Raises
        on a database error: the caller must then not acknowledge the update.

        Updates arriving together are written in one transaction (a group commit): under load one transaction
        takes a whole burst instead of one each queueing for SQLite's single writer."""
        return (await self.accept_many([(platform_id, chat, payload)]))[0]

    async def accept_until_saved(self, updates: list[tuple[str, str, dict[str, Any]]]) -> None:
        """For a poller: write the updates (one transaction), waiting out a database outage. The poller does not
        move on (no offset confirmed, no next poll) until they are saved."""
        failures = 0
        while True:
            try:
                await self.accept_many(updates)
                return
            except DB_ERRORS as exc:
                failures += 1
                log.error("%s updates not written to the inbox (%s); retrying", self.channel, type(exc).__name__)
                await asyncio.sleep(min(RETRY_FIRST * 2 ** failures, RETRY_CAP))

    async def accept_many(self, updates: list[tuple[str, str, dict[str, Any]]]) -> list[bool]:
        """`accept` for several updates, in this order (a polled batch)."""
        loop = asyncio.get_running_loop()
        futures = []
        for platform_id, chat, payload in updates:
            futures.append(loop.create_future())
            self._to_write.append((platform_id, chat, payload, futures[-1]))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_accepted())
        return [await future for future in futures]

    async def _write_accepted(self) -> None:
        while self._to_write:
            batch, self._to_write = self._to_write, []
            # SQLite has one process: what it accepts is its own at once, with no claim round trip. On PostgreSQL
            # another worker may hold the chat, so the rows wait for a claim.
            own = self.db.is_sqlite
            now = self.clock()
            try:
                async with self.db.core_transaction(first=True) as s:  # someone waits for this commit's 200
                    ids = [await inbox_q.accept(s, channel=self.channel, platform_id=platform_id, chat=chat,
                                                payload=payload, at=self._first_seen.get(platform_id, now),
                                                claimed_by=self.name if own else None,
                                                claimed_until=now + self.lease if own else None)
                           for platform_id, chat, payload, _ in batch]
            except Exception as exc:  # each caller says what to do (a 503, a "send it again")
                for platform_id, _, _, future in batch:
                    self._first_seen.setdefault(platform_id, now)
                    if not future.done():
                        future.set_exception(exc)
                while len(self._first_seen) > REMEMBERED:
                    self._first_seen.pop(next(iter(self._first_seen)))
                continue
            for platform_id, *_ in batch:
                self._first_seen.pop(platform_id, None)
            for (platform_id, chat, payload, future), row_id in zip(batch, ids):
                if row_id is not None and own:
                    self._held.add(row_id)
                    row = inbox_q.Claimed(row_id, platform_id, chat, payload)
                    self.queue.submit(chat, lambda row=row: self._handle(row))
                elif row_id is not None:
                    self._accepted += 1
                    self._wake.set()
                if not future.done():
                    future.set_result(row_id is not None)

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Take back the leases of dead workers of this host (all of them on SQLite), then start processing."""
        self._stopping = False
        try:
            async with self.db.transaction() as s:
                if self.db.is_sqlite:  # one process writes an SQLite database: every lease is a former run's
                    released = await inbox_q.release(s, channel=self.channel)
                else:
                    dead = [h for h in await inbox_q.lease_holders(s, self.channel) if _dead_on_this_host(h, self.name)]
                    released = await inbox_q.release(s, dead, channel=self.channel) if dead else 0
                await inbox_q.purge_done(s, self.clock() - KEEP_DONE)
            if released:
                log.info("%s inbox: %d updates of a former run taken back", self.channel, released)
        except DB_ERRORS as exc:
            log.warning("%s inbox: leases not checked (%s)", self.channel, type(exc).__name__)
        try:  # what a former run left goes into the chats' queues before anything new can
            await self._claim()
        except DB_ERRORS as exc:
            log.warning("%s inbox: first claim failed (%s)", self.channel, type(exc).__name__)
        self._task = asyncio.create_task(self._run(), name=f"inbox:{self.channel}")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Claim nothing more; let the work in flight finish within `grace`; give the rest back."""
        self._stopping = True
        if self._task is not None:
            # The loop ends at its next turn, never inside a transaction: a task cancelled in the middle of one
            # can leave its connection holding row locks that the release below would wait for forever.
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), LOOP_STOP_GRACE)
            except asyncio.TimeoutError:
                log.warning("%s inbox: the claim loop did not stop in time; cancelled", self.channel)
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await asyncio.wait_for(self.queue.drain(), grace)
        except asyncio.TimeoutError:
            log.warning("%s inbox: stop grace over, %d updates left for the next start", self.channel,
                        len(self._held))
            await self.queue.close()
        with contextlib.suppress(*DB_ERRORS):
            await self._flush_finished()
            async with self.db.transaction() as s:
                await inbox_q.release(s, [self.name], channel=self.channel)
        self._held.clear()

    async def drain(self) -> None:
        """Wait until every update accepted here so far has been processed (tests, benches)."""
        while True:
            await self.queue.drain()
            if self._claimed >= self._accepted and not self._held:
                return
            await asyncio.sleep(0.005)

    # -- the loop --------------------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        renewed = self.clock()
        while not self._stopping:
            self._wake.clear()
            generation = self._accepted
            try:
                await self._flush_finished()
                if self.clock() - renewed >= self.lease / 3:
                    async with self.db.transaction() as s:
                        await inbox_q.renew(s, self.name, until=self.clock() + self.lease)
                    renewed = self.clock()
                await self._claim()
                failures = 0
            except Exception as exc:  # the database is away (or a bug): the loop must outlive it
                failures += 1
                if isinstance(exc, DB_ERRORS):
                    log.warning("%s inbox: claim failed (%s)", self.channel, type(exc).__name__)
                else:
                    log.exception("%s inbox: claim failed", self.channel)
                # A new update accepted means the database is back: try again at once.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(RETRY_FIRST * 2 ** failures, RETRY_CAP))
                continue
            self._claimed = max(self._claimed, generation)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    def refuse(self, platform_id: str) -> None:
        """The accept of this update failed and the sender was told: never process it, should it be there."""
        if len(self.refused) >= 10_000:
            self.refused.clear()
        self.refused.add(platform_id)

    async def _claim(self) -> None:
        """Lease the chats nobody else holds and queue their rows behind what this worker already holds."""
        async with self.db.transaction() as s:
            claimed = await inbox_q.claim(s, self.channel, self.name, now=self.clock(), lease=self.lease,
                                          limit=self.batch)
        for row in claimed:
            if row.id not in self._held:
                self._held.add(row.id)
                self.queue.submit(row.chat, lambda row=row: self._handle(row))

    async def _handle(self, row: inbox_q.Claimed) -> None:
        """Process one row (retrying a failure, in place, to keep the chat's order); then it is done."""
        if row.platform_id in self.refused:
            self.refused.discard(row.platform_id)
            log.info("%s inbox: update %d was refused at arrival (its commit went through): not processed",
                     self.channel, row.id)
            self._finish(row.id, "refused at arrival: the sender was asked to send it again")
            return
        error = None
        attempt = outages = 0
        while attempt < PROCESS_ATTEMPTS:
            attempt += 1
            try:
                await self.process(row.payload)
                break
            except asyncio.CancelledError:
                self._held.discard(row.id)  # left undone: the next start processes it
                raise
            except DatabaseUnavailable as exc:  # the service's "database away": not the update's fault; wait, in place
                if self._stopping:
                    self._held.discard(row.id)  # left undone, its lease given back at the stop
                    return
                attempt -= 1
                outages += 1
                if outages == 1:
                    log.warning("%s inbox: update %d waits for the database (%s)", self.channel, row.id,
                                type(exc).__name__)
                await asyncio.sleep(min(RETRY_FIRST * 2 ** (outages - 1), RETRY_CAP))
            except Exception as exc:  # one bad update must not stop the chat's later ones
                log.exception("%s inbox: update %d failed (attempt %d)", self.channel, row.id, attempt)
                error = f"{type(exc).__name__} after {attempt} attempts"
        else:
            self._finish(row.id, error)
            return
        if (self.channel, row.platform_id) in self.settled:
            self.settled.discard((self.channel, row.platform_id))
            self._held.discard(row.id)
        else:
            self._finish(row.id, None)

    def _finish(self, row_id: int, error: str | None) -> None:
        """Mark a row done with the next loop turn (one transaction for many)."""
        self._to_finish[row_id] = error
        self._wake.set()

    async def _flush_finished(self) -> None:
        while self._to_finish:
            batch = dict(self._to_finish)
            errors = {e for e in batch.values()}
            async with self.db.transaction() as s:
                for error in errors:
                    await inbox_q.finish(s, [i for i, e in batch.items() if e == error], at=self.clock(), error=error)
            for row_id in batch:
                self._to_finish.pop(row_id, None)
                self._held.discard(row_id)
