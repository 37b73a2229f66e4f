"""Deadline reminders: the plan, who gets what, and the scheduler pass that sends each message exactly once.

The database is the source of truth; nothing lives only in memory.

Plan rules (times in Asia/Ho_Chi_Minh, stored in UTC)
- Slots are times relative to the due day (day 0): by default the day before at 08:00 and the due day at 08:00,
  14:30 and 16:00, then the overdue notice one minute after the deadline.
- A slot that falls in quiet hours (default 21:00-07:00) moves to the end of them; a reminder that then falls
  at or after the deadline is dropped; two slots landing on the same time count once.
- Slots are computed from the plan and the current deadline at every pass, so changing the deadline (or the
  plan) re-plans every slot that has not fired. A slot is known by its time: a slot whose time already fired
  does not fire again, and no slot older than the latest fired one ever fires.
- A slot fires at its time. If the bot was down then, it fires once when the bot is back, provided that is
  within `catch_up` (2 hours) and before the next slot; older missed slots are skipped, never sent in a burst.
- Nothing is sent during quiet hours ("nhắc ngay" is refused then).

Who gets what
- At a slot, every bound contact (role "unit") of each active unit whose report is not submitted; at the
  overdue slot, the same units get the overdue notice. A submitted report (even changed since) gets nothing.
- Every admin gets one message per slot: the digest, or at the overdue slot the list of units not submitted;
  both list the units without any contact and the contacts that could not be reached in this slot.

Durability
- Firing inserts the reminder_slot row (unique per campaign and time) and, in the same transaction, one
  reminder_send row per (slot, contact) (unique), pending. Two workers firing at once: one insert wins.
- Sending claims a few rows at a time (the channel's concurrency) with FOR UPDATE SKIP LOCKED just before
  their requests (pending -> sending; the text is rendered then, so a unit that submitted meanwhile is
  skipped) and records each result at once: sent, or failed with attempts and the last error. Admin messages
  wait for the slot's unit messages. A pass that stops early gives its unsent claimed rows back (pending).
- A hard crash leaves only the rows in flight (or just claimed) "sending". After SEND_LEASE they become failed
  ("interrupted"), shown to the admins and never re-sent: a restart does not send twice. What was not yet
  claimed is still pending and goes out after the restart: nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import secrets
import socket
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.fanout import DELIVERED, RELEASED, SENT, Fanout, Job, Outcome, SendFn, SendResult
from conversations import texts
from conversations.answers import LOCAL_TZ, format_datetime, missing_parts
from conversations.engine import NOT_STARTED, SUBMITTED, SUBMITTED_LATE
from conversations.form import Form
from conversations.parsers import fold
from storage import queries as q
from storage.db import Database, DatabaseUnavailable
from storage.models import Answer, Campaign, Contact, ReminderSend, ReminderSlot, Report, Unit

log = logging.getLogger(__name__)

REMINDER, OVERDUE, MANUAL = "reminder", "overdue", "manual"
SEND_LEASE = timedelta(minutes=10)  # longer than any one message's waits and retries
SCHEDULER_INTERVAL = 30.0  # seconds between two passes
UNREACHABLE_ERRORS = {"forbidden", "not_found"}  # the contact cannot be written to: marked blocked
SUBMITTED_STATES = (SUBMITTED, SUBMITTED_LATE)
MISSING_PARTS_SHOWN = 5
ZALO_429_WAIT = 5.0  # Zalo's 429 ("quota exceeded") carries no retry_after
ZALO_SEND_TIMEOUT = 15.0


class PlanError(ValueError):
    """A plan, quiet hours, deadline or request the admin cannot have: str() is the Vietnamese message."""


# --- The plan (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """When to remind: (days relative to the due day, local time) slots, the overdue notice, quiet hours."""

    slots: tuple[tuple[int, time], ...] = ((-1, time(8)), (0, time(8)), (0, time(14, 30)), (0, time(16)))
    overdue_after: timedelta = timedelta(minutes=1)
    quiet_start: time = time(21)
    quiet_end: time = time(7)  # equal to quiet_start: no quiet hours
    catch_up: timedelta = timedelta(hours=2)


DEFAULT_PLAN = Plan()


@dataclass(frozen=True)
class Slot:
    """One moment of the plan for a given deadline."""

    at: datetime  # UTC, after any quiet-hours move
    kind: str  # reminder | overdue
    planned: datetime  # as the plan says, before the move


def in_quiet_hours(at: datetime, plan: Plan) -> bool:
    """Whether `at` falls in the plan's quiet hours (local time)."""
    start, end = plan.quiet_start, plan.quiet_end
    if start == end:
        return False
    t = at.astimezone(LOCAL_TZ).time()
    return start <= t < end if start < end else (t >= start or t < end)


def after_quiet_hours(at: datetime, plan: Plan) -> datetime:
    """`at`, or the end of the quiet hours it falls in."""
    if not in_quiet_hours(at, plan):
        return at
    local = at.astimezone(LOCAL_TZ)
    end = datetime.combine(local.date(), plan.quiet_end, tzinfo=LOCAL_TZ)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(timezone.utc)


def plan_slots(plan: Plan, deadline: datetime) -> list[Slot]:
    """The slots for this deadline, in time order."""
    due_day = deadline.astimezone(LOCAL_TZ).date()
    slots: dict[datetime, Slot] = {}
    for days, at_time in plan.slots:
        planned = datetime.combine(due_day + timedelta(days=days), at_time, tzinfo=LOCAL_TZ).astimezone(timezone.utc)
        at = after_quiet_hours(planned, plan)
        if at < deadline:
            slots.setdefault(at, Slot(at, REMINDER, planned))
    planned = (deadline + plan.overdue_after).astimezone(timezone.utc)
    at = after_quiet_hours(planned, plan)
    slots.setdefault(at, Slot(at, OVERDUE, planned))
    return sorted(slots.values(), key=lambda slot: slot.at)


LAST_SLOT_CATCH_UP = timedelta(hours=24)


def due_slot(plan: Plan, deadline: datetime, now: datetime, last_fired: datetime | None) -> Slot | None:
    """The slot to fire now, if any: the latest one not after `now` and newer than the last fired.

    A bot that was down at a slot sends it once when it comes back, as long as the next slot has not come
    (which is always true of the latest past slot); the last slot (the overdue notice) is sent within
    max(catch-up, 24 hours) so that a bot restarted days later does not wake everyone for an old deadline.
    """
    if in_quiet_hours(now, plan):
        return None
    slots = plan_slots(plan, deadline)
    past = [slot for slot in slots if slot.at <= now]
    if not past:
        return None
    latest = past[-1]  # the next slot is after `now`, so firing this one never runs into it
    if last_fired is not None and latest.at <= last_fired:
        return None
    if latest is slots[-1] and now >= latest.at + max(plan.catch_up, LAST_SLOT_CATCH_UP):
        return None
    return latest


_TIME_RE = re.compile(r"(\d{1,2})(?::(\d{2})|h(\d{2})?)")
_DAY_RE = re.compile(r"[-\u2212\u2013]?\d{1,2}")


def parse_clock(raw: str) -> time | None:
    """"08:00", "8:00", "8h", "8h30" as a time, or None."""
    m = _TIME_RE.fullmatch(raw.strip().lower())
    if not m:
        return None
    hour, minute = int(m[1]), int(m[2] or m[3] or 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


def parse_slots(raw: str) -> tuple[tuple[int, time], ...]:
    """"-1 08:00, 08:00, 14:30, 16:00" as plan slots; PlanError naming the mistake otherwise."""
    items = [item.strip() for item in re.split(r"[,;\n]", raw) if item.strip()]
    if not 1 <= len(items) <= 12:
        raise PlanError(texts.PLAN_INVALID.format(value=raw.strip()))
    slots = set()
    for item in items:
        words = item.split()
        day_word = words[0] if len(words) == 2 else "0"
        at_time = parse_clock(words[-1]) if 1 <= len(words) <= 2 else None
        if at_time is None or not _DAY_RE.fullmatch(day_word):
            raise PlanError(texts.PLAN_INVALID.format(value=raw.strip()))
        day = -abs(int(day_word.lstrip("-\u2212\u2013")))
        if day < -14:
            raise PlanError(texts.PLAN_INVALID.format(value=raw.strip()))
        slots.add((day, at_time))
    return tuple(sorted(slots))


def parse_quiet(raw: str) -> tuple[time, time]:
    """"21:00-07:00" as (start, end); "không" for no quiet hours."""
    if fold(raw) in {fold(w) for w in texts.QUIET_OFF_WORDS}:
        return time(0), time(0)
    parts = [p for p in re.split(r"\s*(?:-|\u2013|đến|den)\s*", raw.strip()) if p]
    times = [parse_clock(p) for p in parts]
    if len(times) != 2 or None in times:
        raise PlanError(texts.QUIET_INVALID.format(value=raw.strip()))
    return times[0], times[1]


def format_spec(plan: Plan) -> str:
    """The plan's slots as an admin types them: "-1 08:00, 08:00, 14:30, 16:00"."""
    return ", ".join(f"{day} {t:%H:%M}" if day else f"{t:%H:%M}" for day, t in plan.slots)


def format_quiet(plan: Plan) -> str:
    if plan.quiet_start == plan.quiet_end:
        return texts.PLAN_QUIET_NONE
    return f"{plan.quiet_start:%H:%M}–{plan.quiet_end:%H:%M}"


def parse_deadline(raw: str, message: str = texts.DEADLINE_INVALID) -> datetime:
    """"28/03/2017 16:30" (or "16:30 28/03/2017") in Asia/Ho_Chi_Minh, aware."""
    for pattern in ("%d/%m/%Y %H:%M", "%H:%M %d/%m/%Y"):
        try:
            return datetime.strptime(" ".join(raw.split()), pattern).replace(tzinfo=LOCAL_TZ)
        except ValueError:
            continue
    raise PlanError(message.format(value=raw.strip()))


# --- What a message says (pure) -------------------------------------------------------------------


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


def missing_summary(form: Form, answers: Mapping[str, Any], limit: int = MISSING_PARTS_SHOWN) -> str:
    """The missing parts joined for one line, the first `limit` of them and how many more."""
    parts = missing_parts(form, answers)
    if len(parts) > limit:
        parts = parts[:limit] + [texts.MISSING_AND_MORE.format(n=len(parts) - limit)]
    return texts.MISSING_PART_SEPARATOR.join(parts)


def unit_text(form: Form, unit_name: str, status: str, answers: Mapping[str, Any], deadline: datetime,
              now: datetime, *, overdue: bool = False, reopened: bool = False) -> str:
    """The reminder (or overdue notice) for one unit: its name, the time left, what is missing, what to do."""
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

    @property
    def submitted(self) -> bool:
        return self.status in SUBMITTED_STATES


@dataclass(frozen=True)
class Unreached:
    """A contact a message of the slot did not reach."""

    who: str
    unit: str
    channel: str
    reason: str


def _unit_lines(states: Iterable[UnitState]) -> list[str]:
    return [texts.DIGEST_UNIT_LINE.format(code=u.unit.code, name=u.unit.name) for u in states]


def _followups(no_contact: list[UnitState], unreached: list[Unreached]) -> list[str]:
    """The blocks admin messages end with: units nobody can be reminded at, contacts not reached."""
    lines: list[str] = []
    if no_contact:
        lines += ["", texts.DIGEST_NO_CONTACT.format(count=len(no_contact)), *_unit_lines(no_contact)]
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
        lines += ["", texts.DIGEST_NOT_STARTED.format(count=len(not_started)), *_unit_lines(not_started)]
    no_contact = [u for u in states if not u.submitted and not u.contacts]
    return "\n".join(lines + _followups(no_contact, unreached))


def late_text(campaign: Campaign, states: list[UnitState], unreached: list[Unreached]) -> str:
    """The admins' message at the overdue slot: who has not submitted."""
    late = [u for u in states if not u.submitted]
    lines = [texts.LATE_LIST.format(title=campaign.title, deadline=format_datetime(campaign.deadline_at),
                                    submitted=len(states) - len(late), total=len(states))]
    if late:
        lines += ["", texts.LATE_UNITS.format(count=len(late))]
        lines += [texts.LATE_LINE.format(code=u.unit.code, name=u.unit.name,
                                         status=texts.STATUS_LABELS[u.status] + ("" if u.contacts else
                                                                                 f", {texts.NO_CONTACT}"))
                  for u in late]
    else:
        lines.append(texts.LATE_NONE)
    return "\n".join(lines + _followups([], unreached))  # units without a contact are marked in the list


def reason_text(error: str | None) -> str:
    code = (error or "").split(" (")[0]
    return texts.SEND_ERRORS.get(code) or texts.SEND_ERROR_OTHER.format(code=error or "?")


# --- Storage: plan, targets, firing ---------------------------------------------------------------


def _hhmm(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


async def load_plan(s, campaign_id: int) -> Plan:
    """The campaign's plan: the stored one, or the default."""
    row = await q.get_reminder_plan(s, campaign_id)
    if row is None:
        return DEFAULT_PLAN
    return Plan(slots=tuple((int(x["day"]), _hhmm(x["time"])) for x in row.slots),
                overdue_after=timedelta(minutes=row.overdue_after_minutes), quiet_start=_hhmm(row.quiet_start),
                quiet_end=_hhmm(row.quiet_end), catch_up=timedelta(minutes=row.catch_up_minutes))


async def save_plan(s, campaign_id: int, plan: Plan, now: datetime) -> None:
    """Store the campaign's plan."""
    await q.save_reminder_plan(
        s, campaign_id, slots=[{"day": day, "time": f"{t:%H:%M}"} for day, t in plan.slots],
        overdue_after_minutes=int(plan.overdue_after.total_seconds() // 60), quiet_start=f"{plan.quiet_start:%H:%M}",
        quiet_end=f"{plan.quiet_end:%H:%M}", catch_up_minutes=int(plan.catch_up.total_seconds() // 60), now=now)


async def unit_states(s, campaign: Campaign) -> list[UnitState]:
    """Every active unit with its status and bound contacts, by unit id."""
    by_unit: dict[int, list[Contact]] = defaultdict(list)
    for contact in await q.list_contacts(s, role="unit"):
        if contact.unit_id is not None:
            by_unit[contact.unit_id].append(contact)
    return [UnitState(unit, report.status if report else NOT_STARTED, bool(report and report.reopened),
                      by_unit[unit.id])
            for unit, report in await q.reports_by_unit(s, campaign.id)]


@dataclass(frozen=True)
class Fired:
    """A slot that fired and what it planned."""

    slot_id: int
    at: datetime
    kind: str
    units: int
    contacts: int  # unit contacts to remind
    admins: int


async def fire_slot(s, campaign: Campaign, at: datetime, kind: str, now: datetime,
                    worker: str | None) -> Fired | None:
    """Record the slot and plan its messages, in the caller's transaction; None if it had already fired."""
    slot_id = await q.insert_reminder_slot(s, campaign_id=campaign.id, at=at, kind=kind,
                                           deadline_at=campaign.deadline_at, now=now, worker=worker)
    if slot_id is None:
        return None
    await q.expire_reminder_sends(s, campaign_id=campaign.id, before_slot_id=slot_id, now=now)
    targets = [u for u in await unit_states(s, campaign) if not u.submitted and u.contacts]
    rows = [{"slot_id": slot_id, "campaign_id": campaign.id, "unit_id": u.unit.id, "contact_id": c.id,
             "channel": c.channel, "kind": "unit"} for u in targets for c in u.contacts]
    admins = [] if kind == MANUAL else await q.list_contacts(s, role="admin")
    rows += [{"slot_id": slot_id, "campaign_id": campaign.id, "unit_id": None, "contact_id": c.id,
              "channel": c.channel, "kind": "admin"} for c in admins]
    await q.add_reminder_sends(s, rows, now=now)
    return Fired(slot_id, at, kind, len(targets), len(rows) - len(admins), len(admins))


async def queue_now(s, campaign: Campaign, now: datetime, *, worker: str | None = None) -> Fired:
    """An admin's "send reminders now": a manual slot for the units not submitted (no digest)."""
    plan = await load_plan(s, campaign.id)
    if in_quiet_hours(now, plan):
        raise PlanError(texts.REMIND_QUIET.format(start=f"{plan.quiet_start:%H:%M}", end=f"{plan.quiet_end:%H:%M}"))
    if not any(not u.submitted and u.contacts for u in await unit_states(s, campaign)):
        raise PlanError(texts.REMIND_NOBODY)
    fired = await fire_slot(s, campaign, now, MANUAL, now, worker)
    if fired is None:  # the same instant queued twice (only a frozen test clock can do that)
        raise PlanError(texts.REMIND_NOBODY)
    await q.add_audit(s, at=now, action="remind_now", new={"slot": fired.slot_id, "contacts": fired.contacts})
    return fired


async def _answers_of(s, campaign_id: int, unit_id: int) -> tuple[Report | None, dict[str, Any]]:
    report = await s.scalar(sa.select(Report).where(Report.campaign_id == campaign_id, Report.unit_id == unit_id))
    return report, (await q.load_answers(s, report.id) if report else {})


# --- Admin views and changes -----------------------------------------------------------------------


async def preview_text(s, form: Form, campaign: Campaign, now: datetime, *, confirm: str) -> str:
    """Who "send now" would remind, who cannot be reminded, and the message one unit would get."""
    states = await unit_states(s, campaign)
    targets = [u for u in states if not u.submitted and u.contacts]
    no_contact = [u for u in states if not u.submitted and not u.contacts]
    if not targets:
        lines = [texts.REMIND_NOBODY]
    else:
        lines = [texts.REMIND_PREVIEW.format(contacts=sum(len(u.contacts) for u in targets), units=len(targets))]
        lines += [texts.REMIND_PREVIEW_LINE.format(code=u.unit.code, name=u.unit.name,
                                                   status=texts.STATUS_LABELS[u.status], contacts=len(u.contacts))
                  for u in targets]
    if no_contact:
        lines += ["", texts.DIGEST_NO_CONTACT.format(count=len(no_contact)), *_unit_lines(no_contact)]
    if targets:
        first = targets[0]
        report, answers = await _answers_of(s, campaign.id, first.unit.id)
        example = unit_text(form, first.unit.name, first.status, answers, campaign.deadline_at, now,
                            overdue=now > campaign.deadline_at, reopened=first.reopened)
        lines += ["", texts.REMIND_PREVIEW_EXAMPLE.format(unit=first.unit.name, text=example)]
        plan = await load_plan(s, campaign.id)
        quiet = in_quiet_hours(now, plan)
        lines += ["", texts.REMIND_QUIET.format(start=f"{plan.quiet_start:%H:%M}", end=f"{plan.quiet_end:%H:%M}")
                  if quiet else confirm]
    return "\n".join(lines)


async def plan_text(s, campaign: Campaign, now: datetime) -> str:
    """The plan with each slot's time for the current deadline and whether it was sent, missed or is next."""
    plan = await load_plan(s, campaign.id)
    fired = {slot.at: slot for slot in await q.list_reminder_slots(s, campaign.id)}
    last = max(fired) if fired else None
    due = due_slot(plan, campaign.deadline_at, now, last)
    entries = {slot.at: (slot.kind, slot.planned) for slot in plan_slots(plan, campaign.deadline_at)}
    entries.update({at: (slot.kind, at) for at, slot in fired.items() if at not in entries})
    upcoming = [at for at in entries if at > now and (last is None or at > last)]
    lines = [texts.PLAN_SHOW.format(deadline=format_datetime(campaign.deadline_at), spec=format_spec(plan),
                                    quiet=format_quiet(plan))]
    for at in sorted(entries):
        kind, planned = entries[at]
        note = texts.PLAN_MOVED.format(at=format_datetime(planned)) if planned != at else ""
        if at in fired:
            note += texts.PLAN_DONE
        elif at <= now and (due is None or due.at != at):
            note += texts.PLAN_MISSED
        elif upcoming and at == min(upcoming):
            note += texts.PLAN_NEXT
        lines.append(texts.PLAN_LINE.format(at=format_datetime(at), kind=texts.PLAN_KINDS[kind], note=note))
    lines.append(texts.PLAN_HELP)
    return "\n".join(lines)


async def change_plan(s, campaign: Campaign, now: datetime, *, slots: str | None = None, quiet: str | None = None,
                      catch_up_minutes: int | None = None, overdue_after_minutes: int | None = None) -> Plan:
    """Change parts of the campaign's plan; the slots not fired yet follow at once."""
    plan = await load_plan(s, campaign.id)
    changes: dict[str, Any] = {}
    if slots is not None:
        changes["slots"] = parse_slots(slots)
    if quiet is not None:
        changes["quiet_start"], changes["quiet_end"] = parse_quiet(quiet)
    if catch_up_minutes is not None:
        changes["catch_up"] = timedelta(minutes=max(1, catch_up_minutes))
    if overdue_after_minutes is not None:
        changes["overdue_after"] = timedelta(minutes=max(0, overdue_after_minutes))
    new = dataclasses.replace(plan, **changes)
    await save_plan(s, campaign.id, new, now)
    await q.add_audit(s, at=now, action="reminder_plan", new={"slots": format_spec(new), "quiet": format_quiet(new)})
    return new


async def change_deadline(s, campaign: Campaign, deadline: datetime, now: datetime) -> str:
    """Move the campaign's deadline; the reminder slots not fired yet follow it."""
    old = campaign.deadline_at
    campaign.deadline_at = deadline
    await q.add_audit(s, at=now, action="deadline", old=old.isoformat(), new=deadline.isoformat())
    return texts.DEADLINE_CHANGED.format(old=format_datetime(old), new=format_datetime(deadline))


_COMMANDS = sorted(((fold(w), name) for name, words in texts.REMIND_COMMAND_WORDS.items() for w in words),
                   key=lambda pair: -len(pair[0]))


def parse_admin_command(text: str) -> tuple[str, str] | None:
    """(command, argument) of a reminder command typed by an admin, or None."""
    folded = fold(text).removeprefix("/")
    for word, name in _COMMANDS:
        if folded == word or folded.startswith(word + " "):
            return name, folded[len(word):].strip()
    return None


async def admin_command(s, form: Form, campaign: Campaign, text: str, now: datetime) -> str | None:
    """The answer to an admin's reminder command in the chat, or None when the text is not one."""
    parsed = parse_admin_command(text)
    if parsed is None:
        return None
    name, arg = parsed
    try:
        if name == "preview" and not arg:
            return await preview_text(s, form, campaign, now, confirm=texts.REMIND_PREVIEW_CONFIRM)
        if name == "now" and not arg:
            fired = await queue_now(s, campaign, now)
            return texts.REMIND_QUEUED.format(contacts=fired.contacts, units=fired.units)
        if name == "plan" and arg:
            await change_plan(s, campaign, now, slots=arg)
            return texts.PLAN_CHANGED + "\n\n" + await plan_text(s, campaign, now)
        if name == "quiet" and arg:
            await change_plan(s, campaign, now, quiet=arg)
            return texts.PLAN_CHANGED + "\n\n" + await plan_text(s, campaign, now)
        if name == "deadline" and arg:
            changed = await change_deadline(s, campaign, parse_deadline(arg), now)
            return changed + "\n\n" + await plan_text(s, campaign, now)
        if name in ("plan", "quiet", "deadline"):
            return await plan_text(s, campaign, now)
    except PlanError as exc:
        return str(exc)
    return None


async def cli_command(s, form: Form, args, now: datetime) -> str:
    """`hcc-bot remind [--now|--preview]`, `hcc-bot remind plan [...]`, `hcc-bot campaign deadline "..."`."""
    campaign = await q.current_campaign(s)
    if campaign is None:
        raise PlanError(texts.CLI_CAMPAIGN_NONE)
    if args.command == "campaign":
        changed = await change_deadline(s, campaign, parse_deadline(args.value, texts.CLI_DEADLINE_INVALID), now)
        return changed + "\n\n" + await plan_text(s, campaign, now)
    if getattr(args, "action", None) == "plan":
        options = {"slots": args.slots, "quiet": args.quiet, "catch_up_minutes": args.catch_up,
                   "overdue_after_minutes": args.overdue_after}
        if any(v is not None for v in options.values()):
            await change_plan(s, campaign, now, **options)
            return texts.PLAN_CHANGED + "\n\n" + await plan_text(s, campaign, now)
        return await plan_text(s, campaign, now)
    if args.now:
        fired = await queue_now(s, campaign, now)
        return texts.CLI_REMIND_QUEUED.format(contacts=fired.contacts, units=fired.units)
    return await preview_text(s, form, campaign, now, confirm=texts.CLI_REMIND_CONFIRM)


# --- The scheduler pass ----------------------------------------------------------------------------


@dataclass
class Summary:
    """What one pass did."""

    slot: str | None = None  # the kind of the slot that fired in this pass
    slot_at: datetime | None = None
    planned: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0
    recovered: int = 0


def worker_name() -> str:
    """Who claims rows: host, process and a random part (a restarted process is a new worker)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


async def _render(s, form: Form, rows: list[ReminderSend], now: datetime) -> list[tuple[str | None, Contact | None]]:
    """Each claimed row's text and contact; no text when it should not be sent any more (submitted, unbound).

    A batch's contacts, units, reports and answers are read with one query each.
    """
    contact_ids = {r.contact_id for r in rows}
    contacts = {c.id: c for c in await s.scalars(sa.select(Contact).where(Contact.id.in_(contact_ids)))}
    unit_ids = {r.unit_id for r in rows if r.unit_id is not None}
    units = {u.id: u for u in await s.scalars(sa.select(Unit).where(Unit.id.in_(unit_ids)))}
    reports: dict[tuple[int, int], Report] = {
        (r.campaign_id, r.unit_id): r
        for r in await s.scalars(sa.select(Report).where(Report.unit_id.in_(unit_ids),
                                                         Report.campaign_id.in_({r.campaign_id for r in rows})))}
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    answer_rows = await s.execute(sa.select(Answer.report_id, Answer.key, Answer.value)
                                  .where(Answer.report_id.in_([r.id for r in reports.values()])))
    for report_id, key, value in answer_rows:
        answers[report_id][key] = value
    out: list[tuple[str | None, Contact | None]] = []
    for row in rows:
        contact = contacts.get(row.contact_id)
        campaign = await s.get(Campaign, row.campaign_id)  # the identity map answers after the first
        slot = await s.get(ReminderSlot, row.slot_id)
        if row.kind == "admin":
            wanted = contact is not None and contact.role == "admin"
            out.append((await _admin_text(s, campaign, slot, now) if wanted else None, contact))
            continue
        report = reports.get((row.campaign_id, row.unit_id))
        status = report.status if report else NOT_STARTED
        if contact is None or contact.role != "unit" or contact.unit_id != row.unit_id or status in SUBMITTED_STATES:
            out.append((None, contact))
            continue
        out.append((unit_text(form, units[row.unit_id].name, status, answers[report.id] if report else {},
                              campaign.deadline_at, now, overdue=slot.kind == OVERDUE,
                              reopened=bool(report and report.reopened)), contact))
    return out


async def _admin_text(s, campaign: Campaign, slot: ReminderSlot, now: datetime) -> str:
    states = await unit_states(s, campaign)
    sends = [r for r in await q.list_reminder_sends(s, slot_id=slot.id) if r.kind == "unit"]
    sent = [r for r in sends if r.state == q.SEND_SENT]
    missed = [r for r in sends if r.state in (q.SEND_FAILED, q.SEND_PENDING)]
    missed_ids = [r.contact_id for r in missed]
    contacts = {c.id: c for c in await s.scalars(sa.select(Contact).where(Contact.id.in_(missed_ids)))}
    units = {u.unit.id: u.unit for u in states}
    unreached = []
    for r in missed:
        contact = contacts.get(r.contact_id)
        unit = units.get(r.unit_id) or await q.get_unit(s, r.unit_id)
        who = (contact.display_name if contact else None) or texts.CONTACT_UNNAMED.format(id=r.contact_id)
        reason = reason_text("no_channel" if r.state == q.SEND_PENDING else r.last_error)
        unreached.append(Unreached(who, unit.name if unit else "?", texts.CHANNEL_NAMES.get(r.channel, r.channel),
                                   reason))
    if slot.kind == OVERDUE:
        return late_text(campaign, states, unreached)
    return digest_text(campaign, states, now, reminded_contacts=len(sent),
                       reminded_units=len({r.unit_id for r in sent}), unreached=unreached)


class _Claims:
    """Takes the next message for one channel, claiming a few rows per transaction (pending -> sending).

    Rows claimed but not yet handed to the queue are released (back to pending) when a pass stops early; a
    hard kill leaves them "sending", so they count as interrupted: a batch is small (the channel's concurrency).
    """

    def __init__(self, db: Database, form: Form, campaign_id: int, channel: str, served: list[str], plan: Plan,
                 stamp: Callable[[], datetime], worker: str, summary: Summary, batch: int):
        self.db, self.form, self.campaign_id, self.channel, self.served = db, form, campaign_id, channel, served
        self.plan, self.stamp, self.worker, self.summary, self.batch = plan, stamp, worker, summary, max(1, batch)
        self.buffer: deque[Job] = deque()
        self.lock = asyncio.Lock()

    async def take(self) -> Job | None:
        async with self.lock:
            while not self.buffer:
                claimed, done = await self._claim()
                self.buffer.extend(claimed)
                if done:
                    break
            return self.buffer.popleft() if self.buffer else None

    async def _claim(self) -> tuple[list[Job], bool]:
        """Some jobs, and whether there is nothing more to claim."""
        async with self.db.transaction() as s:
            now = self.stamp()
            if in_quiet_hours(now, self.plan):
                return [], True
            rows = await q.claim_reminder_sends(s, campaign_id=self.campaign_id, channel=self.channel,
                                                served=self.served, limit=self.batch)
            jobs = []
            for row, (text, contact) in zip(rows, await _render(s, self.form, rows, now)):
                row.updated_at = now
                if text is None:
                    row.state = q.SEND_SKIPPED
                    self.summary.skipped += 1
                    continue
                row.state, row.claimed_by, row.claimed_at, row.text = q.SEND_SENDING, self.worker, now, text
                jobs.append(Job(key=row.id, chat_id=contact.chat_id, user_id=contact.platform_user_id, text=text))
            return jobs, not rows

    async def release(self) -> None:
        """Give back what was claimed but never handed over to be sent."""
        if not self.buffer:
            return
        keys = [job.key for job in self.buffer]
        self.buffer.clear()
        async with self.db.transaction() as s:
            await s.execute(sa.update(ReminderSend)
                            .where(ReminderSend.id.in_(keys), ReminderSend.state == q.SEND_SENDING,
                                   ReminderSend.claimed_by == self.worker)
                            .values(state=q.SEND_PENDING, claimed_by=None, claimed_at=None, updated_at=self.stamp()))
        self.summary.released += len(keys)


async def _record(db: Database, job: Job, outcome: Outcome, stamp: Callable[[], datetime], worker: str,
                  summary: Summary) -> None:
    """Write how a message ended, at once: sent, failed (with the reason) or back to pending."""
    now = stamp()
    error = None if outcome.state == SENT else (outcome.error or "error")[:200]
    state = {SENT: q.SEND_SENT, RELEASED: q.SEND_PENDING}.get(outcome.state, q.SEND_FAILED)
    async with db.transaction() as s:
        contact_id = await q.finish_reminder_send(s, job.key, worker=worker, state=state, attempts=outcome.attempts,
                                                  error=error, now=now)
        if contact_id is None:
            log.warning("reminder %s was taken from this worker before its result was recorded", job.key)
            return
        if state == q.SEND_SENT:
            await q.set_contact_blocked(s, contact_id, None)  # it reached them: they can be written to
            summary.sent += 1
        elif state == q.SEND_PENDING:
            summary.released += 1
        else:
            if (error or "").split(" (")[0] in UNREACHABLE_ERRORS:
                await q.set_contact_blocked(s, contact_id, now)
            await q.add_audit(s, at=now, action="reminder_failed", contact_id=contact_id,
                              new={"reason": error, "reminder": job.key})
            summary.failed += 1


async def run_due(db: Database, form: Form, now: datetime, senders: Mapping[str, SendFn], *,
                  fanout: Fanout | None = None, stop: asyncio.Event | None = None, worker: str | None = None,
                  clock: Callable[[], datetime] | None = None) -> Summary:
    """One pass: recover stale sends, fire the due slot if any, then send every pending message we can.

    `now` decides which slot is due; `clock`, when given (the real loop), stamps claims and results as time
    passes during a long fan-out. `senders` maps a channel name to its send function.
    """
    stamp = clock or (lambda: now)
    worker = worker or worker_name()
    fanout = fanout or Fanout()
    summary = Summary()
    async with db.transaction() as s:
        summary.recovered = await q.recover_stale_reminder_sends(s, claimed_before=now - SEND_LEASE, now=now)
        campaign = await q.current_campaign(s)
        if campaign is None:
            return summary
        plan = await load_plan(s, campaign.id)
        slot = due_slot(plan, campaign.deadline_at, now, await q.last_reminder_slot_at(s, campaign.id))
        fired = await fire_slot(s, campaign, slot.at, slot.kind, now, worker) if slot else None
        if fired is not None:
            summary.slot, summary.slot_at, summary.planned = fired.kind, fired.at, fired.contacts + fired.admins
        campaign_id = campaign.id
    served = sorted(senders)

    async def done(job: Job, outcome: Outcome) -> None:
        await _record(db, job, outcome, stamp, worker, summary)

    claims = {channel: _Claims(db, form, campaign_id, channel, served, plan, stamp, worker, summary,
                               fanout.limits_of(channel).concurrency) for channel in senders}
    try:
        # Rounds: an admin's digest becomes claimable only once the slot's unit messages are done.
        while senders and not (stop is not None and stop.is_set()):
            results = await asyncio.gather(*(fanout.run(channel, send, claims[channel].take, done, stop)
                                             for channel, send in senders.items()), return_exceptions=True)
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                raise errors[0]
            if sum(results) == 0:
                break
    finally:
        for claim in claims.values():
            await claim.release()
    return summary


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


async def run_scheduler(db: Database, form: Form, senders: Mapping[str, SendFn], *, stop: asyncio.Event,
                        clock: Callable[[], datetime] = _utc_now, interval: float = SCHEDULER_INTERVAL,
                        fanout: Fanout | None = None) -> None:
    """Run a pass every `interval` seconds until `stop` is set; a failing pass is logged and tried again."""
    fanout = fanout or Fanout()
    worker = worker_name()
    while not stop.is_set():
        try:
            summary = await run_due(db, form, clock(), senders, fanout=fanout, stop=stop, worker=worker, clock=clock)
            if summary.slot or summary.sent or summary.failed or summary.recovered:
                log.info("reminders: %s", summary)
        except (OperationalError, DBAPIError, DatabaseUnavailable, OSError) as exc:
            log.error("reminders: database unavailable (%s); trying again in %.0fs", type(exc).__name__, interval)
        except Exception:
            log.exception("reminders: pass failed")
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except asyncio.TimeoutError:
            pass


async def stop_scheduler(task: asyncio.Task, grace: float = 10.0) -> None:
    """Once `stop` is set: let the messages in flight finish (up to `grace` seconds), then cancel."""
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# --- Channels: send functions over the channel adapters ------------------------------------------


def zalo_sender(channel, *, timeout: float = ZALO_SEND_TIMEOUT) -> SendFn:
    """One sendMessage over a started ZaloChannel's client, as a SendResult (no retries: the queue retries)."""
    from bot.zalo import ZaloError

    async def send(chat_id: str, user_id: str | None, text: str) -> SendResult:
        if channel.client is None:
            return SendResult(False, error="not_started")
        try:
            await channel.client.call("sendMessage", {"chat_id": chat_id, "text": text}, timeout=timeout)
        except ZaloError as exc:
            if exc.code == 429:
                return SendResult(False, retry_after=ZALO_429_WAIT, error="zalo 429")
            if exc.code == 404:
                return SendResult(False, permanent=True, error="not_found")
            if exc.code == 400:  # the text itself was refused: sending it again cannot help
                return SendResult(False, permanent=True, error="zalo 400")
            return SendResult(False, error=f"zalo {exc.code}")  # Zalo's 403 is a server error; 401, 408, 5xx
        return DELIVERED

    return send


def telegram_bot_sender(get_bot: Callable[[], Any]) -> SendFn:
    """One sendMessage through a python-telegram-bot Bot, as a SendResult (no retries: the queue retries)."""
    from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

    from bot.telegram import retry_seconds

    async def send(chat_id: str, user_id: str | None, text: str) -> SendResult:
        bot = get_bot()
        if bot is None:
            return SendResult(False, error="not_started")
        try:
            await bot.send_message(chat_id, text)
        except RetryAfter as exc:
            return SendResult(False, retry_after=retry_seconds(exc), error="telegram 429")
        except Forbidden:
            return SendResult(False, permanent=True, error="forbidden")
        except BadRequest as exc:
            not_found = "not found" in str(exc).lower()
            return SendResult(False, permanent=True, error="not_found" if not_found else "bad_request")
        except (TimedOut, NetworkError) as exc:
            return SendResult(False, error=f"telegram {type(exc).__name__}")
        except TelegramError as exc:  # InvalidToken, Conflict, ChatMigrated: retrying the same call will not help
            return SendResult(False, permanent=True, error=f"telegram {type(exc).__name__}")
        return DELIVERED

    return send


def telegram_sender(channel) -> SendFn:
    """The send function over a started TelegramChannel's bot."""
    return telegram_bot_sender(lambda: channel.app.bot if channel.app is not None else None)


def senders_for(channels: Iterable[Any]) -> dict[str, SendFn]:
    """A send function for each started channel, by channel name."""
    senders: dict[str, SendFn] = {}
    for channel in channels:
        if channel.name == "zalo":
            senders["zalo"] = zalo_sender(channel)
        elif channel.name == "telegram":
            senders["telegram"] = telegram_sender(channel)
    return senders
