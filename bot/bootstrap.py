"""The demo's data: the sample units and a campaign, in the demo's own database only (a real one starts empty)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.unit_files import read_sample_units
from bot.reminders.plan import example_deadline
from conversations import texts
from conversations.answers import LOCAL_TZ
from conversations.form import Form
from exports.issuing import SEED as SEED_ISSUING, apply_issuing
from storage import queries as q
from storage.db import Database
from storage.models import Campaign

DEFAULT_DEADLINE_TIME = time(16, 30)


def default_deadline(now: datetime) -> datetime:
    """16:30 (Asia/Ho_Chi_Minh) three days after `now`."""
    day = now.astimezone(LOCAL_TZ).date() + timedelta(days=3)
    return datetime.combine(day, DEFAULT_DEADLINE_TIME, tzinfo=LOCAL_TZ)


async def ensure_units_and_campaign(db: Database, form: Form, now: datetime) -> Campaign:
    """The demo (and tests): import the sample units when there are none, create the sample campaign when there
    is none. Never called on a real installation's database: `hcc-bot run` and the other commands start empty."""
    async with db.transaction() as s:
        if not await q.list_units(s, active_only=False):
            await q.upsert_units(s, read_sample_units().rows, now=now)
        campaign = await q.current_campaign(s)
        if campaign is None:
            campaign = await q.create_campaign(
                s, title=texts.DEFAULT_CAMPAIGN_TITLE, deadline_at=default_deadline(now), form_id=form.id,
                doc_ref=texts.DEFAULT_CAMPAIGN_DOC_REF, province=texts.DEFAULT_CAMPAIGN_PROVINCE, now=now)
            apply_issuing(campaign, SEED_ISSUING)  # the seed letter's signer, recipients and ký hiệu
        return campaign


async def setup_steps(s) -> list[str] | None:
    """What an empty installation needs next (units, then a campaign), or None once there is a campaign."""
    if await q.current_campaign(s) is not None:
        return None
    count = len(await q.list_units(s))
    return [texts.SETUP_STEP_UNITS_DONE.format(count=count) if count else texts.SETUP_STEP_UNITS,
            texts.SETUP_STEP_CAMPAIGN.format(example=example_deadline()), texts.SETUP_STEP_INVITE]
