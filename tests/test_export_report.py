"""The consolidated report Sở Nội vụ sends up to UBND tỉnh: read back with python-docx, printed with LibreOffice."""

from __future__ import annotations

import dataclasses
import time

import docx
import pytest

from conversations import texts
from exports import build as build_module
from exports.build import build_export
from exports.data import UnitReport
from exports.report import build_report
from tests.export_samples import realistic_export_data, sample_export_data
from tests.rendering import SOFFICE, pages, to_pdf, to_png


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return realistic_export_data(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="module")
def report(data, tmp_path_factory):
    return docx.Document(str(build_report(data, tmp_path_factory.mktemp("report") / texts.REPORT_FILE)))


def paragraphs(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.text.strip()]


def table_rows(table) -> list[list[str]]:
    out = []
    for row in table.rows:
        cells = []
        for cell in row.cells:  # a merged cell repeats: keep it once
            if not cells or cell._tc is not cells[-1][0]:
                cells.append((cell._tc, cell.text))
        out.append([text for _, text in cells])
    return out


def tables(document) -> dict[str, list[list[str]]]:
    """The bordered tables by their first header cell's text, and the heading and signature tables."""
    found = {}
    for table in document.tables:
        rows = table_rows(table)
        found.setdefault(" | ".join(rows[0]), rows)
    return found


def find(document, first_header: str) -> list[list[str]]:
    return next(rows for key, rows in tables(document).items() if key.startswith(first_header))


def test_report__heading__province_department_motto_number_place_and_date_then_title_and_addressee(report):
    heading = table_rows(report.tables[0])
    assert [["UBND TỈNH ĐỒNG NAI\nSỞ NỘI VỤ\n―――――", f"{texts.DOC_NATION}\n{texts.DOC_MOTTO}"],
            ["Số: …/BC-SNV", "Đồng Nai, ngày 28 tháng 3 năm 2017"]] == heading
    assert [
        texts.ISSUING_DOC_TYPE,
        "Tổng hợp tiến độ triển khai thành lập Trung tâm hành chính công tỉnh",
        "―――――",
        "Kính gửi: Ủy ban nhân dân tỉnh Đồng Nai.",
        "Thực hiện văn bản số 123/SNV-CCHC ngày 27/3/2017, Sở Nội vụ tổng hợp báo cáo các đơn vị gửi về đến "
        "10:00 ngày 28/03/2017 như sau:",
    ] == paragraphs(report)[:5]


def test_report__summary__reported_out_of_expected_on_time_and_late(report):
    summary = next(p for p in paragraphs(report) if p.startswith(texts.REPORT_SUMMARY_TITLE))
    assert "Đã có 3/25 đơn vị gửi báo cáo (đúng hạn 3, quá hạn 0); 22 đơn vị chưa gửi (đang nhập 1, " \
           "chưa bắt đầu 21)." in summary


def test_report__staff__counts_per_submitted_unit_with_the_leader_and_totals(report):
    rows = find(report, texts.COL_STT + " | " + texts.COL_UNIT + " | " + texts.REPORT_COL_LEADER)
    leader = "Trần Văn Hùng – Phó Giám đốc Sở – 0913 456 789"
    assert [
        ["1", "Sở Tư pháp", leader, "3", "2", "1"],
        ["2", "Sở Y tế", leader, "3", "2", "1"],
        ["3", "Sở Giáo dục và Đào tạo", leader, "3", "2", "1"],
        ["", texts.TOTAL_ROW, "", "9", "6", "3"],
    ] == rows[1:]
    # The half-done unit (Cục Thuế tỉnh) is a draft: not in I–IV, only in the annex.
    assert not any("Cục Thuế tỉnh" in " ".join(row) for row in rows)


def test_report__procedures__units_by_procedure_type_with_totals(report):
    rows = find(report, texts.COL_STT + " | " + texts.COL_UNIT + " | Thủ tục hành chính")
    assert ["STT", "Đơn vị", "Thủ tục hành chính", "Thủ tục hành chính liên thông", "Dịch vụ công",
            "Dịch vụ công trực tuyến", "Trả kết quả qua bưu điện", "Nhận hồ sơ qua bưu điện",
            "DVC trực tuyến kết hợp bưu điện"] == rows[0]
    assert ["", texts.TOTAL_ROW, "375", "36", "375", "120", "240", "180", "60"] == rows[-1]
    assert 3 + 2 == len(rows)


def test_report__plan__counts_in_the_body_items_grouped_under_their_unit_in_annex_i(report):
    counts = find(report, " | ".join([texts.COL_STT, texts.COL_UNIT, texts.REPORT_PLAN_COL_COUNT]))
    assert [["1", "Sở Tư pháp", "4"], ["2", "Sở Y tế", "4"], ["3", "Sở Giáo dục và Đào tạo", "4"],
            ["", texts.TOTAL_ROW, "12"]] == counts[1:]
    text = paragraphs(report)
    annex = text.index(texts.ISSUING_ANNEX_NUMBER.format(n="I"))
    assert [texts.REPORT_PLAN_ANNEX_TITLE, "(Kèm theo Báo cáo số …/BC-SNV ngày 28/03/2017 của Sở Nội vụ)"] == \
        text[annex + 1:annex + 3]
    rows = find(report, " | ".join(texts.DOC_PLAN_HEADERS))
    assert ["Sở Tư pháp"] == rows[1]
    assert ["1", "Rà soát TTHC\nTrách nhiệm riêng", "Rà soát 125 TTHC, đề xuất danh mục", "01/04/2017",
            "15/04/2017", "Sở Nội vụ"] == rows[2]
    assert [["Sở Tư pháp"], ["Sở Y tế"], ["Sở Giáo dục và Đào tạo"]] == [r for r in rows if len(r) == 1]
    assert 1 + 3 * (1 + 4) == len(rows)


def test_report__issues__grouped_by_unit(report):
    text = paragraphs(report)
    start = text.index(texts.DOC_SECTION_ISSUES)
    assert ["- Sở Tư pháp: Chưa có trụ sở tạm cho bộ phận một cửa; đề nghị bố trí kinh phí mua máy scan.",
            "- Sở Y tế: Chưa có trụ sở tạm cho bộ phận một cửa; đề nghị bố trí kinh phí mua máy scan."] \
        == text[start + 1:start + 3]


def test_report__signature_and_annex__status_of_every_unit(report, data):
    signature = next(table_rows(t)[0] for t in report.tables if table_rows(t)[0][0].startswith(texts.DOC_RECIPIENTS))
    assert ["Nơi nhận:\n- Như trên;\n- Lưu: VT, CCHC.", "GIÁM ĐỐC\n\n\n\n"] == signature  # no signer set: the decree's
    annex = table_rows(report.tables[-1])
    assert texts.REPORT_ANNEX_HEADERS == annex[0]
    assert 1 + len(data.units) == len(annex)
    assert ["1", "Sở Tư pháp", "đã nộp", "28/03/2017 10:00", ""] == annex[1]
    draft = next(row for row in annex if row[1] == "Cục Thuế tỉnh")
    assert ("đang nhập", True) == (draft[2], draft[4].startswith(texts.COL_MISSING + ": ảnh của 1 nhân sự chính"))
    assert ["chưa bắt đầu"] * 21 == [row[2] for row in annex if row[2].startswith("chưa")]


def test_report__no_unit_submitted__says_so_and_still_lists_every_unit(data, tmp_path):
    drafts = dataclasses.replace(data, units=[u for u in data.units if u.status not in ("submitted", "submitted_late")],
                                 province=None)
    report = docx.Document(str(build_report(drafts, tmp_path / texts.REPORT_FILE)))
    text = paragraphs(report)
    assert (True, False, "…………, ngày 28 tháng 3 năm 2017") == (
        texts.REPORT_NO_SUBMISSION in text, texts.DOC_SECTION_STAFF in text, table_rows(report.tables[0])[1][1])
    assert texts.REPORT_AUTHORITY_NO_PROVINCE in table_rows(report.tables[0])[0][0]
    assert 1 + len(drafts.units) == len(table_rows(report.tables[-1]))


def test_build_export__carries_the_report__its_pdf_or_a_note_saying_why_not(tmp_path, monkeypatch):
    data = sample_export_data(tmp_path)
    monkeypatch.setattr(build_module, "convert", lambda document: None)  # as on a machine without LibreOffice
    result = build_export(data, tmp_path / "out", campaign_id=1)
    assert (result.folder / texts.REPORT_FILE, None, [texts.REPORT_PDF_MISSING]) == (
        result.report, result.report_pdf, result.notes)
    assert result.report == result.report_for_reading() and result.report in result.files()


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: print check skipped")
def test_build_export__libreoffice__report_pdf_made_legible_in_the_templates_order(tmp_path):
    result = build_export(realistic_export_data(tmp_path), tmp_path / "out", campaign_id=1)
    assert ([], result.report_pdf) == (result.notes, result.folder / "bao-cao-tong-hop.pdf")
    printed = pages(result.report_pdf)
    text = "\n".join(p.text for p in printed)
    order = [texts.ISSUING_DOC_TYPE, texts.DOC_SECTION_STAFF, texts.DOC_SECTION_PROCEDURES, "III. Về kế hoạch",
             texts.DOC_SECTION_ISSUES, "GIÁM ĐỐC", "Phụ lục I\n", "Phụ lục II\n"]
    positions = [text.find(part) for part in order]
    assert (sorted(positions), -1 in positions) == (positions, False)
    assert ([], True) == ([p.number for p in printed if p.smallest < 11.0], 3 <= len(printed) <= 5)
    assert "Phụ lục II" in printed[-1].text and "Bưu điện tỉnh" in printed[-1].text
    assert len(to_png(result.report_pdf, tmp_path / "page", dpi=40)) == len(printed)


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: conversion check skipped")
def test_report__unit_named_with_markup_and_control_characters__still_converts(data, tmp_path):
    odd = UnitReport("X", "Sở <b>&\x07 Y tế", "submitted", dict(data.units[0].answers), data.units[0].submitted_at)
    path = build_report(dataclasses.replace(data, units=[odd]), tmp_path / texts.REPORT_FILE)
    assert "Sở <b>& Y tế" in "\n".join(p.text for p in pages(to_pdf(path, tmp_path)))


def test_build_export__more_units_than_a_pdf_is_made_for__docx_and_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(build_module, "PDF_MAX_UNITS", 3)
    monkeypatch.setattr(build_module, "convert", lambda document: pytest.fail("no conversion above the limit"))
    result = build_export(sample_export_data(tmp_path), tmp_path / "out", campaign_id=1)
    assert (None, [texts.REPORT_PDF_TOO_LARGE.format(units=4)]) == (result.report_pdf, result.notes)
    assert result.report.exists()


def test_pdf_convert__libreoffice_too_slow__stopped_with_its_children_and_said(tmp_path, monkeypatch):
    """A conversion that does not finish is stopped, soffice.bin included (it outlives its launcher script)."""
    import os
    import stat

    from exports import pdf

    slow = tmp_path / "soffice"
    marker = tmp_path / "child.pid"
    slow.write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {marker}\nwait\n")
    slow.chmod(slow.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(pdf, "soffice", lambda: str(slow))
    document = tmp_path / "r.docx"
    document.write_bytes(b"x")
    started = time.monotonic()
    with pytest.raises(pdf.ConversionFailed):
        pdf.convert(document, timeout=1)
    elapsed = time.monotonic() - started
    child = int(marker.read_text())
    try:
        os.kill(child, 0)
        alive = not open(f"/proc/{child}/stat").read().split()[2] == "Z"
    except ProcessLookupError:
        alive = False
    assert (False, False, True) == (alive, document.with_suffix(".pdf").exists(), elapsed < 15)
