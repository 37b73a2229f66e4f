"""A fake Telegram Bot API server on 127.0.0.1 that speaks the real protocol (see shared/reference).

It records every call the bot makes (method and decoded parameters), keeps pending updates and the
confirmed offset like Telegram does, serves files, posts updates to a webhook with the secret header, and
fails the next calls of a method on request (429 with retry_after, 403, 500). It fails loudly where
Telegram would: texts over 4096 characters, callback data over 64 bytes, files over 20 MB.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any, Callable

import aiohttp
from aiohttp import web

TOKEN = "123456:AAFakeTokenForTestsOnly_0123456789ab"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "HCC", "username": "hcc_test_bot"}
MAX_DOWNLOAD = 20 * 1024 * 1024
RAW_PARAMS = {"text", "caption", "secret_token", "url", "callback_query_id", "file_id"}  # never JSON-decoded


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int | None = None  # the HTTP status once answered


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _error(status: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


class FakeTelegram:
    """One fake bot account; users are plain ints, and a user's private chat has the same id."""

    def __init__(self, token: str = TOKEN):
        self.documents: list[tuple[int, str, bytes]] = []  # (chat, file name, bytes) sent with sendDocument
        self.token = token
        self.url = ""  # http://127.0.0.1:<port>, once started
        self.calls: list[Call] = []
        self.messages: dict[int, dict] = {}  # the bot's messages by message_id, as edited since
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self._updates: list[dict] = []
        self._confirmed = 0  # update ids below this were confirmed by an offset
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._files: dict[str, tuple[str, bytes | None, int]] = {}  # file_id -> (path, bytes, size)
        self._failures: dict[str, list[web.Response]] = {}
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None

    # -- server ----------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._closing = True
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        """Wait until `predicate()` holds, re-checked after every call and injected update; fail after `timeout`."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        form = await request.post()
        params = {k: (v if k in RAW_PARAMS or not isinstance(v, str) else _decode(v)) for k, v in form.items()}
        call = Call(method, params)
        self.calls.append(call)  # at arrival: a long poll is seen while it waits
        await self._notify()
        failures = self._failures.get(method)
        if failures:
            response = failures.pop(0)
        else:
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                response = _error(404, "Not Found")
            else:
                result = await handler(params)
                ok = not isinstance(result, web.Response)
                response = web.json_response({"ok": True, "result": result}) if ok else result
        call.status = response.status
        await self._notify()
        return response

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        for path, data, _size in self._files.values():
            if path == request.match_info["path"] and data is not None:
                return web.Response(body=data, content_type="application/octet-stream")
        return _error(404, "Not Found")

    # -- methods ---------------------------------------------------------------------------------

    async def _m_getMe(self, p: dict) -> dict:
        return BOT_USER

    async def _m_setMyCommands(self, p: dict) -> bool:
        return True

    async def _m_deleteWebhook(self, p: dict) -> bool:
        self.webhook_url = self.webhook_secret = None
        return True

    async def _m_setWebhook(self, p: dict) -> bool:
        self.webhook_url, self.webhook_secret = p["url"] or None, p.get("secret_token")
        return True

    async def _m_getUpdates(self, p: dict) -> Any:
        if self.webhook_url:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(p.get("offset") or 0)
        self._confirmed = max(self._confirmed, offset)
        self._updates = [u for u in self._updates if u["update_id"] >= self._confirmed]
        token = self.token
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(
                    lambda: self._updates or self._closing or token != self.token), float(p.get("timeout") or 0))
            except asyncio.TimeoutError:
                pass
        return self._updates[: int(p.get("limit") or 100)]

    async def _m_sendMessage(self, p: dict) -> Any:
        text = str(p.get("text", ""))
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        markup = p.get("reply_markup")
        for row in (markup or {}).get("inline_keyboard", []):
            if any(not 0 < len(b.get("callback_data", "").encode()) <= 64 for b in row):
                return _error(400, "Bad Request: BUTTON_DATA_INVALID")
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "from": BOT_USER,
                   "chat": {"id": int(p["chat_id"]), "type": "private"}, "text": text}
        if markup:
            message["reply_markup"] = markup
        self.messages[message["message_id"]] = message
        return message

    async def _m_sendDocument(self, p: dict) -> Any:
        document = p.get("document")
        if not hasattr(document, "file"):
            return _error(400, "Bad Request: there is no document in the request")
        data = document.file.read()
        self.documents.append((int(p["chat_id"]), document.filename, data))
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "from": BOT_USER,
                   "chat": {"id": int(p["chat_id"]), "type": "private"},
                   "document": {"file_id": f"doc{len(self.documents)}", "file_unique_id": f"udoc{len(self.documents)}",
                                "file_name": document.filename, "file_size": len(data)}}
        self.messages[message["message_id"]] = message
        return message

    async def _m_editMessageText(self, p: dict) -> Any:
        message = self.messages.get(int(p.get("message_id", 0)))
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        if message["text"] == p["text"] and message.get("reply_markup") == p.get("reply_markup"):
            return _error(400, "Bad Request: message is not modified")
        message["text"] = p["text"]
        message.pop("reply_markup", None)
        if p.get("reply_markup"):
            message["reply_markup"] = p["reply_markup"]
        return message

    async def _m_editMessageReplyMarkup(self, p: dict) -> Any:
        message = self.messages.get(int(p.get("message_id", 0)))
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        message.pop("reply_markup", None)
        if p.get("reply_markup"):
            message["reply_markup"] = p["reply_markup"]
        return message

    async def _m_answerCallbackQuery(self, p: dict) -> bool:
        return True

    async def _m_sendChatAction(self, p: dict) -> bool:
        return True

    async def _m_getFile(self, p: dict) -> Any:
        entry = self._files.get(str(p.get("file_id")))
        if entry is None:
            return _error(400, "Bad Request: invalid file_id")
        path, _data, size = entry
        if size > MAX_DOWNLOAD:
            return _error(400, "Bad Request: file is too big")
        return {"file_id": p["file_id"], "file_unique_id": f"u{p['file_id']}", "file_size": size, "file_path": path}

    # -- what the bot did ------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent(self, chat: int) -> list[dict]:
        """The sendMessage parameters of the messages delivered into a chat, in order."""
        return [c.params for c in self.calls_of("sendMessage") if c.status == 200 and int(c.params["chat_id"]) == chat]

    async def revoke_token(self) -> None:
        """The bot's token stops working (revoked in @BotFather); a waiting getUpdates answers at once."""
        self.token = f"{self.token}-revoked"
        await self._notify()

    def fail(self, method: str, times: int = 1, status: int = 500, retry_after: int | None = None) -> None:
        """Answer the next `times` calls of `method` with an error, as Telegram would."""
        descriptions = {403: "Forbidden: bot was blocked by the user", 429: "Too Many Requests: retry later",
                        500: "Internal Server Error"}
        extra = {"retry_after": retry_after} if retry_after is not None else {}
        for _ in range(times):
            self._failures.setdefault(method, []).append(_error(status, descriptions.get(status, "Error"), **extra))

    # -- what users do ---------------------------------------------------------------------------

    def update(self, user: int, **payload: Any) -> dict:
        return {"update_id": next(self._update_ids), **payload}

    def message(self, user: int, **content: Any) -> dict:
        return self.update(user, message={
            "message_id": 10_000 + next(self._ids), "date": int(time.time()), "from": self.user(user),
            "chat": {"id": user, "type": "private", "first_name": "Lan"}, **content})

    @staticmethod
    def user(user: int) -> dict:
        return {"id": user, "is_bot": False, "first_name": "Lan", "last_name": "Nguyễn"}

    def add_file(self, data: bytes | None, size: int | None = None, ext: str = "jpg") -> str:
        """A file the bot may fetch; `data=None` with a `size` stands for a file too big to hold."""
        file_id = f"file{next(self._ids)}"
        self._files[file_id] = (f"photos/{file_id}.{ext}", data, len(data) if data is not None else size or 0)
        return file_id

    def photo_message(self, user: int, data: bytes, **extra: Any) -> dict:
        thumb = self.add_file(b"not a photo")  # a bot that takes the small size gets a broken image
        full = self.add_file(data)
        sizes = [{"file_id": thumb, "file_unique_id": f"u{thumb}", "width": 68, "height": 90, "file_size": 11},
                 {"file_id": full, "file_unique_id": f"u{full}", "width": 600, "height": 800, "file_size": len(data)}]
        return self.message(user, photo=sizes, **extra)

    async def deliver(self, update: dict, secret: str | None = None) -> int:
        """Hand an update to the bot: queued for getUpdates, or POSTed to the webhook; the HTTP status."""
        if not self.webhook_url:
            self._updates.append(update)
            await self._notify()
            return 200
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret if secret is None else secret}
        async with aiohttp.ClientSession() as session:
            async with session.post(self.webhook_url, json=update, headers=headers) as response:
                return response.status

    async def text(self, user: int, text: str) -> dict:
        command = {"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
        update = self.message(user, text=text, **(command if text.startswith("/") else {}))
        await self.deliver(update)
        return update

    async def press(self, user: int, label: str) -> dict:
        """Press the button with this label on the bot's last message with a keyboard in the user's chat."""
        message = next(m for m in reversed(self.messages.values())
                       if m["chat"]["id"] == user and m.get("reply_markup"))
        data = next(b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row
                    if b["text"] == label)
        update = self.update(user, callback_query={"id": str(next(self._ids)), "from": self.user(user),
                                                   "chat_instance": "1", "data": data, "message": dict(message)})
        await self.deliver(update)
        return update

    async def photo(self, user: int, data: bytes) -> dict:
        update = self.photo_message(user, data)
        await self.deliver(update)
        return update

    async def album(self, user: int, photos: list[bytes]) -> list[dict]:
        group = str(next(self._ids))
        updates = [self.photo_message(user, data, media_group_id=group) for data in photos]
        for update in updates:
            await self.deliver(update)
        return updates

    async def document(self, user: int, data: bytes | None, *, mime: str = "image/jpeg", name: str = "anh.jpg",
                       size: int | None = None) -> dict:
        file_id = self.add_file(data, size, ext=name.rpartition(".")[2])
        update = self.message(user, document={"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
                                              "mime_type": mime, "file_size": self._files[file_id][2]})
        await self.deliver(update)
        return update

    async def sticker(self, user: int) -> dict:
        update = self.message(user, sticker={"file_id": "stk", "file_unique_id": "ustk", "type": "regular",
                                             "width": 512, "height": 512, "is_animated": False, "is_video": False})
        await self.deliver(update)
        return update

    async def voice(self, user: int) -> dict:
        update = self.message(user, voice={"file_id": "vc", "file_unique_id": "uvc", "duration": 3})
        await self.deliver(update)
        return update
