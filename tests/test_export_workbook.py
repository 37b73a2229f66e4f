"""The consolidated workbook: built from units filled through the real engine, reopened and read cell by cell."""

import dataclasses
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conversations import texts
from conversations.form import load_form
from exports.data import UnitReport
from exports import photo_archive
from exports.photo_archive import build_photo_archive
from exports.workbook import build_workbook, photo_file_name
from tests.export_samples import DEADLINE, fill, realistic_export_data, sample_export_data
from tests.rendering import SOFFICE, pages, to_pdf

SHEETS = [texts.SHEET_STATUS, texts.SHEET_STAFF, texts.SHEET_PROCEDURES, texts.SHEET_PROCEDURE_PARTNERS,
          texts.SHEET_PICKUP, texts.SHEET_PLAN, texts.SHEET_ISSUES, texts.SHEET_SHIRTS]
AT_10 = datetime(2017, 3, 28, 10, 0)  # the samples' clock (03:00 UTC) in Asia/Ho_Chi_Minh


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return sample_export_data(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="module")
def built(data, tmp_path_factory):
    path = build_workbook(data, tmp_path_factory.mktemp("workbook") / "tong-hop.xlsx")
    return load_workbook(path)


TOP = 4  # data sheets: title, letter and times, a blank row, then the table's header in row 4
STATUS_TOP = 5  # Tình trạng: title, times, counts, a blank row, then the header in row 5


def rows(ws, *, first=TOP + 1):
    return [list(row) for row in ws.iter_rows(min_row=first, values_only=True)]


def column(ws, header, row=TOP):
    """The 1-based column of a header."""
    return [cell.value for cell in ws[row]].index(header) + 1


def subtotal(ws, formula):
    """The value of one of our =SUBTOTAL(109,X2:X9) cells, with no row filtered out."""
    assert formula.startswith("=SUBTOTAL(109,"), formula
    start, end = formula.removeprefix("=SUBTOTAL(109,").removesuffix(")").split(":")
    return sum(c.value or 0 for row in ws[f"{start}:{end}"] for c in row)


def build(data, tmp_path, name="out.xlsx"):
    return load_workbook(build_workbook(data, tmp_path / name))


# --- Sheets and headers -----------------------------------------------------------------------------


def test_build_workbook__sample_units__sheets_in_order(built):
    assert SHEETS == built.sheetnames


def test_build_workbook__progress__reported_per_unit(data, tmp_path):
    calls = []
    build_workbook(data, tmp_path / "out.xlsx", progress=lambda done, total: calls.append((done, total)))
    assert [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)] == calls


def test_build_workbook__returned_path__is_the_written_file_and_nothing_else(data, tmp_path):
    path = build_workbook(data, tmp_path / "out" / "tong-hop.xlsx")
    assert (tmp_path / "out" / "tong-hop.xlsx", ["tong-hop.xlsx"]) == (path, os.listdir(tmp_path / "out"))


@pytest.mark.parametrize("sheet", SHEETS)
def test_sheet__any__bold_frozen_filtered_header_and_a4_landscape_print_setup(built, sheet):
    ws = built[sheet]
    top = STATUS_TOP if sheet == texts.SHEET_STATUS else TOP
    header = list(ws[top])
    assert [True] * len(header) == [cell.font.b for cell in header]
    assert f"C{top + 1}" == ws.freeze_panes  # unit code and name stay in view
    assert ws.auto_filter.ref.startswith(f"A{top}:{header[-1].column_letter}")
    assert f"${top}:${top}" == ws.print_title_rows
    assert ("landscape", 9, 1, 0, True) == (ws.page_setup.orientation, int(ws.page_setup.paperSize),
                                            ws.page_setup.fitToWidth, ws.page_setup.fitToHeight,
                                            ws.sheet_properties.pageSetUpPr.fitToPage)
    assert all(6 <= ws.column_dimensions[cell.column_letter].width <= 50 for cell in header)
    # The unit code (column A) and the photo file names stay on screen, out of the printed pages.
    printed = [c.value for c in header if ws.column_dimensions[c.column_letter] and c.column_letter in
               _print_columns(ws.print_area)]
    assert (texts.COL_UNIT, False, False) == (printed[0], texts.COL_UNIT_CODE in printed, texts.COL_PHOTO_FILE in printed)
    # The opening lines span the printed columns and wrap there, so a narrow sheet prints them whole.
    span = f"B1:{_print_columns(ws.print_area)[-1]}1"
    assert (True, True) == (span in {str(r) for r in ws.merged_cells.ranges}, ws["B2"].alignment.wrap_text)
    # The campaign, letter and export time open the sheet and stand in every page's header and footer.
    assert (True, True, "&A", "Xuất lúc 10:00 ngày 28/03/2017", "số 123/SNV-CCHC ngày 27/3/2017", "Trang &P/&N") == (
        sheet == texts.SHEET_SHIRTS or ws["B1"].value.endswith(
            "Báo cáo tiến độ triển khai thành lập Trung tâm hành chính công tỉnh"),
        "Văn bản: số 123/SNV-CCHC ngày 27/3/2017. Hạn nộp: 16:30 ngày 28/03/2017." in ws["B2"].value,
        ws.oddHeader.center.text, ws.oddHeader.right.text, ws.oddFooter.left.text, ws.oddFooter.right.text)


def _print_columns(area):
    """The column letters of a print area such as 'I. Nhân sự'!$B$1:$K$20."""
    from openpyxl.utils import column_index_from_string, get_column_letter
    first, last = area.split("!")[-1].replace("$", "").split(":")
    start, end = (column_index_from_string("".join(c for c in ref if c.isalpha())) for ref in (first, last))
    return [get_column_letter(n) for n in range(start, end + 1)]


# --- Tình trạng -------------------------------------------------------------------------------------


def test_status_sheet__opens_with_counts_deadline_and_export_time(built):
    ws = built[texts.SHEET_STATUS]
    assert [
        "TÌNH TRẠNG NỘP BÁO CÁO – Báo cáo tiến độ triển khai thành lập Trung tâm hành chính công tỉnh",
        "Văn bản: số 123/SNV-CCHC ngày 27/3/2017. Hạn nộp: 16:30 ngày 28/03/2017. "
        "Xuất dữ liệu lúc: 10:00 ngày 28/03/2017.",
        "Tổng số 4 đơn vị: đã nộp 1 (đúng hạn 1, nộp muộn 0); đang nhập 2; chưa bắt đầu 1.",
        None,
    ] == [ws.cell(row=r, column=2).value for r in range(1, STATUS_TOP)]


def test_status_sheet__sample_units__one_row_per_unit(built):
    ws = built[texts.SHEET_STATUS]
    assert [texts.COL_UNIT_CODE, texts.COL_UNIT, texts.COL_STATUS, "Người điền báo cáo", "Số điện thoại người điền",
            texts.COL_SUBMITTED_AT, texts.COL_LAST_ACTIVITY, texts.COL_MISSING,
            texts.COL_CHANGED] == rows(ws, first=STATUS_TOP)[0]
    assert [
        ["STP", "Sở Tư pháp", "đã nộp", "Nguyễn Thị Lan", "0912 345 678", AT_10, AT_10, None, None],
        ["CTHUE", "Cục Thuế tỉnh", "đang nhập", "Phan Văn Đức", "0916 222 333", None, AT_10],
        ["BUUDIEN", "Bưu điện tỉnh", "chưa bắt đầu", None, None, None, None],
        ["SYT", "Sở Y tế", "đang nhập", "=A+B", "0912 345 678", None, AT_10],
    ] == [row if row[0] == "STP" else row[:7] for row in rows(ws, first=STATUS_TOP + 1)]


def test_status_sheet__times__real_datetimes_shown_dd_mm_yyyy_hh_mm(built):
    cell = built[texts.SHEET_STATUS][f"F{STATUS_TOP + 1}"]
    assert (AT_10, "dd/mm/yyyy hh:mm") == (cell.value, cell.number_format)


def test_status_sheet__half_done_unit__what_is_missing_one_line_per_section(built):
    ws = built[texts.SHEET_STATUS]
    actual = ws.cell(row=STATUS_TOP + 2, column=column(ws, texts.COL_MISSING, STATUS_TOP)).value
    assert [
        "Ảnh của 1 nhân sự chính",
        "Mục I.4 chưa có nội dung",
        "Mục “II. Về quy trình tiếp nhận – chuyển hồ sơ” chưa có nội dung",
        "Mục “II. Lịch thu gom – giao nhận hồ sơ của bưu điện” chưa có nội dung",
        "Mục III chưa có nội dung",
    ] == actual.split("\n")


def test_status_sheet__unit_not_started__one_phrase_not_every_question(built):
    ws = built[texts.SHEET_STATUS]
    row = STATUS_TOP + 3
    assert ("BUUDIEN", texts.STATUS_NOT_STARTED_GAPS) == (
        ws.cell(row=row, column=1).value, ws.cell(row=row, column=column(ws, texts.COL_MISSING, STATUS_TOP)).value)
    assert ws.row_dimensions[row].height is None or ws.row_dimensions[row].height <= 20


def test_status_sheet__generated_after_deadline__unsubmitted_units_overdue(data, tmp_path):
    late = dataclasses.replace(data, generated_at=DEADLINE + timedelta(minutes=1))
    ws = build(late, tmp_path)[texts.SHEET_STATUS]
    assert ["đã nộp", "đang nhập, quá hạn", "chưa bắt đầu, quá hạn", "đang nhập, quá hạn"] == [
        row[2] for row in rows(ws, first=STATUS_TOP + 1)]


def test_status_sheet__changed_after_submit__flagged(data, tmp_path):
    changed = dataclasses.replace(data.units[0], changed_since_submit=True)
    ws = build(dataclasses.replace(data, units=[changed]), tmp_path)[texts.SHEET_STATUS]
    assert texts.YES == ws.cell(row=STATUS_TOP + 1, column=column(ws, texts.COL_CHANGED, STATUS_TOP)).value


# --- I. Nhân sự -------------------------------------------------------------------------------------


def test_staff_sheet__sample_units__one_row_per_person_in_role_order(built):
    ws = built[texts.SHEET_STAFF]
    assert [texts.COL_UNIT_CODE, texts.COL_UNIT, texts.COL_STATUS, texts.COL_ROLE, texts.COL_STT, "Tên", "Chức vụ",
            "Số điện thoại",
            "Giới tính", "Kích cỡ áo", texts.COL_PHOTO, texts.COL_PHOTO_FILE] == rows(ws, first=TOP)[0]
    main, backup = texts.ROLE_LABELS["main_staff"], texts.ROLE_LABELS["backup_staff"]
    leader, postal = texts.ROLE_LABELS["leader"], texts.ROLE_LABELS["postal_staff"]
    assert [
        ["STP", "Sở Tư pháp", "đã nộp", leader, 1, "Trần Văn Hùng", "Phó Giám đốc Sở", "0913 456 789", None, None, None, None],
        ["STP", "Sở Tư pháp", "đã nộp", main, 1, "Lê Thị Mai", "Chuyên viên", "0987 654 321", "Nữ", "7",
         None, "STP_CHINH_1_Le-Thi-Mai.jpg"],
        ["STP", "Sở Tư pháp", "đã nộp", main, 2, "Phạm Văn Nam", "Chuyên viên", "0905 123 456", "Nam", "40",
         None, "STP_CHINH_2_Pham-Van-Nam.jpg"],
        ["STP", "Sở Tư pháp", "đã nộp", main, 3, "Đỗ Thị Hạnh", "Cán sự", "0934 111 222", "Nữ", "9",
         None, "STP_CHINH_3_Do-Thi-Hanh.jpg"],
        ["STP", "Sở Tư pháp", "đã nộp", backup, 1, "Bùi Văn Long", "Chuyên viên", "0977 333 444", None, None,
         None, "STP_DUPHONG_1_Bui-Van-Long.jpg"],
        ["STP", "Sở Tư pháp", "đã nộp", backup, 2, "Hồ Thị Thu", "Chuyên viên", "0966 555 666", None, None,
         None, "STP_DUPHONG_2_Ho-Thi-Thu.jpg"],
        ["STP", "Sở Tư pháp", "đã nộp", postal, 1, "Võ Thị Hoa", "Văn thư", "0934 222 333", None, None, None, None],
        ["CTHUE", "Cục Thuế tỉnh", "đang nhập", leader, 1, "Lý Thị Ngọc", "Giám đốc", "0918 444 555", None, None, None, None],
        ["CTHUE", "Cục Thuế tỉnh", "đang nhập", main, 1, "Trương Văn Bình", "Thủ quỹ", "0919 666 777", "Nam", "41", None, None],
        ["SYT", "Sở Y tế", "đang nhập", leader, 1, "+SUM(A:B)", "@cmd|' /C calc'!A0", "0913 456 789", None, None, None, None],
        ["SYT", "Sở Y tế", "đang nhập", main, 1, "-A+B", '=HYPERLINK("http://x","bấm")', "0987 654 321", None, None, None, None],
    ] == rows(ws)


def test_staff_sheet__people_with_photos__one_thumbnail_each_in_their_row(built):
    ws = built[texts.SHEET_STAFF]
    photo_column = column(ws, texts.COL_PHOTO) - 1  # anchors count from 0
    rows_with_files = [n - 1 for n, row in enumerate(ws.iter_rows(values_only=True), 1)
                       if n > TOP and row[column(ws, texts.COL_PHOTO_FILE) - 1]]
    anchors = sorted((image.anchor._from.row, image.anchor._from.col, image.anchor.to.row, image.anchor.to.col)
                     for image in ws._images)
    assert [(r, photo_column, r, photo_column) for r in rows_with_files] == anchors
    assert all(ws.row_dimensions[r + 1].height >= 63 for r in rows_with_files)  # 80 px fit in the row


def test_staff_sheet__thumbnails__small_jpegs(built):
    images = built[texts.SHEET_STAFF]._images
    assert [("jpeg", (60, 80))] * 5 == [(image.format, (image.width, image.height)) for image in images]


def test_staff_sheet__photo_file_missing__no_file_name_no_thumbnail_like_the_archive(data, tmp_path):
    stp = data.units[0]
    broken = dataclasses.replace(stp, photos={k: tmp_path / "gone.jpg" for k in stp.photos})
    ws = build(dataclasses.replace(data, units=[broken]), tmp_path)[texts.SHEET_STAFF]
    assert (None, 0) == (ws.cell(row=TOP + 2, column=column(ws, texts.COL_PHOTO_FILE)).value, len(ws._images))


def test_staff_sheet__photo_file_names__exactly_the_files_of_the_photo_archive(built, data, tmp_path):
    ws = built[texts.SHEET_STAFF]
    named = [row[column(ws, texts.COL_PHOTO_FILE) - 1] for row in rows(ws)]
    archived = [p.name for p in build_photo_archive(data, tmp_path / "anh") if p.suffix == ".jpg"]
    assert sorted(archived) == sorted(n for n in named if n)


def test_photo_file_name__workbook__is_the_photo_archive_rule():
    assert photo_archive.photo_file_name is photo_file_name


# --- II. Thủ tục, Lịch thu gom, III. Kế hoạch, IV. Kiến nghị -------------------------------------------


def test_procedures_sheet__sample_units__counts_as_numbers_and_totals_as_subtotal_formulas(built):
    ws = built[texts.SHEET_PROCEDURES]
    assert [
        ["STP", "Sở Tư pháp", "đã nộp", 125, 12, 125, 40, 80, 60, 20],
        [None, texts.TOTAL_SUBMITTED_ROW, None, *(f"=SUBTOTAL(109,{c}5:{c}5)" for c in "DEFGHIJ")],
    ] == rows(ws)
    assert ("Thủ tục hành chính", "n", "f", "A4:J5") == (ws["D4"].value, ws["D5"].data_type, ws["D6"].data_type,
                                                         ws.auto_filter.ref)


def test_partners_sheet__sample_units__one_row_per_procedure_type_with_its_count(built):
    """II's partner units are apart from the counts: a row per type the unit answered, its count beside it."""
    stp = ["STP", "Sở Tư pháp", "đã nộp"]
    assert [
        [texts.COL_UNIT_CODE, texts.COL_UNIT, texts.COL_STATUS, texts.COL_PROCEDURE, texts.COL_COUNT,
         texts.COL_PARTNERS],
        [*stp, "Thủ tục hành chính", 125, "Sở Tài chính, Cục Thuế tỉnh"],
        [*stp, "Thủ tục hành chính liên thông", 12, "Công an tỉnh, Sở Y tế"],
        [*stp, "Dịch vụ công", 125, texts.VALUE_SKIPPED],
        [*stp, "Dịch vụ công trực tuyến", 40, texts.VALUE_SKIPPED],
        [*stp, "Trả kết quả qua bưu điện", 80, "Bưu điện tỉnh"],
        [*stp, "Nhận hồ sơ qua bưu điện", 60, "Bưu điện tỉnh"],
        [*stp, "DVC trực tuyến kết hợp bưu điện", 20, "Bưu điện tỉnh"],
    ] == rows(built[texts.SHEET_PROCEDURE_PARTNERS], first=TOP)


def test_procedures_sheet__draft_unit__kept_out_of_the_total_and_on_a_provisional_line(data, tmp_path):
    """A unit still typing (50 TTHC) does not raise the total of the submitted reports: it shows on its own line."""
    counts = {"tthc_total": 50, "tthc_linked": 3, "public_services": 30, "online_services": 10, "postal_return": 5,
              "postal_receive": 4, "postal_online": 2}
    draft = UnitReport("CTHUE", "Cục Thuế tỉnh", "in_progress", {f"procedures.{k}": v for k, v in counts.items()})
    late = dataclasses.replace(data.units[0], code="SYT", name="Sở Y tế", status="submitted_late")
    ws = build(dataclasses.replace(data, units=[draft, data.units[0], late]), tmp_path)[texts.SHEET_PROCEDURES]
    table = rows(ws)
    assert [("STP", "đã nộp"), ("SYT", "nộp muộn"), ("CTHUE", "đang nhập")] == [(r[0], r[2]) for r in table[:3]]
    assert [texts.TOTAL_SUBMITTED_ROW, texts.TOTAL_PROVISIONAL_ROW] == [r[1] for r in table[3:]]
    assert (250, 300) == (subtotal(ws, ws["D8"].value), subtotal(ws, ws["D9"].value))
    assert ("A4:J7", 24, 27) == (ws.auto_filter.ref, subtotal(ws, ws["E8"].value), subtotal(ws, ws["E9"].value))


def test_pickup_sheet__sample_units__post_office_working_list(built):
    assert [
        [texts.COL_UNIT_CODE, texts.COL_UNIT, texts.COL_STATUS, "Đồng ý thu gom 10:00 và 15:00",
         "Thời gian đơn vị đề xuất", "Địa chỉ giao nhận tại đơn vị", "Ghi chú lộ trình, thời gian giao nhận"],
        ["STP", "Sở Tư pháp", "đã nộp", texts.NO, "09:30, 14:30", "Bộ phận một cửa, tầng 1, số 2 Nguyễn Văn Trị, Biên Hòa",
         "Cổng sau đóng sau 16:30."],
    ] == rows(built[texts.SHEET_PICKUP], first=TOP)


def test_plan_sheet__sample_units__one_row_per_item_with_real_dates(built):
    ws = built[texts.SHEET_PLAN]
    assert [texts.COL_UNIT_CODE, texts.COL_UNIT, texts.COL_STATUS, texts.COL_STT, "Nội dung thực hiện", "Chi tiết",
            "Thời gian bắt đầu",
            "Thời gian kết thúc", "Trách nhiệm", "Đơn vị phối hợp"] == rows(ws, first=TOP)[0]
    assert [
        ["STP", "Sở Tư pháp", "đã nộp", 1, "Rà soát TTHC", "Rà soát 125 TTHC, đề xuất danh mục", datetime(2017, 4, 1),
         datetime(2017, 4, 15), "Trách nhiệm riêng", "Sở Nội vụ"],
        ["STP", "Sở Tư pháp", "đã nộp", 2, "Đào tạo nhân sự", "Tập huấn quy trình một cửa", datetime(2017, 4, 10),
         datetime(2017, 4, 20), "Trách nhiệm chung", "Sở Nội vụ, Bưu điện tỉnh"],
        ["STP", "Sở Tư pháp", "đã nộp", 3, "Thử nghiệm phần mềm", "Chạy thử phần mềm một cửa điện tử", datetime(2017, 4, 20),
         datetime(2017, 4, 30), "Trách nhiệm chung", "Sở Thông tin và Truyền thông"],
        ["STP", "Sở Tư pháp", "đã nộp", 4, "Vận hành chính thức", "Tiếp nhận hồ sơ tại Trung tâm", datetime(2017, 5, 2),
         datetime(2017, 5, 31), "Trách nhiệm riêng", texts.VALUE_SKIPPED],
    ] == rows(ws)
    # Stored as date serial numbers; openpyxl reads a number with a date format back as a date ("d").
    assert [("d", True, "dd/mm/yyyy")] * 8 == [(c.data_type, c.is_date, c.number_format)
                                               for row in ws["G5:H8"] for c in row]


def test_issues_sheet__sample_units__only_units_that_wrote_something(built):
    assert [["STP", "Sở Tư pháp", "đã nộp", "Chưa có trụ sở tạm cho bộ phận một cửa; đề nghị bố trí kinh phí mua máy scan."]] \
        == rows(built[texts.SHEET_ISSUES])


# --- Cỡ áo ------------------------------------------------------------------------------------------


def test_shirts_sheet__sample_units__an_order_of_submitted_units_by_size_with_totals(built):
    """The order for the tailor: a row per submitted unit, a column per size; the half-done unit's main staff
    (Nam 41) is not ordered yet and the sheet says one person is left out."""
    ws = built[texts.SHEET_SHIRTS]
    sizes = ["Nữ cỡ 5", "Nữ cỡ 7", "Nữ cỡ 9", "Nữ cỡ 12", "Nam cỡ 38", "Nam cỡ 39", "Nam cỡ 40", "Nam cỡ 41",
             "Nam cỡ 42"]
    table = rows(ws, first=TOP)
    assert [
        [texts.COL_UNIT_CODE, texts.COL_UNIT, *sizes, texts.COL_TOTAL],
        ["STP", "Sở Tư pháp", None, 1, 1, None, None, None, 1, None, None, "=SUM(C5:K5)"],
        [None, texts.TOTAL_ROW, *(f"=SUBTOTAL(109,{c}5:{c}5)" for c in "CDEFGHIJKL")],
        [None] * 12,
        [None, texts.SHIRTS_NOT_COUNTED.format(people=1, units=1), *[None] * 10],
    ] == table
    assert texts.SHIRT_ORDER_TITLE == ws["B1"].value


# --- Text a spreadsheet would run -------------------------------------------------------------------

INJECTIONS = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1", '=HYPERLINK("http://x")',
              "=cmd|' /C calc'!A0", "-", "=", "@"]


def test_formula_text__sample_unit__stored_as_inert_text(built):
    cells = [built[texts.SHEET_STATUS][f"D{STATUS_TOP + 4}"], *built[texts.SHEET_STAFF]["F14:G15"][0],
             *built[texts.SHEET_STAFF]["F14:G15"][1]]
    assert [("=A+B", "s", True), ("+SUM(A:B)", "s", True), ("@cmd|' /C calc'!A0", "s", True),
            ("-A+B", "s", True), ('=HYPERLINK("http://x","bấm")', "s", True)] == [
        (c.value, c.data_type, c.quotePrefix) for c in cells]


@pytest.mark.parametrize("text", INJECTIONS, ids=repr)
def test_formula_text__typed_anywhere__comes_back_identical_and_inert(data, tmp_path, text):
    unit = UnitReport("X", text, "in_progress", {
        "reporter.name": text, "leader[1].name": text, "leader[1].position": text, "pickup.address": text,
        "plan[1].content": text, "issues.text": text})
    wb = build(dataclasses.replace(data, units=[unit]), tmp_path)
    row = STATUS_TOP + 1
    cells = [wb[texts.SHEET_STATUS][f"B{row}"], wb[texts.SHEET_STATUS][f"D{row}"], wb[texts.SHEET_STAFF]["F5"],
             wb[texts.SHEET_STAFF]["G5"], wb[texts.SHEET_PICKUP]["F5"], wb[texts.SHEET_PLAN]["E5"],
             wb[texts.SHEET_ISSUES]["D5"]]
    assert [(text, "s", True)] * 7 == [(c.value, c.data_type, c.quotePrefix) for c in cells]


def test_formula_text__ordinary_text__no_quote_prefix(built):
    cell = built[texts.SHEET_STAFF]["F5"]
    assert ("Trần Văn Hùng", "s", False) == (cell.value, cell.data_type, cell.quotePrefix)


def test_control_characters__in_a_name__dropped_and_the_file_still_opens(data, tmp_path):
    unit = UnitReport("X\x01", "Sở\x00 Y\x1b tế", "in_progress", {"leader[1].name": "Lê\x07 Thị\x0b Mai\x1f"})
    wb = build(dataclasses.replace(data, units=[unit]), tmp_path)
    assert ("X", "Sở Y tế", "Lê Thị Mai") == (wb[texts.SHEET_STAFF]["A5"].value, wb[texts.SHEET_STAFF]["B5"].value,
                                               wb[texts.SHEET_STAFF]["F5"].value)


# --- The form drives the columns --------------------------------------------------------------------

NEW_QUESTION = """      - key: name_tag
        label: Tên in trên bảng tên
        prompt: "Tên in trên bảng tên? Ví dụ: Lê Mai."
        type: text
"""
NEW_SECTION = """
  - key: equipment
    title: "V. Trang thiết bị: máy tính/máy quét [dự kiến] cần bổ sung"
    questions:
      - key: scanners
        label: Số máy quét
        prompt: "Số máy quét cần bổ sung? Ví dụ: 2."
        type: integer
"""


def modified_form(tmp_path):
    """The shipped form with a question added to main_staff (before its photo) and a section at the end."""
    text = Path(load_form().path).read_text(encoding="utf-8")
    anchor = "      - key: photo\n"
    first_photo = text.index(anchor, text.index("  - key: main_staff"))
    text = text[:first_photo] + NEW_QUESTION + text[first_photo:] + NEW_SECTION
    path = tmp_path / "report.yaml"
    path.write_text(text, encoding="utf-8")
    return load_form(path)


def test_staff_sheet__question_added_to_the_form__appears_as_a_column(data, tmp_path):
    form = modified_form(tmp_path)
    script = ["Nguyễn Thị Lan, 0912 345 678", "Trần Văn Hùng, Phó Giám đốc Sở, 0913 456 789",
              "Lê Thị Mai, Chuyên viên, 0987 654 321", "1", "7", "Cô Mai", "bỏ qua", "xong"]
    state, _ = fill(form, script, tmp_path / "photos", "Sở Tư pháp", 9)
    unit = UnitReport("STP", "Sở Tư pháp", state.report.status, dict(state.answers))
    ws = build(dataclasses.replace(data, form=form, units=[unit]), tmp_path)[texts.SHEET_STAFF]
    header = [cell.value for cell in ws[TOP]]
    assert ["Kích cỡ áo", "Tên in trên bảng tên", texts.COL_PHOTO, texts.COL_PHOTO_FILE] == header[9:13]
    assert ["Lê Thị Mai", "Cô Mai"] == [ws.cell(row=TOP + 2, column=6).value, ws.cell(row=TOP + 2, column=11).value]


def test_extra_sheet__section_no_sheet_uses__gets_its_own_sheet_with_a_valid_name(data, tmp_path):
    form = modified_form(tmp_path)
    unit = UnitReport("STP", "Sở Tư pháp", "in_progress", {"equipment.scanners": 2})
    wb = build(dataclasses.replace(data, form=form, units=[unit]), tmp_path)
    name = "V. Trang thiết bị máy tínhmáy q"  # ':', '/', '[' and ']' removed, cut to 31 characters
    assert (SHEETS + [name], [["STP", "Sở Tư pháp", "đang nhập", 2]]) == (wb.sheetnames, rows(wb[name]))


# --- Opens in LibreOffice ---------------------------------------------------------------------------

@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: conversion check skipped")
def test_build_workbook__libreoffice__converts_every_sheet_without_error(data, tmp_path):
    path = build_workbook(data, tmp_path / "tong-hop.xlsx")
    profile = (tmp_path / "lo-profile").as_uri()  # its own profile: runs alongside any other LibreOffice
    csv_all_sheets_utf8 = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    for target in ("pdf", csv_all_sheets_utf8):
        done = subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target,
                               "--outdir", str(tmp_path), str(path)], capture_output=True, text=True, timeout=180)
        assert 0 == done.returncode, done.stderr
    sheets = [tmp_path / f"tong-hop-{name}.csv" for name in SHEETS]  # one file per sheet: all of them were read
    status_csv = sheets[0].read_text(encoding="utf-8") if sheets[0].exists() else ""
    assert (True, [True] * len(SHEETS), True) == ((tmp_path / "tong-hop.pdf").stat().st_size > 0,
                                                  [p.exists() for p in sheets], "STP,Sở Tư pháp,đã nộp" in status_csv)
    # LibreOffice computes the SUBTOTAL formulas: the submitted units' total of II is there as a number.
    procedures_csv = sheets[SHEETS.index(texts.SHEET_PROCEDURES)].read_text(encoding="utf-8")
    assert f",{texts.TOTAL_SUBMITTED_ROW},,125,12,125,40,80,60,20" in procedures_csv.splitlines()


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: print check skipped")
def test_build_workbook__realistic_export_printed__every_sheet_at_9_pt_or_more_and_no_page_of_empty_rows(tmp_path):
    """25 units on the due day (3 submitted, 1 half done, 21 not started), printed to A4 as LibreOffice does."""
    data = realistic_export_data(tmp_path)
    printed = pages(to_pdf(build_workbook(data, tmp_path / "tong-hop.xlsx"), tmp_path))
    headings = [texts.STATUS_SHEET_TITLE.format(title=data.campaign_title)] + [
        texts.SHEET_HEADING.format(sheet=name.upper(), title=data.campaign_title) for name in SHEETS[1:-1]] + [
        texts.SHIRT_ORDER_TITLE]
    starts = [next((p.number for p in printed if heading in p.text.replace("\n", " ")), None) for heading in headings]
    assert (sorted(starts), 1) == (starts, starts[0])  # every sheet printed, in order, each from its own page
    per_sheet = dict(zip(SHEETS, [b - a for a, b in zip(starts, [*starts[1:], len(printed) + 1])]))
    assert [] == [(p.number, p.smallest) for p in printed if p.smallest < 9.0]
    # Tình trạng: 25 units on two pages at most (21 not started say so in one short line each).
    assert (True, True) == (per_sheet[texts.SHEET_STATUS] <= 2, len(printed) <= 14), per_sheet
    # The unit codes are not printed; the units' names are.
    assert (False, True) == (any("U01" in p.text for p in printed), "Sở Tài chính" in printed[0].text)
