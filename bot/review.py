"""The department's review of a unit's report: accept, return for correction, reopen, a deadline for one unit.

The web console, the CLI and the chat's admin commands call these; each runs in the caller's transaction and
writes the audit log with the officer's name. A return queues its comment to every contact of the unit on the
durable reminder path (a NOTICE slot): it goes out with the next scheduler pass, survives a restart, and the
board shows whether it reached them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.reminders.scheduler import fire_notice
from conversations import engine, texts
from conversations.answers import format_datetime
from conversations.parsers import clean_text
from storage import queries as q
from storage.models import Campaign, Report, Unit

COMMENT_MAX = 1000  # characters: a comment has to fit one chat message with its explanation


class ReviewError(ValueError):
    """The action cannot be done now; str() is the Vietnamese reason for the officer."""


@dataclass(frozen=True)
class Officer:
    """Who acts: the name shown in the audit log, and their chat contact when they have one."""

    name: str
    contact_id: int | None = None


def deadline_of(campaign: Campaign, report: Report | None) -> datetime:
    """The unit's own deadline: its extension, or the campaign's."""
    return report.deadline_at if report is not None and report.deadline_at is not None else campaign.deadline_at


def state_of(report: Report | None) -> str:
    """The board's state of a report: not_started, in_progress, submitted, submitted_late, returned, accepted."""
    if report is None:
        return engine.NOT_STARTED
    if report.review in (engine.RETURNED, engine.ACCEPTED):
        return report.review
    return report.status


async def _report(s, campaign: Campaign, unit_code: str, now: datetime) -> tuple[Unit, Report]:
    if campaign.closed_at is not None:
        raise ReviewError(texts.REVIEW_CAMPAIGN_CLOSED.format(title=campaign.title))
    unit = await q.get_unit_by_code(s, unit_code.strip().upper())
    if unit is None:
        raise ReviewError(texts.REVIEW_NO_UNIT.format(code=unit_code.strip()[:32]))
    report, _ = await q.lock_report(s, campaign_id=campaign.id, unit_id=unit.id, now=now)
    return unit, report


async def _audit(s, officer: Officer, action: str, report: Report, now: datetime, **new) -> None:
    await q.add_audit(s, at=now, action=action, contact_id=officer.contact_id, report_id=report.id,
                      new={"officer": officer.name, **new})


async def accept(s, campaign: Campaign, unit_code: str, officer: Officer, now: datetime) -> str:
    """Accept the unit's submitted report: it is locked for the unit until an officer reopens it."""
    unit, report = await _report(s, campaign, unit_code, now)
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
                        now: datetime) -> str:
    """Send the report back for correction with a comment: editable again (even after the deadline), not done
    for the reminders until it is submitted again, and the comment queued to every contact of the unit."""
    comment = clean_text(comment or "", multiline=True).strip()
    if not comment:
        raise ReviewError(texts.REVIEW_COMMENT_REQUIRED)
    if len(comment) > COMMENT_MAX:
        raise ReviewError(texts.REVIEW_COMMENT_TOO_LONG.format(max=COMMENT_MAX, length=len(comment)))
    unit, report = await _report(s, campaign, unit_code, now)
    if report.status not in (engine.SUBMITTED, engine.SUBMITTED_LATE):
        raise ReviewError(texts.REVIEW_NOT_SUBMITTED.format(unit=unit.name))
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


async def reopen(s, campaign: Campaign, unit_code: str, officer: Officer, now: datetime) -> str:
    """Undo an acceptance: the unit can edit and submit again, even after the deadline."""
    unit, report = await _report(s, campaign, unit_code, now)
    if report.review != engine.ACCEPTED:
        raise ReviewError(texts.REVIEW_NOT_ACCEPTED.format(unit=unit.name))
    report.review, report.reviewed_at, report.reviewed_by = None, now, officer.name
    report.reopened = True
    report.updated_at = now
    await _audit(s, officer, "review_reopen", report, now)
    return texts.REVIEW_REOPENED.format(unit=unit.name)


async def extend_deadline(s, campaign: Campaign, unit_code: str, deadline: datetime | None, officer: Officer,
                          now: datetime) -> str:
    """Give one unit its own deadline (None: back to the campaign's). Its late state and reminders follow."""
    unit, report = await _report(s, campaign, unit_code, now)
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
