"""Whether a photo someone sends is taken at all, and if so whether it answers a badge photo question (cropped
to 3x4) or another one (kept at its own shape)."""

from __future__ import annotations

from typing import Any

from storage import queries as q
from storage.db import DB_ERRORS, DatabaseUnavailable


async def photo_plan(service: Any, channel: str, user_id: str, *, queued: bool = False) -> bool | None:
    """None: the photo is not fetched, processed nor kept (a stranger's, an admin's, or no campaign at all).
    Otherwise True (a badge, cut to 3x4), or False when the bound unit contact's conversation in the current
    campaign is at a photo question that is not a badge's (kept at its own shape). One short read (issue 27: it
    was two sessions and five statements).

    A database error: with `queued` (the durable inbox) it raises DatabaseUnavailable, so the update is tried
    again rather than its photo taken for a stranger's; otherwise None (the transaction that follows says it
    cannot save)."""
    try:
        async with service.db.sessionmaker() as s:
            contact = await q.get_contact(s, channel, user_id)
            if contact is None or contact.role != "unit":
                return None
            campaign = await q.current_campaign(s)
            if campaign is None:
                return None
            conversation = await q.find_conversation(s, contact.id, campaign.id)
    except DB_ERRORS as exc:
        if queued:
            raise DatabaseUnavailable(type(exc).__name__) from exc
        return None
    slot = (conversation.cursor or {}).get("slot") if conversation is not None else None
    if not isinstance(slot, dict):
        return True
    return service.form_for(campaign).is_badge(str(slot.get("s")), str(slot.get("q")))
