"""Whether the photo a unit contact sends now answers a badge photo question (cropped to 3x4) or another one."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from storage import queries as q


async def badge_expected(service: Any, channel: str, user_id: str) -> bool:
    """False only when the contact's conversation (current campaign) is at a photo question that is not a badge's:
    that photo is kept at its own shape. Anything else (no conversation, a badge question, a database error) keeps
    the badge pipeline, as before this distinction existed."""
    try:
        async with service.db.sessionmaker() as s:
            contact = await q.get_contact(s, channel, user_id)
            campaign = await q.current_campaign(s)
            if contact is None or campaign is None:
                return True
            conversation = await q.find_conversation(s, contact.id, campaign.id)
    except (OperationalError, DBAPIError, OSError, ConnectionError):
        return True
    slot = (conversation.cursor or {}).get("slot") if conversation is not None else None
    if not isinstance(slot, dict):
        return True
    return service.form_for(campaign).is_badge(str(slot.get("s")), str(slot.get("q")))
