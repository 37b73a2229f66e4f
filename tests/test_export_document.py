"""Each unit's report as a Word document: reopened with python-docx and compared with the template's shape."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

from conversations import texts
from conversations.form import load_form
from exports.data import ExportData, UnitReport
from exports.document import build_unit_document, build_unit_documents, clean
from tests.export_samples import sample_export_data
from tests.rendering import pages

ROLE = texts.DOC_ROLE_LABELS
NONE_ENTERED = texts.DOC_NOT_ENTERED


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> ExportData:
    return sample_export_data(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="module")
def documents(data, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("documents")
    # Each unit's own document (as "tải báo cáo" makes it), the one that never started too.
    return {unit.code: build_unit_document(data, unit, folder / texts.DOC_FILE.format(code=unit.code))
            for unit in data.units}


def unit(data: ExportData, code: str) -> UnitReport:
    return next(u for u in data.units if u.code == code)


def paragraphs(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs]


def rows(table) -> list[list[str]]:
    """The text of every grid cell; a merged cell repeats its text in each grid position it covers."""
    return [[cell.text for cell in row.cells] for row in table.rows]


def body_tables(doc):
    """The report's tables, without the heading's and the signature block's."""
    return doc.tables[1:-1]


def staff_table(path: Path):
    return body_tables(Document(str(path)))[0]


def procedures_table(path: Path):
    return body_tables(Document(str(path)))[1]


def plan_table(path: Path):
    return body_tables(Document(str(path)))[2]


def after(lines: list[str], heading: str, count: int) -> list[str]:
    start = lines.index(heading) + 1
    return lines[start:start + count]


# --- The heading ------------------------------------------------------------------------------------------


def test_document__full_unit__administrative_heading_date_line_title_reference_and_reporter(documents):
    """Unit left, national name and motto right (a borderless two-column table), the place and date line, the
    title; no internal status wording on the page."""
    doc = Document(str(documents["STP"]))
    heading = doc.tables[0]
    expected = (
        [["UBND TỈNH ĐỒNG NAI\nSỞ TƯ PHÁP\n―――――", f"{texts.DOC_NATION}\n{texts.DOC_MOTTO}"]],
        [
            "Đồng Nai, ngày 28 tháng 3 năm 2017",  # the day it was submitted, in the province
            texts.DOC_TITLE,
            texts.DOC_ATTACHED.format(doc_ref="số 123/SNV-CCHC ngày 27/3/2017"),
            texts.DOC_REPORTER.format(name="Nguyễn Thị Lan", phone="0912 345 678"),
        ],
    )
    assert expected == (rows(heading), [p.text for p in doc.paragraphs][:4])
    text = "\n".join(p.text for p in doc.paragraphs)
    assert texts.STATUS_LABELS["submitted"] not in text and "Tình trạng" not in text
    assert not heading._tbl.xpath(".//w:tblBorders")  # no borders around the heading


def test_document__signature_block__recipients_left_head_of_unit_right(documents):
    signature = Document(str(documents["STP"])).tables[-1]
    assert [["\n".join([texts.DOC_RECIPIENTS, *texts.DOC_RECIPIENT_LINES]),
             f"{texts.DOC_SIGNER}\n{texts.DOC_SIGN_NOTE}"]] == rows(signature)


def test_document__heading__nation_bold_motto_underlined_title_bold_all_centred(documents):
    doc = Document(str(documents["STP"]))
    nation, motto = doc.tables[0].cell(0, 1).paragraphs
    title = doc.paragraphs[1]
    expected = [(True, None, "CENTER"), (True, True, "CENTER"), (True, None, "CENTER")]
    actual = [(p.runs[0].bold, p.runs[0].underline, p.alignment.name) for p in (nation, motto, title)]
    assert expected == actual


def test_document__no_document_reference__attached_line_left_out(data, tmp_path):
    without = dataclasses.replace(data, doc_ref=None)
    path = build_unit_document(without, unit(data, "STP"), tmp_path / "x.docx")
    expected = [texts.DOC_TITLE, texts.DOC_REPORTER.format(name="Nguyễn Thị Lan", phone="0912 345 678")]
    assert expected == paragraphs(path)[1:3]


def test_document__page__a4_portrait_with_administrative_margins(documents):
    section = Document(str(documents["STP"])).sections[0]
    expected = (21.0, 29.7, 3.0, 2.0, 2.0, 2.0)
    actual = tuple(round(length.cm, 2) for length in (section.page_width, section.page_height, section.left_margin,
                                                      section.right_margin, section.top_margin, section.bottom_margin))
    assert expected == actual


def test_document__fonts__times_new_roman_13pt_named_for_every_script(documents):
    doc = Document(str(documents["STP"]))
    normal = doc.styles["Normal"]
    fonts = normal.element.rPr.rFonts
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).rFonts
    expected = ("Times New Roman", Pt(13), ["Times New Roman"] * 4, ["Times New Roman"] * 4, None)
    actual = (normal.font.name, normal.font.size,
              [fonts.get(qn(f"w:{name}")) for name in ("ascii", "hAnsi", "eastAsia", "cs")],
              [defaults.get(qn(f"w:{name}")) for name in ("ascii", "hAnsi", "eastAsia", "cs")],
              defaults.get(qn("w:asciiTheme")))  # a theme font would win over the name
    assert expected == actual


# --- I. Staff ---------------------------------------------------------------------------------------------


def test_document__full_unit__staff_table_rows_grouped_by_role(documents):
    expected = [
        texts.DOC_STAFF_HEADERS,
        [ROLE["leader"], "Trần Văn Hùng", "Phó Giám đốc Sở", "0913 456 789", ""],
        [ROLE["main_staff"], "Lê Thị Mai", "Chuyên viên", "0987 654 321", "Nữ – 7"],
        [ROLE["main_staff"], "Phạm Văn Nam", "Chuyên viên", "0905 123 456", "Nam – 40"],
        [ROLE["main_staff"], "Đỗ Thị Hạnh", "Cán sự", "0934 111 222", "Nữ – 9"],
        [ROLE["backup_staff"], "Bùi Văn Long", "Chuyên viên", "0977 333 444", ""],
        [ROLE["backup_staff"], "Hồ Thị Thu", "Chuyên viên", "0966 555 666", ""],
        [ROLE["postal_staff"], "Võ Thị Hoa", "Văn thư", "0934 222 333", ""],
    ]
    assert expected == rows(staff_table(documents["STP"]))


def test_document__full_unit__role_cell_merged_down_each_group(documents):
    table = staff_table(documents["STP"])
    cells = [table.cell(r, 0)._tc for r in range(1, 8)]  # leader | main staff x3 | backup x2 | postal
    expected = ([False, True, True, False, True, False],
                [None, "restart", "continue", "continue", "restart", "continue", None])
    actual = ([cells[i] is cells[i - 1] for i in range(1, 7)],
              [tc.vMerge for tc in table._tbl.xpath("./w:tr/w:tc[1]")][1:])
    assert expected == actual


def test_document__half_done_unit__missing_groups_show_not_entered(documents):
    expected = [
        texts.DOC_STAFF_HEADERS,
        [ROLE["leader"], "Lý Thị Ngọc", "Giám đốc", "0918 444 555", ""],
        [ROLE["main_staff"], "Trương Văn Bình", "Thủ quỹ", "0919 666 777", "Nam – 41"],
        [ROLE["backup_staff"], NONE_ENTERED, "", "", ""],
        [ROLE["postal_staff"], NONE_ENTERED, "", "", ""],
    ]
    assert expected == rows(staff_table(documents["CTHUE"]))


def test_document__no_backup_staff_and_list_closed__group_says_none(data, tmp_path):
    full = unit(data, "STP")
    answers = {k: v for k, v in full.answers.items() if not k.startswith("backup_staff[")}
    path = build_unit_document(data, dataclasses.replace(full, answers=answers), tmp_path / "x.docx")
    expected = [ROLE["backup_staff"], texts.DOC_NONE, "", "", ""]
    assert expected == rows(staff_table(path))[5]


def test_document__staff__shirt_note_follows_the_table_in_italics(documents):
    doc = Document(str(documents["STP"]))
    note = next(p for p in doc.paragraphs if p.text == texts.DOC_SHIRT_NOTE)
    assert [True] == [r.italic for r in note.runs]


# --- II. Procedures and pickups -------------------------------------------------------------------------


def test_document__full_unit__procedures_table_follows_the_template(documents):
    header = texts.DOC_PROCEDURE_HEADERS
    postal = texts.DOC_POSTAL_GROUP
    expected = [
        [header[0], header[0], header[1], header[2]],
        ["Thủ tục hành chính", "Thủ tục hành chính", "125", "Sở Tài chính, Cục Thuế tỉnh"],
        ["Thủ tục hành chính liên thông", "Thủ tục hành chính liên thông", "12", "Công an tỉnh, Sở Y tế"],
        ["Dịch vụ công", "Dịch vụ công", "125", texts.VALUE_SKIPPED],
        ["Dịch vụ công trực tuyến", "Dịch vụ công trực tuyến", "40", texts.VALUE_SKIPPED],
        [postal, "Trả kết quả qua bưu điện", "80", "Bưu điện tỉnh"],
        [postal, "Nhận hồ sơ qua bưu điện", "60", "Bưu điện tỉnh"],
        [postal, "DVC trực tuyến kết hợp bưu điện", "20", "Bưu điện tỉnh"],
    ]
    assert expected == rows(procedures_table(documents["STP"]))


def test_document__procedures__plain_rows_span_two_columns_postal_group_merged_down(documents):
    table = procedures_table(documents["STP"])
    first_cells = table._tbl.xpath("./w:tr/w:tc[1]")
    expected = ([2, 2, 2, 2, 2, 1, 1, 1], [None] * 5 + ["restart", "continue", "continue"])
    assert expected == ([tc.grid_span for tc in first_cells], [tc.vMerge for tc in first_cells])


def test_document__full_unit__pickup_lines_give_proposed_times_address_and_notes(documents):
    lines = paragraphs(documents["STP"])
    expected = [
        "- " + texts.PICKUP_PROPOSES.format(times="09:30, 14:30"),
        "- Địa chỉ giao nhận tại đơn vị: Bộ phận một cửa, tầng 1, số 2 Nguyễn Văn Trị, Biên Hòa",
        "- Ghi chú lộ trình, thời gian giao nhận: Cổng sau đóng sau 16:30.",
    ]
    assert expected == after(lines, texts.DOC_PICKUP_TITLE, 3)


def test_document__unit_agrees_with_pickup_times__one_line_says_so(data, tmp_path):
    full = unit(data, "STP")
    answers = {**full.answers, "pickup.agree": True, "pickup.notes": None}
    del answers["pickup.proposed_times"]
    path = build_unit_document(data, dataclasses.replace(full, answers=answers), tmp_path / "x.docx")
    expected = ["- " + texts.PICKUP_AGREES,
                "- Địa chỉ giao nhận tại đơn vị: Bộ phận một cửa, tầng 1, số 2 Nguyễn Văn Trị, Biên Hòa",
                texts.DOC_SECTION_PLAN]
    assert expected == after(paragraphs(path), texts.DOC_PICKUP_TITLE, 3)


# --- III. Plan and IV. Issues ---------------------------------------------------------------------------


def test_document__full_unit__plan_rows_with_responsibility_and_dates(documents):
    own, shared = "Trách nhiệm riêng", "Trách nhiệm chung"
    expected = [
        texts.DOC_PLAN_HEADERS,
        ["1", f"Rà soát TTHC\n{own}", "Rà soát 125 TTHC, đề xuất danh mục", "01/04/2017", "15/04/2017", "Sở Nội vụ"],
        ["2", f"Đào tạo nhân sự\n{shared}", "Tập huấn quy trình một cửa", "10/04/2017", "20/04/2017",
         "Sở Nội vụ, Bưu điện tỉnh"],
        ["3", f"Thử nghiệm phần mềm\n{shared}", "Chạy thử phần mềm một cửa điện tử", "20/04/2017", "30/04/2017",
         "Sở Thông tin và Truyền thông"],
        ["4", f"Vận hành chính thức\n{own}", "Tiếp nhận hồ sơ tại Trung tâm", "02/05/2017", "31/05/2017", texts.VALUE_SKIPPED],
    ]
    assert expected == rows(plan_table(documents["STP"]))


def test_document__plan__responsibility_is_an_italic_second_line(documents):
    cell = plan_table(documents["STP"]).cell(1, 1)
    assert [(None, "Rà soát TTHC"), (True, "Trách nhiệm riêng")] == [
        (p.runs[0].italic, p.text) for p in cell.paragraphs]


def test_document__full_unit__issues_text_after_heading(documents):
    lines = paragraphs(documents["STP"])
    expected = ["Chưa có trụ sở tạm cho bộ phận một cửa; đề nghị bố trí kinh phí mua máy scan."]
    assert expected == lines[lines.index(texts.DOC_SECTION_ISSUES) + 1:]


def test_document__issues_skipped__says_none(data, tmp_path):
    full = unit(data, "STP")
    path = build_unit_document(data, dataclasses.replace(full, answers={**full.answers, "issues.text": None}),
                               tmp_path / "x.docx")
    lines = paragraphs(path)
    assert [texts.DOC_NONE] == lines[lines.index(texts.DOC_SECTION_ISSUES) + 1:]


def test_document__tables__bordered_with_bold_header_row_repeated_on_each_page(documents):
    doc = Document(str(documents["STP"]))
    expected = [("Table Grid", "true", True)] * 3
    actual = [(t.style.name, t.rows[0]._tr.trPr.find(qn("w:tblHeader")).get(qn("w:val")),
               all(r.bold for c in t.rows[0].cells for p in c.paragraphs for r in p.runs)) for t in body_tables(doc)]
    assert expected == actual


# --- Units that are not finished, and odd text ------------------------------------------------------------


def test_document__not_started_unit__opens_with_one_empty_row_per_group(documents):
    doc = Document(str(documents["BUUDIEN"]))
    lines = [p.text for p in doc.paragraphs]
    expected = (
        [[ROLE[key], NONE_ENTERED, "", "", ""] for key in ("leader", "main_staff", "backup_staff", "postal_staff")],
        ["", "", "", ""],
        ["", NONE_ENTERED, "", "", "", ""],
        (texts.DOC_DRAFT, texts.DOC_REPORTER.format(name=NONE_ENTERED, phone=NONE_ENTERED)),
        [NONE_ENTERED],
    )
    tables = body_tables(doc)
    actual = (
        rows(tables[0])[1:],
        rows(tables[1])[1][2:] + rows(tables[1])[7][2:],
        rows(tables[2])[1],
        (lines[1], lines[4]),  # a draft says so under the date line
        lines[lines.index(texts.DOC_SECTION_ISSUES) + 1:],
    )
    assert expected == actual


def test_document__text_typed_as_formulas__shown_literally(documents):
    doc = Document(str(documents["SYT"]))
    expected = (
        texts.DOC_REPORTER.format(name="=A+B", phone="0912 345 678"),
        [ROLE["leader"], "+SUM(A:B)", "@cmd|' /C calc'!A0", "0913 456 789", ""],
        [ROLE["main_staff"], "-A+B", '=HYPERLINK("http://x","bấm")', "0987 654 321", ""],
    )
    assert expected == (doc.paragraphs[4].text, *rows(body_tables(doc)[0])[1:3])


def test_document__control_characters__dropped_and_line_breaks_kept(data, tmp_path):
    odd = unit(data, "SYT")
    answers = {**odd.answers, "leader[1].name": "Trần\x00 Văn\x1b Hùng\ufffe",
               "issues.text": "Dòng 1\r\nDòng 2\x0bDòng 3\x07"}
    path = build_unit_document(data, dataclasses.replace(odd, answers=answers), tmp_path / "x.docx")
    lines = paragraphs(path)
    expected = ("Trần Văn Hùng", ["Dòng 1", "Dòng 2", "Dòng 3"])
    assert expected == (staff_table(path).cell(1, 1).text, lines[lines.index(texts.DOC_SECTION_ISSUES) + 1:])


def test_clean__every_control_character__only_tab_and_newline_survive():
    raw = "".join(chr(c) for c in range(0x20)) + "\x7f\x85\ud800\ufffe\uffffA"
    assert "\t\n\n\n\nA" == clean(raw)


# --- The form grows ---------------------------------------------------------------------------------------


def grown_form(tmp_path: Path):
    """The report form with a question added to main staff and the plan, and two new sections."""
    raw = yaml.safe_load(load_form().path.read_text(encoding="utf-8"))
    sections = {s["key"]: s for s in raw["sections"]}
    sections["main_staff"]["questions"].append(
        {"key": "email", "label": "Thư điện tử", "prompt": "Email?", "type": "text", "required": False})
    sections["plan"]["questions"].append(
        {"key": "budget", "label": "Kinh phí", "prompt": "Kinh phí?", "type": "integer", "required": False})
    raw["sections"].insert(-1, {
        "key": "equipment", "title": "V. Trang thiết bị", "repeat": {"min": 0, "max": 5, "item": "thiết bị"},
        "questions": [{"key": "name", "label": "Thiết bị", "prompt": "Thiết bị?", "type": "text"},
                      {"key": "count", "label": "Số lượng", "prompt": "Bao nhiêu?", "type": "integer"}]})
    raw["sections"].append({"key": "contact", "title": "VI. Đầu mối", "questions": [
        {"key": "room", "label": "Phòng", "prompt": "Phòng?", "type": "text"},
        {"key": "fax", "label": "Fax", "prompt": "Fax?", "type": "text", "required": False}]})
    path = tmp_path / "grown.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_form(path)


def test_document__questions_and_sections_added_to_the_form__appear(data, tmp_path):
    full = unit(data, "STP")
    answers = {**full.answers, "main_staff[2].email": "nam@stp.gov.vn", "plan[1].budget": 15,
               "equipment[1].name": "Máy quét", "equipment[1].count": 2, "equipment[2].name": "Máy in",
               "contact.room": "Phòng 204"}
    grown = dataclasses.replace(data, form=grown_form(tmp_path))
    path = build_unit_document(grown, dataclasses.replace(full, answers=answers), tmp_path / "x.docx")
    doc = Document(str(path))
    lines = [p.text for p in doc.paragraphs]
    expected = (
        "Phạm Văn Nam\nThư điện tử: nam@stp.gov.vn",
        "Rà soát 125 TTHC, đề xuất danh mục\nKinh phí: 15",
        [[texts.COL_STT, "Thiết bị", "Số lượng"], ["1", "Máy quét", "2"], ["2", "Máy in", ""]],
        ["V. Trang thiết bị", "VI. Đầu mối", "- Phòng: Phòng 204", "- Fax: " + NONE_ENTERED],
    )
    actual = (body_tables(doc)[0].cell(3, 1).text, body_tables(doc)[2].cell(1, 2).text, rows(body_tables(doc)[3]),
              lines[lines.index("V. Trang thiết bị"):])
    assert expected == actual


# --- Many units -------------------------------------------------------------------------------------------


def test_documents__four_units__one_file_each_named_by_code_none_for_the_unit_never_started(data, tmp_path):
    calls = []
    paths = build_unit_documents(data, tmp_path / "docs", progress=lambda done, total: calls.append((done, total)))
    expected = ([tmp_path / "docs" / texts.DOC_FILE.format(code=c) for c in ("STP", "CTHUE", "SYT")],
                [(1, 4), (2, 4), (3, 4), (4, 4)], [True] * 3)
    assert expected == (paths, calls, [len(body_tables(Document(str(p)))) == 3 for p in paths])


def test_document__libreoffice__converts_to_pdf_with_the_title_and_the_names(documents, tmp_path):
    """The file opens in an office suite, not only in python-docx (slow: a few seconds)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: PDF conversion not checked")
    profile = tmp_path / "profile"  # own profile: another LibreOffice running must not swallow the job
    subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(documents["STP"])], check=True, capture_output=True, timeout=180,
                   env={**os.environ, "HOME": str(tmp_path)})
    pdf = tmp_path / documents["STP"].with_suffix(".pdf").name
    printed = pages(pdf)
    squeezed = "".join("".join(page.text.split()) for page in printed)  # the PDF's own spacing and line ends
    wanted = [texts.DOC_TITLE, "Đỗ Thị Hạnh", "0934 111 222", "15/04/2017", texts.DOC_SECTION_ISSUES]
    assert wanted == [w for w in wanted if "".join(w.split()) in squeezed]
    assert min(page.smallest for page in printed if page.sizes) >= 11  # legible on A4: nothing below 11 pt
