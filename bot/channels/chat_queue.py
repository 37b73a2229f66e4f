"""Events of one chat are handled one after another, in arrival order; different chats run side by side.

The inbox worker (bot/inbox.py) queues each chat's updates here once they are committed to the inbox.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)


class ChatQueue:
    """One worker task per chat with pending work; the worker ends when its chat's queue is empty."""

    def __init__(self) -> None:
        self._queues: dict[Hashable, asyncio.Queue] = {}
        self._workers: set[asyncio.Task] = set()

    def submit(self, chat: Hashable, job: Callable[[], Awaitable[None]]) -> None:
        """Run `job` after the jobs already queued for this chat."""
        queue = self._queues.get(chat)
        if queue is None:
            queue = self._queues[chat] = asyncio.Queue()
            task = asyncio.create_task(self._work(chat, queue))
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)
        queue.put_nowait(job)

    async def _work(self, chat: Hashable, queue: asyncio.Queue) -> None:
        while True:
            try:
                job = queue.get_nowait()
            except asyncio.QueueEmpty:
                del self._queues[chat]
                return
            try:
                await job()
            except Exception:  # one bad event must not stop the chat's later events
                log.exception("event handling failed")

    async def drain(self) -> None:
        """Wait until every queued job has run."""
        while self._workers:
            await asyncio.gather(*list(self._workers), return_exceptions=True)

    async def close(self) -> None:
        """Cancel pending work (at shutdown: what was not done stays in the inbox for the next start)."""
        for task in list(self._workers):
            task.cancel()
        await asyncio.gather(*list(self._workers), return_exceptions=True)
        self._queues.clear()


def split_text(text: str, limit: int) -> list[str]:
    """Split a long message at paragraph, then line, then word boundaries, each part at most `limit` chars."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts
