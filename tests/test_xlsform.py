"""Forms authored as XLSForm: the XPath subset, the new form vocabulary, the .xlsx import and its errors, the
shipped workbooks, and the engine on decimals, several choices, constraints and relevant."""

import json
import re
import warnings
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import yaml

from conversations import texts
from conversations.answers import LOCAL_TZ, format_value, is_relevant, scope
from conversations.engine import IN_PROGRESS, ReportInfo, Start, State, Text, step
from conversations.fields import parse_decimal, parse_multi_choice
from conversations.form import FORMS_DIR, FormError, in_vietnamese, load_form, parse_form
from conversations.forms.make_report_xlsx import report_sheets, training_sheets
from bot.form_files import load_form_file, read_sheets, read_xlsform, write_xlsx
from conversations.xpath import FUNCTIONS, XPathError, parse_expression

NOW = datetime(2017, 3, 28, 9, 0, tzinfo=LOCAL_TZ)
DEADLINE = datetime(2017, 3, 28, 16, 30, tzinfo=LOCAL_TZ)
SETTINGS = [["form_title", "form_id"], ["Biểu mẫu thử", "thu"]]
HEAD = ["type", "name", "label", "required"]


def workbook(tmp_path: Path, survey, choices=None, settings=SETTINGS, name="form.xlsx") -> Path:
    """An XLSForm written by openpyxl, as a spreadsheet program would."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    if choices is not None:
        other = book.create_sheet("choices")
        for row in choices:
            other.append(row)
    if settings is not None:
        other = book.create_sheet("settings")
        for row in settings:
            other.append(row)
    path = tmp_path / name
    book.save(path)
    return path


# --- the XPath subset --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "values", "value", "expected"),
    [
        ("${a} > 0", {"a": 3}, None, True),
        ("${a} > 0", {"a": 0}, None, False),
        ("${a} > 0", {}, None, False),
        ("${a} != 0", {}, None, True),
        ("${a} = 'nam'", {"a": "nam"}, None, True),
        ("${a} = 'nam'", {"a": "nu"}, None, False),
        ("${a} != 'nam'", {"a": "nu"}, None, True),
        ("${a} = 'no'", {"a": False}, None, True),
        ("${a} = 'yes'", {"a": False}, None, False),
        ("${a} >= 2 and ${a} <= 5", {"a": 5}, None, True),
        ("${a} < 2 or ${a} > 5", {"a": 3}, None, False),
        ("not(${a} = 'x')", {"a": "y"}, None, True),
        ("(${a} = 1 or ${a} = 2) and ${b} = 'c'", {"a": 2, "b": "c"}, None, True),
        ("string-length(.) >= 3", {}, "abc", True),
        ("string-length(.) >= 3", {}, "ab", False),
        ("regex(., '^[0-9]{4}$')", {}, "2017", True),
        ("regex(., '^[0-9]{4}$')", {}, "17", False),
        (". <= 45", {}, 12.5, True),
        (". <= 45", {}, 46.0, False),
        (". >= ${start}", {"start": "2017-04-01"}, "2017-04-30", True),
        ("selected(${m}, 'b')", {"m": ["a", "b"]}, None, True),
        ("selected(${m}, 'c')", {"m": ["a", "b"]}, None, False),
        ("count-selected(${m}) <= 1", {"m": ["a", "b"]}, None, False),
        ("true()", {}, None, True),
        ("false() or \"x\" = 'x'", {}, None, True),
        ("${a} = 1.5", {"a": 1.5}, None, True),
    ],
)
def test_expression__holds__xlsform_meaning(source, values, value, expected):
    assert expected is parse_expression(source).holds(values, value)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("", "empty expression"),
        ("${a} >", "'${a} >' ends too early"),
        ("${a} | 1", "unexpected '|' in '${a} | 1'"),
        ("uuid() > ${a}", "function uuid() is not supported (supported: "
                          + ", ".join(f + "()" for f in FUNCTIONS) + ")"),
        ("regex(., '[')", "regex() pattern '[' is not valid (unterminated character set at position 1)"),
        ("string-length(., 2)", "string-length() takes 1 argument(s), got 2"),
        ("1 < 2 < 3", "chained comparison in '1 < 2 < 3': use and"),
        ("(${a} = 1", "'(${a} = 1' ends too early"),
    ],
)
def test_parse_expression__outside_the_subset__one_line_error(source, error):
    with pytest.raises(XPathError) as caught:
        parse_expression(source)
    assert error == str(caught.value)


def test_expression__fields__the_referenced_keys():
    assert {"a", "b"} == parse_expression("${a} = 1 and selected(${b}, 'x') and . > 2").fields


# --- the YAML vocabulary -----------------------------------------------------------------------------------


def form_doc(**question) -> dict:
    first = {"key": "a", "label": "A", "prompt": "A?", "type": "integer"}
    return {"id": "t", "title": "T", "sections": [{"key": "s", "title": "S", "questions": [
        first, {"key": "b", "label": "B", "prompt": "B?", "type": "text", **question}]}]}


@pytest.mark.parametrize(
    ("question", "error"),
    [
        ({"relevant": "${a} > 0", "ask_if": {"key": "a", "gt": 0}},
         "sections[0] (s).questions[1] (b).relevant: " + texts.FORM_ERR_ASK_IF_AND_RELEVANT),
        ({"relevant": "uuid() > 1"}, "sections[0] (s).questions[1] (b).relevant: hàm uuid() chưa được hỗ trợ (có: "
                                     + ", ".join(f + "()" for f in FUNCTIONS) + ")"),
        ({"relevant": "${z} > 0"}, "sections[0] (s).questions[1] (b).relevant: "
                                   + texts.FORM_ERR_NOT_IN_FORM.format(name="z")),
        ({"calculation": "1"}, "sections[0] (s).questions[1] (b).calculation: "
                               + texts.FORM_ERR_TYPE_ONLY.format(types="calculate", name="calculation")),
        ({"relevant": ". > 0"}, "sections[0] (s).questions[1] (b).relevant: "
                                + texts.FORM_ERR_DOT.format(name="relevant")),
        ({"constraint_message": "x"}, "sections[0] (s).questions[1] (b).constraint_message: "
                                      + texts.FORM_ERR_NO_CONSTRAINT),
        ({"badge": True}, "sections[0] (s).questions[1] (b).badge: " + texts.FORM_ERR_BADGE),
        ({"badge": "yes"}, "sections[0] (s).questions[1] (b).badge: " + texts.FORM_ERR_FLAG),
        ({"hint": ""}, "sections[0] (s).questions[1] (b).hint: " + texts.FORM_ERR_EMPTY_TEXT),
        ({"type": "multi_choice"}, "sections[0] (s).questions[1] (b).choices: " + texts.FORM_ERR_CHOICES.format()),
    ],
)
def test_parse_form__new_fields_misused__one_line_error(question, error):
    with pytest.raises(FormError) as caught:
        parse_form(form_doc(**question), Path("f.yaml"))
    assert f"f.yaml: {error}" == str(caught.value)


def test_parse_form__new_fields__on_the_question():
    form = parse_form(form_doc(hint="Gợi ý", required_message="Bắt buộc", constraint="string-length(.) > 2",
                               constraint_message="Ít nhất 3 ký tự", relevant="${a} > 0"), Path("f.yaml"))
    q = form.section("s").question("b")
    assert ("Gợi ý", "Bắt buộc", "Ít nhất 3 ký tự") == (q.hint, q.required_message, q.constraint_message)
    assert is_relevant(q, {"a": 1}) and not is_relevant(q, {"a": 0}) and not is_relevant(q, {})


def test_report_yaml__badge_photos__main_and_backup_staff():
    form = load_form()
    assert [("main_staff", "photo"), ("backup_staff", "photo")] == [
        (s.key, q.key) for s in form.sections for q in s.questions if q.badge]


@pytest.mark.parametrize(("typed", "value"), [("12,5", 12.5), ("12.5", 12.5), ("3", 3.0), (" 0,75 ", 0.75)])
def test_parse_decimal__vietnamese_or_english_separator__float(typed, value):
    assert value == parse_decimal(typed)


@pytest.mark.parametrize("typed", ["12,5,1", "abc", "1.234,5", "-2"])
def test_parse_decimal__not_a_number__refused(typed):
    with pytest.raises(Exception) as caught:
        parse_decimal(typed)
    assert caught.value.message in (texts.DECIMAL_INVALID, texts.DECIMAL_NEGATIVE)


@pytest.mark.parametrize(("typed", "values"), [("1, 3", ["a", "c"]), ("3 1", ["a", "c"]), ("Bê; a", ["a", "b"]),
                                                ("2", ["b"]), ("1,1", ["a"])])
def test_parse_multi_choice__numbers_or_labels__values_in_list_order(typed, values):
    assert values == parse_multi_choice(typed, [("a", "A"), ("b", "Bê"), ("c", "Xê")])


def test_format_value__decimal_and_multi_choice__as_read():
    form = parse_form({"id": "t", "title": "T", "sections": [{"key": "s", "title": "S", "questions": [
        {"key": "d", "label": "D", "prompt": "D?", "type": "decimal"},
        {"key": "m", "label": "M", "prompt": "M?", "type": "multi_choice", "choices": ["x", "y"]}]}]}, Path("f"))
    s = form.section("s")
    assert ("12,5", "3", "x, y") == (format_value(s.question("d"), 12.5), format_value(s.question("d"), 3.0),
                                     format_value(s.question("m"), ["x", "y"]))


# --- XLSForm: good forms -----------------------------------------------------------------------------------

GOOD = [
    (  # a group, a note as intro, hcc columns, Vietnamese label preferred, hint, relevant kept as relevant
        [["type", "name", "label", "label::Vietnamese (vi)", "hint::Vietnamese (vi)", "required", "relevant",
          "hcc::prompt", "hcc::personal", "hcc::compact"],
         ["begin_group", "who", "Who", "Người điền", "", "", "", "", "", "name, phone"],
         ["note", "intro", "", "Giới thiệu", "", "", "", "", "", ""],
         ["name", "name", "Name", "Họ tên", "Ví dụ: Lan", "yes", "", "Họ tên của bạn?", "yes", ""],
         ["text", "phone", "Phone", "Số di động", "", "TRUE()", "", "", "TRUE", ""],
         ["integer", "n", "", "Số", "", "1", "", "", "", ""],
         ["text", "why", "", "Lý do", "", "no", "${n} > 2 or ${n} = 0", "", "", ""],
         ["end_group", "", "", "", "", "", "", "", "", ""]],
        None,
        {"id": "thu", "title": "Biểu mẫu thử", "sections": [{
            "key": "who", "title": "Người điền", "compact": ["name", "phone"], "intro": "Giới thiệu", "questions": [
                {"key": "name", "label": "Họ tên", "prompt": "Họ tên của bạn?", "type": "name", "required": True,
                 "hint": "Ví dụ: Lan", "personal": True},
                {"key": "phone", "label": "Số di động", "prompt": "Số di động", "type": "text", "required": True,
                 "personal": True},
                {"key": "n", "label": "Số", "prompt": "Số", "type": "integer", "required": True},
                {"key": "why", "label": "Lý do", "prompt": "Lý do", "type": "text", "required": False,
                 "relevant": "${n} > 2 or ${n} = 0"}]}]},
    ),
    (  # a repeat with repeat_count, selects, a filter, simple relevant shapes as ask_if, outside questions
        [["type", "name", "label", "required", "choice_filter", "relevant", "appearance", "repeat_count"],
         ["decimal", "years", "Số năm", "yes", "", "", "", ""],
         ["begin repeat", "people", "Nhân sự", "", "", "", "", "2"],
         ["select_one g", "gender", "Giới tính", "yes", "", "", "", ""],
         ["select_one size", "size", "Cỡ áo", "yes", "when = ${gender}", "", "", ""],
         ["yes_no", "ok", "Đồng ý", "yes", "", "", "", ""],
         ["text", "why", "Lý do", "yes", "", "${ok} = 'no'", "multiline", ""],
         ["integer", "n", "Số", "yes", "", "", "", ""],
         ["select_multiple g", "both", "Cả hai", "no", "", "${n} > 0", "", ""],
         ["text", "note", "Ghi chú", "no", "", "${gender} != '' and ${gender} != 'nu'", "numbers", ""],
         ["end repeat", "", "", "", "", "", "", ""]],
        [["list_name", "name", "label", "when"], ["g", "nu", "Nữ", ""], ["g", "nam", "Nam", ""],
         ["size", "s", "S", "nu"], ["size", "40", "40", "nam"]],
        {"id": "thu", "title": "Biểu mẫu thử",
         "choice_lists": {"g": [{"value": "nu", "label": "Nữ"}, {"value": "nam", "label": "Nam"}],
                          "size": [{"value": "s", "label": "S", "when": "nu"},
                                   {"value": "40", "label": "40", "when": "nam"}]},
         "sections": [
             {"key": "form", "title": "Biểu mẫu thử", "questions": [
                 {"key": "years", "label": "Số năm", "prompt": "Số năm", "type": "decimal", "required": True}]},
             {"key": "people", "title": "Nhân sự", "repeat": {"min": 2, "max": 2, "item": "nhân sự"}, "questions": [
                 {"key": "gender", "label": "Giới tính", "prompt": "Giới tính", "type": "choice", "required": True,
                  "choices": "g"},
                 {"key": "size", "label": "Cỡ áo", "prompt": "Cỡ áo", "type": "choice", "required": True,
                  "choices": "size", "filter_by": "gender"},
                 {"key": "ok", "label": "Đồng ý", "prompt": "Đồng ý", "type": "yes_no", "required": True},
                 {"key": "why", "label": "Lý do", "prompt": "Lý do", "type": "long_text", "required": True,
                  "ask_if": {"key": "ok", "equals": False}},
                 {"key": "n", "label": "Số", "prompt": "Số", "type": "integer", "required": True},
                 {"key": "both", "label": "Cả hai", "prompt": "Cả hai", "type": "multi_choice", "required": False,
                  "ask_if": {"key": "n", "gt": 0}, "choices": "g"},
                 {"key": "note", "label": "Ghi chú", "prompt": "Ghi chú", "type": "phone", "required": False,
                  "ask_if": {"key": "gender", "not_equals": "nu"}}]}]},
    ),
    (  # hcc::min/max/item, image with hcc flags, constraint with its message, version
        [["type", "name", "label", "required", "constraint", "constraint_message", "hcc::min", "hcc::max",
          "hcc::item", "hcc::deferrable", "hcc::badge"],
         ["begin_repeat", "staff", "Cán bộ", "", "", "", "0", "3", "cán bộ", "", ""],
         ["text", "name", "Tên", "yes", "string-length(.) >= 2", "Ít nhất 2 ký tự", "", "", "", "", ""],
         ["image", "photo", "Ảnh", "yes", "", "", "", "", "", "yes", "yes"],
         ["end_repeat", "", "", "", "", "", "", "", "", "", ""]],
        None,
        {"id": "thu", "title": "Biểu mẫu thử", "version": "7", "sections": [
            {"key": "staff", "title": "Cán bộ", "repeat": {"min": 0, "max": 3, "item": "cán bộ"}, "questions": [
                {"key": "name", "label": "Tên", "prompt": "Tên", "type": "text", "required": True,
                 "constraint": "string-length(.) >= 2", "constraint_message": "Ít nhất 2 ký tự"},
                {"key": "photo", "label": "Ảnh", "prompt": "Ảnh", "type": "photo", "required": True,
                 "deferrable": True, "badge": True}]}]},
    ),
]


@pytest.mark.parametrize(("survey", "choices", "expected"), GOOD, ids=["group", "repeat_selects", "photos"])
def test_read_xlsform__good_form__our_vocabulary(tmp_path, survey, choices, expected):
    settings = [["form_title", "form_id", "version"], ["Biểu mẫu thử", "thu", 7]] if "version" in expected \
        else SETTINGS
    path = workbook(tmp_path, survey, choices, settings)
    raw = read_xlsform(path)
    assert expected == raw
    form, snapshot = load_form_file(path)
    assert snapshot == json.loads(json.dumps(snapshot))
    assert form == parse_form(snapshot, Path("elsewhere.json"))


# --- XLSForm: broken forms, each stopped with one line -------------------------------------------------

AT = "trang tính survey, dòng {}, cột {}: "
NOT_IN_CHAT = "không hỏi được trong trò chuyện (dùng --skip-unsupported để bỏ qua câu này)"
BROKEN = [
    ([HEAD, ["geotrace", "where", "Đường đi", "yes"]], AT.format(2, "type") + f"kiểu 'geotrace' {NOT_IN_CHAT}"),
    ([HEAD, ["begin_group", "g", "G", ""], ["calculate", "c", "C", ""], ["end_group", "", "", ""]],
     AT.format(3, "calculation") + "câu calculate chưa có biểu thức ở cột calculation"),
    ([HEAD, ["begin_group", "g", "G", ""], ["text", "a", "A", "yes"]],
     AT.format(2, "type") + "begin_group 'g' chưa có end_group"),
    ([HEAD, ["text", "a", "A", "yes"], ["end_group", "", "", ""]],
     AT.format(3, "type") + "'end_group' không có begin_group tương ứng ở trên"),
    ([HEAD + ["repeat_count"], ["begin_repeat", "r", "R", "", 2], ["text", "a", "A", "yes", ""],
      ["end_group", "", "", "", ""]],
     AT.format(4, "type") + "'end_group' đóng begin_repeat ở dòng 2: hãy đóng đúng nhóm mở sau cùng"),
    ([HEAD, ["text", "a", "A", "maybe"]],
     AT.format(2, "required") + "'maybe' không phải yes hoặc no (điều kiện bắt buộc theo biểu thức chưa được hỗ trợ)"),
    ([HEAD + ["relevant"], ["integer", "a", "A", "yes", ""], ["text", "b", "B", "yes", "uuid() > ${a}"]],
     AT.format(3, "relevant") + "biểu thức chưa được hỗ trợ: hàm uuid() chưa được hỗ trợ (có: "
     + ", ".join(f + "()" for f in FUNCTIONS) + ")"),
    ([HEAD + ["constraint"], ["integer", "a", "A", "yes", ". +"]],
     AT.format(2, "constraint") + "biểu thức chưa được hỗ trợ: '. +' còn thiếu phần cuối"),
    ([HEAD, ["select_one nope", "a", "A", "yes"]],
     AT.format(2, "type") + "danh sách lựa chọn 'nope' không có trong trang tính choices"),
    ([HEAD, ["select_one", "a", "A", "yes"]],
     AT.format(2, "type") + "kiểu 'select_one' cần tên danh sách lựa chọn, ví dụ select_one gioi_tinh"),
    ([HEAD + ["choice_filter"], ["select_one g", "a", "A", "yes", ""], ["select_one g", "b", "B", "yes", "a > 2"]],
     AT.format(3, "choice_filter") + "choice_filter dùng 'a', không phải một cột lọc của trang tính choices"),
    ([HEAD + ["choice_filter"], ["select_one g", "a", "A", "yes", ""],
      ["select_one g", "b", "B", "yes", "instance('g')/root/item"]],
     AT.format(3, "choice_filter") + "choice_filter 'instance('g')/root/item' chưa được hỗ trợ (dùng dạng cot = "
                                     "${cau_hoi}, có thể nối nhiều điều kiện bằng and)"),
    ([HEAD + ["hcc::colour"], ["text", "a", "A", "yes", "red"]],
     AT.format(2, "hcc::colour") + "cột mở rộng này không có (các cột hcc:: có: prompt, personal, deferrable, badge, "
     "not_above, not_before, compact, min, max, item)"),
    ([HEAD, ["", "a", "A", "yes"]], AT.format(2, "type") + "dòng này chưa có kiểu câu hỏi (cột type)"),
    ([HEAD, ["text", "", "A", "yes"]], AT.format(2, "name") + "câu hỏi chưa có tên (cột name)"),
    ([HEAD, ["audio", "a", "A", "yes"], ["select_one_from_file units.csv", "b", "B", "yes"]],
     AT.format(2, "type") + f"kiểu 'audio' {NOT_IN_CHAT}"),
]


@pytest.mark.parametrize(("survey", "error"), BROKEN)
def test_read_xlsform__cannot_honour__one_line_naming_sheet_row_column(tmp_path, survey, error):
    path = workbook(tmp_path, survey, [["list_name", "name", "label"], ["g", "x", "X"]])
    with pytest.raises(FormError) as caught:
        read_xlsform(path)
    assert f"{path}: {error}" == str(caught.value)
    assert "\n" not in str(caught.value)


def test_read_xlsform__duplicate_choice_value__names_choices_sheet_and_row(tmp_path):
    path = workbook(tmp_path, [HEAD, ["select_one g", "a", "A", "yes"]],
                    [["list_name", "name", "label"], ["g", "x", "X"], ["g", "x", "Y"]])
    with pytest.raises(FormError) as caught:
        read_xlsform(path)
    assert (f"{path}: trang tính choices, dòng 3, cột name: giá trị 'x' lặp lại trong danh sách 'g' "
            f"(mỗi lựa chọn một giá trị riêng)") == str(caught.value)


def test_read_xlsform__no_settings_sheet__title_from_file_id_from_title(tmp_path):
    path = workbook(tmp_path, [HEAD, ["text", "a", "A", "yes"]], settings=None, name="Báo cáo quý_3.xlsx")
    raw = read_xlsform(path)
    assert ("Báo cáo quý 3", "bao_cao_quy_3") == (raw["title"], raw["id"])


def test_read_xlsform__standard_settings_columns__accepted(tmp_path):
    settings = [["form_title", "form_id", "version", "default_language", "instance_name", "allow_choice_duplicates",
                 "submission_url", "style"],
                ["Biểu mẫu", "bm", "2024010101", "Vietnamese (vi)", "concat(${a})", "yes", "https://x", "pages"]]
    raw = read_xlsform(workbook(tmp_path, [HEAD, ["text", "a", "A", "yes"]], settings=settings))
    assert ("Biểu mẫu", "bm", "2024010101") == (raw["title"], raw["id"], raw["version"])


def test_load_form_file__not_a_workbook__one_line_error(tmp_path):
    path = tmp_path / "form.xlsx"
    path.write_text("not a zip")
    with pytest.raises(FormError) as caught:
        load_form_file(path)
    assert f"{path}: {texts.FORM_UNREADABLE}" == \
        str(caught.value)
    with pytest.raises(FormError) as caught:
        load_form_file(tmp_path / "form.csv")
    assert f"{tmp_path / 'form.csv'}: biểu mẫu là tệp .yaml, .yml, .xlsx hoặc .xls" == str(caught.value)


# --- the shipped workbooks -------------------------------------------------------------------------------


def test_report_xlsx__same_form_as_report_yaml():
    from_xlsx, raw = load_form_file(FORMS_DIR / "report.xlsx")
    from_yaml, raw_yaml = load_form_file(FORMS_DIR / "report.yaml")
    assert from_yaml == load_form()
    assert from_yaml == from_xlsx
    assert from_xlsx == parse_form(json.loads(json.dumps(raw)), Path("snapshot"))
    assert from_yaml == parse_form(json.loads(json.dumps(raw_yaml)), Path("snapshot"))


def test_shipped_workbooks__regenerated__same_cells(tmp_path):
    """report.xlsx is up to date with report.yaml (run `python -m conversations.forms.make_report_xlsx`)."""
    raw = yaml.safe_load((FORMS_DIR / "report.yaml").read_text(encoding="utf-8"))
    write_xlsx(tmp_path / "report.xlsx", report_sheets(raw))
    write_xlsx(tmp_path / "training.xlsx", training_sheets())
    for name in ("report.xlsx", "training.xlsx"):
        assert read_sheets(FORMS_DIR / name) == read_sheets(tmp_path / name)


def test_shipped_workbooks__openpyxl_reads_them():
    book = openpyxl.load_workbook(FORMS_DIR / "training.xlsx")
    assert ["survey", "choices", "settings"] == book.sheetnames
    assert "Đăng ký cử cán bộ tham gia lớp bồi dưỡng" == book["settings"]["A2"].value


TRAINING, _ = load_form_file(FORMS_DIR / "training.xlsx")


def test_training_xlsx__loads():
    assert "Đăng ký cử cán bộ tham gia lớp bồi dưỡng" == TRAINING.title
    attendees = TRAINING.section("attendees")
    assert ["name", "position", "phone", "birth_date", "gender", "years", "mode", "venue_note"] == [
        q.key for q in attendees.questions]
    assert ("date", "choice", "decimal", "choice") == tuple(attendees.question(k).type
                                                            for k in ("birth_date", "gender", "years", "mode"))
    assert attendees.question("position").constraint is not None
    assert attendees.question("venue_note").relevant is not None
    assert "phone" == TRAINING.section("contact").question("phone").type


# --- the engine on the new vocabulary --------------------------------------------------------------------


def run(form, *events, state=None):
    if state is None:
        report = ReportInfo(unit_name="Sở Tư pháp", deadline_at=DEADLINE, status=IN_PROGRESS)
        state, _ = step(form, State(answers={}, report=report), Start(), NOW)
    reply = None
    for event in events:
        state, replies = step(form, state, Text(event) if isinstance(event, str) else event, NOW)
        reply = replies[0]
    return state, reply


def test_training__walk__answers_stored():
    state, reply = run(TRAINING, "Nguyễn Thị Lan", "0912 345 678", "Trần Văn Hùng", "Chuyên viên", "0987654321",
                       "15/08/1985", "Nam", "12,5", "1")
    answers = state.answers
    assert "Nguyễn Thị Lan" == answers["contact.name"]
    assert 12.5 == answers["attendees[1].years"]
    assert "1985-08-15" == answers["attendees[1].birth_date"]
    assert "truc_tiep" == answers["attendees[1].mode"]
    assert TRAINING.section("attendees").question("venue_note").prompt in reply.text  # relevant: asked
    state, reply = run(TRAINING, "bỏ qua", state=state)
    assert answers.items() <= state.answers.items() and state.answers["attendees[1].venue_note"] is None


def test_training__online__venue_not_asked():
    state, reply = run(TRAINING, "Nguyễn Thị Lan", "0912 345 678", "Trần Văn Hùng", "Chuyên viên", "0987654321",
                       "15/08/1985", "Nữ", "3", "Trực tuyến")
    assert not is_relevant(TRAINING.section("attendees").question("venue_note"), scope(state.answers, "attendees", 1))
    assert TRAINING.section("attendees").question("venue_note").prompt not in reply.text


def test_training__constraint_fails__answer_not_stored_message_said():
    state, reply = run(TRAINING, "Nguyễn Thị Lan", "0912 345 678", "Trần Văn Hùng")
    before = dict(state.answers)
    state, reply = run(TRAINING, "PV", state=state)
    assert before == dict(state.answers)
    assert reply.text.startswith("Chức vụ cần ít nhất 3 ký tự, ví dụ: Chuyên viên.")
    assert "Chức vụ" in reply.text and "attendees" == state.cursor["slot"]["s"]
    state, reply = run(TRAINING, "Chuyên viên", state=state)
    assert "Chuyên viên" == state.answers["attendees[1].position"]


def test_training__decimal_constraint_fails__default_or_own_message():
    state, _ = run(TRAINING, "Nguyễn Thị Lan", "0912 345 678", "Trần Văn Hùng", "Chuyên viên", "0987654321",
                   "15/08/1985", "Nam")
    before = dict(state.answers)
    state, reply = run(TRAINING, "50,5", state=state)
    assert before == dict(state.answers)
    assert reply.text.startswith("Số năm công tác không quá 45")
    state, reply = run(TRAINING, "mười", state=state)
    assert before == dict(state.answers) and reply.text.startswith(texts.DECIMAL_INVALID)


def test_training__required_skipped__required_message():
    state, reply = run(TRAINING, "bỏ qua")
    assert reply.text.startswith("Vui lòng cho biết họ tên người liên hệ.")
    assert {} == {k: v for k, v in state.answers.items() if not k.startswith("__")}


def small_form(**question):
    return parse_form({"id": "t", "title": "T", "sections": [{"key": "s", "title": "S", "questions": [
        {"key": "a", "label": "A", "prompt": "A?", "type": "text"},
        {"key": "m", "label": "Lĩnh vực", "prompt": "Lĩnh vực?", "type": "multi_choice",
         "choices": [{"value": "tp", "label": "Tư pháp"}, {"value": "yt", "label": "Y tế"},
                     {"value": "gd", "label": "Giáo dục"}], **question},
        {"key": "z", "label": "Z", "prompt": "Z?", "type": "text", "required": False}]}]}, Path("f.yaml"))


def test_multi_choice__typed_numbers__list_stored_and_shown():
    form = small_form()
    state, reply = run(form, "x")
    assert "1 – Tư pháp\n2 – Y tế\n3 – Giáo dục" in reply.text and () == reply.options
    state, reply = run(form, "1, 3", state=state)
    assert ["tp", "gd"] == state.answers["s.m"]
    assert "Tư pháp, Giáo dục" == format_value(form.section("s").question("m"), state.answers["s.m"])
    state, reply = run(form, "9", state=state)  # now at z: "9" is the optional text answer
    assert "9" == state.answers["s.z"]


def test_multi_choice__not_in_list__asked_again():
    form = small_form(constraint="count-selected(.) <= 2")
    state, _ = run(form, "x")
    state, reply = run(form, "1, 7", state=state)
    assert "s.m" not in state.answers
    assert reply.text.startswith(texts.MULTI_CHOICE_INVALID.format(raw="7", count=3))
    state, reply = run(form, "1 2 3", state=state)
    assert "s.m" not in state.answers
    assert reply.text.startswith(texts.CONSTRAINT_FAILED.format(value="Tư pháp, Y tế, Giáo dục", label="Lĩnh vực"))
    state, reply = run(form, "Y tế; Tư pháp", state=state)
    assert ["tp", "yt"] == state.answers["s.m"]


def test_hint__said_after_the_prompt():
    form = parse_form(form_doc(hint="Ví dụ: Sở Y tế."), Path("f.yaml"))
    state, reply = run(form, "3")
    assert "B?\nVí dụ: Sở Y tế." in reply.text


@pytest.mark.parametrize(
    ("survey", "error"),
    [
        ([HEAD + ["hcc::not_above"], ["text", "a", "A", "yes", ""], ["integer", "b", "B", "yes", "a"]],
         AT.format(3, "hcc::not_above") + "chỉ so sánh hai câu hỏi số nguyên"),
        ([HEAD + ["relevant"], ["text", "a", "A", "yes", "${b} = 'x'"], ["text", "c", "C", "yes", ""]],
         AT.format(2, "relevant") + "'b' không phải tên một câu hỏi của biểu mẫu"),
        ([HEAD + ["hcc::compact"], ["begin_group", "g", "G", "", "a, z"], ["text", "a", "A", "yes", ""],
          ["text", "b", "B", "yes", ""], ["end_group", "", "", "", ""]],
         AT.format(2, "hcc::compact") + "phải liệt kê tên câu hỏi của phần này (có: a, b)"),
        ([HEAD, ["text", "a", "A", "yes"], ["text", "a", "A2", "yes"]],
         AT.format(3, "name") + "tên 'a' lặp lại (mỗi câu hỏi một tên riêng)"),
    ],
)
def test_read_xlsform__form_mistake__placed_on_its_row(tmp_path, survey, error):
    path = workbook(tmp_path, survey)
    with pytest.raises(FormError) as caught:
        read_xlsform(path)
    assert f"{path}: {error}" == str(caught.value)


def test_relevant__answer_it_depended_on_changed__answer_dropped():
    state, _ = run(TRAINING, "Nguyễn Thị Lan", "0912 345 678", "Trần Văn Hùng", "Chuyên viên", "0987654321",
                   "15/08/1985", "Nam", "12,5", "1", "Cần chỗ ở 3 đêm")
    assert "Cần chỗ ở 3 đêm" == state.answers["attendees[1].venue_note"]
    state, _ = run(TRAINING, "sửa 2", "1", "Hình thức tham gia", "2", state=state)
    assert "truc_tuyen" == state.answers["attendees[1].mode"]
    assert "attendees[1].venue_note" not in state.answers


def test_constraint__in_a_compact_message__that_part_refused():
    form = parse_form({"id": "t", "title": "T", "sections": [{"key": "s", "title": "S", "compact": ["a", "b"],
                                                              "questions": [
        {"key": "a", "label": "Tên", "prompt": "Tên?", "type": "text"},
        {"key": "b", "label": "Mã", "prompt": "Mã?", "type": "text", "constraint": "regex(., '^[0-9]{4}$')",
         "constraint_message": "Mã gồm 4 chữ số."}]}]}, Path("f.yaml"))
    state, reply = run(form, "Sở Y tế; 12")
    assert {"s.a": "Sở Y tế"} == {k: v for k, v in state.answers.items() if k.startswith("s.")}
    assert "Mã gồm 4 chữ số." in reply.text
    state, _ = run(form, "2017", state=state)
    assert "2017" == state.answers["s.b"]


def test_regex_constraint__a_pattern_that_backtracks__answers_fast_either_way():
    """A form author's pattern runs on what a person typed, inside the report's transaction: bounded in time."""
    import time

    from conversations.xpath import parse_expression

    nested = parse_expression(r"regex(., '^(([a-z])+.)+[A-Z]([a-z])+$')")
    started = time.monotonic()
    verdicts = [nested.holds({}, "a" * 60 + "!"), nested.holds({}, "ab Cd")]
    assert time.monotonic() - started < 2
    assert [False, True] == verdicts


def test_load_form_file__damaged_workbook__one_line_error_not_a_traceback(tmp_path):
    data = bytearray((FORMS_DIR / "training.xlsx").read_bytes())
    for at in range(len(data) // 3, len(data) // 3 + 64):  # garble a stretch of compressed sheet data
        data[at] ^= 0x5A
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(bytes(data))
    with pytest.raises(FormError) as caught:
        load_form_file(path)
    assert f"{path}: {texts.FORM_UNREADABLE}" == \
        str(caught.value)


# --- issue 24: XLSForm as its authors write it (every dialect) ----------------------------------------------


def read(tmp_path, survey, choices=None, settings=SETTINGS, **options):
    return read_xlsform(workbook(tmp_path, survey, choices, settings), **options)


def questions_of(raw: dict) -> dict[str, dict]:
    return {q["key"]: q for s in raw["sections"] for q in s["questions"]}


def test_read_xlsform__older_syntax__same_as_today(tmp_path):
    raw = read(tmp_path,
               [["type", "name", "caption"], ["select one from gioi_tinh", "gt", "Giới tính"],
                ["select all that apply from linh_vuc", "lv", "Lĩnh vực"], ["begin looped group", "ds", "Danh sách"],
                ["text", "ten", "Tên"], ["end looped group", "", ""]],
               [["list name", "value", "caption"], ["gioi_tinh", "nam", "Nam"], ["gioi_tinh", "nu", "Nữ"],
                ["linh_vuc", "tp", "Tư pháp"]])
    qs = questions_of(raw)
    assert ("choice", "gioi_tinh") == (qs["gt"]["type"], qs["gt"]["choices"])
    assert ("multi_choice", "linh_vuc") == (qs["lv"]["type"], qs["lv"]["choices"])
    assert [{"value": "nam", "label": "Nam"}, {"value": "nu", "label": "Nữ"}] == raw["choice_lists"]["gioi_tinh"]
    assert {"min": 0, "max": None, "item": "danh sách"} == raw["sections"][1]["repeat"]


@pytest.mark.parametrize(
    ("columns", "default_language", "expected"),
    [
        (["label::English (en)", "label::Vietnamese (vi)"], "", "Tiếng Việt"),
        (["label::English (en)", "label::vi"], "", "Tiếng Việt"),
        (["label::English", "label::Tiếng Việt"], "English", "Tiếng Việt"),
        (["label::English (en)", "label::French (fr)"], "French (fr)", "Français"),
        (["label::English (en)", "label::French (fr)"], "", "English"),
        (["label", "label::French (fr)"], "", "Plain"),
    ],
)
def test_read_xlsform__label_languages__vietnamese_else_default_else_first(tmp_path, columns, default_language,
                                                                          expected):
    words = {"label::English (en)": "English", "label::English": "English", "label::Vietnamese (vi)": "Tiếng Việt",
             "label::vi": "Tiếng Việt", "label::Tiếng Việt": "Tiếng Việt", "label::French (fr)": "Français",
             "label": "Plain"}
    settings = [["form_title", "form_id", "default_language"], ["T", "t", default_language]]
    raw = read(tmp_path, [["type", "name", *columns], ["text", "a", *(words[c] for c in columns)]],
               settings=settings)
    assert expected == questions_of(raw)["a"]["label"]


def test_read_xlsform__label_only_in_vi_column__choices_in_vi_too(tmp_path):
    """Once refused with "has no label"."""
    raw = read(tmp_path, [["type", "name", "label::vi", "hint::vi"], ["select_one g", "a", "Câu A", "Gợi ý"]],
               [["list_name", "name", "label::vi"], ["g", "x", "Có"]])
    assert {"key": "a", "label": "Câu A", "prompt": "Câu A", "type": "choice", "required": False, "hint": "Gợi ý",
            "choices": "g"} == questions_of(raw)["a"]
    assert [{"value": "x", "label": "Có"}] == raw["choice_lists"]["g"]


def test_read_xlsform__xml_names__storage_keys_and_references_rewritten(tmp_path):
    raw = read(tmp_path, [["type", "name", "label", "relevant"], ["integer", "Q1.Age", "Tuổi", ""],
                          ["text", "_Ghi-chú", "Ghi chú", "${Q1.Age} > 18"], ["integer", "q1_age", "Trùng", ""]])
    assert ["q1_age", "ghi_chu", "q1_age_2"] == [q["key"] for q in raw["sections"][0]["questions"]]
    assert {"key": "q1_age", "gt": 18} == questions_of(raw)["ghi_chu"]["ask_if"]


def test_read_xlsform__metadata__meta_questions_never_asked(tmp_path):
    kinds = ["start", "end", "today", "deviceid", "username", "phonenumber", "audit", "simserial", "subscriberid"]
    raw = read(tmp_path, [["type", "name", "label"], *[[k, f"m_{k}", ""] for k in kinds], ["text", "a", "A"]])
    qs = questions_of(raw)
    assert kinds == [qs[f"m_{k}"]["meta"] for k in kinds]
    assert {"meta"} == {qs[f"m_{k}"]["type"] for k in kinds}
    assert {False} == {qs[f"m_{k}"]["required"] for k in kinds}


def test_read_xlsform__notes_anywhere__note_questions_first_in_group_intro(tmp_path):
    raw = read(tmp_path, [["type", "name", "label"], ["note", "hello", "Xin chào"], ["begin_group", "g", "Nhóm"],
                          ["note", "intro", "Giới thiệu nhóm"], ["text", "a", "A"], ["note", "mid", "Lưu ý giữa"],
                          ["text", "b", "B"], ["end_group", "", ""]])
    assert {"key": "hello", "label": "Xin chào", "prompt": "Xin chào", "type": "note", "required": False} == \
        questions_of(raw)["hello"]
    group = raw["sections"][1]
    assert "Giới thiệu nhóm" == group["intro"]
    assert [("a", "text"), ("mid", "note"), ("b", "text")] == [(q["key"], q["type"]) for q in group["questions"]]


def test_read_xlsform__calculate_or_other_time_datetime_geopoint__contract_names(tmp_path):
    raw = read(tmp_path,
               [["type", "name", "label", "calculation"], ["integer", "nam", "Nam", ""], ["integer", "Nu", "Nữ", ""],
                ["calculate", "tong", "", "${nam} + ${Nu}"], ["select_one g or_other", "chon", "Chọn", ""],
                ["time", "gio", "Giờ", ""], ["datetime", "luc", "Lúc", ""], ["geopoint", "vi_tri", "Vị trí", ""]],
               [["list_name", "name", "label"], ["g", "a", "A"]])
    qs = questions_of(raw)
    assert ("calculate", "${nam} + ${nu}", "tong") == (qs["tong"]["type"], qs["tong"]["calculation"],
                                                       qs["tong"]["label"])
    assert (True, "choice") == (qs["chon"]["or_other"], qs["chon"]["type"])
    assert ["time", "datetime", "geopoint"] == [qs[k]["type"] for k in ("gio", "luc", "vi_tri")]
    form, _ = load_form_file(workbook(tmp_path, [["type", "name", "label"], ["time", "gio", "Giờ"]], name="t.xlsx"))
    assert "time" == form.sections[0].questions[0].type


@pytest.mark.parametrize(
    ("count", "expected"),
    [("", {"min": 0, "max": None, "item": "cán bộ"}),
     ("3", {"min": 3, "max": 3, "item": "cán bộ"}),
     ("${so_can_bo}", {"min": 0, "max": None, "item": "cán bộ", "count": "${so_can_bo}"})],
)
def test_read_xlsform__repeat_count__fixed_expression_or_open(tmp_path, count, expected):
    raw = read(tmp_path, [["type", "name", "label", "repeat_count", "required"],
                          ["integer", "So_Can_Bo", "Số cán bộ", "", ""], ["begin_repeat", "can_bo", "Cán bộ", count, ""],
                          ["text", "ten", "Tên", "", "yes"], ["end_repeat", "", "", "", ""]])
    assert expected == raw["sections"][1]["repeat"]


def test_read_xlsform__groups_nested__sections_titled_with_their_path(tmp_path):
    raw = read(tmp_path, [
        ["type", "name", "label", "relevant"],
        ["yes_no", "co_du_lieu", "Có dữ liệu?", ""],
        ["begin_group", "p1", "I. Thông tin chung", "${co_du_lieu} = 'yes'"],
        ["text", "don_vi", "Đơn vị", ""],
        ["begin_group", "p1_1", "1. Nhân sự", ""],
        ["integer", "so_nguoi", "Số người", ""],
        ["end_group", "", "", ""],
        ["text", "ghi_chu", "Ghi chú", ""],
        ["begin_repeat", "ds", "2. Danh sách", ""],
        ["text", "ten", "Tên", ""],
        ["begin_group", "lien_he", "Liên hệ", ""],
        ["phone", "sdt", "Số điện thoại", ""],
        ["end_group", "", "", ""],
        ["end_repeat", "", "", ""],
        ["end_group", "", "", ""]])
    sections = [(s["key"], s["title"], [q["key"] for q in s["questions"]]) for s in raw["sections"]]
    assert [("form", "Biểu mẫu thử", ["co_du_lieu"]),
            ("p1", "I. Thông tin chung", ["don_vi"]),
            ("p1_1", "I. Thông tin chung › 1. Nhân sự", ["so_nguoi"]),
            ("p1_2", "I. Thông tin chung", ["ghi_chu"]),
            ("ds", "I. Thông tin chung › 2. Danh sách", ["ten", "lien_he", "sdt"])] == sections
    qs = questions_of(raw)
    assert ["${co_du_lieu} = 'yes'"] * 4 == [qs[k]["relevant"] for k in ("don_vi", "so_nguoi", "ghi_chu", "ten")]
    assert ("note", "Liên hệ") == (qs["lien_he"]["type"], qs["lien_he"]["label"])
    assert {"min": 0, "max": None, "item": "2. Danh sách"} == raw["sections"][4]["repeat"]


def test_read_xlsform__repeat_in_repeat__a_list_of_its_own_each_item_choosing_its_parent(tmp_path):
    survey = [["type", "name", "label", "repeat_count"], ["begin_repeat", "nguoi", "Người", ""],
              ["text", "ten", "Tên", ""], ["integer", "so_khoa", "Số khóa", ""],
              ["begin_repeat", "khoa", "Khóa học", "${so_khoa}"], ["text", "khoa_ten", "Tên khóa", ""],
              ["end_repeat", "", "", ""], ["text", "ghi_chu", "Ghi chú", ""], ["end_repeat", "", "", ""]]
    raw = read_xlsform(workbook(tmp_path, survey))
    assert [("nguoi", ["ten", "so_khoa", "ghi_chu"]), ("khoa", ["nguoi_item", "khoa_ten"])] == \
        [(s["key"], [q["key"] for q in s["questions"]]) for s in raw["sections"]]
    link = raw["sections"][1]["questions"][0]
    assert ("choice", "nguoi", "Người") == (link["type"], link["item_of"], link["label"])
    assert "Khóa học này thuộc người nào?" in link["prompt"]
    # the count of one person's trainings cannot be checked on a list of its own: an open list
    assert {"min": 0, "max": None, "item": "khóa học"} == raw["sections"][1]["repeat"]


def test_load_form_file__skip_unsupported__left_out_with_what_their_condition_names_and_listed(tmp_path):
    path = workbook(tmp_path, [["type", "name", "label", "relevant"], ["text", "a", "A", ""],
                               ["geotrace", "duong", "Đường đi", ""], ["audio", "ghi_am", "Ghi âm", ""],
                               ["text", "mo_ta", "Mô tả đường", "${duong} != ''"],
                               ["select_one_from_file xa.csv", "xa", "Xã", ""], ["barcode", "ma", "Mã", ""],
                               ["text", "b", "B", ""]])
    skipped: list[str] = []
    form, raw = load_form_file(path, skip_unsupported=True, skipped=skipped)
    assert ["a", "b"] == [q.key for q in form.sections[0].questions]
    assert ["trang tính survey, dòng 3, cột type: kiểu 'geotrace' " + NOT_IN_CHAT,
            "trang tính survey, dòng 4, cột type: kiểu 'audio' " + NOT_IN_CHAT,
            "trang tính survey, dòng 6, cột type: kiểu 'select_one_from_file xa.csv' " + NOT_IN_CHAT,
            "trang tính survey, dòng 7, cột type: kiểu 'barcode' " + NOT_IN_CHAT,
            "trang tính survey, dòng 5, cột name: câu 'mo_ta' sẽ không được hỏi vì điều kiện hỏi (relevant) dùng "
            "câu 'duong' đã bị bỏ qua"] == skipped
    state, reply = run(form, "Trả lời A")  # mo_ta's condition cannot be known: never asked, b comes next
    assert "câu 2/2\nB\n" in reply.text
    assert {"form.a": "Trả lời A"} == state.answers


def test_read_xlsform__relevant_naming_another_section_or_itself__accepted(tmp_path):
    raw = read(tmp_path, [["type", "name", "label", "relevant", "constraint"], ["integer", "tuoi", "Tuổi", "", "${tuoi} > 0"],
                          ["begin_group", "g", "G", "", ""], ["text", "b", "B", "${tuoi} > 18", ""],
                          ["end_group", "", "", "", ""]])
    qs = questions_of(raw)
    assert ("${tuoi} > 0", "${tuoi} > 18") == (qs["tuoi"]["constraint"], qs["b"]["relevant"])


def test_read_xlsform__typographic_quotes_and_excel_booleans__read_as_pyxform(tmp_path):
    raw = read(tmp_path, [["type", "name", "label", "relevant", "required"], ["text", "a", "A", "", "TRUE"],
                          ["text", "b", "B", "${a} != ’x’", "FALSE"], ["text", "c", "C", "FALSE", ""]])
    qs = questions_of(raw)
    assert (True, False) == (qs["a"]["required"], qs["b"]["required"])
    assert "${a} != 'x'" == qs["b"]["relevant"] and "false()" == qs["c"]["relevant"]


def test_read_xlsform__loop_over_a_list__a_group_per_choice(tmp_path):
    raw = read(tmp_path, [["type", "name", "label"], ["begin loop over loai", "dem", "Số %(label)s"],
                          ["integer", "so", "Bao nhiêu %(label)s?"], ["end loop", "", ""]],
               [["list_name", "name", "label"], ["loai", "xe", "xe máy"], ["loai", "oto", "ô tô"]])
    assert [("dem_xe", "Số xe máy", "Bao nhiêu xe máy?"), ("dem_oto", "Số ô tô", "Bao nhiêu ô tô?")] == [
        (s["key"], s["title"], s["questions"][0]["label"]) for s in raw["sections"]]


KOBO_SURVEY = [
    ["type", "$kuid", "$autoname", "name", "label::English (en)", "hint::English (en)", "required", "calculation",
     "appearance", "relevant"],
    ["start", "k1", "start", "start", "", "", "", "", "", ""],
    ["end", "k2", "end", "end", "", "", "", "", "", ""],
    ["begin_group", "k3", "household", "household", "Household", "", "", "", "field-list", ""],
    ["integer", "k4", "adults", "adults", "Number of adults", "Aged 18 and over", "true", "", "", ""],
    ["integer", "k5", "children", "children", "Number of children", "", "true", "", "", ""],
    ["calculate", "k6", "total", "total", "", "", "false", "${adults} + ${children}", "", ""],
    ["select_one ab12cd", "k7", "water", "water", "Main water source", "", "false", "", "minimal", ""],
    ["text", "k8", "water_other", "water_other", "Other source", "", "false", "", "",
     "selected(${water}, 'other')"],
    ["end_group", "k9", "", "", "", "", "", "", "", ""],
]
KOBO_CHOICES = [["list_name", "$kuid", "name", "$autovalue", "label::English (en)"],
                ["ab12cd", "c1", "tap", "tap", "Tap"], ["ab12cd", "c2", "well", "well", "Well"],
                ["ab12cd", "c3", "other", "other", "Other"]]


def test_load_form_file__kobotoolbox_export__loads_as_it_is(tmp_path):
    """As KoboToolbox's form builder exports a form: language columns, $kuid/$autoname, start/end metadata, a
    calculation, settings with version and form_id only."""
    path = workbook(tmp_path, KOBO_SURVEY, KOBO_CHOICES, [["version", "form_id"], ["vP4uLKyfqZ", "aBcD1234"]],
                    name="Household survey.xlsx")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        form, raw = load_form_file(path)
    assert [] == caught
    assert ("aBcD1234", "Household survey", "vP4uLKyfqZ") == (form.id, form.title, form.version)
    assert [("form", ["start", "end"]), ("household", ["adults", "children", "total", "water", "water_other"])] == [
        (s.key, [q.key for q in s.questions]) for s in form.sections]
    adults = form.section("household").question("adults")
    assert ("Number of adults", "Aged 18 and over", True, "integer") == (adults.label, adults.hint, adults.required,
                                                                         adults.type)
    qs = questions_of(raw)
    assert ("meta", "start") == (qs["start"]["type"], qs["start"]["meta"])
    assert ("calculate", "${adults} + ${children}") == (qs["total"]["type"], qs["total"]["calculation"])
    assert ["Tap", "Well", "Other"] == [c.label for c in form.section("household").question("water").choices]


def test_load_form_file__vietnamese_form_nested_groups_and_total__sections_and_calculation(tmp_path):
    survey = [
        ["type", "name", "label::Tiếng Việt (vi)", "label::English (en)", "required", "calculation", "constraint"],
        ["today", "ngay", "", "", "", "", ""],
        ["begin_group", "I", "I. Nhân sự", "I. Staff", "", "", ""],
        ["begin_group", "I_1", "1. Biên chế", "1. Positions", "", "", ""],
        ["integer", "CongChuc", "Số công chức", "Civil servants", "yes", "", ". >= 0"],
        ["integer", "VienChuc", "Số viên chức", "Public employees", "yes", "", ". >= 0"],
        ["calculate", "TongSo", "Tổng số", "Total", "", "${CongChuc} + ${VienChuc}", ""],
        ["note", "XacNhan", "Tổng số đã tính: ${TongSo}", "Total: ${TongSo}", "", "", ""],
        ["end_group", "", "", "", "", "", ""],
        ["begin_group", "I_2", "2. Hợp đồng", "2. Contracts", "", "", ""],
        ["integer", "HopDong", "Số hợp đồng", "Contracts", "yes", "", ". <= ${TongSo}"],
        ["end_group", "", "", "", "", "", ""],
        ["end_group", "", "", "", "", "", ""],
    ]
    path = workbook(tmp_path, survey, settings=[["form_title", "form_id"], ["Báo cáo biên chế", "bien_che"]])
    form, raw = load_form_file(path)
    assert [("form", "Báo cáo biên chế", ["ngay"]),
            ("i_1", "I. Nhân sự › 1. Biên chế", ["congchuc", "vienchuc", "tongso", "xacnhan"]),
            ("i_2", "I. Nhân sự › 2. Hợp đồng", ["hopdong"])] == [
        (s.key, s.title, [q.key for q in s.questions]) for s in form.sections]
    qs = questions_of(raw)
    assert "${congchuc} + ${vienchuc}" == qs["tongso"]["calculation"]
    assert ("note", "Tổng số đã tính: ${TongSo}") == (qs["xacnhan"]["type"], qs["xacnhan"]["label"])
    assert ". <= ${tongso}" == qs["hopdong"]["constraint"]
    assert "Số công chức" == form.section("i_1").question("congchuc").label


def test_cli_campaign_create__skip_unsupported__created_and_what_was_left_out_listed(tmp_path):
    import os
    import subprocess
    import sys

    form = workbook(tmp_path, [["type", "name", "label"], ["text", "a", "A"], ["geoshape", "vung", "Vùng"]])

    def hcc(*args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("HCC_")} | {"HCC_DATA_DIR": str(tmp_path)}
        return subprocess.run([sys.executable, "-m", "bot", "campaign", "create", "--title", "Thử", "--deadline",
                               "28/03/2017 16:30", "--force", "--form", str(form), *args], cwd=tmp_path, text=True,
                              capture_output=True, env=env, timeout=120)

    refused = hcc()
    assert 2 == refused.returncode
    assert f"{form}: trang tính survey, dòng 3, cột type: kiểu 'geoshape' {NOT_IN_CHAT}" == refused.stderr.strip()
    created = hcc("--skip-unsupported")
    assert 0 == created.returncode, created.stderr
    assert [texts.CLI_CAMPAIGN_CREATED.format(id=1, title="Thử", deadline="16:30 ngày 28/03/2017"),
            texts.CLI_CAMPAIGN_SKIPPED.format(count=1),
            f"  trang tính survey, dòng 3, cột type: kiểu 'geoshape' {NOT_IN_CHAT}"] == created.stdout.splitlines()


def test_read_xlsform__kobo_autoname_only__names_from_it(tmp_path):
    raw = read(tmp_path, [["type", "$autoname", "label"], ["text", "ho_ten", "Họ tên"], ["begin_group", "form", "F"],
                          ["text", "b", "B"], ["end_group", "", ""]], settings=None)
    assert [("form", ["ho_ten"]), ("form_2", ["b"])] == [(s["key"], [q["key"] for q in s["questions"]])
                                                         for s in raw["sections"]]


def test_read_xlsform__range_and_acknowledge__a_checked_number_and_a_yes_no(tmp_path):
    raw = read(tmp_path, [["type", "name", "label", "parameters"], ["range", "diem", "Điểm", "start=1 end=5 step=1"],
                          ["range", "ti_le", "Tỉ lệ", "start=0 end=1 step=0.1"], ["acknowledge", "dong_y", "Đồng ý", ""]])
    qs = questions_of(raw)
    assert ("integer", ". >= 1 and . <= 5") == (qs["diem"]["type"], qs["diem"]["constraint"])
    assert ("decimal", ". >= 0 and . <= 1") == (qs["ti_le"]["type"], qs["ti_le"]["constraint"])
    assert "yes_no" == qs["dong_y"]["type"]


def test_read_xlsform__choice_filter_shapes__filtered_narrowed_or_all(tmp_path):
    raw = read(tmp_path,
               [["type", "name", "label", "choice_filter"], ["select_one tinh", "tinh", "Tỉnh", ""],
                ["select_one xa", "xa", "Xã", "${tinh} = tinh"], ["select_one xa", "xa_dn", "Xã ở Đồng Nai", "tinh='dn'"],
                ["select_one tinh", "tinh_2", "Tỉnh khác", "true()"]],
               [["list_name", "name", "label", "tinh"], ["tinh", "dn", "Đồng Nai", ""], ["tinh", "bd", "Bình Dương", ""],
                ["xa", "x1", "Xã 1", "dn"], ["xa", "x2", "Xã 2", "bd"]])
    qs = questions_of(raw)
    assert ("tinh", "xa") == (qs["xa"]["filter_by"], qs["xa"]["choices"])
    assert [{"value": "x1", "label": "Xã 1"}] == raw["choice_lists"][qs["xa_dn"]["choices"]]
    assert ("tinh", False) == (qs["tinh_2"]["choices"], "filter_by" in qs["tinh_2"])


def test_read_xlsform__calculation_of_a_bare_number__kept_as_a_number(tmp_path):
    raw = read(tmp_path, [["type", "name", "label", "calculation"], ["calculate", "mot", "", "1"],
                          ["calculate", "hai", "", "2.5"], ["text", "a", "A", ""]])
    assert ["1", "2.5"] == [questions_of(raw)[k]["calculation"] for k in ("mot", "hai")]


def test_load_form_file__skip_unsupported__duplicate_choice_and_empty_filtered_list_left_out(tmp_path):
    path = workbook(tmp_path, [["type", "name", "label", "choice_filter"], ["select_one g", "a", "A", ""],
                               ["select_one h", "b", "B", "nhom = ${a}"], ["text", "c", "C", ""]],
                    [["list_name", "name", "label", "nhom"], ["g", "x", "X", ""], ["g", "x", "X2", ""],
                     ["h", "y", "Y", ""]])
    skipped: list[str] = []
    form, raw = load_form_file(path, skip_unsupported=True, skipped=skipped)
    assert [("a", ("x",)), ("c", ())] == [(q.key, tuple(c.value for c in q.choices)) for q in form.sections[0].questions]
    assert ["trang tính choices, dòng 3, cột name: giá trị 'x' lặp lại trong danh sách 'g' (mỗi lựa chọn một giá "
            "trị riêng)",
            "trang tính survey, dòng 3, cột choice_filter: danh sách lựa chọn 'h' không có lựa chọn nào có giá trị ở "
            "cột nhom mà choice_filter dùng"] == skipped
    assert ["g"] == list(raw["choice_lists"])


# --- i24-fix: what real forms do that was refused ---


def test_read_xlsform__notes_read_hidden_field_and_nameless_group__loaded_and_asked(tmp_path):
    path = workbook(tmp_path, [
        ["type", "name", "label", "calculation"],
        ["begin_group", "g", "Nhóm 1", ""], ["note", "gioi_thieu", "Giới thiệu nhóm", ""],
        ["integer", "so", "Số cán bộ", ""], ["note", "nhac", "Nhắc: ${so} người", ""],
        ["calculate", "tong", "", "${so} * 2 + string-length(${nhac}) + string-length(${gioi_thieu})"],
        ["hidden", "an", "", ""], ["end_group", "", "", ""],
        ["begin_group", "", "Nhóm không tên", ""], ["text", "ten", "Tên người lập", ""], ["end_group", "", "", ""]])
    form, raw = load_form_file(path)
    qs = questions_of(raw)
    assert "${so} * 2 + string-length('') + string-length('')" == qs["tong"]["calculation"]
    assert ("calculate", "''") == (qs["an"]["type"], qs["an"]["calculation"])
    assert ["g", "group_row_9"] == [s["key"] for s in raw["sections"]]
    state, reply = run(form, "4")
    assert "Tên người lập" in reply.text
    assert {"g.so": 4, "g.tong": 8} == state.answers  # the notes read as empty, the hidden field stays empty


def test_load_form_file__skip_unsupported__calculation_and_constraint_naming_what_was_left_out(tmp_path):
    path = workbook(tmp_path, [
        ["type", "name", "label", "calculation", "constraint"],
        ["calculate", "qua", "", "pulldata('fruits', 'name', 'name', 'mango')", ""],
        ["barcode", "ma", "Mã vạch", "", ""],
        ["party like it's 19999", "", "", "", ""],
        ["text", "ten", "Tên", "", ". != ${ma}"],
        ["calculate", "goi", "", "concat(${ten}, '/', ${qua}, '/', ${ma})", ""]])
    skipped: list[str] = []
    form, raw = load_form_file(path, skip_unsupported=True, skipped=skipped)
    assert ["ten", "goi"] == [q.key for q in form.sections[0].questions]
    assert ["trang tính survey, dòng 2, cột calculation: biểu thức chưa được hỗ trợ: hàm pulldata() chưa được hỗ "
            "trợ (có: " + ", ".join(f + "()" for f in FUNCTIONS) + ")",
            "trang tính survey, dòng 3, cột type: kiểu 'barcode' " + NOT_IN_CHAT,
            "trang tính survey, dòng 4, cột type: kiểu 'party like it's 19999' " + NOT_IN_CHAT,
            "trang tính survey, dòng 5, cột name: câu 'ten' không còn kiểm tra điều kiện (constraint) vì nó dùng câu "
            "'ma' đã bị bỏ qua",
            "trang tính survey, dòng 6, cột name: câu 'goi' tính với câu 'ma' đã bị bỏ qua coi như để trống"] == skipped
    state, reply = run(form, "Lan")
    assert {"form.ten": "Lan", "form.goi": "Lan//"} == state.answers


def test_read_xlsform__nothing_to_ask__refused_in_one_line(tmp_path):
    path = workbook(tmp_path, [["type", "name", "label", "calculation"], ["start", "bat_dau", "", ""],
                               ["calculate", "c", "", "1 + 1"], ["note", "n", "Chỉ một ghi chú", ""]])
    with pytest.raises(FormError) as caught:
        read_xlsform(path)
    assert f"{path}: trang tính survey, dòng 1, cột type: biểu mẫu không có câu hỏi nào" == str(caught.value)


def test_load_form_file__skip_unsupported__repeat_count_naming_what_was_left_out__open_list(tmp_path):
    path = workbook(tmp_path, [
        ["type", "name", "label", "repeat_count"], ["barcode", "ma", "Mã vạch", ""], ["text", "a", "A", ""],
        ["begin_repeat", "ds", "Cán bộ", "${ma}"], ["text", "ten", "Tên", ""], ["end_repeat", "", "", ""]])
    skipped: list[str] = []
    form, raw = load_form_file(path, skip_unsupported=True, skipped=skipped)
    assert {"min": 0, "max": None, "item": "cán bộ"} == raw["sections"][1]["repeat"]
    assert ("trang tính survey, dòng 4, cột name: nhóm lặp 'ds' hỏi “thêm … nữa không?” thay cho số lượng "
            "(repeat_count) vì số lượng dùng câu 'ma' đã bị bỏ qua") == skipped[-1]
    assert form.sections[1].repeat.open
    state, reply = run(form, "Trả lời A")
    assert "Có cán bộ nào không?" in reply.text


def test_load_form_file__skip_unsupported__note_saying_what_was_left_out__says_nothing_there(tmp_path):
    path = workbook(tmp_path, [["type", "name", "label"], ["barcode", "ma", "Mã"], ["text", "a", "Tên đơn vị"],
                               ["note", "n", "Mã: ${ma}. Đơn vị: ${a}."], ["text", "b", "Địa chỉ"]])
    form, raw = load_form_file(path, skip_unsupported=True, skipped=[])
    state, reply = run(form, "Sở Tư pháp")
    assert "Mã: . Đơn vị: Sở Tư pháp.\nĐịa chỉ" in reply.text


def test_load_form_file__skip_unsupported__list_whose_questions_all_depend_on_what_was_left_out__never_asked(tmp_path):
    path = workbook(tmp_path, [
        ["type", "name", "label", "relevant", "calculation"], ["barcode", "ma", "Mã", "", ""],
        ["text", "a", "A", "", ""], ["begin_repeat", "ds", "Cán bộ", "", ""],
        ["text", "ten", "Tên", "${ma} != ''", ""], ["calculate", "dem", "", "", "1"], ["end_repeat", "", "", "", ""],
        ["calculate", "so", "", "", "count(${dem}) + string-length(${ten})"], ["text", "b", "B", "", ""]])
    skipped: list[str] = []
    form, raw = load_form_file(path, skip_unsupported=True, skipped=skipped)
    assert [("form", ["a"]), ("form_2", ["so", "b"])] == [(s.key, [q.key for q in s.questions]) for s in form.sections]
    assert ("trang tính survey, dòng 5, cột name: câu 'ten' sẽ không được hỏi vì điều kiện hỏi (relevant) dùng câu "
            "'ma' đã bị bỏ qua") == skipped[-1]
    state, reply = run(form, "Trả lời A")
    assert "B\n" in reply.text and "Cán bộ" not in reply.text
    assert {"form.a": "Trả lời A", "form_2.so": 0} == state.answers


def test_load_form_file__skip_unsupported__condition_naming_a_question_never_asked__reads_it_as_empty(tmp_path):
    path = workbook(tmp_path, [
        ["type", "name", "label", "relevant"], ["barcode", "ma", "Mã", ""], ["text", "a", "A", "${ma} = 'x'"],
        ["text", "b", "B", "${a} = 'y'"], ["text", "c", "C", "string-length(${a}) = 0"], ["text", "d", "D", ""]])
    skipped: list[str] = []
    form, raw = load_form_file(path, skip_unsupported=True, skipped=skipped)
    assert ["c", "d"] == [q.key for q in form.sections[0].questions]  # b's condition never holds on no answer
    assert ["trang tính survey, dòng 3, cột name: câu 'a' sẽ không được hỏi vì điều kiện hỏi (relevant) dùng câu "
            "'ma' đã bị bỏ qua",
            "trang tính survey, dòng 4, cột name: câu 'b' sẽ không được hỏi vì điều kiện hỏi (relevant) dùng câu "
            "'a' đã bị bỏ qua"] == skipped[1:]
    state, reply = run(form, "Trả lời C")  # a was never asked: empty, as ODK reads a question not relevant
    assert {"form.c": "Trả lời C"} == state.answers
    assert "D\n" in reply.text


def test_load_form_file__skip_unsupported__list_left_with_only_a_calculation__goes_and_the_rest_loads(tmp_path):
    path = workbook(tmp_path, [
        ["type", "name", "label", "calculation"], ["text", "a", "A", ""], ["begin_repeat", "ds", "Mẫu", ""],
        ["barcode", "ma", "Mã", ""], ["calculate", "c", "", "1"], ["end_repeat", "", "", ""]])
    skipped: list[str] = []
    form, raw = load_form_file(path, skip_unsupported=True, skipped=skipped)
    assert [("form", ["a"])] == [(s.key, [q.key for q in s.questions]) for s in form.sections]
    assert ["trang tính survey, dòng 4, cột type: kiểu 'barcode' " + NOT_IN_CHAT] == skipped


@pytest.mark.parametrize("source", ["${} > 1", "regex(., 3)", "regex(., '(a')", "jr:choice-name(., 'x')", True,
                                    "uuid()", "1 <", "1 < 2 < 3", "(1", "", "round(1, 2, 3)", "concat()", "not()", "1 )"])
def test_expression__every_refusal__said_in_vietnamese(source):
    """What the evaluator refuses reaches the form's author in Vietnamese: each message of conversations/xpath.py
    has its text in texts.XLSFORM_EXPRESSION_PROBLEMS (issue 23 left five in English)."""
    with pytest.raises(XPathError) as caught:
        parse_expression(source)
    said = in_vietnamese(str(caught.value), texts.XLSFORM_EXPRESSION_PROBLEMS)
    assert said != str(caught.value)
    assert not re.search(r"\b(expected|unexpected|needs|argument|pattern|valid|empty|must|supported)\b", said), said
