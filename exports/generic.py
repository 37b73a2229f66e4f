"""The documents' layout for a form other than the letter's template (exports.data.is_template_form).

Shared by the per-unit document (exports/document.py) and the consolidated report (exports/report.py), so a
campaign with any form gets an official-looking document: the administrative heading and signature of
docx_parts, a title from the form, then one numbered heading per section of the form with

- a plain section: a two-column table, question label | answer (per unit), or in the report one row per unit
  with one column per question (counts totalled) when the questions fit the page, else per unit a block of
  label | answer rows;
- a repeat section: one row per item, STT then one column per question (photos as "có ảnh"), or STT and one
  "label: value" line per question when there are too many questions for the width of an A4 page.

Column widths come from the question types (a date needs less room than a long text) and always sum to the
16 cm text width; table text is 11 pt, as in the consolidated report.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

from docx.document import Document as DocxDocument
from docx.shared import Cm, Length, Pt
from docx.table import Table

from conversations import texts
from conversations.answers import DONE, is_relevant, scope
from conversations.answers import key as answer_key
from conversations.form import Form, Question, Section
from conversations.xpath import AnswersLookup
from exports.data import UnitReport, items
from exports.docx_parts import (add_paragraph, add_row, add_spanning_row, clean, fix_widths, grid_table, number,
                                printed, section_title, set_orientation, set_text_size, write_cell)
from exports.photo_archive import person_of

CONTENT = 16.0  # cm: A4 (21 cm) less the 3 cm left and 2 cm right margins
LANDSCAPE_CONTENT = 24.7  # cm: A4 across (29.7 cm) less the 3 cm and 2 cm margins
STT_WIDTH = 1.2  # cm: "STT" in bold 11 pt on one line
UNIT_WIDTH = 3.8  # cm, the unit's name in the report's tables
LABEL_SHARE = 0.4  # of the width, for the question labels of a two-column table
TABLE_SIZE = Pt(11)
MAX_COLUMNS = 6  # questions in columns at most; beyond, one "label: value" line each in one column
MIN_COLUMN = 1.6  # cm: narrower than this, a column is not readable at 11 pt
# The room each type of answer needs, relative to a short text.
WEIGHTS = {"text": 1.3, "name": 1.4, "long_text": 2.2, "phone": 1.15, "times": 1.1, "integer": 0.75,
           "date": 1.1, "choice": 0.9, "yes_no": 0.75, "photo": 0.9}
ROMAN = re.compile(r"^[IVXLC]+[.)]\s")


def numbered(n: int, title: str) -> str:
    """`II. Học viên`; a title that already starts with a Roman numeral is kept as it is."""
    title = clean(title)
    return title if ROMAN.match(title) else texts.DOC_GENERIC_SECTION.format(number=roman(n), title=title)


def roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                           (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def shown(unit: UnitReport, section: Section, question: Question, values: dict[str, Any], stt: int, *,
          file_names: bool = False, blank: str = "") -> str | None:
    """An answer as a cell prints it; None when the question is not asked (its condition does not hold).

    Not answered yet: `blank`; "không có" typed for an optional one: VALUE_SKIPPED; a photo: "có ảnh" (or its
    file name in the photo archive with `file_names`), "chưa có ảnh" when there is none.
    """
    if not is_relevant(question, values, AnswersLookup(unit.answers)):  # a condition may read another section
        return None
    if question.key not in values:
        return texts.DOC_PHOTO_MISSING if question.type == "photo" else blank
    value = values[question.key]
    if question.type == "photo":
        person = person_of(unit, section, question, stt, values) if isinstance(value, int) else None
        if person is None or person.photo is None:
            return texts.DOC_PHOTO_MISSING
        return person.file_name() if file_names else texts.DOC_PHOTO_GIVEN
    if value is None:
        return texts.VALUE_SKIPPED
    return clean(printed(question, value))


def listed(section: Section) -> list[Question]:
    """The questions a list's table has a column for: all but its notes (a note has no answer; what it says of
    one item reads that item's answers, and is said in the chat and shown on the page)."""
    return [q for q in section.questions if q.type != "note"]


def widths_for(questions: Sequence[Question], room: float) -> list[Length]:
    """Column widths (in cm, summing to `room`) in proportion to what each question's answers need."""
    weights = [WEIGHTS.get(q.type, 1.0) for q in questions]
    total = sum(weights) or 1.0
    return [Cm(room * w / total) for w in weights]


def fits_columns(questions: Sequence[Question], room: float) -> bool:
    """Whether the questions can have a column each in `room` cm."""
    return 0 < len(questions) <= MAX_COLUMNS and min(w.cm for w in widths_for(questions, room)) >= MIN_COLUMN


def empty_list(answers: dict[str, Any], section_key: str) -> str:
    """What an item-less list shows: none, when the unit said the list is complete; else not entered yet."""
    return texts.DOC_NONE if answers.get(answer_key(section_key, DONE)) else texts.DOC_NOT_ENTERED


def finish(table: Table, widths: Sequence[Length]) -> None:
    fix_widths(table, widths)
    set_text_size(table, TABLE_SIZE)


# --- One unit's document ----------------------------------------------------------------------------------


def unit_sections(doc: DocxDocument, form: Form, unit: UnitReport) -> None:
    """Every section of the form for one unit, numbered I, II, …"""
    for n, section in enumerate(form.sections, 1):
        section_title(doc, numbered(n, section.title))
        if section.repeat is None:
            _unit_plain(doc, section, unit)
        else:
            _unit_repeat(doc, form, section, unit)


def _unit_plain(doc: DocxDocument, section: Section, unit: UnitReport) -> None:
    widths = [Cm(CONTENT * LABEL_SHARE), Cm(CONTENT * (1 - LABEL_SHARE))]
    table = grid_table(doc, [texts.DOC_GENERIC_COL_QUESTION, texts.DOC_GENERIC_COL_ANSWER], widths)
    values = scope(unit.answers, section.key)
    for question in section.questions:
        text = shown(unit, section, question, values, 1, file_names=True, blank=texts.DOC_NOT_ENTERED)
        if text is None:
            continue
        cells = add_row(table)
        write_cell(cells[0], clean(question.label))
        write_cell(cells[1], text, italic=text == texts.DOC_NOT_ENTERED)
    finish(table, widths)


def _unit_repeat(doc: DocxDocument, form: Form, section: Section, unit: UnitReport) -> None:
    entries = items(form, unit.answers, section.key)
    table, widths, columns = _list_table(doc, section, [texts.COL_STT], [Cm(STT_WIDTH)])
    for item in entries:
        cells = add_row(table)
        write_cell(cells[0], str(item.stt), center=True)
        _write_item(cells[1:], unit, section, item.values, item.stt, columns)
    if not entries:
        write_cell(add_row(table)[1], empty_list(unit.answers, section.key), italic=True)
    finish(table, widths)


def _list_table(doc: DocxDocument, section: Section, lead: list[str],
                lead_widths: list[Length]) -> tuple[Table, list[Length], bool]:
    """A table for a repeat section's items: the lead columns, then a column per question (True) or one column
    of "label: value" lines (False)."""
    room = CONTENT - sum(w.cm for w in lead_widths)
    if fits_columns(listed(section), room):
        widths = [*lead_widths, *widths_for(listed(section), room)]
        return grid_table(doc, [*lead, *(clean(q.label) for q in listed(section))], widths), widths, True
    widths = [*lead_widths, Cm(room)]
    return grid_table(doc, [*lead, texts.DOC_GENERIC_COL_DETAILS], widths), widths, False


def _write_item(cells, unit: UnitReport, section: Section, values: dict[str, Any], stt: int, columns: bool) -> None:
    if columns:
        for cell, question in zip(cells, listed(section)):
            text = shown(unit, section, question, values, stt)
            write_cell(cell, text or "", center=question.type in ("integer", "date", "yes_no", "photo"))
        return
    lines = []
    for question in listed(section):
        text = shown(unit, section, question, values, stt)
        if text:
            lines.append(f"{clean(question.label)}: {text}")
    write_cell(cells[0], "\n".join(lines))


# --- The consolidated report --------------------------------------------------------------------------------


def report_sections(doc: DocxDocument, form: Form, units: list[UnitReport], *, annexes: list | None = None,
                    annex_heading: Callable[[str, str], None] | None = None) -> None:
    """Every section of the form over all the given (submitted) units, numbered I, II, …

    With `annexes`, a repeat section is summarised in the body (its items per unit) and its full list goes to an
    annex after the signature: `annexes` gets a function that writes it, given the annex's numeral, starting
    with annex_heading(numeral, title)."""
    for n, section in enumerate(form.sections, 1):
        section_title(doc, numbered(n, section.title))
        if section.repeat is None:
            _report_plain(doc, section, units)
        elif annexes is None or annex_heading is None:
            _report_repeat(doc, form, section, units)
        else:
            _report_repeat_summary(doc, form, section, units, annexes, annex_heading)


def _report_repeat_summary(doc: DocxDocument, form: Form, section: Section, units: list[UnitReport],
                           annexes: list, annex_heading: Callable[[str, str], None]) -> None:
    """Items per unit in the body, the full list in an annex."""
    counted = [(unit, len(items(form, unit.answers, section.key))) for unit in units]
    counted = [(unit, count) for unit, count in counted if count]
    if not counted:
        add_paragraph(doc, texts.DOC_NONE, indent=True)
        return
    numeral = roman(len(annexes) + 1)
    add_paragraph(doc, texts.REPORT_REPEAT_ANNEX_SUMMARY.format(
        section=clean(section.title).lower(), items=number(sum(c for _, c in counted)), units=number(len(counted)),
        annex=numeral), indent=True, justify=True)
    widths = [Cm(1.2), Cm(CONTENT - 1.2 - 3.0), Cm(3.0)]
    table = grid_table(doc, [texts.COL_STT, texts.COL_UNIT, texts.COL_COUNT], widths)
    for n, (unit, count) in enumerate(counted, 1):
        cells = add_row(table)
        write_cell(cells[0], str(n), center=True)
        write_cell(cells[1], unit_name(unit))
        write_cell(cells[2], number(count), center=True)
    cells = add_row(table)
    write_cell(cells[1], texts.TOTAL_ROW, bold=True)
    write_cell(cells[2], number(sum(c for _, c in counted)), bold=True, center=True)
    finish(table, widths)

    def annex(numeral: str) -> None:
        landscape = not fits_columns(listed(section), CONTENT - STT_WIDTH)
        if landscape:  # a wide list: a landscape section, a column per question, headers wrapped
            set_orientation(doc, landscape=True)
        annex_heading(numeral, clean(section.title).upper())
        _report_repeat(doc, form, section, units, width=LANDSCAPE_CONTENT if landscape else CONTENT,
                       force_columns=landscape)
        if landscape:
            set_orientation(doc, landscape=False)

    annexes.append(annex)


def unit_name(unit: UnitReport) -> str:
    """The unit's name, marked while it corrects a returned report."""
    name = clean(unit.name)
    return f"{name} ({texts.RETURNED_MARK})" if unit.returned else name


def _report_plain(doc: DocxDocument, section: Section, units: list[UnitReport]) -> None:
    room = CONTENT - STT_WIDTH - UNIT_WIDTH
    if fits_columns(listed(section), room):
        widths = [Cm(STT_WIDTH), Cm(UNIT_WIDTH), *widths_for(listed(section), room)]
        headers = [texts.COL_STT, texts.COL_UNIT, *(clean(q.label) for q in listed(section))]
        table = grid_table(doc, headers, widths)
        counts = [q.type == "integer" for q in listed(section)]
        totals = [0] * len(listed(section))
        for n, unit in enumerate(units, 1):
            values = scope(unit.answers, section.key)
            cells = add_row(table)
            write_cell(cells[0], str(n), center=True)
            write_cell(cells[1], unit_name(unit))
            _write_item(cells[2:], unit, section, values, 1, True)
            for i, question in enumerate(listed(section)):
                value = values.get(question.key)
                if counts[i] and isinstance(value, int) and not isinstance(value, bool) \
                        and is_relevant(question, values):
                    totals[i] += value
        if any(counts) and units:
            cells = add_row(table)
            write_cell(cells[1], texts.TOTAL_ROW, bold=True)
            for i, counted in enumerate(counts):
                if counted:
                    write_cell(cells[2 + i], number(totals[i]), bold=True, center=True)
        if not units:
            write_cell(add_row(table)[1], texts.DOC_NONE, italic=True)
        finish(table, widths)
        return
    # Too many questions for columns: per unit, its name across the table, then label | answer rows.
    widths = [Cm(CONTENT * LABEL_SHARE), Cm(CONTENT * (1 - LABEL_SHARE))]
    table = grid_table(doc, [texts.DOC_GENERIC_COL_QUESTION, texts.DOC_GENERIC_COL_ANSWER], widths)
    for unit in units:
        write_cell(add_spanning_row(table), unit_name(unit), bold=True)
        values = scope(unit.answers, section.key)
        for question in section.questions:
            text = shown(unit, section, question, values, 1, blank=texts.DOC_NOT_ENTERED)
            if text is None:
                continue
            cells = add_row(table)
            write_cell(cells[0], clean(question.label))
            write_cell(cells[1], text)
    if not units:
        write_cell(add_row(table)[1], texts.DOC_NONE, italic=True)
    finish(table, widths)


def _report_repeat(doc: DocxDocument, form: Form, section: Section, units: list[UnitReport], *,
                   width: float = CONTENT, force_columns: bool = False) -> None:
    """The items of every unit, under a row with the unit's name (as the template's plan table)."""
    if force_columns:  # a repeat is a table whatever its width: a column per question, however narrow
        widths = [Cm(STT_WIDTH), *widths_for(listed(section), width - STT_WIDTH)]
        table = grid_table(doc, [texts.COL_STT, *(clean(q.label) for q in listed(section))], widths)
        columns = True
    else:
        table, widths, columns = _list_table(doc, section, [texts.COL_STT], [Cm(STT_WIDTH)])
    written = 0
    for unit in units:
        entries = items(form, unit.answers, section.key)
        if not entries:
            continue
        write_cell(add_spanning_row(table), unit_name(unit), bold=True)
        for item in entries:
            cells = add_row(table)
            write_cell(cells[0], str(item.stt), center=True)
            _write_item(cells[1:], unit, section, item.values, item.stt, columns)
            written += 1
    if not written:
        write_cell(add_row(table)[1], texts.DOC_NONE, italic=True)
    finish(table, widths)
