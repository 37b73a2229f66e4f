"""The consolidated report an officer prints and hands up as it is (issue 25): 25 units of every status, long plan
items, the seed letter's signer; printed by LibreOffice and read back page by page from the PDF."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
import pytest

from conversations import texts
from conversations.form import load_form
from exports.data import ExportData, UnitReport
from exports.issuing import SEED, Issuing
from exports.report import build_report
from tests.export_samples import DEADLINE, FULL_REPORT, HALF_REPORT, MORE_UNITS, NOW, fill
from tests.rendering import SOFFICE, pages, to_pdf, to_png

pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")

CENTER = WD_ALIGN_PARAGRAPH.CENTER
RETURNED = ("SNGV", "Sở Ngoại vụ")
COMMENT = "Ảnh của ông Phạm Văn Nam bị mờ, đề nghị gửi lại ảnh rõ mặt."
SEED_ISSUING = Issuing(**{k: tuple(v) if isinstance(v, list) else v for k, v in SEED.items()})
PLAN_END = FULL_REPORT.index("Chưa có trụ sở tạm cho bộ phận một cửa; đề nghị bố trí kinh phí mua máy scan.") - 1


def plan_lines(n: int) -> list[str]:
    """Eight long plan items, each naming its unit (n) so a row's text is found on one page only."""
    return [f"Nội dung {n}.{i} rà soát quy trình; Chi tiết {n}.{i}: rà soát, chuẩn hóa và công khai quy trình nội bộ "
            f"giải quyết thủ tục hành chính thuộc thẩm quyền, phân công cán bộ đầu mối, lập lịch tập huấn và thử "
            f"nghiệm tiếp nhận hồ sơ tại Trung tâm; 0{1 + i % 9}/04/2017; 2{i % 9}/05/2017; chung; Sở Nội vụ, "
            f"Bưu điện tỉnh, Sở Thông tin và Truyền thông" for i in range(1, 9)]


def script(n: int) -> list[str]:
    """The full report with eight long plan items of its own in place of the four short ones."""
    start = next(i for i, line in enumerate(FULL_REPORT) if line.startswith("Rà soát TTHC;"))
    return [*FULL_REPORT[:start], *plan_lines(n), *FULL_REPORT[PLAN_END:]]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> ExportData:
    """25 units: 19 on time, 1 late, 1 accepted, 1 returned for a photo, 2 drafts, 1 not started."""
    form = load_form()
    photos = tmp_path_factory.mktemp("photos")
    names = [(f"U{n:02d}", name) for n, name in enumerate(MORE_UNITS) if name not in ("Sở Ngoại vụ",)]
    names = [("STP", "Sở Tư pháp"), ("SYT", "Sở Y tế"), *names][:22]
    units = []
    for n, (code, name) in enumerate([*names[:21], RETURNED], 1):
        state, stored = fill(form, script(n), photos, name, n)
        unit = UnitReport(code, name, state.report.status, dict(state.answers), state.report.submitted_at, NOW,
                          False, stored)
        if n == 20:
            unit = dataclasses.replace(unit, status="submitted_late", submitted_at=DEADLINE + timedelta(hours=2))
        if n == 21:
            unit = dataclasses.replace(unit, review="accepted")
        if n == 22:
            unit = dataclasses.replace(unit, review="returned", review_comment=COMMENT)
        units.append(unit)
    for n, (code, name) in enumerate([("CTHUE", "Cục Thuế tỉnh"), ("BHXH", "Bảo hiểm xã hội tỉnh")], 30):
        state, stored = fill(form, HALF_REPORT, photos, name, n)
        units.append(UnitReport(code, name, state.report.status, dict(state.answers), None, NOW, False, stored))
    units.append(UnitReport("BUUDIEN", "Bưu điện tỉnh", "not_started", {}))
    return ExportData(form=form, campaign_title="Báo cáo tiến độ triển khai thành lập Trung tâm hành chính công tỉnh",
                      doc_ref="số 123/SNV-CCHC ngày 27/3/2017", deadline_at=DEADLINE,
                      generated_at=DEADLINE + timedelta(hours=3), units=units, province="Đồng Nai",
                      issuing=SEED_ISSUING)


@pytest.fixture(scope="module")
def printed(data, tmp_path_factory):
    """(the .docx, the PDF's pages); the PNGs are left beside them for a person to look at."""
    folder = tmp_path_factory.mktemp("printed")
    path = build_report(data, folder / texts.REPORT_FILE)
    pdf = to_pdf(path, folder)
    to_png(pdf, folder / "page", dpi=70)
    return docx.Document(str(path)), pages(pdf), pdf


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_of(all_pages, text: str) -> int:
    return next(p.number for p in all_pages if squash(text) in squash(p.text))


def test_report_pdf__heading__so_va_ky_hieu_line_and_the_title_said_once(printed):
    _, all_pages, _ = printed
    first = squash(all_pages[0].text)
    assert squash("Số: …/BC-SNV") in first
    assert squash("BÁO CÁO Tổng hợp tiến độ triển khai thành lập Trung tâm hành chính công tỉnh") in first
    assert "BÁOCÁOTỔNGHỢP" not in first and squash(texts.DOC_SIGN_NOTE) not in squash(
        "".join(p.text for p in all_pages))


def test_report_pdf__signature__name_under_the_title_before_the_annexes_on_an_early_page(printed):
    _, all_pages, _ = printed
    signed = page_of(all_pages, "Tạ Quang Trường")
    text = squash(all_pages[signed - 1].text)
    assert text.index(squash("KT. GIÁM ĐỐC")) < text.index(squash("PHÓ GIÁM ĐỐC")) < text.index(squash("Tạ Quang Trường"))
    # 22 units' staff, procedures, plan counts and difficulties before it; not one plan item
    assert signed < page_of(all_pages, "Phụ lục I " + texts.REPORT_PLAN_ANNEX_TITLE) and signed <= 5
    assert not any("Chi tiết 1.1" in p.text for p in all_pages[:signed])
    assert squash("- GĐ, các PGĐ SNV;") in text and squash("- Lưu: VT, CCHC.") in text


def test_report_pdf__returned_unit__in_every_section_marked_with_the_comment_in_the_annex(printed):
    _, all_pages, _ = printed
    whole = squash("".join(p.text for p in all_pages))
    marks = [texts.DOC_SECTION_STAFF, texts.DOC_SECTION_PROCEDURES, "III. Về kế hoạch", texts.DOC_SECTION_ISSUES,
             "Phụ lục I " + texts.REPORT_PLAN_ANNEX_TITLE, "Phụ lục II " + texts.REPORT_STATUS_ANNEX_TITLE]
    starts = [whole.index(squash(m)) for m in marks] + [len(whole)]
    name = squash(RETURNED[1])
    for mark, start, end in zip(marks, starts, starts[1:]):
        assert name in whole[start:end], mark
    assert squash(texts.RETURNED_MARK) in whole[starts[0]:starts[1]]
    assert squash(texts.RETURNED_NOTE.format(comment=COMMENT)) in whole[starts[5]:]
    assert squash("Đã có 22/25 đơn vị gửi báo cáo (đúng hạn 21, quá hạn 1); 3 đơn vị chưa gửi (đang nhập 2, "
                  "chưa bắt đầu 1).") in whole


def grid_tables(document) -> list:
    """The bordered tables (not the borderless heading and signature)."""
    return [t for t in document.tables if t._tbl.tblPr.style == "TableGrid"]


def column_streams(pdf: Path) -> list[list[str]]:
    """Per page, the text of each left-aligned column read top to bottom (lines grouped by where they start), so a
    table cell's lines are read in order whatever sits beside them."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextLine

    out = []
    for layout in extract_pages(str(pdf), laparams=LAParams(char_margin=0.8)):  # cells side by side stay apart
        lines: list[tuple[float, float, str]] = []

        def walk(item) -> None:
            if isinstance(item, LTTextLine):
                lines.append((round(item.x0 / 3), -item.y1, item.get_text()))
                return
            for child in getattr(item, "_objs", []) or []:
                walk(child)

        walk(layout)
        columns: dict[float, list[tuple[float, str]]] = {}
        for x, y, text in lines:
            columns.setdefault(x, []).append((y, text))
        out.append([squash("".join(t for _, t in sorted(col))) for col in columns.values()])
    return out


def test_report_pdf__table_rows__each_read_whole_on_one_page(printed):
    """A row split across a page break leaves its longest cell in two pieces: that cell is read whole in one column
    of one page, with every word of the row's other cells on that page."""
    document, all_pages, pdf = printed
    streams = column_streams(pdf)
    squashed = [squash(p.text) for p in all_pages]
    checked = 0
    for table in grid_tables(document):
        for row in table.rows[1:]:
            cells = [c.text for c in row.cells if c.text.strip()]
            left = [c.text for c in row.cells if c.text.strip() and c.paragraphs[0].alignment != CENTER]
            if not left:
                continue
            longest = squash(max(left, key=len))
            words = {w for c in cells for w in c.split()}
            assert any(any(longest in column for column in columns) and all(w in page for w in words)
                       for columns, page in zip(streams, squashed)), cells
            checked += 1
    assert checked > 22 * 8 + 25  # every plan item of the annex and every unit's status among them


def test_report_pdf__fonts__nothing_smaller_than_11_pt(printed):
    _, all_pages, _ = printed
    assert 11.0 <= min(p.smallest for p in all_pages)


def test_report_pdf__totals__vietnamese_thousands_separator(printed):
    _, all_pages, _ = printed
    procedures = squash("".join(p.text for p in all_pages))
    assert "2.750" in procedures  # 22 units × 125 procedures


def test_report_docx__every_row_kept_whole_and_the_header_repeated(printed):
    document, _, _ = printed
    for table in grid_tables(document):
        header = table.rows[0]._tr.trPr
        assert header is not None and header.find(docx.oxml.ns.qn("w:tblHeader")) is not None
        for row in table.rows:
            assert row._tr.trPr.find(docx.oxml.ns.qn("w:cantSplit")) is not None


# --- Any other form: the shipped training call (8 questions per attendee) ----------------------------------


def training_data() -> ExportData:
    """12 units of the shipped training.xlsx call, 10 submitted with 3 attendees each, 2 drafts."""
    from bot.forms import read_form_file
    from conversations.answers import DONE

    form, _ = read_form_file(Path(__file__).resolve().parent.parent / "conversations" / "forms" / "training.xlsx")
    samples = {"name": "Nguyễn Văn Học Viên {n}.{i}", "text": "Chuyên viên phòng {i}", "phone": "+84912345678",
               "date": "1990-05-02", "decimal": 12.5, "integer": 1034}
    units = []
    for n, name in enumerate(MORE_UNITS[:12], 1):
        answers = {}
        for section in form.sections:
            keys = [f"{section.key}[{i}]" for i in range(1, 4)] if section.repeat is not None else [section.key]
            for i, prefix in enumerate(keys, 1):
                for question in section.questions:
                    value = question.choices[0].value if question.type == "choice" and question.choices else \
                        samples.get(question.type)
                    if isinstance(value, str):
                        value = value.format(n=n, i=i)
                    if value is not None:
                        answers[f"{prefix}.{question.key}"] = value
            if section.repeat is not None:
                answers[f"{section.key}.{DONE}"] = True
        status = "submitted" if n <= 10 else "in_progress"
        units.append(UnitReport(f"U{n}", name, status, answers, NOW if status == "submitted" else None, NOW))
    return ExportData(form=form, campaign_title="Cử cán bộ dự lớp bồi dưỡng kỹ năng số", doc_ref=None,
                      deadline_at=DEADLINE, generated_at=NOW, units=units, province="Đồng Nai", issuing=SEED_ISSUING)


def test_training_report__attendees__a_table_in_a_landscape_annex_each_row_on_one_page(tmp_path):
    data = training_data()
    path = build_report(data, tmp_path / texts.REPORT_FILE)
    document = docx.Document(str(path))
    attendees = next(t for t in grid_tables(document) if len(t.columns) == 9)
    labels = [q.label for q in data.form.section("attendees").questions]
    assert [texts.COL_STT, *labels] == [c.text for c in attendees.rows[0].cells]
    assert 1 + 10 * (1 + 3) == len(attendees.rows)  # a row per attendee under a row per unit
    landscape = [s for s in document.sections if s.page_width > s.page_height]
    assert 1 == len(landscape)
    pdf = to_pdf(path, tmp_path)
    to_png(pdf, tmp_path / "page", dpi=50)
    printed = pages(pdf)
    assert [] == [p.number for p in printed if re.search(r"\bST\s*\n\s*T\b", p.text)]  # "STT" never broken
    assert 11.0 <= min(p.smallest for p in printed)
    streams = column_streams(pdf)
    for row in attendees.rows[1:]:
        cells = [c.text for c in row.cells if c.text.strip()]
        name = squash(cells[1] if len(cells) > 1 else cells[0])
        assert any(any(name in column for column in columns) for columns in streams), cells
