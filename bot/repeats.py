"""Telling a person's re-sent message from an answer: the same text again before its replies could be seen.

Moved out of bot/service.py (issue 22) to keep it short; the service calls these with itself. Root cause of the
shifted answers (issue 22): the repeat check compared the platform's clock (sent_at) with the time the replies
were committed, and a SAVE_FAILED that went out was recorded as the replies having been sent although the
transaction may have committed (the connection broke after COMMIT): the person's repeat of that message was
then stored as the answer to the next question. Now the times compared are both ours (the inbox's arrival, the
replies' send time, kept in pending_at by the flush), a SAVE_FAILED never counts as sent, and an acknowledged
update is retried by the inbox instead of being answered SAVE_FAILED.
"""

from __future__ import annotations

import collections
import logging
from datetime import datetime
from typing import Any

from conversations import texts
from conversations.answers import LOCAL_TZ
from conversations.engine import Reply, decode_replies
from conversations.parsers import clean_text
from storage import queries as q
from storage.models import Contact, Conversation

# The service and its Inbound are passed in (bot.service imports this module): typed Any to keep bot/ acyclic.
Service = Inbound = Any

log = logging.getLogger(__name__)
REMEMBERED = 10_000  # marks kept in memory per kind (the oldest dropped first)


def remember(marks: dict, mark: tuple[str, str]) -> None:
    """Add a mark to a bounded, insertion-ordered set (a dict of None)."""
    marks[mark] = None
    if len(marks) > REMEMBERED:
        marks.pop(next(iter(marks)))


def arrival(service: Service, inbound: Inbound, received: datetime | None) -> datetime | None:
    """When the message reached us: the inbox's received_at (its first delivery, should that have failed), or
    earlier when the platform held it back: Telegram delivers a chat's later updates only once an earlier one is
    taken, so a repeat typed during an outage comes after the first's replies. Its sent_at, moved onto our clock
    by the smallest lag seen on the channel (arrival - sent_at), says when it would have come; never later than
    it came: a platform clock only ever moves a message earlier, towards "a repeat". A platform's time rounded
    down (Telegram's `date` is whole seconds) may put the message up to a step later than it was sent, and the
    smallest lag a step too high: the step is taken off, so that the rounding too errs towards "a repeat" (a new
    answer typed within a second of the reply it answers is rarer than a re-send crossing the reply, and costs
    only a second send; a re-send taken for the next answer shifts the report)."""
    if received is None or inbound.sent_at is None:
        return received or inbound.sent_at
    lags = service._lags.setdefault(inbound.channel, collections.deque(maxlen=200))
    lags.append(received - inbound.sent_at)
    return min(received, inbound.sent_at + min(lags) - inbound.sent_at_step)


def sent_before(inbound: Inbound, shown_at: datetime | None) -> bool:
    """Whether the platform's own clock says the message was sent before `shown_at` (when the first reply reached
    the chat, from the platform's answer to the send): both times are the platform's, so no lag or clock skew
    enters. Times rounded down to a step (Telegram's whole seconds) count only when a whole step apart; the same
    second says nothing (the rule on our clocks decides then). This is the case a person's re-send crosses the
    reply: their phone sent the line again a moment before the reply came, and it reached us after (issue 22)."""
    if shown_at is None or inbound.sent_at is None:
        return False
    return inbound.sent_at < shown_at and inbound.sent_at + inbound.sent_at_step <= shown_at


def out_of_order(inbound: Inbound, conversation: Conversation) -> str | None:
    """A message the platform dates before the latest one handled in this conversation: handed over late (a
    webhook delivery retried or held back while the bot was down or slow), after a message the person sent
    later was answered. It may have been meant for an earlier question, so it is never taken as an answer:
    the note that says so (the current question follows it), or None for a message in its order."""
    if not sent_before(inbound, conversation.last_sent_at) or inbound.sent_at is None:
        return None
    log.info("a message handed over after a later one: not taken as an answer")
    if inbound.photo is not None or inbound.photo_error is not None:
        what = texts.MESSAGE_LATE_PHOTO
    elif inbound.text:
        shown = clean_text(inbound.text, multiline=False)
        what = texts.MESSAGE_LATE_TEXT.format(text=shown if len(shown) <= 40 else shown[:39] + "…")
    else:
        what = texts.MESSAGE_LATE_OTHER
    return texts.MESSAGE_LATE.format(what=what, time=inbound.sent_at.astimezone(LOCAL_TZ).strftime("%H:%M:%S"))


def handled(inbound: Inbound, conversation: Conversation) -> None:
    """Record the platform's time of a message handled in the conversation (see `out_of_order`)."""
    if inbound.sent_at is not None and (conversation.last_sent_at is None
                                        or inbound.sent_at > conversation.last_sent_at):
        conversation.last_sent_at = inbound.sent_at


async def before_its_replies(service: Service, s, contact: Contact, inbound: Inbound,
                             arrived: datetime | None) -> list[Reply] | None:
    """The same message as the chat's previous one, arrived before the replies to that one were sent: the
    person could not have seen them, so it is a re-send of a message whose reply was slow (the bot was busy,
    restarting, or its database away), not the answer to the next question. One answer; its replies once.
    [] for "nothing to send", None for a new message.

    When this process sent the replies and the platform dated them, the platform's clock decides first
    (`sent_before`). Otherwise both times are this bot's: `arrived` (see `arrival`; for a direct call without an
    inbox, the platform's sent_at) and when the replies were sent (this process's mark, or pending_at once the
    flush recorded it).
    Replies never sent mean the person has seen nothing: a repeat whenever it came."""
    if inbound.key is None:
        return None
    last = await q.last_message(s, contact.id, inbound.key)
    if last is None or last[0] is None:
        return None
    who = (inbound.channel, inbound.user_id)
    replied = service._replied.get(who)
    if replied is not None and replied[0] == inbound.key and replied[1] >= last[0]:
        if sent_before(inbound, replied[2]):
            sent_at: datetime | None = None  # the platform says the person sent it before the replies existed
        else:
            sent_at = replied[1]  # this process sent them, after they were committed
    elif last[1] is None:
        sent_at = last[0]  # sent, and recorded: pending_at is when
    else:
        sent_at = None  # never sent (or by a process that died before recording it)
    if sent_at is not None and (arrived is None or arrived >= sent_at):
        return None
    log.info("a message repeated before its replies were sent: not a new answer")
    if last[1] is not None and service._sent.get(who) != inbound.key:
        return decode_replies(last[1])
    return []


async def redelivered(service: Service, s, inbound: Inbound) -> list[Reply] | None:
    """An update handled before: None (nothing to do), or its replies when they were never sent.

    Replies committed by this process count only when its transaction for the update failed here (queued): the
    COMMIT went through but the connection broke before the bot heard so, and the inbox worker tries the update
    again (issue 22). Otherwise a running process sends its own (a platform retry that overtakes the send, or
    another worker given the same update, must not make a second copy).
    """
    if inbound.key is None or service._sent.get((inbound.channel, inbound.user_id)) == inbound.key:
        return None
    found = await q.find_pending_replies(s, inbound.channel, inbound.user_id, inbound.key)
    if found is None or (found[1] >= service.started_at
                         and (inbound.channel, inbound.event_id) not in service._failed):
        return None
    log.info("update delivered again whose replies were not sent: sending them again")
    return decode_replies(found[0])
