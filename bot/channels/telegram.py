"""The Telegram channel: python-telegram-bot (PTB) as the Bot API client, by polling or by webhook.

PTB is the client only (no handlers, no ConversationHandler, no persistence: our database owns the
conversation). Every update goes into the durable inbox first (bot/inbox.py): the webhook answers 200, and the
poller moves its offset past an update, only once it is committed there. The inbox worker then turns each update
into a service event, one chat after another in order, different chats side by side. Options become inline keyboards; a
pressed button's message is edited to show the choice. The token is part of every URL PTB requests: httpx's
request log is silenced and exception texts from PTB are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import mimetypes
import time
from collections import OrderedDict
from datetime import timedelta
from typing import Any, Awaitable, Callable

from aiohttp import web
from telegram import BotCommand, Message, Update
from telegram.error import (
    BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut,
)
from telegram.ext import Application, ApplicationBuilder

from bot.channels.ptb_request import AiohttpRequest
# SEND_ATTEMPTS and reply_text are imported from here by the tests and the benchmarks: the channel's public names.
from bot.channels.telegram_send import (
    CHANNEL, SEND_ATTEMPTS, TEXT_LIMIT, TelegramSending, reply_text, retry_seconds, telegram_sender,
)
from bot.fanout import SendFn
from bot.inbox import InboxWorker
from bot.photos import MAX_BYTES
from bot.service import Inbound, Service
from bot.settings import Settings
from bot.web import add_health_check
from conversations import texts
from conversations.engine import Reply
from storage.db import DB_ERRORS

__all__ = ["SEND_ATTEMPTS", "TEXT_LIMIT", "TelegramChannel", "TelegramTokenRefused", "reply_text"]

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
DOWNLOAD_ATTEMPTS = 3
ALBUMS_REMEMBERED = 1000
STOP_GRACE = 10.0  # seconds the chats' pending work may take at shutdown
POLL_TIMEOUT = 10  # seconds a getUpdates call waits for updates
DATE_STEP = timedelta(seconds=1)  # a message's `date` is Unix time in whole seconds
# Loggers that show URLs with the token: httpx's request log (INFO) and PTB's bot set-up (DEBUG).
TOKEN_LOGGERS = ("httpx", "telegram.Bot", "telegram.ext.ExtBot")
# A GIF arrives with both `animation` and `document`: the kinds are checked before documents.
UNSUPPORTED_KINDS = ("sticker", "voice", "video_note", "video", "audio", "animation", "location", "venue",
                     "contact", "poll", "dice", "game", "story")


# The update's fields read as text (issue 22): a number or an object in one of them is a malformed update, refused
# with a 400 at the webhook (skipped by the poller), never a processing error retried and dropped.
TEXT_FIELDS = {"message": ("text", "caption", "media_group_id"), "callback_query": ("id", "data", "chat_instance")}
PERSON_TEXT_FIELDS = ("first_name", "last_name", "username")


def well_formed(body: Any) -> bool:
    """Whether an update's fields have the types the Bot API gives them, where the bot reads them."""
    if not isinstance(body, dict) or not isinstance(body.get("update_id"), int) or isinstance(body["update_id"], bool):
        return False
    for kind, fields in TEXT_FIELDS.items():
        part = body.get(kind)
        if part is None:
            continue
        if not isinstance(part, dict) or any(part.get(f) is not None and not isinstance(part[f], str) for f in fields):
            return False
        person = part.get("from")
        if person is not None and (not isinstance(person, dict) or any(
                person.get(f) is not None and not isinstance(person[f], str) for f in PERSON_TEXT_FIELDS)):
            return False
    return True


class TelegramTokenRefused(RuntimeError):
    """Telegram refused the bot token: stop with one clear line."""


def webhook_secret(token: str) -> str:
    """The webhook secret: derived from the token, so every worker and every restart agree on it."""
    return hmac.new(token.encode(), b"hcc-bot telegram webhook", hashlib.sha256).hexdigest()


def too_large() -> dict:
    """The refusal of a file over the bot download limit."""
    return {"photo_error": texts.PHOTO_TOO_LARGE.format(max_mb=MAX_BYTES // (1024 * 1024))}


def to_inbound(update: Update, **content: Any) -> Inbound:
    """The service event for an update, with what the person sent."""
    user, chat = update.effective_user, update.effective_chat
    message = update.message  # a press has no time of its own
    return Inbound(channel=CHANNEL, user_id=str(user.id), chat_id=str(chat.id), event_id=str(update.update_id),
                   display_name=user.full_name or None, sent_at=message.date if message is not None else None,
                   sent_at_step=DATE_STEP, **content)


def button_label(message: Message, data: str) -> str | None:
    """The label of the button with this callback data in a message's inline keyboard."""
    markup = message.reply_markup
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


class TelegramChannel(TelegramSending):
    """Turns Telegram updates into service events and replies into messages with inline keyboards."""

    name = CHANNEL

    def __init__(self, settings: Settings, service: Service, *, on_fatal: Callable[[str], None] | None = None,
                 send_interval: float = 1.0, retry_base: float = 1.0):
        self.settings = settings
        self.service = service
        self.on_fatal = on_fatal
        self.send_interval = send_interval  # bulk sends: at most one message per chat in this many seconds
        self.retry_base = retry_base  # first back-off after a network error, doubled each time
        # Tests replace both with a virtual clock, to see the waits without waiting.
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.monotonic: Callable[[], float] = time.monotonic
        self.secret = webhook_secret(settings.telegram_token or "")
        self.inbox = InboxWorker(service.db, CHANNEL, self.process, settled=service.settled, clock=service.clock)
        self.queue = self.inbox  # `drain()` waits until every accepted update is processed
        self.app: Application | None = None
        self._accepting = False  # the webhook takes updates (503 before start and after stop)
        self._poller: asyncio.Task | None = None
        self._offset: int | None = None  # the next update id to ask for; confirms the ones before it
        self._albums: OrderedDict[tuple[int, str], list] = OrderedDict()  # (chat, group) -> [first id, told]
        self._pace_lock = asyncio.Lock()
        self._next_bulk = 0.0
        self._next_in_chat: dict[str, float] = {}
        self._fatal_reported = False
        self._progress: dict[str, int] = {}  # chat -> the message showing an export's progress
        self._keyboards: dict[str, int] = {}  # chat -> the last message sent with buttons, until answered
        self._progress_lock = asyncio.Lock()  # the first progress message is sent before the next edits it

    # -- lifecycle -------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """The webhook route, when the bot has a public address; this channel's part of /healthz."""
        if self.settings.public_url:
            app.router.add_post(WEBHOOK_PATH, self.webhook)
        add_health_check(app, CHANNEL, self.ready, self.service.db)

    def ready(self) -> bool:
        """Whether updates are taken now: the webhook answers 200 (database permitting), or the poller runs."""
        poller = self._poller
        return self.app is not None and (self._accepting or (poller is not None and not poller.done()))

    async def start(self) -> None:
        """Check the token (getMe), register the commands, then poll or set the webhook."""
        for name in TOKEN_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        api = self.settings.telegram_api_url
        builder = (ApplicationBuilder().token(self.settings.telegram_token or "")
                   .base_url(f"{api}/bot").base_file_url(f"{api}/file/bot").job_queue(None)
                   .request(AiohttpRequest()).get_updates_request(AiohttpRequest(connection_pool_size=1)))
        app = builder.updater(None).build()  # our poller (below) writes to the inbox before confirming
        try:
            await app.initialize()  # getMe
        except BaseException as exc:
            await app.bot.shutdown()
            if isinstance(exc, InvalidToken):  # its text holds the token: never shown
                raise TelegramTokenRefused(texts.CLI_TELEGRAM_TOKEN_REFUSED) from None
            raise
        self.app = app
        self.service.deliverers[CHANNEL] = self
        try:
            await self.register_commands(app)
            await self.inbox.start()  # what a former run left in the inbox is processed first
            if self.settings.public_url:
                self._accepting = True  # before setWebhook, so that the first delivery finds us ready
                await app.bot.set_webhook(f"{self.settings.public_url}{WEBHOOK_PATH}", secret_token=self.secret,
                                          allowed_updates=ALLOWED_UPDATES)
            else:
                await app.bot.delete_webhook()
                self._poller = asyncio.create_task(self.poll_forever(), name="telegram:getUpdates")
        except InvalidToken:
            await self.stop()
            raise TelegramTokenRefused(texts.CLI_TELEGRAM_TOKEN_REFUSED) from None
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Take no more updates, let the chats finish what they hold (briefly; the rest stays in the inbox),
        close PTB."""
        app = self.app
        if app is None:
            return
        self._accepting = False
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
            if self._offset is not None:  # confirm what the inbox holds, so it is not fetched again
                with contextlib.suppress(TelegramError, asyncio.TimeoutError):
                    await asyncio.wait_for(app.bot.get_updates(offset=self._offset, timeout=0), 2)
        await self.inbox.stop(STOP_GRACE)
        self.app = None
        await app.shutdown()

    async def register_commands(self, app: Application) -> None:
        """The command menu, with Vietnamese descriptions; a failure only costs the menu."""
        commands = [BotCommand(name, description) for name, description in texts.TELEGRAM_COMMANDS]
        try:
            await app.bot.set_my_commands(commands)
        except InvalidToken:
            raise
        except TelegramError as exc:
            log.warning("Telegram setMyCommands failed (%s)", type(exc).__name__)

    async def poll_forever(self) -> None:
        """getUpdates; each update is written to the inbox before the next call confirms it (its offset)."""
        failures = 0
        while True:
            try:
                updates = await self.app.bot.get_updates(offset=self._offset, timeout=POLL_TIMEOUT,
                                                         allowed_updates=ALLOWED_UPDATES)
                failures = 0
            except InvalidToken:
                self.fatal()
                return
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
                continue
            except TelegramError as exc:  # network errors, a Conflict with another poller: wait and retry
                failures += 1
                log.warning("Telegram getUpdates failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(min(self.retry_base * 2 ** (failures - 1), 30.0))
                continue
            batch = [(*key, update.to_dict()) for update in updates
                     if (key := self.inbox_key(update)) is not None and well_formed(update.to_dict())]
            if batch:
                await self.inbox.accept_until_saved(batch)
            if updates:
                self._offset = updates[-1].update_id + 1

    def reminder_sender(self) -> SendFn:
        """The send function the reminders' fan-out calls, over this channel's bot."""
        return telegram_sender(self)

    def fatal(self) -> None:
        """The token stopped working while running: tell the runner once."""
        log.error("Telegram refused the bot token")
        if self.on_fatal is not None and not self._fatal_reported:
            self._fatal_reported = True
            self.on_fatal(texts.CLI_TELEGRAM_TOKEN_REFUSED)

    # -- receiving -------------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        """Check the secret, write the update to the inbox, then answer 200; the work happens from the inbox."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=403)
        app = self.app
        if app is None or not self._accepting:
            return web.Response(status=503)  # Telegram delivers it again later
        try:
            body = await request.json()
            update = Update.de_json(body, app.bot) if well_formed(body) else None
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError, AttributeError,
                RecursionError):  # a body of the wrong shape, or JSON nested too deep
            update = None
        if update is None:
            return web.Response(status=400)
        key = self.inbox_key(update)
        if key is not None:
            try:
                await self.inbox.accept(*key, body)
            except DB_ERRORS as exc:  # not written: not acknowledged, Telegram delivers it again later
                log.error("Telegram update not written to the inbox (%s): 503", type(exc).__name__)
                return web.Response(status=503)
        return web.Response(status=200)

    @staticmethod
    def inbox_key(update: Update) -> tuple[str, str] | None:
        """(platform id, chat) of an update worth processing; None for one without a person (a bot's)."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or user.is_bot:
            return None
        return str(update.update_id), str(chat.id)

    async def process(self, payload: dict) -> None:
        """The inbox worker's call for one update (in its chat's order)."""
        if self.app is None:
            raise RuntimeError("Telegram channel not started")
        update = Update.de_json(payload, self.app.bot)
        chat, user = update.effective_chat, update.effective_user
        if chat.type != "private":
            # A report is personal data and one person's conversation: never in a group. Say so only when
            # someone addresses the bot with a command, so the group is not flooded.
            message = update.message
            if message is not None and (message.text or "").startswith("/"):
                await self.deliver(str(chat.id), str(user.id), texts.GROUP_CHAT_HINT, None)
            return
        await self.handle_update(update)

    async def handle_update(self, update: Update) -> None:
        """One update through the service, then its replies out."""
        if update.callback_query is not None:
            await self.handle_press(update)
            return
        message = update.message  # edited messages and channel posts are not answers
        if message is None:
            return
        if message.media_group_id and await self.later_in_album(update, message):
            return
        content = await self.content(message)
        if content is not None:
            await self.handle_inbound(update, content)

    async def handle_inbound(self, update: Update, content: dict[str, Any]) -> None:
        """Run the service for this update; send the replies unless it was a repeat."""
        inbound = to_inbound(update, **content)
        replies = await self.service.handle(inbound, queued=True)  # issue 22: a DB error is retried
        if replies is not None:
            await self.drop_stale_keyboard(str(update.effective_chat.id))
        if replies is not None and (delivered := await self.send_replies(str(update.effective_chat.id),
                                                                         str(update.effective_user.id), replies)):
            self.service.sent(inbound, delivered)

    async def handle_press(self, update: Update) -> None:
        """A pressed button: stop the spinner, run the pick, show the choice in the pressed message."""
        query = update.callback_query
        try:
            await query.answer()
        except TelegramError as exc:
            log.info("Telegram answerCallbackQuery failed (%s)", type(exc).__name__)
        inbound = to_inbound(update, pick=query.data or "")
        replies = await self.service.handle(inbound, queued=True)  # issue 22: a DB error is retried
        if replies is None:
            return
        if isinstance(query.message, Message):  # not when the message is too old to be accessible
            if self._keyboards.get(str(update.effective_chat.id)) == query.message.message_id:
                self._keyboards.pop(str(update.effective_chat.id), None)
            await self.show_choice(query.message, query.data or "")
        await self.drop_stale_keyboard(str(update.effective_chat.id))
        if delivered := await self.send_replies(str(update.effective_chat.id), str(update.effective_user.id), replies):
            self.service.sent(inbound, delivered)

    async def drop_stale_keyboard(self, chat_id: str) -> None:
        """The person typed instead of pressing: the buttons of the question they answered go away."""
        message_id = self._keyboards.pop(chat_id, None)
        if message_id is None or self.app is None:
            return
        try:
            await self.app.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
        except TelegramError as exc:
            log.info("Telegram removal of stale buttons failed (%s)", type(exc).__name__)

    async def show_choice(self, message: Message, data: str) -> None:
        """Drop the keyboard and append what was chosen, so the chat reads cleanly; failures are harmless."""
        label = button_label(message, data)
        text = f"{message.text}\n\n{texts.CHOSEN.format(label=label)}" if message.text and label else None
        try:
            if text is not None and len(text) <= TEXT_LIMIT:
                await self.app.bot.edit_message_text(text, chat_id=message.chat_id, message_id=message.message_id)
            else:
                await self.app.bot.edit_message_reply_markup(chat_id=message.chat_id, message_id=message.message_id)
        except TelegramError as exc:
            log.info("Telegram edit of a pressed message failed (%s)", type(exc).__name__)

    async def later_in_album(self, update: Update, message: Message) -> bool:
        """Whether the message is a later photo of an album; the first such one gets a note."""
        key = (message.chat_id, message.media_group_id)
        seen = self._albums.get(key)
        if seen is None:
            self._albums[key] = [message.message_id, False]
            while len(self._albums) > ALBUMS_REMEMBERED:
                self._albums.popitem(last=False)
            return False
        if seen[0] == message.message_id:
            return False  # the first photo delivered again: the service knows it was processed
        if not seen[1]:
            seen[1] = True
            user = update.effective_user
            await self.send_replies(str(message.chat_id), str(user.id), [Reply(texts.ALBUM_FIRST_ONLY)])
        return True

    async def content(self, message: Message) -> dict[str, Any] | None:
        """What the person sent, as Inbound fields; None for service messages (joins, pins)."""
        if message.text is not None:
            return {"text": message.text}  # "/start CODE" too: the service binds the invite code
        if message.photo:
            largest = max(message.photo, key=lambda p: p.width * p.height)
            return await self.download(largest.file_id, largest.file_size)
        if message.location is not None:  # a shared location (a venue's too): the answer to a geopoint question
            return {"location": (message.location.latitude, message.location.longitude)}
        for kind in UNSUPPORTED_KINDS:
            if getattr(message, kind, None):
                return {"unsupported": kind}
        document = message.document
        if document is not None:
            mime = document.mime_type or mimetypes.guess_type(document.file_name or "")[0] or ""
            if not mime.startswith("image/"):
                return {"photo_error": texts.PHOTO_NOT_IMAGE}
            return await self.download(document.file_id, document.file_size)
        return None

    async def download(self, file_id: str, file_size: int | None) -> dict[str, Any]:
        """The photo's bytes, or the message saying why there are none; sizes are checked before downloading."""
        if file_size is not None and file_size > MAX_BYTES:
            return too_large()
        for attempt in range(DOWNLOAD_ATTEMPTS):
            try:
                file = await self.app.bot.get_file(file_id)
                if file.file_size is not None and file.file_size > MAX_BYTES:
                    return too_large()
                return {"photo": bytes(await file.download_as_bytearray())}
            except BadRequest as exc:
                if "too big" in str(exc).lower():
                    return too_large()
                break
            except (TimedOut, NetworkError) as exc:
                log.warning("Telegram file download failed (%s)", type(exc).__name__)
                if attempt < DOWNLOAD_ATTEMPTS - 1:
                    await self.sleep(self.retry_base * 2 ** attempt)
            except TelegramError as exc:
                log.warning("Telegram file download failed (%s)", type(exc).__name__)
                break
        return {"photo_error": texts.PHOTO_DOWNLOAD_FAILED}
