"""Where every unit of a campaign stands: the console's board, the chat's "tình hình" and `hcc-bot status`.

`load_board` reads with a fixed number of queries whatever the number of units: units with their reports, the
unit contacts, the last message to each contact, and (only for reports saved before progress was kept on the
report row) their answers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.reminders.messages import missing_summary
from bot.review import state_of
from conversations import engine
from conversations.answers import completion
from conversations.form import Form
from storage import queries as q
from storage.models import Answer, Campaign, Contact, ReminderSend, Report, Unit

STATES = (engine.NOT_STARTED, engine.IN_PROGRESS, engine.RETURNED, engine.SUBMITTED, engine.SUBMITTED_LATE,
          engine.ACCEPTED)
DONE = (engine.SUBMITTED, engine.SUBMITTED_LATE, engine.ACCEPTED)


@dataclass(frozen=True)
class ContactLine:
    """A unit contact and how the last message the bot sent them went."""

    name: str | None
    channel: str
    delivery: str | None  # "sent" | "failed" | "pending" | "blocked" | "seen" (no reminder yet, but they wrote
    # to the bot) | None (no message either way)
    at: datetime | None


@dataclass(frozen=True)
class BoardRow:
    """One unit on the board."""

    unit_id: int
    code: str
    name: str
    state: str  # one of STATES
    progress: int  # percent of the required answers given
    missing: str  # short: the first parts still missing
    last_activity_at: datetime | None
    submitted_at: datetime | None
    deadline_at: datetime  # the unit's own (an extension) or the campaign's
    extended: bool
    late: bool  # submitted after its deadline, or not done and the deadline passed
    # (contact row, its last delivery row) pairs: turned into lines only for the rows a page shows
    contact_rows: tuple[tuple[Any, Any], ...] = field(default=(), compare=False, repr=False)
    active: bool = True  # False: a deactivated unit, shown for the report it began (q.shows_unit)

    @cached_property
    def contacts(self) -> tuple[ContactLine, ...]:
        return tuple(_contact_line(contact, delivery) for contact, delivery in self.contact_rows)

    @property
    def done(self) -> bool:
        return self.state in DONE

    @property
    def overdue(self) -> bool:
        """Not done and past its deadline."""
        return self.late and not self.done and self.state != engine.RETURNED


@dataclass
class Board:
    campaign: Campaign
    now: datetime
    rows: list[BoardRow]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def submitted(self) -> int:
        return sum(1 for r in self.rows if r.done)


async def load_board(s, campaign: Campaign, form: Form, now: datetime, *, unit_id: int | None = None) -> Board:
    """Every unit the campaign shows (q.shows_unit), or one, with its state, progress, contacts and last delivery.

    Plain column rows, not ORM objects: at 3,000 units, building objects cost ten times the queries."""
    query = (sa.select(Unit.id, Unit.code, Unit.name, Unit.active, Report.id.label("report_id"), Report.status,
                       Report.review, Report.progress, Report.missing_short, Report.submitted_at,
                       Report.first_submitted_at, Report.last_activity_at, Report.deadline_at)
             .outerjoin(Report, sa.and_(Report.unit_id == Unit.id, Report.campaign_id == campaign.id))
             .where(q.shows_unit(campaign.id)).order_by(Unit.id))
    contact_query = (sa.select(Contact.id, Contact.unit_id, Contact.display_name, Contact.channel, Contact.blocked_at,
                               Contact.last_seen_at)
                     .where(Contact.role == "unit", Contact.unit_id.is_not(None)).order_by(Contact.id))
    last_ids = (sa.select(sa.func.max(ReminderSend.id)).where(ReminderSend.campaign_id == campaign.id)
                .group_by(ReminderSend.contact_id))
    if unit_id is not None:
        query = query.where(Unit.id == unit_id)
        contact_query = contact_query.where(Contact.unit_id == unit_id)
        last_ids = last_ids.where(ReminderSend.unit_id == unit_id)
    conn = await s.connection()  # Core rows: the ORM's per-row work is not needed for plain columns
    units = (await conn.execute(query)).all()
    contacts: dict[int, list] = defaultdict(list)
    for contact in await conn.execute(contact_query):
        contacts[contact.unit_id].append(contact)
    deliveries = {row.contact_id: row for row in await conn.execute(
        sa.select(ReminderSend.contact_id, ReminderSend.state, ReminderSend.sent_at, ReminderSend.updated_at)
        .where(ReminderSend.id.in_(last_ids)))}
    unknown = [u.report_id for u in units
               if u.report_id is not None and u.progress is None and u.status != engine.NOT_STARTED]
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    if unknown:
        for report_id, key, value in await s.execute(
                sa.select(Answer.report_id, Answer.key, Answer.value).where(Answer.report_id.in_(unknown))):
            answers[report_id][key] = value
    rows = []
    for u in units:
        state = state_of(u if u.report_id is not None else None)
        deadline = u.deadline_at or campaign.deadline_at
        if u.report_id is None or u.status == engine.NOT_STARTED and u.progress is None:
            progress, missing = 0, ""
        elif u.progress is None:
            progress = completion(form, answers[u.report_id])
            missing = missing_summary(form, answers[u.report_id], limit=2)
        else:
            progress, missing = u.progress, u.missing_short or ""
        # On time or late is settled by the first submission (a correction sent later does not change it).
        late = u.first_submitted_at > deadline if u.first_submitted_at is not None else now > deadline
        pairs = tuple((c, deliveries.get(c.id)) for c in contacts.get(u.id, ()))
        rows.append(BoardRow(u.id, u.code, u.name, state, progress, missing, u.last_activity_at, u.submitted_at,
                             deadline, u.deadline_at is not None, late, pairs, bool(u.active)))
    counts = {state: 0 for state in STATES}
    for row in rows:
        counts[row.state] += 1
    return Board(campaign, now, rows, counts)


def _contact_line(contact, delivery) -> ContactLine:
    if contact.blocked_at is not None:
        return ContactLine(contact.display_name, contact.channel, "blocked", contact.blocked_at)
    if delivery is None:
        seen = getattr(contact, "last_seen_at", None)
        return ContactLine(contact.display_name, contact.channel, "seen" if seen else None, seen)
    state = {q.SEND_SENT: "sent", q.SEND_FAILED: "failed", q.SEND_PENDING: "pending",
             q.SEND_SENDING: "pending"}.get(delivery.state)
    return ContactLine(contact.display_name, contact.channel, state, delivery.sent_at or delivery.updated_at)


SORT_KEYS = {
    "code": lambda r: r.code,
    "name": lambda r: r.name.casefold(),
    "state": lambda r: STATES.index(r.state),
    "progress": lambda r: r.progress,
    "missing": lambda r: r.missing,
    "activity": lambda r: r.last_activity_at.timestamp() if r.last_activity_at else None,
    "submitted": lambda r: r.submitted_at.timestamp() if r.submitted_at else None,
    "late": lambda r: (r.late, r.code),
    "deadline": lambda r: r.deadline_at.timestamp(),
    "contacts": lambda r: len(r.contact_rows),
}


def select_rows(board: Board, *, state: str | None = None, sort: str = "code", descending: bool = False,
                overdue: bool = False) -> list[BoardRow]:
    """The rows shown: of one state (or every state; only the overdue ones), sorted by one column."""
    rows = [r for r in board.rows if (state is None or r.state == state) and (not overdue or r.overdue)]
    key = SORT_KEYS.get(sort, SORT_KEYS["code"])
    # A unit that never submitted (or never wrote) has no time: last in both directions, by code.
    known = sorted((r for r in rows if key(r) is not None), key=key, reverse=descending)
    return known + sorted((r for r in rows if key(r) is None), key=lambda r: r.code)
