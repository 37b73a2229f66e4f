"""A form file cannot exhaust the server (issue 22): its size, each part's decompressed size, the rows and
columns of its sheets, its questions and the length of its texts have limits, each refused in one line naming
the limit, before anything large is parsed; running out of memory is said in one line, never a traceback."""

import zipfile
from pathlib import Path

import openpyxl
import pytest
from bot import form_files
from bot.form_files import MAX_COLUMNS, MAX_FILE_MB, MAX_PART_MB, MAX_ROWS, load_form_file
from conversations.form import MAX_LABEL, MAX_QUESTIONS, FormError, parse_form

SETTINGS = [["form_title", "form_id"], ["Biểu mẫu thử", "thu"]]


def workbook(tmp_path: Path, survey, name="form.xlsx") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    settings = book.create_sheet("settings")
    for row in SETTINGS:
        settings.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def refusal(path: Path) -> str:
    with pytest.raises(FormError) as caught:
        load_form_file(path)
    message = str(caught.value)
    assert "\n" not in message
    return message.removeprefix(f"{path}: ")


def test_load_form_file__file_over_the_size_limit__refused_naming_the_limit(tmp_path):
    path = tmp_path / "form.yaml"
    path.write_bytes(b"# " + b"x" * (MAX_FILE_MB * 1024 * 1024) + b"\n")
    assert f"tệp nặng 10,0 MB, quá giới hạn {MAX_FILE_MB} MB của một biểu mẫu" == refusal(path)


def test_load_form_file__zip_bomb_sheet__refused_from_the_zip_directory(tmp_path):
    """A sheet that inflates past the limit (here 25 MB of spaces, 25 KB compressed) is refused by its declared
    size: nothing is decompressed."""
    small = workbook(tmp_path, [["type", "name", "label"], ["text", "a", "A"]], name="small.xlsx")
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (25 * 1024 * 1024))
            out.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 200_000
    assert f"trang tính survey giải nén ra 25,0 MB, quá giới hạn {MAX_PART_MB} MB mỗi trang tính" == refusal(bomb)


def test_load_form_file__cell_beyond_the_row_limit__refused_naming_the_limit(tmp_path):
    """One cell far down would make a reader lay out every row above it: refused from its reference."""
    book = openpyxl.Workbook()
    book.active.title = "survey"
    book.active.append(["type", "name", "label"])
    book.active.cell(row=MAX_ROWS + 1, column=1, value="text")
    path = tmp_path / "form.xlsx"
    book.save(path)
    assert "trang tính survey có hơn 20.000 dòng, quá giới hạn 20.000 dòng mỗi trang tính" == refusal(path)


def test_load_form_file__cell_beyond_the_column_limit__refused_naming_the_limit(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "survey"
    book.active.append(["type", "name", "label"])
    book.active.cell(row=2, column=MAX_COLUMNS + 1, value="x")
    path = tmp_path / "form.xlsx"
    book.save(path)
    assert f"trang tính survey có hơn {MAX_COLUMNS} cột, quá giới hạn {MAX_COLUMNS} cột mỗi trang tính" == \
        refusal(path)


def test_parse_form__more_questions_than_the_limit__refused_naming_the_limit():
    questions = [{"key": f"q{i}", "label": "Câu", "prompt": "Câu?", "type": "integer"}
                 for i in range(MAX_QUESTIONS + 1)]
    raw = {"id": "x", "title": "X", "sections": [{"key": "s", "title": "S", "questions": questions}]}
    with pytest.raises(FormError) as caught:
        parse_form(raw, Path("f.yaml"))
    assert ("f.yaml: sections[0] (s).questions: biểu mẫu có hơn 10.000 câu hỏi, quá giới hạn 10.000 câu hỏi "
            "(hãy chia thành nhiều biểu mẫu)") == str(caught.value)


def test_load_form_file__label_over_the_length_limit__refused_naming_the_row(tmp_path):
    path = workbook(tmp_path, [["type", "name", "label"], ["text", "a", "A"], ["text", "b", "x" * (MAX_LABEL + 1)]])
    assert "trang tính survey, dòng 3, cột label: nội dung dài hơn 2.000 ký tự, quá giới hạn 2.000 ký tự (hãy rút gọn)" == \
        refusal(path)


def test_parse_form__as_many_questions_as_the_limit__loaded():
    questions = [{"key": f"q{i}", "label": "Câu", "prompt": "Câu?", "type": "integer"}
                 for i in range(MAX_QUESTIONS)]
    raw = {"id": "x", "title": "X", "sections": [{"key": "s", "title": "S", "questions": questions}]}
    assert MAX_QUESTIONS == len(parse_form(raw, Path("f.yaml")).sections[0].questions)


def test_load_form_file__reader_runs_out_of_memory__one_line(tmp_path, monkeypatch):
    """An allocation that fails inside the reader (a file within the limits that still expands too far) is said
    in one line, never a MemoryError traceback."""
    path = workbook(tmp_path, [["type", "name", "label"], ["text", "a", "A"]])

    def exhausted(_path, _first_only=False):
        raise MemoryError

    monkeypatch.setattr(form_files, "_read_calamine", exhausted)
    assert "tệp quá lớn để đọc (hết bộ nhớ); hãy gửi một tệp nhỏ hơn" == refusal(path)


def to_xls(xlsx: Path) -> Path:
    """The workbook saved as an older .xls by LibreOffice, as an author's old file would be."""
    import shutil
    import subprocess

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    subprocess.run([soffice, f"-env:UserInstallation=file://{xlsx.parent / 'lo-profile'}", "--headless",
                    "--convert-to", "xls", "--outdir", str(xlsx.parent), str(xlsx)], check=True, capture_output=True,
                   timeout=120)
    return xlsx.with_suffix(".xls")


def test_load_form_file__old_xls_with_a_far_cell__refused_before_it_is_laid_out(tmp_path):
    """Two far corners of an .xls would take half a gigabyte once laid out as a grid: refused from its records."""
    path = workbook(tmp_path, [["type", "name", "label"], ["text", "a", "A"]], name="far.xlsx")
    book = openpyxl.load_workbook(path)
    book["survey"].cell(row=MAX_ROWS + 5, column=2, value="x")
    book.save(path)
    xls = to_xls(path)
    assert "trang tính survey có hơn 20.000 dòng, quá giới hạn 20.000 dòng mỗi trang tính" == refusal(xls)


def test_load_form_file__old_xls_form__loads(tmp_path):
    xls = to_xls(workbook(tmp_path, [["type", "name", "label"], ["add integer prompt", "a", "Câu A"]]))
    assert [("a", "integer")] == [(q.key, q.type) for q in load_form_file(xls)[0].sections[0].questions]


def test_load_form_file__parts_together_over_the_limit__refused_from_the_zip_directory(tmp_path):
    small = workbook(tmp_path, [["type", "name", "label"], ["text", "a", "A"]], name="small.xlsx")
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(many, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            out.writestr(item, src.read(item), compress_type=zipfile.ZIP_DEFLATED)
        for n in range(4):
            out.writestr(f"xl/media/part{n}.bin", b" " * (19 * 1024 * 1024), compress_type=zipfile.ZIP_DEFLATED)
    assert "tệp giải nén ra 76,0 MB, quá giới hạn 60 MB của một biểu mẫu" == refusal(many)
