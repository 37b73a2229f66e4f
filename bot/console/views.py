"""The console's pages and actions: sign-in, the board, a unit's page, review, reminders, exports.

Every page and action reads or changes state through the functions the chat and the CLI use (bot/board.py,
bot/review.py, bot/reminders/, bot/export_jobs.py); this module only turns requests into those calls and their
results into pages. The words are in conversations/texts.py (WEB_*), passed to the templates as `t`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web
from yarl import URL

from bot.board import STATES, load_board, select_rows
from bot.bootstrap import setup_steps
from bot.console import answer_history, auth
from bot.console.campaign_edit import faceless_names
from bot.console.report_view import report_sections, version_rows
from bot.reminders.messages import time_left
from bot.reminders.plan import PlanError, parse_deadline
from bot.reminders.scheduler import queue_now
from bot.review import (ReviewError, Stale, UnitNotInCampaign, accept, campaign_unit, deadline_of, extend_deadline,
                        reopen, return_report, seen_of, state_of)
from conversations import texts
from conversations.answers import format_datetime
from conversations.versions import changed_count, diff_versions
from exports.private_files import private_folder
from storage import queries as q
from storage.models import AuditLog, Contact, Photo, ReportVersion

log = logging.getLogger(__name__)
EXPORT_FOLDER = re.compile(r"^tong-hop_[0-9]+_[0-9]{8}-[0-9]{6}(?:-[0-9]+)?$")
EXPORTS_SHOWN = 5
PAGE_SIZE = 500  # board rows per page: a province's units fit one page; 3,000 communes take six
HISTORY_PARAM = "lich-su"
REVIEW_ACTIONS = ("review_accept", "review_return", "review_reopen", "deadline_unit")


class WebExports:
    """The console's export "channel": the progress and result of the export started from the console."""

    name = "web"

    def __init__(self) -> None:
        self.running = False
        self.progress_text: str | None = None
        self.result_text: str | None = None

    async def progress(self, chat_id: str, user_id: str, text: str) -> None:
        self.progress_text = text

    async def deliver_files(self, chat_id: str, user_id: str, text: str, files: list[Path]) -> None:
        self.running, self.result_text = False, text


class Console:
    """The handlers, around the running service."""

    def __init__(self, service, *, secure_cookie: bool):
        self.service, self.db = service, service.db
        self.secure_cookie = secure_cookie
        self.exports = WebExports()
        service.deliverers.setdefault("web", self.exports)

    # -- helpers -----------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.service.clock()

    async def _page(self, request: web.Request, template: str, context: dict[str, Any], *,
                    status: int = 200) -> web.Response:
        session = await auth.get_session(request)
        live = bool(request.headers.get("X-Live"))
        flash = session.pop("flash", None) if not live else None
        campaigns, chosen = [], None
        if request.get(auth.OFFICER) is not None and not live:  # the campaign menu, on full pages only
            async with self.db.sessionmaker() as s:
                campaigns = await q.list_campaigns(s)
                chosen = context.get("campaign") or context.get("board") and context["board"].campaign
                if not chosen and campaigns:
                    chosen = await self._campaign(s, request)
        context = {"t": texts, "fmt": _fmt, "csrf": await auth.csrf_token(request), "request": request,
                   "flash": flash, "campaigns": campaigns, "chosen_campaign": chosen,
                   "officer": request.get(auth.OFFICER), **context}
        response = aiohttp_jinja2.render_template(template, request, context, status=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def _campaign(self, s, request: web.Request):
        """The campaign the officer chose in the console (the menu at the top), else the newest open one."""
        chosen = (await auth.get_session(request)).get("campaign_id")
        campaign = await q.get_campaign(s, chosen) if isinstance(chosen, int) else None
        campaign = campaign or await q.current_campaign(s)
        if campaign is None:
            raise web.HTTPSeeOther("/console/")  # no campaign yet: the board says what to do next
        return campaign

    async def choose_campaign(self, request: web.Request) -> web.Response:
        """The campaign menu: every page from now on shows this campaign."""
        wanted = str((await request.post()).get("campaign") or "")
        async with self.db.sessionmaker() as s:
            campaign = await q.get_campaign(s, int(wanted)) if re.fullmatch(r"[0-9]{1,9}", wanted) else None
        if campaign is None:
            await self._back(request, "/console/", texts.ADMIN_CAMPAIGN_UNKNOWN.format(id=wanted[:12]), error=True)
        (await auth.get_session(request))["campaign_id"] = campaign.id
        raise web.HTTPSeeOther("/console/")

    async def _back(self, request: web.Request, default: str, message: str, *, error: bool = False) -> None:
        """Back to the page the action came from, which then shows `message` once."""
        origin = str(request.url.origin())
        back = str((await request.post()).get("back") or "") if request.method == "POST" else ""
        target = origin + back if re.fullmatch(r"/console/[^\\\s]*", back) and "//" not in back else \
            request.headers.get("Referer") or default  # the page's own field: no Referer is sent (no-referrer)
        if not target.startswith(origin + "/console"):
            target = default
        session = await auth.get_session(request)
        session["flash"] = ["err" if error else "ok", message]
        raise web.HTTPSeeOther(target.removeprefix(origin))

    # -- sign-in -----------------------------------------------------------------------------------

    async def signin_page(self, request: web.Request) -> web.Response:
        return await self._page(request, "signin.html", {}, status=401)

    async def login_page(self, request: web.Request) -> web.Response:
        async with self.db.sessionmaker() as s:
            login = await auth.find_login(s, request.match_info["token"])
        problem = _login_problem(login, self.now())
        if problem:
            return await self._page(request, "signin.html", {"problem": problem}, status=410)
        return await self._page(request, "login.html", {"officer": login.officer})

    async def login(self, request: web.Request) -> web.Response:
        now = self.now()
        own = {str(request.url.origin())}
        if self.service.console_url:
            own.add(str(URL(self.service.console_url).origin()))
        if auth.cross_site(request, own):  # the button is pressed on our page, never from another site
            return web.Response(status=403, text=texts.WEB_CSRF, content_type="text/plain", charset="utf-8")
        async with self.db.transaction() as s:
            login = await auth.redeem_login(s, request.match_info["token"], now)
            if login is None:
                problem = _login_problem(await auth.find_login(s, request.match_info["token"]), now)
            else:
                await q.add_audit(s, at=now, action="web_sign_in", contact_id=login.contact_id,
                                  new={"officer": login.officer})
        if login is None:
            return await self._page(request, "signin.html", {"problem": problem}, status=410)
        await auth.start_session(request, login)
        raise web.HTTPSeeOther("/console/")

    async def logout(self, request: web.Request) -> web.Response:
        await auth.revoke(request, self.db, self.now())
        officer = request[auth.OFFICER]
        async with self.db.transaction() as s:
            await q.add_audit(s, at=self.now(), action="web_sign_out", contact_id=officer.contact_id,
                              new={"officer": officer.name})
        raise web.HTTPSeeOther("/console/")

    # -- the board ---------------------------------------------------------------------------------

    def _board_query(self, request: web.Request) -> dict[str, Any]:
        state = request.query.get("state")
        sort = request.query.get("sort", "code")
        page = request.query.get("trang", "1")
        return {"state": state if state in STATES or state == "overdue" else None,
                "sort": sort, "desc": request.query.get("dir") == "desc",
                "page": int(page) if re.fullmatch(r"[0-9]{1,5}", page) else 1}

    async def _board_context(self, request: web.Request) -> dict[str, Any]:
        now = self.now()
        async with self.db.sessionmaker() as s:
            campaign = await self._campaign(s, request)
            board = await load_board(s, campaign, self.service.form_for(campaign), now)
        params = self._board_query(request)
        rows = select_rows(board, state=None if params["state"] == "overdue" else params["state"],
                           sort=params["sort"], descending=params["desc"], overdue=params["state"] == "overdue")
        pages = max(1, -(-len(rows) // PAGE_SIZE))
        page = min(params["page"], pages)
        shown = rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
        return {"board": board, "rows": shown, "params": params, "states": STATES, "now": now,
                "page": page, "pages": pages, "matching": len(rows), "first": (page - 1) * PAGE_SIZE + 1,
                "page_link": lambda n: _page_link(params, n),
                "time_left": time_left(campaign.deadline_at, now), "query": request.query_string,
                "overdue": sum(1 for r in board.rows if r.overdue),
                "sort_link": lambda column: _sort_link(params, column)}

    async def board(self, request: web.Request) -> web.Response:
        async with self.db.sessionmaker() as s:
            steps = await setup_steps(s)
        if steps is not None:  # a new installation: what to do next instead of an empty board
            return await self._page(request, "board.html", {"setup_steps": steps})
        return await self._page(request, "board.html", await self._board_context(request))

    async def board_live(self, request: web.Request) -> web.Response:
        return await self._page(request, "board_live.html", await self._board_context(request))

    async def remind(self, request: web.Request) -> web.Response:
        """"Nhắc ngay": one unit (the button of its row), or every unit not submitted."""
        code = str((await request.post()).get("unit") or "")
        officer = request[auth.OFFICER]
        try:
            async with self.db.transaction() as s:
                campaign = await self._campaign(s, request)
                unit = await _unit_or_404(s, campaign, code) if code else None
                fired = await queue_now(s, campaign, self.now(), unit_ids={unit.id} if unit else None,
                                        officer=officer.name)
        except (PlanError, ReviewError) as exc:
            await self._back(request, "/console/", str(exc), error=True)
        self.service.wake_reminders.set()
        if unit is not None:
            await self._back(request, "/console/", texts.WEB_REMINDED_UNIT.format(unit=unit.name,
                                                                                    contacts=fired.contacts))
        await self._back(request, "/console/", texts.REMIND_QUEUED.format(contacts=fired.contacts, units=fired.units))

    # -- a unit's page -----------------------------------------------------------------------------

    async def unit_page(self, request: web.Request, *, stale: str | None = None, comment: str = "",
                        status: int = 200) -> web.Response:
        """A unit's page; after a stale action, the current state with what happened and the officer's comment
        (rendered in the answer to the POST: a comment does not fit the session cookie)."""
        code = request.match_info["code"]
        now = self.now()
        async with self.db.sessionmaker() as s:
            campaign = await self._campaign(s, request)
            unit = await _unit_or_404(s, campaign, code)
            report = await s.scalar(sa.select(q.Report).where(q.Report.campaign_id == campaign.id,
                                                              q.Report.unit_id == unit.id))
            versions = await q.list_report_versions(s, report.id) if report else []
            draft = await q.load_answers(s, report.id) if report else {}
            contacts = await q.list_contacts(s, unit_id=unit.id, role="unit")
            submitters = {c.id: c for c in await s.scalars(
                sa.select(Contact).where(Contact.id.in_({v.submitted_by for v in versions if v.submitted_by})))}
            history = list(await s.scalars(sa.select(AuditLog).where(
                AuditLog.report_id == report.id, AuditLog.action.in_(REVIEW_ACTIONS)).order_by(AuditLog.id))) \
                if report else []
            rows = await answer_history.load_rows(s, report.id) if report else []
            answered = (await s.execute(  # who answered through which channel (chat, or the web page: via="web")
                sa.select(Contact.display_name, Contact.channel, AuditLog.via, sa.func.count(),
                          sa.func.max(AuditLog.at))
                .outerjoin(Contact, Contact.id == AuditLog.contact_id)
                .where(AuditLog.report_id == report.id, AuditLog.action.in_(("set", "delete")))
                .group_by(Contact.display_name, Contact.channel, AuditLog.via).order_by(sa.func.max(AuditLog.at))
            )).all() if report else []
            form = self.service.form_for(campaign)
            board = await load_board(s, campaign, form, now, unit_id=unit.id)
            seen = await seen_of(s, report)
        row = board.rows[0] if board.rows else None
        shown, label = self._shown_version(request, versions, draft)
        diff = self._diff(request, versions, form, rows)
        changes = answer_history.build(form, rows, {v.submitted_at: v.version for v in versions})
        limit = _history_limit(request)
        returned = {h.new.get("version") for h in history if h.action == "review_return" and h.new}
        return await self._page(request, "unit.html", {
            "campaign": campaign, "unit": unit, "report": report, "row": row, "state": state_of(report),
            "deadline": deadline_of(campaign, report), "campaign_deadline": campaign.deadline_at,
            "sections": report_sections(form, shown), "shown_label": label,
            "versions": version_rows(versions, submitters, returned,
                                     {r.at: r.via for r in rows if r.action == "submit"}), "diff": diff,
            "draft_differs": bool(versions) and versions[-1].answers != draft,
            "contacts": contacts, "history": history, "answered": answered, "now": now,
            "changes": changes[:limit], "changes_total": len(changes),
            "changes_more": _with_query(request, unit.code, **{HISTORY_PARAM: limit + answer_history.PAGE}) + "#answer-history"
            if len(changes) > limit else None, "fmt_time": answer_history.format_time,
            "reporter": _reporter(form, shown),
            "seen": str(seen), "kept_comment": comment, **({"flash": ["err", stale]} if stale else {}),
            "faceless": await faceless_names(self, campaign, unit.code)},
            status=status)

    def _shown_version(self, request: web.Request, versions: list[ReportVersion], draft: dict) -> tuple[dict, str]:
        wanted = request.query.get("ban")
        if wanted == "nhap" or not versions:
            return draft, texts.WEB_SHOWING_DRAFT
        chosen = next((v for v in versions if str(v.version) == wanted), versions[-1])
        return chosen.answers, texts.WEB_SHOWING_VERSION.format(n=chosen.version,
                                                                  at=format_datetime(chosen.submitted_at))

    def _diff(self, request: web.Request, versions: list[ReportVersion], form,
              rows: list[answer_history.Row]) -> dict | None:
        if len(versions) < 2:
            return None
        by_number = {str(v.version): v for v in versions}
        new = by_number.get(request.query.get("b", ""), versions[-1])
        older = [v for v in versions if v.version < new.version]
        old = by_number.get(request.query.get("a", "")) or (older[-1] if older else None)
        if old is None or old.version == new.version:
            return None
        changes = diff_versions(form, old.answers, new.answers)
        via = answer_history.last_change_by_key(rows, old.submitted_at, new.submitted_at)  # the channel of each change
        return {"old": old, "new": new, "changes": changes, "count": changed_count(changes), "via": via}

    async def _review(self, request: web.Request, action) -> web.Response:
        """A review action from the unit's page, with the page's token (`seen`): on a report changed since, nothing
        changes and the page, reloaded on the current state, says what happened (and keeps a return's comment)."""
        code = request.match_info["code"]
        form = await request.post()
        back = f"/console/don-vi/{code}"
        try:
            async with self.db.transaction() as s:
                campaign = await self._campaign(s, request)
                await _unit_or_404(s, campaign, code)
                message = await action(s, campaign, code, form, request[auth.OFFICER], self.now(),
                                       str(form.get("seen", "")))
        except Stale as exc:  # 409: the page as it is now, saying why nothing changed
            return await self.unit_page(request, stale=str(exc), comment=str(form.get("comment", ""))[:2000],
                                        status=409)
        except (ReviewError, PlanError) as exc:
            await self._back(request, back, str(exc), error=True)
        self.service.wake_reminders.set()
        await self._back(request, back, message)

    async def accept(self, request: web.Request) -> web.Response:
        return await self._review(request, lambda s, c, code, f, o, now, seen:
                                  accept(s, c, code, o, now, expect=seen))

    async def return_(self, request: web.Request) -> web.Response:
        return await self._review(request, lambda s, c, code, f, o, now, seen:
                                  return_report(s, c, code, str(f.get("comment", "")), o, now, expect=seen))

    async def reopen(self, request: web.Request) -> web.Response:
        return await self._review(request, lambda s, c, code, f, o, now, seen:
                                  reopen(s, c, code, o, now, expect=seen))

    async def extend(self, request: web.Request) -> web.Response:
        async def action(s, campaign, code, form, officer, now, seen):
            raw = str(form.get("deadline", "")).strip()
            deadline = None if form.get("clear") else parse_deadline(raw, texts.WEB_DEADLINE_INVALID)
            return await extend_deadline(s, campaign, code, deadline, officer, now, expect=seen)
        return await self._review(request, action)

    async def photo(self, request: web.Request) -> web.StreamResponse:
        photo_id = request.match_info["photo_id"]
        if not re.fullmatch(r"[0-9]{1,12}", photo_id):  # ASCII digits only: str.isdigit() takes "²" too
            raise web.HTTPNotFound()
        async with self.db.sessionmaker() as s:
            photo = await s.get(Photo, int(photo_id))
        path = Path(photo.processed_path) if photo is not None else None
        if path is None or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "private, max-age=3600",
                                               "Content-Type": "image/jpeg"})

    async def unit_document(self, request: web.Request) -> web.StreamResponse:
        from exports.data import load_export_data
        from exports.document import build_unit_document, has_document

        code = request.match_info["code"]
        async with self.db.sessionmaker() as s:
            campaign = await self._campaign(s, request)
            unit = await _unit_or_404(s, campaign, code)
        data = await load_export_data(self.db, self.service.form_for(campaign), now=self.now(),
                                      unit_codes=[unit.code], campaign_id=campaign.id,
                                      province=self.service.province)
        if not data.units:  # a unit no longer active is not part of the campaign's exports
            raise web.HTTPNotFound(text=texts.REVIEW_NO_UNIT.format(code=code[:32]))
        if not has_document(data.units[0]):  # never started: no document, as in the export
            raise web.HTTPNotFound(text=texts.WEB_NO_DOCUMENT)
        folder = private_folder(self.service.jobs.export_dir / "web")
        path = folder / f".{secrets.token_hex(8)}.docx"
        await asyncio.to_thread(build_unit_document, data, data.units[0], path)
        body = await asyncio.to_thread(path.read_bytes)
        path.unlink(missing_ok=True)
        officer = request[auth.OFFICER]
        async with self.db.transaction() as s:
            await q.add_audit(s, at=self.now(), action="web_unit_document", contact_id=officer.contact_id,
                              new={"officer": officer.name, "unit": unit.code})
        name = texts.DOC_FILE.format(code=unit.code)
        return web.Response(body=body, headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
            "Content-Type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"})

    # -- exports -----------------------------------------------------------------------------------

    def _last_exports(self) -> list[dict]:
        root = self.service.jobs.export_dir
        folders = sorted((p for p in root.glob("tong-hop_*") if p.is_dir() and EXPORT_FOLDER.match(p.name)),
                         key=lambda p: p.name, reverse=True)[:EXPORTS_SHOWN] if root.is_dir() else []
        out = []
        for folder in folders:
            files = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
            archive = folder.with_name(folder.name + ".zip")
            out.append({"name": folder.name, "files": files, "zip": archive.name if archive.is_file() else None,
                        "at": datetime.fromtimestamp(folder.stat().st_mtime).astimezone()})
        return out

    async def export_page(self, request: web.Request) -> web.Response:
        return await self._page(request, "exports.html", {"exports": self._last_exports(), "job": self.exports})

    async def export_live(self, request: web.Request) -> web.Response:
        return await self._page(request, "exports_live.html", {"exports": self._last_exports(), "job": self.exports})

    async def export_start(self, request: web.Request) -> web.Response:
        if self.exports.running:
            await self._back(request, "/console/xuat", texts.WEB_EXPORT_RUNNING, error=True)
        officer = request[auth.OFFICER]
        self.exports.running, self.exports.progress_text, self.exports.result_text = True, texts.EXPORT_STARTED, None
        async with self.db.transaction() as s:
            campaign = await self._campaign(s, request)
            await q.add_audit(s, at=self.now(), action="web_export", contact_id=officer.contact_id,
                              new={"officer": officer.name, "campaign": campaign.id})
        self.service.jobs.spawn(self.service.jobs.export("web", "console", "console", only_changed=False,
                                                         campaign_id=campaign.id))
        raise web.HTTPSeeOther("/console/xuat")

    async def export_file(self, request: web.Request) -> web.StreamResponse:
        folder, name = request.match_info["folder"], request.match_info["name"]
        root = self.service.jobs.export_dir.resolve()
        if folder == "-":
            target = (root / name).resolve()  # the zip beside its folder
            valid = name.endswith(".zip") and EXPORT_FOLDER.match(name.removesuffix(".zip"))
        else:
            target = (root / folder / name).resolve()
            valid = EXPORT_FOLDER.match(folder) and not name.startswith(".")
        if not valid or not target.is_relative_to(root) or not target.is_file():
            raise web.HTTPNotFound(text=texts.LINK_EXPIRED)
        return web.FileResponse(target, headers={"Content-Disposition": f'attachment; filename="{target.name}"',
                                                 "Cache-Control": "no-store"})


async def _unit_or_404(s, campaign, code: str):
    """The unit of the page or action, when the chosen campaign asks it; 404 for any other code."""
    try:
        return await campaign_unit(s, campaign, code)
    except UnitNotInCampaign as exc:
        raise web.HTTPNotFound(text=str(exc)) from None


def _login_problem(login, now: datetime) -> str | None:
    if login is None:
        return texts.WEB_LINK_UNKNOWN
    if login.used_at is not None:
        return texts.WEB_LINK_USED.format(at=format_datetime(login.used_at))
    if login.expires_at <= now:
        return texts.WEB_LINK_EXPIRED.format(at=format_datetime(login.expires_at))
    return None


def _page_link(params: dict[str, Any], page: int) -> str:
    query = {"sort": params["sort"], "dir": "desc" if params["desc"] else "asc", "trang": page}
    if params["state"]:
        query["state"] = params["state"]
    return "?" + urlencode(query)


def _sort_link(params: dict[str, Any], column: str) -> str:
    descending = params["sort"] == column and not params["desc"]
    query = {"sort": column, "dir": "desc" if descending else "asc"}
    if params["state"]:
        query["state"] = params["state"]
    return "?" + urlencode(query)


def _history_limit(request: web.Request) -> int:
    """How many lines of the answers' history to show (?lich-su=100 after "xem thêm")."""
    wanted = request.query.get(HISTORY_PARAM, "")
    return min(int(wanted), 100_000) if re.fullmatch(r"[0-9]{1,6}", wanted) and int(wanted) > 0 \
        else answer_history.PAGE


def _with_query(request: web.Request, code: str, **changed: Any) -> str:
    """The unit page's address with some query parameters changed (the others kept: the version shown, the diff);
    the page itself, also when it answers a review form's POST (a stale action shows the page)."""
    return str(URL(f"/console/don-vi/{code}").with_query({**request.rel_url.query, **changed}))


def _fmt(value: datetime | None) -> str:
    return format_datetime(value) if value is not None else ""


def _reporter(form, answers: dict) -> dict | None:
    """The reporter's name and phone, when the form has a "reporter" section."""
    try:
        section = form.section("reporter")
    except KeyError:
        return None
    values = {q.key: answers.get(f"reporter.{q.key}") for q in section.questions}
    phone = next((answers.get(f"reporter.{q.key}") for q in section.questions if q.type == "phone"), None)
    name = next((answers.get(f"reporter.{q.key}") for q in section.questions if q.type in ("name", "text")), None)
    if not any(values.values()):
        return None
    from conversations.parsers import format_phone
    return {"name": name, "phone": format_phone(phone) if phone else None}
