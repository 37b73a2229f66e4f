"""Reading and changing a campaign's reminders: plan, deadline, preview and "send now".

The chat's admin commands (bot/admin.py), the CLI and the web console all call these."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from bot.reminders.messages import unit_lines, unit_text
from bot.reminders.plan import (
    Plan, due_slot, format_quiet, format_spec, in_quiet_hours, parse_quiet, parse_slots, plan_slots,
)
from bot.reminders.scheduler import answers_of, load_plan, refuse_closed, save_plan, unit_states
from conversations import texts
from conversations.answers import format_datetime
from conversations.form import Form
from storage import queries as q
from storage.models import Campaign


async def preview_text(s, form: Form, campaign: Campaign, now: datetime, *, confirm: str) -> str:
    """Who "send now" would remind, who cannot be reminded, and the message one unit would get."""
    states = await unit_states(s, campaign)
    targets = [u for u in states if u.waiting and u.contacts]
    no_contact = [u for u in states if u.waiting and not u.contacts]
    if not targets:
        lines = [texts.REMIND_NOBODY]
    else:
        lines = [texts.REMIND_PREVIEW.format(contacts=sum(len(u.contacts) for u in targets), units=len(targets))]
        lines += [texts.REMIND_PREVIEW_LINE.format(code=u.unit.code, name=u.unit.name,
                                                   status=texts.STATUS_LABELS[u.status], contacts=len(u.contacts))
                  for u in targets]
    if no_contact:
        lines += ["", texts.DIGEST_NO_CONTACT.format(count=len(no_contact)), *unit_lines(no_contact)]
    if targets:
        first = targets[0]
        report, answers = await answers_of(s, campaign.id, first.unit.id)
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
    refuse_closed(campaign)
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
    refuse_closed(campaign)
    old = campaign.deadline_at
    campaign.deadline_at = deadline
    await q.add_audit(s, at=now, action="deadline", old=old.isoformat(), new=deadline.isoformat())
    return texts.DEADLINE_CHANGED.format(old=format_datetime(old), new=format_datetime(deadline))
