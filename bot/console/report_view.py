"""A unit's report as the unit page lays it out: the form's sections in order, a repeat as a table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from bot.console.answer_history import channel_words
from conversations import texts
from conversations.answers import format_value, is_relevant, item_numbers, scope
from conversations.form import Form, Question
from conversations.xpath import AnswersLookup


@dataclass(frozen=True)
class Cell:
    text: str
    photo: int | None = None  # a photo id: shown as a thumbnail


@dataclass
class SectionView:
    title: str
    fields: list[tuple[str, Cell]] = field(default_factory=list)  # a plain section: label, answer
    columns: list[str] = field(default_factory=list)  # a repeat: the questions...
    rows: list[list[Cell]] = field(default_factory=list)  # ...and one row per item
    repeat: bool = False


def _cell(question: Question, value: Any) -> Cell:
    if question.type == "photo" and isinstance(value, int) and not isinstance(value, bool):
        return Cell(texts.VALUE_PHOTO, value)
    return Cell(format_value(question, value))


def report_sections(form: Form, answers: Mapping[str, Any]) -> list[SectionView]:
    """Every section of the form with what the report holds; what is not answered shows as empty."""
    out = []
    lookup = AnswersLookup(answers)  # a condition may read another section, or the item a list's item belongs to
    for section in form.sections:
        view = SectionView(section.title, repeat=section.repeat is not None)
        if section.repeat is None:
            values = scope(answers, section.key)
            view.fields = [(q.label, _cell(q, values[q.key]) if q.key in values else Cell(""))
                           for q in section.questions if is_relevant(q, values, lookup)]
        else:
            shown = [q for q in section.questions if q.type != "note"]  # a note has no answer: no column
            view.columns = [q.label for q in shown]
            for n in item_numbers(answers, section.key):
                values = scope(answers, section.key, n)
                view.rows.append([_cell(q, values[q.key]) if q.key in values and is_relevant(q, values, lookup)
                                  else Cell("") for q in shown])
        out.append(view)
    return out


@dataclass(frozen=True)
class VersionRow:
    number: int
    submitted_at: datetime
    who: str
    late: bool
    returned: bool  # the department returned this version for correction


def version_rows(versions, submitters: Mapping[int, Any], returned: set,
                 submitted_via: Mapping[datetime, str | None]) -> list[VersionRow]:
    """The versions, newest first, with who submitted each: name and channel (the web page, or the contact's
    chat: answer_history.channel_words of the submission's audit entry, found by its time)."""
    rows = []
    for v in reversed(versions):
        contact = submitters.get(v.submitted_by)
        if contact is None:
            who = texts.CONTACT_NO_NAME
        else:
            channel = channel_words(submitted_via.get(v.submitted_at), contact.channel)
            who = f"{contact.display_name or texts.CONTACT_NO_NAME} ({channel})"
        rows.append(VersionRow(v.version, v.submitted_at, who, v.late, v.version in returned))
    return rows
