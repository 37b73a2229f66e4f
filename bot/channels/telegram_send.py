"""Telegram delivery: replies, bulk texts, files and progress messages, and the reminders' send function."""

from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.channels.chat_queue import split_text
from bot.fanout import DELIVERED, SendFn, SendResult
from conversations import texts
from conversations.engine import Option, Reply

log = logging.getLogger("bot.channels.telegram")  # one logger for the whole channel

CHANNEL = "telegram"
TEXT_LIMIT = 4096
UPLOAD_LIMIT = 50 * 1024 * 1024  # bots may upload documents up to 50 MB
CALLBACK_DATA_LIMIT = 64  # bytes
SEND_ATTEMPTS = 5  # for one message: 429 waits and network retries together
BULK_PER_SECOND = 30  # overall, for bulk sends; one per `send_interval` into one chat


def keyboard(options: tuple[Option, ...]) -> InlineKeyboardMarkup | None:
    """One button per row (labels can be long); the option value is the callback data."""
    if not options:
        return None
    for option in options:
        if not option.value.startswith("https://") and not 0 < len(option.value.encode()) <= CALLBACK_DATA_LIMIT:
            raise ValueError(f"option value {option.value!r} does not fit Telegram's callback data (1-64 bytes)")
    # An HTTPS address is a Web App button (the report's page, bot/webform/telegram_app.py); the rest call back.
    return InlineKeyboardMarkup([[InlineKeyboardButton(o.label, web_app=WebAppInfo(o.value))
                                  if o.value.startswith("https://")
                                  else InlineKeyboardButton(o.label, callback_data=o.value)] for o in options])


def reply_text(reply: Reply) -> str:
    """The text of a reply, with the hint to send a photo as a file when a photo is asked for."""
    return f"{reply.text}\n\n{texts.TELEGRAM_PHOTO_HINT}" if reply.expects_photo else reply.text


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asks us to wait (PTB 22 gives an int or a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSending:
    """The sending half of TelegramChannel (a mixin: it uses the channel's app, service, clock and locks)."""

    # -- sending ---------------------------------------------------------------------------------

    async def send_replies(self, chat_id: str, user_id: str, replies: list[Reply]) -> datetime | bool:
        """Replies to a person go out at once; the keyboard rides on the last part of a long text.

        False when one failed (it stops the rest); else the `date` Telegram gave the first (whole seconds), or
        True without one."""
        first: datetime | bool = True
        for reply in replies:
            parts = split_text(reply_text(reply), TEXT_LIMIT)
            markup = keyboard(reply.options)
            for n, part in enumerate(parts, 1):
                delivered = await self.deliver(chat_id, user_id, part, markup if n == len(parts) else None)
                if not delivered:
                    return False
                first = delivered if first is True else first
        return first

    async def send_text(self, chat_id: str, text: str) -> bool:
        """A bulk message (reminders): paced to ~30/s overall and one per chat per interval; whether delivered."""
        if self.app is None:
            return False
        for part in split_text(text, TEXT_LIMIT):
            await self.pace(chat_id)
            # In private chats (the only kind the bot is meant for) the chat id is the user id.
            if not await self.deliver(chat_id, chat_id, part, None):
                return False
        return True

    async def pace(self, chat_id: str) -> None:
        """Wait for this chat's next slot, then for the next overall slot."""
        async with self._pace_lock:
            now = self.monotonic()
            at = max(now, self._next_in_chat.get(chat_id, 0.0))
            self._next_in_chat[chat_id] = at + self.send_interval
            if len(self._next_in_chat) > 10_000:
                self._next_in_chat = {c: t for c, t in self._next_in_chat.items() if t > now}
        await self.sleep(at - now)
        async with self._pace_lock:
            now = self.monotonic()
            at = max(now, self._next_bulk)
            self._next_bulk = at + self.send_interval / BULK_PER_SECOND
        await self.sleep(at - now)

    async def deliver(self, chat_id: str, user_id: str, text: str,
                      markup: InlineKeyboardMarkup | None) -> datetime | bool:
        """sendMessage, waiting out 429s and retrying network errors; failures are recorded for the admins.
        False on failure; on success the message's `date`, or True when it has none."""
        reason = "network"
        for attempt in range(SEND_ATTEMPTS):
            try:
                sent = await self.app.bot.send_message(chat_id, text, reply_markup=markup)
                if markup is not None:
                    self._keyboards[chat_id] = sent.message_id
                    if len(self._keyboards) > 10_000:  # a bound on memory; an old chat keeps its buttons
                        self._keyboards.pop(next(iter(self._keyboards)))
                return sent.date if isinstance(sent.date, datetime) else True
            except RetryAfter as exc:
                reason = "retry_after"
                await self.sleep(retry_seconds(exc))
            except Forbidden:
                log.info("Telegram user blocked the bot")
                await self.service.record_send_failure(CHANNEL, user_id, "forbidden", permanent=True)
                return False
            except BadRequest as exc:
                log.error("Telegram refused a message: %s", exc.message)  # Telegram's description, no URL
                await self.service.record_send_failure(CHANNEL, user_id, "bad_request", permanent=False)
                return False
            except InvalidToken:
                self.fatal()
                return False
            except (TimedOut, NetworkError) as exc:
                reason = "network"
                log.warning("Telegram sendMessage failed (%s)", type(exc).__name__)
                if attempt < SEND_ATTEMPTS - 1:
                    await self.sleep(self.retry_base * 2 ** attempt)
            except TelegramError as exc:  # Conflict, ChatMigrated...: retrying will not help
                log.error("Telegram sendMessage failed (%s)", type(exc).__name__)
                await self.service.record_send_failure(CHANNEL, user_id, type(exc).__name__, permanent=False)
                return False
        await self.service.record_send_failure(CHANNEL, user_id, reason, permanent=False)
        return False

    # -- files (exports, a unit's document) ------------------------------------------------------

    async def deliver_files(self, chat_id: str, user_id: str, text: str, files: list[Path]) -> None:
        """The text, then each file as a document (a file over Telegram's 50 MB upload cap is named instead)."""
        self._progress.pop(chat_id, None)
        if not await self.deliver(chat_id, user_id, text, None) or self.app is None:
            return
        for path in files:
            size = path.stat().st_size
            if size > UPLOAD_LIMIT:
                await self.deliver(chat_id, user_id, texts.EXPORT_TOO_LARGE.format(
                    name=path.name, mb=size // (1024 * 1024), path=path), None)
                continue
            data = await asyncio.to_thread(path.read_bytes)  # up to 50 MB: not read on the event loop
            for attempt in range(SEND_ATTEMPTS):
                try:
                    await self.app.bot.send_document(chat_id, document=data, filename=path.name,
                                                     read_timeout=120, write_timeout=120)
                    break
                except RetryAfter as exc:
                    await self.sleep(retry_seconds(exc))
                except (TimedOut, NetworkError) as exc:
                    log.warning("Telegram sendDocument failed (%s)", type(exc).__name__)
                    await self.sleep(self.retry_base * 2 ** attempt)
                except TelegramError as exc:
                    log.error("Telegram sendDocument failed (%s)", type(exc).__name__)
                    await self.service.record_send_failure(CHANNEL, user_id, type(exc).__name__, permanent=False)
                    break

    async def progress(self, chat_id: str, user_id: str, text: str) -> None:
        """One progress message per chat, edited as the export goes on."""
        if self.app is None:
            return
        async with self._progress_lock:
            try:
                message_id = self._progress.get(chat_id)
                if message_id is None:
                    message = await self.app.bot.send_message(chat_id, text)
                    self._progress[chat_id] = message.message_id
                else:
                    await self.app.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
            except TelegramError as exc:
                log.info("Telegram progress message not updated (%s)", type(exc).__name__)


# -- the reminders' send function -------------------------------------------------------------


def telegram_bot_sender(get_bot: Callable[[], Any]) -> SendFn:
    """One sendMessage through a python-telegram-bot Bot, as a SendResult (no retries: the queue retries)."""
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
