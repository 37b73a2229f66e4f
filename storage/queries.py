"""Plain async query functions; each takes the session of the caller's transaction first."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from storage.models import (
    Answer,
    AuditLog,
    Base,
    Campaign,
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


def _insert(s: AsyncSession, model: type[Base]) -> Any:
    """INSERT with the dialect's ON CONFLICT support (both SQLite and PostgreSQL have it)."""
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def _canonical_json(value: Any) -> str:
    # Compare as stored: 1 and True, or 1 and 1.0, are different answers.
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# --- units -------------------------------------------------------------------------------------


def _unit_code(raw: str) -> str:
    code = raw.strip().upper()
    if not _UNIT_CODE.fullmatch(code):
        raise ValueError(f"unit code '{raw.strip()}' must be 1 to 32 of A-Z, 0-9, '_' or '-'")
    return code


def _unit_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", raw.strip())  # Windows tools may write decomposed Vietnamese
    if not name:
        raise ValueError("unit name is empty")
    return name


def read_units_csv(path: Path) -> list[tuple[str, str]]:
    """Read (code, name) rows from a UTF-8 "code,name" CSV; errors read "<file>:<line>: <problem>"."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not UTF-8 text (save the file as CSV UTF-8)") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise ValueError(f"{path}:1: the file is empty, expected the header 'code,name'")
    if [f.strip().lower() for f in _trim_empty_tail(header)] != ["code", "name"]:
        raise ValueError(f"{path}:1: expected the header 'code,name', got '{','.join(header)}'")
    rows: list[tuple[str, str]] = []
    first_line: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        fields = _trim_empty_tail(record)
        if not fields:
            continue
        try:
            if len(fields) != 2:
                raise ValueError(f"expected 2 columns (code,name), got {len(fields)}")
            code, name = _unit_code(fields[0]), _unit_name(fields[1])
            if code in first_line:
                raise ValueError(f"duplicate unit code '{code}' (first on line {first_line[code]})")
        except ValueError as exc:
            raise ValueError(f"{path}:{line}: {exc}") from None
        first_line[code] = line
        rows.append((code, name))
    return rows


def _trim_empty_tail(fields: list[str]) -> list[str]:
    # Spreadsheets often save trailing empty columns ("SNV,Sở Nội vụ,,"); an empty line has no fields.
    if not any(f.strip() for f in fields):
        return []
    while len(fields) > 2 and not fields[-1].strip():
        fields = fields[:-1]
    return fields


async def upsert_units(s: AsyncSession, rows: Iterable[tuple[str, str]], *, now: datetime) -> tuple[int, int]:
    """Create units by code or rename existing ones; return (created, updated)."""
    wanted: dict[str, str] = {}
    for raw_code, raw_name in rows:
        code = _unit_code(raw_code)
        if code in wanted:
            raise ValueError(f"duplicate unit code '{code}'")
        wanted[code] = _unit_name(raw_name)
    if not wanted:
        return 0, 0
    existing = {u.code: u for u in await s.scalars(sa.select(Unit).where(Unit.code.in_(wanted)))}
    created = updated = 0
    for code, name in wanted.items():
        unit = existing.get(code)
        if unit is None:
            s.add(Unit(code=code, name=name, active=True, created_at=now))
            created += 1
        elif unit.name != name:
            unit.name = name
            updated += 1
    await s.flush()
    return created, updated


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
    s: AsyncSession, *, title: str, deadline_at: datetime, form_id: str, doc_ref: str | None, now: datetime
) -> Campaign:
    """Create a campaign."""
    campaign = Campaign(
        title=title, deadline_at=deadline_at, form_id=form_id, doc_ref=doc_ref, created_at=now
    )
    s.add(campaign)
    await s.flush()
    return campaign


async def current_campaign(s: AsyncSession) -> Campaign | None:
    """The newest campaign (highest id), or None."""
    return await s.scalar(sa.select(Campaign).order_by(Campaign.id.desc()).limit(1))


async def get_campaign(s: AsyncSession, campaign_id: int) -> Campaign | None:
    """The campaign with this id, or None."""
    return await s.get(Campaign, campaign_id)


# --- contacts ----------------------------------------------------------------------------------


async def get_contact(s: AsyncSession, channel: str, platform_user_id: str) -> Contact | None:
    """The contact of this platform user on this channel, or None."""
    return await s.scalar(
        sa.select(Contact).where(Contact.channel == channel, Contact.platform_user_id == platform_user_id)
    )


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
    # ON CONFLICT DO NOTHING: two first messages of one person processed at once must not fail.
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
    contact = await s.scalar(
        sa.select(Contact)
        .where(Contact.channel == channel, Contact.platform_user_id == platform_user_id)
        .execution_options(populate_existing=True)
    )
    assert contact is not None
    contact.chat_id = chat_id
    if display_name is not None:  # a platform that sends no name must not erase the one we have
        contact.display_name = display_name
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
    """Revoke the invite; False if there is no such invite or it was already revoked."""
    invite = await find_invite(s, code)
    if invite is None or invite.revoked_at is not None:
        return False
    invite.revoked_at = now
    await s.flush()
    return True


async def list_invites(s: AsyncSession) -> list[Invite]:
    """All invites ordered by id."""
    return list(await s.scalars(sa.select(Invite).order_by(Invite.id)))


# --- reports and answers -----------------------------------------------------------------------


async def get_or_create_report(
    s: AsyncSession, *, campaign_id: int, unit_id: int, now: datetime, for_update: bool = False
) -> Report:
    """The unit's report for the campaign, created if missing; for_update row-locks it on PostgreSQL."""
    await s.execute(
        _insert(s, Report)
        .values(campaign_id=campaign_id, unit_id=unit_id, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["campaign_id", "unit_id"])
    )
    query = sa.select(Report).where(Report.campaign_id == campaign_id, Report.unit_id == unit_id)
    if for_update:  # SQLite renders no FOR UPDATE; its transactions are serialised anyway
        query = query.with_for_update().execution_options(populate_existing=True)
    report = await s.scalar(query)
    assert report is not None
    return report


async def load_answers(s: AsyncSession, report_id: int) -> dict[str, Any]:
    """All answers of the report as {key: value}."""
    rows = await s.execute(sa.select(Answer.key, Answer.value).where(Answer.report_id == report_id))
    return {key: value for key, value in rows}


async def save_answer_changes(
    s: AsyncSession,
    *,
    report_id: int,
    contact_id: int | None,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    at: datetime,
) -> int:
    """Write only what differs between before and after, audit each changed key, return how many changed."""
    changed = sorted(
        k for k in after if k not in before or _canonical_json(before[k]) != _canonical_json(after[k])
    )
    deleted = sorted(k for k in before if k not in after)
    if changed:
        # Upsert, not insert: another contact may have added the same key since `before` was read.
        stmt = _insert(s, Answer).values(
            [
                {"report_id": report_id, "key": k, "value": after[k], "updated_at": at,
                 "updated_by": contact_id}
                for k in changed
            ]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["report_id", "key"],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at,
                  "updated_by": stmt.excluded.updated_by},
        )
        await s.execute(stmt)
    if deleted:
        await s.execute(sa.delete(Answer).where(Answer.report_id == report_id, Answer.key.in_(deleted)))
    for k in changed:
        s.add(AuditLog(at=at, contact_id=contact_id, report_id=report_id, action="set", key=k,
                       old=before.get(k), new=after[k]))
    for k in deleted:
        s.add(AuditLog(at=at, contact_id=contact_id, report_id=report_id, action="delete", key=k,
                       old=before[k], new=None))
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
    """Every active unit (by id) with its report for the campaign, or None if it has none yet."""
    query = (
        sa.select(Unit, Report)
        .outerjoin(Report, sa.and_(Report.unit_id == Unit.id, Report.campaign_id == campaign_id))
        .where(Unit.active)
        .order_by(Unit.id)
    )
    return [(unit, report) for unit, report in await s.execute(query)]


# --- conversations -----------------------------------------------------------------------------


async def get_or_create_conversation(
    s: AsyncSession, *, contact_id: int, campaign_id: int, now: datetime, for_update: bool = False
) -> Conversation:
    """The conversation of this contact and campaign (cursor {} if new); for_update row-locks it."""
    await s.execute(
        _insert(s, Conversation)
        .values(contact_id=contact_id, campaign_id=campaign_id, cursor={}, updated_at=now)
        .on_conflict_do_nothing(index_elements=["contact_id", "campaign_id"])
    )
    query = sa.select(Conversation).where(
        Conversation.contact_id == contact_id, Conversation.campaign_id == campaign_id
    )
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    conversation = await s.scalar(query)
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


async def is_event_processed(s: AsyncSession, channel: str, event_id: str) -> bool:
    """Whether this platform event was already handled."""
    return await s.get(ProcessedEvent, (channel, event_id)) is not None


async def record_event(s: AsyncSession, channel: str, event_id: str, *, at: datetime) -> None:
    """Mark the event handled; a duplicate raises IntegrityError, so a racing repeat rolls back."""
    s.add(ProcessedEvent(channel=channel, event_id=event_id, processed_at=at))
    await s.flush()


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
) -> None:
    """Add an audit log row."""
    s.add(
        AuditLog(at=at, contact_id=contact_id, report_id=report_id, action=action, key=key, old=old, new=new)
    )


async def last_audit_at(s: AsyncSession, action: str) -> datetime | None:
    """When an action (such as "export") was last recorded, or None."""
    return await s.scalar(sa.select(sa.func.max(AuditLog.at)).where(AuditLog.action == action))
