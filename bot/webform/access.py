"""Who may use the report's web page: personal links from the chat, the page's own encrypted session, CSRF tokens.

- "điền trên web" in the chat makes a link with a random token; only its SHA-256 is stored (web_form_link), bound
  to the contact, their unit and the campaign. Valid 24 h; a new one any time. A GET shows a page with a button
  (a chat app's link preview only GETs); the button's POST opens the session, once.
- The session is an encrypted cookie (aiohttp-session's EncryptedCookieStorage, Fernet) of its own, `hcc_web` on
  path /web (the console's is `hcc_console` on /console): the link it came from, the contact, the campaign, a CSRF
  token, when it ends (24 h after opening). The storage is used directly, not as a middleware, so the two cookies
  never mix.
- Every request checks the database: the link not revoked, the contact still a contact of that unit, the campaign
  still open. Removing the contact (or moving it to another unit or role) revokes its links (storage/queries.py,
  unbind_contact and bind_contact), so its sessions end at once and stay ended if it is bound to the unit again;
  closing the campaign ends them too.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from aiohttp import web
from aiohttp_session import Session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from conversations import texts
from conversations.engine import Option, Reply
from bot.console.auth import CSRF_FIELD, CSRF_HEADER, token_hash  # noqa: F401  (one token rule for both pages)
from storage import queries as q
from storage.models import Campaign, Contact, WebFormLink

LINK_TTL = timedelta(hours=24)
SESSION_SECONDS = 24 * 3600
OPEN_PATH = "/web/mo/"
COOKIE = "hcc_web"


@dataclass(frozen=True)
class Person:
    """The unit contact a page request is made for, on one campaign (from the session, checked in the database)."""

    link_id: int
    contact_id: int
    campaign_id: int
    unit_id: int
    csrf: str


async def create_link(s, contact: Contact, campaign: Campaign, *, base_url: str, now: datetime) -> str:
    """A new personal link to the page (in the caller's transaction); its full URL."""
    token = secrets.token_urlsafe(32)
    s.add(WebFormLink(token_hash=token_hash(token), contact_id=contact.id, campaign_id=campaign.id,
                      unit_id=contact.unit_id, created_at=now, expires_at=now + LINK_TTL))
    await q.add_audit(s, at=now, action="web_form_link", contact_id=contact.id)
    return f"{base_url.rstrip('/')}{OPEN_PATH}{token}"


async def link_reply(service, s, contact: Contact, campaign: Campaign, now: datetime) -> Reply:
    """The chat's answer to "điền trên web": a new personal link (none when the bot has no public address)."""
    if not service.console_url:
        return Reply(texts.WEB_LINK_NO_URL)
    url = await create_link(s, contact, campaign, base_url=service.console_url, now=now)
    app = service.console_url.rstrip("/") + "/web/telegram" if service.console_url.startswith("https://") else None
    # On Telegram, a Web App button too (HTTPS only): the page then knows the contact from Telegram's signed data.
    options = (Option(app, texts.WEB_APP_BUTTON),) if contact.channel == "telegram" and app else ()
    return Reply(texts.WEB_LINK_REPLY.format(url=url), options)


async def find_link(s, token: str) -> WebFormLink | None:
    if not token or len(token) > 100:
        return None
    return await s.scalar(sa.select(WebFormLink).where(WebFormLink.token_hash == token_hash(token)))


def usable(link: WebFormLink | None, now: datetime) -> bool:
    return link is not None and link.revoked_at is None and link.opened_at is None and link.expires_at > now


async def redeem(s, token: str, now: datetime) -> WebFormLink | None:
    """Open the link: its row if it was unopened, unrevoked and unexpired (then it is opened), else None."""
    result = await s.execute(sa.update(WebFormLink)
                             .where(WebFormLink.token_hash == token_hash(token), WebFormLink.opened_at.is_(None),
                                    WebFormLink.revoked_at.is_(None), WebFormLink.expires_at > now)
                             .values(opened_at=now).returning(WebFormLink.id))
    link_id = result.scalar_one_or_none()
    return None if link_id is None else await s.get(WebFormLink, link_id)


class Sessions:
    """The page's cookie: loaded and saved explicitly with aiohttp-session's encrypted storage."""

    def __init__(self, key: bytes, *, secure: bool):
        self.storage = EncryptedCookieStorage(key, cookie_name=COOKIE, httponly=True, samesite="Lax",
                                              secure=secure, path="/web", max_age=SESSION_SECONDS)
        # A session opened from Telegram's Web App: in Telegram's web client the page lives in an iframe of
        # web.telegram.org, where a Lax cookie is neither kept nor sent. Only over HTTPS (SameSite=None needs
        # Secure); every POST still needs the session's CSRF token, and the page may be framed by Telegram only.
        self.framed = EncryptedCookieStorage(key, cookie_name=COOKIE, httponly=True, samesite="None",
                                             secure=True, path="/web", max_age=SESSION_SECONDS) if secure else None

    async def load(self, request: web.Request) -> Session:
        return await self.storage.load_session(request)

    async def start(self, request: web.Request, response: web.StreamResponse, link: WebFormLink, *,
                    framed: bool = False) -> None:
        storage = self.framed if framed and self.framed is not None else self.storage
        session = await storage.new_session()
        session.update({"link": link.id, "contact": link.contact_id, "campaign": link.campaign_id,
                        "unit": link.unit_id, "csrf": secrets.token_urlsafe(24),
                        "until": int(time.time()) + SESSION_SECONDS})
        await storage.save_session(request, response, session)

    async def end(self, request: web.Request, response: web.StreamResponse) -> None:
        session = await self.storage.new_session()
        session.invalidate()
        await self.storage.save_session(request, response, session)

    async def person(self, request: web.Request, db) -> Person | None:
        """The person of this request, or None: no session, ended, revoked, contact removed, campaign closed."""
        session = await self.load(request)
        link_id, contact_id = session.get("link"), session.get("contact")
        campaign_id, unit_id, until = session.get("campaign"), session.get("unit"), session.get("until")
        if not all(isinstance(v, int) for v in (link_id, contact_id, campaign_id, unit_id, until)):
            return None
        if until < time.time():
            return None
        async with db.sessionmaker() as s:
            row = (await s.execute(
                sa.select(WebFormLink.revoked_at, Contact.role, Contact.unit_id, Campaign.closed_at)
                .join(Contact, Contact.id == WebFormLink.contact_id)
                .join(Campaign, Campaign.id == WebFormLink.campaign_id)
                .where(WebFormLink.id == link_id, WebFormLink.contact_id == contact_id,
                       WebFormLink.campaign_id == campaign_id))).first()
        if row is None or row.revoked_at is not None or row.role != "unit" or row.unit_id != unit_id \
                or row.closed_at is not None:
            return None
        return Person(link_id, contact_id, campaign_id, unit_id, str(session.get("csrf", "")))


async def csrf_valid(request: web.Request, person: Person, given: str | None) -> bool:
    given = request.headers.get(CSRF_HEADER) or given
    return bool(person.csrf) and isinstance(given, str) and hmac.compare_digest(given, person.csrf)
