"""What the reminders say (pure): the unit's reminder, the admins' digest and overdue list, failure reasons.

Who gets what
- At a slot, every bound contact (role "unit") of each active unit whose report is not submitted; at the
  overdue slot, the same units get the overdue notice. A submitted report (even changed since) gets nothing.
- Every admin gets one message per slot: the digest, or at the overdue slot the list of units not submitted;
  both list the units without any contact and the contacts that could not be reached in this slot.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from conversations import texts
from conversations.answers import format_datetime, missing_parts
from conversations.engine import NOT_STARTED, SUBMITTED, SUBMITTED_LATE
from conversations.form import Form
from storage.models import Campaign, Contact, Unit


SUBMITTED_STATES = (SUBMITTED, SUBMITTED_LATE)
MISSING_PARTS_SHOWN = 5


def time_left(deadline: datetime, now: datetime) -> str:
    """"còn 2 giờ 30 phút", "còn 1 ngày 8 giờ 30 phút", "đã quá hạn 15 phút" (to the nearest minute)."""
    seconds = (deadline - now).total_seconds()
    minutes = round(abs(seconds) / 60)
    if minutes == 0:
        return texts.TIME_NOW
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    words = [template.format(n=n) for template, n in ((texts.DURATION_DAYS, days), (texts.DURATION_HOURS, hours),
                                                       (texts.DURATION_MINUTES, mins)) if n]
    return (texts.TIME_LEFT if seconds > 0 else texts.TIME_PAST).format(duration=" ".join(words))


def missing_summary(form: Form, answers: Mapping[str, Any], limit: int = MISSING_PARTS_SHOWN,
                    gaps: list | None = None) -> str:
    """The missing parts joined for one line, the first `limit` of them and how many more (`gaps`: what
    `missing()` found, when the caller has it already)."""
    parts = missing_parts(form, answers, gaps)
    if len(parts) > limit:
        parts = parts[:limit] + [texts.MISSING_AND_MORE.format(n=len(parts) - limit)]
    return texts.MISSING_PART_SEPARATOR.join(parts)


def unit_text(form: Form, unit_name: str, status: str, answers: Mapping[str, Any], deadline: datetime,
              now: datetime, *, overdue: bool = False, reopened: bool = False, several: str | None = None,
              switch: bool = False) -> str:
    """The reminder (or overdue notice) for one unit: its name, the time left, what is missing, what to do.

    `several`: the campaign's title when more than one campaign is open for the unit (the message names it);
    `switch`: the contact is answering another one now (the message says how to switch)."""
    text = _unit_text(form, unit_name, status, answers, deadline, now, overdue=overdue, reopened=reopened)
    if several is None:
        return text
    header, rest = text.split("\n", 1)
    return "\n".join([header, texts.REMINDER_CAMPAIGN.format(title=several), rest,
                      *([texts.REMINDER_HOW_SWITCH] if switch else [])])


def _unit_text(form: Form, unit_name: str, status: str, answers: Mapping[str, Any], deadline: datetime,
               now: datetime, *, overdue: bool, reopened: bool) -> str:
    if status == NOT_STARTED or not answers:
        progress, how = texts.REMINDER_NOT_STARTED, texts.REMINDER_HOW_START
    else:
        summary = missing_summary(form, answers)
        progress = texts.REMINDER_MISSING.format(parts=summary) if summary else texts.REMINDER_READY
        how = texts.REMINDER_HOW_CONTINUE if summary else texts.REMINDER_HOW_SUBMIT
    if overdue:
        how = texts.OVERDUE_HOW_REOPENED if reopened else texts.OVERDUE_HOW
        return texts.OVERDUE_NOTICE.format(unit=unit_name, deadline=format_datetime(deadline), progress=progress,
                                           how=how)
    return texts.REMINDER.format(unit=unit_name, deadline=format_datetime(deadline), left=time_left(deadline, now),
                                 progress=progress, how=how)


@dataclass
class UnitState:
    """A unit, its report's status in the campaign and its bound contacts."""

    unit: Unit
    status: str
    reopened: bool
    contacts: list[Contact]
    deadline_at: datetime | None = None  # the unit's own deadline (an extension); None: the campaign's

    @property
    def submitted(self) -> bool:
        return self.status in SUBMITTED_STATES

    @property
    def waiting(self) -> bool:
        """Still to be reminded: not submitted and active (a deactivated unit keeps its report, not the reminders)."""
        return self.unit.active and not self.submitted


@dataclass(frozen=True)
class Unreached:
    """A contact a message of the slot did not reach."""

    who: str
    unit: str
    channel: str
    reason: str


def unit_lines(states: Iterable[UnitState]) -> list[str]:
    return [texts.DIGEST_UNIT_LINE.format(code=u.unit.code, name=u.unit.name) for u in states]


def _followups(no_contact: list[UnitState], unreached: list[Unreached]) -> list[str]:
    """The blocks admin messages end with: units nobody can be reminded at, contacts not reached."""
    lines: list[str] = []
    if no_contact:
        lines += ["", texts.DIGEST_NO_CONTACT.format(count=len(no_contact)), *unit_lines(no_contact)]
    if unreached:
        lines += ["", texts.DIGEST_UNREACHABLE.format(count=len(unreached))]
        lines += [texts.DIGEST_CONTACT_LINE.format(who=r.who, unit=r.unit, channel=r.channel, reason=r.reason)
                  for r in unreached]
    return lines


def digest_text(campaign: Campaign, states: list[UnitState], now: datetime, *, reminded_contacts: int,
                reminded_units: int, unreached: list[Unreached]) -> str:
    """The admins' message at a reminder slot."""
    by_status: dict[str, list[UnitState]] = defaultdict(list)
    for u in states:
        by_status[u.status].append(u)
    submitted = sum(1 for u in states if u.submitted)
    not_started = by_status[NOT_STARTED]
    lines = [texts.DIGEST.format(title=campaign.title, deadline=format_datetime(campaign.deadline_at),
                                 left=time_left(campaign.deadline_at, now), submitted=submitted, total=len(states),
                                 in_progress=len(states) - submitted - len(not_started), not_started=len(not_started)),
             texts.DIGEST_REMINDED.format(contacts=reminded_contacts, units=reminded_units)]
    if not_started:
        lines += ["", texts.DIGEST_NOT_STARTED.format(count=len(not_started)), *unit_lines(not_started)]
    no_contact = [u for u in states if u.waiting and not u.contacts]
    return "\n".join(lines + _followups(no_contact, unreached))


def late_text(campaign: Campaign, states: list[UnitState], unreached: list[Unreached]) -> str:
    """The admins' message at the overdue slot: who has not submitted."""
    waiting = [u for u in states if not u.submitted]
    extended = [u for u in waiting if u.deadline_at is not None and u.deadline_at > campaign.deadline_at]
    late = [u for u in waiting if u not in extended]
    lines = [texts.LATE_LIST.format(title=campaign.title, deadline=format_datetime(campaign.deadline_at),
                                    submitted=len(states) - len(waiting), total=len(states))]
    if late:
        lines += ["", texts.LATE_UNITS.format(count=len(late))]
        lines += [texts.LATE_LINE.format(code=u.unit.code, name=u.unit.name,
                                         status=texts.STATUS_LABELS[u.status] + (
                                             "" if u.contacts else f", {texts.NO_CONTACT}") + (
                                             "" if u.unit.active else f", {texts.UNIT_INACTIVE_MARK}"))
                  for u in late]
    elif not extended:
        lines.append(texts.LATE_NONE)
    if extended:  # not late: their own deadline is still ahead
        lines += ["", texts.LATE_EXTENDED.format(count=len(extended))]
        lines += [texts.LATE_EXTENDED_LINE.format(code=u.unit.code, name=u.unit.name,
                                                  deadline=format_datetime(u.deadline_at)) for u in extended]
    return "\n".join(lines + _followups([], unreached))  # units without a contact are marked in the list


def reason_text(error: str | None) -> str:
    code = (error or "").split(" (")[0]
    return texts.SEND_ERRORS.get(code) or texts.SEND_ERROR_OTHER.format(code=error or "?")
