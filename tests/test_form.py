"""The form file: the shipped one loads; a broken one stops with one line naming the file, the field and the problem."""

from pathlib import Path

import pytest

from conversations import texts
from conversations.form import DEFAULT_FORM, QUESTION_FIELDS, QUESTION_TYPES, FormError, load_form

# A small valid form; each broken case below changes one thing in it.
VALID = """\
id: small
title: Báo cáo thử
choice_lists:
  gender:
    - {value: nu, label: Nữ}
    - {value: nam, label: Nam}
sections:
  - key: staff
    title: Nhân sự
    repeat: {min: 1, max: 3, item: nhân sự}
    questions:
      - key: name
        label: Tên
        prompt: "Họ và tên? Ví dụ: Lê Thị Mai."
        type: text
      - key: count
        label: Số lượng
        prompt: "Số lượng? Ví dụ: 3."
        type: integer
      - key: partners
        label: Đơn vị phối hợp
        prompt: "Đơn vị phối hợp? Ví dụ: Sở Nội vụ."
        type: text
        required: false
        ask_if: {key: count, gt: 0}
"""


def write(tmp_path: Path, text: str, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(FormError) as caught:
        load_form(path)
    return str(caught.value)


def test_load_form__shipped_report__loads_every_section_of_the_template():
    form = load_form(DEFAULT_FORM)
    expected = ["reporter", "leader", "main_staff", "backup_staff", "postal_staff", "procedures", "pickup", "plan",
                "issues"]
    assert expected == [s.key for s in form.sections]


def test_load_form__shipped_report__repeat_limits_from_the_issue():
    form = load_form()
    expected = {"leader": (1, 1), "main_staff": (1, 10), "backup_staff": (0, 10), "postal_staff": (1, 3),
                "plan": (1, 20)}
    assert expected == {s.key: (s.repeat.min, s.repeat.max) for s in form.sections if s.repeat}


def test_load_form__shipped_report__every_free_answer_prompt_has_an_example():
    """Text, number, phone and date questions show an example of a good answer."""
    form = load_form()
    without = [f"{s.key}.{q.key}" for s in form.sections for q in s.questions
               if q.type in ("text", "long_text", "integer", "phone", "date") and "Ví dụ" not in q.prompt]
    assert [] == without


def test_load_form__valid_small_form__loads(tmp_path):
    form = load_form(write(tmp_path, VALID))
    assert ["name", "count", "partners"] == [q.key for q in form.section("staff").questions]


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        pytest.param(("type: integer", "type: number"), "questions[1] (count).type",
                     texts.FORM_ERR_TYPE.format(type="number", types=", ".join(QUESTION_TYPES)), id="unknown type"),
        pytest.param(("type: integer", "type: 3"), "questions[1] (count).type",
                     texts.FORM_ERR_TYPE.format(type="3", types=", ".join(QUESTION_TYPES)), id="type not a word"),
        pytest.param(("        type: integer\n", ""), "questions[1] (count).type",
                     texts.FORM_ERR_TYPE_MISSING.format(types=", ".join(QUESTION_TYPES)), id="missing type"),
        pytest.param(("        label: Số lượng\n", ""), "questions[1] (count).label", texts.FORM_ERR_EMPTY_TEXT,
                     id="missing label"),
        pytest.param(("label: Số lượng", "label: 2024"), "questions[1] (count).label", texts.FORM_ERR_NOT_TEXT,
                     id="label a number"),
        pytest.param(("key: count", "key: name"), "questions", texts.FORM_ERR_DUPLICATE_KEY.format(key="name"),
                     id="duplicate key"),
        pytest.param(("key: count", "key: Count"), "questions[1].key", texts.FORM_ERR_KEY.format(key="Count"),
                     id="key not lowercase"),
        pytest.param(("{key: count, gt: 0}", "{key: cuont, gt: 0}"), "questions[2] (partners).ask_if.key",
                     texts.FORM_ERR_NOT_EARLIER.format(name="cuont"), id="bad ask_if reference"),
        pytest.param(("{min: 1, max: 3,", "{min: 5, max: 3,"), "(staff).repeat",
                     texts.FORM_ERR_REPEAT_BOUNDS.format(min=5, max=3), id="min above max"),
        pytest.param(("required: false", "requird: false"), "questions[2] (partners).requird",
                     texts.FORM_ERR_UNKNOWN_FIELD.format(name="requird", allowed=", ".join(QUESTION_FIELDS)),
                     id="misspelt field"),
        pytest.param(("required: false", "required: khong"), "questions[2] (partners).required", texts.FORM_ERR_FLAG,
                     id="flag not true or false"),
        pytest.param(("{value: nam, label: Nam}", "{value: " + "nam" * 21 + ", label: Nam}"),
                     "choice_lists.gender[1].value", texts.FORM_ERR_CHOICE_VALUE_LONG, id="choice value too long"),
        pytest.param(("ask_if: {key: count, gt: 0}", "ask_if: {key: count, above: 0}"),
                     "questions[2] (partners).ask_if", texts.FORM_ERR_ASK_IF.format(ops="equals, not_equals, gt"),
                     id="unknown condition"),
        pytest.param(("id: small\n", ""), "id", texts.FORM_ERR_ID, id="missing id"),
    ],
)
def test_load_form__broken_form__one_line_naming_file_field_and_problem(tmp_path, change, field, problem):
    old, new = change
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new, 1))
    message = error_of(path)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert field in message
    assert message.endswith(f"{field}: {problem}")


@pytest.mark.parametrize(("text", "line", "column", "problem"), [
    pytest.param("id: x\nsections: [\n  - key: a\n  title: : :\n", 3, 3, "gặp '-' ở chỗ cần một giá trị",
                 id="list not closed"),
    pytest.param("id: x\ntitle: Báo cáo: quý 1\n", 2, 15, texts.FORM_ERR_YAML_PROBLEMS[r"mapping values are not "
                                                                                 r"allowed here"], id="colon in text"),
    pytest.param("id: x\n\ttitle: T\n", 2, 1, "có ký tự tab; hãy thụt lề bằng dấu cách", id="tab"),
    pytest.param("id: x\ntitle: 'T\n", 2, 8, "dấu nháy mở ở đây chưa được đóng", id="quote not closed"),
    pytest.param("id: x\ntitle: T\x00\n", 2, 9, "có ký tự điều khiển #x0000; biểu mẫu YAML phải là tệp văn bản",
                 id="control character"),
    pytest.param("id: x\ntitle: T\n---\nid: y\n", 3, 1,
                 "tệp có nhiều tài liệu YAML (dòng ---); một biểu mẫu là một tài liệu", id="two documents"),
    pytest.param("a: !!python/name:os.system x\n", 1, 4, texts.FORM_ERR_YAML_OTHER.format(
        problem="could not determine a constructor for the tag 'tag:yaml.org,2002:python/name:os.system'"),
        id="not one of ours"),
])
def test_load_form__not_yaml__one_vietnamese_line_with_line_and_column(tmp_path, text, line, column, problem):
    path = write(tmp_path, text)
    assert f"{path}: " + texts.FORM_ERR_YAML.format(line=line, column=column, problem=problem) == error_of(path)


def test_load_form__not_utf8_text__names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_bytes(b"id: x\ntitle: B\xe1o c\xe1o\n")  # Latin-1, not UTF-8
    assert f"{path}: " + texts.FORM_ERR_NOT_UTF8.format(line=2) == error_of(path)


def test_load_form__missing_file__names_the_file(tmp_path):
    path = tmp_path / "absent.yaml"
    assert f"{path}: " + texts.FORM_CANNOT_READ.format(reason="No such file or directory") == error_of(path)


def test_load_form__filter_by_names_an_unknown_when__names_the_choice(tmp_path):
    text = VALID.replace(
        "      - key: count\n",
        "      - key: gender\n        label: Giới tính\n        prompt: \"Giới tính?\"\n        type: choice\n"
        "        choices: gender\n"
        "      - key: size\n        label: Cỡ áo\n        prompt: \"Cỡ áo?\"\n        type: choice\n"
        "        filter_by: gender\n        choices: [{value: '5', label: '5', when: nu}, {value: '40', label: '40', when: men}]\n"
        "      - key: count\n")
    message = error_of(write(tmp_path, text))
    assert message.endswith("questions[2] (size).choices: " + texts.FORM_ERR_WHEN_UNKNOWN.format(
        value="40", when="men", key="gender"))
