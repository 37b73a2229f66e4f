"""A campaign's issuing details changed by an officer (the CLI's `campaign edit` and the console), audited."""

from __future__ import annotations

from datetime import datetime

from exports.issuing import apply_issuing
from storage import queries as q


async def edit_issuing(s, campaign, values: dict, by: str, now: datetime) -> list[str]:
    """Change the campaign's issuing details; the columns changed, audited with the officer's name."""
    changed = apply_issuing(campaign, values)
    if changed:
        await q.add_audit(s, at=now, action="campaign_edit",
                          new={"campaign": campaign.id, "by": by, **{k: v[1] for k, v in changed.items()}})
    return list(changed)
