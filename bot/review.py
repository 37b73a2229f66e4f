"""The department's review of a unit's report: accept, return for correction, reopen, a deadline for one unit.

The web console, the CLI and the chat's admin commands call these; each runs in the caller's transaction and
writes the audit log with the officer's name. Each takes what the officer saw (`expect`, a `Seen` token: the
report's last submitted version and last audit entry): the report row is locked, the token compared, and when
the report changed since (a colleague's decision, the unit's new submission) nothing changes and `Stale` says
what happened, by whom and when. The chat's commands carry `SeenUpTo`: the decisions the officer was shown
(their "tình hình", their last action on the unit); anyone else's since makes the action stale. The CLI without
a token needs --force, and then an action only goes from the state it is meant for: a return never overwrites an
acceptance. A return queues its comment to every contact of the unit on the
durable reminder path (a NOTICE slot): it goes out with the next scheduler pass, survives a restart, and the
board shows whether it reached them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.reminders.scheduler import fire_notice
from conversations import engine, texts
from conversations.answers import format_datetime
from conversations.parsers import clean_text
from conversations.report_state import state_of  # noqa: F401  (the board, the console and the CLI read it here)
from storage import queries as q
from storage.models import AuditLog, Campaign, Contact, Report, ReportVersion, Unit

COMMENT_MAX = 1000  # characters: a comment has to fit one chat message with its explanation
# The audit entries that change what an officer decides on: a submission, a review action, the unit's own
# deadline, `hcc-bot reopen`/`--close`. A unit's draft edits ("set"/"delete") are not among them.
DECISIONS = ("submit", "review_accept", "review_return", "review_reopen", "deadline_unit", "close", "reopen")


class ReviewError(ValueError):
    """The action cannot be done now; str() is the Vietnamese reason for the officer."""


class UnitNotInCampaign(ReviewError):
    """No such active unit in this campaign (the console answers 404)."""


class Stale(ReviewError):
    """The report changed since the officer saw it; nothing was done. `current` is the token to act on now,
    `changes` who did what and when since."""

    def __init__(self, message: str, current: "Seen", changes: str = "", state: str = ""):
        super().__init__(message)
        self.current, self.changes, self.state = current, changes, state


@dataclass(frozen=True)
class Seen:
    """What an officer saw of a report: its last submitted version and the id of its last audit entry (every
    submission and every review action writes one). Shown as "2.17"; unchanged until the report changes."""

    version: int
    event: int

    def __str__(self) -> str:
        return f"{self.version}.{self.event}"

    @classmethod
    def parse(cls, text: str) -> "Seen":
        if not (text or "").strip():
            raise ReviewError(texts.REVIEW_EXPECT_MISSING)
        match = re.fullmatch(r"\s*([0-9]{1,9})\.([0-9]{1,12})\s*", text or "")
        if match is None:
            raise ReviewError(texts.REVIEW_EXPECT_INVALID.format(value=(text or "").strip()[:40]))
        return cls(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class SeenUpTo:
    """What an officer in the chat saw: the report's decisions up to audit entry `event` (the reply to their
    "tình hình", or to their last action on this unit). Their own later actions are known to them; anyone else's
    (a colleague's decision, the unit's new submission) makes the action stale."""

    event: int


@dataclass(frozen=True)
class Officer:
    """Who acts: the name shown in the audit log, and their chat contact when they have one."""

    name: str
    contact_id: int | None = None


def deadline_of(campaign: Campaign, report: Report | None) -> datetime:
    """The unit's own deadline: its extension, or the campaign's."""
    return report.deadline_at if report is not None and report.deadline_at is not None else campaign.deadline_at


async def campaign_unit(s, campaign: Campaign, unit_code: str) -> Unit:
    """The unit with this code that the campaign shows (q.shows_unit: asked, and active or with a report begun
    there); else UnitNotInCampaign."""
    code = (unit_code or "").strip().upper()
    unit = await s.scalar(sa.select(Unit).where(Unit.code == code, q.shows_unit(campaign.id)))
    if unit is None:
        raise UnitNotInCampaign(texts.REVIEW_NO_UNIT.format(code=(unit_code or "").strip()[:32]))
    return unit


async def seen_of(s, report: Report | None) -> Seen:
    """The token of the report as it is now (0.0: no report row yet)."""
    if report is None or report.id is None:
        return Seen(0, 0)
    version = await s.scalar(sa.select(sa.func.max(ReportVersion.version)).where(ReportVersion.report_id == report.id))
    event = await s.scalar(sa.select(sa.func.max(AuditLog.id)).where(AuditLog.report_id == report.id,
                                                                      AuditLog.action.in_(DECISIONS)))
    return Seen(version or 0, event or 0)


Expect = Seen | SeenUpTo | str | None


async def decided_up_to(s, campaign: Campaign) -> int:
    """The last decision of any report of the campaign (an audit entry id): what a status list shows."""
    return await s.scalar(sa.select(sa.func.max(AuditLog.id)).join(Report, Report.id == AuditLog.report_id)
                          .where(Report.campaign_id == campaign.id, AuditLog.action.in_(DECISIONS))) or 0


async def _report(s, campaign: Campaign, unit_code: str, now: datetime, expect: Expect, action: str,
                  officer: Officer) -> tuple[Unit, Report, Seen]:
    """The unit's report, row-locked, after checking that it is still what the officer saw."""
    if campaign.closed_at is not None:
        raise ReviewError(texts.REVIEW_CAMPAIGN_CLOSED.format(title=campaign.title))
    unit = await campaign_unit(s, campaign, unit_code)
    if not unit.active and action != "accept":  # shown for its report, but its contacts can no longer answer
        raise ReviewError(texts.REVIEW_UNIT_INACTIVE.format(unit=unit.name, code=unit.code,
                                                            action=texts.REVIEW_ACTION_NAMES[action]))
    if isinstance(expect, str):
        expect = Seen.parse(expect)
    report, _ = await q.lock_report(s, campaign_id=campaign.id, unit_id=unit.id, now=now)
    current = await seen_of(s, report)
    if isinstance(expect, SeenUpTo):
        changes = await changes_since(s, report, Seen(0, expect.event),
                                      others_than=officer.contact_id if officer.contact_id is not None else -1)
        stale = changes is not None
    else:
        stale = expect is not None and expect != current
        changes = await changes_since(s, report, expect) if stale else None
    if stale:
        state = texts.STATE_LABELS[state_of(report)]
        raise Stale(texts.REVIEW_STALE.format(action=texts.REVIEW_ACTION_NAMES[action], unit=unit.name,
                                              changes=changes or texts.REVIEW_CHANGE_UNKNOWN, state=state),
                    current, changes or texts.REVIEW_CHANGE_UNKNOWN, state)
    return unit, report, current


async def changes_since(s, report: Report, seen: Seen, *, limit: int = 3, others_than: int | None = None) -> str | None:
    """What happened to the report after `seen`, from the audit log: who did what, when (the last few);
    with `others_than`, only what other people than that contact did, and None when nobody did anything."""
    query = (sa.select(AuditLog, Contact.display_name).outerjoin(Contact, Contact.id == AuditLog.contact_id)
             .where(AuditLog.report_id == report.id, AuditLog.id > seen.event, AuditLog.action.in_(DECISIONS))
             .order_by(AuditLog.id))
    if others_than is not None:
        query = query.where(sa.or_(AuditLog.contact_id.is_(None), AuditLog.contact_id != others_than))
    rows = list(await s.execute(query))
    if others_than is not None and not rows:
        return None
    lines = []
    for entry, contact_name in rows[-limit:]:
        who = (entry.new or {}).get("officer") if isinstance(entry.new, dict) else None
        who = who or contact_name or texts.REVIEW_CHANGE_SOMEONE
        what = texts.REVIEW_CHANGE_ACTIONS.get(entry.action, entry.action)
        lines.append(texts.REVIEW_CHANGE_LINE.format(who=who, what=what, at=format_datetime(entry.at)))
    return "; ".join(lines) or texts.REVIEW_CHANGE_UNKNOWN


async def _audit(s, officer: Officer, action: str, report: Report, now: datetime, **new) -> None:
    await q.add_audit(s, at=now, action=action, contact_id=officer.contact_id, report_id=report.id,
                      new={"officer": officer.name, **new})


async def accept(s, campaign: Campaign, unit_code: str, officer: Officer, now: datetime, *,
                 expect: Expect = None) -> str:
    """Accept the unit's submitted report: it is locked for the unit until an officer reopens it."""
    unit, report, _ = await _report(s, campaign, unit_code, now, expect, "accept", officer)
    if report.review == engine.ACCEPTED:
        raise ReviewError(texts.REVIEW_ALREADY_ACCEPTED.format(unit=unit.name))
    if report.status not in (engine.SUBMITTED, engine.SUBMITTED_LATE):
        raise ReviewError(texts.REVIEW_NOT_SUBMITTED.format(unit=unit.name))
    versions = await q.list_report_versions(s, report.id)
    report.review, report.review_comment, report.reviewed_at, report.reviewed_by = \
        engine.ACCEPTED, None, now, officer.name
    report.updated_at = now
    await _audit(s, officer, "review_accept", report, now, version=versions[-1].version if versions else None)
    return texts.REVIEW_ACCEPTED.format(unit=unit.name)


async def return_report(s, campaign: Campaign, unit_code: str, comment: str, officer: Officer,
                        now: datetime, *, expect: Expect = None) -> str:
    """Send the report back for correction with a comment: editable again (even after the deadline), not done
    for the reminders until it is submitted again, and the comment queued to every contact of the unit."""
    comment = clean_text(comment or "", multiline=True).strip()
    if not comment:
        raise ReviewError(texts.REVIEW_COMMENT_REQUIRED)
    if len(comment) > COMMENT_MAX:
        raise ReviewError(texts.REVIEW_COMMENT_TOO_LONG.format(max=COMMENT_MAX, length=len(comment)))
    unit, report, _ = await _report(s, campaign, unit_code, now, expect, "return", officer)
    if report.status not in (engine.SUBMITTED, engine.SUBMITTED_LATE):
        raise ReviewError(texts.REVIEW_NOT_SUBMITTED.format(unit=unit.name))
    if report.review == engine.ACCEPTED and expect is None:  # only an officer who saw the acceptance overrides it
        raise ReviewError(texts.REVIEW_RETURN_ACCEPTED.format(unit=unit.name, officer=report.reviewed_by or "",
                                                              at=format_datetime(report.reviewed_at), code=unit.code))
    versions = await q.list_report_versions(s, report.id)
    report.review, report.review_comment, report.reviewed_at, report.reviewed_by = \
        engine.RETURNED, comment, now, officer.name
    report.status = engine.IN_PROGRESS
    report.reopened = True
    report.updated_at = now
    await _audit(s, officer, "review_return", report, now, comment=comment,
                 version=versions[-1].version if versions else None)
    contacts = [c for c in await q.list_contacts(s, unit_id=unit.id, role="unit")]
    text = texts.RETURN_NOTICE.format(unit=unit.name, title=campaign.title, comment=comment)
    queued = await fire_notice(s, campaign, unit.id, contacts, text, now)
    if not queued:
        return texts.REVIEW_RETURNED_NOBODY.format(unit=unit.name)
    return texts.REVIEW_RETURNED.format(unit=unit.name, contacts=queued)


async def reopen(s, campaign: Campaign, unit_code: str, officer: Officer, now: datetime, *,
                 expect: Expect = None) -> str:
    """Undo an acceptance: the unit can edit and submit again, even after the deadline."""
    unit, report, _ = await _report(s, campaign, unit_code, now, expect, "reopen", officer)
    if report.review != engine.ACCEPTED:
        raise ReviewError(texts.REVIEW_NOT_ACCEPTED.format(unit=unit.name))
    report.review, report.reviewed_at, report.reviewed_by = None, now, officer.name
    report.reopened = True
    report.updated_at = now
    await _audit(s, officer, "review_reopen", report, now)
    return texts.REVIEW_REOPENED.format(unit=unit.name)


async def extend_deadline(s, campaign: Campaign, unit_code: str, deadline: datetime | None, officer: Officer,
                          now: datetime, *, expect: Expect = None) -> str:
    """Give one unit its own deadline (None: back to the campaign's). Its late state and reminders follow."""
    unit, report, _ = await _report(s, campaign, unit_code, now, expect, "extend", officer)
    if deadline is not None and deadline <= now:
        raise ReviewError(texts.EXTEND_PAST.format(now=format_datetime(now)))
    old = report.deadline_at
    report.deadline_at = deadline
    report.updated_at = now
    if report.status in (engine.SUBMITTED, engine.SUBMITTED_LATE) and report.first_submitted_at is not None:
        late = report.first_submitted_at > (deadline or campaign.deadline_at)  # judged against the new deadline
        report.status = engine.SUBMITTED_LATE if late else engine.SUBMITTED
    await _audit(s, officer, "deadline_unit", report, now, old=old.isoformat() if old else None,
                 deadline=deadline.isoformat() if deadline else None)
    if deadline is None:
        return texts.EXTEND_CLEARED.format(unit=unit.name, deadline=format_datetime(campaign.deadline_at))
    return texts.EXTENDED.format(unit=unit.name, deadline=format_datetime(deadline))
