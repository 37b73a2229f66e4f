"""The reminder plan (pure, no I/O): slots, quiet hours, which slot is due, and parsing what an admin types.

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from conversations import texts
from conversations.answers import LOCAL_TZ, format_datetime
from conversations.parsers import fold


REMINDER, OVERDUE, MANUAL = "reminder", "overdue", "manual"  # the kinds of slot


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
    raise PlanError(message.format(value=raw.strip(), example=example_deadline()))


def example_deadline(now: datetime | None = None) -> str:
    """The deadline the messages give as an example: a week from today at 16:30 (never one already passed)."""
    day = (now or datetime.now(timezone.utc)).astimezone(LOCAL_TZ) + timedelta(days=7)
    return f"{day:%d/%m/%Y} 16:30"


def future_deadline(deadline: datetime, now: datetime, *, force: bool = False,
                    message: str = texts.DEADLINE_PAST) -> datetime:
    """The deadline, unless it has already passed and that was not asked for (a mistyped year would move it
    years back and lock every unit out at once)."""
    if deadline <= now and not force:
        raise PlanError(message.format(deadline=format_datetime(deadline), example=example_deadline(now)))
    return deadline
