"""Console additions for the documents: a campaign's issuing details form (the CLI's rule), photos without a face."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from bot.console import auth
from conversations import texts
from bot.issuing import edit_issuing
from exports.issuing import FIELDS, IssuingError, issuing_of, parse_issuing
from storage import queries as q

PATH = "/console/dot/{id}/ban-hanh"


def setup_campaign_edit(router: web.UrlDispatcher, console) -> None:
    """Add the form's two routes (GET shows it, POST saves it) for the console's handlers."""
    router.add_get(PATH, lambda request: _page(console, request))
    router.add_post(PATH, lambda request: _save(console, request))


async def _campaign(console, s, request: web.Request):
    raw = request.match_info["id"]
    campaign = await q.get_campaign(s, int(raw)) if re.fullmatch(r"[0-9]{1,9}", raw) else None
    if campaign is None:
        raise web.HTTPNotFound(text=texts.ADMIN_CAMPAIGN_UNKNOWN.format(id=raw[:12]))
    return campaign


def _values(campaign) -> dict[str, str]:
    """The form's fields as stored (empty: the default applies); Nơi nhận one per line, the "Lưu:" line last."""
    values = {name: getattr(campaign, name) or "" for name, _ in FIELDS if name != "recipients"}
    lines = list(campaign.recipients or [])
    values["recipients"] = "\n".join(lines + ([campaign.filing_line] if campaign.filing_line else []))
    return values


async def _page(console, request: web.Request) -> web.Response:
    async with console.db.sessionmaker() as s:
        campaign = await _campaign(console, s, request)
    issuing = issuing_of(campaign)
    preview = {"number": issuing.number_line(), "signer": issuing.signer_lines(), "name": issuing.signer_name,
               "parent": issuing.parent(console.service.province or campaign.province),
               "recipients": issuing.recipient_lines()}
    return await console._page(request, "campaign_edit.html", {
        "campaign": campaign, "values": _values(campaign), "fields": [name for name, _ in FIELDS],
        "preview": preview})


async def _save(console, request: web.Request) -> web.Response:
    form = await request.post()
    back = request.path
    given = {name: str(form.get(name, "")) for name, _ in FIELDS}
    try:
        values = parse_issuing(given)
    except IssuingError as exc:
        await console._back(request, back, str(exc), error=True)
    officer = request[auth.OFFICER]
    async with console.db.transaction() as s:
        campaign = await _campaign(console, s, request)
        changed = await edit_issuing(s, campaign, values, officer.name, console.now())
    names = [re.sub(r"\s*\(--[a-z-]+\)$", "", texts.ISSUING_FIELDS[n]) for n in changed]  # no CLI flag on a page
    message = texts.WEB_ISSUING_SAVED.format(fields=", ".join(names)) if changed else texts.WEB_ISSUING_UNCHANGED
    await console._back(request, back, message)


async def faceless_names(console, campaign, unit_code: str) -> list[str]:
    """Names of the unit's people whose badge photo shows no face, or several (as the badge sheet lists them)."""
    from exports.badges import faceless
    from exports.data import load_export_data

    data = await load_export_data(console.db, console.service.form_for(campaign), now=console.now(),
                                  campaign_id=campaign.id, unit_codes=[unit_code])
    if not data.units:
        return []
    people = await asyncio.to_thread(faceless, data, data.units[0])
    return [person.name or texts.BADGE_MISSING_NO_NAME for person in people]
