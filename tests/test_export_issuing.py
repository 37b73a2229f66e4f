"""A campaign's issuing details (Nghị định 30/2020/NĐ-CP): set at `campaign create`, changed by `campaign edit`,
printed on the consolidated report exactly as given; the decree's defaults when unset."""

from __future__ import annotations

import json
from pathlib import Path

import docx

from conversations import texts
from exports.issuing import Issuing, parse_issuing, trich_yeu
from tests.test_cli import hcc

FLAGS = ["--doc-code", "BC-SNV", "--signer-authority", "KT. GIÁM ĐỐC", "--signer-title", "PHÓ GIÁM ĐỐC",
         "--signer-name", "Tạ Quang Trường", "--parent-body", "UBND TỈNH ĐỒNG NAI",
         "--recipients", "Như trên\nGĐ, các PGĐ SNV\nLưu: VT, CCHC"]


def report_texts(out: Path) -> tuple[list[str], list[str]]:
    """The report's paragraphs and the text of the cells of its heading and signature tables."""
    path = next(out.glob("*/" + texts.REPORT_FILE))
    document = docx.Document(str(path))
    cells = [cell.text for table in document.tables[:1] + document.tables for row in table.rows for cell in row.cells]
    return [p.text for p in document.paragraphs if p.text.strip()], cells


def test_campaign_create__issuing_flags__shown_and_printed_on_the_report(tmp_path):
    created = hcc(["campaign", "create", "--title", "Báo cáo tiến độ triển khai thành lập Trung tâm hành chính công "
                   "tỉnh", "--deadline", "28/03/2017 16:30", "--force", "--province", "Đồng Nai", *FLAGS], tmp_path)
    assert 0 == created.returncode, created.stderr
    shown = json.loads(hcc(["campaign", "show", "--json"], tmp_path).stdout)["issuing"]
    assert {"number": "Số: …/BC-SNV", "signer": ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"], "signer_name": "Tạ Quang Trường",
            "parent_body": "UBND TỈNH ĐỒNG NAI",
            "recipients": ["- Như trên;", "- GĐ, các PGĐ SNV;", "- Lưu: VT, CCHC."]} == shown
    exported = hcc(["export", "--out", "out", "--no-zip"], tmp_path)
    assert 0 == exported.returncode, exported.stderr
    paragraphs, cells = report_texts(tmp_path / "out")
    assert ["BÁO CÁO", "Tổng hợp tiến độ triển khai thành lập Trung tâm hành chính công tỉnh"] == paragraphs[:2]
    assert "Số: …/BC-SNV" in cells
    assert "UBND TỈNH ĐỒNG NAI\nSỞ NỘI VỤ\n―――――" in cells
    assert "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC\n\n\n\n\nTạ Quang Trường" in cells
    assert "Nơi nhận:\n- Như trên;\n- GĐ, các PGĐ SNV;\n- Lưu: VT, CCHC." in cells


def test_campaign_edit__signer_and_number_changed__the_next_export_prints_them(tmp_path):
    assert 0 == hcc(["campaign", "create", "--title", "Báo cáo thử", "--deadline", "28/03/2017 16:30", "--force",
                     *FLAGS], tmp_path).returncode
    edited = hcc(["campaign", "edit", "1", "--signer-authority", "", "--signer-title", "Giám đốc", "--signer-name",
                  "Nguyễn Văn A", "--doc-number", "45", "--recipients", "Như trên; UBND tỉnh (b/c); Lưu: VT, CCHC, "
                  "2b."], tmp_path)
    assert 0 == edited.returncode, edited.stderr
    assert edited.stdout.startswith("Đã cập nhật đợt báo cáo #1: ")
    assert 0 == hcc(["export", "--out", "out", "--no-zip"], tmp_path).returncode
    _, cells = report_texts(tmp_path / "out")
    assert "Số: 45/BC-SNV" in cells
    assert "GIÁM ĐỐC\n\n\n\n\nNguyễn Văn A" in cells
    assert "Nơi nhận:\n- Như trên;\n- UBND tỉnh (b/c);\n- Lưu: VT, CCHC, 2b." in cells


def test_campaign_edit__value_too_long__one_line_and_nothing_changed(tmp_path):
    assert 0 == hcc(["campaign", "create", "--title", "X", "--deadline", "28/03/2017 16:30", "--force", *FLAGS],
                    tmp_path).returncode
    refused = hcc(["campaign", "edit", "1", "--signer-name", "A" * 201, "--doc-code", "BC-X"], tmp_path)
    assert (2, texts.ISSUING_TOO_LONG.format(field=texts.ISSUING_FIELDS["signer_name"], max=200)) == \
        (refused.returncode, refused.stderr.strip())
    shown = json.loads(hcc(["campaign", "show", "--json"], tmp_path).stdout)["issuing"]
    assert ("Tạ Quang Trường", "Số: …/BC-SNV") == (shown["signer_name"], shown["number"])


def test_campaign_edit__no_flag__says_what_to_give(tmp_path):
    assert 0 == hcc(["campaign", "create", "--title", "X", "--deadline", "28/03/2017 16:30", "--force"],
                    tmp_path).returncode
    refused = hcc(["campaign", "edit", "1"], tmp_path)
    assert (2, texts.CLI_CAMPAIGN_EDIT_NOTHING) == (refused.returncode, refused.stderr.strip())


def test_issuing__nothing_set__the_decrees_defaults():
    issuing = Issuing()
    assert ("Số: …/BC-SNV", ["GIÁM ĐỐC"], "UBND TỈNH ĐỒNG NAI", ["- Như trên;", "- Lưu: VT, CCHC."]) == \
        (issuing.number_line(), issuing.signer_lines(), issuing.parent("Đồng Nai"), issuing.recipient_lines())


def test_parse_issuing__recipients_with_dashes_and_semicolons__lines_and_filing_line():
    assert {"recipients": ["Như trên", "GĐ, các PGĐ SNV"], "filing_line": "Lưu: VT- CCHC.", "signer_name": None} == \
        parse_issuing({"recipients": "- Như trên;\n- GĐ, các PGĐ SNV; \n- Lưu: VT- CCHC.", "signer_name": ""})


def test_trich_yeu__campaign_titles__the_document_type_said_once():
    assert ["Tổng hợp tiến độ triển khai thành lập Trung tâm hành chính công tỉnh",
            "Tổng hợp đăng ký học viên lớp tập huấn", "Tổng hợp kết quả", "Tổng hợp UBND huyện đăng ký"] == [
        trich_yeu("Báo cáo tiến độ triển khai thành lập Trung tâm hành chính công tỉnh"),
        trich_yeu("Đăng ký học viên lớp tập huấn"), trich_yeu("Báo cáo tổng hợp kết quả"),
        trich_yeu("UBND huyện đăng ký")]


def test_workbook__counts__grouped_thousands_number_format(tmp_path):
    import openpyxl

    from exports.workbook import build_workbook
    from tests.export_samples import sample_export_data

    data = sample_export_data(tmp_path)
    book = openpyxl.load_workbook(build_workbook(data, tmp_path / "w.xlsx"))
    sheet = book[texts.SHEET_PROCEDURES]
    counts = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, int) and not isinstance(c.value, bool)]
    assert counts and {"#,##0"} == {c.number_format for c in counts}
