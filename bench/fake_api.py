"""Lean fake Telegram Bot API and Zalo Bot API servers on 127.0.0.1, for load benchmarks.

tests/fake_telegram.py and tests/fake_zalo.py record every call and wake every waiter on each one: right for
tests, quadratic with thousands of simulated people. These speak the same protocols (see
/work/shared/reference/) to the real clients (python-telegram-bot; our aiohttp Zalo client) but keep no
history: each message the bot sends is handed to `on_message(chat, message, at)` the moment its request
arrives, and then forgotten. They still fail loudly where the platforms would (HTTP 400 for texts over the
limit or empty, callback data over 64 bytes; 404 for unknown methods), and count each failure in `errors`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter, deque
from typing import Any, Callable

import aiohttp
from aiohttp import web

TELEGRAM_TOKEN = "123456:LoadBenchTokenForTheFakeServerOnly0"
ZALO_TOKEN = "1234567890:load-bench-fake-zalo-secret"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "HCC", "username": "hcc_load_bot"}
RAW_PARAMS = {"text", "caption", "secret_token", "url", "callback_query_id", "file_id"}  # never JSON-decoded

OnMessage = Callable[[Any, dict, float], None]  # (chat id, the message as sent, perf_counter at arrival)


def _json(result: Any) -> web.Response:
    return web.Response(text=json.dumps({"ok": True, "result": result}, ensure_ascii=False),
                        content_type="application/json")


def _error(status: int, description: str) -> web.Response:
    return web.Response(text=json.dumps({"ok": False, "error_code": status, "description": description}),
                        status=status, content_type="application/json")


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


class FakeTelegramAPI:
    """getUpdates with offsets, batches and long polls; sendMessage, edits, callback answers, getFile, files."""

    def __init__(self, files: dict[str, bytes], on_message: OnMessage, token: str = TELEGRAM_TOKEN):
        self.token = token
        self.files = files  # file_id -> bytes, served as photos/<file_id>.jpg
        self.on_message = on_message
        self.url = ""
        self.calls: Counter = Counter()  # method -> count (no parameters kept)
        self.errors: Counter = Counter()  # what was refused, and why
        self.batches: list[int] = []  # the size of each non-empty getUpdates answer
        self._pending: deque[dict] = deque()  # offered, not yet confirmed by an offset
        self._new = asyncio.Event()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._closing = False
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner, self.url = await _serve(app)
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self._new.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what people do --------------------------------------------------------------------------

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def offer(self, update: dict) -> None:
        """Queue an update for getUpdates (ids must grow, as `next_update_id` gives them)."""
        self._pending.append(update)
        self._new.set()

    # -- the API ---------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        if request.match_info["token"] != self.token:
            self.errors["401 wrong token"] += 1
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls[method] += 1
        try:
            form = await request.post() if request.can_read_body else {}
        except ConnectionResetError:  # the bot was stopped in the middle of a request
            return web.Response(status=499)
        params = {k: (v if k in RAW_PARAMS or not isinstance(v, str) else _decode(v)) for k, v in form.items()}
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            self.errors[f"404 {method}"] += 1
            return _error(404, "Not Found")
        result = handler(params, arrived)
        if asyncio.iscoroutine(result):
            result = await result
        return result if isinstance(result, web.Response) else _json(result)

    def _m_getMe(self, p: dict, at: float) -> dict:
        return BOT_USER

    def _m_setMyCommands(self, p: dict, at: float) -> bool:
        return True

    def _m_deleteWebhook(self, p: dict, at: float) -> bool:
        return True

    def _m_answerCallbackQuery(self, p: dict, at: float) -> bool:
        return True

    def _m_sendChatAction(self, p: dict, at: float) -> bool:
        return True

    async def _m_getUpdates(self, p: dict, at: float) -> list[dict]:
        offset = int(p.get("offset") or 0)
        pending = self._pending
        while pending and pending[0]["update_id"] < offset:
            pending.popleft()
        if not pending and not self._closing:
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), float(p.get("timeout") or 0))
            except asyncio.TimeoutError:
                pass
        batch = list(itertools.islice(pending, int(p.get("limit") or 100)))
        if batch:
            self.batches.append(len(batch))
        return batch

    def _m_sendMessage(self, p: dict, at: float) -> Any:
        text = str(p.get("text", ""))
        if not text.strip() or len(text) > 4096:
            self.errors["400 text empty or over 4096"] += 1
            return _error(400, "Bad Request: message text is empty or too long")
        markup = p.get("reply_markup")
        for row in (markup or {}).get("inline_keyboard", []):
            if any(not 0 < len(b.get("callback_data", "").encode()) <= 64 for b in row):
                self.errors["400 callback data"] += 1
                return _error(400, "Bad Request: BUTTON_DATA_INVALID")
        chat = int(p["chat_id"])
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "from": BOT_USER,
                   "chat": {"id": chat, "type": "private"}, "text": text}
        if markup:
            message["reply_markup"] = markup
        self.on_message(chat, message, at)
        return message

    def _m_editMessageText(self, p: dict, at: float) -> Any:
        text = str(p.get("text", ""))
        if not text.strip() or len(text) > 4096:
            self.errors["400 edit text"] += 1
            return _error(400, "Bad Request: message text is empty or too long")
        return {"message_id": int(p["message_id"]), "date": int(time.time()), "from": BOT_USER,
                "chat": {"id": int(p["chat_id"]), "type": "private"}, "text": text}

    def _m_editMessageReplyMarkup(self, p: dict, at: float) -> Any:
        return {"message_id": int(p["message_id"]), "date": int(time.time()), "from": BOT_USER,
                "chat": {"id": int(p["chat_id"]), "type": "private"}, "text": "…"}

    def _m_getFile(self, p: dict, at: float) -> Any:
        file_id = str(p.get("file_id"))
        data = self.files.get(file_id)
        if data is None:
            self.errors["400 getFile unknown id"] += 1
            return _error(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data),
                "file_path": f"photos/{file_id}.jpg"}

    async def _file(self, request: web.Request) -> web.StreamResponse:
        self.calls["file download"] += 1
        path = request.match_info["path"]
        data = self.files.get(path.removeprefix("photos/").removesuffix(".jpg"))
        if request.match_info["token"] != self.token or data is None:
            self.errors["404 file"] += 1
            return _error(404, "Not Found")
        return web.Response(body=data, content_type="application/octet-stream")


class FakeZaloAPI:
    """getMe, setWebhook/deleteWebhook, sendMessage, image URLs; updates are POSTed to the bot's webhook."""

    def __init__(self, files: dict[str, bytes], on_message: OnMessage, token: str = ZALO_TOKEN):
        self.token = token
        self.files = files  # name -> bytes, served at /files/<name>
        self.on_message = on_message
        self.url = ""
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.calls: Counter = Counter()
        self.errors: Counter = Counter()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/files/{name}", self._file)
        self._runner, self.url = await _serve(app)
        # One pooled session for every webhook delivery, no connection cap: Zalo's side is not our limit.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self.url

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def next_message_id(self) -> str:
        return f"z{next(self._ids):010x}"

    async def deliver(self, update: dict) -> int:
        """POST an update to the webhook with the secret header, as Zalo does; the HTTP status."""
        if not self.webhook_url:
            self.errors["no webhook set"] += 1
            return 0
        try:
            async with self._session.post(self.webhook_url, json=update,
                                          headers={"X-Bot-Api-Secret-Token": self.webhook_secret or ""}) as response:
                await response.read()
                if response.status != 200:
                    self.errors[f"webhook {response.status}"] += 1
                return response.status
        except aiohttp.ClientError as exc:
            self.errors[f"webhook {type(exc).__name__}"] += 1
            return 0

    async def _api(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        method = request.match_info["method"]
        self.calls[method] += 1
        if request.match_info["token"] != self.token:
            self.errors["401 wrong token"] += 1
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"})
        try:
            payload = await request.json() if request.can_read_body else {}
        except ConnectionResetError:
            return web.Response(status=499)
        now_ms = int(time.time() * 1000)
        if method == "getMe":
            return _json({"id": "bot1", "account_name": "bot.hcc", "account_type": "BASIC", "can_join_groups": False})
        if method == "deleteWebhook":
            self.webhook_url = None
            return _json({"url": "", "updated_at": now_ms})
        if method == "setWebhook":
            self.webhook_url, self.webhook_secret = payload["url"], payload["secret_token"]
            return _json({"url": payload["url"], "updated_at": now_ms})
        if method == "sendMessage":
            text = payload.get("text", "")
            if not isinstance(text, str) or not 1 <= len(text) <= 2000:
                self.errors["400 text length"] += 1
                return web.json_response({"ok": False, "error_code": 400, "description": "text length"})
            message = {"message_id": f"m{next(self._ids)}", "date": now_ms, "text": text}
            self.on_message(str(payload["chat_id"]), message, arrived)
            return _json({"message_id": message["message_id"], "date": now_ms})
        if method == "sendChatAction":
            return _json(True)
        self.errors[f"404 {method}"] += 1
        return web.json_response({"ok": False, "error_code": 404, "description": "no such method"}, status=404)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        self.calls["file download"] += 1
        data = self.files.get(request.match_info["name"])
        if data is None:
            self.errors["404 file"] += 1
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/jpeg")


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value
