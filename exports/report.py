"""The consolidated report (bao-cao-tong-hop.docx) Sở Nội vụ sends up to UBND tỉnh, in the template's shape.

Heading (UBND tỉnh / Sở Nội vụ on the left, national name and motto on the right), place and date line, title,
addressee, then: how many units reported (on time, late) out of how many were asked; I. staff counts per unit
with the leaders' names and phones; II. units × procedure types with totals, and the post office's pickup times;
III. every plan item grouped by unit; IV. difficulties grouped by unit; the signature block; an annex with each
unit's status. Sections I–IV hold submitted reports only (their last submitted version): a draft is not yet the
unit's word. The builder walks the form: counts are the form's integer questions, plan columns its questions.
Sections I–IV are the template's (exports.data.is_template_form); for any other form they are the form's own
sections, numbered, each a table over the submitted units (exports/generic.py); the rest is the same.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Pt
from docx.table import Table

from conversations import texts
from conversations.answers import LOCAL_TZ, format_datetime, format_value, missing_parts, scope
from conversations.form import Form
from exports.data import (SUBMITTED, STAFF_SECTIONS, ExportData, UnitReport, has_section, is_template_form, items,
                          section_values, status_label)
from exports.generic import report_sections
from exports.document import PLAN_WIDTHS, write_plan_item
from exports.docx_parts import (add_paragraph, add_row, add_spanning_row, add_text, clean, fix_widths, grid_table,
                                issuer_heading, new_document, number, number as number_of, place_date, printed, section_title,
                                set_text_size, signer_block, write_cell)
from exports.issuing import ISSUER, trich_yeu
from exports.private_files import FILE_MODE

Progress = Callable[[int, int], None]

TABLE_SIZE = Pt(11)  # table text; the body is 13 pt
CONTENT = 16.0  # cm: A4 less the 3 cm left and 2 cm right margins
STAFF_COUNTED = ("main_staff", "backup_staff", "postal_staff")
ANNEX_WIDTHS = (Cm(1.2), Cm(4.7), Cm(2.6), Cm(3.0), Cm(4.5))  # "dd/mm/yyyy hh:mm" on one line
PLAN_SUMMARY_WIDTHS = (Cm(1.2), Cm(11.8), Cm(3.0))
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def build_report(data: ExportData, path: Path, *, progress: Progress | None = None) -> Path:
    """Write the consolidated report to `path` (mode 0600); progress(done, total) once the units are read."""
    doc = new_document()
    properties = doc.core_properties
    properties.title = clean(f"{texts.ISSUING_DOC_TYPE} – {trich_yeu(data.campaign_title)}")
    properties.author = texts.REPORT_DEPARTMENT
    properties.comments = properties.last_modified_by = ""
    submitted = [u for u in data.units if u.status in SUBMITTED]
    form = data.form
    annexes: list[Callable[[str], None]] = []  # each writes one annex after the signature, given its number

    _heading(doc, data)
    _summary(doc, data)
    if submitted and not is_template_form(form):  # any other form: a table per section (exports/generic.py)
        report_sections(doc, form, submitted, annexes=annexes,
                        annex_heading=lambda n, title: _annex_heading(doc, data, n, title))
    elif submitted:
        if any(has_section(form, key) for key in STAFF_SECTIONS):
            _staff(doc, form, submitted)
        if has_section(form, "procedures"):
            _procedures(doc, form, submitted)
        if has_section(form, "plan"):
            _plan(doc, data, submitted, annexes)
        if has_section(form, "issues"):
            _issues(doc, form, submitted)
    _signature(doc, data)
    annexes.append(lambda n: _annex(doc, data, n))
    for n, write in enumerate(annexes):
        write(ROMAN[n] if n < len(ROMAN) else str(n + 1))
    if progress:
        progress(len(data.units), len(data.units))

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    doc.save(str(partial))
    os.chmod(partial, FILE_MODE)  # names and mobiles of the leaders (Decree 13/2023)
    partial.replace(path)
    return path


# --- Heading, summary, signature ------------------------------------------------------------------------


def _heading(doc: DocxDocument, data: ExportData) -> None:
    """Nghị định 30's heading, then the document type and its trích yếu, said once."""
    province = clean(data.province or "")
    issuing = data.issuing
    day = data.generated_at.astimezone(LOCAL_TZ)
    issuer_heading(doc, [(clean(issuing.parent(province)), False), (ISSUER, True)], clean(issuing.number_line()),
                   place_date(texts.REPORT_PLACE_DATE, province or "…………", day))
    add_paragraph(doc, texts.ISSUING_DOC_TYPE, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    add_paragraph(doc, clean(trich_yeu(data.campaign_title)), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    add_paragraph(doc, "―――――", align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    add_paragraph(doc, texts.REPORT_RECIPIENT.format(province=f" {province}" if province else ""),
                  align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    generated = format_datetime(data.generated_at)
    intro = texts.REPORT_INTRO_REF.format(doc_ref=clean(data.doc_ref), generated=generated) if data.doc_ref else \
        texts.REPORT_INTRO.format(generated=generated)
    add_paragraph(doc, intro, indent=True, justify=True)


def _summary(doc: DocxDocument, data: ExportData) -> None:
    count = {status: sum(1 for u in data.units if u.status == status) for status in texts.STATUS_LABELS}
    submitted = count["submitted"] + count["submitted_late"]
    line = texts.REPORT_SUMMARY.format(
        deadline=format_datetime(data.deadline_at), submitted=submitted, total=len(data.units),
        on_time=count["submitted"], late=count["submitted_late"], missing=len(data.units) - submitted,
        in_progress=count["in_progress"], not_started=count["not_started"])
    paragraph = add_paragraph(doc, "", indent=True, justify=True)
    add_text(paragraph, texts.REPORT_SUMMARY_TITLE + ": ", bold=True)
    add_text(paragraph, line)
    if not submitted:
        add_paragraph(doc, texts.REPORT_NO_SUBMISSION, italic=True, indent=True)


def _signature(doc: DocxDocument, data: ExportData) -> None:
    add_paragraph(doc, "", after=0)
    issuing = data.issuing
    signer_block(doc, [clean(line) for line in issuing.recipient_lines()],
                 [clean(line) for line in issuing.signer_lines()], clean(issuing.signer_name or "") or None)


# --- I. Staff ---------------------------------------------------------------------------------------------


def _staff(doc: DocxDocument, form: Form, units: list[UnitReport]) -> None:
    section_title(doc, texts.DOC_SECTION_STAFF)
    counted = [key for key in STAFF_COUNTED if has_section(form, key)]
    leader = has_section(form, "leader")
    headers = [texts.COL_STT, texts.COL_UNIT, *([texts.REPORT_COL_LEADER] if leader else []),
               *(texts.REPORT_STAFF_COUNT.get(key, form.section(key).title) for key in counted)]
    count_w = 2.1
    fixed = 1.2 + count_w * len(counted)
    widths = [Cm(1.2), Cm((CONTENT - fixed) * (0.42 if leader else 1.0))]
    if leader:
        widths.append(Cm((CONTENT - fixed) * 0.58))
    widths += [Cm(count_w)] * len(counted)
    table = grid_table(doc, headers, widths)
    totals = [0] * len(counted)
    for n, unit in enumerate(units, 1):
        cells = add_row(table)
        write_cell(cells[0], str(n), center=True)
        write_cell(cells[1], _unit_name(unit))
        col = 2
        if leader:
            people = []
            for item in items(form, unit.answers, "leader"):
                values = {q.key: printed(q, v) for q, v in item.questions() if v is not None}
                people.append(" – ".join(clean(values[k]) for k in ("name", "position", "phone") if k in values))
            write_cell(cells[col], "\n".join(people))
            col += 1
        for i, key in enumerate(counted):
            count = len(items(form, unit.answers, key))
            totals[i] += count
            write_cell(cells[col + i], number_of(count), center=True)
    cells = add_row(table)
    write_cell(cells[1], texts.TOTAL_ROW, bold=True)
    for i, total in enumerate(totals):
        write_cell(cells[len(headers) - len(counted) + i], number_of(total), bold=True, center=True)
    _finish(table, widths)


# --- II. Procedures ----------------------------------------------------------------------------------------


def _procedures(doc: DocxDocument, form: Form, units: list[UnitReport]) -> None:
    section_title(doc, texts.DOC_SECTION_PROCEDURES)
    counts = [q for q in form.section("procedures").questions if q.type == "integer"]
    if counts:
        each = min(2.2, (CONTENT - 1.2 - 3.4) / len(counts))
        widths = [Cm(1.2), Cm(CONTENT - 1.2 - each * len(counts)), *[Cm(each)] * len(counts)]
        table = grid_table(doc, [texts.COL_STT, texts.COL_UNIT, *(q.label for q in counts)], widths)
        totals = [0] * len(counts)
        for n, unit in enumerate(units, 1):
            values = scope(unit.answers, "procedures")
            cells = add_row(table)
            write_cell(cells[0], str(n), center=True)
            write_cell(cells[1], _unit_name(unit))
            for i, question in enumerate(counts):
                value = values.get(question.key)
                if isinstance(value, int) and not isinstance(value, bool):
                    totals[i] += value
                shown = number_of(value) if isinstance(value, int) and not isinstance(value, bool) else value
                write_cell(cells[2 + i], "" if value is None else str(shown), center=True)
        cells = add_row(table)
        write_cell(cells[1], texts.TOTAL_ROW, bold=True)
        for i, total in enumerate(totals):
            write_cell(cells[2 + i], number_of(total), bold=True, center=True)
        _finish(table, widths)
    if has_section(form, "pickup"):
        _pickup(doc, form, units)


def _pickup(doc: DocxDocument, form: Form, units: list[UnitReport]) -> None:
    questions = {q.key: q for q in form.section("pickup").questions}
    if "agree" not in questions:
        return
    agree, proposals = 0, []
    for unit in units:
        values = scope(unit.answers, "pickup")
        if values.get("agree") is True:
            agree += 1
        elif values.get("agree") is False:
            times = values.get("proposed_times")
            shown = format_value(questions["proposed_times"], times) if times and "proposed_times" in questions else ""
            proposals.append(f"{clean(unit.name)} ({clean(shown)})" if shown else clean(unit.name))
    extra = texts.REPORT_PICKUP_PROPOSALS.format(units=", ".join(proposals)) if proposals else ""
    add_paragraph(doc, texts.REPORT_PICKUP.format(agree=agree, proposals=extra), indent=True, justify=True, before=6)


# --- III. Plan ---------------------------------------------------------------------------------------------


def _plan(doc: DocxDocument, data: ExportData, units: list[UnitReport], annexes: list) -> None:
    """Counts per unit in the body, every item in an annex after the signature: the leader reads who planned
    how much and signs on the report's first pages; UBND tỉnh finds each item, unit by unit, in the annex."""
    section_title(doc, texts.DOC_SECTION_PLAN)
    planned = [(unit, items(data.form, unit.answers, "plan")) for unit in units]
    planned = [(unit, plan) for unit, plan in planned if plan]
    if not planned:
        add_paragraph(doc, texts.DOC_NONE, indent=True)
        return
    annex = ROMAN[len(annexes)]
    add_paragraph(doc, texts.REPORT_PLAN_SUMMARY.format(units=number(len(planned)),
                                                        items=number(sum(len(p) for _, p in planned)), annex=annex),
                  indent=True, justify=True)
    table = grid_table(doc, [texts.COL_STT, texts.COL_UNIT, texts.REPORT_PLAN_COL_COUNT], PLAN_SUMMARY_WIDTHS)
    for n, (unit, plan) in enumerate(planned, 1):
        cells = add_row(table)
        write_cell(cells[0], str(n), center=True)
        write_cell(cells[1], _unit_name(unit))
        write_cell(cells[2], number(len(plan)), center=True)
    cells = add_row(table)
    write_cell(cells[1], texts.TOTAL_ROW, bold=True)
    write_cell(cells[2], number(sum(len(p) for _, p in planned)), bold=True, center=True)
    _finish(table, PLAN_SUMMARY_WIDTHS)

    def plan_annex(numeral: str) -> None:
        _annex_heading(doc, data, numeral, texts.REPORT_PLAN_ANNEX_TITLE)
        full = grid_table(doc, texts.DOC_PLAN_HEADERS, PLAN_WIDTHS)
        for unit, plan in planned:
            write_cell(add_spanning_row(full), _unit_name(unit), bold=True)
            for item in plan:
                write_plan_item(full, item)  # the row the unit's own document has
        _finish(full, PLAN_WIDTHS)

    annexes.append(plan_annex)


def _unit_name(unit: UnitReport) -> str:
    """The unit's name, marked while it corrects a returned report."""
    name = clean(unit.name)
    return f"{name} ({texts.RETURNED_MARK})" if unit.returned else name


# --- IV. Issues ----------------------------------------------------------------------------------------------


def _issues(doc: DocxDocument, form: Form, units: list[UnitReport]) -> None:
    section_title(doc, texts.DOC_SECTION_ISSUES)
    written = 0
    for unit in units:
        lines = []
        for question, value in section_values(form, unit.answers, "issues"):
            text = clean(printed(question, value)).strip() if value is not None else ""
            if text:
                lines += text.split("\n") if question.key == "text" else [f"{question.label}: {text}"]
        if not lines:
            continue
        written += 1
        paragraph = add_paragraph(doc, "", indent=True, justify=True, after=2)
        add_text(paragraph, f"- {_unit_name(unit)}: ", bold=True)
        add_text(paragraph, lines[0])
        for line in lines[1:]:
            add_paragraph(doc, line, indent=True, justify=True, after=2)
    if not written:
        add_paragraph(doc, texts.DOC_NONE, indent=True)


# --- Annex ---------------------------------------------------------------------------------------------------


def _annex_heading(doc: DocxDocument, data: ExportData, numeral: str, title: str) -> None:
    """A new page: "Phụ lục I", its title, and the report it belongs to."""
    body = doc.element.body
    last = body[-2] if len(body) > 1 else None  # the element before the document's own section properties
    if not (last is not None and last.tag == qn("w:p") and last.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None):
        breaker = add_paragraph(doc, "", after=0)  # (a new section already starts a new page)
        breaker.add_run().add_break(WD_BREAK.PAGE)
    add_paragraph(doc, texts.ISSUING_ANNEX_NUMBER.format(n=numeral), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
                  after=0)
    add_paragraph(doc, title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    day = data.generated_at.astimezone(LOCAL_TZ).strftime("%d/%m/%Y")
    add_paragraph(doc, texts.ISSUING_ANNEX_OF.format(reference=clean(data.issuing.reference()), day=day),
                  italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    add_paragraph(doc, texts.REPORT_ANNEX_AT.format(generated=format_datetime(data.generated_at)), italic=True,
                  align=WD_ALIGN_PARAGRAPH.CENTER, after=8)


def _annex(doc: DocxDocument, data: ExportData, numeral: str) -> None:
    _annex_heading(doc, data, numeral, texts.REPORT_STATUS_ANNEX_TITLE)
    table = grid_table(doc, texts.REPORT_ANNEX_HEADERS, ANNEX_WIDTHS)
    order = {"submitted": 0, "submitted_late": 1, "in_progress": 2, "not_started": 3}
    for n, unit in enumerate(sorted(data.units, key=lambda u: order.get(u.status, 4)), 1):
        cells = add_row(table)
        write_cell(cells[0], str(n), center=True)
        write_cell(cells[1], clean(unit.name))
        write_cell(cells[2], status_label(data, unit))
        write_cell(cells[3], _short_time(unit.submitted_at), center=True)
        write_cell(cells[4], _annex_note(data.form, unit))
    _finish(table, ANNEX_WIDTHS)


def _annex_note(form: Form, unit: UnitReport) -> str:
    if unit.status == "not_started" and not unit.answers:
        return ""  # the status says it all
    if unit.returned:
        return clean(texts.RETURNED_NOTE.format(comment=unit.review_comment or "")).strip()
    if unit.status in SUBMITTED:
        return texts.COL_CHANGED if unit.changed_since_submit else ""
    parts = missing_parts(form, unit.answers)
    return texts.COL_MISSING + ": " + "; ".join(parts) if parts else ""


# --- Helpers -------------------------------------------------------------------------------------------------


def _short_time(moment) -> str:
    """dd/mm/yyyy hh:mm in Asia/Ho_Chi_Minh, to fit a narrow column; empty when not submitted."""
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M") if moment else ""


def _finish(table: Table, widths: Sequence[Length]) -> None:
    """Widths for Word and LibreOffice, and the table's text at 11 pt."""
    fix_widths(table, widths)
    set_text_size(table, TABLE_SIZE)
