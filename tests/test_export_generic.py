"""Every export of a form other than the shipped one: a training registration with a contact, a list of trainees
with photos, and a plain section of a count and a note. What an officer sees in each file."""

from __future__ import annotations

import dataclasses
import os
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.photos import store_photo
from conversations import texts
from conversations.answers import DONE
from conversations.form import load_form
from exports.badges import build_badges, build_name_tags
from exports.build import build_export
from exports.data import ExportData, UnitReport, badge_questions, is_template_form
from exports.document import build_unit_document
from exports.photo_archive import build_photo_archive
from exports.report import build_report
from tests.export_samples import DEADLINE, NOW, portrait
from tests.rendering import PDFTOPPM, SOFFICE, pages, to_pdf, to_png

FORM_YAML = """\
id: training_2027
title: Đăng ký tham gia lớp tập huấn kỹ năng số
sections:
  - key: contact
    title: Người liên hệ
    questions:
      - {key: name, label: Họ và tên, prompt: "Họ tên người liên hệ?", type: name}
      - {key: phone, label: Số điện thoại, prompt: "Số điện thoại?", type: phone}
  - key: trainees
    title: Học viên
    repeat: {min: 1, max: 30, item: học viên}
    questions:
      - {key: name, label: Họ và tên, prompt: "Họ tên học viên?", type: name}
      - {key: position, label: Chức vụ, prompt: "Chức vụ?", type: text}
      - {key: birth, label: Ngày sinh, prompt: "Ngày sinh?", type: date}
      - key: gender
        label: Giới tính
        prompt: "Giới tính?"
        type: choice
        choices: [{value: nam, label: Nam}, {value: nu, label: Nữ}]
      - {key: photo, label: Ảnh 3x4, prompt: "Gửi ảnh 3x4.", type: photo, required: false}
  - key: needs
    title: "Nhu cầu hỗ trợ: chỗ ở/đi lại [nếu có] của học viên"
    questions:
      - {key: rooms, label: Số phòng nghỉ cần bố trí, prompt: "Bao nhiêu phòng?", type: integer}
      - {key: note, label: Ghi chú, prompt: "Ghi chú?", type: long_text, required: false}
"""

NEEDS_SHEET = "Nhu cầu hỗ trợ chỗ ởđi lại nếu"  # ':', '/', '[' and ']' removed, cut to 31 characters
TRAINEES = [
    ("Nguyễn Văn An", "Chuyên viên", "1990-05-02", "nam"),
    ("Trần Thị Bích Ngọc", "Phó Trưởng phòng Hành chính – Tổng hợp", "1985-11-20", "nu"),
    ("Lê Hoàng Phúc", "Văn thư", "1998-01-15", "nam"),
]


@pytest.fixture(scope="module")
def form(tmp_path_factory):
    path = tmp_path_factory.mktemp("form") / "training.yaml"
    path.write_text(FORM_YAML, encoding="utf-8")
    return load_form(path)


def trainee(n: int, person: tuple[str, str, str, str], photo: int | None) -> dict:
    name, position, birth, gender = person
    out = {f"trainees[{n}].name": name, f"trainees[{n}].position": position, f"trainees[{n}].birth": birth,
           f"trainees[{n}].gender": gender}
    if photo is not None:
        out[f"trainees[{n}].photo"] = photo
    return out


@pytest.fixture(scope="module")
def data(form, tmp_path_factory) -> ExportData:
    photos_dir = tmp_path_factory.mktemp("photos")
    photos = {}
    for n, color in enumerate([(40, 90, 160), (160, 60, 60)], 1):
        photos[n] = Path(store_photo(photos_dir, portrait(color)).processed_path)
    first = {"contact.name": "Phạm Thị Lan", "contact.phone": "+84912345678",
             **trainee(1, TRAINEES[0], 1), **trainee(2, TRAINEES[1], 2), **trainee(3, TRAINEES[2], None),
             f"trainees.{DONE}": True, "needs.rooms": 2, "needs.note": "Hai học viên nữ ở chung một phòng.\n"
             "Đề nghị bố trí xe đưa đón từ bến xe Biên Hòa."}
    second = {"contact.name": "Đỗ Văn Minh", "contact.phone": "+84987654321",
              **trainee(1, ("Hồ Thị Thu", "Kế toán", "1992-07-09", "nu"), None), f"trainees.{DONE}": True,
              "needs.rooms": 1, "needs.note": None}
    third = {"contact.name": "Võ Minh Tâm"}
    units = [
        UnitReport("STP", "Sở Tư pháp", "submitted", first, NOW, NOW, False, {1: photos[1], 2: photos[2]}),
        UnitReport("SYT", "Sở Y tế", "submitted_late", second, NOW, NOW),
        UnitReport("CTHUE", "Cục Thuế tỉnh", "in_progress", third, None, NOW),
        UnitReport("BUUDIEN", "Bưu điện tỉnh", "not_started", {}),
    ]
    return ExportData(form=form, campaign_title="Đăng ký học viên lớp tập huấn kỹ năng số năm 2027",
                      doc_ref="số 45/SNV-CCHC ngày 02/3/2027", deadline_at=DEADLINE, generated_at=NOW, units=units,
                      province="Đồng Nai")


@pytest.fixture(scope="module")
def export(data, tmp_path_factory):
    return build_export(data, tmp_path_factory.mktemp("out"), campaign_id=3)


def header_row(ws) -> int:
    return next(row[0].row for row in ws.iter_rows() if row[0].value == texts.COL_UNIT_CODE)


def table_rows(ws) -> tuple[list, list[list]]:
    top = header_row(ws)
    header = [c.value for c in ws[top]]
    return header, [list(r) for r in ws.iter_rows(min_row=top + 1, values_only=True) if any(v is not None for v in r)]


def table_texts(table) -> list[list[str]]:
    out = []
    for row in table.rows:
        cells = []
        for cell in row.cells:  # a merged cell is listed once per column it spans
            if not cells or cell._tc is not cells[-1][0]:
                cells.append((cell._tc, cell.text))
        out.append([text for _, text in cells])
    return out


def body_tables(doc):
    """The document's tables less the heading and the signature block (borderless, first and last)."""
    return doc.tables[1:-1]


def test_form__not_the_template__generic_layout_and_no_badge_photo(form):
    assert (False, [], True) == (is_template_form(form), badge_questions(form), is_template_form(load_form()))


# --- Workbook -------------------------------------------------------------------------------------------


def test_workbook__one_sheet_per_section_with_valid_unique_names(export):
    wb = load_workbook(export.workbook)
    assert [texts.SHEET_STATUS, "Người liên hệ", "Học viên", NEEDS_SHEET] == wb.sheetnames
    assert all(len(name) <= 31 and not set(name) & set("[]:*?/\\") for name in wb.sheetnames)


def test_workbook__status_sheet__every_unit_with_its_status(export):
    header, rows = table_rows(load_workbook(export.workbook)[texts.SHEET_STATUS])
    assert [texts.COL_UNIT_CODE, texts.COL_UNIT, texts.COL_STATUS] == header[:3]
    assert ["STP", "SYT", "CTHUE", "BUUDIEN"] == [r[0] for r in rows]
    assert ["đã nộp", "nộp muộn"] == [r[2] for r in rows[:2]]


def test_workbook__plain_section__one_row_per_unit_one_column_per_question(export):
    header, rows = table_rows(load_workbook(export.workbook)["Người liên hệ"])
    assert [texts.COL_UNIT_CODE, texts.COL_UNIT, texts.COL_STATUS, "Họ và tên", "Số điện thoại"] == header
    assert [["STP", "Sở Tư pháp", "đã nộp", "Phạm Thị Lan", "0912 345 678"],
            ["SYT", "Sở Y tế", "nộp muộn", "Đỗ Văn Minh", "0987 654 321"],
            ["CTHUE", "Cục Thuế tỉnh", "đang nhập", "Võ Minh Tâm", None]] == rows


def test_workbook__repeat_section__one_row_per_item_with_unit_and_stt_and_photo_file(export):
    header, rows = table_rows(load_workbook(export.workbook)["Học viên"])
    assert [texts.COL_UNIT_CODE, texts.COL_UNIT, texts.COL_STATUS, texts.COL_STT, "Họ và tên", "Chức vụ",
            "Ngày sinh", "Giới tính", texts.COL_PHOTO_FILE] == header
    first = ["STP", "Sở Tư pháp", "đã nộp", 1, "Nguyễn Văn An", "Chuyên viên", date(1990, 5, 2), "Nam",
             "STP_TRAINEES_1_Nguyen-Van-An.jpg"]
    assert first == [*rows[0][:6], rows[0][6].date(), *rows[0][7:]]  # a date cell reads back as a datetime
    assert [("STP", 1), ("STP", 2), ("STP", 3), ("SYT", 1)] == [(r[0], r[3]) for r in rows]
    assert ["STP_TRAINEES_2_Tran-Thi-Bich-Ngoc.jpg", None, None] == [r[8] for r in rows[1:]]


def test_workbook__plain_section_with_count_and_note(export):
    header, rows = table_rows(load_workbook(export.workbook)[NEEDS_SHEET])
    assert ["Số phòng nghỉ cần bố trí", "Ghi chú"] == header[3:]
    assert [["STP", 2, "Hai học viên nữ ở chung một phòng.\nĐề nghị bố trí xe đưa đón từ bến xe Biên Hòa."],
            ["SYT", 1, texts.VALUE_SKIPPED]] == [[r[0], r[3], r[4]] for r in rows]


# --- Photo archive and badges --------------------------------------------------------------------------------


def test_photo_archive__every_photo_question_in_a_folder_per_unit_named_as_in_the_workbook(export):
    archive = export.folder / "anh-3x4"
    files = sorted(str(p.relative_to(archive)) for p in archive.rglob("*.jpg"))
    # Not a badge photo (no `badge: true`): a folder of its question, then one per unit.
    assert ["PHOTO/STP/STP_TRAINEES_1_Nguyen-Van-An.jpg", "PHOTO/STP/STP_TRAINEES_2_Tran-Thi-Bich-Ngoc.jpg"] == files
    index = (archive / "danh-sach-anh.csv").read_text(encoding="utf-8-sig").splitlines()
    assert 1 + 4 == len(index)  # everyone with a photo question, the 2 without a photo too


def test_badges__form_without_badge_photos__no_badges_and_no_name_tags(export, data, tmp_path):
    assert ([], []) == (export.badges, export.name_tags)
    assert not (export.folder / "the-nhan-su.pdf").exists() and not (export.folder / "bang-ten.pdf").exists()
    assert ([], []) == (build_badges(data, tmp_path / "b.pdf"), build_name_tags(data, tmp_path / "t.pdf"))
    with zipfile.ZipFile(export.zip_path) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".pdf") and "the-nhan-su" in n]


def test_badges__photo_question_marked_badge__printed(data, tmp_path):
    """With `badge: true` on a photo question (conversations.form.Question.badge), its photos become badges."""
    section = data.form.section("trainees")
    question = section.question("photo")
    try:
        marked = dataclasses.replace(question, badge=True)
    except TypeError:  # the field is not in Question yet: mark it as the field would
        marked = dataclasses.replace(question)
        object.__setattr__(marked, "badge", True)
    questions = tuple(marked if q.key == "photo" else q for q in section.questions)
    sections = tuple(dataclasses.replace(s, questions=questions) if s.key == "trainees" else s
                     for s in data.form.sections)
    form = dataclasses.replace(data.form, sections=sections)
    paths = build_badges(dataclasses.replace(data, form=form), tmp_path / "the.pdf")
    assert [tmp_path / "the.pdf"] == paths
    text = " ".join(page.text for page in pages(paths[0]))
    assert "Nguyễn Văn An" in text and "Lê Hoàng Phúc" in text  # a badge, and the list of who has none


# --- Documents ------------------------------------------------------------------------------------------------


def test_unit_document__heading_title_and_signature(export):
    doc = Document(str(export.folder / "bao-cao-don-vi" / "bao-cao_STP.docx"))
    heading = table_texts(doc.tables[0])[0]
    lines = [p.text for p in doc.paragraphs if p.text]
    assert ["UBND TỈNH ĐỒNG NAI", "SỞ TƯ PHÁP", texts.DOC_NATION] == [*heading[0].split("\n")[:2],
                                                                      heading[1].split("\n")[0]]
    assert "ĐĂNG KÝ THAM GIA LỚP TẬP HUẤN KỸ NĂNG SỐ" in lines
    assert "Đăng ký học viên lớp tập huấn kỹ năng số năm 2027" in lines
    assert ["I. Người liên hệ", "II. Học viên", "III. Nhu cầu hỗ trợ: chỗ ở/đi lại [nếu có] của học viên"] == \
        [line for line in lines if line[:3] in ("I. ", "II.", "III")]
    assert texts.DOC_SIGNER in table_texts(doc.tables[-1])[0][1]


def test_unit_document__plain_sections_two_columns_repeat_one_row_per_item(export):
    doc = Document(str(export.folder / "bao-cao-don-vi" / "bao-cao_STP.docx"))
    contact, trainees, needs = (table_texts(t) for t in body_tables(doc))
    assert [[texts.DOC_GENERIC_COL_QUESTION, texts.DOC_GENERIC_COL_ANSWER], ["Họ và tên", "Phạm Thị Lan"],
            ["Số điện thoại", "0912 345 678"]] == contact
    assert [[texts.COL_STT, "Họ và tên", "Chức vụ", "Ngày sinh", "Giới tính", "Ảnh 3x4"],
            ["1", "Nguyễn Văn An", "Chuyên viên", "02/05/1990", "Nam", texts.DOC_PHOTO_GIVEN],
            ["2", "Trần Thị Bích Ngọc", "Phó Trưởng phòng Hành chính – Tổng hợp", "20/11/1985", "Nữ",
             texts.DOC_PHOTO_GIVEN],
            ["3", "Lê Hoàng Phúc", "Văn thư", "15/01/1998", "Nam", texts.DOC_PHOTO_MISSING]] == trainees
    assert ["Số phòng nghỉ cần bố trí", "2"] == needs[1]


def test_unit_document__draft__not_entered_and_empty_list(export):
    doc = Document(str(export.folder / "bao-cao-don-vi" / "bao-cao_CTHUE.docx"))
    contact, trainees, needs = (table_texts(t) for t in body_tables(doc))
    assert ["Số điện thoại", texts.DOC_NOT_ENTERED] == contact[2]
    assert texts.DOC_NOT_ENTERED in trainees[1]
    assert [["Số phòng nghỉ cần bố trí", texts.DOC_NOT_ENTERED], ["Ghi chú", texts.DOC_NOT_ENTERED]] == needs[1:]


def test_unit_documents__one_per_unit_that_started(export):
    assert ["bao-cao_CTHUE.docx", "bao-cao_STP.docx", "bao-cao_SYT.docx"] == sorted(p.name for p in export.documents)


def test_report__a_table_per_section_over_the_submitted_units(export):
    doc = Document(str(export.report))
    lines = [p.text for p in doc.paragraphs if p.text]
    assert [texts.ISSUING_DOC_TYPE, "Tổng hợp đăng ký học viên lớp tập huấn kỹ năng số năm 2027"] == lines[:2]
    # Tables: the heading, the three sections (the list of trainees counted per unit), the signature, then the
    # annexes: every trainee, every unit's status.
    contact, counted, needs, _, trainees, annex = (table_texts(t) for t in doc.tables[1:])
    assert [[texts.COL_STT, texts.COL_UNIT, texts.COL_COUNT], ["1", "Sở Tư pháp", "3"], ["2", "Sở Y tế", "1"],
            ["", texts.TOTAL_ROW, "4"]] == counted
    assert ["Phụ lục I", "HỌC VIÊN"] == lines[lines.index("Phụ lục I"):][:2]
    assert [[texts.COL_STT, texts.COL_UNIT, "Họ và tên", "Số điện thoại"],
            ["1", "Sở Tư pháp", "Phạm Thị Lan", "0912 345 678"],
            ["2", "Sở Y tế", "Đỗ Văn Minh", "0987 654 321"]] == contact
    assert [texts.COL_STT, "Họ và tên", "Chức vụ", "Ngày sinh", "Giới tính", "Ảnh 3x4"] == trainees[0]
    assert ["Sở Tư pháp"] == trainees[1] and ["Sở Y tế"] == trainees[5]
    assert ["1", "Hồ Thị Thu", "Kế toán", "09/07/1992", "Nữ", texts.DOC_PHOTO_MISSING] == trainees[6]
    assert [["1", "Sở Tư pháp", "2"], ["2", "Sở Y tế", "1"], ["", texts.TOTAL_ROW, "3"]] == \
        [row[:3] for row in needs[1:]]
    assert ["Sở Tư pháp", "Sở Y tế", "Cục Thuế tỉnh", "Bưu điện tỉnh"] == [row[1] for row in annex[1:]]


def test_report__no_unit_submitted__summary_only(data, tmp_path):
    drafts = dataclasses.replace(data, units=[u for u in data.units if u.status == "in_progress"])
    doc = Document(str(build_report(drafts, tmp_path / "r.docx")))
    assert texts.REPORT_NO_SUBMISSION in [p.text for p in doc.paragraphs]


def test_documents__counts_and_amounts__vietnamese_thousands_separators_years_left_as_written(data, tmp_path):
    path = tmp_path / "needs.yaml"
    path.write_text(FORM_YAML + """\
      - {key: budget, label: Kinh phí dự kiến (nghìn đồng), prompt: "Kinh phí?", type: decimal}
      - {key: founded, label: Năm thành lập, prompt: "Năm thành lập?", type: integer}
      - {key: namsinh, label: Trưởng đoàn sinh năm, prompt: "Sinh năm?", type: integer}
      - {key: so_can_bo_nam, label: Số cán bộ nam, prompt: "Bao nhiêu?", type: integer}
""", encoding="utf-8")
    form = load_form(path)
    big = {"needs.rooms": 1034, "needs.budget": 1234567.5, "needs.founded": 2017, "needs.namsinh": 1985,
           "needs.so_can_bo_nam": 2000}
    units = [dataclasses.replace(u, answers={**u.answers, **big}) if u.code in ("STP", "SYT") else u
             for u in data.units]
    wide = dataclasses.replace(data, form=form, units=units)
    unit_doc = build_unit_document(wide, units[0], tmp_path / "unit.docx")
    needs = table_texts(body_tables(Document(str(unit_doc)))[2])
    assert [["Số phòng nghỉ cần bố trí", "1.034"], ["Kinh phí dự kiến (nghìn đồng)", "1.234.567,5"],
            ["Năm thành lập", "2017"], ["Trưởng đoàn sinh năm", "1985"], ["Số cán bộ nam", "2.000"]] == \
        [row for row in needs if row[0] != "Ghi chú"][1:]
    report = table_texts(Document(str(build_report(wide, tmp_path / "r.docx"))).tables[3])
    cells = [cell for row in report for cell in row]
    assert [2, 2, 2, 2, 2, 0, 0] == [cells.count(v) for v in ("1.034", "1.234.567,5", "2017", "1985", "2.000",
                                                                "1034", "1.985")]


def test_documents__many_questions__one_details_column_instead_of_narrow_ones(data, tmp_path):
    section = data.form.section("trainees")
    extra = [dataclasses.replace(section.questions[1], key=f"q{n}", label=f"Câu hỏi thêm số {n}") for n in range(5)]
    wide = dataclasses.replace(section, questions=(*section.questions, *extra))
    form = dataclasses.replace(data.form, sections=tuple(wide if s.key == "trainees" else s for s in data.form.sections))
    unit = data.units[0]
    answers = {**unit.answers, **{f"trainees[1].q{n}": f"trả lời {n}" for n in range(5)}}
    path = build_unit_document(dataclasses.replace(data, form=form), dataclasses.replace(unit, answers=answers),
                               tmp_path / "x.docx")
    rows = table_texts(body_tables(Document(str(path)))[1])
    assert [texts.COL_STT, texts.DOC_GENERIC_COL_DETAILS] == rows[0]
    assert "Câu hỏi thêm số 4: trả lời 4" in rows[1][1].split("\n")


# --- As printed -------------------------------------------------------------------------------------------


@pytest.mark.skipif(SOFFICE is None or PDFTOPPM is None, reason="LibreOffice or poppler is not installed")
def test_documents__libreoffice__a4_pages_with_the_answers_legible(export, tmp_path):
    out = Path(os.environ.get("HCC_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    unit_doc = export.folder / "bao-cao-don-vi" / "bao-cao_STP.docx"
    for source, wanted in ((unit_doc, ["Trần Thị Bích Ngọc", "20/11/1985", "Ghi chú", texts.DOC_SIGNER]),
                           (export.report, ["Hồ Thị Thu", texts.TOTAL_ROW, texts.REPORT_SIGNER])):
        copy = tmp_path / source.name
        shutil.copy(source, copy)
        pdf = to_pdf(copy, tmp_path)
        printed = pages(pdf)
        text = "".join("".join(page.text.split()) for page in printed)
        assert wanted == [w for w in wanted if "".join(w.split()) in text]
        assert min(page.smallest for page in printed if page.sizes) >= 11  # nothing shrunk below 11 pt
        pngs = to_png(pdf, out / f"generic-{source.stem}", dpi=70)
        from PIL import Image
        with Image.open(pngs[0]) as image:  # A4 portrait: 210 x 297 mm
            assert abs(image.height / image.width - 297 / 210) < 0.01


# --- Loading from storage ----------------------------------------------------------------------------------


async def test_load_export_data__photo_question_with_any_key__its_photo_loaded(sqlite_db, tmp_path):
    """The form's own photo questions are read, whatever their key ("anh_the" here, not "photo")."""
    from exports.data import load_export_data
    from storage import queries as q

    path = tmp_path / "form.yaml"
    path.write_text(FORM_YAML.replace("{key: photo, label: Ảnh 3x4", "{key: anh_the, label: Ảnh 3x4"),
                    encoding="utf-8")
    form = load_form(path)
    stored = store_photo(tmp_path / "photos", portrait((10, 120, 200)))
    async with sqlite_db.transaction() as s:
        await q.upsert_units(s, [("STP", "Sở Tư pháp")], now=NOW)
        campaign = await q.create_campaign(s, title="Tập huấn", deadline_at=DEADLINE, form_id=form.id,
                                           doc_ref=None, now=NOW)
        unit = await q.get_unit_by_code(s, "STP")
        report = await q.get_or_create_report(s, campaign_id=campaign.id, unit_id=unit.id, now=NOW)
        photo = await q.add_photo(s, report_id=report.id, contact_id=None, sha256=stored.sha256,
                                  original_path=str(stored.original_path), processed_path=str(stored.processed_path),
                                  width=354, height=472, at=NOW)
        answers = {**trainee(1, TRAINEES[0], None), "trainees[1].anh_the": photo.id}
        await q.save_answer_changes(s, report_id=report.id, contact_id=None, before={}, after=answers, at=NOW)
    data = await load_export_data(sqlite_db, form, now=NOW)
    assert (form, {photo.id: Path(stored.processed_path)}) == (data.form, data.units[0].photos)
    folder = tmp_path / "anh"
    build_photo_archive(data, folder)
    # a draft's photos are kept apart from those of the units that submitted, in a folder named for why; a photo
    # that is not a badge photo in the folder of its question
    assert ["STP_TRAINEES_1_Nguyen-Van-An.jpg"] == [
        p.name for p in (folder / texts.PHOTO_ASIDE_NOT_SUBMITTED / "ANH-THE" / "STP").iterdir()]


ODD_FORM_YAML = """\
id: odd_2027
title: Khảo sát trang thiết bị
sections:
  - key: reporter
    title: Người điền phiếu
    questions:
      - {key: name, label: Họ và tên, prompt: "Họ tên?", type: name}
      - {key: office_photo, label: Ảnh trụ sở, prompt: "Ảnh trụ sở?", type: photo, required: false}
  - key: devices
    title: Thiết bị
    repeat: {min: 0, max: 5, item: thiết bị}
    questions:
      - {key: kind, label: Loại, prompt: "Loại?", type: text}
      - {key: working, label: Còn dùng được, prompt: "Còn dùng?", type: yes_no}
      - {key: broken_since, label: Hỏng từ, prompt: "Từ khi nào?", type: date, ask_if: {key: working, equals: false}}
      - {key: front, label: Ảnh mặt trước, prompt: "Ảnh trước?", type: photo, required: false}
      - {key: back, label: Ảnh mặt sau, prompt: "Ảnh sau?", type: photo, required: false}
  - key: hours
    title: Giờ làm việc
    questions:
      - {key: times, label: Giờ mở cửa, prompt: "Giờ?", type: times}
"""


def test_build_export__odd_form__every_deliverable_made_photos_of_every_question_archived(tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text(ODD_FORM_YAML, encoding="utf-8")
    form = load_form(path)
    photos = {n: Path(store_photo(tmp_path / "photos", portrait((n * 40, 80, 120))).processed_path) for n in (1, 2, 3)}
    answers = {"reporter.name": "Mai Văn Sáu", "reporter.office_photo": 1,
               "devices[1].kind": "Máy quét", "devices[1].working": False, "devices[1].broken_since": "2026-12-01",
               "devices[1].front": 2, "devices[1].back": 3, "devices[2].kind": "Máy in", "devices[2].working": True,
               "hours.times": "07:30, 13:30"}
    data = ExportData(form=form, campaign_title="Khảo sát", doc_ref=None, deadline_at=DEADLINE, generated_at=NOW,
                      units=[UnitReport("STP", "Sở Tư pháp", "submitted", answers, NOW, NOW, False, photos)])
    result = build_export(data, tmp_path / "out", campaign_id=1)
    archive = result.folder / "anh-3x4"  # no badge photo: a folder per photo question, then per unit
    archived = sorted(str(p.relative_to(archive)) for p in archive.rglob("*.jpg"))
    assert ["BACK/STP/STP_DEVICES_1_BACK_May-quet.jpg", "FRONT/STP/STP_DEVICES_1_FRONT_May-quet.jpg",
            "OFFICE-PHOTO/STP/STP_REPORTER_1_Mai-Van-Sau.jpg"] == archived
    wb = load_workbook(result.workbook)
    assert [texts.SHEET_STATUS, "Người điền phiếu", "Thiết bị", "Giờ làm việc"] == wb.sheetnames
    header, rows = table_rows(wb["Thiết bị"])
    assert [f"{texts.COL_PHOTO_FILE}: Ảnh mặt trước", f"{texts.COL_PHOTO_FILE}: Ảnh mặt sau"] == header[-2:]
    assert [["STP_DEVICES_1_FRONT_May-quet.jpg", "STP_DEVICES_1_BACK_May-quet.jpg"], [None, None]] == \
        [r[-2:] for r in rows]
    doc = Document(str(result.documents[0]))
    reporter, devices, hours = (table_texts(t) for t in body_tables(doc))
    assert ["Ảnh trụ sở", "STP_REPORTER_1_Mai-Van-Sau.jpg"] == reporter[2]
    assert [["1", "Máy quét", "Không", "01/12/2026", texts.DOC_PHOTO_GIVEN, texts.DOC_PHOTO_GIVEN],
            ["2", "Máy in", "Có", "", texts.DOC_PHOTO_MISSING, texts.DOC_PHOTO_MISSING]] == devices[1:]
    assert ([], [], True) == (result.badges, result.name_tags, result.report.is_file())
