"""The send queue for bulk messages (reminders), within each platform's limits.

Workers take jobs one at a time from the caller (the reminders claim them from the database), wait for the
chat's own pace and then for the platform's overall pace, call the platform's send function, wait out 429s,
retry transient failures with back-off, and hand every outcome back to the caller. A text longer than the
platform allows goes out in parts; a retry resumes at the part that failed.

The contract of a send function, `async (chat_id, user_id, text) -> SendResult`: it returns a result for every
request it made. If it raises, no request was made: the job is handed back as "released" (to be sent later),
the other workers finish the job they hold and take no new one, and the exception reaches the caller.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from bot.channels.chat_queue import split_text

log = logging.getLogger(__name__)

SENT, FAILED, RELEASED = "sent", "failed", "released"


@dataclass(frozen=True)
class SendResult:
    """What one send request came to."""

    ok: bool
    permanent: bool = False  # retrying cannot help: blocked bot, unknown chat, refused text
    retry_after: float | None = None  # the platform said to wait this long (429)
    error: str | None = None  # a short reason for the record: "forbidden", "not_found", "zalo 500"


DELIVERED = SendResult(True)

SendFn = Callable[[str, "str | None", str], Awaitable[SendResult]]


@dataclass(frozen=True)
class Limits:
    """One platform's limits and retry policy."""

    per_second: float  # messages per second overall
    chat_interval: float = 1.0  # seconds between two messages into one chat
    text_limit: int = 2000  # characters per message; longer texts go in parts
    concurrency: int = 4  # requests in flight at once
    max_attempts: int = 5  # transient failures of one part before it is given up
    max_waits: int = 10  # 429 waits of one part before it is given up
    backoff: float = 1.0  # first wait after a transient failure, doubled each time
    max_backoff: float = 60.0
    flood_429s: int = 5  # this many 429s within a second pause the whole platform, not only the chat


# Telegram: about 30 messages/s overall and 1/s into one chat; 29 leaves room for replies the bot sends meanwhile.
# Zalo publishes no number: stay well below anything that could look like spam.
LIMITS = {
    "telegram": Limits(per_second=29, chat_interval=1.0, text_limit=4096, concurrency=16),
    "zalo": Limits(per_second=5, chat_interval=1.0, text_limit=2000, concurrency=4),
}
DEFAULT_LIMITS = Limits(per_second=1, chat_interval=1.0, text_limit=2000, concurrency=1)


@dataclass
class Job:
    """One message to one chat; `key` is the caller's id for it."""

    key: Any
    chat_id: str
    user_id: str | None
    text: str


@dataclass(frozen=True)
class Outcome:
    """How a job ended: sent, failed (permanent, or retries used up) or released (not sent, to send again)."""

    state: str
    attempts: int  # send requests made for the job
    permanent: bool = False
    error: str | None = None


@dataclass
class _Pace:
    """When the next message may start: per platform and per chat (monotonic seconds)."""

    limits: Limits
    next_any: float = 0.0
    paused_until: float = 0.0
    next_in_chat: dict[str, float] = field(default_factory=dict)
    recent_429: deque = field(default_factory=deque)

    def chat_delay(self, chat: str, now: float) -> float:
        return max(self.next_in_chat.get(chat, 0.0), self.paused_until) - now

    def book(self, chat: str, now: float) -> float:
        """Take the platform's next free moment for this chat; how long to wait for it."""
        at = max(now, self.next_any, self.paused_until)
        self.next_any = at + 1.0 / self.limits.per_second
        self.next_in_chat[chat] = at + self.limits.chat_interval
        if len(self.next_in_chat) > 10_000:
            self.next_in_chat = {c: t for c, t in self.next_in_chat.items() if t > now}
        return at - now

    def too_many(self, chat: str, retry_after: float, now: float) -> None:
        """A 429: this chat waits; several at once mean the platform itself wants a pause."""
        self.next_in_chat[chat] = max(self.next_in_chat.get(chat, 0.0), now + retry_after)
        self.recent_429.append(now)
        while self.recent_429 and self.recent_429[0] < now - 1.0:
            self.recent_429.popleft()
        if len(self.recent_429) >= self.limits.flood_429s:
            self.paused_until = max(self.paused_until, now + retry_after)


class Fanout:
    """Sends jobs through per-platform paces; one instance lives as long as the scheduler."""

    def __init__(self, limits: dict[str, Limits] | None = None, *,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 monotonic: Callable[[], float] = time.monotonic):
        self.limits = {**LIMITS, **(limits or {})}
        # Tests replace both with a virtual clock, to see the waits without waiting.
        self.sleep = sleep
        self.monotonic = monotonic
        self._paces: dict[str, _Pace] = {}

    def limits_of(self, platform: str) -> Limits:
        return self.limits.get(platform, DEFAULT_LIMITS)

    async def run(self, platform: str, send: SendFn, take: Callable[[], Awaitable[Job | None]],
                  done: Callable[[Job, Outcome], Awaitable[None]], stop: asyncio.Event | None = None) -> int:
        """Send jobs from `take()` until it gives None (or `stop` is set); how many jobs were taken."""
        limits = self.limits_of(platform)
        pace = self._paces.setdefault(platform, _Pace(limits))
        state = {"taken": 0, "error": None}

        def stopping() -> bool:
            return state["error"] is not None or (stop is not None and stop.is_set())

        async def worker() -> None:
            try:
                while not stopping():
                    job = await take()
                    if job is None:
                        return
                    state["taken"] += 1
                    try:
                        outcome = await self._deliver(pace, limits, send, job)
                    except Exception as exc:  # the send function raised: no request was made for this one
                        state["error"] = state["error"] or exc
                        await done(job, Outcome(RELEASED, 0, error=type(exc).__name__))
                        return
                    await done(job, outcome)
            except Exception as exc:  # the caller's take/done failed (database down): the others stop too
                state["error"] = state["error"] or exc
                raise

        results = await asyncio.gather(*(worker() for _ in range(limits.concurrency)), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if state["error"] is not None:
            raise state["error"]
        if errors:
            raise errors[0]
        return state["taken"]

    async def _deliver(self, pace: _Pace, limits: Limits, send: SendFn, job: Job) -> Outcome:
        attempts = 0
        parts = split_text(job.text, limits.text_limit)
        for n, part in enumerate(parts, 1):
            transient = waits = 0
            while True:
                await self._wait_turn(pace, job.chat_id)
                attempts += 1
                result = await send(job.chat_id, job.user_id, part)
                if result.ok:
                    break
                error = result.error or "error"
                if len(parts) > 1:
                    error = f"{error} (part {n}/{len(parts)})"
                if result.permanent:
                    return Outcome(FAILED, attempts, permanent=True, error=error)
                if result.retry_after is not None:
                    waits += 1
                    if waits > limits.max_waits:
                        return Outcome(FAILED, attempts, error=error)
                    pace.too_many(job.chat_id, max(0.0, result.retry_after), self.monotonic())
                    continue
                transient += 1
                if transient >= limits.max_attempts:
                    return Outcome(FAILED, attempts, error=error)
                await self.sleep(min(limits.backoff * 2 ** (transient - 1), limits.max_backoff))
        return Outcome(SENT, attempts)

    async def _wait_turn(self, pace: _Pace, chat: str) -> None:
        """First the chat's own pace (without holding up other chats), then the platform's."""
        while (delay := pace.chat_delay(chat, self.monotonic())) > 0:
            await self.sleep(delay)
        delay = pace.book(chat, self.monotonic())
        if delay > 0:
            await self.sleep(delay)
