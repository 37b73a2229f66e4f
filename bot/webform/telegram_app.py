"""Telegram's Web App button: the page opened inside Telegram knows the contact from `initData`, checked against the
bot token as Telegram documents it (core.telegram.org/bots/webapps, "Validating data received via the Mini App"):
secret_key = HMAC-SHA256(key="WebAppData", msg=bot token); hash = hex HMAC-SHA256(key=secret_key, msg=the
data-check-string, every received field but `hash` as key=value, sorted by key, joined with a line feed)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from aiohttp import web

from bot.webform import access
from conversations import texts
from storage import queries as q
from storage.models import WebFormLink

APP_PATH = "/web/telegram"
MAX_AGE = timedelta(hours=24)  # as old as a link from the chat may be


def telegram_user(init_data: str, bot_token: str, now: datetime) -> str | None:
    """The Telegram user id `init_data` was signed for by Telegram for this bot, if recent; else None."""
    if not init_data or len(init_data) > 4096 or not bot_token:
        return None
    fields = dict(parse_qsl(init_data, keep_blank_values=True))
    given = fields.pop("hash", "")
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        return None
    try:
        signed_at = datetime.fromtimestamp(int(fields.get("auth_date", "0")), tz=now.tzinfo)
        user = json.loads(fields.get("user", "{}"))
    except (ValueError, OverflowError):
        return None
    if not isinstance(user, dict) or not isinstance(user.get("id"), int) or now - signed_at > MAX_AGE:
        return None
    return str(user["id"])


class TelegramApp:
    def __init__(self, view, bot_token: str | None):
        self.view, self.bot_token = view, bot_token

    async def page(self, request: web.Request) -> web.Response:
        """The page Telegram opens: our script sends the fragment's tgWebAppData back (no Telegram script, no CDN)."""
        return self.view.render("telegram.html", {})

    async def sign_in(self, request: web.Request) -> web.Response:
        view = self.view
        form = await request.post()
        now = view.now()
        user_id = telegram_user(str(form.get("init_data", "")), self.bot_token or "", now)
        if user_id is None:
            return web.json_response({"message": texts.WEB_FORM_SIGNED_OUT}, status=401)
        async with view.service.db.transaction() as s:
            contact = await q.get_contact(s, "telegram", user_id)
            campaigns = await q.open_campaigns_for_unit(s, contact.unit_id) \
                if contact is not None and contact.role == "unit" else []
            campaign = next((c for c in campaigns if c.id == contact.campaign_id), campaigns[0] if campaigns else None)
            if campaign is None:
                return web.json_response({"message": texts.WEB_FORM_SIGNED_OUT}, status=401)
            url = await access.create_link(s, contact, campaign, base_url="", now=now)
            link = await access.redeem(s, url.rpartition("/")[2], now)
            assert isinstance(link, WebFormLink)
        response = web.json_response({"go": "/web/bao-cao"})
        await view.sessions.start(request, response, link, framed=True)
        return response
