"""The consolidated workbook for Sở Nội vụ (.xlsx), built by walking the form so a new question gets a column.

Sheets, in order: Tình trạng (every unit), I. Nhân sự (one row per person), II. Thủ tục (the counts, with totals),
II. Liên thông (one row per procedure type a unit names partner units for), Lịch thu gom, III. Kế hoạch (one row
per plan item), IV. Kiến nghị, Cỡ áo (the shirt order: units × sizes), then one sheet per section of the form that
none of these uses. Section sheets list only units that answered something in that section; Tình trạng lists
every unit. That is the template's layout (exports.data.is_template_form); any other form gets Tình trạng and
then one sheet per section, in the form's order, named after the section (at most 31 characters, unique):
one row per unit for a plain section, one row per item (unit code, unit, status, STT) for a repeat one, one
column per question with its label as header, photo questions last as the archive's file names ("Tệp ảnh").

In I. Nhân sự the photo question's column ("Tệp ảnh") names the person's file in the photo archive, by the
archive's own rule (`exports.photo_archive.photo_file_name`), and stays empty, like the archive, when the stored
photo is missing or unreadable; the row also shows a small thumbnail.

Drafts are kept apart from submitted data: every data sheet has a status column and lists the units that
submitted (their last submitted version) first, then the drafts. II's totals are SUBTOTAL formulas over the
submitted units' rows only (so a filter or an edited cell keeps them right), with a provisional line below that
includes the drafts. The shirt order counts submitted units only and says how many people it leaves out.

Print: every sheet opens with its title and the campaign, then the letter, the deadline and the export time
(Tình trạng adds the counts by status); the same stand in the page header and footer. The unit code and the photo
file names stay on screen but out of the print area, and columns are narrowed (wrapping their text) until the
printed columns fit A4 landscape at no less than about 85 % scale, so text prints at 9 pt or more.

Every text cell is written as a string cell; text a spreadsheet would read as a formula (starting with =, +,
-, @, tab or carriage return) also gets the quote-prefix style, so it stays inert even when someone edits the
cell. Characters that XML cannot carry are dropped so a stray control character cannot break the file.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, Callable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.drawing.image import Image as SheetImage
from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, TwoCellAnchor
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.fonts import DEFAULT_FONT
from openpyxl.utils import get_column_letter
from openpyxl.utils.units import pixels_to_EMU
from openpyxl.worksheet.page import PageMargins
from PIL import Image as PILImage

from conversations import texts
from conversations.answers import (
    LOCAL_TZ, format_answer, format_datetime, format_value, is_relevant, missing_parts, scope,
)
from conversations.form import Form, Question, Section
from conversations.xpath import AnswersLookup
from exports.data import (SUBMITTED, STAFF_SECTIONS, ExportData, UnitReport, has_section, is_template_form, items,
                          section_values, status_label)
# The photo archive owns the naming rule; re-exported so the file names in "Tệp ảnh" are the archive's files.
from exports.photo_archive import person_of, photo_file_name

__all__ = ["build_workbook", "photo_file_name"]

REPORTER_SECTION = "reporter"
# Plain or repeat sections that get a named sheet of their own; any other section gets a sheet named after it.
SECTION_SHEETS = {
    "procedures": texts.SHEET_PROCEDURES,
    "pickup": texts.SHEET_PICKUP,
    "plan": texts.SHEET_PLAN,
    "issues": texts.SHEET_ISSUES,
}
TOTALLED_SECTIONS = ("procedures",)  # counts on one sheet with totals, partner units on the next
NOT_PRINTED = (texts.COL_UNIT_CODE, texts.COL_PHOTO_FILE)  # on screen, out of the print area
# Printed columns together at most this wide (in widths of the digit 0): A4 landscape with our margins holds about
# 140 at 100 %, so this prints at about 85 % or more, and an 11 pt font at 9.3 pt or more.
PRINT_WIDTH = 160
MIN_FIT_WIDTH = 9  # no column is narrowed below this to fit the page
HEADER_CHARS = 80  # the campaign's title in the page header is cut to this
TITLE_FONT = Font(name=DEFAULT_FONT.name, sz=13, family=DEFAULT_FONT.family, scheme=DEFAULT_FONT.scheme, bold=True)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "dd/mm/yyyy"
COUNT_FORMAT = "#,##0"  # thousands grouped as the reader's locale writes them: 1.034 in Vietnamese
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
MAX_CELL_CHARS = 32_767  # Excel refuses longer cell text
MAX_SHEET_TITLE = 31
INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")

MIN_WIDTH, MAX_WIDTH, HEADER_WIDTH = 6, 50, 14  # column widths, in widths of the digit 0
# Width of a character of Vietnamese text in widths of the digit 0 (Calibri, Arial): about 0.8 on average, more
# for capitals; columns are sized generously so short text never wraps. Wrapped lines are counted at 1.0 a
# character: word wrapping leaves the end of each line empty, and a row a little tall beats text cut off.
TEXT_CHAR_WIDTH, WRAP_CHAR_WIDTH, BOLD_CHAR_WIDTH = 0.9, 1.0, 1.0
LINE_HEIGHT, MAX_ROW_HEIGHT = 15, 409  # points; 409 is Excel's limit
THUMB_SIZE = (60, 80)  # pixels, 3:4 like the badge photo
THUMB_PAD = 2  # pixels around the thumbnail inside its cell
THUMB_COLUMN_WIDTH = 10  # characters: about 75 pixels
THUMB_ROW_HEIGHT = (THUMB_SIZE[1] + 2 * THUMB_PAD) * 0.75 + 1  # points

# Font(bold=True) alone names no font, and LibreOffice then falls back to a serif one.
HEADER_FONT = Font(name=DEFAULT_FONT.name, sz=DEFAULT_FONT.sz, family=DEFAULT_FONT.family, scheme=DEFAULT_FONT.scheme,
                   bold=True)
HEADER_FILL = PatternFill("solid", start_color="DDEBF7")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="center", horizontal="center")
CELL_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
HEADING_ALIGNMENT = Alignment(wrap_text=True, vertical="top", horizontal="left")
TITLE_CHAR_WIDTH, TITLE_LINE_HEIGHT = 1.25, 19  # the 13 pt bold title: wider characters, taller lines
_THIN = Side(style="thin", color="808080")
CELL_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)

Progress = Callable[[int, int], None]


def build_workbook(data: ExportData, path: Path, *, progress: Progress | None = None) -> Path:
    """Write the consolidated workbook to `path`; progress(done units, total units) from (0, n) to (n, n)."""
    form = data.form
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = _clean(data.campaign_title)
    page = _Page.of(data)

    status = _status_table(workbook, data, page)
    template = is_template_form(form)
    staff = _StaffTable(workbook, form, page) if template else None
    section_tables: list[_SectionTable | _PartnersTable] = []
    for key, title in SECTION_SHEETS.items():
        if not template or not has_section(form, key):
            continue
        section = form.section(key)
        if key not in TOTALLED_SECTIONS:
            section_tables.append(_SectionTable(workbook, form, title, section, page))
            continue
        counts = [q for q in section.questions if q.type == "integer"]
        others = [q for q in section.questions if q.type != "integer"]
        section_tables.append(_SectionTable(workbook, form, title, section, page, questions=counts, totals=True))
        if others:
            section_tables.append(_PartnersTable(workbook, form, section, others, page))
    shirts = _ShirtOrder.of(form) if template else None
    shirts_table = shirts.table(workbook, page) if shirts else None
    # Any other form: one sheet per section, in the form's order, named after the section.
    used = {REPORTER_SECTION, *STAFF_SECTIONS, *SECTION_SHEETS} if template else set()
    # Their opening line names the section as the form does: the sheet's name may be cut and lose characters.
    section_tables += [_SectionTable(workbook, form, _sheet_title(section.title, section.key, workbook.sheetnames),
                                     section, page, heading=page.heading(_clean(section.title)))
                       for section in form.sections if section.key not in used]

    total = len(data.units)
    if progress:
        progress(0, total)
    for unit in data.units:
        status.add(_status_row(data, unit))
    # Submitted units first, then the drafts: the totals run over the first block only.
    ordered = [u for u in data.units if u.status in SUBMITTED] + [u for u in data.units if u.status not in SUBMITTED]
    for done, unit in enumerate(ordered, 1):
        if unit.status not in SUBMITTED:
            for table in section_tables:
                table.close_submitted()
        label = status_label(data, unit)
        if staff is not None:
            staff.add_unit(unit, label)
        for table in section_tables:
            table.add_unit(unit, label)
        if shirts and shirts_table:
            shirts.add_unit(form, unit, shirts_table)
        if progress:
            progress(done, total)

    for table in section_tables:
        table.add_totals()
    if shirts and shirts_table:
        shirts.add_totals(shirts_table)
    for table in [status, staff.table if staff else None, *(t.table for t in section_tables), shirts_table]:
        if table:
            table.finish()

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    workbook.save(partial)
    partial.replace(path)  # a crash mid-save never leaves a half-written workbook under the real name
    return path


# --- Sheets -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    """What every sheet says of the export: in its opening lines and in the printed pages' header and footer."""

    title: str
    times: str
    header_left: str
    header_right: str
    footer_left: str

    @classmethod
    def of(cls, data: ExportData) -> _Page:
        deadline, generated = format_datetime(data.deadline_at), format_datetime(data.generated_at)
        times = (texts.SHEET_TIMES_REF.format(doc_ref=data.doc_ref, deadline=deadline, generated=generated)
                 if data.doc_ref else texts.SHEET_TIMES.format(deadline=deadline, generated=generated))
        title = _clean(data.campaign_title)
        short = title if len(title) <= HEADER_CHARS else title[:HEADER_CHARS - 1].rstrip() + "…"
        return cls(title=title, times=times, header_left=short,
                   header_right=texts.PAGE_HEADER_RIGHT.format(generated=generated),
                   footer_left=_clean(data.doc_ref or "")[:HEADER_CHARS])

    def heading(self, sheet: str) -> list[str]:
        return [texts.SHEET_HEADING.format(sheet=sheet.upper(), title=self.title), self.times]


def _status_table(workbook: Workbook, data: ExportData, page: _Page) -> _Table:
    form = data.form
    reporter = ([q.label for q in form.section(REPORTER_SECTION).questions]
                if has_section(form, REPORTER_SECTION) else [])
    # "Người điền báo cáo" as a column holds the reporter's name: the section title says whose.
    reporter = [texts.COL_REPORTER if label == form.section(REPORTER_SECTION).title else label for label in reporter]
    headers = [texts.COL_UNIT_CODE, texts.COL_UNIT, texts.COL_STATUS, *reporter, texts.COL_SUBMITTED_AT,
               texts.COL_LAST_ACTIVITY, texts.COL_MISSING, texts.COL_CHANGED]
    counts = {status: sum(1 for u in data.units if u.status == status) for status in texts.STATUS_LABELS}
    heading = [
        texts.STATUS_SHEET_TITLE.format(title=page.title), page.times,
        texts.STATUS_SHEET_COUNTS.format(total=len(data.units), submitted=counts["submitted"] + counts["submitted_late"],
                                         on_time=counts["submitted"], late=counts["submitted_late"],
                                         in_progress=counts["in_progress"], not_started=counts["not_started"]),
    ]
    return _Table(workbook, texts.SHEET_STATUS, headers, page, heading=heading)


def _status_row(data: ExportData, unit: UnitReport) -> list[Any]:
    reporter = ([_cell_value(q, v) for q, v in section_values(data.form, unit.answers, REPORTER_SECTION)]
                if has_section(data.form, REPORTER_SECTION) else [])
    if unit.status == "not_started" and not unit.answers:
        gaps = texts.STATUS_NOT_STARTED_GAPS  # one phrase, not every question of the form
    else:  # one line per section, summed up ("ảnh của 2 nhân sự chính")
        gaps = "\n".join(part[:1].upper() + part[1:] for part in missing_parts(data.form, unit.answers))
    return [unit.code, unit.name, status_label(data, unit), *reporter, _local(unit.submitted_at),
            _local(unit.last_activity_at), gaps or None, texts.YES if unit.changed_since_submit else None]


class _StaffTable:
    """I. Nhân sự: one row per person across the staff sections, one column per distinct question key.

    The photo's thumbnail comes after the answers, and the archive's file name last (not printed).
    """

    def __init__(self, workbook: Workbook, form: Form, page: _Page):
        self.form = form
        self.sections = [form.section(key) for key in STAFF_SECTIONS if has_section(form, key)]
        self.columns: dict[str, Question] = {}
        for section in self.sections:
            for question in section.questions:
                self.columns.setdefault(question.key, question)
        self.photo_keys = [k for k, q in self.columns.items() if q.type == "photo"]
        headers = [texts.COL_UNIT_CODE, texts.COL_UNIT, texts.COL_STATUS, texts.COL_ROLE, texts.COL_STT]
        headers += [q.label for q in self.columns.values() if q.type != "photo"]
        if self.photo_keys:
            headers.append(texts.COL_PHOTO)
            # The photo question's column holds the archive's file name: "Tệp ảnh" says so, unless there are several.
            headers += [texts.COL_PHOTO_FILE] if len(self.photo_keys) == 1 else \
                [self.columns[k].label for k in self.photo_keys]
        self.table = _Table(workbook, texts.SHEET_STAFF, headers, page)
        if self.photo_keys:
            self.table.fixed_widths[headers.index(texts.COL_PHOTO)] = THUMB_COLUMN_WIDTH

    def add_unit(self, unit: UnitReport, status: str) -> None:
        for section in self.sections:
            for item in items(self.form, unit.answers, section.key):
                answered = {q.key: v for q, v in item.questions()}
                name = item.values.get(section.questions[0].key)
                row: list[Any] = [unit.code, unit.name, status, texts.ROLE_LABELS.get(section.key, section.title),
                                  item.stt]
                files: list[Any] = []
                thumbnail: BytesIO | None = None
                for key, question in self.columns.items():
                    value = answered.get(key)
                    if question.type != "photo":
                        row.append(_cell_value(question, value, said_none=key in answered and key in item.values))
                        continue
                    # A photo gone from disk or damaged is left out of the archive too: no file name then.
                    small = _thumbnail(unit.photos[value]) if isinstance(value, int) and value in unit.photos else None
                    files.append(photo_file_name(unit.code, section.key, item.stt, name or "") if small else None)
                    thumbnail = thumbnail or small
                thumb_col = len(row) + 1
                if self.photo_keys:
                    row += [None, *files]
                number = self.table.add(row)
                if thumbnail is not None:
                    self.table.add_image(number, thumb_col, thumbnail)


class _SectionTable:
    """A sheet for one section: one row per unit (plain section) or per item (repeat), only units with data."""

    def __init__(self, workbook: Workbook, form: Form, title: str, section: Section, page: _Page, *,
                 questions: Sequence[Question] | None = None, totals: bool = False,
                 heading: Sequence[str] | None = None):
        self.form = form
        self.section = section
        chosen = list(section.questions if questions is None else questions)
        # Photo questions last, as the archive's file names, out of the print area (like I. Nhân sự's).
        self.questions = [q for q in chosen if q.type not in ("photo", "note")]  # a note has no value
        self.photos = [q for q in chosen if q.type == "photo"]
        self.totals = totals
        self.submitted_end: int | None = None  # the last row of a submitted unit, once the drafts begin
        headers = [texts.COL_UNIT_CODE, texts.COL_UNIT, texts.COL_STATUS]
        if section.repeat is not None:
            headers.append(texts.COL_STT)
        headers += [q.label for q in self.questions]
        headers += [texts.COL_PHOTO_FILE] if len(self.photos) == 1 else \
            [f"{texts.COL_PHOTO_FILE}: {q.label}" for q in self.photos]
        self.table = _Table(workbook, title, headers, page, heading=heading)

    def close_submitted(self) -> None:
        """The rows added from now on are drafts."""
        if self.submitted_end is None:
            self.submitted_end = self.table.data_end

    def add_unit(self, unit: UnitReport, status: str) -> None:
        if self.section.repeat is not None:
            for item in items(self.form, unit.answers, self.section.key):
                answered = {q.key: v for q, v in item.questions()}
                self.table.add([unit.code, unit.name, status, item.stt,
                                *(_cell_value(q, answered.get(q.key), said_none=q.key in answered and q.key in item.values,
                                              values=item.values) for q in self.questions),
                                *(self._photo_file(unit, q, item.stt, item.values) for q in self.photos)])
            return
        wanted = {q.key for q in self.questions} | {q.key for q in self.photos}
        values = [(q, v) for q, v in section_values(self.form, unit.answers, self.section.key) if q.key in wanted]
        if all(v is None for _, v in values):
            return
        given = scope(unit.answers, self.section.key)
        lookup = AnswersLookup(unit.answers)
        self.table.add([unit.code, unit.name, status,
                        *(_cell_value(q, v, said_none=q.key in given and is_relevant(q, given, lookup), values=given)
                          for q, v in values if q.type not in ("photo", "note")),
                        *(self._photo_file(unit, q, 1, given) for q in self.photos)])

    def _photo_file(self, unit: UnitReport, question: Question, stt: int, values: dict[str, Any]) -> str | None:
        """The photo's file name in its unit's archive folder; None without a readable photo."""
        if not isinstance(values.get(question.key), int):
            return None
        person = person_of(unit, self.section, question, stt, values)
        if person.photo is None or not _readable(person.photo):
            return None
        return person.file_name()

    def add_totals(self) -> None:
        """SUBTOTAL over the submitted units' rows; below it, a provisional line with the drafts too."""
        if not self.totals:
            return
        first = self.table.top + 1
        submitted_end = self.table.data_end if self.submitted_end is None else self.submitted_end
        lead = 3 + (1 if self.section.repeat is not None else 0)

        def line(label: str, end: int) -> list[Any]:
            # The label goes in the unit's column: the code column is not printed.
            cells: list[Any] = [None, label] + [None] * (lead - 2)
            for n, question in enumerate(self.questions, lead + 1):
                if question.type != "integer":
                    cells.append(None)
                    continue
                letter = get_column_letter(n)
                cells.append(Formula(f"=SUBTOTAL(109,{letter}{first}:{letter}{end})") if end >= first else 0)
            return cells

        self.table.add_total(line(texts.TOTAL_SUBMITTED_ROW, submitted_end))
        if self.table.data_end > submitted_end:
            self.table.add_total(line(texts.TOTAL_PROVISIONAL_ROW, self.table.data_end))


class _PartnersTable:
    """II. Liên thông: one row per answered question that is not a count (partner units), next to its count.

    A question asked only when a count is above zero ("Thủ tục hành chính: đơn vị liên thông") is shown under that
    count's label, with the count beside it.
    """

    def __init__(self, workbook: Workbook, form: Form, section: Section, questions: Sequence[Question], page: _Page):
        self.form = form
        self.section = section
        self.questions = list(questions)
        self.counts = {q.key: q for q in section.questions if q.type == "integer"}
        headers = [texts.COL_UNIT_CODE, texts.COL_UNIT, texts.COL_STATUS, texts.COL_PROCEDURE, texts.COL_COUNT,
                   texts.COL_PARTNERS]
        self.table = _Table(workbook, texts.SHEET_PROCEDURE_PARTNERS, headers, page)

    def close_submitted(self) -> None:
        """Drafts follow the submitted units here too; this sheet has no totals."""

    def add_unit(self, unit: UnitReport, status: str) -> None:
        given = scope(unit.answers, self.section.key)
        lookup = AnswersLookup(unit.answers)
        for question in self.questions:
            if not is_relevant(question, given, lookup) or question.key not in given:
                continue
            count = self.counts.get(question.ask_if.key) if question.ask_if else None
            self.table.add([unit.code, unit.name, status, count.label if count else question.label,
                            _cell_value(count, given.get(count.key)) if count else None,
                            _cell_value(question, given.get(question.key), said_none=True)])

    def add_totals(self) -> None:
        """No totals: the counts sheet has them."""


@dataclass
class _ShirtOrder:
    """Cỡ áo, the order for the tailor: one row per submitted unit, one column per gender and size, totals.

    The size is the staff sections' choice filtered by the gender choice; units that have not submitted are left
    out, and a line under the table says how many people that is.
    """

    section_keys: list[str]
    gender: Question
    size: Question
    left_out: int = 0  # people of units that have not submitted
    units_left_out: set = field(default_factory=set)

    @classmethod
    def of(cls, form: Form) -> _ShirtOrder | None:
        sections = [form.section(key) for key in STAFF_SECTIONS if has_section(form, key)]
        pairs = [(section.question(q.filter_by), q) for section in sections for q in section.questions
                 if q.type == "choice" and isinstance(q.filter_by, str)]
        if not pairs:
            return None
        gender, size = pairs[0]
        keys = [s.key for s in sections if {gender.key, size.key} <= {q.key for q in s.questions}]
        return cls(keys, gender, size)

    def sizes(self) -> list[tuple[str, str]]:
        """(gender value, size value) of every column, in the form's order."""
        return [(gender.value, size.value) for gender in self.gender.choices for size in self.size.choices
                if size.when == gender.value]

    def table(self, workbook: Workbook, page: _Page) -> _Table:
        labels = {(g.value, z.value): texts.SHIRT_COLUMN.format(gender=g.label, size=z.label)
                  for g in self.gender.choices for z in self.size.choices if z.when == g.value}
        headers = [texts.COL_UNIT_CODE, texts.COL_UNIT, *(labels[k] for k in self.sizes()), texts.COL_TOTAL]
        heading = [texts.SHIRT_ORDER_TITLE, page.times]
        return _Table(workbook, texts.SHEET_SHIRTS, headers, page, heading=heading)

    def add_unit(self, form: Form, unit: UnitReport, table: _Table) -> None:
        counts: Counter = Counter()
        for key in self.section_keys:
            for item in items(form, unit.answers, key):
                answered = {q.key: v for q, v in item.questions()}
                gender, size = answered.get(self.gender.key), answered.get(self.size.key)
                if gender is not None and size is not None:
                    counts[(gender, size)] += 1
        if not counts:
            return
        if unit.status not in SUBMITTED:
            self.left_out += sum(counts.values())
            self.units_left_out.add(unit.code)
            return
        row = table.last_row + 1
        last = get_column_letter(2 + len(self.sizes()))
        table.add([unit.code, unit.name, *(counts[k] or None for k in self.sizes()),
                   Formula(f"=SUM(C{row}:{last}{row})")])

    def add_totals(self, table: _Table) -> None:
        first, end = table.top + 1, table.data_end
        cells: list[Any] = [None, texts.TOTAL_ROW]
        for n in range(3, 3 + len(self.sizes()) + 1):
            letter = get_column_letter(n)
            cells.append(Formula(f"=SUBTOTAL(109,{letter}{first}:{letter}{end})") if end >= first else 0)
        table.add_total(cells)
        if self.left_out:
            table.add_note(texts.SHIRTS_NOT_COUNTED.format(people=self.left_out, units=len(self.units_left_out)))


# --- Cells, widths, print setup ---------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """A cell formula we wrote ourselves (answers never become formulas: see _store)."""

    text: str


class _Table:
    """One sheet: its opening lines, a bold frozen header row, data rows, optional total rows, print setup."""

    def __init__(self, workbook: Workbook, title: str, headers: Sequence[str], page: _Page, *,
                 heading: Sequence[str] | None = None, frozen_cols: int | None = None):
        self.ws = workbook.create_sheet(title)
        self.page = page
        self.headers = list(headers)
        # A header may wrap onto a few lines, but never inside a word.
        self.widths = [max(min(len(h), HEADER_WIDTH), max(map(len, h.split()), default=0)) for h in headers]
        self.floors = [max(map(len, h.split()), default=0) + 2 for h in headers]
        self.fixed_widths: dict[int, float] = {}
        self.frozen_cols = (2 if headers[:2] == [texts.COL_UNIT_CODE, texts.COL_UNIT] else 0) \
            if frozen_cols is None else frozen_cols
        printed = [n for n, h in enumerate(self.headers) if h not in NOT_PRINTED]
        self.print_cols = (printed[0], printed[-1]) if printed else (0, len(self.headers) - 1)
        self.styles: dict[tuple[str, str], StyleArray] = {}
        self.wrapped: list[tuple[int, int, str]] = []  # (row, column index, text) of cells that may wrap
        lines = page.heading(title) if heading is None else list(heading)
        self.heading = lines
        self.top = len(lines) + 2  # the header row, after the opening lines and a blank row
        self.last_row = self.top
        self.data_end = self.top
        for row, text in enumerate(lines, 1):  # in the first printed column, so they print
            cell = self.ws.cell(row=row, column=self.print_cols[0] + 1)
            _store(cell, text)
            cell.font = TITLE_FONT if row == 1 else HEADER_FONT
        for col, header in enumerate(self.headers, 1):
            cell = self.ws.cell(row=self.top, column=col)
            self._style(cell, _store(cell, header)[1], "header")

    def add(self, values: Sequence[Any]) -> int:
        """Append a data row; its row number."""
        self.last_row += 1
        self.data_end = self.last_row
        self._write(self.last_row, values, "data")
        return self.last_row

    def add_total(self, values: Sequence[Any]) -> None:
        """Append a totals row: bold, outside the filter so sorting never moves it."""
        self.last_row += 1
        self._write(self.last_row, values, "total")

    def add_note(self, text: str) -> None:
        """A line of text under the table (not in the filter), in the first printed column."""
        self.last_row += 2
        cell = self.ws.cell(row=self.last_row, column=self.print_cols[0] + 1)
        _store(cell, text)
        cell.alignment = Alignment(wrap_text=False, vertical="top")

    def add_image(self, row: int, col: int, thumbnail: BytesIO) -> None:
        """A thumbnail inside cell (row, col), moving and hiding with its row (filters, sorting)."""
        image = SheetImage(thumbnail)
        width, height = image.width, image.height
        start = AnchorMarker(col=col - 1, colOff=pixels_to_EMU(THUMB_PAD),
                             row=row - 1, rowOff=pixels_to_EMU(THUMB_PAD))
        end = AnchorMarker(col=col - 1, colOff=pixels_to_EMU(THUMB_PAD + width),
                           row=row - 1, rowOff=pixels_to_EMU(THUMB_PAD + height))
        image.anchor = TwoCellAnchor(editAs="twoCell", _from=start, to=end)
        self.ws.add_image(image)
        dim = self.ws.row_dimensions[row]
        dim.height = max(dim.height or 0, THUMB_ROW_HEIGHT)

    def finish(self) -> None:
        """Column widths (the printed ones fit the page), row heights, frozen panes, filter and print setup."""
        ws = self.ws
        last_col = get_column_letter(len(self.headers))
        widths = [self.fixed_widths.get(n, min(MAX_WIDTH, max(MIN_WIDTH, width + 2)))
                  for n, width in enumerate(self.widths)]
        first, last = self.print_cols
        widths[first:last + 1] = _fit_widths(widths[first:last + 1], self.floors[first:last + 1],
                                             {n - first for n in self.fixed_widths if first <= n <= last})
        for n, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(n)].width = width
        _fit_height(ws, self.top, max(_line_count(h, w, BOLD_CHAR_WIDTH) for h, w in zip(self.headers, widths)))
        # The opening lines span the printed columns and wrap there: a narrow sheet prints them whole.
        span = sum(widths[first:last + 1])
        for row, text in enumerate(self.heading, 1):
            if last > first:
                ws.merge_cells(start_row=row, start_column=first + 1, end_row=row, end_column=last + 1)
            ws.cell(row=row, column=first + 1).alignment = HEADING_ALIGNMENT
            # Counted at the opening lines' own (wider) character width: a merged cell wraps where it must.
            char_width = TITLE_CHAR_WIDTH if row == 1 else BOLD_CHAR_WIDTH
            count = sum(max(1, math.ceil(len(line) * char_width / max(1.0, span - 2))) for line in text.split("\n"))
            if count > 1:
                ws.row_dimensions[row].height = count * (TITLE_LINE_HEIGHT if row == 1 else LINE_HEIGHT) + 2
        lines: dict[int, int] = {}
        for row, col, text in self.wrapped:
            lines[row] = max(lines.get(row, 1), _line_count(text, widths[col], WRAP_CHAR_WIDTH))
        for row, count in lines.items():
            _fit_height(ws, row, count)
        ws.freeze_panes = ws.cell(row=self.top + 1, column=self.frozen_cols + 1).coordinate
        ws.auto_filter.ref = f"A{self.top}:{last_col}{self.data_end}"
        ws.print_title_rows = f"{self.top}:{self.top}"
        ws.print_area = f"{get_column_letter(first + 1)}1:{get_column_letter(last + 1)}{self.last_row}"
        ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages down as needed
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.gridLines = False  # the table's cells have borders; the opening lines stand free
        ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.7, bottom=0.6, header=0.3, footer=0.3)
        ws.oddHeader.left.text = _header_text(self.page.header_left)
        ws.oddHeader.center.text = "&A"
        ws.oddHeader.right.text = _header_text(self.page.header_right)
        ws.oddFooter.left.text = _header_text(self.page.footer_left)
        ws.oddFooter.right.text = texts.PAGE_FOOTER_RIGHT

    def _write(self, row: int, values: Sequence[Any], role: str) -> None:
        values = [*values, *[None] * (len(self.headers) - len(values))]
        for col, value in enumerate(values, 1):
            cell = self.ws.cell(row=row, column=col)
            if value is None:  # an empty cell still gets its borders: the table prints ruled, the titles not
                self._style(cell, "empty", role)
                continue
            text, kind = _store(cell, value)
            self._style(cell, kind, role)
            longest = max(map(len, text.split("\n")))
            self.widths[col - 1] = max(self.widths[col - 1], math.ceil(longest * TEXT_CHAR_WIDTH))
            if kind in ("text", "formula_like") and ("\n" in text or longest > MIN_FIT_WIDTH - 2):  # may wrap
                self.wrapped.append((row, col - 1, text))

    def _style(self, cell, kind: str, role: str) -> None:
        """Style a cell for its kind of value and its row's role (header, data, total).

        openpyxl looks every assigned style up again in the workbook's tables, which costs more than writing the
        value; each combination is therefore built once and its style array copied to the next cells.
        """
        cached = self.styles.get((kind, role))
        if cached is not None:
            cell._style = copy(cached)
            return
        cell.border = CELL_BORDER
        if role == "header":
            cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
        else:
            cell.alignment = CELL_ALIGNMENT
            if role == "total":
                cell.font = HEADER_FONT
        if kind == "formula_like":
            cell.quotePrefix = True
        elif kind == "datetime":
            cell.number_format = DATETIME_FORMAT
        elif kind == "date":
            cell.number_format = DATE_FORMAT
        elif kind == "number":
            cell.number_format = COUNT_FORMAT
        self.styles[(kind, role)] = copy(cell._style)


def _fit_widths(widths: list[float], floors: list[float], fixed: set[int]) -> list[float]:
    """Narrow the widest columns to one level, never below their floor, until they fit PRINT_WIDTH together."""
    if sum(widths) <= PRINT_WIDTH:
        return widths
    floors = [widths[n] if n in fixed else min(widths[n], max(MIN_FIT_WIDTH, floors[n])) for n in range(len(widths))]

    def total(level: float) -> float:
        return sum(max(floor, min(width, level)) for width, floor in zip(widths, floors))

    low, high = 0.0, max(widths)
    for _ in range(30):
        mid = (low + high) / 2
        low, high = (mid, high) if total(mid) <= PRINT_WIDTH else (low, mid)
    return [round(max(floor, min(width, low)), 1) for width, floor in zip(widths, floors)]


def _header_text(text: str) -> str:
    """Text for a page header or footer: "&" starts a code there, so it is doubled."""
    return text.replace("&", "&&")


def _store(cell, value: Any) -> tuple[str, str]:
    """Store one value with its type: the text a person sees (for widths) and its kind (for the style)."""
    if isinstance(value, Formula):
        cell.value = value.text  # openpyxl stores a string starting with "=" as a formula
        return "000.000", "number"
    if isinstance(value, str):
        value = _clean(value)
        cell.value = value
        cell.data_type = "s"  # openpyxl would have made "=..." a formula
        return value, "formula_like" if value.startswith(FORMULA_START) else "text"
    cell.value = value
    if isinstance(value, datetime):
        return "00/00/0000 00:00", "datetime"
    if isinstance(value, date):
        return "00/00/0000", "date"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}", "number"
    return str(value), "decimal"  # 12,5: shown as typed, never rounded by a format


def _thumbnail(photo: Path) -> BytesIO | None:
    """A small JPEG copy of a stored photo for the staff sheet; None when the file is missing or unreadable."""
    try:
        with PILImage.open(photo) as original:
            original.draft("RGB", (THUMB_SIZE[0] * 2, THUMB_SIZE[1] * 2))  # JPEG: decode at a reduced scale
            small = original.convert("RGB")
        small.thumbnail(THUMB_SIZE, reducing_gap=2.0)
        buffer = BytesIO()
        small.save(buffer, "JPEG", quality=85)
    except (OSError, ValueError):
        return None
    buffer.seek(0)
    return buffer


def _readable(photo: Path) -> bool:
    """Whether a stored photo opens as an image (the archive leaves out those that do not)."""
    try:
        with PILImage.open(photo) as image:
            image.size
    except (OSError, ValueError):
        return False
    return True


def _cell_value(question: Question, value: Any, *, said_none: bool = False, values: dict | None = None) -> Any:
    """An answer as a cell holds it: counts as numbers, dates as dates, the rest as the text a person reads.

    An optional question the person answered with "không có" (stored as None) reads "không có"; one never
    answered stays empty.
    """
    if value is None:
        return texts.VALUE_SKIPPED if said_none and question.type != "photo" else None
    if question.type in ("integer", "decimal", "calculate") and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        return value  # a number Excel can add up (shown with the reader's decimal separator)
    if question.or_other and values is not None:
        return format_answer(question, values)  # "Khác (ghi rõ): <the text>"
    if question.type == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return format_value(question, value)


def _clean(text: str) -> str:
    """Text a cell can carry: no characters XML forbids, no more than Excel accepts."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    # Surrogates and noncharacters (U+FFFE, U+FFFF...) are not XML either: an old answer must not stop the export.
    text = "".join(c for c in text if not (0xD800 <= ord(c) <= 0xDFFF or 0xFDD0 <= ord(c) <= 0xFDEF
                                           or (ord(c) & 0xFFFE) == 0xFFFE))
    return text[:MAX_CELL_CHARS]


def _local(moment: datetime | None) -> datetime | None:
    """An aware datetime as naive local time (Asia/Ho_Chi_Minh): spreadsheets have no time zones."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL_TZ)
    return moment.replace(tzinfo=None, microsecond=0)


def _line_count(text: str, width: float, char_width: float) -> int:
    """About how many lines text takes in a column `width` characters wide.

    A line the column was sized for (at TEXT_CHAR_WIDTH) takes one; a longer one wraps at char_width a character.
    """
    room = max(1.0, width - 2)
    return sum(1 if len(line) * TEXT_CHAR_WIDTH <= room else math.ceil(len(line) * char_width / room)
               for line in text.split("\n"))


def _fit_height(ws, row: int, lines: int) -> None:
    """Set a row's height for its wrapped text: LibreOffice does not fit rows itself when it opens a file."""
    if lines > 1:
        dim = ws.row_dimensions[row]
        dim.height = max(dim.height or 0, min(MAX_ROW_HEIGHT, LINE_HEIGHT * lines + 2))


def _sheet_title(title: str, fallback: str, taken: Sequence[str]) -> str:
    """A valid, unused sheet name: no []:*?/\\, no leading or trailing apostrophe, at most 31 characters."""
    base = INVALID_SHEET_CHARS.sub("", _clean(title)).strip().strip("'").strip() or fallback
    used = {name.casefold() for name in taken}
    name, n = base[:MAX_SHEET_TITLE].rstrip(), 1
    while name.casefold() in used:
        n += 1
        suffix = f" ({n})"
        name = base[:MAX_SHEET_TITLE - len(suffix)].rstrip() + suffix
    return name
