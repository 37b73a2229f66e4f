"""Each unit's report as a Word document that reproduces the form attached to the letter (sections I–IV).

That is for the shipped form and forms grown from it (exports.data.is_template_form); any other form gets the
same heading and signature around a generic body: the form's title, then each section as a numbered heading
with a question | answer table, or a table of its items (exports/generic.py).

The document follows the template's shape: the national header, the title, then the staff table with one
merged role cell per group, the procedures table with the post-office rows under one merged cell, the plan
table and the free text of section IV. The builder walks the form: a question added to a known section lands
in that section's table or lines, and a section added to the form is appended at the end, so nothing
entered is left out.
"""

from __future__ import annotations

import os
import threading
from datetime import timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from docx.document import Document as DocxDocument
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Length, Pt
from docx.table import Table, _Cell

from conversations import texts
from conversations.answers import DONE, LOCAL_TZ, is_relevant, scope
from conversations.answers import key as answer_key
from conversations.form import Form, Question, Section
from conversations.xpath import AnswersLookup
from exports.docx_parts import (add_paragraph, add_row, add_text, clean, fix_widths, grid_table, heading_columns,
                                 new_document, place_date, printed, section_title, signature_block, write_cell)
from exports.data import (STAFF_SECTIONS, SUBMITTED, ExportData, Item, UnitReport, has_section, is_template_form, items,
                          section_values)
from exports.generic import unit_sections
from exports.memory import release_memory
from exports.private_files import FILE_MODE

TITLE_OUTDENT = Cm(0.75)
CONTENT_WIDTH = Cm(16)  # A4 (21 cm) less the 3 cm left and 2 cm right margins

# The sections this module lays out as the template does; any other section is appended generically.
KNOWN_SECTIONS = ("reporter", *STAFF_SECTIONS, "procedures", "pickup", "plan", "issues")
# Questions a known section's layout consumes; any other question of that section is shown as "label: value".
STAFF_KEYS = ("name", "position", "phone", "gender", "shirt_size", "photo")
PLAN_KEYS = ("content", "detail", "start", "end", "responsibility", "partners")
SHIRT_SECTION = "main_staff"  # the letter asks shirt sizes of the main staff only
POSTAL_PREFIX = "postal_"  # counts of the procedures section grouped under texts.DOC_POSTAL_GROUP
PARTNERS_SUFFIX = "_partners"  # `<count key>_partners`: the partner units of that count

# Column widths sum to CONTENT_WIDTH; the narrow ones fit their longest usual text (a date, a phone, "Nam – 40").
STAFF_WIDTHS = (Cm(3.4), Cm(3.9), Cm(3.5), Cm(2.8), Cm(2.4))
PROCEDURE_WIDTHS = (Cm(3.2), Cm(5.0), Cm(1.8), Cm(6.0))  # group | sub-label | count | partner units
# "Chi tiết" holds the longest text: it gets the width (at 3.45 cm a real detail wrapped to 13 lines).
PLAN_WIDTHS = (Cm(1.0), Cm(3.8), Cm(4.3), Cm(2.35), Cm(2.35), Cm(2.2))

# Characters XML 1.0 forbids (lxml refuses them) and C1 controls, which Word shows as boxes or refuses.


TRIM_EVERY = 50  # documents between two returns of freed memory to the OS (see exports/memory.py)


def build_unit_documents(data: ExportData, folder: Path, *,
                         progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """One document per unit that has entered something, in `folder`, named texts.DOC_FILE; progress(done, total)
    after each unit. A unit that never started gets no empty document (Tình trạng lists it)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for done, unit in enumerate(data.units, 1):
        if has_document(unit):
            paths.append(build_unit_document(data, unit, folder / texts.DOC_FILE.format(code=unit.code)))
        if done % TRIM_EVERY == 0:
            release_memory()
        if progress is not None:
            progress(done, len(data.units))
    return paths


def has_document(unit: UnitReport) -> bool:
    """Whether the unit has a document: it has entered something (one that never started has none)."""
    return unit.status != "not_started" or bool(unit.answers)


def build_unit_document(data: ExportData, unit: UnitReport, path: Path, *, partial: Path | None = None) -> Path:
    """Write one unit's report as a .docx reproducing the template, filled with its answers (mode 0600).

    It is written to `partial` (by default a name of this process and thread) and then takes its real name.
    """
    doc = new_document()
    form = data.form
    template = is_template_form(form)
    title_line = texts.DOC_TITLE.split("\n")[-1] if template else form.title
    properties = doc.core_properties  # python-docx's template would sign the file "python-docx"
    properties.title = clean(f"{title_line} – {unit.name}")
    properties.author = clean(unit.name)
    properties.comments = properties.last_modified_by = ""
    # python-docx writes the time with a Z whatever its zone: give it UTC.
    generated = data.generated_at
    if generated.tzinfo is not None:
        generated = generated.astimezone(timezone.utc).replace(tzinfo=None)
    properties.created = properties.modified = generated

    if not template:  # any other form: its own title and sections (exports/generic.py)
        _generic_heading(doc, data, unit)
        unit_sections(doc, form, unit)
        add_paragraph(doc, "", after=0)  # air between the last table and the signature
    else:
        _template_body(doc, data, unit)
    signature_block(doc, texts.DOC_RECIPIENT_LINES, texts.DOC_SIGNER)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial or path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    doc.save(str(partial))
    os.chmod(partial, FILE_MODE)  # a report names people and their mobiles (Decree 13/2023)
    partial.replace(path)  # two contacts asking at once never read a half-written file
    return path


def _template_body(doc: DocxDocument, data: ExportData, unit: UnitReport) -> None:
    """The letter's template: heading, I. staff, II. procedures and pickup, III. plan, IV. issues, and any
    section added to the form after them."""
    form, answers = data.form, unit.answers
    _heading_block(doc, data, unit)
    if any(has_section(form, key) for key in STAFF_SECTIONS):
        _staff(doc, form, answers)
    if has_section(form, "procedures"):
        _procedures(doc, form, answers)
    if has_section(form, "pickup"):
        _pickup(doc, form, answers)
    if has_section(form, "plan"):
        _plan(doc, form, answers)
    _issues(doc, form, answers)
    for section in form.sections:
        if section.key not in KNOWN_SECTIONS:
            _generic_section(doc, form, section, answers)


# --- The heading and the signature -----------------------------------------------------------------------


def _unit_and_date(doc: DocxDocument, data: ExportData, unit: UnitReport) -> None:
    """The unit on the left, the national name and motto on the right, the place and date line under the motto."""
    province = clean(data.province or "").strip()
    parent = clean(data.issuing.parent(province))
    heading_columns(doc, [(parent, False), (clean(unit.name).upper(), True)])
    day = (unit.submitted_at or data.generated_at).astimezone(LOCAL_TZ)
    place = add_paragraph(doc, place_date(texts.DOC_PLACE_DATE_OF, province or "…………", day), italic=True,
                          align=WD_ALIGN_PARAGRAPH.RIGHT, before=6, after=12)
    place.paragraph_format.keep_with_next = True
    if unit.status not in SUBMITTED:  # what is entered so far, not the unit's word yet
        draft = add_paragraph(doc, texts.DOC_DRAFT, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=6)
        draft.paragraph_format.keep_with_next = True


def _heading_block(doc: DocxDocument, data: ExportData, unit: UnitReport) -> None:
    """The standard heading: the unit on the left, the national name and motto on the right; the place and date
    line under the motto; then the title."""
    form, answers = data.form, unit.answers
    _unit_and_date(doc, data, unit)
    title = add_paragraph(doc, "", align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    add_text(title, texts.DOC_TITLE, bold=True)
    # The title's long line is a little wider than the text block: let it reach into the margins, not wrap.
    title.paragraph_format.left_indent = title.paragraph_format.right_indent = -TITLE_OUTDENT
    if data.doc_ref:
        add_paragraph(doc, texts.DOC_ATTACHED.format(doc_ref=data.doc_ref), italic=True,
                   align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    else:
        title.paragraph_format.space_after = Pt(12)
    if has_section(form, "reporter"):
        values = dict(section_values(form, answers, "reporter"))
        shown = {q.key: _shown(q, v) or texts.DOC_NOT_ENTERED for q, v in values.items()}
        add_paragraph(doc, texts.DOC_REPORTER.format(name=shown.get("name", ""), phone=shown.get("phone", "")))
        for line in _extra_lines(values.items(), ("name", "phone")):
            add_paragraph(doc, line)


def _generic_heading(doc: DocxDocument, data: ExportData, unit: UnitReport) -> None:
    """The standard heading for any form: the unit and the national name and motto, the place and date line, the
    form's title in capitals (and the campaign's under it when it says something else), the letter's number."""
    _unit_and_date(doc, data, unit)
    title = add_paragraph(doc, "", align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    add_text(title, clean(data.form.title).upper(), bold=True)
    campaign = clean(data.campaign_title or "").strip()
    last = title
    if campaign and campaign.casefold() != clean(data.form.title).casefold():
        last = add_paragraph(doc, campaign, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    if data.doc_ref:
        last = add_paragraph(doc, texts.DOC_ATTACHED.format(doc_ref=data.doc_ref), italic=True,
                             align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    last.paragraph_format.space_after = Pt(12)


# --- I. Staff ---------------------------------------------------------------------------------------------


def _staff(doc: DocxDocument, form: Form, answers: dict[str, Any]) -> None:
    section_title(doc, texts.DOC_SECTION_STAFF)
    table = grid_table(doc, texts.DOC_STAFF_HEADERS, STAFF_WIDTHS)
    for section_key in STAFF_SECTIONS:
        if not has_section(form, section_key):
            continue
        people = items(form, answers, section_key)
        first = len(table.rows)
        for person in people:
            values = dict(person.questions())
            cells = add_row(table)
            write_cell(cells[1], "\n".join(filter(None, [_shown_key(values, "name"),
                                                     *_extra_lines(values.items(), STAFF_KEYS)])))
            write_cell(cells[2], _shown_key(values, "position"))
            write_cell(cells[3], _shown_key(values, "phone"))
            if section_key == SHIRT_SECTION:
                write_cell(cells[4], " – ".join(filter(None, [_shown_key(values, "gender"),
                                                         _shown_key(values, "shirt_size")])))
                cells[4].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        if not people:
            write_cell(add_row(table)[1], _empty_repeat(answers, section_key), italic=True)
        role = table.cell(first, 0)
        if len(table.rows) - 1 > first:
            role = role.merge(table.cell(len(table.rows) - 1, 0))
        write_cell(role, texts.DOC_ROLE_LABELS.get(section_key, form.section(section_key).title))
        role.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    fix_widths(table, STAFF_WIDTHS)
    add_paragraph(doc, texts.DOC_SHIRT_NOTE, italic=True, before=4)


# --- II. Procedures and the post office's pickups ---------------------------------------------------------


def _procedures(doc: DocxDocument, form: Form, answers: dict[str, Any]) -> None:
    section_title(doc, texts.DOC_SECTION_PROCEDURES)
    values = section_values(form, answers, "procedures")
    by_key = {q.key: (q, v) for q, v in values}
    counts = [(q, v) for q, v in values if q.type == "integer"]
    plain = [c for c in counts if not c[0].key.startswith(POSTAL_PREFIX)]
    postal = [c for c in counts if c[0].key.startswith(POSTAL_PREFIX)]
    used = {q.key for q, _ in counts} | {q.key + PARTNERS_SUFFIX for q, _ in counts}

    table = grid_table(doc, ["", *texts.DOC_PROCEDURE_HEADERS], PROCEDURE_WIDTHS)
    header = table.rows[0].cells
    header[0].merge(header[1])
    write_cell(table.rows[0].cells[0], texts.DOC_PROCEDURE_HEADERS[0], bold=True, center=True)

    def count_row(question: Question, value: Any) -> list[_Cell]:
        cells = add_row(table)
        write_cell(cells[2], _shown(question, value), center=True)
        partners = by_key.get(question.key + PARTNERS_SUFFIX)
        said_none = partners is not None and answer_key("procedures", partners[0].key) in answers \
            and partners[1] is None
        write_cell(cells[3], texts.VALUE_SKIPPED if said_none else _shown(*partners) if partners else "")
        return cells

    for question, value in plain:
        cells = count_row(question, value)
        write_cell(cells[0].merge(cells[1]), question.label)
    if postal:
        first = len(table.rows)
        for question, value in postal:
            write_cell(count_row(question, value)[1], question.label)
        group = table.cell(first, 0)
        if len(postal) > 1:
            group = group.merge(table.cell(len(table.rows) - 1, 0))
        write_cell(group, texts.DOC_POSTAL_GROUP)
        group.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    fix_widths(table, PROCEDURE_WIDTHS)
    for line in _extra_lines(values, used):
        add_paragraph(doc, line, before=4)


def _pickup(doc: DocxDocument, form: Form, answers: dict[str, Any]) -> None:
    add_paragraph(doc, texts.DOC_PICKUP_TITLE, bold=True, italic=True, before=8)
    values = dict(section_values(form, answers, "pickup"))
    by_key = {q.key: (q, v) for q, v in values.items()}
    if "agree" in by_key:
        question, agree = by_key["agree"]
        if agree is True:
            line = texts.PICKUP_AGREES
        elif agree is False:
            times = by_key.get("proposed_times", (None, None))[1]
            line = texts.PICKUP_PROPOSES.format(times=clean(times) if times else texts.DOC_NOT_ENTERED)
        else:
            line = f"{question.label}: {texts.DOC_NOT_ENTERED}"
        add_paragraph(doc, f"- {line}", indent=True)
    scoped = scope(answers, "pickup")
    for question, value in values.items():
        if question.key in ("agree", "proposed_times") or question.type == "photo":
            continue
        if value is None and (not question.required or not is_relevant(question, scoped)):
            continue  # an optional answer left empty, or a question not asked: nothing to file
        add_paragraph(doc, f"- {question.label}: {_shown(question, value) or texts.DOC_NOT_ENTERED}", indent=True)


# --- III. Plan --------------------------------------------------------------------------------------------


def _plan(doc: DocxDocument, form: Form, answers: dict[str, Any]) -> None:
    section_title(doc, texts.DOC_SECTION_PLAN)
    table = grid_table(doc, texts.DOC_PLAN_HEADERS, PLAN_WIDTHS)
    plan = items(form, answers, "plan")
    for item in plan:
        write_plan_item(table, item)
    if not plan:
        write_cell(add_row(table)[1], _empty_repeat(answers, "plan"), italic=True)
    fix_widths(table, PLAN_WIDTHS)


def write_plan_item(table: Table, item: Item) -> None:
    """One plan item as a row of the template's plan table (also the consolidated report's)."""
    values = dict(item.questions())
    cells = add_row(table)
    write_cell(cells[0], str(item.stt), center=True)
    write_cell(cells[1], _shown_key(values, "content"))
    responsibility = _shown_key(values, "responsibility")
    if responsibility:  # the letter asks to tell the unit's own duties from the shared ones
        cells[1].add_paragraph()
        add_text(cells[1].paragraphs[-1], responsibility, italic=True)
    write_cell(cells[2], "\n".join(filter(None, [_shown_key(values, "detail"),
                                             *_extra_lines(values.items(), PLAN_KEYS)])))
    write_cell(cells[3], _shown_key(values, "start"), center=True)
    write_cell(cells[4], _shown_key(values, "end"), center=True)
    # "không có" typed for the partners reads so; a question never answered stays the template's blank.
    said_none = "partners" in item.values and item.values["partners"] is None
    write_cell(cells[5], texts.VALUE_SKIPPED if said_none else _shown_key(values, "partners"))


# --- IV. Issues, and sections the template does not have ----------------------------------------------------


def _issues(doc: DocxDocument, form: Form, answers: dict[str, Any]) -> None:
    section_title(doc, texts.DOC_SECTION_ISSUES)
    if not has_section(form, "issues"):
        add_paragraph(doc, texts.DOC_NONE, indent=True)
        return
    asked = scope(answers, "issues")
    lines = []
    for question, value in section_values(form, answers, "issues"):
        if value is None or not _shown(question, value).strip():
            continue
        text = _shown(question, value)
        lines += text.split("\n") if question.key == "text" else [f"{question.label}: {text}"]
    if not lines:
        # Nothing asked yet is not the same as a unit that has no difficulties to report.
        add_paragraph(doc, texts.DOC_NONE if asked else texts.DOC_NOT_ENTERED, italic=not asked, indent=True)
    for line in lines:
        add_paragraph(doc, line, indent=True, justify=True)


def _generic_section(doc: DocxDocument, form: Form, section: Section, answers: dict[str, Any]) -> None:
    """A section added to the form after the template: its title, then label: value lines or a table."""
    section_title(doc, section.title)
    if section.repeat is None:
        values = scope(answers, section.key)
        for question in section.questions:
            skipped = question.key in values and values[question.key] is None
            if question.type == "photo" or skipped or not is_relevant(question, values, AnswersLookup(answers)):
                continue
            shown = _shown(question, values.get(question.key)) or texts.DOC_NOT_ENTERED
            add_paragraph(doc, f"- {question.label}: {shown}", indent=True)
        return
    questions = [q for q in section.questions if q.type != "photo"]
    width = Length((CONTENT_WIDTH - Cm(1.2)) // max(len(questions), 1))
    widths = (Cm(1.2), *[width] * len(questions))
    table = grid_table(doc, [texts.COL_STT, *[q.label for q in questions]], widths)
    entries = items(form, answers, section.key)
    for item in entries:
        values = dict(item.questions())
        cells = add_row(table)
        write_cell(cells[0], str(item.stt), center=True)
        for cell, question in zip(cells[1:], questions):
            write_cell(cell, _shown(question, values.get(question)))
    if not entries:
        write_cell(add_row(table)[1], _empty_repeat(answers, section.key), italic=True)
    fix_widths(table, widths)


# --- Values -----------------------------------------------------------------------------------------------


def _empty_repeat(answers: dict[str, Any], section_key: str) -> str:
    """What an item-less list shows: none, when the unit said the list is complete; else not entered yet."""
    return texts.DOC_NONE if answers.get(answer_key(section_key, DONE)) else texts.DOC_NOT_ENTERED


def _shown(question: Question, value: Any) -> str:
    """An answer as printed: empty when not given (the template's blank cell), photos left to the badges."""
    if value is None or question.type == "photo":
        return ""
    return clean(printed(question, value))


def _shown_key(values: dict[Question, Any], key: str) -> str:
    for question, value in values.items():
        if question.key == key:
            return _shown(question, value)
    return ""


def _extra_lines(values: Iterable[tuple[Question, Any]], known: Iterable[str]) -> list[str]:
    """`label: value` for the answered questions a layout does not place (added to the form later)."""
    known = set(known)
    return [f"{q.label}: {_shown(q, v)}" for q, v in values
            if q.key not in known and q.type != "photo" and v is not None]
