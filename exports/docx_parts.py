"""Building blocks of the Word documents for Sở Nội vụ: the A4 page, Times New Roman 13 pt, the borderless
two-column heading and signature tables, paragraphs, and bordered tables whose header row repeats.

Shared by the per-unit documents (exports/document.py) and the consolidated report (exports/report.py).
"""

from __future__ import annotations

import math
import re
import unicodedata
from copy import deepcopy
from datetime import date
from typing import Any, Sequence
from weakref import WeakKeyDictionary

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from conversations import texts
from conversations.answers import format_decimal, format_value
from conversations.form import Question

FONT = "Times New Roman"
FONT_SIZE = Pt(13)
HEADING_WIDTHS = (Cm(6.5), Cm(9.5))  # issuer | national name and motto, within the 16 cm text width
SIGNATURE_WIDTHS = (Cm(7.5), Cm(8.5))  # recipients | signer
_ILLEGAL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\u2028\u2029]")
RULE = "―――――"  # the short rule under the issuer and under the motto
_BLANK_ROWS: WeakKeyDictionary = WeakKeyDictionary()  # table element -> an empty row to copy


def clean(text: str) -> str:
    """Text safe for the file: line breaks normalised to \\n, characters XML cannot hold dropped."""
    return _ILLEGAL.sub("", _LINE_BREAKS.sub("\n", text))


def new_document() -> DocxDocument:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    section.header_distance = section.footer_distance = Cm(1)
    set_default_fonts(doc)
    # The page number at the top centre from page 2 on, as administrative documents have it.
    section.different_first_page_header_footer = True
    number = section.header.paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    field.append(OxmlElement("w:r"))
    number._p.append(field)
    return doc


def set_default_fonts(doc: DocxDocument) -> None:
    """Times New Roman 13 pt everywhere, named for every script so Word does not substitute a theme font."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for child in list(rpr):
        rpr.remove(child)
    font_properties(rpr)
    lang = OxmlElement("w:lang")
    for name in ("w:val", "w:eastAsia"):
        lang.set(qn(name), "vi-VN")
    rpr.append(lang)
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "80")  # 4 pt between body paragraphs; tables keep Table Grid's 0
    spacing.set(qn("w:line"), "240")  # single line spacing
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = FONT_SIZE
    font_properties(normal.element.get_or_add_rPr())


def font_properties(rpr) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for name in list(fonts.attrib):
        if name.endswith("Theme") or name.endswith("theme"):
            del fonts.attrib[name]
    for name in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(name), FONT)
    for tag in ("w:sz", "w:szCs"):
        if rpr.find(qn(tag)) is None:
            size = OxmlElement(tag)
            size.set(qn("w:val"), str(int(FONT_SIZE.pt * 2)))
            rpr.append(size)


def two_columns(doc: DocxDocument, widths: tuple[Length, Length]) -> tuple[_Cell, _Cell]:
    """A borderless table of one row and two cells, for the heading and the signature block."""
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    cells = table.rows[0].cells
    can_split = OxmlElement("w:cantSplit")  # a signature block never starts on one page and ends on the next
    can_split.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(can_split)
    for column, cell, width in zip(table.columns, cells, widths):
        column.width = width  # the grid (LibreOffice reads it) and the cells (Word reads those)
        cell.width = width
    return cells[0], cells[1]


def cell_line(cell: _Cell, text: str, *, first: bool = False, bold: bool = False, italic: bool = False,
               underline: bool = False, size: float | None = None) -> Paragraph:
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    run = add_text(paragraph, text, bold=bold, italic=italic, underline=underline)
    if size is not None:
        run.font.size = Pt(size)
    return paragraph


def add_text(paragraph: Paragraph, text: str, *, bold: bool = False, italic: bool = False, underline: bool = False):
    run = paragraph.add_run(clean(text))  # python-docx turns \n into a line break and \t into a tab
    if bold:
        run.bold = True
    if italic:
        run.italic = True
    if underline:
        run.underline = True
    return run


def add_paragraph(doc: DocxDocument, text: str, *, bold: bool = False, italic: bool = False,
               align: WD_ALIGN_PARAGRAPH | None = None, before: float | None = None, after: float | None = None,
               indent: bool = False, justify: bool = False) -> Paragraph:
    paragraph = doc.add_paragraph()
    if text:
        add_text(paragraph, text, bold=bold, italic=italic)
    fmt = paragraph.paragraph_format
    if align is not None:
        paragraph.alignment = align
    elif justify:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    if before is not None:
        fmt.space_before = Pt(before)
    if after is not None:
        fmt.space_after = Pt(after)
    if indent:
        fmt.first_line_indent = Cm(1)
    return paragraph


def section_title(doc: DocxDocument, text: str) -> None:
    paragraph = add_paragraph(doc, text, bold=True, before=12, after=6)
    paragraph.paragraph_format.keep_with_next = True


def write_cell(cell: _Cell, text: str, *, bold: bool = False, italic: bool = False, center: bool = False) -> None:
    """Replace a cell's text (a merged cell keeps one paragraph)."""
    for extra in cell.paragraphs[1:]:
        extra._p.getparent().remove(extra._p)
    paragraph = cell.paragraphs[0]
    for run in paragraph.runs:
        run._r.getparent().remove(run._r)
    if text:
        add_text(paragraph, text, bold=bold, italic=italic)
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def grid_table(doc: DocxDocument, headers: Sequence[str], widths: Sequence[Length]) -> Table:
    """A bordered table whose bold header row repeats on every page."""
    table = doc.add_table(rows=1, cols=len(headers))
    table._tbl.tblPr.style = "TableGrid"  # the id of "Table Grid"; looking it up by name costs a scan per table
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    # A little air above and below the text; narrow sides so a date (dd/mm/yyyy) fits on one line.
    padding = OxmlElement("w:tblCellMar")
    for side, twips in (("top", 28), ("left", 57), ("bottom", 28), ("right", 57)):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(twips))
        margin.set(qn("w:type"), "dxa")
        padding.append(margin)
    tblpr = table._tbl.tblPr
    after = [tblpr.find(qn(tag)) for tag in ("w:tblLook", "w:tblCaption", "w:tblDescription")]
    after = [el for el in after if el is not None]
    if after:  # Word rejects a file whose table properties are out of the schema's order
        after[0].addprevious(padding)
    else:
        tblpr.append(padding)
    row = table.rows[0]
    trpr = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader"):
        flag = OxmlElement(tag)
        flag.set(qn("w:val"), "true")
        trpr.append(flag)
    for cell, header in zip(row.cells, headers):
        write_cell(cell, header, bold=True, center=True)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        if header == texts.COL_STT:  # "STT" never wraps into "ST / T"
            no_wrap = OxmlElement("w:noWrap")
            tcpr = cell._tc.get_or_add_tcPr()
            valign = tcpr.find(qn("w:vAlign"))  # the schema's order: noWrap comes before vAlign
            valign.addprevious(no_wrap) if valign is not None else tcpr.append(no_wrap)
    fix_widths(table, widths)
    return table


def add_row(table: Table) -> list[_Cell]:
    """A new row's cells: a copy of an empty row, appended (python-docx's add_row and Row.cells re-read the
    whole table for every row, which makes a table of thousands of rows take minutes)."""
    blank = _BLANK_ROWS.get(table._tbl)
    if blank is None:
        blank = _BLANK_ROWS[table._tbl] = deepcopy(table.add_row()._tr)
        table._tbl.remove(table._tbl.tr_lst[-1])
        keep_rows_whole(blank)
    tr = deepcopy(blank)
    table._tbl.append(tr)
    return [_Cell(tc, table) for tc in tr.tc_lst]


def add_spanning_row(table: Table) -> _Cell:
    """A new row of one cell across every column (a group heading), without python-docx's merge, which walks
    the whole table for each merge."""
    cells = add_row(table)
    first = cells[0]._tc
    for cell in cells[1:]:
        first.getparent().remove(cell._tc)
    first.grid_span = len(cells)
    cells[0].paragraphs[0].paragraph_format.keep_with_next = True  # a group's heading stays with its first row
    return cells[0]


def set_text_size(table: Table, size: Length) -> None:
    """Every run of the table at `size` (half-points in the XML), straight on the XML for speed."""
    half_points = str(int(size.pt * 2))
    for r in table._tbl.iter(qn("w:r")):
        rpr = r.find(qn("w:rPr"))
        if rpr is None:
            rpr = OxmlElement("w:rPr")
            r.insert(0, rpr)
        for tag in ("w:sz", "w:szCs"):
            element = rpr.find(qn(tag))
            if element is None:
                element = OxmlElement(tag)
                rpr.append(element)
            element.set(qn("w:val"), half_points)


def fix_widths(table: Table, widths: Sequence[Length]) -> None:
    """Column widths for Word (each cell's tcW) and LibreOffice (the grid), spans summed."""
    tbl = table._tbl
    for col, width in zip(tbl.tblGrid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(width.twips))
    tblw = tbl.tblPr.find(qn("w:tblW"))
    if tblw is not None:
        tblw.set(qn("w:type"), "dxa")
        tblw.set(qn("w:w"), str(sum(w.twips for w in widths)))
    for tr in tbl.tr_lst:
        col = 0
        for tc in tr.tc_lst:
            span = tc.grid_span
            tc.width = Length(sum(widths[col:col + span]))
            col += span


def heading_columns(doc: DocxDocument, issuer: Sequence[tuple[str, bool]]) -> None:
    """The administrative heading: the issuer's lines (text, bold) and a short rule on the left, the national
    name and motto on the right."""
    left, right = two_columns(doc, HEADING_WIDTHS)
    for n, (text, bold) in enumerate(issuer):
        cell_line(left, text, first=n == 0, bold=bold, size=12)
    cell_line(left, RULE, size=11)
    cell_line(right, texts.DOC_NATION, first=True, bold=True, size=12)
    cell_line(right, texts.DOC_MOTTO, bold=True, underline=True)


def set_orientation(doc: DocxDocument, *, landscape: bool) -> None:
    """Start a new section on a new page, A4 across (landscape) or upright, with the same margins; its pages keep
    the page number (only the document's first page has none)."""
    from docx.enum.section import WD_SECTION

    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    long, short = Cm(29.7), Cm(21)
    section.page_width, section.page_height = (long, short) if landscape else (short, long)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    section.different_first_page_header_footer = False


def keep_rows_whole(tr) -> None:
    """A table row that never splits across two pages (its text is read on one page)."""
    trpr = tr.get_or_add_trPr()
    if trpr.find(qn("w:cantSplit")) is None:
        flag = OxmlElement("w:cantSplit")
        flag.set(qn("w:val"), "true")
        trpr.insert(0, flag)


def number(value: int) -> str:
    """An integer with Vietnamese thousands separators: 1034 -> "1.034"."""
    return f"{value:,}".replace(",", ".")


def place_date(template: str, place: str, day: date) -> str:
    """The place and date line as Nghị định 30/2020/NĐ-CP writes it: a zero before a day under 10 and before
    months 1 and 2 only ("ngày 05 tháng 3 năm 2017", "ngày 28 tháng 02 năm 2017")."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return template.format(place=place, day=f"{day.day:02d}", month=month, year=day.year)


_YEAR_WORDS = re.compile(r"\bnăm\b|year|nam_?sinh", re.IGNORECASE)


def _is_year(question: Question, value: float) -> bool:
    """A year ("Năm sinh", "Sinh năm", `birth_year`, `namsinh`), printed as written: a whole number from 1900 to
    2100 whose label says "năm" or whose key says year."""
    return value == int(value) and 1900 <= value <= 2100 and bool(
        _YEAR_WORDS.search(unicodedata.normalize("NFC", question.label)) or _YEAR_WORDS.search(question.key))


def printed(question: Question, value: Any) -> str:
    """An answer as a document prints it: counts and amounts with Vietnamese thousands separators (1.034;
    12.345,5), the rest as the chat shows it. A year is never grouped (_is_year)."""
    if question.type in ("integer", "decimal", "calculate") and isinstance(value, (int, float)) \
            and not isinstance(value, bool) and math.isfinite(value) and not _is_year(question, value):
        if isinstance(value, int) or value == int(value) and abs(value) < 1e15:
            return number(int(value))
        whole, _, fraction = format_decimal(value).partition(",")
        sign = "-" if whole.startswith("-") else ""
        return f"{sign}{number(int(whole.lstrip('-')))}" + (f",{fraction}" if fraction else "")
    return format_value(question, value)


def issuer_heading(doc: DocxDocument, issuer: Sequence[tuple[str, bool]], number_line: str | None,
                   place_date: str) -> None:
    """The heading of Nghị định 30/2020/NĐ-CP: the parent body and the issuer (bold) over a short rule on the left,
    the national name and motto over a rule on the right; under them, "Số: …/BC-SNV" on the left and the italic
    place and date on the right, on one line."""
    table = doc.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for tr in table._tbl.tr_lst:
        keep_rows_whole(tr)
    for column, width in zip(table.columns, HEADING_WIDTHS):
        column.width = width
        for cell in column.cells:
            cell.width = width
    (left, right), (under_left, under_right) = table.rows[0].cells, table.rows[1].cells
    for n, (text, bold) in enumerate(issuer):
        cell_line(left, text, first=n == 0, bold=bold, size=12 if n < len(issuer) - 1 else 13)
    cell_line(left, RULE, size=11)
    cell_line(right, texts.DOC_NATION, first=True, bold=True, size=12)
    cell_line(right, texts.DOC_MOTTO, bold=True, underline=True)
    cell_line(under_left, number_line or "", first=True, size=13)
    cell_line(under_right, place_date, first=True, italic=True, size=13)
    for cell in (under_left, under_right):
        cell.paragraphs[0].paragraph_format.space_before = Pt(6)
    doc.add_paragraph().paragraph_format.space_after = Pt(6)


def signer_block(doc: DocxDocument, recipients: Sequence[str], signer: Sequence[str], name: str | None) -> None:
    """Nơi nhận on the left; on the right the signer's authority and title (bold capitals), room for the signature
    and the seal, and the signer's name (bold), as Nghị định 30/2020/NĐ-CP lays it out."""
    left, right = two_columns(doc, SIGNATURE_WIDTHS)
    title = cell_line(left, texts.DOC_RECIPIENTS, first=True, bold=True, italic=True, size=12)
    title.alignment = WD_ALIGN_PARAGRAPH.LEFT
    for line in recipients:
        cell_line(left, line, size=11).alignment = WD_ALIGN_PARAGRAPH.LEFT
    for n, line in enumerate(signer):
        cell_line(right, line, first=n == 0, bold=True)
    for _ in range(4):  # the signature and the seal
        cell_line(right, "")
    if name:
        cell_line(right, name, bold=True)


def signature_block(doc: DocxDocument, recipients: Sequence[str], signer: str) -> None:
    """Recipients ("Nơi nhận") on the left, the signer's title and the signing note on the right."""
    left, right = two_columns(doc, SIGNATURE_WIDTHS)
    title = cell_line(left, texts.DOC_RECIPIENTS, first=True, bold=True, italic=True, size=12)
    title.alignment = WD_ALIGN_PARAGRAPH.LEFT
    for line in recipients:
        cell_line(left, line, size=11).alignment = WD_ALIGN_PARAGRAPH.LEFT
    cell_line(right, signer, first=True, bold=True)
    cell_line(right, texts.DOC_SIGN_NOTE, italic=True, size=12)
