"""The page's handlers: open a link, show the report, save fields (JSON for the script, a section's form without
it), delete an item, submit, show a photo of the report."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import jinja2
import sqlalchemy as sa
from aiohttp import web
from yarl import URL

from bot.console.auth import cross_site
from bot.photos import MAX_BYTES
from bot.webform import access, page, save
from bot.webform.access import Person
from conversations import fields, texts
from storage import queries as q
from storage.models import Photo, Report

HERE = Path(__file__).parent
PERSON = web.RequestKey("webform_person", Person)
MAX_FIELD = 20_000  # a text field's bytes; more is not an answer
MAX_FIELDS = 400


class WebForm:
    def __init__(self, service, sessions: access.Sessions, now: Callable[[], datetime]):
        self.service, self.sessions, self.now = service, sessions, now
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)

    def render(self, name: str, context: dict, status: int = 200) -> web.Response:
        html = self.env.get_template(name).render(t=texts, **context)
        return web.Response(text=html, content_type="text/html", charset="utf-8", status=status,
                            headers={"Cache-Control": "no-store"})

    def gone(self, message: str, status: int = 410) -> web.Response:
        return self.render("gone.html", {"message": message}, status=status)

    # -- the link ----------------------------------------------------------------------------------------------

    async def open_page(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        async with self.service.db.sessionmaker() as s:
            link = await access.find_link(s, token)
        person = await self.sessions.person(request, self.service.db)
        if link is not None and person is not None and person.link_id == link.id:
            raise web.HTTPSeeOther("/web/bao-cao")  # the same link again in the same browser: straight in
        if not access.usable(link, self.now()):
            return self.gone(texts.WEB_LINK_GONE)
        return self.render("open.html", {})

    async def open(self, request: web.Request) -> web.Response:
        own = {str(request.url.origin())}
        if self.service.console_url:
            own.add(str(URL(self.service.console_url).origin()))
        if cross_site(request, own):
            return web.Response(status=403, text=texts.WEB_CSRF, content_type="text/plain", charset="utf-8")
        now = self.now()
        async with self.service.db.transaction() as s:
            link = await access.redeem(s, request.match_info["token"], now)
            if link is not None:
                await q.add_audit(s, at=now, action="web_form_open", contact_id=link.contact_id)
        if link is None:
            return self.gone(texts.WEB_LINK_GONE)
        response = web.Response(status=303, headers={"Location": "/web/bao-cao"})
        await self.sessions.start(request, response, link)
        return response

    # -- the report ----------------------------------------------------------------------------------------------

    async def show(self, request: web.Request, loaded: save.Loaded | None = None, *, typed=None,
                   status: int = 200, submit: bool = False) -> web.Response:
        person = request[PERSON]
        if loaded is None:
            loaded = await save.run(self.service, person, self.now())
        if loaded.failed:
            return self.gone(texts.SAVE_FAILED, status=503)
        adding = request.query.get("them")
        context = page.build(loaded.form, loaded.state.answers, loaded.state.report, self.now(), adding=adding,
                             typed=typed, errors=loaded.result.errors, notes=loaded.result.notes)
        message, refused = page.outcome(loaded.form, loaded.state.answers, loaded.state.report, loaded.result,
                                        self.now(), submit=submit)
        context.update(csrf=person.csrf, message=message, scope=f"{person.campaign_id}-{person.unit_id}")
        if refused is not None:
            context["summary"] = refused
        return self.render("form.html", context, status=status)

    async def save_fields(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        values, files = body
        saves = [(path, value) for path, value in values.items() if fields.path_parts(path)]
        photos = [(path, data) for path, data in files if fields.path_parts(path)]
        loaded = await save.run(self.service, request[PERSON], self.now(), saves=saves, photos=photos)
        typed = {save.new_item_path(path, loaded.result): value for path, value in saves}
        return await self._answer(request, loaded, typed=typed)

    async def delete_item(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        section, item = body[0].get("section"), body[0].get("item")
        if not isinstance(section, str) or not isinstance(item, str) or not item.isdigit() or len(item) > 6:
            raise web.HTTPBadRequest(text=texts.WEB_NO_SUCH_FIELD)
        loaded = await save.run(self.service, request[PERSON], self.now(), delete=(section, int(item)))
        return await self._answer(request, loaded)

    async def submit(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        loaded = await save.run(self.service, request[PERSON], self.now(), submit=True)
        return await self._answer(request, loaded, submit=True)

    async def _answer(self, request: web.Request, loaded: save.Loaded, typed=None, *,
                      submit: bool = False) -> web.Response:
        if loaded.failed:
            return web.json_response({"message": texts.SAVE_FAILED}, status=503) if _wants_json(request) \
                else self.gone(texts.SAVE_FAILED, status=503)
        result = loaded.result
        message, refused = page.outcome(loaded.form, loaded.state.answers, loaded.state.report, result, self.now(),
                                        submit=submit)
        if _wants_json(request):
            if refused is not None:
                message = "\n".join([refused["title"], *(f"- {i['text']}" for i in refused["items"])])
            return web.json_response({"errors": result.errors, "notes": result.notes, "saved": result.saved,
                                      "message": message, "submitted": result.submitted,
                                      **page.live(loaded.form, loaded.state.answers, result.saved)},
                                     status=422 if result.errors else 200,
                                     dumps=lambda v: json.dumps(v, ensure_ascii=False))
        if result.errors or result.notes or message or refused:  # else the page as it is now, by a redirect
            return await self.show(request, loaded, typed=typed, status=422 if result.errors else 200,
                                   submit=submit)
        raise web.HTTPSeeOther("/web/bao-cao")

    async def _body(self, request: web.Request) -> tuple[dict[str, Any], list[tuple[str, bytes | None]]] | web.Response:
        """The fields and files sent (multipart or urlencoded), read with our own limits; a 403 without the CSRF
        token of the session."""
        values: dict[str, Any] = {}
        files: list[tuple[str, bytes | None]] = []
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            count = 0
            while (part := await reader.next()) is not None:
                count += 1
                if count > MAX_FIELDS or not part.name:
                    raise web.HTTPRequestEntityTooLarge(max_size=MAX_FIELDS, actual_size=count)
                if part.filename is not None:
                    data = await _read_limited(part, MAX_BYTES)
                    if data is None or data:  # None: too large, said by the photo pipeline's message
                        files.append((part.name, data))
                    continue
                data = await _read_limited(part, MAX_FIELD)
                if data is None:
                    raise web.HTTPRequestEntityTooLarge(max_size=MAX_FIELD, actual_size=MAX_FIELD + 1)
                _add(values, part.name, data.decode("utf-8", "replace"))
        else:
            for name, value in (await request.post()).items():
                if isinstance(value, str):
                    _add(values, name, value)
        csrf = values.pop(access.CSRF_FIELD, None)
        if not await access.csrf_valid(request, request[PERSON], csrf if isinstance(csrf, str) else None):
            return web.Response(status=403, text=texts.WEB_CSRF, content_type="text/plain", charset="utf-8")
        return values, files

    async def photo(self, request: web.Request) -> web.StreamResponse:
        person = request[PERSON]
        photo_id = request.match_info["photo_id"]
        if not photo_id.isdigit() or len(photo_id) > 12:
            raise web.HTTPNotFound()
        async with self.service.db.sessionmaker() as s:
            row = await s.scalar(sa.select(Photo).join(Report, Report.id == Photo.report_id).where(
                Photo.id == int(photo_id), Report.campaign_id == person.campaign_id,
                Report.unit_id == person.unit_id))
        if row is None or not Path(row.processed_path).is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(row.processed_path, headers={"Cache-Control": "private, no-store"})


def _add(values: dict[str, Any], name: str, value: str) -> None:
    """A repeated name (checkboxes) becomes a list."""
    if name in values:
        old = values[name]
        values[name] = [*old, value] if isinstance(old, list) else [old, value]
    else:
        values[name] = value


async def _read_limited(part, limit: int) -> bytes | None:
    """The part's bytes, or None when it is larger than `limit` (the rest is drained, not kept)."""
    chunks, size = [], 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            while await part.read_chunk(64 * 1024):
                pass
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")
