"""Pre-fill from the last round: a new campaign's repeat reuses the same list from the unit's last submission.

When a unit opens a campaign whose form has a repeat section with the same key and the same question keys as a
repeat of the unit's last submitted report in another campaign, the bot offers, before the first question, to
reuse that list ("Dùng lại danh sách 3 nhân sự chính của lần trước? Có / Không"). Yes copies the items (photos
too: a new photo row on the same stored files, so purging the old campaign keeps them); the person then reviews
and edits them as usual. One offer per matching section, in form order; answered once per report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.forms import form_of
from conversations import texts
from conversations.answers import LAST, format_value, item_numbers, key, scope
from conversations.engine import Option, Reply
from conversations.form import Form
from conversations.parsers import clean_text, parse_yes_no
from storage import queries as q
from storage.models import Campaign, Photo, Report, ReportVersion

CURSOR_KEY = "prefill"
MAX_NAMES = 5


@dataclass(frozen=True)
class Offer:
    section: str
    item: str  # the word for one item, from the new form
    count: int
    names: list[str]
    lines: list[str]  # each item as "1. Lê Thị Mai – Chuyên viên" (its first two answers)
    campaign_title: str
    version_id: int


async def find_offers(s, form: Form, default_form: Form, campaign: Campaign, unit_id: int) -> list[Offer]:
    """The repeats of `form` the unit's last submission in another campaign can fill (form order)."""
    # a list inside a list is not offered: its items belong to items of this report's parent list
    repeats = [sec for sec in form.sections if sec.repeat is not None and sec.questions[0].item_of is None]
    if not repeats:
        return []
    row = (await s.execute(
        sa.select(ReportVersion, Campaign).join(Report, Report.id == ReportVersion.report_id)
        .join(Campaign, Campaign.id == Report.campaign_id)
        .where(Report.unit_id == unit_id, Report.campaign_id != campaign.id)
        .order_by(ReportVersion.submitted_at.desc(), ReportVersion.id.desc()).limit(1))).first()
    if row is None:
        return []
    version, old_campaign = row
    old_form = form_of(old_campaign, default_form)
    old_sections = {sec.key: sec for sec in old_form.sections if sec.repeat is not None}
    offers = []
    for section in repeats:
        old = old_sections.get(section.key)
        if old is None or {qq.key for qq in old.questions} != {qq.key for qq in section.questions}:
            continue
        first = section.questions[0]
        # Items whose first answer is gone (a purged campaign's people) are not offered.
        items = [n for n in item_numbers(version.answers, section.key)
                 if scope(version.answers, section.key, n).get(first.key) is not None][:section.repeat.max]
        if not items:
            continue
        names = [format_value(first, scope(version.answers, section.key, n).get(first.key))
                 for n in items[:MAX_NAMES]]
        shown = [qq for qq in section.questions if qq.type != "photo"][:2]
        lines = [texts.PREFILL_ITEM.format(n=stt, summary=" – ".join(
            format_value(qq, values[qq.key]) for qq in shown if values.get(qq.key) is not None))
            for stt, values in enumerate((scope(version.answers, section.key, n) for n in items), 1)]
        offers.append(Offer(section.key, section.repeat.item, len(items), names, lines, old_campaign.title,
                            version.id))
    return offers


def offer_reply(offer: Offer, notes: list[str]) -> Reply:
    names = ", ".join(offer.names) + (", …" if offer.count > len(offer.names) else "")
    text = texts.PREFILL_OFFER.format(count=offer.count, item=offer.item, title=offer.campaign_title, names=names)
    return Reply("\n\n".join([*notes, text]), (Option("yes", texts.YES), Option("no", texts.NO)))


async def apply_offer(s, form: Form, offer: Offer, report: Report, contact_id: int | None,
                      now: datetime) -> dict[str, Any]:
    """Copy the offered items into the report's answers (items renumbered from 1); the new answers."""
    photos = {qq.key for qq in form.section(offer.section).questions if qq.type == "photo"}
    version = await s.get(ReportVersion, offer.version_id)
    answers = dict(await q.load_answers(s, report.id))
    before = dict(answers)
    most = form.section(offer.section).repeat.max
    first = form.section(offer.section).questions[0].key
    kept = [n for n in item_numbers(version.answers, offer.section)
            if scope(version.answers, offer.section, n).get(first) is not None][:most]
    for new_n, old_n in enumerate(kept, 1):
        for question_key, value in scope(version.answers, offer.section, old_n).items():
            answers[key(offer.section, question_key, new_n)] = \
                await _copy_photo(s, value, report, now) if question_key in photos else value
        answers[f"{offer.section}.{LAST}"] = new_n
    await q.save_answer_changes(s, report_id=report.id, contact_id=contact_id, before=before, after=answers, at=now)
    return answers


async def _copy_photo(s, value: Any, report: Report, now: datetime) -> Any:
    """The same stored files under a new photo row of this report (the old campaign's purge keeps them)."""
    old = await s.get(Photo, value) if isinstance(value, int) else None
    if old is None:
        return None
    photo = await q.add_photo(s, report_id=report.id, contact_id=old.contact_id, sha256=old.sha256,
                              original_path=old.original_path, processed_path=old.processed_path,
                              width=old.width, height=old.height, at=now)
    return photo.id


def parse_answer(text: str | None, pick: str | None) -> bool | None:
    """Yes / no to an offer, or None when it is neither."""
    if pick in ("yes", "no"):
        return pick == "yes"
    try:
        return parse_yes_no(clean_text(text or "", multiline=False))
    except ValueError:
        return None
