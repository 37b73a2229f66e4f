"""Inbox queries: updates written before they are acknowledged, claimed per chat by workers, marked done.

A worker claims whole chats: the oldest undone row of a chat (its head) is locked (FOR UPDATE SKIP LOCKED on
PostgreSQL; SQLite has one writer) and, when no other worker holds the chat's lease, every undone row of that
chat is leased to the worker. Another worker skips the chat while the lease runs, so one chat's updates are
processed one after another, in arrival order, by one worker at a time. A dead worker's lease runs out (or is
released at the next start on the same host) and its rows are claimed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxItem

ERROR_LENGTH = 200


@dataclass(frozen=True)
class Claimed:
    """One inbox row leased to this worker."""

    id: int
    platform_id: str
    chat: str
    payload: dict[str, Any]


# The statements run for every update are constant texts: compiled once, no ORM bookkeeping (each ORM UPDATE
# cost ~3 ms of CPU, on the path of every message).
_TABLE = InboxItem.__table__
_COLUMNS = _TABLE.c
_ACCEPT = sa.text(
    "INSERT INTO inbox (channel, platform_id, chat, payload, received_at, claimed_by, claimed_until) "
    "VALUES (:channel, :platform_id, :chat, :payload, :at, :claimed_by, :claimed_until) "
    "ON CONFLICT (channel, platform_id) DO NOTHING RETURNING id"
).bindparams(sa.bindparam("payload", type_=_COLUMNS.payload.type), sa.bindparam("at", type_=_COLUMNS.received_at.type),
             sa.bindparam("claimed_until", type_=_COLUMNS.claimed_until.type))
_SETTLE = sa.text(
    "UPDATE inbox SET done_at = :at, payload = NULL, claimed_by = NULL, claimed_until = NULL "
    "WHERE channel = :channel AND platform_id = :platform_id AND done_at IS NULL RETURNING received_at"
).bindparams(sa.bindparam("at", type_=_COLUMNS.done_at.type)).columns(received_at=_COLUMNS.received_at.type)


async def accept(s: AsyncSession, *, channel: str, platform_id: str, chat: str, payload: dict[str, Any],
                 at: datetime, claimed_by: str | None = None, claimed_until: datetime | None = None) -> int | None:
    """Write an update into the inbox (leased to `claimed_by` at once, if given); its row id, or None when it was
    there already (a platform's repeat)."""
    result = await s.execute(_ACCEPT, {"channel": channel, "platform_id": platform_id, "chat": chat,
                                       "payload": payload, "at": at, "claimed_by": claimed_by,
                                       "claimed_until": claimed_until})
    return result.scalar()


async def settle(s: AsyncSession, channel: str, platform_id: str, *, at: datetime) -> datetime | None:
    """Mark the update done, inside the transaction of the event it became: when it arrived (received_at), or None
    when it is not in the inbox undone. The service compares the arrival with when the replies to the chat's
    previous message were sent (bot/repeats.py, before_its_replies)."""
    result = await s.execute(_SETTLE, {"channel": channel, "platform_id": platform_id, "at": at})
    return result.scalar()


async def finish(s: AsyncSession, ids: list[int], *, at: datetime, error: str | None = None) -> None:
    """Mark rows done that did not become a stored event (a group chat, an edited message) or were given up."""
    await s.execute(
        sa.update(_TABLE).where(_COLUMNS.id.in_(ids), _COLUMNS.done_at.is_(None))
        .values(done_at=at, payload=None, claimed_by=None, claimed_until=None,
                error=error[:ERROR_LENGTH] if error else None))


async def claim(s: AsyncSession, channel: str, worker: str, *, now: datetime, lease: timedelta,
                limit: int = 200) -> list[Claimed]:
    """Lease the undone rows of chats nobody else holds (or this worker already holds), oldest first."""
    item = InboxItem.__table__
    earlier = item.alias("earlier")
    heads = (
        sa.select(item.c.id)
        .where(item.c.channel == channel, item.c.done_at.is_(None),
               sa.or_(item.c.claimed_until.is_(None), item.c.claimed_until < now, item.c.claimed_by == worker),
               ~sa.exists().where(earlier.c.channel == item.c.channel, earlier.c.chat == item.c.chat,
                                  earlier.c.done_at.is_(None), earlier.c.id < item.c.id))
        .order_by(item.c.id).limit(limit)
    )
    if s.bind.dialect.name == "postgresql":
        heads = heads.with_for_update(skip_locked=True)
    head_ids = list((await s.scalars(heads)).all())
    if not head_ids:
        return []
    chats = sa.select(item.c.chat).where(item.c.id.in_(head_ids))
    rows = (await s.execute(
        sa.update(item)
        .where(item.c.channel == channel, item.c.done_at.is_(None), item.c.chat.in_(chats))
        .values(claimed_by=worker, claimed_until=now + lease)
        .returning(item.c.id, item.c.platform_id, item.c.chat, item.c.payload)
    )).all()
    return sorted((Claimed(r.id, r.platform_id, r.chat, r.payload or {}) for r in rows), key=lambda c: c.id)


async def renew(s: AsyncSession, worker: str, *, until: datetime) -> None:
    """Extend this worker's leases while it runs."""
    await s.execute(sa.update(_TABLE).where(_COLUMNS.claimed_by == worker, _COLUMNS.done_at.is_(None))
                    .values(claimed_until=until))


async def release(s: AsyncSession, workers: list[str] | None = None, *, channel: str | None = None) -> int:
    """Give the leases of these workers (all, when None) back, so the rows are claimed again at once."""
    statement = sa.update(_TABLE).where(_COLUMNS.done_at.is_(None), _COLUMNS.claimed_by.is_not(None))
    if workers is not None:
        statement = statement.where(_COLUMNS.claimed_by.in_(workers))
    if channel is not None:
        statement = statement.where(_COLUMNS.channel == channel)
    result = await s.execute(statement.values(claimed_by=None, claimed_until=None))
    return result.rowcount


async def lease_holders(s: AsyncSession, channel: str) -> list[str]:
    """The workers holding leases on undone rows of a channel."""
    return list((await s.scalars(
        sa.select(_COLUMNS.claimed_by).distinct()
        .where(_COLUMNS.channel == channel, _COLUMNS.done_at.is_(None), _COLUMNS.claimed_by.is_not(None))
    )).all())


async def undone(s: AsyncSession, channel: str | None = None) -> int:
    """How many rows wait to be processed."""
    statement = sa.select(sa.func.count()).select_from(_TABLE).where(_COLUMNS.done_at.is_(None))
    if channel is not None:
        statement = statement.where(_COLUMNS.channel == channel)
    return int(await s.scalar(statement) or 0)


async def purge_done(s: AsyncSession, before: datetime) -> int:
    """Delete rows done before this time (their platform ids no longer need to be recognised)."""
    result = await s.execute(sa.delete(_TABLE).where(_COLUMNS.done_at.is_not(None),
                                                        _COLUMNS.done_at < before))
    return result.rowcount
