"""Invite codes: reading a code from what a person sent, whether an invite is usable, and the texts about roles."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from conversations import texts
from conversations.answers import LOCAL_TZ
from storage import queries as q
from storage.models import Contact, Invite

INVITE_CODE_RE = re.compile(r"^[A-Z0-9]{8}$")
FREE_INVITE_ATTEMPTS = 5  # wrong codes before a person has to wait
MAX_INVITE_LOCK = timedelta(hours=1)


def start_code(text: str | None) -> str | None:
    """The invite code of `/start CODE` (a Telegram deep link), if any."""
    if not text:
        return None
    parts = text.strip().split()
    if len(parts) == 2 and parts[0].lower().split("@")[0] == "/start":
        return q.normalize_invite_code(parts[1])
    return None


def looks_like_code(candidate: str) -> bool:
    """Whether a message was an attempt at a code: 8 characters of the codes' alphabet (not "xin chao")."""
    return len(candidate) == 8 and set(candidate) <= set(q.INVITE_ALPHABET)


def code_of(text: str | None) -> str | None:
    """The code of `/start CODE`, or the message itself when it looks like a code."""
    code = start_code(text)
    if code is None and text:
        candidate = q.normalize_invite_code(text)
        code = candidate if looks_like_code(candidate) else None
    return code


async def typed_code(s, text: str | None) -> str | None:
    """A message that is the code of an existing invite (only then: "NGUYENVA" could be an answer)."""
    candidate = q.normalize_invite_code(text or "")
    if looks_like_code(candidate) and await q.find_invite(s, candidate) is not None:
        return candidate
    return None


def unusable(invite: Invite | None, now: datetime) -> str | None:
    """Why an invite cannot bind anyone now (revoked, expired, used up), or None."""
    if invite is None or invite.revoked_at is not None:
        return texts.INVITE_REVOKED
    if invite.expires_at <= now:
        return texts.INVITE_EXPIRED.format(date=invite.expires_at.astimezone(LOCAL_TZ).strftime("%d/%m/%Y"))
    if invite.uses >= invite.max_uses:
        return texts.INVITE_USED_UP.format(max_uses=invite.max_uses)
    return None


async def role_text(s, role: str | None, unit_id: int | None) -> str:
    """What a binding makes a person, as said to them: "người liên hệ của Sở Tư pháp"."""
    if role == "admin":
        return texts.ROLE_ADMIN
    unit = await q.get_unit(s, unit_id) if unit_id is not None else None
    return texts.ROLE_UNIT.format(unit=unit.name if unit else "")


async def change_question(s, contact: Contact, invite: Invite) -> str:
    return texts.CHANGE_CONFIRM.format(current=await role_text(s, contact.role, contact.unit_id),
                                       target=await role_text(s, invite.role, invite.unit_id))
