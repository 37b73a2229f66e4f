"""Exports asked for in the chat: built in a worker thread while the bot keeps answering everyone else.

A channel that can deliver files registers itself in `Service.deliverers`: Telegram sends documents, Zalo
(which cannot send files) sends an expiring download link served by our own web server.

Each request has a locked marker in `<exports>/.jobs/` from the moment it is asked for until its files are
delivered. A killed bot leaves the marker and a half-built `.partial` export folder; recover(), at the next
start, removes what was left and tells the person who asked that it failed and can be asked for again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Protocol

from conversations import texts
from conversations.answers import format_datetime
from exports.data import load_export_data
from exports.private_files import HeldMarker, claim_abandoned, private_folder, remove_unfinished_exports
from storage import queries as q

log = logging.getLogger(__name__)
PROGRESS_EVERY = 2.0  # seconds between progress messages within a step
JOBS_DIR = ".jobs"  # under the export folder: one locked marker per request being served
UNIT_DOCUMENTS_DIR = "don-vi"



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

    async def export(self, channel: str, chat_id: str, user_id: str, *, only_changed: bool,
                     campaign_id: int | None = None) -> None:
        """Build the whole export of the campaign (default: the current one), or only the units changed since its
        last export, with the campaign's own form, and deliver it."""
        from exports.build import build_export  # heavy imports only when an export is asked for

        deliverer: Deliverer | None = self.service.deliverers.get(channel)
        service = self.service
        now = service.clock()
        job = None
        try:
            job = self._started("export_new" if only_changed else "export", channel, chat_id, user_id, now)
            async with service.db.transaction() as s:
                campaign = await (q.get_campaign(s, campaign_id) if campaign_id else q.current_campaign(s))
                since = await q.last_audit_at(s, "export", campaign.id) if only_changed else None
            data = await load_export_data(service.db, service.form_for(campaign), now=now, campaign_id=campaign.id,
                                          province=service.province)
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
                                                                    "units": len(data.units),
                                                                    "campaign": campaign.id})
            log.info("export done: campaign %s, %s units, %s (asked on %s)", campaign.id, len(data.units),
                     result.folder.name, channel)
            if deliverer is not None:
                text = "\n".join([texts.EXPORT_READY.format(count=len(data.units)), *result.notes])
                # The consolidated report on its own (to read on the phone at once), then everything in the zip.
                files = [p for p in (result.report_for_reading(), result.zip_path) if p is not None]
                await deliverer.deliver_files(chat_id, user_id, text, files)
        except Exception:  # the admin must hear about it, whatever it was
            log.exception("export failed")
            await self._say(deliverer, chat_id, user_id, texts.EXPORT_FAILED)
        except BaseException:  # cancelled: the next start tells the admin
            if job is not None:
                job.abandon()
            raise
        finally:
            if job is not None:
                job.release()  # nothing left to do after abandon()

    async def unit_document(self, channel: str, chat_id: str, user_id: str, unit_code: str,
                            campaign_id: int | None = None) -> None:
        """A unit contact's own report (of this campaign; default: the current one) as a .docx, as it stands."""
        from exports.document import build_unit_document

        deliverer: Deliverer | None = self.service.deliverers.get(channel)
        service = self.service
        now = service.clock()
        job = None
        try:
            async with service.db.transaction() as s:
                campaign = await (q.get_campaign(s, campaign_id) if campaign_id else q.current_campaign(s))
            # One folder per campaign: two contacts of a unit asking for two campaigns' documents never share a file.
            folder = private_folder(self.export_dir / UNIT_DOCUMENTS_DIR / str(campaign.id))
            path = folder / texts.DOC_FILE.format(code=unit_code)
            token = secrets.token_hex(8)
            partial = path.with_name(f".{path.name}.{token}.part")  # removed by recover() if we are killed
            job = self._started("document", channel, chat_id, user_id, now, token=token, paths=[partial])
            data = await load_export_data(service.db, service.form_for(campaign), now=now, unit_codes=[unit_code],
                                          campaign_id=campaign.id, submitted_versions=False,
                                          province=service.province)
            unit = data.units[0]
            await asyncio.to_thread(build_unit_document, data, unit, path, partial=partial)
            if deliverer is not None:
                await deliverer.deliver_files(chat_id, user_id, texts.UNIT_DOCUMENT_READY.format(unit=unit.name), [path])
        except Exception:
            log.exception("unit document failed")
            await self._say(deliverer, chat_id, user_id, texts.EXPORT_FAILED)
        except BaseException:  # cancelled: the next start tells the contact
            if job is not None:
                job.abandon()
            raise
        finally:
            if job is not None:
                job.release()

    def _started(self, kind: str, channel: str, chat_id: str, user_id: str, asked_at: datetime, *,
                 token: str | None = None, paths: tuple[Path, ...] | list[Path] = ()) -> HeldMarker:
        """The marker of a request being served: who asked, when, and the files it leaves if killed."""
        folder = private_folder(self.export_dir / JOBS_DIR)
        return HeldMarker(folder / f"{token or secrets.token_hex(8)}.json", {
            "kind": kind, "channel": channel, "chat_id": chat_id, "user_id": user_id,
            "asked_at": asked_at.isoformat(),
            "paths": [p.relative_to(self.export_dir).as_posix() for p in paths]})

    async def recover(self) -> int:
        """At start, once the channels run: remove what killed exports left and tell who asked; how many told.

        Requests another live worker is still serving (their markers are locked) are left alone.
        """
        try:
            for removed in await asyncio.to_thread(remove_unfinished_exports, self.export_dir):
                log.warning("removed the unfinished export %s", removed.name)
        except OSError:  # the bot must start all the same
            log.exception("could not remove unfinished exports")
        folder = self.export_dir / JOBS_DIR
        for temp in folder.glob(".*.tmp"):  # a marker killed before it took its name (claimed means removed)
            claim_abandoned(temp)
        told = 0
        for marker in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                job = claim_abandoned(marker)
                if job is None:
                    continue
                self._remove_leftovers(job.get("paths") or [])
                text, asked_at = self._interrupted_text(job)
                log.warning("a %s asked at %s was interrupted: telling the person", job.get("kind"), asked_at)
                deliverer: Deliverer | None = self.service.deliverers.get(job["channel"])
                if deliverer is not None:
                    await deliverer.deliver_files(str(job["chat_id"]), str(job["user_id"]), text, [])
                    told += 1
                else:
                    log.warning("the %s channel is not running: the person was not told", job["channel"])
            except Exception:  # one bad marker or one failed send must not stop the others, nor the start
                log.exception("could not tell about an interrupted export")
        return told

    def _remove_leftovers(self, paths: list) -> None:
        root = self.export_dir.resolve()
        for relative in paths:
            target = (root / str(relative)).resolve()
            if target == root or not target.is_relative_to(root):
                continue
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)

    @staticmethod
    def _interrupted_text(job: dict) -> tuple[str, str]:
        at = format_datetime(datetime.fromisoformat(job["asked_at"]))
        if job.get("kind") == "document":
            return texts.UNIT_DOCUMENT_INTERRUPTED.format(at=at, command=texts.UNIT_DOCUMENT_WORDS[0]), at
        words = texts.ADMIN_COMMAND_WORDS["export_new" if job.get("kind") == "export_new" else "export"]
        return texts.EXPORT_INTERRUPTED.format(at=at, command=words[0]), at

    @staticmethod
    async def _say(deliverer: Deliverer | None, chat_id: str, user_id: str, text: str) -> None:
        if deliverer is not None:
            await deliverer.deliver_files(chat_id, user_id, text, [])
