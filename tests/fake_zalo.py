"""A fake Zalo Bot API server on 127.0.0.1 that behaves as /work/shared/reference/zalo-bot-api.md describes.

It records what the bot sends, queues the updates a test "types", serves image URLs, delivers webhooks with
or without the right secret, and injects failures. Both UNCONFIRMED behaviours are switchable: the idle 408
as an HTTP status or as HTTP 200 with `ok: false`, and consumed updates coming back on later polls.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web


@dataclass
class Sent:
    chat_id: str
    text: str


@dataclass
class FakeZalo:
    token: str = "1234567890:fake-zalo-secret"
    idle_as_http_408: bool = True
    replay_consumed: bool = False  # consumed updates come back on the next poll
    updates_as_list: bool = False
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, float]] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    slow_files: set[str] = field(default_factory=set)
    huge_files: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._pending: asyncio.Queue = asyncio.Queue()
        self._consumed: list[dict] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.sent_event = asyncio.Event()
        self.fetched: list[str] = []  # names of the files the bot downloaded, in order
        self._closing = asyncio.Event()

    # -- server ----------------------------------------------------------------------------------

    async def start(self) -> "FakeZalo":
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/files/{name}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._closing.set()  # wake long polls and slow downloads so the server stops at once
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, method: str, status: int, body: dict | None = None, times: int = 1) -> None:
        """The next `times` calls of `method` answer with this HTTP status (body defaults to ok:false)."""
        answer = body or {"ok": False, "error_code": status, "description": "injected"}
        self.failures.setdefault(method, []).extend([(status, answer)] * times)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append((method, time.monotonic()))
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"})
        queued = self.failures.get(method)
        if queued:
            status, body = queued.pop(0)
            return web.json_response(body, status=status)
        payload = await request.json() if request.can_read_body else {}
        now_ms = int(time.time() * 1000)
        if method == "getMe":
            return self._ok({"id": "bot1", "account_name": "bot.hcc", "account_type": "BASIC", "can_join_groups": False})
        if method == "deleteWebhook":
            self.webhook_url = None
            return self._ok({"url": "", "updated_at": now_ms})
        if method == "setWebhook":
            self.webhook_url, self.webhook_secret = payload["url"], payload["secret_token"]
            return self._ok({"url": payload["url"], "updated_at": now_ms})
        if method == "getUpdates":
            if self.webhook_url:
                return web.json_response({"ok": False, "error_code": 400, "description": "webhook is set"})
            return await self._get_updates(request, float(payload.get("timeout", "30")))
        if method == "sendMessage":
            text = payload.get("text", "")
            if not 1 <= len(text) <= 2000:
                return web.json_response({"ok": False, "error_code": 400, "description": "text length"})
            self.sent.append(Sent(str(payload["chat_id"]), text))
            self.sent_event.set()
            return self._ok({"message_id": f"m{next(self._ids)}", "date": now_ms})
        if method == "sendChatAction":
            return self._ok(True)
        return web.json_response({"ok": False, "error_code": 404, "description": "no such method"}, status=404)

    @staticmethod
    def _ok(result) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _get_updates(self, request: web.Request, timeout: float) -> web.Response:
        if self.replay_consumed and self._consumed and self._pending.empty():
            update = self._consumed.pop(0)  # the same update comes back once more
            return self._ok([update] if self.updates_as_list else update)
        try:
            getter = asyncio.ensure_future(self._pending.get())
            closing = asyncio.ensure_future(self._closing.wait())
            done, _ = await asyncio.wait({getter, closing}, timeout=min(timeout, 1.0),
                                         return_when=asyncio.FIRST_COMPLETED)
            closing.cancel()
            if getter not in done:
                getter.cancel()
                raise asyncio.TimeoutError
            update = getter.result()
        except asyncio.TimeoutError:
            body = {"ok": False, "error_code": 408, "description": "Request timeout"}
            return web.json_response(body, status=408 if self.idle_as_http_408 else 200)
        if request.transport is None or request.transport.is_closing():
            self._pending.put_nowait(update)  # the poller went away (bot stopped): keep it for the next one
            return web.Response(status=499)
        if self.replay_consumed:
            self._consumed.append(update)
        return self._ok([update] if self.updates_as_list else update)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.fetched.append(name)
        if name in self.slow_files:
            try:
                await asyncio.wait_for(self._closing.wait(), timeout=30)
            except asyncio.TimeoutError:
                pass
        if name in self.huge_files:
            response = web.StreamResponse()  # no Content-Length: the cap must hold while streaming
            await response.prepare(request)
            chunk = b"\0" * (1024 * 1024)
            for _ in range(self.huge_files[name] // len(chunk)):
                await response.write(chunk)
            await response.write_eof()
            return response
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="image/jpeg")

    # -- what a person does ----------------------------------------------------------------------

    def update(self, user: str, event: str, **message) -> dict:
        message_id = message.pop("message_id", None) or f"z{next(self._ids):08x}"
        body = {"from": {"id": user, "display_name": f"Người dùng {user}", "is_bot": False},
                "chat": {"id": user, "chat_type": "PRIVATE"}, "message_id": message_id,
                "date": int(time.time() * 1000), **message}
        return {"event_name": event, "message": body}

    def text(self, user: str, text: str, **kw) -> dict:
        return self.update(user, "message.text.received", text=text, **kw)

    def image(self, user: str, data: bytes | None = None, *, name: str | None = None, field_name: str = "photo_url") -> dict:
        name = name or f"img{next(self._ids)}.jpg"
        if data is not None:
            self.files[name] = data
        return self.update(user, "message.image.received", **{field_name: f"{self.url}/files/{name}"})

    def push(self, update: dict) -> None:
        """Make an update available to getUpdates."""
        self._pending.put_nowait(update)

    async def deliver(self, update: dict, *, secret: str | None = None, wrapped: bool = False,
                      raw: bytes | None = None) -> int:
        """POST an update to the bot's webhook as Zalo would; the HTTP status the bot answered."""
        headers = {"X-Bot-Api-Secret-Token": self.webhook_secret if secret is None else secret}
        async with aiohttp.ClientSession() as session:
            if raw is not None:
                async with session.post(self.webhook_url, data=raw, headers=headers) as response:
                    return response.status
            body = {"ok": True, "result": update} if wrapped else update
            async with session.post(self.webhook_url, json=body, headers=headers) as response:
                return response.status

    def texts_to(self, user: str) -> list[str]:
        return [m.text for m in self.sent if m.chat_id == user]

    async def wait_sent(self, count: int, timeout: float = 10.0) -> None:
        """Wait until at least `count` messages were sent in all."""
        deadline = time.monotonic() + timeout
        while len(self.sent) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"expected {count} sent messages, got {len(self.sent)}: "
                                     f"{[m.text[:60] for m in self.sent[-3:]]}")
            self.sent_event.clear()
            try:
                await asyncio.wait_for(self.sent_event.wait(), timeout=remaining)
            except asyncio.TimeoutError:
                pass
