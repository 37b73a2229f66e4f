"""What an export is built from: the form, and every unit's answers, status and photos, read from storage.

Builders take an `ExportData` and write files; they never query the database themselves, so they can be
tested on data made in the tests and run off the event loop. A question added to the form shows up in every
export because builders walk the form, not a fixed list of columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from conversations import texts
from conversations.answers import Missing, is_relevant, item_numbers, missing, scope, split_key
from conversations.form import Form, Question, Section
from conversations.report_state import state_of  # the board's state of a report: the one rule
from conversations.xpath import NO_LOOKUP, AnswersLookup, Lookup
from exports.issuing import Issuing, issuing_of
from storage import queries as q

STAFF_SECTIONS = ("leader", "main_staff", "backup_staff", "postal_staff")
SUBMITTED = ("submitted", "submitted_late")
# The shipped form (conversations/forms/report.yaml) and the sections that make a form "the template's": the
# exports lay such a form out as the letter's template does (sections I–IV); any other form gets a generic
# layout built from its own sections and questions.
TEMPLATE_FORM_ID = "hcc_report_2017"
TEMPLATE_SECTIONS = ("main_staff", "procedures", "plan")


@dataclass(frozen=True)
class UnitReport:
    """One unit's report as exported: the last submitted version if it submitted, else what is entered so far."""

    code: str
    name: str
    status: str  # not_started, in_progress, submitted, submitted_late
    answers: dict[str, Any]
    submitted_at: datetime | None = None
    last_activity_at: datetime | None = None
    changed_since_submit: bool = False
    photos: dict[int, Path] = field(default_factory=dict)  # photo id -> the 354x472 badge JPEG
    review: str | None = None  # "returned" (for correction) | "accepted", by the department
    deadline_at: datetime | None = None  # the unit's own deadline (an extension), if it has one
    review_comment: str | None = None  # the department's comment when it returned the report
    active: bool = True  # False: a deactivated unit, exported for the report it began (q.shows_unit)

    @property
    def returned(self) -> bool:
        """Submitted, then returned for correction and not submitted again: its last submitted version counts."""
        return self.review == "returned" and self.status in SUBMITTED

    def missing(self, form: Form) -> list[Missing]:
        """What is still required."""
        return missing(form, self.answers)


@dataclass(frozen=True)
class Item:
    """One item of a repeat section (a person, a plan item), with its position (STT) among the unit's items."""

    section: Section
    stt: int
    values: dict[str, Any]
    lookup: Lookup = NO_LOOKUP  # the report's answers, for a `relevant` naming another section

    def questions(self) -> Iterator[tuple[Question, Any]]:
        """The questions asked for this item, with their answers (None when not answered)."""
        for question in self.section.questions:
            if is_relevant(question, self.values, self.lookup):
                yield question, self.values.get(question.key)


@dataclass(frozen=True)
class ExportData:
    form: Form
    campaign_title: str
    doc_ref: str | None
    deadline_at: datetime
    generated_at: datetime
    units: list[UnitReport]
    province: str | None = None  # "Đồng Nai": HCC_PROVINCE, else the campaign's
    issuing: Issuing = Issuing()  # how the consolidated report is issued (exports/issuing.py)


def has_section(form: Form, key: str) -> bool:
    """Whether the form has a section with this key (forms differ between data calls)."""
    return any(section.key == key for section in form.sections)


def is_template_form(form: Form) -> bool:
    """Whether the exports lay this form out as the letter's template (the shipped form, or one grown from it:
    same id, or the template's staff, procedures and plan sections); False means the generic layout."""
    keys = {section.key for section in form.sections}
    return form.id == TEMPLATE_FORM_ID or set(TEMPLATE_SECTIONS) <= keys


def photo_questions(section: Section) -> list[Question]:
    """The section's photo questions, in form order."""
    return [q for q in section.questions if q.type == "photo"]


def badge_questions(form: Form) -> list[tuple[Section, Question]]:
    """The photo questions whose photos are printed on badges: those marked `badge: true`; when the form marks
    none (or Question has no such field yet), the photos of the template's main and backup staff."""
    return form.badge_questions()  # the rule lives with the form: the chat's photo pipeline asks it too


def status_label(data: ExportData, unit: UnitReport) -> str:
    """A unit's status as the exports show it: "đang nhập", and ", quá hạn" once the deadline has passed;
    ", đơn vị đã ngừng hoạt động" for a deactivated unit."""
    if unit.returned:
        label = texts.RETURNED_MARK
    else:
        label = texts.STATE_LABELS.get(unit.review or unit.status, unit.status)
        if unit.status not in SUBMITTED and data.generated_at > (unit.deadline_at or data.deadline_at):
            label = f"{label}, {texts.STATUS_OVERDUE}"
    return label if unit.active else f"{label}, {texts.UNIT_INACTIVE_MARK}"


def items(form: Form, answers: dict[str, Any], section_key: str) -> list[Item]:
    """The items of one repeat section, in order."""
    section = form.section(section_key)
    lookup = AnswersLookup(answers)
    return [Item(section, stt, scope(answers, section_key, n), lookup)
            for stt, n in enumerate(item_numbers(answers, section_key), 1)]


def section_values(form: Form, answers: dict[str, Any], section_key: str) -> list[tuple[Question, Any]]:
    """The questions of a plain section with their answers (None when not answered or not asked)."""
    values = scope(answers, section_key)
    lookup = AnswersLookup(answers)
    return [(question, values.get(question.key) if is_relevant(question, values, lookup) else None)
            for question in form.section(section_key).questions]


async def load_export_data(db, form: Form, *, now: datetime, campaign_id: int | None = None,
                           unit_codes: list[str] | None = None, submitted_versions: bool = True,
                           province: str | None = None) -> ExportData:
    """Read everything an export needs in one transaction.

    A unit that submitted is exported as it submitted it (its last version), unless `submitted_versions` is
    False (a contact checking their own document sees what is entered now). `province` (HCC_PROVINCE) wins
    over the campaign's own.
    """
    # The form's own photo questions (any section, any key), and ".photo" as the shipped form names them.

    photo_keys = {(section.key, q.key) for section in form.sections for q in photo_questions(section)}
    async with db.transaction() as s:
        campaign = await (q.get_campaign(s, campaign_id) if campaign_id else q.current_campaign(s))
        if campaign is None:
            raise LookupError("no campaign")
        wanted = {c.upper() for c in unit_codes} if unit_codes else None
        units: list[UnitReport] = []
        for unit, report in await q.reports_by_unit(s, campaign.id):
            if wanted is not None and unit.code.upper() not in wanted:
                continue
            if report is None:
                units.append(UnitReport(unit.code, unit.name, "not_started", {}, active=unit.active))
                continue
            current = await q.load_answers(s, report.id)
            answers, changed, status = current, False, report.status
            returned = state_of(report) == "returned"
            if submitted_versions and (report.status in SUBMITTED or returned):
                versions = await q.list_report_versions(s, report.id)
                if versions:
                    answers = dict(versions[-1].answers)
                    changed = answers != current
                    if returned:  # counts with the version it submitted until it submits again
                        status = "submitted_late" if versions[-1].late else "submitted"
            photos = {}
            for key, value in answers.items():
                if _is_photo_key(photo_keys, key) and isinstance(value, int):
                    photo = await q.get_photo(s, value)
                    if photo is not None:
                        photos[value] = Path(photo.processed_path)
            units.append(UnitReport(unit.code, unit.name, status, answers, report.submitted_at,
                                    report.last_activity_at, changed, photos, report.review, report.deadline_at,
                                    report.review_comment, active=unit.active))
    return ExportData(form=form, campaign_title=campaign.title, doc_ref=campaign.doc_ref,
                      deadline_at=campaign.deadline_at, generated_at=now, units=units,
                      province=province or campaign.province, issuing=issuing_of(campaign))


def _is_photo_key(photo_keys: set[tuple[str, str]], key: str) -> bool:
    """Whether a storage key holds the answer of a photo question of the form."""
    if key.endswith(".photo"):
        return True
    try:
        section, _, question = split_key(key)
    except ValueError:
        return False
    return (section, question) in photo_keys
