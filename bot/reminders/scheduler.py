"""The reminder scheduler: firing slots, claiming and fanning out the sends, recording each result.

The database is the source of truth; nothing lives only in memory.

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
import logging
import os
import secrets
import socket
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.fanout import RELEASED, SENT, Fanout, Job, Outcome, SendFn
from bot.reminders.messages import (
    SUBMITTED_STATES, UnitState, Unreached, digest_text, late_text, reason_text, unit_text,
)
from bot.forms import form_of
from bot.reminders.plan import DEFAULT_PLAN, MANUAL, OVERDUE, Plan, PlanError, due_slot, in_quiet_hours
from conversations import texts
from conversations.engine import NOT_STARTED
from conversations.form import Form
from storage import queries as q
from storage.db import Database, DatabaseUnavailable
from storage.models import Answer, Campaign, Contact, ReminderSend, ReminderSlot, Report, Unit

log = logging.getLogger(__name__)

SEND_LEASE = timedelta(minutes=10)  # longer than any one message's waits and retries
SCHEDULER_INTERVAL = 30.0  # seconds between two passes
UNREACHABLE_ERRORS = {"forbidden", "not_found"}  # the contact cannot be written to: marked blocked


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
    """Every unit the campaign shows (q.shows_unit) with its status and bound contacts, by unit id."""
    by_unit: dict[int, list[Contact]] = defaultdict(list)
    for contact in await q.list_contacts(s, role="unit"):
        if contact.unit_id is not None:
            by_unit[contact.unit_id].append(contact)
    return [UnitState(unit, report.status if report else NOT_STARTED, bool(report and report.reopened),
                      by_unit[unit.id], report.deadline_at if report else None)
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
                    worker: str | None, unit_ids: set[int] | None = None) -> Fired | None:
    """Record the slot and plan its messages, in the caller's transaction; None if it had already fired.

    `unit_ids`: only these units (an officer reminding one unit from the console)."""
    if unit_ids is not None:
        kind = q.MANUAL_UNIT  # off the plan: it neither replaces the others' messages nor counts as a slot fired
    slot_id = await q.insert_reminder_slot(s, campaign_id=campaign.id, at=at, kind=kind,
                                           deadline_at=campaign.deadline_at, now=now, worker=worker)
    if slot_id is None:
        return None
    await q.expire_reminder_sends(s, campaign_id=campaign.id, before_slot_id=slot_id, now=now, unit_ids=unit_ids)
    targets = [u for u in await unit_states(s, campaign) if u.waiting and u.contacts
               and (unit_ids is None or u.unit.id in unit_ids)]
    rows = [{"slot_id": slot_id, "campaign_id": campaign.id, "unit_id": u.unit.id, "contact_id": c.id,
             "channel": c.channel, "kind": "unit"} for u in targets for c in u.contacts]
    admins = [] if kind in (MANUAL, q.MANUAL_UNIT) else await q.list_contacts(s, role="admin")
    rows += [{"slot_id": slot_id, "campaign_id": campaign.id, "unit_id": None, "contact_id": c.id,
              "channel": c.channel, "kind": "admin"} for c in admins]
    await q.add_reminder_sends(s, rows, now=now)
    return Fired(slot_id, at, kind, len(targets), len(rows) - len(admins), len(admins))


def refuse_closed(campaign: Campaign) -> None:
    """A closed campaign sends no reminders: queuing one, or changing its plan or deadline, is refused."""
    if campaign.closed_at is not None:
        raise PlanError(texts.REVIEW_CAMPAIGN_CLOSED.format(title=campaign.title))


async def fire_extension_overdue(s, campaign: Campaign, plan: Plan, now: datetime,
                                 worker: str | None) -> Fired | None:
    """The overdue notice for units whose own deadline (an extension) has passed: once per deadline, to those
    units only (the campaign's overdue slot skipped them while their deadline was ahead)."""
    passed = await q.extensions_passed(s, campaign.id, after=campaign.deadline_at, now=now - plan.overdue_after)
    for deadline, unit_ids in sorted(passed.items()):
        at = deadline + plan.overdue_after
        slot_id = await q.insert_reminder_slot(s, campaign_id=campaign.id, at=at, kind=q.OVERDUE_UNIT,
                                               deadline_at=deadline, now=now, worker=worker)
        if slot_id is None:
            continue  # told already
        targets = [u for u in await unit_states(s, campaign)
                   if u.unit.id in set(unit_ids) and u.waiting and u.contacts]
        rows = [{"slot_id": slot_id, "campaign_id": campaign.id, "unit_id": u.unit.id, "contact_id": c.id,
                 "channel": c.channel, "kind": "unit"} for u in targets for c in u.contacts]
        await q.add_reminder_sends(s, rows, now=now)
        return Fired(slot_id, at, q.OVERDUE_UNIT, len(targets), len(rows), 0)
    return None


async def queue_now(s, campaign: Campaign, now: datetime, *, worker: str | None = None,
                    unit_ids: set[int] | None = None, officer: str | None = None) -> Fired:
    """An admin's "send reminders now": a manual slot for the units not submitted (or only `unit_ids`)."""
    refuse_closed(campaign)
    plan = await load_plan(s, campaign.id)
    if in_quiet_hours(now, plan):
        raise PlanError(texts.REMIND_QUIET.format(start=f"{plan.quiet_start:%H:%M}", end=f"{plan.quiet_end:%H:%M}"))
    if not any(u.waiting and u.contacts and (unit_ids is None or u.unit.id in unit_ids)
               for u in await unit_states(s, campaign)):
        raise PlanError(texts.REMIND_NOBODY if unit_ids is None else texts.REMIND_UNIT_NOBODY)
    fired = await fire_slot(s, campaign, now, MANUAL, now, worker, unit_ids)
    if fired is None:  # the same instant queued twice (only a frozen test clock can do that)
        raise PlanError(texts.REMIND_NOBODY)
    await q.add_audit(s, at=now, action="remind_now", new={"slot": fired.slot_id, "contacts": fired.contacts,
                                                           **({"officer": officer} if officer else {})})
    return fired


async def fire_notice(s, campaign: Campaign, unit_id: int, contacts: list[Contact], text: str,
                      now: datetime) -> int:
    """Queue one message, written now, to each of a unit's contacts (a NOTICE slot); how many were queued."""
    if not contacts:
        return 0
    at = now
    slot_id = None
    while slot_id is None:  # two notices in the same microsecond (only a frozen test clock) take the next one
        slot_id = await q.insert_reminder_slot(s, campaign_id=campaign.id, at=at, kind=q.NOTICE,
                                               deadline_at=campaign.deadline_at, now=now, worker=None)
        at += timedelta(microseconds=1)
    await q.add_reminder_sends(s, [{"slot_id": slot_id, "campaign_id": campaign.id, "unit_id": unit_id,
                                    "contact_id": c.id, "channel": c.channel, "kind": q.NOTICE, "text": text}
                                   for c in contacts], now=now)
    return len(contacts)


async def answers_of(s, campaign_id: int, unit_id: int) -> tuple[Report | None, dict[str, Any]]:
    report = await s.scalar(sa.select(Report).where(Report.campaign_id == campaign_id, Report.unit_id == unit_id))
    return report, (await q.load_answers(s, report.id) if report else {})


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
    open_for = await q.open_campaign_units(s)  # campaign id -> the units it asks (None: all)

    def several(campaign: Campaign, unit_id: int) -> str | None:
        count = sum(1 for listed in open_for.values() if listed is None or unit_id in listed)
        return campaign.title if count > 1 else None

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
        if row.kind == q.NOTICE:  # written once, when it was queued; only for who is still the unit's contact
            wanted = contact is not None and contact.role == "unit" and contact.unit_id == row.unit_id
            out.append((row.text if wanted else None, contact))
            continue
        if row.kind == "admin":
            wanted = contact is not None and contact.role == "admin"
            out.append((await _admin_text(s, campaign, slot, now) if wanted else None, contact))
            continue
        report = reports.get((row.campaign_id, row.unit_id))
        status = report.status if report else NOT_STARTED
        if contact is None or contact.role != "unit" or contact.unit_id != row.unit_id or status in SUBMITTED_STATES \
                or not units[row.unit_id].active:  # deactivated since it was queued
            out.append((None, contact))
            continue
        deadline = report.deadline_at if report and report.deadline_at else campaign.deadline_at
        overdue = slot.kind in (OVERDUE, q.OVERDUE_UNIT)
        if overdue and deadline > now:  # the unit's own deadline was extended: not late yet
            out.append((None, contact))
            continue
        out.append((unit_text(form, units[row.unit_id].name, status, answers[report.id] if report else {},
                              deadline, now, overdue=overdue,
                              reopened=bool(report and report.reopened), several=several(campaign, row.unit_id),
                              switch=contact.campaign_id not in (None, campaign.id)),
                    contact))
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
    """One pass: recover stale sends, then for each open campaign fire its due slot if any and send every
    pending message we can.

    `now` decides which slot is due; `clock`, when given (the real loop), stamps claims and results as time
    passes during a long fan-out. `senders` maps a channel name to its send function. `form`: the form of the
    campaigns that carry none of their own (bot/forms.py).
    """
    worker = worker or worker_name()
    fanout = fanout or Fanout()
    summary = Summary()
    async with db.transaction() as s:
        summary.recovered = await q.recover_stale_reminder_sends(s, claimed_before=now - SEND_LEASE, now=now)
        campaigns = await q.list_campaigns(s, open_only=True)
    for campaign in campaigns:  # a closed campaign gets no more reminders
        if stop is not None and stop.is_set():
            break
        await _run_campaign(db, form_of(campaign, form), campaign.id, now, senders, fanout=fanout, stop=stop,
                            worker=worker, clock=clock, summary=summary)
    return summary


async def _run_campaign(db: Database, form: Form, campaign_id: int, now: datetime, senders: Mapping[str, SendFn], *,
                        fanout: Fanout, stop: asyncio.Event | None, worker: str,
                        clock: Callable[[], datetime] | None, summary: Summary) -> None:
    stamp = clock or (lambda: now)
    async with db.transaction() as s:
        campaign = await q.get_campaign(s, campaign_id)
        if campaign is None or campaign.closed_at is not None:
            return
        plan = await load_plan(s, campaign.id)
        slot = due_slot(plan, campaign.deadline_at, now, await q.last_reminder_slot_at(s, campaign.id))
        fired = await fire_slot(s, campaign, slot.at, slot.kind, now, worker) if slot else None
        if fired is None and not in_quiet_hours(now, plan):
            fired = await fire_extension_overdue(s, campaign, plan, now, worker)
        if fired is not None:
            summary.slot, summary.slot_at = fired.kind, fired.at
            summary.planned += fired.contacts + fired.admins
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


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


async def run_scheduler(db: Database, form: Form, senders: Mapping[str, SendFn], *, stop: asyncio.Event,
                        clock: Callable[[], datetime] = _utc_now, interval: float = SCHEDULER_INTERVAL,
                        fanout: Fanout | None = None, wake: asyncio.Event | None = None) -> None:
    """Run a pass every `interval` seconds until `stop` is set; a failing pass is logged and tried again.

    Setting `wake` starts the next pass at once (a message queued from the console or the chat goes out now)."""
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
        waits = [asyncio.ensure_future(stop.wait())] + ([asyncio.ensure_future(wake.wait())] if wake else [])
        await asyncio.wait(waits, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
        if wake is not None:
            wake.clear()


async def stop_scheduler(task: asyncio.Task, grace: float = 10.0) -> None:
    """Once `stop` is set: let the messages in flight finish (up to `grace` seconds), then cancel."""
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# --- Channels: each channel owns its send function ---------------------------------------------


def senders_for(channels: Iterable[Any]) -> dict[str, SendFn]:
    """A send function for each started channel that can send reminders, by channel name."""
    return {channel.name: channel.reminder_sender() for channel in channels if hasattr(channel, "reminder_sender")}
