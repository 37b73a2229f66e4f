"""The form file: the shipped one loads; a broken one stops with one line naming the file, the field and the problem."""

from pathlib import Path

import pytest

from conversations.form import DEFAULT_FORM, FormError, load_form

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
        pytest.param(("type: integer", "type: number"), "questions[1] (count).type", "unknown type 'number'",
                     id="unknown type"),
        pytest.param(("        label: Số lượng\n", ""), "questions[1] (count).label", "missing or empty text",
                     id="missing label"),
        pytest.param(("key: count", "key: name"), "questions", "duplicate key 'name'", id="duplicate key"),
        pytest.param(("{key: count, gt: 0}", "{key: cuont, gt: 0}"), "questions[2] (partners).ask_if.key",
                     "'cuont' is not an earlier question", id="bad ask_if reference"),
        pytest.param(("{min: 1, max: 3,", "{min: 5, max: 3,"), "(staff).repeat", "0 <= min <= max",
                     id="min above max"),
        pytest.param(("required: false", "requird: false"), "questions[2] (partners).requird", "unknown field",
                     id="misspelt field"),
        pytest.param(("{value: nam, label: Nam}", "{value: " + "nam" * 21 + ", label: Nam}"),
                     "choice_lists.gender[1].value", "longer than 60 bytes", id="choice value too long"),
        pytest.param(("ask_if: {key: count, gt: 0}", "ask_if: {key: count, above: 0}"),
                     "questions[2] (partners).ask_if", "one op of equals, not_equals, gt", id="unknown condition"),
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
    assert problem in message


def test_load_form__not_yaml__names_file_and_line(tmp_path):
    message = error_of(write(tmp_path, "id: x\nsections: [\n  - key: a\n  title: : :\n"))
    assert "\n" not in message
    assert "broken.yaml" in message
    assert " line " in message


def test_load_form__missing_file__names_the_file(tmp_path):
    message = error_of(tmp_path / "absent.yaml")
    assert "absent.yaml" in message
    assert "cannot read" in message


def test_load_form__filter_by_names_an_unknown_when__names_the_choice(tmp_path):
    text = VALID.replace(
        "      - key: count\n",
        "      - key: gender\n        label: Giới tính\n        prompt: \"Giới tính?\"\n        type: choice\n"
        "        choices: gender\n"
        "      - key: size\n        label: Cỡ áo\n        prompt: \"Cỡ áo?\"\n        type: choice\n"
        "        filter_by: gender\n        choices: [{value: '5', label: '5', when: nu}, {value: '40', label: '40', when: men}]\n"
        "      - key: count\n")
    message = error_of(write(tmp_path, text))
    assert "questions[2] (size).choices" in message
    assert "choice '40' has when='men'" in message
