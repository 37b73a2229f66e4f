"""Exports asked for in the chat: built in a worker thread while the bot keeps answering everyone else.

A channel that can deliver files registers itself in `Service.deliverers`: Telegram sends documents, Zalo
(which cannot send files) sends an expiring download link served by our own web server.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Protocol

from conversations import texts
from conversations.answers import format_datetime
from exports.data import load_export_data
from storage import queries as q

log = logging.getLogger(__name__)
PROGRESS_EVERY = 2.0  # seconds between progress messages within a step


class Deliverer(Protocol):
    async def deliver_files(self, chat_id: str, user_id: str, text: str, files: list[Path]) -> None: ...

    async def progress(self, chat_id: str, user_id: str, text: str) -> None: ...


class ExportJobs:
    """Runs exports for admins and documents for unit contacts in the background."""

    def __init__(self, service, export_dir: Path):
        self.service = service
        self.export_dir = export_dir
        self.tasks: set[asyncio.Task] = set()

    def spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self) -> None:
        """Wait for running jobs (tests and shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def export(self, channel: str, chat_id: str, user_id: str, *, only_changed: bool) -> None:
        """Build the whole export (or only units changed since the last one) and deliver it."""
        from exports.build import build_export  # heavy imports only when an export is asked for

        deliverer: Deliverer | None = self.service.deliverers.get(channel)
        service = self.service
        now = service.clock()
        try:
            async with service.db.transaction() as s:
                campaign = await q.current_campaign(s)
                since = await q.last_audit_at(s, "export") if only_changed else None
            data = await load_export_data(service.db, service.form, now=now, campaign_id=campaign.id)
            if since is not None:
                data.units[:] = [u for u in data.units if u.last_activity_at and u.last_activity_at > since]
                if not data.units:
                    await self._say(deliverer, chat_id, user_id, texts.EXPORT_NOTHING_NEW.format(at=format_datetime(since)))
                    return
            loop = asyncio.get_running_loop()
            last = [-PROGRESS_EVERY]  # monotonic time of the last progress message; the first goes out at once

            def progress(step: str, done: int, total: int) -> None:
                # Called from the worker thread after each unit: a message every PROGRESS_EVERY seconds, and at
                # the end of each of the few steps, so the count moves however fast the export is.
                now_t = time.monotonic()
                finished = done >= total > 0
                if deliverer is None or (not finished and now_t - last[0] < PROGRESS_EVERY):
                    return
                last[0] = now_t
                text = texts.EXPORT_PROGRESS.format(done=done, total=total, step=texts.EXPORT_STEPS.get(step, step))
                asyncio.run_coroutine_threadsafe(deliverer.progress(chat_id, user_id, text), loop)

            result = await asyncio.to_thread(build_export, data, self.export_dir, campaign_id=campaign.id,
                                             progress=progress)
            async with service.db.transaction() as s:
                await q.add_audit(s, at=now, action="export", new={"folder": result.folder.name,
                                                                    "units": len(data.units)})
            if deliverer is not None:
                text = texts.EXPORT_READY.format(count=len(data.units))
                await deliverer.deliver_files(chat_id, user_id, text, [result.zip_path])
        except Exception:  # the admin must hear about it, whatever it was
            log.exception("export failed")
            await self._say(deliverer, chat_id, user_id, texts.EXPORT_FAILED)

    async def unit_document(self, channel: str, chat_id: str, user_id: str, unit_code: str) -> None:
        """A unit contact's own report as a .docx, as it stands now."""
        from exports.document import build_unit_document

        deliverer: Deliverer | None = self.service.deliverers.get(channel)
        service = self.service
        try:
            data = await load_export_data(service.db, service.form, now=service.clock(), unit_codes=[unit_code],
                                          submitted_versions=False)
            unit = data.units[0]
            folder = self.export_dir / "don-vi"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / texts.DOC_FILE.format(code=unit.code)
            await asyncio.to_thread(build_unit_document, data, unit, path)
            if deliverer is not None:
                await deliverer.deliver_files(chat_id, user_id, texts.UNIT_DOCUMENT_READY.format(unit=unit.name), [path])
        except Exception:
            log.exception("unit document failed")
            await self._say(deliverer, chat_id, user_id, texts.EXPORT_FAILED)

    @staticmethod
    async def _say(deliverer: Deliverer | None, chat_id: str, user_id: str, text: str) -> None:
        if deliverer is not None:
            await deliverer.deliver_files(chat_id, user_id, text, [])
