"""Who may use the console: one-time sign-in links, the encrypted session cookie, CSRF tokens.

- A sign-in link carries a random token; only its SHA-256 is stored (web_login). It is valid 10 minutes and
  redeemed once, by pressing the button on the page it opens (a chat app's link preview only GETs the page).
- The session is an encrypted cookie (aiohttp-session's EncryptedCookieStorage, Fernet): HttpOnly,
  SameSite=Strict, Secure when the public URL is HTTPS. It holds the officer's name, their contact, a CSRF
  token, the sign-in it came from and when it was last used: after 12 h without a request it is refused.
- Signing out revokes that sign-in in the database (web_login.revoked_at): a copy of the cookie kept elsewhere
  is refused from then on, not only the browser's own.
- An officer signed in from the chat stays an officer only while their contact is an admin.
- The sign-in button's POST is refused when the browser says it came from another site (Sec-Fetch-Site, Origin).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from aiohttp import web
from aiohttp_session import get_session

from bot.review import Officer
from storage import queries as q
from storage.models import WebLogin

OFFICER = web.RequestKey("officer", Officer)  # set on every request the guard lets through
LOGIN_TTL = timedelta(minutes=10)
IDLE_SECONDS = 12 * 3600
LOGIN_PATH = "/console/dang-nhap/"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


def token_hash(token: str) -> str:
    """What is stored of a link's token (the token itself never is)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignInLink:
    url: str
    expires_at: datetime


async def create_login(s, *, officer: str, contact_id: int | None, base_url: str, now: datetime) -> SignInLink:
    """A new one-time sign-in link for an officer (in the caller's transaction)."""
    token = secrets.token_urlsafe(32)
    expires = now + LOGIN_TTL
    s.add(WebLogin(token_hash=token_hash(token), contact_id=contact_id, officer=officer[:200], created_at=now,
                   expires_at=expires))
    await q.add_audit(s, at=now, action="web_login_link", contact_id=contact_id, new={"officer": officer[:200]})
    return SignInLink(f"{base_url.rstrip('/')}{LOGIN_PATH}{token}", expires)


async def find_login(s, token: str) -> WebLogin | None:
    if not token or len(token) > 100:
        return None
    return await s.scalar(sa.select(WebLogin).where(WebLogin.token_hash == token_hash(token)))


async def redeem_login(s, token: str, now: datetime) -> WebLogin | None:
    """Use the link: the login row if it was unused and not expired (then it is used), else None."""
    result = await s.execute(sa.update(WebLogin)
                             .where(WebLogin.token_hash == token_hash(token), WebLogin.used_at.is_(None),
                                    WebLogin.expires_at > now)
                             .values(used_at=now).returning(WebLogin.id))
    login_id = result.scalar_one_or_none()
    return None if login_id is None else await s.get(WebLogin, login_id)


async def start_session(request: web.Request, login: WebLogin) -> None:
    session = await get_session(request)
    session.invalidate()  # a new session for every sign-in: nothing carried over
    session = await get_session(request)
    session["officer"] = login.officer
    session["login_id"] = login.id
    session["contact_id"] = login.contact_id
    session["csrf"] = secrets.token_urlsafe(24)
    session["seen"] = int(time.time())
    session.max_age = IDLE_SECONDS


async def current_officer(request: web.Request, db) -> Officer | None:
    """The signed-in officer of this request, or None (no session, idle too long, no longer an admin)."""
    session = await get_session(request)
    name, seen = session.get("officer"), session.get("seen")
    if not name or not isinstance(seen, int) or time.time() - seen > IDLE_SECONDS:
        if not session.new:
            session.invalidate()
        return None
    login_id, contact_id = session.get("login_id"), session.get("contact_id")
    if not isinstance(login_id, int):
        session.invalidate()
        return None
    async with db.sessionmaker() as s:
        revoked = await s.scalar(sa.select(WebLogin.revoked_at.is_not(None)).where(WebLogin.id == login_id))
        contact = await q.get_contact_by_id(s, contact_id) if contact_id is not None else None
    if revoked is None or revoked or contact_id is not None and (contact is None or contact.role != "admin"):
        session.invalidate()  # signed out (this cookie or a copy of it), or no longer an admin
        return None
    session["seen"] = int(time.time())
    session.max_age = IDLE_SECONDS  # the cookie too expires 12 h after the last request
    return Officer(name, contact_id)


async def revoke(request: web.Request, db, now: datetime) -> None:
    """Sign out: this session's sign-in is revoked for every copy of the cookie, and the cookie is cleared."""
    session = await get_session(request)
    login_id = session.get("login_id")
    if isinstance(login_id, int):
        async with db.transaction() as s:
            await s.execute(sa.update(WebLogin).where(WebLogin.id == login_id, WebLogin.revoked_at.is_(None))
                            .values(revoked_at=now))
    session.invalidate()


def cross_site(request: web.Request, own_origins: set[str]) -> bool:
    """Whether the browser says this request was sent by another site's page."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    return origin is not None and origin != "null" and origin.rstrip("/") not in own_origins


async def csrf_token(request: web.Request) -> str:
    return (await get_session(request)).get("csrf", "")


async def csrf_valid(request: web.Request) -> bool:
    expected = (await get_session(request)).get("csrf")
    if not expected:
        return False
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.post()
        given = form.get(CSRF_FIELD)
    return isinstance(given, str) and hmac.compare_digest(given, expected)
