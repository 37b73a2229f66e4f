"""The service: one person's event in, the replies out, with the database as the single source of truth.

For each event (design.md, "Functional core, imperative shell"): one transaction; the unit's report row
locked (FOR UPDATE on PostgreSQL; SQLite has one writer, serialised in-process); the platform event id claimed
first thing, so a repeated one is skipped; state loaded, the engine run, the answers that changed and the new
cursor written, committed; only then are the replies returned for the channel to send.

The commit-to-reply window: the replies are committed with the answer (on the conversation, as pending replies
with a fingerprint of the message they answer) and cleared once the channel reports them sent (`Service.sent`). If the
process dies in between, the person sends the same thing again: that repeat gets the pending replies again
instead of being taken as the answer to the next question. The platform delivering the same update again after
a restart (Telegram's unconfirmed offset) gets them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Callable

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from bot import admin, campaign_choice, engine_io, invites, photo_kind, repeats
from bot.export_jobs import ExportJobs
from bot.forms import form_of
from bot.photos import PhotoRejected, StoredPhoto, store_photo_off_loop
from bot.webform import access as web_access
from conversations import engine, texts
from conversations.engine import Reply, decode_replies, encode_replies
from conversations.form import Form
from conversations.parsers import clean_text, fold
from storage import inbox as inbox_q
from storage import queries as q
from storage.db import DB_ERRORS, Database, DatabaseUnavailable
from storage.models import Campaign, Contact, Conversation, Invite, Report

log = logging.getLogger(__name__)

DOCUMENT_WORDS = {fold(w) for w in texts.UNIT_DOCUMENT_WORDS}
WEB_WORDS = {fold(w).removeprefix("/") for w in texts.WEB_CHAT_WORDS}  # "điền trên web": a link to the page
CHANGE_YES = {fold(w) for w in texts.CHANGE_YES_WORDS}
CHANGE_NO = {fold(w) for w in texts.CHANGE_NO_WORDS}
SENT_FLUSH_DELAY = 1.0  # seconds between a reply going out and recording it when the person is silent


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Inbound:
    """One thing a person did on a channel, already turned into plain values by the channel adapter."""

    channel: str
    user_id: str
    chat_id: str
    event_id: str  # the platform's id for this update; a repeat of it changes nothing
    display_name: str | None = None
    text: str | None = None
    pick: str | None = None  # the value of a pressed button
    photo: bytes | None = None
    photo_error: str | None = None  # a photo the channel could not fetch (too big, timed out), in Vietnamese
    unsupported: str | None = None  # "sticker", "voice", ...
    location: tuple[float, float] | None = None  # (latitude, longitude) of a shared location
    start: bool = False  # the person opened the chat with no text (or the demo started)
    sent_at: datetime | None = None  # when the person sent it, by the platform's clock (not for a press)
    sent_at_step: timedelta = timedelta(0)  # sent_at is rounded down to this (Telegram's `date`: whole seconds)
    photo_plan: bool | None = None  # the channel's photo_kind.photo_plan for `photo`, made before fetching it

    @cached_property
    def key(self) -> str | None:
        """A fingerprint of what the person sent (same text, button or photo = same key); None for the rest."""
        if self.pick is not None:
            kind, data = "p", self.pick.encode()
        elif self.photo is not None:
            kind, data = "i", self.photo
        elif self.text is not None and self.text.strip():
            kind, data = "t", self.text.strip().encode("utf-8", "surrogatepass")
        else:
            return None
        return f"{kind}:{hashlib.sha256(data).hexdigest()[:40]}"


@dataclass(frozen=True)
class Announcement:
    """A message for someone other than the person who wrote (another admin), sent once the event is committed."""

    channel: str
    chat_id: str
    user_id: str
    text: str


class Service:
    """Runs the engine for one event at a time around a database transaction."""

    def __init__(self, db: Database, form: Form, photos_dir: Path, clock: Callable[[], datetime] = utc_now,
                 export_dir: Path | None = None, province: str | None = None):
        self.db = db
        self.province = province  # HCC_PROVINCE for the exports; None: the campaign's
        self.form = form  # the form of campaigns that carry none of their own (created before forms were stored)
        self.photos_dir = photos_dir
        self.clock = clock
        self.deliverers: dict = {}  # channel name -> object that can send files (see bot/export_jobs.py)
        self.jobs = ExportJobs(self, export_dir or photos_dir.parent / "exports")
        self.console_url: str | None = None  # where the web console is served (set by `hcc-bot run`)
        self.wake_reminders = asyncio.Event()  # set when a message was queued: the scheduler sends it now
        self.started_at = clock()
        # (channel, user id) -> key of the pending replies this process has sent; cleared in the database by
        # the person's next event or by the flush, whichever comes first.
        self._sent: dict[tuple[str, str], str] = {}
        self._unflushed: dict[tuple[str, str], tuple[str, datetime]] = {}  # -> (key, when sent), to record
        # (channel, user id) -> (key, when its replies reached the platform, by our clock and by the platform's):
        # a repeat sent before then is a re-send of a message whose reply was slow, not an answer
        # (see repeats.before_its_replies).
        self._replied: dict[tuple[str, str], tuple[str, datetime, datetime | None]] = {}
        self._flusher: asyncio.Task | None = None
        self._flush_now = asyncio.Event()
        # (channel, event id) of inbox rows marked done in their event's transaction, for the inbox worker to
        # take (bot/inbox.py): it marks the others done itself.
        self.settled: set[tuple[str, str]] = set()
        # Issue 22: (channel, event id) of events whose transaction failed here, queued (tried again by the inbox;
        # its COMMIT may have gone through unseen: the retry then sends the stored replies, repeats.redelivered)
        # or answered SAVE_FAILED (`sent` never takes that for the event's own replies).
        self._failed: dict[tuple[str, str], None] = {}
        self._unsaved: dict[tuple[str, str], None] = {}
        self._lags: dict = {}  # channel -> recent (arrival - platform sent_at), see repeats.arrival

    def sent(self, inbound: Inbound, delivered: datetime | bool = True) -> None:
        """The channel has delivered every reply to `inbound`: the pending replies need not be kept any more.
        `delivered`: when the first of them reached the chat by the platform's clock (its answer to the send),
        if it said."""
        shown_at = delivered if isinstance(delivered, datetime) else None
        key = inbound.key
        if key is None or (inbound.channel, inbound.event_id) in self._unsaved:
            return  # what went out was "cannot save", not the replies the database may hold for it
        who = (inbound.channel, inbound.user_id)
        now = self.clock()
        self._sent[who] = key
        self._unflushed[who] = (key, now)  # the flush records when they were sent (pending_at)
        self._replied.pop(who, None)
        self._replied[who] = (key, now, shown_at)
        if len(self._replied) > repeats.REMEMBERED:  # a bound on memory: the oldest people first
            self._replied.pop(next(iter(self._replied)))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        """Every SENT_FLUSH_DELAY, one transaction for the marks left: most people answer again before it, and
        their event clears the mark for free."""
        while self._unflushed:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._flush_now.wait(), SENT_FLUSH_DELAY)
            if not await self._flush_batch() and self._flush_now.is_set():
                return  # closing with the database away: the person's next event clears them

    async def flush_sent(self) -> None:
        """Clear every sent reply in the database now."""
        while self._unflushed and await self._flush_batch():
            pass

    async def _flush_batch(self) -> bool:
        batch, self._unflushed = self._unflushed, {}
        if not batch:
            return True
        try:
            async with self.db.transaction() as s:
                await q.clear_pending_replies(s, [(ch, user, key, at) for (ch, user), (key, at) in batch.items()])
        except DB_ERRORS as exc:
            # This process still knows they were sent (_sent, _replied); kept to record once the database is back.
            log.warning("cannot record %d sent replies: %s", len(batch), type(exc).__name__)
            for who, mark in batch.items():
                self._unflushed.setdefault(who, mark)
            return False
        for who, (key, _) in batch.items():
            if self._sent.get(who) == key:
                del self._sent[who]
        return True

    async def close(self) -> None:
        """At shutdown: record the replies sent, so that a restart does not send them again."""
        self._flush_now.set()
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self.flush_sent()

    async def handle(self, inbound: Inbound, *, queued: bool = False) -> list[Reply] | None:
        """Process one event; the replies to send, or None when the event was already processed.

        `queued`: the event comes from the durable inbox (bot/inbox.py), acknowledged to the platform already. A
        database error then raises DatabaseUnavailable and the inbox worker tries it again, in the chat's order,
        once the database answers: the person gets the real replies, never a "cannot save" for something the
        platform was told we have (which they would send again while the first may be stored). Without it
        (the terminal, direct calls) the error is answered with SAVE_FAILED."""
        stored: StoredPhoto | None = None
        refused = inbound.photo_error
        plan = None
        if inbound.photo is not None:  # a plan the channel made before the download holds: the chat waited for it
            plan = inbound.photo_plan if inbound.photo_plan is not None else \
                await photo_kind.photo_plan(self, inbound.channel, inbound.user_id, queued=queued)
        if plan is not None:
            try:
                # Pillow work runs in another process; the files are content-addressed, so a retry is harmless.
                stored = await store_photo_off_loop(self.photos_dir, inbound.photo, plan)
            except PhotoRejected as exc:
                refused = exc.message
        announcements: list[Announcement] = []
        try:
            async with self.db.transaction() as s:
                arrived = await inbox_q.settle(s, inbound.channel, inbound.event_id, at=self.clock())
                replies = await self._handle(s, inbound, stored, refused, announcements, arrived)
            if arrived is not None:
                self.settled.add((inbound.channel, inbound.event_id))
            for announcement in announcements:  # only once committed: what they announce is true
                self.jobs.spawn(self._announce(announcement))
            return replies
        except IntegrityError:
            # A unique key taken by a concurrent worker. The event claim waits for the other transaction instead
            # of failing, so this is a safety net: nothing was stored, nothing is sent.
            log.info("event %s:%s hit a unique key at commit: skipped", inbound.channel, inbound.event_id)
            return None
        except DB_ERRORS as exc:
            if queued:  # the inbox worker tries it again once the database answers (its COMMIT may have gone through)
                log.warning("event %s:%s not saved yet: %s", inbound.channel, inbound.event_id, type(exc).__name__)
                repeats.remember(self._failed, (inbound.channel, inbound.event_id))
                raise DatabaseUnavailable(type(exc).__name__) from exc
            log.error("cannot save event %s:%s: %s", inbound.channel, inbound.event_id, type(exc).__name__)
            repeats.remember(self._unsaved, (inbound.channel, inbound.event_id))
            return [Reply(texts.SAVE_FAILED)]

    async def record_send_failure(self, channel: str, user_id: str, reason: str, *, permanent: bool) -> None:
        """Remember a reply that could not be delivered, so admins see it; a permanent one marks the contact."""
        now = self.clock()
        try:
            async with self.db.transaction() as s:
                contact = await q.get_contact(s, channel, user_id)
                if contact is None:
                    return
                if permanent:
                    contact.blocked_at = now
                await q.add_audit(s, at=now, action="send_failed", contact_id=contact.id, new={"reason": reason[:200]})
        except (OperationalError, DBAPIError, DatabaseUnavailable, OSError) as exc:
            log.error("cannot record a failed send: %s", type(exc).__name__)

    async def _announce(self, announcement: Announcement) -> None:
        """Send a message to someone other than the person who wrote (best effort, after the commit)."""
        deliverer = self.deliverers.get(announcement.channel)
        if deliverer is None:
            log.warning("no %s channel running: an announcement to an admin was not sent", announcement.channel)
            return
        try:
            await deliverer.deliver_files(announcement.chat_id, announcement.user_id, announcement.text, [])
        except Exception:  # one admin's failed notice must not hide anything else
            log.exception("announcement to an admin failed")

    def form_for(self, campaign: Campaign | None) -> Form:  # the campaign's own form (bot/forms.py)
        return form_of(campaign, self.form)

    async def _handle(self, s, inbound: Inbound, stored: StoredPhoto | None, refused: str | None,
                      announcements: list[Announcement], arrived: datetime | None = None) -> list[Reply] | None:
        now = self.clock()
        if not await q.claim_event(s, inbound.channel, inbound.event_id, at=now):
            return await repeats.redelivered(self, s, inbound)
        # A platform display name is whatever the person typed there: clean it and fit it to the column.
        name = clean_text(inbound.display_name or "", multiline=False)[:200] or None
        contact = await q.get_or_create_contact(
            s, channel=inbound.channel, platform_user_id=inbound.user_id, chat_id=inbound.chat_id,
            display_name=name, now=now)
        if contact.blocked_at is not None:  # they wrote to us, so we can write to them (a no-op set would flush)
            contact.blocked_at = None
        repeat = await repeats.before_its_replies(self, s, contact, inbound, repeats.arrival(self, inbound, arrived))
        if repeat is not None:
            return repeat or None
        if contact.role == "admin" and contact.invite_id is not None:
            # An admin's access rests on their invite: once it is revoked, they are a stranger again (revoking
            # unbinds them already; this covers an invite revoked some other way).
            invite = await s.get(Invite, contact.invite_id)
            if invite is not None and invite.revoked_at is not None:
                await q.unbind_contact(s, contact, now=now, reason="invite_revoked")
        notes: list[str] = []
        event: engine.Event | None = None
        if contact.pending_invite_id is not None:
            # The answer to "change your unit or role?": yes, no, or anything else (which cancels it).
            outcome = await self._settle_change(s, contact, inbound, now, announcements)
            if isinstance(outcome, list):
                return outcome
            note, answered = outcome
            notes.append(note)
            if answered:
                event = engine.Start() if answered == "changed" else engine.Resume()
        code = invites.start_code(inbound.text) if event is None else None
        if code is None and event is None and contact.role is not None:
            code = await invites.typed_code(s, inbound.text)  # a bound person's plain-text code is never an answer
        if event is None and (contact.role is None or code):
            outcome = await self._try_invite(s, contact, inbound, code, now, announcements)
            if isinstance(outcome, list):
                return outcome
            notes += [outcome] if outcome else []
            event = engine.Start()
        if event is None and contact.role == "unit" and admin.is_admin_command(inbound.text):
            notes.append(texts.ADMIN_ONLY.format(command=clean_text(inbound.text or "", multiline=False)[:40]))
            event = engine.Resume()
        if contact.role == "admin":
            campaign, answer = await campaign_choice.admin_campaign(s, contact, inbound)
            if answer is None:
                answer = await admin.answer(s, self.form_for(campaign), self.jobs, campaign, inbound, now)
            return [Reply("\n\n".join([*notes, answer]))]
        campaign, event, picker = await campaign_choice.pick_campaign(self, s, contact, inbound, event, notes)
        if picker is not None:  # kept until sent like any reply, on the conversation of the first campaign listed
            home = (await q.open_campaigns_for_unit(s, contact.unit_id))[0]
            conversation = await q.get_or_create_conversation(s, contact_id=contact.id, campaign_id=home.id, now=now)
            return self._keep(conversation, inbound, picker, now)
        if campaign is None:
            return [Reply("\n\n".join([*notes, texts.NO_CAMPAIGN]))]
        # The unit's report locked first: everything read after it is what the last event of the unit left.
        report, unit_name = await q.lock_report(s, campaign_id=campaign.id, unit_id=contact.unit_id, now=now)
        conversation = await q.get_or_create_conversation(s, contact_id=contact.id, campaign_id=campaign.id, now=now)
        who = (inbound.channel, inbound.user_id)
        if conversation.pending_replies is not None:
            if self._sent.get(who) == conversation.pending_key:
                self._unflushed.pop(who, None)  # cleared below, with this event: nothing left to flush
            elif inbound.key == conversation.pending_key:
                # The same message again while the replies to it were never sent (the process died between
                # the commit and the send): they are what the person is waiting for.
                log.info("repeat of a message whose replies were not sent: sending them again")
                return decode_replies(conversation.pending_replies or [])
        if event is None and contact.role == "unit" and (late := repeats.out_of_order(inbound, conversation)):
            notes.append(late)  # issue 22: never an answer; the current question follows
            event = engine.Resume()
        offered = await campaign_choice.offer_prefill(self, s, contact, campaign, report, conversation, inbound, event,
                                                      notes, now)
        if isinstance(offered, list):  # the offer to reuse the last round's list, or the next offer
            replies, notes = offered, []
        else:
            event = offered or event or await self._event(s, inbound, stored, refused, contact, report, now)
            if isinstance(event, engine.Text) and fold(event.text).removeprefix("/") in WEB_WORDS:
                replies = [await web_access.link_reply(self, s, contact, campaign, now)]
            elif isinstance(event, engine.Text) and fold(event.text).removeprefix("/") in DOCUMENT_WORDS:
                unit = await q.get_unit(s, contact.unit_id)
                self.jobs.spawn(self.jobs.unit_document(inbound.channel, inbound.chat_id, inbound.user_id,
                                                        unit.code, campaign_id=campaign.id))
                replies = [Reply(texts.UNIT_DOCUMENT_STARTED)]
            else:
                replies = await self._run_engine(s, contact, campaign, report, unit_name, conversation, event, now)
        if notes:
            replies[0] = Reply("\n\n".join([*notes, replies[0].text]), replies[0].options, replies[0].expects_photo)
        return self._keep(conversation, inbound, replies, now)

    def _keep(self, conversation: Conversation, inbound: Inbound, replies: list[Reply], now: datetime) -> list[Reply]:
        """The replies are kept until sent (with the cursor, in the same UPDATE); earlier ones are answered."""
        pending = (inbound.key, encode_replies(replies), now) if inbound.key is not None else (None, None, None)
        conversation.pending_key, conversation.pending_replies, conversation.pending_at = pending
        repeats.handled(inbound, conversation)
        self._sent.pop((inbound.channel, inbound.user_id), None)  # what this process sent: the replaced replies
        return replies

    async def _event(self, s, inbound, stored, refused, contact, report, now) -> engine.Event:
        if stored is not None:
            photo = await q.add_photo(
                s, report_id=report.id, contact_id=contact.id, sha256=stored.sha256,
                original_path=str(stored.original_path), processed_path=str(stored.processed_path),
                width=stored.width, height=stored.height, at=now)
            # Kept either way; the engine warns when the badge lost the sides of a landscape or was enlarged.
            small = (stored.crop_width, stored.crop_height) if stored.upscaled else None
            return engine.Photo(photo.id, cropped=stored.landscape and stored.faces != 1, small=small,
                                no_face=stored.faces not in (1, -1))  # -1: not looked for
        if refused is not None:
            return engine.PhotoRefused(refused)
        if inbound.pick is not None:
            return engine.Pick(inbound.pick)
        if inbound.location is not None:
            return engine.Location(*inbound.location)
        if inbound.text is not None and inbound.text.strip():
            return engine.Text(inbound.text)
        if inbound.start:
            return engine.Start()
        return engine.Unsupported(inbound.unsupported or "")

    async def _run_engine(self, s, contact: Contact, campaign: Campaign, report: Report, unit_name: str,
                          conversation: Conversation, event: engine.Event, now: datetime) -> list[Reply]:
        form = self.form_for(campaign)
        state = await engine_io.report_state(s, contact, campaign, report, unit_name, conversation)
        new, replies = engine.step(form, state, event, now)
        await engine_io.store_state(s, form, contact, report, conversation, state, new, now)
        return replies

    async def _try_invite(self, s, contact: Contact, inbound: Inbound, code: str | None, now: datetime,
                          announcements: list[Announcement]) -> list[Reply] | str:
        """Bind the person with an invite code: a note to say before the first question, or replies to send.

        A person bound otherwise is asked to confirm the change first (`_settle_change` takes the answer).
        """
        if contact.invite_locked_until is not None and contact.invite_locked_until > now:
            minutes = max(1, int((contact.invite_locked_until - now).total_seconds() // 60) + 1)
            return [Reply(texts.INVITE_SLOW_DOWN.format(minutes=minutes))]
        candidate = code if code is not None else q.normalize_invite_code(inbound.text or "")
        if code is None and not invites.looks_like_code(candidate):
            # A greeting, a photo or a sticker: explain instead of counting a wrong code.
            return [Reply(texts.INVITE_PROMPT)]
        invite = await q.find_invite(s, candidate) if invites.INVITE_CODE_RE.match(candidate) else None
        if invite is None:
            contact.invite_failures += 1
            over = contact.invite_failures - invites.FREE_INVITE_ATTEMPTS
            if over >= 0:
                contact.invite_locked_until = now + min(timedelta(minutes=2 ** over), invites.MAX_INVITE_LOCK)
            await q.add_audit(s, at=now, action="invite_wrong", contact_id=contact.id)
            shown = (inbound.text or "").strip()[:20]
            return [Reply(texts.INVITE_WRONG.format(code=shown))]
        if contact.role == invite.role and contact.unit_id == invite.unit_id:
            return ""  # already bound this way (the invite link opened again): just resume, whatever the code's state
        problem = invites.unusable(invite, now)
        if problem is not None:
            return [Reply(problem)]
        if contact.role is not None:
            contact.pending_invite_id = invite.id
            return [Reply(await invites.change_question(s, contact, invite))]
        return await self._bind(s, contact, invite, now, announcements)

    async def _settle_change(self, s, contact: Contact, inbound: Inbound, now: datetime,
                             announcements: list[Announcement]) -> list[Reply] | tuple[str, str | None]:
        """The message after "change your unit or role?": replies to send, or (a note, "changed" | "kept" | None).

        None: the message was neither yes nor no; the change is cancelled and the message handled as usual.
        """
        invite = await s.get(Invite, contact.pending_invite_id)
        contact.pending_invite_id = None
        if invite is not None and invites.code_of(inbound.text) == invite.code:
            contact.pending_invite_id = invite.id  # the same code again (a re-sent message): the same question
            return [Reply(await invites.change_question(s, contact, invite))]
        word = fold(inbound.text or "").rstrip(".!")
        current = await invites.role_text(s, contact.role, contact.unit_id)
        if word in CHANGE_YES:
            problem = invites.unusable(invite, now)
            if problem is not None:
                return [Reply(f"{problem}\n\n{texts.CHANGE_KEPT.format(current=current)}")]
            return await self._bind(s, contact, invite, now, announcements), "changed"
        if word in CHANGE_NO:
            return texts.CHANGE_KEPT.format(current=current), "kept"
        return texts.CHANGE_CANCELLED.format(current=current), None

    async def _bind(self, s, contact: Contact, invite: Invite, now: datetime,
                    announcements: list[Announcement]) -> str:
        """Bind the contact with a usable invite; the note that says so. A new admin is announced to the others."""
        await q.bind_contact(s, contact, invite, now=now)
        if invite.role == "admin":
            text = texts.ADMIN_ANNOUNCE.format(name=contact.display_name or texts.CONTACT_NO_NAME,
                                               channel=texts.CHANNEL_LABELS.get(contact.channel, contact.channel))
            announcements += [Announcement(c.channel, c.chat_id, c.platform_user_id, text)
                              for c in await q.list_contacts(s, role="admin") if c.id != contact.id]
            return texts.BOUND_ADMIN
        unit = await q.get_unit(s, invite.unit_id)
        return texts.BOUND_UNIT.format(unit=unit.name)
