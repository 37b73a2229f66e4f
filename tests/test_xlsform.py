"""Forms authored as XLSForm: the XPath subset, the new form vocabulary, the .xlsx import and its errors, the
shipped workbooks, and the engine on decimals, several choices, constraints and relevant."""

import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import yaml

from conversations import texts
from conversations.answers import LOCAL_TZ, format_value, is_relevant, scope
from conversations.engine import (
    IN_PROGRESS, ReportInfo, Start, State, Text, parse_decimal, parse_multi_choice, step,
)
from conversations.form import FORMS_DIR, FormError, load_form, parse_form
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
         "sections[0] (s).questions[1] (b).relevant: a question has ask_if or relevant, not both"),
        ({"relevant": "uuid() > 1"}, "sections[0] (s).questions[1] (b).relevant: function uuid() is not "
                                     "supported (supported: " + ", ".join(f + "()" for f in FUNCTIONS) + ")"),
        ({"relevant": "${z} > 0"}, "sections[0] (s).questions[1] (b).relevant: 'z' is not an earlier question "
                                   "of the form"),
        ({"calculation": "1"}, "sections[0] (s).questions[1] (b).calculation: only a question of type calculate "
                               "has a calculation"),
        ({"relevant": ". > 0"}, "sections[0] (s).questions[1] (b).relevant: '.' (this answer) has no meaning "
                                "in relevant"),
        ({"constraint_message": "x"}, "sections[0] (s).questions[1] (b).constraint_message: there is no constraint"),
        ({"badge": True}, "sections[0] (s).questions[1] (b).badge: only a photo question can be a badge photo"),
        ({"badge": "yes"}, "sections[0] (s).questions[1] (b).badge: must be true or false"),
        ({"hint": ""}, "sections[0] (s).questions[1] (b).hint: missing or empty text"),
        ({"type": "multi_choice"}, "sections[0] (s).questions[1] (b).choices: must be a non-empty list of choices"),
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

BROKEN = [
    ([HEAD, ["geopoint", "where", "Nơi", "yes"]], "sheet survey, row 2: type 'geopoint' is not supported"),
    ([HEAD, ["begin_group", "g", "G", ""], ["calculate", "c", "C", ""], ["end_group", "", "", ""]],
     "sheet survey, row 3: type 'calculate' is not supported"),
    ([HEAD, ["begin_group", "g", "G", ""], ["text", "a", "A", "yes"]],
     "sheet survey, row 2: begin_group 'g' has no end_group"),
    ([HEAD, ["text", "a", "A", "yes"], ["end_group", "", "", ""]], "sheet survey, row 3: end_group without a begin_group"),
    ([HEAD + ["repeat_count"], ["begin_repeat", "r", "R", "", 2], ["begin_repeat", "q", "Q", "", 2]],
     "sheet survey, row 3: a nested repeat is not supported (groups and repeats do not nest)"),
    ([HEAD, ["begin_group", "g", "G", ""], ["begin_group", "h", "H", ""]],
     "sheet survey, row 3: a nested group is not supported (groups and repeats do not nest)"),
    ([HEAD + ["repeat_count"], ["begin_repeat", "r", "R", "", 2], ["text", "a", "A", "yes", ""],
      ["end_group", "", "", "", ""]],
     "sheet survey, row 4: end_group closes the begin_repeat of row 2"),
    ([HEAD, ["begin_group", "g", "G", ""], ["text", "a", "A", "yes"], ["note", "n", "N", ""],
      ["end_group", "", "", ""]],
     "sheet survey, row 4: notes are only supported at the start of a group (its introduction)"),
    ([HEAD, ["text", "Ho_Ten", "A", "yes"]],
     "sheet survey, row 2: name 'Ho_Ten' is not a valid key (lowercase letters, digits, _; at most 40)"),
    ([HEAD, ["text", "a", "A", "maybe"]], "sheet survey, row 2: required 'maybe' is not yes or no"),
    ([HEAD + ["relevant"], ["integer", "a", "A", "yes", ""], ["text", "b", "B", "yes", "uuid() > ${a}"]],
     "sheet survey, row 3: relevant: function uuid() is not supported (supported: "
     + ", ".join(f + "()" for f in FUNCTIONS) + ")"),
    ([HEAD + ["constraint"], ["integer", "a", "A", "yes", ". +"]],
     "sheet survey, row 2: constraint: '. +' ends too early"),
    ([HEAD + ["default"], ["integer", "a", "A", "yes", "3"]], "sheet survey, row 2: column 'default' is not supported"),
    ([HEAD + ["appearance"], ["text", "a", "A", "yes", "w3"]],
     "sheet survey, row 2: appearance 'w3' is not supported on text (supported: multiline, numbers)"),
    ([HEAD, ["select_one nope", "a", "A", "yes"]], "sheet survey, row 2: choice list 'nope' is not in sheet choices"),
    ([HEAD + ["choice_filter"], ["select_one g", "a", "A", "yes", ""], ["select_one g", "b", "B", "yes", "a > 2"]],
     "sheet survey, row 3: choice_filter 'a > 2' is not supported (supported: column=${field})"),
    ([HEAD + ["repeat_count"], ["begin_repeat", "r", "R", "", "${n}"], ["text", "a", "A", "yes", ""],
      ["end_repeat", "", "", "", ""]],
     "sheet survey, row 2: repeat_count '${n}' must be a whole number (an expression is not supported)"),
    ([HEAD, ["begin_repeat", "r", "R", ""], ["text", "a", "A", "yes"], ["end_repeat", "", "", ""]],
     "sheet survey, row 2: a repeat needs repeat_count or hcc::max"),
    ([HEAD + ["hcc::colour"], ["text", "a", "A", "yes", "red"]], "sheet survey, row 2: column 'hcc::colour' is not supported"),
    ([HEAD, ["note", "n", "N", ""], ["text", "a", "A", "yes"]],
     "sheet survey, row 2: notes are only supported at the start of a group (its introduction)"),
]


@pytest.mark.parametrize(("survey", "error"), BROKEN)
def test_read_xlsform__cannot_honour__one_line_error(tmp_path, survey, error):
    path = workbook(tmp_path, survey, [["list_name", "name", "label"], ["g", "x", "X"]])
    with pytest.raises(FormError) as caught:
        read_xlsform(path)
    assert f"{path}: {error}" == str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "error"),
    [(None, "sheet settings: missing (it needs form_title and form_id)"),
     ([["form_title"], ["T"]], "sheet settings, row 2: form_id is missing"),
     ([["form_id", "submission_url"], ["x", "http://x"]], "sheet settings, row 2: column 'submission_url' is not supported")],
)
def test_read_xlsform__settings_broken__one_line_error(tmp_path, settings, error):
    path = workbook(tmp_path, [HEAD, ["text", "a", "A", "yes"]], settings=settings)
    with pytest.raises(FormError) as caught:
        read_xlsform(path)
    assert f"{path}: {error}" == str(caught.value)


def test_load_form_file__not_a_workbook__one_line_error(tmp_path):
    path = tmp_path / "form.xlsx"
    path.write_text("not a zip")
    with pytest.raises(FormError) as caught:
        load_form_file(path)
    assert f"{path}: not a readable .xlsx workbook (open it in Excel or LibreOffice and save it as .xlsx)" == \
        str(caught.value)
    with pytest.raises(FormError) as caught:
        load_form_file(tmp_path / "form.csv")
    assert f"{tmp_path / 'form.csv'}: a form is a .yaml, .yml or .xlsx file" == str(caught.value)


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
         "sheet survey, row 3: hcc::not_above: compares two integer questions"),
        ([HEAD + ["relevant"], ["text", "a", "A", "yes", "${b} = 'x'"], ["text", "b", "B", "yes", ""]],
         "sheet survey, row 2: relevant: 'b' is not an earlier question of the form"),
        ([HEAD + ["hcc::compact"], ["begin_group", "g", "G", "", "a, z"], ["text", "a", "A", "yes", ""],
          ["text", "b", "B", "yes", ""], ["end_group", "", "", "", ""]],
         "sheet survey, row 2: hcc::compact: must list question keys of this section (known: a, b)"),
        ([HEAD, ["text", "a", "A", "yes"], ["text", "a", "A2", "yes"]],
         "sheet survey, row 3: duplicate key 'a'"),
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
    assert f"{path}: not a readable .xlsx workbook (open it in Excel or LibreOffice and save it as .xlsx)" == \
        str(caught.value)
