"""The engine's state read from and written to the database around one step: shared by the chat and the web page."""

from __future__ import annotations

from datetime import datetime

from bot.reminders.messages import missing_summary
from conversations import engine
from conversations.answers import completion, missing
from conversations.engine import ReportInfo, State
from conversations.form import Form
from storage import queries as q
from storage.models import Campaign, Contact, Conversation, Report


async def report_state(s, contact: Contact, campaign: Campaign, report: Report, unit_name: str,
                       conversation: Conversation) -> State:
    """The engine's state of this contact's conversation on the (locked) report: the chat's and the page's."""
    answers = await q.load_answers(s, report.id)
    info = await report_info(s, campaign, report, unit_name, answers)
    who = {"channel": contact.channel, "name": contact.display_name}  # for meta questions (no phone known)
    return State(answers=answers, report=info, cursor=conversation.cursor or {}, contact=who)


async def report_info(s, campaign: Campaign, report: Report | None, unit_name: str,
                      answers: dict) -> ReportInfo:
    """The facts about the report the engine reads (a report not created yet: not started)."""
    if report is None:
        return ReportInfo(unit_name=unit_name, deadline_at=campaign.deadline_at, title=campaign.title)
    changed_since_submit = False
    if report.status in (engine.SUBMITTED, engine.SUBMITTED_LATE):
        versions = await q.list_report_versions(s, report.id)
        changed_since_submit = bool(versions) and versions[-1].answers != answers
    return ReportInfo(unit_name=unit_name, deadline_at=report.deadline_at or campaign.deadline_at,
                      status=report.status, submitted_at=report.submitted_at,
                      first_submitted_at=report.first_submitted_at, reopened=report.reopened,
                      changed_since_submit=changed_since_submit, review=report.review,
                      review_comment=report.review_comment, title=campaign.title)


async def store_state(s, form: Form, contact: Contact, report: Report,
                      conversation: Conversation, state: State, new: State, now: datetime,
                      via: str | None = None) -> None:
    """Write what an engine step changed (answers, report, versions, cursor); `via`: "web" for the page."""
    answers = state.answers
    changes = await q.save_answer_changes(s, report_id=report.id, contact_id=contact.id, before=answers,
                                          after=new.answers, at=now, via=via)
    if changes or new.report.submitted_at != report.submitted_at:
        report.last_activity_at = now  # a submission is activity too ("xuất mới" must include it)
    if changes or new.report.status != report.status or new.report.submitted_at != report.submitted_at:
        report.updated_at = now  # not for a message that changed nothing (a question again, a review)
    if changes or report.progress is None:  # what the board shows, kept with the answers
        gaps = missing(form, new.answers)  # once for both
        report.progress = completion(form, new.answers, gaps)
        report.missing_short = missing_summary(form, new.answers, limit=2, gaps=gaps)[:300] or None
    if new.report.status != report.status:
        report.status = new.report.status
    if new.report.review != report.review:  # submitted again after a return: the department reviews anew
        report.review, report.review_comment = new.report.review, new.report.review_comment
    if new.report.submitted_at != report.submitted_at:
        report.submitted_at = new.report.submitted_at
        report.first_submitted_at = new.report.first_submitted_at
        await q.add_report_version(s, report_id=report.id, answers=new.answers, contact_id=contact.id, at=now,
                                   late=new.report.status == engine.SUBMITTED_LATE)
        await q.add_audit(s, at=now, action="submit", contact_id=contact.id, report_id=report.id, via=via)
    await q.save_cursor(s, conversation, dict(new.cursor), now=now)
