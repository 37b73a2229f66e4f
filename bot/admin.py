"""The admin chat commands: every command a Sở Nội vụ officer can send in the chat, parsed and answered here.

Each command is answered by calling the same functions the CLI and the web console call (bot/reminders/control.py,
the export jobs, the status view). The words are in conversations/texts.py.
"""

from __future__ import annotations

from datetime import datetime

from bot import review
from bot.board import load_board
from bot.review import Officer
from storage import queries as q
from bot.export_jobs import ExportJobs
from bot.reminders.control import change_deadline, change_plan, plan_text, preview_text
from bot.reminders.plan import PlanError, example_deadline, future_deadline, parse_deadline, parse_quiet, parse_slots
from bot.reminders.scheduler import queue_now
from conversations import engine, texts
from conversations.answers import format_datetime
from conversations.form import Form
from conversations.parsers import clean_text, fold
from storage.models import Campaign

ADMIN_COMMANDS = {name: {fold(w) for w in words} for name, words in texts.ADMIN_COMMAND_WORDS.items()}
# Typed by a unit contact, these are refused as answers ("help" is the unit contacts' own command too).
UNIT_REFUSED_WORDS = set().union(*(words for name, words in ADMIN_COMMANDS.items() if name != "help"))


async def answer(s, form: Form, jobs: ExportJobs, campaign: Campaign | None, inbound, now: datetime) -> str:
    """The answer to anything an admin sends in the chat (`inbound` is the service's Inbound)."""
    words = fold(inbound.text or "").removeprefix("/")
    if words in ADMIN_COMMANDS["web_login"]:
        return await web_login_text(s, inbound, now, jobs.service.console_url)
    if campaign is not None and words in ADMIN_COMMANDS["status"]:
        # every unit's state is on the list: what the officer acts on from now
        marks = await _seen_marks(s, campaign, await q.get_contact(s, inbound.channel, inbound.user_id), now)
        await _shown(s, marks, ALL_UNITS, await review.decided_up_to(s, campaign), now)
        return await status_text(s, form, campaign, now)
    if campaign is not None and words in ADMIN_COMMANDS["export"] | ADMIN_COMMANDS["export_new"]:
        jobs.spawn(jobs.export(inbound.channel, inbound.chat_id, inbound.user_id,
                               only_changed=words in ADMIN_COMMANDS["export_new"], campaign_id=campaign.id))
        return texts.EXPORT_STARTED
    if campaign is None:
        return texts.ADMIN_NO_CAMPAIGN
    reply = await review_command(s, jobs.service, campaign, inbound, now)
    if reply is not None:
        return reply
    reply = await reminder_command(s, form, campaign, inbound.text or "", now)
    return reply if reply is not None else texts.ADMIN_HELP.format(example=example_deadline(now))


_REVIEW_WORDS = sorted(((w, name) for name, words in texts.REVIEW_COMMAND_WORDS.items() for w in words),
                       key=lambda pair: -len(pair[0]))


def parse_review_command(text: str) -> tuple[str, str, str] | None:
    """(action, unit code, the rest as typed) of "duyệt STP", "trả lại STP: …", "gia hạn STP 30/03/2017 16:30"."""
    words = text.split()
    for word, name in _REVIEW_WORDS:
        size = len(word.split())
        if len(words) > size and fold(" ".join(words[:size])) == fold(word):
            rest = text.strip().split(None, size + 1)
            return name, rest[size].rstrip(":,"), (rest[size + 1] if len(rest) > size + 1 else "").lstrip(":-– ")
    return None


SEEN_KEY = "seen"  # in an officer's conversation cursor: {unit code or ALL_UNITS: the last decision shown}
ALL_UNITS = "*"


async def _seen_marks(s, campaign: Campaign, contact, now: datetime):
    """(the officer's conversation for the campaign, {unit code: last decision shown}); None for no contact."""
    if contact is None:
        return None
    conversation = await q.get_or_create_conversation(s, contact_id=contact.id, campaign_id=campaign.id, now=now)
    return conversation, dict((conversation.cursor or {}).get(SEEN_KEY) or {})


async def review_command(s, service, campaign: Campaign, inbound, now: datetime) -> str | None:
    """An admin's review in the chat, answered by bot/review.py as in the console; None when it is not one.

    It acts on what the bot showed this officer: the states of their last "tình hình", or what it told them of
    this unit since. If anyone else decided on the report after that (a colleague, the unit's new submission),
    nothing changes: the reply says what happened and the state now, and the same command sent again acts on it.
    """
    parsed = parse_review_command(clean_text(inbound.text or "", multiline=True))
    if parsed is None:
        return None
    action, code, rest = parsed
    contact = await q.get_contact(s, inbound.channel, inbound.user_id)
    officer = Officer((contact.display_name if contact else None) or texts.CONTACT_NO_NAME,
                      contact.id if contact else None)
    marks = await _seen_marks(s, campaign, contact, now)
    key = code.strip().upper()
    shown = None if marks is None else max((v for k, v in marks[1].items() if k in (key, ALL_UNITS)), default=None)
    expect = review.SeenUpTo(shown or 0)
    try:
        if action == "accept":
            reply = await review.accept(s, campaign, code, officer, now, expect=expect)
        elif action == "reopen":
            reply = await review.reopen(s, campaign, code, officer, now, expect=expect)
        elif action == "return":
            reply = await review.return_report(s, campaign, code, rest, officer, now, expect=expect)
            service.wake_reminders.set()
        else:
            deadline = None if fold(rest) in ("khong", "bo") else parse_deadline(rest, texts.WEB_DEADLINE_INVALID)
            reply = await review.extend_deadline(s, campaign, code, deadline, officer, now, expect=expect)
    except review.Stale as exc:
        typed = clean_text(inbound.text or "", multiline=True).strip()
        command = texts.REVIEW_CHAT_COMMAND.format(command=typed) if len(typed) <= 80 and "\n" not in typed \
            else texts.REVIEW_CHAT_SAME_MESSAGE
        if shown is None:  # nothing of this unit shown to them yet: say its state, act when they send it again
            reply = texts.REVIEW_CHAT_CONFIRM.format(unit=await _unit_name(s, campaign, key), state=exc.state,
                                                     changes=exc.changes, command=command)
        else:
            reply = f"{exc} {texts.REVIEW_CHAT_AGAIN.format(command=command)}"
        await _shown(s, marks, key, exc.current.event, now)
        return reply
    except (review.ReviewError, PlanError) as exc:
        return str(exc)
    await _shown(s, marks, key, await review.decided_up_to(s, campaign), now)
    return reply


async def _unit_name(s, campaign: Campaign, code: str) -> str:
    return (await review.campaign_unit(s, campaign, code)).name


async def _shown(s, marks, code: str, event: int, now: datetime) -> None:
    """Remember that the officer has now been told the unit's report up to decision `event`."""
    if marks is None:
        return
    conversation, seen = marks
    seen[code] = max(event, seen.get(code, 0))
    await q.save_cursor(s, conversation, {**(conversation.cursor or {}), SEEN_KEY: seen}, now=now)


async def web_login_text(s, inbound, now: datetime, console_url: str | None) -> str:
    """A one-time sign-in link to the web console for the admin who asked."""
    from bot.console.auth import create_login

    if console_url is None:
        return texts.WEB_LOGIN_NO_CONSOLE
    contact = await q.get_contact(s, inbound.channel, inbound.user_id)
    name = (contact.display_name if contact else None) or texts.CONTACT_NO_NAME
    link = await create_login(s, officer=name, contact_id=contact.id if contact else None, base_url=console_url,
                              now=now)
    return texts.WEB_LOGIN_CHAT.format(url=link.url, expires=format_datetime(link.expires_at))


def is_admin_command(text: str | None) -> bool:
    """Whether a message is an admin command as a whole ("tình hình", "nhắc ngay", "hạn nộp 28/03/2017 16:30").

    A text that merely starts with a command word ("Nhắc các đơn vị nộp đúng hạn") is an answer.
    """
    if not text:
        return False
    if fold(text).removeprefix("/") in UNIT_REFUSED_WORDS:
        return True
    parsed = parse_reminder_command(text)
    if parsed is None:
        return False
    name, arg = parsed
    if not arg:
        return True
    parse = {"plan": parse_slots, "quiet": parse_quiet, "deadline": parse_deadline}
    try:
        parse[name](arg)
    except (KeyError, PlanError, ValueError):
        return False
    return True


_COMMANDS = sorted(((fold(w), name) for name, words in texts.REMIND_COMMAND_WORDS.items() for w in words),
                   key=lambda pair: -len(pair[0]))


def parse_reminder_command(text: str) -> tuple[str, str] | None:
    """(command, argument) of a reminder command typed by an admin, or None."""
    folded = fold(text).removeprefix("/")
    for word, name in _COMMANDS:
        if folded == word or folded.startswith(word + " "):
            return name, folded[len(word):].strip()
    return None


async def reminder_command(s, form: Form, campaign: Campaign, text: str, now: datetime) -> str | None:
    """The answer to an admin's reminder command in the chat, or None when the text is not one."""
    parsed = parse_reminder_command(text)
    if parsed is None:
        return None
    name, arg = parsed
    try:
        if name == "preview" and not arg:
            return await preview_text(s, form, campaign, now, confirm=texts.REMIND_PREVIEW_CONFIRM)
        if name == "now" and not arg:
            fired = await queue_now(s, campaign, now)
            return texts.REMIND_QUEUED.format(contacts=fired.contacts, units=fired.units)
        if name == "plan" and arg:
            await change_plan(s, campaign, now, slots=arg)
            return texts.PLAN_CHANGED + "\n\n" + await plan_text(s, campaign, now)
        if name == "quiet" and arg:
            await change_plan(s, campaign, now, quiet=arg)
            return texts.PLAN_CHANGED + "\n\n" + await plan_text(s, campaign, now)
        if name == "deadline" and arg:
            changed = await change_deadline(s, campaign, future_deadline(parse_deadline(arg), now), now)
            return changed + "\n\n" + await plan_text(s, campaign, now)
        if name in ("plan", "quiet", "deadline"):
            return await plan_text(s, campaign, now)
    except PlanError as exc:
        return str(exc)
    return None


async def status_rows(s, form: Form, campaign: Campaign, now: datetime) -> list[dict]:
    """One dict per active unit (the board's rows): code, name, status, state, progress, deadline, contacts..."""
    board = await load_board(s, campaign, form, now)
    return [{"code": r.code, "name": r.name, "status": r.state if r.state in engine_states else engine.IN_PROGRESS,
             "state": r.state, "progress": r.progress, "missing": r.missing, "submitted_at": r.submitted_at,
             "last_activity_at": r.last_activity_at, "deadline_at": r.deadline_at, "overdue": r.overdue,
             "contacts": len(r.contacts), "unreachable": any(c.delivery == "blocked" for c in r.contacts)}
            for r in board.rows]


engine_states = (engine.NOT_STARTED, engine.IN_PROGRESS, engine.SUBMITTED, engine.SUBMITTED_LATE)


async def status_text(s, form: Form, campaign: Campaign, now: datetime) -> str:
    """The department's view of who has not started, who is typing, who submitted, who is late."""
    board = await load_board(s, campaign, form, now)
    lines = [texts.STATUS_HEADER.format(title=campaign.title, deadline=format_datetime(campaign.deadline_at),
                                        submitted=board.submitted, total=len(board.rows))]
    for state in (engine.NOT_STARTED, engine.IN_PROGRESS, engine.RETURNED, engine.SUBMITTED_LATE, engine.SUBMITTED,
                  engine.ACCEPTED):
        group = [r for r in board.rows if r.state == state]
        if not group:
            continue
        label = texts.STATE_LABELS[state]
        if state in (engine.NOT_STARTED, engine.IN_PROGRESS) and all(r.overdue for r in group):
            label = f"{label}, {texts.STATUS_OVERDUE}"
        lines.append("")
        lines.append(texts.STATUS_GROUP.format(label=label.capitalize(), count=len(group)))
        for r in group:
            detail = ""
            if r.submitted_at:
                detail = texts.STATUS_SUBMITTED_AT.format(at=format_datetime(r.submitted_at))
            elif r.last_activity_at:
                detail = texts.STATUS_LAST_ACTIVITY.format(at=format_datetime(r.last_activity_at))
            if r.extended:
                detail += texts.STATUS_EXTENDED.format(deadline=format_datetime(r.deadline_at))
            if not r.active:
                detail += f" – {texts.UNIT_INACTIVE_MARK}"
            elif not r.contacts:
                detail += texts.STATUS_NO_CONTACT
            elif any(c.delivery == "blocked" for c in r.contacts):
                detail += texts.STATUS_BLOCKED
            lines.append(texts.STATUS_LINE.format(code=r.code, name=r.name, detail=detail))
    return "\n".join(lines)
