"""The Zalo channel: the Zalo Bot API over our own aiohttp client, by polling or by webhook.

Zalo has no buttons: options are numbered in the text and answered by number or by text. Updates carry no
offset and may come back: every update goes into the durable inbox first (bot/inbox.py, unique per message
id), the webhook answers 200 only once it is committed there, and the inbox worker processes it. The token is
part of every URL: no URL and no client exception text is ever logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp import web

from bot import photo_kind
from bot.channels.chat_queue import split_text
from bot.fanout import DELIVERED, SendFn, SendResult
from bot.inbox import STOP_GRACE, InboxWorker
from bot.service import Inbound, Service
from bot.settings import Settings
from bot.web import DownloadLinks, add_health_check
from conversations import texts
from conversations.answers import format_datetime
from conversations.engine import Reply, render_plain
from storage.db import DB_ERRORS

log = logging.getLogger(__name__)

CHANNEL = "zalo"
TEXT_LIMIT = 2000
PHOTO_MAX_BYTES = 20 * 1024 * 1024
WEBHOOK_PATH = "/zalo/webhook"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
PHOTO_REDIRECTS = 3  # hops followed, each to an allowed host
ZALO_429_WAIT = 5.0  # Zalo's 429 ("quota exceeded") carries no retry_after
ZALO_SEND_TIMEOUT = 15.0  # one reminder's sendMessage


class ZaloError(Exception):
    """The Zalo API answered with an error (HTTP status or `ok: false`)."""

    def __init__(self, code: int, description: str = ""):
        super().__init__(f"Zalo API error {code}")
        self.code = code
        self.description = description


class ZaloTokenRefused(RuntimeError):
    """The bot token is wrong: stop with one clear line."""


class ZaloClient:
    """A minimal Zalo Bot API client: POST JSON, check `ok` on every answer."""

    def __init__(self, api_url: str, token: str, session: aiohttp.ClientSession):
        self._base = f"{api_url}/bot{token}"
        self.session = session

    async def call(self, method: str, payload: dict | None = None, *, timeout: float = 30) -> Any:
        """Call one method; the `result`, or ZaloError (HTTP errors and `ok: false` alike)."""
        try:
            async with self.session.post(f"{self._base}/{method}", json=payload or {},
                                         timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                status = response.status
                try:
                    body = await response.json(content_type=None)
                except (json.JSONDecodeError, aiohttp.ContentTypeError, UnicodeDecodeError):
                    body = None
        except asyncio.TimeoutError:
            raise ZaloError(408, "timeout") from None
        except aiohttp.ClientError as exc:
            # The exception text can contain the URL, which contains the token: keep only its type.
            raise ZaloError(599, type(exc).__name__) from None
        if not isinstance(body, dict):
            raise ZaloError(status if status >= 400 else 502, "malformed answer")
        if status >= 400 or not body.get("ok", False):
            code = body.get("error_code") or (status if status >= 400 else 500)
            raise ZaloError(int(code), str(body.get("description", ""))[:200])
        return body.get("result")


def unwrap_update(body: Any) -> dict | None:
    """An update from a webhook body, bare or wrapped as {ok, result}; None when it is not one."""
    if isinstance(body, dict) and "result" in body and "message" not in body:
        body = body["result"]
    if isinstance(body, dict) and isinstance(body.get("message"), dict) and isinstance(body.get("event_name"), str):
        message = body["message"]
        # The fields the bot reads, with the types Zalo gives them (issue 22: a number where text is read is a 400
        # here, never a processing error retried and dropped).
        shapes = {"text": str, "from": dict, "chat": dict, "message_id": (str, int), "photo_url": str, "photo": str,
                  "date": (int, float)}
        if all(k not in message or message[k] is None or isinstance(message[k], t) for k, t in shapes.items()) \
                and all(_texts_or_none(message.get(part), fields) for part, fields in PERSON_FIELDS.items()):
            return body
    return None


PERSON_FIELDS = {"from": ("id", "display_name", "name", "first_name"), "chat": ("id", "chat_type")}


def _texts_or_none(part: dict | None, fields: tuple[str, ...]) -> bool:
    """Whether these fields of a sender or chat are text or absent (an id may be a number: it is read with str())."""
    return part is None or all(part.get(f) is None or isinstance(part[f], str)
                               or (f == "id" and isinstance(part[f], int) and not isinstance(part[f], bool))
                               for f in fields)


def updates_of(result: Any) -> list[dict]:
    """getUpdates gives one update object, or (some say) a list."""
    items = result if isinstance(result, list) else [result]
    return [u for u in (unwrap_update(i) for i in items) if u is not None]


def inbox_key(update: dict) -> tuple[str, str] | None:
    """(platform id, chat) of an update worth processing; None for a bot's or one without ids."""
    message = update["message"]
    sender = message.get("from") or {}
    chat = message.get("chat") or {}
    if sender.get("is_bot") or not sender.get("id") or not message.get("message_id"):
        return None
    return str(message["message_id"]), str(chat.get("id") or sender["id"])


def sent_at(message: dict) -> datetime | None:
    """When Zalo dated a message (its `date`, milliseconds), if given: the person's, or in the answer to
    sendMessage the bot's."""
    date = message.get("date")
    if isinstance(date, (int, float)) and not isinstance(date, bool) and 0 < date < 10 ** 14:
        return datetime.fromtimestamp(date / 1000, timezone.utc)
    return None


def is_private(update: dict) -> bool:
    chat = update["message"].get("chat") or {}
    return str(chat.get("chat_type") or "PRIVATE").upper() == "PRIVATE"


def sender_id(update: dict) -> str:
    return str((update["message"].get("from") or {}).get("id"))


def webhook_secret(token: str) -> str:
    """The webhook secret, derived from the token: every worker and every restart sets the same one."""
    return hmac.new(b"hcc-bot zalo webhook", token.encode(), hashlib.sha256).hexdigest()


def zalo_sender(channel, *, timeout: float = ZALO_SEND_TIMEOUT) -> SendFn:
    """One sendMessage over a started ZaloChannel's client, as a SendResult (no retries: the queue retries)."""
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


class ZaloChannel:
    """Turns Zalo updates into service events and replies into sendMessage calls."""

    name = CHANNEL

    def __init__(self, settings: Settings, service: Service, *, on_fatal: Callable[[str], None] | None = None,
                 poll_interval: float = 1.0, poll_timeout: int = 30, retry_base: float = 1.0,
                 photo_timeout: float = 20.0, links: DownloadLinks | None = None):
        self.settings = settings
        self.links = links
        self.service = service
        self.on_fatal = on_fatal
        self.poll_interval = poll_interval  # at least this long between two getUpdates calls
        self.poll_timeout = poll_timeout
        self.retry_base = retry_base
        self.photo_timeout = photo_timeout
        self.inbox = InboxWorker(service.db, CHANNEL, self.process, settled=service.settled, clock=service.clock)
        self.queue = self.inbox  # `drain()` waits until every accepted update is processed
        self._accepting = False
        self._told: set[asyncio.Task] = set()
        self.secret = webhook_secret(settings.zalo_token or "")
        self.session: aiohttp.ClientSession | None = None
        self.client: ZaloClient | None = None
        self._poller: asyncio.Task | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def reminder_sender(self) -> SendFn:
        """The send function the reminders' fan-out calls, over this channel's client."""
        return zalo_sender(self)

    def add_routes(self, app: web.Application) -> None:
        """The webhook route, when the bot has a public address; this channel's part of /healthz."""
        if self.settings.public_url:
            app.router.add_post(WEBHOOK_PATH, self.webhook)
        add_health_check(app, CHANNEL, lambda: self._accepting, self.service.db)

    async def start(self) -> None:
        """Check the token, then poll or register the webhook."""
        self.session = aiohttp.ClientSession()
        self.client = ZaloClient(self.settings.zalo_api_url, self.settings.zalo_token, self.session)
        try:
            await self.client.call("getMe")
            if self.settings.public_url:
                await self.client.call("setWebhook", {"url": f"{self.settings.public_url}{WEBHOOK_PATH}",
                                                      "secret_token": self.secret})
            else:
                await self.client.call("deleteWebhook")
        except ZaloError as exc:
            await self.session.close()
            if exc.code == 401:
                raise ZaloTokenRefused(texts.CLI_ZALO_TOKEN_REFUSED) from None
            raise
        self.service.deliverers[CHANNEL] = self
        await self.inbox.start()  # what a former run left in the inbox is processed first
        self._accepting = True
        if not self.settings.public_url:
            self._poller = asyncio.create_task(self.poll_forever())

    async def stop(self) -> None:
        """Take no more updates, let the chats finish what they hold (briefly; the rest stays in the inbox),
        close the HTTP session."""
        self._accepting = False
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        await self.inbox.stop(STOP_GRACE)
        await asyncio.gather(*self._told, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    # -- receiving -------------------------------------------------------------------------------

    async def poll_forever(self) -> None:
        """Long-poll getUpdates; an idle 408 is a normal empty poll; back off on 429 and 5xx; stop on 401."""
        failures = 0
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                result = await self.client.call("getUpdates", {"timeout": str(self.poll_timeout)},
                                                timeout=self.poll_timeout + 10)
                failures = 0
                for update in updates_of(result):
                    key = inbox_key(update)
                    if key is not None:  # Zalo has no acknowledge: written before the next poll, whatever it takes
                        await self.inbox.accept_until_saved([(*key, update)])
            except ZaloError as exc:
                if exc.code == 408:
                    failures = 0
                elif exc.code == 401:
                    log.error("Zalo refused the bot token; polling stopped")
                    if self.on_fatal:
                        self.on_fatal(texts.CLI_ZALO_TOKEN_REFUSED)
                    return
                else:
                    failures += 1
                    delay = min(self.retry_base * 2 ** (failures - 1), 60 * self.retry_base)
                    log.warning("Zalo getUpdates failed (%s); retrying in %.1fs", exc.code, delay)
                    await asyncio.sleep(delay)
            await asyncio.sleep(max(0.0, self.poll_interval - (loop.time() - started)))

    async def webhook(self, request: web.Request) -> web.Response:
        """Check the secret, write the update to the inbox, then answer 200; the work happens from the inbox."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.json_response({"ok": False}, status=403)
        if not self._accepting:
            return web.json_response({"ok": False}, status=503)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested too deep
            return web.json_response({"ok": False}, status=400)
        update = unwrap_update(body)
        if update is None:
            return web.json_response({"ok": False}, status=400)
        key = inbox_key(update)
        if key is not None:
            try:
                await self.inbox.accept(*key, update)
            except DB_ERRORS as exc:
                # Not written, and Zalo's redelivery is undocumented: the person is told to send it again.
                log.error("Zalo update not written to the inbox (%s): the sender is told", type(exc).__name__)
                self.inbox.refuse(key[0])
                if is_private(update):
                    task = asyncio.create_task(self.send_text(key[1], texts.SAVE_FAILED, user_id=sender_id(update)))
                    self._told.add(task)
                    task.add_done_callback(self._told.discard)
        return web.json_response({"ok": True})

    async def process(self, update: dict) -> None:
        """The inbox worker's call for one update (in its chat's order)."""
        message = update["message"]
        _, chat_id = inbox_key(update)  # the inbox only holds updates that have one
        if not is_private(update):
            # Groups (a beta on Zalo) would leak a unit's report to everyone in them: answer only in private.
            if str(message.get("text") or "").strip().startswith("/"):
                await self.send_text(chat_id, texts.GROUP_CHAT_HINT, user_id=sender_id(update))
            return
        await self.handle_update(update, chat_id)

    async def handle_update(self, update: dict, chat_id: str) -> None:
        """One update through the service, then its replies out."""
        message = update["message"]
        sender = message["from"]
        kind = update["event_name"]
        content: dict[str, Any] = {}
        if kind == EVENT_TEXT and isinstance(message.get("text"), str):
            content["text"] = message["text"]
        elif kind == EVENT_IMAGE and (message.get("photo_url") or message.get("photo")):
            plan = await photo_kind.photo_plan(self.service, CHANNEL, str(sender["id"]), queued=True)
            if plan is not None:
                data, error = await self.download_photo(str(message.get("photo_url") or message.get("photo")))
                content["photo" if data is not None else "photo_error"] = data if data is not None else error
                content["photo_plan"] = plan
            else:  # a stranger's or an admin's photo is never fetched
                content["unsupported"] = "image"
        else:
            content["unsupported"] = kind.removeprefix("message.").removesuffix(".received")
        name = sender.get("display_name") or sender.get("name") or sender.get("first_name")
        inbound = Inbound(channel=CHANNEL, user_id=str(sender["id"]), chat_id=chat_id,
                          event_id=str(message["message_id"]), display_name=name, sent_at=sent_at(message),
                          **content)
        replies = await self.service.handle(inbound, queued=True)  # issue 22: a DB error is retried
        if replies and (delivered := await self.send_replies(inbound.user_id, chat_id, replies)):
            self.service.sent(inbound, delivered)

    def photo_url_allowed(self, url: str) -> bool:
        """https on one of Zalo's media hosts (or a subdomain), or the API's own origin."""
        try:
            parts = urlsplit(url)
            api = urlsplit(self.settings.zalo_api_url)
            host = (parts.hostname or "").lower()
            if parts.username or parts.password:
                return False
            if (parts.scheme, host, parts.port) == (api.scheme, (api.hostname or "").lower(), api.port):
                return True
        except ValueError:  # a malformed port or address
            return False
        return parts.scheme == "https" and parts.port in (None, 443) and any(
            host == allowed or host.endswith("." + allowed) for allowed in self.settings.zalo_photo_hosts)

    async def download_photo(self, url: str) -> tuple[bytes | None, str | None]:
        """Fetch an image URL at once, with a size cap and a timeout: (bytes, None) or (None, message).

        Only from Zalo's media hosts; a redirect is followed only to another allowed URL, at most PHOTO_REDIRECTS times."""
        for _hop in range(PHOTO_REDIRECTS + 1):
            if not self.photo_url_allowed(url):
                log.warning("Zalo photo URL refused: not on a Zalo media host")
                return None, texts.PHOTO_DOWNLOAD_FAILED
            try:
                async with self.session.get(url, allow_redirects=False,
                                            timeout=aiohttp.ClientTimeout(total=self.photo_timeout)) as response:
                    if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                        url = urljoin(url, response.headers["Location"])
                        continue
                    return await self._read_photo(response)
            except (asyncio.TimeoutError, aiohttp.ClientError, ValueError):
                log.warning("Zalo photo download failed")
                return None, texts.PHOTO_DOWNLOAD_FAILED
        log.warning("Zalo photo download refused: too many redirects")
        return None, texts.PHOTO_DOWNLOAD_FAILED

    @staticmethod
    async def _read_photo(response: aiohttp.ClientResponse) -> tuple[bytes | None, str | None]:
        """The body of a 200 answer, capped at PHOTO_MAX_BYTES (the caller catches network errors)."""
        too_large = texts.PHOTO_TOO_LARGE.format(max_mb=PHOTO_MAX_BYTES // (1024 * 1024))
        if response.status != 200:
            return None, texts.PHOTO_DOWNLOAD_FAILED
        if (response.content_length or 0) > PHOTO_MAX_BYTES:
            return None, too_large
        chunks, size = [], 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > PHOTO_MAX_BYTES:
                return None, too_large
            chunks.append(chunk)
        return b"".join(chunks), None

    # -- sending ---------------------------------------------------------------------------------

    @staticmethod
    def render(reply: Reply) -> str:
        text = render_plain(reply)
        return f"{text}\n{texts.ZALO_PHOTO_HINT}" if reply.expects_photo else text

    async def send_replies(self, user_id: str, chat_id: str, replies: list[Reply]) -> datetime | bool:
        """Send the replies in order; False when one failed (it stops the rest), else what `send_text` said of
        the first: when it reached the chat by Zalo's clock (the person could have seen it from then on)."""
        first: datetime | bool = True
        for reply in replies:
            for part in split_text(self.render(reply), TEXT_LIMIT):
                delivered = await self.send_text(chat_id, part, user_id=user_id)
                if not delivered:
                    return False
                first = delivered if first is True else first
        return first

    async def send_text(self, chat_id: str, text: str, *, user_id: str | None = None,
                        attempts: int = 4) -> datetime | bool:
        """sendMessage with retries on 429, 5xx and timeouts; a final failure is recorded for the admins.
        False on failure; on success Zalo's `date` of the message sent, or True when its answer had none."""
        for attempt in range(attempts):
            try:
                result = await self.client.call("sendMessage", {"chat_id": chat_id, "text": text})
                return (sent_at(result) if isinstance(result, dict) else None) or True
            except ZaloError as exc:
                # Zalo's 403 is a server error (retry); 400/401/404 will not get better by retrying.
                permanent = exc.code in (400, 401, 404)
                if permanent or attempt == attempts - 1:
                    log.error("Zalo sendMessage failed (%s)", exc.code)
                    await self.service.record_send_failure(CHANNEL, user_id or chat_id, f"zalo {exc.code}",
                                                           permanent=exc.code == 404)
                    return False
                await asyncio.sleep(self.retry_base * 2 ** attempt)
        return False

    # -- files (exports, a unit's document) ------------------------------------------------------

    async def deliver_files(self, chat_id: str, user_id: str, text: str, files: list[Path]) -> None:
        """Zalo bots cannot send files: one message with an expiring link per file, or where the file is."""
        lines = [text]
        if self.settings.public_url and self.links is not None:
            for path in files:
                url_path, expires = self.links.url_path(path)
                when = format_datetime(datetime.fromtimestamp(expires, timezone.utc))
                lines.append(texts.EXPORT_LINK.format(name=path.name, expires=when,
                                                      url=self.settings.public_url + url_path))
        elif files:
            lines.append(texts.EXPORT_NO_LINK.format(name=", ".join(f"“{path.name}”" for path in files)))
        for part in split_text("\n\n".join(lines), TEXT_LIMIT):
            await self.send_text(chat_id, part, user_id=user_id)

    async def progress(self, chat_id: str, user_id: str, text: str) -> None:
        """No progress messages on Zalo: the free plan counts every message."""
