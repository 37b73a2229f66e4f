"""Plain async query functions; each takes the session of the caller's transaction first."""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from storage.models import (
    Answer,
    AuditLog,
    Base,
    Campaign,
    CampaignUnit,
    Contact,
    Conversation,
    Invite,
    Photo,
    ProcessedEvent,
    Report,
    ReportVersion,
    Unit,
)

SAMPLE_UNITS_CSV = Path(__file__).resolve().with_name("sample_units.csv")

INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O/1/I/L: codes are read aloud and retyped
INVITE_CODE_LENGTH = 8
INVITE_ROLES = ("unit", "admin")

_UNIT_CODE = re.compile(r"[A-Z0-9_-]{1,32}")
# Phones and chat apps turn "-" into look-alike dashes; people add spaces of every kind.
_INVITE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
LAST_SEEN_RESOLUTION = timedelta(minutes=5)  # contact.last_seen_at is refreshed when older than this


def _insert(s: AsyncSession, model: type[Base]) -> Any:
    """INSERT with the dialect's ON CONFLICT support (both SQLite and PostgreSQL have it)."""
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def _canonical_json(value: Any) -> str:
    # Compare as stored: 1 and True, or 1 and 1.0, are different answers.
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# --- units -------------------------------------------------------------------------------------


class UnitRow(NamedTuple):
    """One unit of the province's list. group/email: None when the file has no such column (kept as stored),
    "" when the column is there and the cell is empty (cleared)."""

    code: str
    name: str
    group: str | None = None
    email: str | None = None


@dataclass
class UnitChanges:
    """What an import would change, computed before anything is written (the preview) and then applied."""

    rows: int = 0
    added: list[UnitRow] = field(default_factory=list)
    updated: list[tuple[Unit, UnitRow]] = field(default_factory=list)  # name, group or email differs
    reactivated: list[Unit] = field(default_factory=list)
    deactivated: list[Unit] = field(default_factory=list)  # --replace: active, not in the file
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not (self.added or self.updated or self.reactivated or self.deactivated)


def unit_code(raw: str) -> str:
    """A unit code as stored (uppercase); ValueError when it is not 1-32 of A-Z, 0-9, '_', '-'."""
    code = raw.strip().upper()
    if not _UNIT_CODE.fullmatch(code):
        raise ValueError(f"unit code '{raw.strip()}' must be 1 to 32 of A-Z, 0-9, '_' or '-'")
    return code


def unit_name(raw: str) -> str:
    """A unit name as stored: NFC (Windows tools may write decomposed Vietnamese), single spaces."""
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise ValueError("unit name is empty")
    return name


def _differs(unit: Unit, row: UnitRow) -> bool:
    return unit.name != row.name or (row.group is not None and (row.group or None) != unit.group_name) or \
        (row.email is not None and (row.email or None) != unit.email)


async def plan_units(s: AsyncSession, rows: Iterable[UnitRow | tuple], *, replace: bool = False) -> UnitChanges:
    """What importing `rows` would do, by code; `replace`: also deactivate every active unit not in `rows`."""
    wanted: dict[str, UnitRow] = {}
    for row in rows:
        row = UnitRow(*row)
        code = unit_code(row.code)
        if code in wanted:
            raise ValueError(f"duplicate unit code '{code}'")
        wanted[code] = row._replace(code=code, name=unit_name(row.name))
    changes = UnitChanges(rows=len(wanted))
    existing = {u.code: u for u in await s.scalars(sa.select(Unit).order_by(Unit.id))}
    for code, row in wanted.items():
        unit = existing.get(code)
        if unit is None:
            changes.added.append(row)
            continue
        if _differs(unit, row):
            changes.updated.append((unit, row))
        if not unit.active:
            changes.reactivated.append(unit)
        elif not _differs(unit, row):
            changes.unchanged += 1
    if replace:
        changes.deactivated = [u for code, u in existing.items() if u.active and code not in wanted]
    return changes


async def apply_units(s: AsyncSession, changes: UnitChanges, *, now: datetime) -> None:
    """Write what `plan_units` found, in the caller's transaction. Units are never deleted."""
    for row in changes.added:
        s.add(Unit(code=row.code, name=row.name, active=True, created_at=now, group_name=row.group or None,
                   email=row.email or None))
    for unit, row in changes.updated:
        unit.name = row.name
        if row.group is not None:
            unit.group_name = row.group or None
        if row.email is not None:
            unit.email = row.email or None
    for unit in changes.reactivated:
        unit.active, unit.deactivated_at = True, None
    for unit in changes.deactivated:
        unit.active, unit.deactivated_at = False, now
    await s.flush()


async def upsert_units(s: AsyncSession, rows: Iterable[UnitRow | tuple], *, now: datetime) -> tuple[int, int]:
    """Create units by code or rename existing ones (no unit deactivated); return (created, updated)."""
    changes = await plan_units(s, rows)
    await apply_units(s, changes, now=now)
    return len(changes.added), len(changes.updated)


async def set_unit_active(s: AsyncSession, unit: Unit, active: bool, *, now: datetime | None = None) -> bool:
    """Activate or deactivate a unit (deactivated `now`, when given); whether it changed."""
    if unit.active == active:
        return False
    unit.active, unit.deactivated_at = active, None if active else now
    await s.flush()
    return True


async def list_units(s: AsyncSession, *, active_only: bool = True) -> list[Unit]:
    """Units ordered by id, only active ones unless told otherwise."""
    query = sa.select(Unit).order_by(Unit.id)
    if active_only:
        query = query.where(Unit.active)
    return list(await s.scalars(query))


async def get_unit_by_code(s: AsyncSession, code: str) -> Unit | None:
    """The unit with this code, ignoring case and surrounding spaces (codes are stored uppercase)."""
    return await s.scalar(sa.select(Unit).where(Unit.code == code.strip().upper()))


async def get_unit(s: AsyncSession, unit_id: int) -> Unit | None:
    """The unit with this id, or None."""
    return await s.get(Unit, unit_id)


# --- campaigns ---------------------------------------------------------------------------------


async def create_campaign(
    s: AsyncSession, *, title: str, deadline_at: datetime, form_id: str, doc_ref: str | None, now: datetime,
    province: str | None = None, form_snapshot: dict[str, Any] | None = None, form_hash: str | None = None,
    unit_ids: Iterable[int] | None = None,
) -> Campaign:
    """Create a campaign (for `unit_ids` only, when given; else every active unit)."""
    campaign = Campaign(
        title=title, deadline_at=deadline_at, form_id=form_id, doc_ref=doc_ref, province=province, created_at=now,
        form_snapshot=form_snapshot, form_hash=form_hash,
    )
    s.add(campaign)
    await s.flush()
    for unit_id in sorted(set(unit_ids or ())):
        s.add(CampaignUnit(campaign_id=campaign.id, unit_id=unit_id))
    await s.flush()
    return campaign


async def current_campaign(s: AsyncSession) -> Campaign | None:
    """The newest open campaign; when every campaign is closed, the newest one (read-only); None if none."""
    return await s.scalar(sa.select(Campaign).order_by(Campaign.closed_at.is_not(None), Campaign.id.desc())
                          .limit(1))


async def list_campaigns(s: AsyncSession, *, open_only: bool = False) -> list[Campaign]:
    """Every campaign (or the open ones), oldest first."""
    query = sa.select(Campaign).order_by(Campaign.id)
    if open_only:
        query = query.where(Campaign.closed_at.is_(None))
    return list(await s.scalars(query))


def asks_unit(campaign_id: int) -> sa.ColumnElement[bool]:
    """SQL on Unit: the campaign asks the unit (it lists it, or lists no unit at all)."""
    listed = sa.select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == campaign_id)
    return sa.or_(~sa.exists(listed), Unit.id.in_(listed))


def shows_unit(campaign_id: int) -> sa.ColumnElement[bool]:
    """SQL on Unit: the unit is one of the campaign's, in its status, board, export and reminder digests.

    The campaign asks it, and it is active, or has begun its report there (any status beyond not started), or
    was deactivated after the campaign closed: a deactivated unit keeps, in every campaign open or closed, the
    report it began, marked inactive where shown, and a closed campaign keeps the units it asked while it ran
    (its "not started" lines too); otherwise it drops out (no "not started" line, no reminder). The one rule:
    callers use it, never Unit.active."""
    report = sa.orm.aliased(Report)  # callers join Report themselves: an alias is never correlated away
    begun = sa.exists(sa.select(report.id).where(report.campaign_id == campaign_id, report.unit_id == Unit.id,
                                                 report.status != "not_started"))
    campaign = sa.orm.aliased(Campaign)
    closed_at = sa.select(campaign.closed_at).where(campaign.id == campaign_id).scalar_subquery()
    after_close = sa.and_(Unit.deactivated_at.is_not(None), Unit.deactivated_at >= closed_at)
    return sa.and_(asks_unit(campaign_id), sa.or_(Unit.active.is_(True), begun, after_close))


# The statements run for every message are built once, with bound parameters: building one costs more CPU than
# running it (coercions, a cache key computed each time); a statement object built once keeps its cache key.
_listed = sa.select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == Campaign.id)
_unit_id = sa.bindparam("unit_id", type_=sa.Integer)
_OPEN_CAMPAIGNS_FOR_UNIT = (
    sa.select(Campaign)
    .where(Campaign.closed_at.is_(None),
           sa.exists(sa.select(Unit.id).where(Unit.id == _unit_id, Unit.active.is_(True))),  # none for an inactive one
           sa.or_(~sa.exists(_listed), _unit_id.in_(_listed)))
    .order_by(Campaign.id)
)


async def open_campaigns_for_unit(s: AsyncSession, unit_id: int) -> list[Campaign]:
    """The open campaigns that ask this unit, oldest first (none for a unit no longer active)."""
    return list(await s.scalars(_OPEN_CAMPAIGNS_FOR_UNIT, {"unit_id": unit_id}))


async def extensions_passed(s: AsyncSession, campaign_id: int, *, after: datetime,
                            now: datetime) -> dict[datetime, list[int]]:
    """Units not submitted whose own deadline (later than `after`, the campaign's) has passed: by deadline."""
    rows = await s.execute(sa.select(Report.deadline_at, Report.unit_id).where(
        Report.campaign_id == campaign_id, Report.deadline_at.is_not(None), Report.deadline_at > after,
        Report.deadline_at <= now, Report.status.not_in(("submitted", "submitted_late"))))
    out: dict[datetime, list[int]] = {}
    for deadline, unit_id in rows:
        out.setdefault(deadline, []).append(unit_id)
    return out


async def open_campaign_units(s: AsyncSession) -> dict[int, set[int] | None]:
    """Each open campaign's id with the units it lists (None: every active unit). Two queries."""
    out: dict[int, set[int] | None] = {c: None for c in await s.scalars(
        sa.select(Campaign.id).where(Campaign.closed_at.is_(None)))}
    rows = await s.execute(sa.select(CampaignUnit.campaign_id, CampaignUnit.unit_id)
                           .where(CampaignUnit.campaign_id.in_(list(out))))
    for campaign_id, unit_id in rows:
        out[campaign_id] = (out[campaign_id] or set()) | {unit_id}
    return out


async def campaign_unit_ids(s: AsyncSession, campaign_id: int) -> list[int]:
    """The units the campaign lists ([] : every active unit)."""
    return list(await s.scalars(sa.select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == campaign_id)
                                .order_by(CampaignUnit.unit_id)))


async def get_campaign(s: AsyncSession, campaign_id: int) -> Campaign | None:
    """The campaign with this id, or None."""
    return await s.get(Campaign, campaign_id)


# --- contacts ----------------------------------------------------------------------------------


_CONTACT = sa.select(Contact).where(Contact.channel == sa.bindparam("channel"),
                                    Contact.platform_user_id == sa.bindparam("user"))
_CONTACT_FRESH = _CONTACT.execution_options(populate_existing=True)


async def get_contact(s: AsyncSession, channel: str, platform_user_id: str) -> Contact | None:
    """The contact of this platform user on this channel, or None."""
    return await s.scalar(_CONTACT, {"channel": channel, "user": platform_user_id})


async def get_or_create_contact(
    s: AsyncSession,
    *,
    channel: str,
    platform_user_id: str,
    chat_id: str,
    display_name: str | None,
    now: datetime,
) -> Contact:
    """The contact for this platform user, created if new; refreshes chat_id, display_name, last_seen_at."""
    params = {"channel": channel, "user": platform_user_id}
    contact = await s.scalar(_CONTACT_FRESH, params)
    if contact is None:
        # ON CONFLICT DO NOTHING: two first messages of one person processed at once must not fail. Only tried
        # when the row is missing: SQLAlchemy cannot cache an ON CONFLICT statement, so it is compiled each time.
        await s.execute(
            _insert(s, Contact)
            .values(
                channel=channel,
                platform_user_id=platform_user_id,
                chat_id=chat_id,
                display_name=display_name,
                created_at=now,
                last_seen_at=now,
            )
            .on_conflict_do_nothing(index_elements=["channel", "platform_user_id"])
        )
        contact = await s.scalar(_CONTACT_FRESH, params)
        assert contact is not None
    if contact.chat_id != chat_id:
        contact.chat_id = chat_id
    # A platform that sends no name must not erase the one we have.
    if display_name is not None and contact.display_name != display_name:
        contact.display_name = display_name
    # Refreshed coarsely: writing it on every message would UPDATE the contact row for nearly every event.
    if contact.last_seen_at is None or now - contact.last_seen_at >= LAST_SEEN_RESOLUTION:
        contact.last_seen_at = now
    return contact


async def list_contacts(
    s: AsyncSession, *, unit_id: int | None = None, role: str | None = None
) -> list[Contact]:
    """Contacts ordered by id, optionally only those of one unit and/or one role."""
    query = sa.select(Contact).order_by(Contact.id)
    if unit_id is not None:
        query = query.where(Contact.unit_id == unit_id)
    if role is not None:
        query = query.where(Contact.role == role)
    return list(await s.scalars(query))


# --- invites -----------------------------------------------------------------------------------


def normalize_invite_code(raw: str) -> str:
    """Uppercase the code and drop spaces and dashes, so "k7qm-2pxw" matches "K7QM2PXW"."""
    return _INVITE_SEPARATORS.sub("", raw).upper()


def _random_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


async def create_invite(
    s: AsyncSession, *, unit_id: int | None, role: str, expires_at: datetime, max_uses: int, now: datetime
) -> Invite:
    """Create an invite with a fresh random code."""
    if role not in INVITE_ROLES:
        raise ValueError(f"invite role must be one of {INVITE_ROLES}, got {role!r}")
    if role == "unit" and unit_id is None:
        raise ValueError("a unit invite needs a unit_id")
    for _ in range(10):
        code = _random_invite_code()
        if await s.scalar(sa.select(Invite.id).where(Invite.code == code)) is None:
            break
    else:
        raise RuntimeError("could not find an unused invite code in 10 tries")
    invite = Invite(
        code=code, unit_id=unit_id, role=role, expires_at=expires_at, max_uses=max_uses, uses=0,
        created_at=now,
    )
    s.add(invite)
    await s.flush()
    return invite


async def find_invite(s: AsyncSession, code: str) -> Invite | None:
    """The invite with this code as a person typed it (any case, spaces and dashes allowed), or None."""
    return await s.scalar(sa.select(Invite).where(Invite.code == normalize_invite_code(code)))


async def revoke_invite(s: AsyncSession, code: str, *, now: datetime) -> bool:
    """Revoke the invite; False if there is no such invite or it was already revoked.

    The admins bound with it are unbound, even when it was revoked before: an admin's access rests on the
    invite. Unit contacts stay bound (`unbind_contact` each of `contacts_bound_with` to remove them too).
    """
    invite = await find_invite(s, code)
    if invite is None:
        return False
    if invite.role == "admin":
        for contact in await contacts_bound_with(s, invite.id):
            await unbind_contact(s, contact, now=now, reason="invite_revoked")
    if invite.revoked_at is not None:
        return False
    invite.revoked_at = now
    await s.flush()
    return True


async def list_invites(s: AsyncSession) -> list[Invite]:
    """All invites ordered by id."""
    return list(await s.scalars(sa.select(Invite).order_by(Invite.id)))


# --- who is bound with which invite --------------------------------------------------------------


def _binding(contact: Contact) -> dict[str, Any]:
    return {"role": contact.role, "unit": contact.unit_id, "invite": contact.invite_id}


async def _restart_conversations(s: AsyncSession, contact_id: int) -> None:
    """A contact's place in the form belongs to the binding it was made in: the next message starts afresh."""
    await s.execute(sa.update(Conversation).where(Conversation.contact_id == contact_id)
                    .values(cursor={}, pending_key=None, pending_replies=None, pending_at=None))


async def bind_contact(s: AsyncSession, contact: Contact, invite: Invite, *, now: datetime) -> None:
    """Bind the contact with the invite (one use of it, audited); a previous binding is replaced."""
    previous = _binding(contact) if contact.role is not None else None
    invite.uses += 1
    contact.role, contact.unit_id, contact.invite_id, contact.bound_at = invite.role, invite.unit_id, invite.id, now
    contact.pending_invite_id = None
    contact.invite_failures = 0
    contact.invite_locked_until = None
    if previous is not None:
        await _restart_conversations(s, contact.id)
        if (previous["role"], previous["unit"]) != (invite.role, invite.unit_id):
            from storage.models import WebFormLink  # moved: the report page's links and sessions end

            await s.execute(sa.update(WebFormLink).where(WebFormLink.contact_id == contact.id,
                                                         WebFormLink.revoked_at.is_(None)).values(revoked_at=now))
    await add_audit(s, at=now, action="bind", contact_id=contact.id, old=previous,
                    new={"invite": invite.id, "role": invite.role})


async def unbind_contact(s: AsyncSession, contact: Contact, *, now: datetime, reason: str) -> None:
    """Clear the contact's role and unit (audited): their next message gets the invite prompt."""
    old = _binding(contact)
    contact.role = contact.unit_id = contact.invite_id = contact.bound_at = contact.pending_invite_id = None
    await _restart_conversations(s, contact.id)
    from storage.models import WebFormLink  # the report page's links and sessions end with the binding

    await s.execute(sa.update(WebFormLink).where(WebFormLink.contact_id == contact.id,
                                                 WebFormLink.revoked_at.is_(None)).values(revoked_at=now))
    await add_audit(s, at=now, action="unbind", contact_id=contact.id, old=old, new={"reason": reason})


async def get_contact_by_id(s: AsyncSession, contact_id: int) -> Contact | None:
    """The contact with this id, or None."""
    return await s.get(Contact, contact_id)


async def contacts_bound_with(s: AsyncSession, invite_id: int) -> list[Contact]:
    """The contacts bound with this invite now, ordered by id."""
    return list(await s.scalars(sa.select(Contact).where(Contact.invite_id == invite_id,
                                                         Contact.role.is_not(None)).order_by(Contact.id)))


async def list_bound_contacts(
    s: AsyncSession, *, unit_id: int | None = None
) -> list[tuple[Contact, Unit | None, Invite | None]]:
    """Bound contacts (admins first, then by unit code) with their unit and invite; only one unit's if asked."""
    query = (sa.select(Contact, Unit, Invite)
             .outerjoin(Unit, Unit.id == Contact.unit_id)
             .outerjoin(Invite, Invite.id == Contact.invite_id)
             .where(Contact.role.is_not(None))
             .order_by(Contact.role == "unit", Unit.code, Contact.id))
    if unit_id is not None:
        query = query.where(Contact.unit_id == unit_id)
    return [tuple(row) for row in await s.execute(query)]


# --- reports and answers -----------------------------------------------------------------------


async def get_or_create_report(
    s: AsyncSession, *, campaign_id: int, unit_id: int, now: datetime, for_update: bool = False
) -> Report:
    """The unit's report for the campaign, created if missing; for_update row-locks it on PostgreSQL."""
    query = sa.select(Report).where(Report.campaign_id == campaign_id, Report.unit_id == unit_id)
    if for_update:  # SQLite renders no FOR UPDATE; its transactions are serialised anyway
        # FOR NO KEY UPDATE: a photo row inserted in this or another transaction takes a key-share lock on the
        # report through its foreign key; a plain FOR UPDATE would conflict with it and deadlock.
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    report = await s.scalar(query)
    if report is None:
        # Select first: the ON CONFLICT insert cannot be cached by SQLAlchemy. A report created by a concurrent
        # transaction makes the insert wait for it and do nothing; the second select then sees (and locks) it.
        await s.execute(
            _insert(s, Report)
            .values(campaign_id=campaign_id, unit_id=unit_id, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["campaign_id", "unit_id"])
        )
        report = await s.scalar(query)
        assert report is not None
    return report


_LOCK_REPORT = (
    sa.select(Report, Unit.name)
    .join(Unit, Unit.id == Report.unit_id)
    .where(Report.campaign_id == sa.bindparam("campaign_id"), Report.unit_id == sa.bindparam("unit_id"))
    # FOR NO KEY UPDATE OF report: see get_or_create_report; the unit row is only read.
    .with_for_update(of=Report, key_share=True)
    .execution_options(populate_existing=True)
)


async def lock_report(s: AsyncSession, *, campaign_id: int, unit_id: int, now: datetime) -> tuple[Report, str]:
    """The unit's report, created if missing and row-locked (PostgreSQL), with the unit's name: one statement."""
    params = {"campaign_id": campaign_id, "unit_id": unit_id}
    row = (await s.execute(_LOCK_REPORT, params)).first()
    if row is None:
        await get_or_create_report(s, campaign_id=campaign_id, unit_id=unit_id, now=now)
        row = (await s.execute(_LOCK_REPORT, params)).first()
        assert row is not None
    return row[0], row[1]


# Core: half the cost of an ORM-enabled select, on every message.
_ANSWERS = sa.select(Answer.__table__.c.key, Answer.__table__.c.value).where(
    Answer.__table__.c.report_id == sa.bindparam("report_id"))


async def load_answers(s: AsyncSession, report_id: int) -> dict[str, Any]:
    """All answers of the report as {key: value}."""
    return dict((await s.execute(_ANSWERS, {"report_id": report_id})).all())


# The answer upsert as plain text, the same on SQLite and PostgreSQL: SQLAlchemy cannot cache an ON CONFLICT
# construct (sqlalchemy issue #10445) and would compile it again on every message; a text() statement is cached.
_UPSERT_ANSWER = sa.text(
    'INSERT INTO answer (report_id, "key", value, updated_at, updated_by) '
    'VALUES (:report_id, :key, :value, :updated_at, :updated_by) '
    'ON CONFLICT (report_id, "key") DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, '
    "updated_by = excluded.updated_by"
).bindparams(
    sa.bindparam("report_id", type_=Answer.__table__.c.report_id.type),
    sa.bindparam("key", type_=Answer.__table__.c.key.type),
    sa.bindparam("value", type_=Answer.__table__.c.value.type),
    sa.bindparam("updated_at", type_=Answer.__table__.c.updated_at.type),
    sa.bindparam("updated_by", type_=Answer.__table__.c.updated_by.type),
)
# Audit rows of answer changes as one Core executemany, not ORM objects (no ids to fetch back, no unit of work).
_INSERT_AUDIT = sa.insert(AuditLog.__table__)


async def save_answer_changes(
    s: AsyncSession,
    *,
    report_id: int,
    contact_id: int | None,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    at: datetime,
    via: str | None = None,
) -> int:
    """Write only what differs between before and after, audit each changed key (with the channel `via`, "web" for
    the page), return how many changed."""
    changed = sorted(  # the engine passes on the values it did not change: `is` settles most keys at once
        k for k in after if k not in before or (
            after[k] is not before[k] and _canonical_json(before[k]) != _canonical_json(after[k]))
    )
    deleted = sorted(k for k in before if k not in after)
    if changed:
        # Upsert, not insert: another contact may have added the same key since `before` was read.
        await s.execute(
            _UPSERT_ANSWER,
            [{"report_id": report_id, "key": k, "value": after[k], "updated_at": at, "updated_by": contact_id}
             for k in changed],
        )
    if deleted:
        await s.execute(sa.delete(Answer).where(Answer.report_id == report_id, Answer.key.in_(deleted)))
    audit = [{"at": at, "contact_id": contact_id, "report_id": report_id, "action": "set", "key": k,
              "old": before.get(k), "new": after[k], "via": via} for k in changed]
    audit += [{"at": at, "contact_id": contact_id, "report_id": report_id, "action": "delete", "key": k,
               "old": before[k], "new": None, "via": via} for k in deleted]
    if audit:
        await s.execute(_INSERT_AUDIT, audit)
    return len(changed) + len(deleted)


async def add_report_version(
    s: AsyncSession,
    *,
    report_id: int,
    answers: Mapping[str, Any],
    contact_id: int | None,
    at: datetime,
    late: bool,
) -> ReportVersion:
    """Freeze a copy of the answers as the next version (callers hold the report's lock)."""
    last = await s.scalar(
        sa.select(sa.func.max(ReportVersion.version)).where(ReportVersion.report_id == report_id)
    )
    version = ReportVersion(
        report_id=report_id, version=(last or 0) + 1, answers=dict(answers), submitted_at=at,
        submitted_by=contact_id, late=late,
    )
    s.add(version)
    await s.flush()
    return version


async def list_report_versions(s: AsyncSession, report_id: int) -> list[ReportVersion]:
    """The report's versions, oldest first."""
    query = (
        sa.select(ReportVersion)
        .where(ReportVersion.report_id == report_id)
        .order_by(ReportVersion.version)
    )
    return list(await s.scalars(query))


async def reports_by_unit(s: AsyncSession, campaign_id: int) -> list[tuple[Unit, Report | None]]:
    """Every unit the campaign shows (`shows_unit`, by id) with its report there, or None if it has none yet."""
    query = (
        sa.select(Unit, Report)
        .outerjoin(Report, sa.and_(Report.unit_id == Unit.id, Report.campaign_id == campaign_id))
        .where(shows_unit(campaign_id))
        .order_by(Unit.id)
    )
    return [(unit, report) for unit, report in await s.execute(query)]


# --- conversations -----------------------------------------------------------------------------


async def find_conversation(s: AsyncSession, contact_id: int, campaign_id: int) -> Conversation | None:
    """The conversation of this contact and campaign, or None if they never had one."""
    return await s.scalar(sa.select(Conversation).where(Conversation.contact_id == contact_id,
                                                        Conversation.campaign_id == campaign_id))


_CONVERSATION = sa.select(Conversation).where(Conversation.contact_id == sa.bindparam("contact_id"),
                                              Conversation.campaign_id == sa.bindparam("campaign_id"))
# FOR NO KEY UPDATE: a photo row inserted in this or another transaction takes a key-share lock on the report
# through its foreign key; a plain FOR UPDATE would conflict with it and deadlock.
_CONVERSATION_LOCKED = _CONVERSATION.with_for_update(key_share=True).execution_options(populate_existing=True)


async def get_or_create_conversation(
    s: AsyncSession, *, contact_id: int, campaign_id: int, now: datetime, for_update: bool = False
) -> Conversation:
    """The conversation of this contact and campaign (cursor {} if new); for_update row-locks it."""
    query = _CONVERSATION_LOCKED if for_update else _CONVERSATION
    params = {"contact_id": contact_id, "campaign_id": campaign_id}
    conversation = await s.scalar(query, params)
    if conversation is None:  # select first: the ON CONFLICT insert cannot be cached by SQLAlchemy
        await s.execute(
            _insert(s, Conversation)
            .values(contact_id=contact_id, campaign_id=campaign_id, cursor={}, updated_at=now)
            .on_conflict_do_nothing(index_elements=["contact_id", "campaign_id"])
        )
        conversation = await s.scalar(query, params)
        assert conversation is not None
    return conversation


async def save_cursor(s: AsyncSession, conversation: Conversation, cursor: dict, *, now: datetime) -> None:
    """Store the engine's new cursor for the conversation."""
    s.add(conversation)
    conversation.cursor = dict(cursor)
    # A plain JSON column compares old and new by value; if the caller mutated the loaded dict in place,
    # both look equal and nothing would be written. Force the UPDATE.
    flag_modified(conversation, "cursor")
    conversation.updated_at = now


# --- processed events, photos, audit -----------------------------------------------------------


_CLAIM_EVENT = sa.text(
    "INSERT INTO processed_event (channel, event_id, processed_at) VALUES (:channel, :event_id, :at) "
    "ON CONFLICT DO NOTHING"
).bindparams(sa.bindparam("at", type_=ProcessedEvent.__table__.c.processed_at.type))


async def claim_event(s: AsyncSession, channel: str, event_id: str, *, at: datetime) -> bool:
    """Record the event as handled, first thing in the transaction; False when it already was.

    One statement instead of a look-up and an insert, and a constant one, so SQLAlchemy compiles it once. On
    PostgreSQL a concurrent transaction with the same event waits here for the first to end, then gets False.
    """
    result = await s.execute(_CLAIM_EVENT, {"channel": channel, "event_id": event_id, "at": at})
    return result.rowcount == 1


def _contact_of(channel: Any, user: Any) -> Any:
    return (sa.select(Contact.id).where(Contact.channel == channel, Contact.platform_user_id == user)
            .scalar_subquery())


_LAST_MESSAGE = (
    sa.select(Conversation.__table__.c.pending_at, Conversation.__table__.c.pending_replies)
    .where(Conversation.__table__.c.contact_id == sa.bindparam("contact_id"),
           Conversation.__table__.c.pending_key == sa.bindparam("key"))
    .order_by(Conversation.__table__.c.pending_at.desc()).limit(1)
)


async def last_message(s: AsyncSession, contact_id: int, key: str) -> tuple[datetime | None, list[Any] | None] | None:
    """(when its replies were committed or, once sent, when they were sent; the replies if not yet sent) of a
    conversation of the contact whose last message had this fingerprint; None when none had."""
    row = (await s.execute(_LAST_MESSAGE, {"contact_id": contact_id, "key": key})).first()
    return None if row is None else (row[0], row[1])


async def find_pending_replies(s: AsyncSession, channel: str, platform_user_id: str,
                               key: str) -> tuple[list[Any], datetime] | None:
    """(replies, when committed) of the contact's conversation whose pending replies answer `key`, if any."""
    row = (await s.execute(
        sa.select(Conversation.pending_replies, Conversation.pending_at)
        .where(Conversation.contact_id == _contact_of(channel, platform_user_id), Conversation.pending_key == key,
               Conversation.pending_replies.is_not(None))
        .order_by(Conversation.pending_at.desc())  # a contact has one conversation per campaign: the latest
    )).first()
    return None if row is None or row[1] is None or row[0] is None else (row[0], row[1])


async def clear_pending_replies(s: AsyncSession, sent: list[tuple[str, str, str, datetime]]) -> None:
    """Forget the pending replies of (channel, platform user id, key, when sent) rows: they were sent. The key stays
    and pending_at becomes the time they were sent: a repeat of that message that arrived before then is a re-send,
    not an answer (see bot/repeats.py, before_its_replies)."""
    if not sent:
        return
    table = Conversation.__table__  # Core, not ORM: a list of parameters would make an ORM UPDATE "bulk by key"
    await s.execute(
        sa.update(table)
        .where(table.c.contact_id == _contact_of(sa.bindparam("ch"), sa.bindparam("user")),
               table.c.pending_key == sa.bindparam("key"), table.c.pending_replies.is_not(None))
        .values(pending_replies=sa.null(), pending_at=sa.bindparam("sent_at", type_=table.c.pending_at.type)),
        [{"ch": ch, "user": user, "key": key, "sent_at": at} for ch, user, key, at in sent],
    )


async def add_photo(
    s: AsyncSession,
    *,
    report_id: int | None,
    contact_id: int | None,
    sha256: str,
    original_path: str,
    processed_path: str,
    width: int,
    height: int,
    at: datetime,
) -> Photo:
    """Record a stored photo."""
    photo = Photo(
        report_id=report_id, contact_id=contact_id, sha256=sha256, original_path=original_path,
        processed_path=processed_path, width=width, height=height, created_at=at,
    )
    s.add(photo)
    await s.flush()
    return photo


async def get_photo(s: AsyncSession, photo_id: int) -> Photo | None:
    """The photo with this id, or None."""
    return await s.get(Photo, photo_id)


async def add_audit(
    s: AsyncSession,
    *,
    at: datetime,
    action: str,
    contact_id: int | None = None,
    report_id: int | None = None,
    key: str | None = None,
    old: Any = None,
    new: Any = None,
    via: str | None = None,
) -> None:
    """Add an audit log row (`via`: "web" for the page, None for the chat)."""
    s.add(
        AuditLog(at=at, contact_id=contact_id, report_id=report_id, action=action, key=key, old=old, new=new, via=via)
    )


async def last_audit_at(s: AsyncSession, action: str, campaign_id: int | None = None) -> datetime | None:
    """When an action (such as "export") was last recorded (for this campaign, when given), or None.

    A row recorded before campaigns were named in it counts for every campaign."""
    if campaign_id is None:
        return await s.scalar(sa.select(sa.func.max(AuditLog.at)).where(AuditLog.action == action))
    for at, new in await s.execute(sa.select(AuditLog.at, AuditLog.new).where(AuditLog.action == action)
                                   .order_by(AuditLog.at.desc())):
        if (new or {}).get("campaign", campaign_id) == campaign_id:
            return at
    return None


# --- reminders ---------------------------------------------------------------------------------

# Appended with the reminders (bot/reminders/); kept apart from the import block above on purpose.
from sqlalchemy.orm import aliased  # noqa: E402

from storage.models import ReminderPlan, ReminderSend, ReminderSlot  # noqa: E402

SEND_PENDING, SEND_SENDING, SEND_SENT, SEND_FAILED = "pending", "sending", "sent", "failed"
SEND_SKIPPED, SEND_EXPIRED = "skipped", "expired"  # unit submitted before its turn; a newer slot fired first
# A slot (and its sends) carrying a message written once for a unit's contacts (the department's return for
# correction): sent by the reminder path, never expired by a newer slot, never counted as a reminder slot.
NOTICE = "notice"
# A manual slot for some units only (an officer's "Nhắc ngay" on one row): not a slot of the plan either.
MANUAL_UNIT = "manual_unit"
# The overdue notice of units whose own (extended) deadline passed after the campaign's: off the plan too.
OVERDUE_UNIT = "overdue_unit"
OFF_PLAN = (NOTICE, MANUAL_UNIT, OVERDUE_UNIT)


async def get_reminder_plan(s: AsyncSession, campaign_id: int) -> ReminderPlan | None:
    """The campaign's stored reminder plan, or None while it uses the default one."""
    return await s.get(ReminderPlan, campaign_id)


async def save_reminder_plan(
    s: AsyncSession,
    campaign_id: int,
    *,
    slots: list[dict[str, Any]],
    overdue_after_minutes: int,
    quiet_start: str,
    quiet_end: str,
    catch_up_minutes: int,
    now: datetime,
) -> ReminderPlan:
    """Create or replace the campaign's reminder plan."""
    plan = await s.get(ReminderPlan, campaign_id, with_for_update=True)
    if plan is None:
        plan = ReminderPlan(campaign_id=campaign_id)
        s.add(plan)
    plan.slots = list(slots)
    flag_modified(plan, "slots")
    plan.overdue_after_minutes = overdue_after_minutes
    plan.quiet_start, plan.quiet_end = quiet_start, quiet_end
    plan.catch_up_minutes = catch_up_minutes
    plan.updated_at = now
    await s.flush()
    return plan


async def list_reminder_slots(s: AsyncSession, campaign_id: int) -> list[ReminderSlot]:
    """The slots of the campaign that fired, oldest first."""
    query = (sa.select(ReminderSlot).where(ReminderSlot.campaign_id == campaign_id,
                                           ReminderSlot.kind.not_in(OFF_PLAN))
             .order_by(ReminderSlot.at))
    return list(await s.scalars(query))


async def last_reminder_slot_at(s: AsyncSession, campaign_id: int) -> datetime | None:
    """The time of the campaign's latest fired slot, or None."""
    return await s.scalar(sa.select(sa.func.max(ReminderSlot.at)).where(ReminderSlot.campaign_id == campaign_id,
                                                                        ReminderSlot.kind.not_in(OFF_PLAN)))


async def insert_reminder_slot(
    s: AsyncSession, *, campaign_id: int, at: datetime, kind: str, deadline_at: datetime, now: datetime,
    worker: str | None,
) -> int | None:
    """Record that a slot fires; its id, or None when it had already fired (here or in another worker)."""
    stmt = (
        _insert(s, ReminderSlot)
        .values(campaign_id=campaign_id, at=at, kind=kind, deadline_at=deadline_at, fired_at=now, fired_by=worker)
        .on_conflict_do_nothing(index_elements=["campaign_id", "at"])
        .returning(ReminderSlot.id)
    )
    return (await s.execute(stmt)).scalar_one_or_none()


async def add_reminder_sends(s: AsyncSession, rows: list[dict[str, Any]], *, now: datetime) -> int:
    """Plan messages of one slot (slot_id, campaign_id, unit_id, contact_id, channel, kind); a repeat is ignored."""
    if not rows:
        return 0
    stmt = (
        _insert(s, ReminderSend)
        .values([{**row, "state": SEND_PENDING, "attempts": 0, "created_at": now, "updated_at": now} for row in rows])
        .on_conflict_do_nothing(index_elements=["slot_id", "contact_id"])
    )
    await s.execute(stmt)
    return len(rows)


async def expire_campaign_sends(s: AsyncSession, campaign_id: int, now: datetime) -> int:
    """Every pending message of the campaign (notices too) will not go out: the campaign is closed."""
    result = await s.execute(sa.update(ReminderSend)
                             .where(ReminderSend.campaign_id == campaign_id, ReminderSend.state == SEND_PENDING)
                             .values(state=SEND_EXPIRED, updated_at=now))
    return result.rowcount or 0


async def expire_reminder_sends(s: AsyncSession, *, campaign_id: int, before_slot_id: int, now: datetime,
                                unit_ids: Iterable[int] | None = None) -> int:
    """Pending messages of the campaign's older slots (only those to `unit_ids`, when given) will not go out any
    more: a newer slot replaces them. Notices are never replaced."""
    query = (sa.update(ReminderSend)
             .where(ReminderSend.campaign_id == campaign_id, ReminderSend.slot_id != before_slot_id,
                    ReminderSend.state == SEND_PENDING, ReminderSend.kind != NOTICE))
    if unit_ids is not None:
        query = query.where(ReminderSend.unit_id.in_(list(unit_ids)))
    result = await s.execute(query.values(state=SEND_EXPIRED, updated_at=now))
    return result.rowcount or 0


async def claim_reminder_sends(
    s: AsyncSession, *, campaign_id: int, channel: str, served: Iterable[str], limit: int
) -> list[ReminderSend]:
    """Lock up to `limit` pending messages on `channel`, skipping rows other workers hold (SKIP LOCKED).

    An admin's digest waits until the slot's unit messages on the `served` channels are done, so that it can
    say who was reached. SQLite renders no FOR UPDATE: its writers are serialised anyway.
    """
    served = list(served)
    other = aliased(ReminderSend)
    units_open = sa.exists().where(
        other.slot_id == ReminderSend.slot_id, other.kind == "unit",
        sa.or_(other.state == SEND_SENDING, sa.and_(other.state == SEND_PENDING, other.channel.in_(served))),
    )
    query = (
        sa.select(ReminderSend)
        .where(ReminderSend.campaign_id == campaign_id, ReminderSend.state == SEND_PENDING,
               ReminderSend.channel == channel, sa.or_(ReminderSend.kind == "unit", ~units_open))
        .order_by(ReminderSend.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=ReminderSend)
        .execution_options(populate_existing=True)
    )
    return list(await s.scalars(query))


async def recover_stale_reminder_sends(s: AsyncSession, *, claimed_before: datetime, now: datetime) -> int:
    """Messages left "sending" by a worker that died: their outcome is unknown, so failed, never sent twice."""
    result = await s.execute(
        sa.update(ReminderSend)
        .where(ReminderSend.state == SEND_SENDING, ReminderSend.claimed_at < claimed_before)
        .values(state=SEND_FAILED, last_error="interrupted", updated_at=now)
    )
    return result.rowcount or 0


async def list_reminder_sends(
    s: AsyncSession, *, campaign_id: int | None = None, slot_id: int | None = None
) -> list[ReminderSend]:
    """Planned and sent messages, by id, of a campaign and/or one slot."""
    query = sa.select(ReminderSend).order_by(ReminderSend.id)
    if campaign_id is not None:
        query = query.where(ReminderSend.campaign_id == campaign_id)
    if slot_id is not None:
        query = query.where(ReminderSend.slot_id == slot_id)
    return list(await s.scalars(query))


async def finish_reminder_send(
    s: AsyncSession, send_id: int, *, worker: str, state: str, attempts: int, error: str | None, now: datetime
) -> int | None:
    """Record how a claimed message ended (sent, failed, or pending again); its contact id, or None when the
    row is no longer this worker's "sending" row."""
    values: dict[str, Any] = {"state": state, "attempts": ReminderSend.attempts + attempts, "last_error": error,
                              "updated_at": now}
    if state == SEND_SENT:
        values["sent_at"] = now
    if state == SEND_PENDING:
        values.update(claimed_by=None, claimed_at=None)
    result = await s.execute(
        sa.update(ReminderSend)
        .where(ReminderSend.id == send_id, ReminderSend.state == SEND_SENDING, ReminderSend.claimed_by == worker)
        .values(**values)
        .returning(ReminderSend.contact_id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def set_contact_blocked(s: AsyncSession, contact_id: int, at: datetime | None) -> None:
    """Mark a contact as not reachable since `at`, or (None) as reachable again; no write when unchanged."""
    query = sa.update(Contact).where(Contact.id == contact_id)
    query = query.where(Contact.blocked_at.is_not(None)) if at is None else query
    await s.execute(query.values(blocked_at=at).execution_options(synchronize_session=False))


# --- purging personal data after a campaign -------------------------------------------------------


async def reports_of_campaign(s: AsyncSession, campaign_id: int) -> list[Report]:
    """Every report of a campaign, by id."""
    return list(await s.scalars(sa.select(Report).where(Report.campaign_id == campaign_id).order_by(Report.id)))


async def blank_answers(s: AsyncSession, report_id: int, keys: Iterable[str], *, at: datetime) -> int:
    """Set these answers to null without auditing their old values (that would copy what is being removed)."""
    keys = list(keys)
    if not keys:
        return 0
    result = await s.execute(sa.update(Answer).where(Answer.report_id == report_id, Answer.key.in_(keys))
                             .values(value=None, updated_at=at))
    return result.rowcount or 0


async def scrub_audit(s: AsyncSession, report_ids: list[int], keys: Iterable[str]) -> int:
    """Drop the old and new values of audit rows about these answer keys."""
    keys = list(keys)
    if not report_ids or not keys:
        return 0
    result = await s.execute(sa.update(AuditLog).where(AuditLog.report_id.in_(report_ids), AuditLog.key.in_(keys))
                             .values(old=None, new=None))
    return result.rowcount or 0


async def photos_of_reports(s: AsyncSession, report_ids: list[int]) -> list[Photo]:
    """The photos received for these reports."""
    if not report_ids:
        return []
    return list(await s.scalars(sa.select(Photo).where(Photo.report_id.in_(report_ids)).order_by(Photo.id)))


async def delete_photos(s: AsyncSession, photo_ids: list[int]) -> list[str]:
    """Delete photo rows; the file paths no other photo row still uses (safe to remove from disk)."""
    if not photo_ids:
        return []
    rows = list(await s.execute(sa.select(Photo.original_path, Photo.processed_path).where(Photo.id.in_(photo_ids))))
    await s.execute(sa.delete(Photo).where(Photo.id.in_(photo_ids)))
    paths = {p for row in rows for p in row}
    still_used = set(await s.scalars(sa.select(Photo.original_path).where(Photo.original_path.in_(paths)))) | \
        set(await s.scalars(sa.select(Photo.processed_path).where(Photo.processed_path.in_(paths))))
    return sorted(paths - still_used)


async def audit_keys(s: AsyncSession, report_ids: list[int]) -> set[str]:
    """Every answer key the audit log mentions for these reports (including answers deleted since)."""
    if not report_ids:
        return set()
    return set(await s.scalars(sa.select(AuditLog.key).where(AuditLog.report_id.in_(report_ids),
                                                              AuditLog.key.is_not(None)).distinct()))
