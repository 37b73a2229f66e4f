"""The page's events through the service's path: photos through the chat's pipeline first, then one transaction per
request (the unit's report locked, the state loaded, `engine.web_step`, the difference written with via="web")."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError

from bot import engine_io
from bot.photos import MAX_BYTES, PhotoRejected, StoredPhoto, store_photo_off_loop
from bot.webform.access import Person
from conversations import engine, fields, texts
from conversations.engine import State, WebResult
from conversations.form import Form
from storage import queries as q
from storage.db import DatabaseUnavailable
from storage.models import Campaign, Contact, Report

log = logging.getLogger(__name__)


@dataclass
class Loaded:
    """What a page shows: the form, the state after the request, the unit's name, the result of the request."""

    form: Form
    campaign: Campaign
    state: State
    unit_name: str
    result: WebResult = field(default_factory=WebResult)
    failed: bool = False  # the database could not be reached: nothing was saved


def _merge(into: WebResult, more: WebResult) -> None:
    into.errors.update(more.errors)
    into.notes.update(more.notes)
    into.saved.update(more.saved)
    into.message = "\n\n".join(m for m in (into.message, more.message) if m)
    into.submitted = into.submitted or more.submitted


async def _photo(service, form: Form, path: str, data: bytes | None) -> StoredPhoto | str:
    """The chat's photo pipeline (size, type, bombs, EXIF, the 3x4 crop for a badge's question); None: a file too
    large to read."""
    if data is None:
        return texts.PHOTO_TOO_LARGE.format(max_mb=MAX_BYTES // (1024 * 1024))
    parts = fields.path_parts(path)
    badge = form.is_badge(parts[0], parts[2]) if parts else True
    try:
        return await store_photo_off_loop(service.photos_dir, data, badge)
    except PhotoRejected as exc:
        return exc.message


async def run(service, person: Person, now: datetime, *, saves: list[tuple[str, Any]] = (),
              photos: list[tuple[str, bytes | None]] = (), delete: tuple[str, int] | None = None,
              submit: bool = False) -> Loaded:
    """Apply what the page sent (any of: field values, photos, an item to delete, the submission) as web events in
    one transaction; or, with nothing sent, just load the state to show."""
    if not (saves or photos or delete or submit):
        return await _view(service, person)
    async with service.db.sessionmaker() as s:
        campaign = await q.get_campaign(s, person.campaign_id)
    form = service.form_for(campaign)
    stored = [(path, await _photo(service, form, path, data)) for path, data in photos]
    try:
        async with service.db.transaction() as s:
            contact = await s.get(Contact, person.contact_id)
            report, unit_name = await q.lock_report(s, campaign_id=campaign.id, unit_id=person.unit_id, now=now)
            conversation = await q.get_or_create_conversation(s, contact_id=contact.id, campaign_id=campaign.id,
                                                              now=now)
            first = await engine_io.report_state(s, contact, campaign, report, unit_name, conversation)
            state, result = first, WebResult()
            events: list[Any] = []
            if saves:
                events.append(engine.WebSave(tuple(saves)))
            if delete is not None:
                events.append(engine.WebDeleteItem(*delete))
            for event in events:
                state, more = engine.web_step(form, state, event, now)
                _merge(result, more)
            for path, photo in stored:
                real = new_item_path(path, result)
                if isinstance(photo, str):
                    event = engine.WebPhoto(real, engine.PhotoRefused(photo))
                else:
                    row = await q.add_photo(s, report_id=report.id, contact_id=contact.id, sha256=photo.sha256,
                                            original_path=str(photo.original_path),
                                            processed_path=str(photo.processed_path), width=photo.width,
                                            height=photo.height, at=now)
                    small = (photo.crop_width, photo.crop_height) if photo.upscaled else None
                    shot = engine.Photo(row.id, cropped=photo.landscape and photo.faces != 1, small=small,
                                        no_face=photo.faces not in (1, -1))  # as the chat's (bot/service.py)
                    event = engine.WebPhoto(real, shot)
                state, more = engine.web_step(form, state, event, now)
                if real in more.errors and not isinstance(photo, str):
                    await s.delete(row)  # refused (no such item yet, not asked): no photo row left behind
                if real != path and path in more.errors:
                    more.errors[real] = more.errors[path]
                _merge(result, more)
            if submit:
                state, more = engine.web_step(form, state, engine.WebSubmit(), now)
                _merge(result, more)
            # An error of a field of the item this request created is shown on that item.
            result.errors = {new_item_path(path, result): error for path, error in result.errors.items()}
            if state is not first:
                await engine_io.store_state(s, form, contact, report, conversation, first, state, now, via="web")
            channel, chat_id, user_id = contact.channel, contact.chat_id, contact.platform_user_id
    except (OperationalError, DBAPIError, DatabaseUnavailable, OSError, ConnectionError) as exc:
        log.error("cannot save a web form event: %s", type(exc).__name__)
        return Loaded(form, campaign, first if "first" in locals() else None, "", WebResult(message=texts.SAVE_FAILED),
                      failed=True)
    if result.submitted:  # the chat hears it once, as it would have from its own "nộp"
        service.jobs.spawn(_tell_chat(service, channel, chat_id, user_id, result.message))
    return Loaded(form, campaign, state, unit_name, result)


async def _tell_chat(service, channel: str, chat_id: str, user_id: str, text: str) -> None:
    """One message to the person's chat, after the commit (best effort, as the service's announcements)."""
    deliverer = service.deliverers.get(channel)
    if deliverer is None:
        log.warning("no %s channel running: the submission was not confirmed in the chat", channel)
        return
    try:
        await deliverer.deliver_files(chat_id, user_id, text, [])
    except Exception:  # the report is submitted either way; the page said so
        log.exception("confirming a web submission in the chat failed")


async def _view(service, person: Person) -> Loaded:
    """The state to show, read without a write (a page load takes no lock and creates nothing)."""
    try:
        async with service.db.sessionmaker() as s:
            campaign = await q.get_campaign(s, person.campaign_id)
            report = await s.scalar(sa.select(Report).where(Report.campaign_id == campaign.id,
                                                            Report.unit_id == person.unit_id))
            unit = await q.get_unit(s, person.unit_id)
            answers = await q.load_answers(s, report.id) if report is not None else {}
            info = await engine_io.report_info(s, campaign, report, unit.name, answers)
    except (OperationalError, DBAPIError, DatabaseUnavailable, OSError, ConnectionError) as exc:
        log.error("cannot load a web form: %s", type(exc).__name__)
        return Loaded(None, None, None, "", WebResult(message=texts.SAVE_FAILED), failed=True)
    return Loaded(service.form_for(campaign), campaign, State(answers=answers, report=info), unit.name)


def new_item_path(path: str, result: WebResult) -> str:
    """A photo of an item created by the same request: its path with the new item's number."""
    parts = fields.path_parts(path)
    if parts is None or parts[1] != fields.NEW_ITEM:
        return path
    for sent, real in result.saved.items():
        sent_parts = fields.path_parts(sent)
        if sent_parts and sent_parts[0] == parts[0] and sent_parts[1] == fields.NEW_ITEM:
            real_parts = fields.path_parts(real)
            return fields.field_path(parts[0], real_parts[1], parts[2])
    return path
