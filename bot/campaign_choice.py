"""Which campaign a message is for: a unit contact's pick among several open ones, an officer's choice, and the
offer to reuse the last round's lists before the first question (bot/prefill.py). Called by the service, in the
event's transaction. `inbound` is the service's Inbound."""

from __future__ import annotations

import re
from datetime import datetime

from bot import prefill
from conversations import engine, texts
from conversations.answers import format_datetime
from conversations.engine import Reply
from conversations.parsers import clean_text, fold
from storage import queries as q
from storage.models import Campaign, Contact, Conversation, Report

SWITCH_WORDS = {fold(w) for w in texts.CAMPAIGN_SWITCH_WORDS}


def _switch_and_pick(inbound) -> tuple[bool, str | None]:
    """(the message is "đổi báo cáo", what it picks: a button's "c<id>", a typed number, or None)."""
    if inbound.pick is not None:
        return False, inbound.pick
    text = fold(clean_text(inbound.text or "", multiline=False)).rstrip(".!?:; ")
    word = next((w for w in sorted(SWITCH_WORDS, key=len, reverse=True) if text.startswith(w)), None)
    rest = text[len(word):].strip().lstrip("#") if word is not None else None
    if rest is not None and (not rest or re.fullmatch(r"[0-9]{1,3}", rest)):
        return True, rest or None  # "đổi báo cáo 2": switch straight to the second one
    return False, text if re.fullmatch(r"[0-9]{1,3}", text) else None


async def pick_campaign(service, s, contact: Contact, inbound, event: engine.Event | None,
                        notes: list[str]) -> tuple[Campaign | None, engine.Event | None, list[Reply] | None]:
    """The open campaign this unit contact answers: (campaign, event, None), or replies asking them to pick.

    With one campaign open for their unit it is that one, as before. With several, the one they picked;
    until they pick (or after "đổi báo cáo") the bot lists them and takes the number (or button) they send.
    A message that picked, switched, or came when the campaign they were answering had closed is never taken
    as an answer: the engine only resumes."""
    campaigns = await q.open_campaigns_for_unit(s, contact.unit_id)
    switch, pick = _switch_and_pick(inbound)
    if contact.campaign_id is not None and all(c.id != contact.campaign_id for c in campaigns):
        gone = await q.get_campaign(s, contact.campaign_id)  # closed since: say so, and take nothing as an answer
        notes.append(texts.CAMPAIGN_CLOSED_NOTE.format(title=gone.title if gone else "?"))
        contact.campaign_id = None
        event = event or engine.Resume()
        if len(campaigns) > 1:
            switch, pick = True, None
    if len(campaigns) <= 1:
        if switch and campaigns:
            notes.append(texts.CAMPAIGN_ONLY_ONE.format(title=campaigns[0].title))
            event = event or engine.Resume()
        if contact.campaign_id != (campaigns[0].id if campaigns else None):  # a no-op set would cost a flush
            contact.campaign_id = campaigns[0].id if campaigns else None
        return (campaigns[0] if campaigns else None), event, None
    chosen = next((c for c in campaigns if c.id == contact.campaign_id), None)
    if chosen is not None and not switch:
        await note_other_campaigns(service, s, contact, chosen, campaigns, notes)
        return chosen, event, None
    picked = None
    if pick is not None and pick.startswith("c") and pick[1:].isascii() and pick[1:].isdigit():
        picked = next((c for c in campaigns if c.id == int(pick[1:])), None)  # a button carries the campaign id
    elif pick is not None and pick.isdigit() and 1 <= int(pick) <= len(campaigns):
        picked = campaigns[int(pick) - 1]
    if picked is not None:
        contact.campaign_id = picked.id
        notes.append(texts.CAMPAIGN_PICKED.format(title=picked.title, deadline=format_datetime(picked.deadline_at)))
        await note_other_campaigns(service, s, contact, picked, campaigns, [])
        return picked, engine.Resume(), None
    contact.campaign_id = None
    lines = [texts.CAMPAIGN_PICK_LINE.format(n=n, title=c.title, deadline=format_datetime(c.deadline_at))
             for n, c in enumerate(campaigns, 1)]
    again = [texts.CAMPAIGN_PICK_AGAIN.format(count=len(campaigns))] if pick is not None else []
    reply = texts.CAMPAIGN_PICK.format(count=len(campaigns), lines="\n".join(lines))
    options = tuple(engine.Option(f"c{c.id}", str(n)) for n, c in enumerate(campaigns, 1))
    return None, None, [Reply("\n\n".join([*notes, *again, reply]), options)]


async def admin_campaign(s, contact: Contact, inbound) -> tuple[Campaign | None, str | None]:
    """The campaign an officer's commands act on (the one they picked, else the newest open one), or the
    answer to "đổi báo cáo [số]"."""
    text = fold(clean_text(inbound.text or "", multiline=False))
    word = next((w for w in sorted(SWITCH_WORDS, key=len, reverse=True) if text.startswith(w)), None)
    chosen = await q.get_campaign(s, contact.campaign_id) if contact.campaign_id else None
    if word is None:
        return chosen or await q.current_campaign(s), None
    rest = text[len(word):].strip().lstrip("#")
    campaigns = await q.list_campaigns(s)
    if re.fullmatch(r"[0-9]{1,9}", rest):
        picked = next((c for c in campaigns if c.id == int(rest)), None)
        if picked is None:
            return chosen, texts.ADMIN_CAMPAIGN_UNKNOWN.format(id=rest)
        contact.campaign_id = picked.id
        return picked, texts.ADMIN_CAMPAIGN_PICKED.format(id=picked.id, title=picked.title)
    if not campaigns:
        return None, texts.NO_CAMPAIGN
    current = chosen or await q.current_campaign(s)
    lines = [texts.ADMIN_CAMPAIGN_LINE.format(
        id=c.id, title=c.title, deadline=format_datetime(c.deadline_at),
        state=texts.CLI_CAMPAIGN_CLOSED_SHORT if c.closed_at else texts.CLI_CAMPAIGN_OPEN_STATE,
        mark=texts.ADMIN_CAMPAIGN_CURRENT if current is not None and c.id == current.id else "")
        for c in campaigns]
    return current, texts.ADMIN_CAMPAIGNS.format(lines="\n".join(lines), example=campaigns[-1].id)

async def offer_prefill(service, s, contact: Contact, campaign: Campaign, report: Report, conversation: Conversation,
                  inbound, event: engine.Event | None, notes: list[str],
                  now: datetime) -> list[Reply] | engine.Event | None:
    """Before the first question of a campaign: offer each list the unit's last submission can fill
    (bot/prefill.py). Replies while offering; the engine's Start once the last offer is answered; None
    when there is nothing to offer (the engine takes the message as usual)."""
    form = service.form_for(campaign)
    state = (conversation.cursor or {}).get(prefill.CURSOR_KEY)
    if state is None:
        if conversation.cursor or report.status != engine.NOT_STARTED or await q.load_answers(s, report.id):
            return None
        offers = await prefill.find_offers(s, form, service.form, campaign, contact.unit_id)
        if not offers:
            return None
        conversation.cursor = {prefill.CURSOR_KEY: {"sections": [o.section for o in offers], "i": 0}}
        return [prefill.offer_reply(offers[0], notes)]
    offers = {o.section: o for o in await prefill.find_offers(s, form, service.form, campaign, contact.unit_id)}
    sections = [k for k in state.get("sections", []) if k in offers]
    i = state.get("i", 0)
    if i >= len(sections):
        conversation.cursor = {}
        return engine.Start()
    current = offers[sections[i]]
    # A message already used (a pick, a switch, a confirmation) is not a yes or a no to the offer.
    answer = prefill.parse_answer(inbound.text, inbound.pick) if event is None else None
    if answer is None:
        return [prefill.offer_reply(current, [*notes, *([texts.PREFILL_AGAIN] if event is None else [])])]
    if answer:
        await prefill.apply_offer(s, form, current, report, contact.id, now)
        report.progress = None  # recomputed with the copied items
        notes.append(texts.PREFILL_DONE.format(count=current.count, item=current.item,
                                               items="\n".join(current.lines)))
    if i + 1 < len(sections):
        conversation.cursor = {prefill.CURSOR_KEY: {"sections": sections, "i": i + 1}}
        return [prefill.offer_reply(offers[sections[i + 1]], notes)]
    conversation.cursor = {}
    return engine.Start()

async def note_other_campaigns(service, s, contact: Contact, chosen: Campaign, campaigns: list[Campaign],
                                notes: list[str]) -> None:
    """Tell the person once about each other open campaign they have not opened yet."""
    now = service.clock()
    for campaign in campaigns:
        if campaign.id == chosen.id or await q.find_conversation(s, contact.id, campaign.id) is not None:
            continue
        await q.get_or_create_conversation(s, contact_id=contact.id, campaign_id=campaign.id, now=now)
        notes.append(texts.CAMPAIGN_OTHER.format(title=campaign.title,
                                                 deadline=format_datetime(campaign.deadline_at)))
