"""Cascading selects as XLSForm authors write them (issue 24): a choice_filter of several conditions joined by
`and`, a list that names a choice again under another filter, and select_one_external, whose list is on the
workbook's external_choices sheet. The workbook below is the shape of the cascading-select example of the XLSForm
documentation and of ODK's xlsform-offline test (state → county → city, a county name in two states)."""

from __future__ import annotations

import openpyxl
import pytest

from bot.form_files import load_form_file
from conversations import texts
from conversations.form import FormError, load_form
from tests.test_form_expressions import Chat

SURVEY = [["type", "name", "label::English (en)", "label::Tiếng Việt (vi)", "choice_filter"],
          ["select_one states", "state", "State", "Bang", ""],
          ["select_one counties", "county", "County", "Hạt", "state=${state}"],
          ["select_one cities", "city", "City", "Thành phố", "state=${state} and county=${county}"],
          ["text", "note", "Anything else?", "Ghi chú thêm?", ""]]
CHOICES = [["list_name", "name", "label::English (en)", "label::Tiếng Việt (vi)", "state", "county"],
           ["states", "texas", "Texas", "Texas", "", ""],
           ["states", "washington", "Washington", "Washington", "", ""],
           ["counties", "king", "King", "Hạt King", "washington", ""],
           ["counties", "pierce", "Pierce", "Hạt Pierce", "washington", ""],
           ["counties", "king", "King", "Hạt King", "texas", ""],
           ["counties", "cameron", "Cameron", "Hạt Cameron", "texas", ""],
           ["cities", "dumont", "Dumont", "Dumont", "texas", "king"],
           ["cities", "finney", "Finney", "Finney", "texas", "king"],
           ["cities", "brownsville", "Brownsville", "Brownsville", "texas", "cameron"],
           ["cities", "seattle", "Seattle", "Seattle", "washington", "king"],
           ["cities", "tacoma", "Tacoma", "Tacoma", "washington", "pierce"]]
SETTINGS = [["form_title", "form_id", "allow_choice_duplicates"], ["Cascading select test", "cascading", "yes"]]


def book(tmp_path, sheets: dict[str, list[list[str]]]):
    path = tmp_path / "cascade.xlsx"
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


@pytest.fixture()
def cascade(tmp_path):
    return load_form_file(book(tmp_path, {"survey": SURVEY, "choices": CHOICES, "settings": SETTINGS}))[0]


def test_cascade__two_conditions__the_cities_of_the_county_of_that_state_offered(cascade):
    chat = Chat(cascade)
    assert "Bang\n" in chat.send("/start")
    counties = chat.send("Texas")
    assert "Hạt King" in counties and "Hạt Cameron" in counties and "Pierce" not in counties
    cities = chat.send("Hạt King")  # King of Texas, not the King of Washington
    assert "Dumont" in cities and "Finney" in cities and "Seattle" not in cities and "Brownsville" not in cities
    assert "Ghi chú thêm?" in chat.send("2")
    assert ("texas", "king", "finney") == tuple(chat.answers[f"{s}"] for s in (
        f"{cascade.sections[0].key}.state", f"{cascade.sections[0].key}.county", f"{cascade.sections[0].key}.city"))


def test_cascade__a_city_of_another_county__refused_and_nothing_stored(cascade):
    chat = Chat(cascade)
    chat.send("/start")
    chat.send("Washington")
    chat.send("Hạt Pierce")
    before = dict(chat.answers)
    said = chat.send("Seattle")  # a city of King county, Washington: not offered after Pierce
    assert "Tacoma" in said and before == chat.answers


def test_cascade__the_state_changed__county_and_city_dropped_and_asked_again(cascade):
    """Pierce is no county of Texas: it goes, and the city with it (a county named in both states would stay, as
    in ODK: the same value is still offered)."""
    chat = Chat(cascade)
    section = cascade.sections[0].key
    for said in ("/start", "Washington", "Hạt Pierce", "Tacoma", "không"):
        chat.send(said)
    assert "washington" == chat.answers[f"{section}.state"] and f"{section}.city" in chat.answers
    assert "1 – Bang: Washington" in chat.send("sửa 1")
    chat.send("1")
    asked = chat.send("Texas")
    assert "texas" == chat.answers[f"{section}.state"]
    assert f"{section}.county" not in chat.answers and f"{section}.city" not in chat.answers
    assert "Hạt\n" in asked and "Hạt Cameron" in asked and "Pierce" not in asked


def test_select_one_external__list_from_the_external_choices_sheet__asked_in_the_chat(tmp_path):
    survey = [["type", "name", "label", "choice_filter"], ["select_one states", "state", "Bang", ""],
              ["select_one_external counties", "county", "Hạt", "state=${state}"],
              ["select_one_external cities", "city", "Thành phố", "state=${state} and county=${county}"]]
    choices = [["list_name", "name", "label"], ["states", "texas", "Texas"], ["states", "washington", "Washington"]]
    external = [["list_name", "name", "label", "state", "county"],
                ["counties", "king", "King", "washington", ""], ["counties", "pierce", "Pierce", "washington", ""],
                ["counties", "king", "King", "texas", ""], ["counties", "cameron", "Cameron", "texas", ""],
                ["cities", "dumont", "Dumont", "texas", "king"], ["cities", "tacoma", "Tacoma", "washington", "pierce"]]
    form = load_form_file(book(tmp_path, {"survey": survey, "choices": choices, "external_choices": external,
                                          "settings": SETTINGS}))[0]
    chat = Chat(form)
    chat.send("/start")
    assert "Pierce" in chat.send("Washington")
    assert "Tacoma" in chat.send("Pierce")
    chat.send("Tacoma")
    section = form.sections[0].key
    stored = tuple(chat.answers[f"{section}.{k}"] for k in ("state", "county", "city"))
    assert ("washington", "pierce", "tacoma") == stored


def test_select_one_external__no_such_list__one_line_naming_the_row(tmp_path):
    survey = [["type", "name", "label"], ["select_one_external counties", "county", "Hạt"]]
    path = book(tmp_path, {"survey": survey, "external_choices": [["list_name", "name", "label"], ["x", "a", "A"]]})
    with pytest.raises(FormError) as caught:
        load_form_file(path)
    assert str(caught.value) == (f"{path}: trang tính survey, dòng 2, cột type: "
                                 + texts.XLSFORM_EXTERNAL_MISSING.format(list="counties"))


def test_cascade__filter_values_that_are_no_choice__refused_or_left_out_with_a_line(tmp_path):
    """pyxform's case-insensitivity test: the external list is filtered by 'yes', which the question it names
    never answers. As it is: refused, naming the row; with --skip-unsupported: those choices are left out (ODK
    would never show them) and the question with nothing left to offer goes, each said."""
    survey = [["type", "name", "label", "choice_filter"], ["select_one c1", "q1", "Are you good?", ""],
              ["select_one_external c1", "q2", "Where are you?", "yes_no=${q1}"], ["text", "q3", "More?", ""]]
    choices = [["list_name", "name", "label"], ["c1", "n1-c", "l1-c"], ["c1", "n2-c", "l2-c"]]
    external = [["list_name", "name", "label", "yes_no"], ["c1", "n1-e", "l1-e", "yes"], ["c1", "n2-e", "l2-e", "yes"]]
    path = book(tmp_path, {"survey": survey, "choices": choices, "external_choices": external})
    with pytest.raises(FormError) as caught:
        load_form_file(path)
    assert "trang tính survey, dòng 3" in str(caught.value) and "'yes'" in str(caught.value)
    skipped: list[str] = []
    form, _ = load_form_file(path, skip_unsupported=True, skipped=skipped)
    assert ["q1", "q3"] == [q.key for q in form.sections[0].questions]
    assert [f"trang tính survey, dòng 3, cột choice_filter: "
            + texts.XLSFORM_FILTER_NEVER.format(count=2, list="c1 (external_choices)"),
            "trang tính survey, dòng 3, cột choice_filter: "
            + texts.XLSFORM_LIST_EMPTY.format(list="c1 (external_choices)", column="yes_no")] == skipped


def test_web_page__either_answer_of_a_cascade_saved__the_page_reloads_with_the_cities_it_leaves(cascade):
    """On the report's web page a saved answer that filters another question's choices reloads the page (its
    options are drawn by the server): the county filters the cities as much as the state does."""
    from bot.webform.page import live
    from conversations import fields

    section = cascade.sections[0].key
    answers = {f"{section}.state": "texas", f"{section}.county": "king"}
    assert live(cascade, answers, {"county": fields.field_path(section, None, "county")})["reload"]
    assert live(cascade, answers, {"state": fields.field_path(section, None, "state")})["reload"]
    assert not live(cascade, answers, {"note": fields.field_path(section, None, "note")})["reload"]


def test_cascade__a_county_with_no_city_in_the_list__the_city_not_asked_even_required(tmp_path):
    survey = [row[:] for row in SURVEY]
    survey[0] = [*survey[0], "required"]
    survey[1:] = [[*row, "yes"] for row in survey[1:]]
    choices = [*CHOICES, ["counties", "loving", "Loving", "Hạt Loving", "texas", ""]]
    form = load_form_file(book(tmp_path, {"survey": survey, "choices": choices, "settings": SETTINGS}))[0]
    chat = Chat(form)
    chat.send("/start")
    chat.send("Texas")
    said = chat.send("Hạt Loving")  # no city of Loving county in the list: nothing to choose, so not asked
    assert "Ghi chú thêm?" in said and "Thành phố" not in said
    chat.send("Không có gì thêm")
    review = chat.send("xem lại")
    assert "Báo cáo đã đủ thông tin bắt buộc." in review and "CÒN THIẾU" not in review
    assert f"{form.sections[0].key}.city" not in chat.answers


def test_cascade__conditions_named_in_another_order__the_same_filter(tmp_path):
    survey = [*SURVEY, ["select_one cities", "city_2", "City again", "Thành phố khác",
                        "county=${county} and state=${state}"]]
    form = load_form_file(book(tmp_path, {"survey": survey, "choices": CHOICES, "settings": SETTINGS}))[0]
    section = form.sections[0]
    assert section.question("city").filter_by == section.question("city_2").filter_by == ("county", "state")


def test_choice_filter__and_inside_a_quoted_value__one_condition(tmp_path):
    survey = [["type", "name", "label", "choice_filter"], ["select_one g", "a", "A", "kind = 'rock and roll'"]]
    choices = [["list_name", "name", "label", "kind"], ["g", "x", "X", "rock and roll"], ["g", "y", "Y", "jazz"]]
    form = load_form_file(book(tmp_path, {"survey": survey, "choices": choices}))[0]
    assert ["x"] == [c.value for c in form.sections[0].questions[0].choices]


def test_cascade__the_list_also_offered_whole__each_county_once_or_refused_without_duplicates_allowed(tmp_path):
    survey = [*SURVEY, ["select_one counties", "any_county", "Any county", "Hạt bất kỳ", ""]]
    form = load_form_file(book(tmp_path, {"survey": survey, "choices": CHOICES, "settings": SETTINGS}))[0]
    whole = form.sections[0].question("any_county")
    assert ["king", "pierce", "cameron"] == [c.value for c in whole.options({})]
    strict = [SETTINGS[0][:2], SETTINGS[1][:2]]  # no allow_choice_duplicates: pyxform refuses the list
    path = book(tmp_path, {"survey": survey, "choices": CHOICES, "settings": strict})
    with pytest.raises(FormError) as caught:
        load_form_file(path)
    assert str(caught.value).startswith(f"{path}: trang tính survey, dòng 6, cột type: giá trị 'king' lặp lại")


YAML_CASCADE = """\
id: c
title: C
choice_lists:
  states: [{value: tx, label: Texas}, {value: wa, label: Washington}]
sections:
  - key: s
    title: S
    questions:
      - {key: state, label: Bang, prompt: "Bang?", type: choice, choices: states}
      - key: county
        label: Hạt
        prompt: "Hạt?"
        type: choice
        filter_by: [state]
        choices: [{value: king, label: King, when: [wa]}, {value: king, label: King, when: [tx]},
                  {value: cameron, label: Cameron, when: [tx]}]
      - key: city
        label: Thành phố
        prompt: "Thành phố?"
        type: choice
        filter_by: [state, county]
        choices: [{value: dumont, label: Dumont, when: [tx, king]}, {value: seattle, label: Seattle, when: [wa, king]}]
"""


def test_yaml_cascade__filter_by_a_list__offered_as_the_xlsform_one(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(YAML_CASCADE, encoding="utf-8")
    chat = Chat(load_form(path))
    chat.send("/start")
    assert "Cameron" in chat.send("Texas")
    cities = chat.send("King")
    assert "Dumont" in cities and "Seattle" not in cities


def test_yaml__a_value_twice_without_a_filter__refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(YAML_CASCADE.replace("        filter_by: [state]\n", ""), encoding="utf-8")
    with pytest.raises(FormError) as caught:
        load_form(path)
    assert str(caught.value) == f"{path}: sections[0] (s).questions[1] (county).choices: {texts.FORM_ERR_CHOICE_TWICE}"


# --- any other choice_filter: an expression of earlier answers and the choice's columns ---

FRUITS = [["type", "name", "label", "choice_filter"],
          ["select_multiple fruit", "thich", "Những loại quả bạn thích?", ""],
          ["select_one fruit", "nhat", "Thích nhất?", "selected(${thich}, name)"],
          ["integer", "so_nguoi", "Đoàn bao nhiêu người?", ""],
          ["select_one room", "phong", "Phòng họp?", "${so_nguoi} <= suc_chua and ${so_nguoi} >= toi_thieu"]]
FRUIT_CHOICES = [["list_name", "name", "label", "suc_chua", "toi_thieu"],
                 ["fruit", "xoai", "Xoài", "", ""], ["fruit", "chuoi", "Chuối", "", ""], ["fruit", "mit", "Mít", "", ""],
                 ["room", "nho", "Phòng nhỏ", "6", "1"], ["room", "vua", "Phòng vừa", "20", "4"],
                 ["room", "lon", "Hội trường", "200", "15"]]


@pytest.fixture()
def fruits(tmp_path):
    return load_form_file(book(tmp_path, {"survey": FRUITS, "choices": FRUIT_CHOICES}))[0]


def test_choice_filter__selected_earlier__only_those_offered_and_a_change_drops_the_choice(fruits):
    chat = Chat(fruits)
    chat.send("/start")
    asked = chat.send("1, 3")
    assert "Xoài" in asked and "Mít" in asked and "Chuối" not in asked
    assert "Chuối" in chat.send("Chuối")  # not offered: asked again, with the two it offers
    chat.send("Mít")
    section = fruits.sections[0].key
    assert "mit" == chat.answers[f"{section}.nhat"]
    chat.send("sửa 1")
    chat.send("1")
    chat.send("1, 2")  # Mít no longer liked: the favourite goes and is asked again
    assert f"{section}.nhat" not in chat.answers


def test_choice_filter__numbers_of_the_choice_compared_with_an_answer(fruits):
    chat = Chat(fruits)
    for said in ("/start", "1", "Xoài"):
        chat.send(said)
    rooms = chat.send("12")
    assert "Phòng vừa" in rooms and "Phòng nhỏ" not in rooms and "Hội trường" not in rooms


def test_choice_filter__an_answer_of_another_section__refused_or_left_out(tmp_path):
    survey = [["type", "name", "label", "choice_filter"], ["integer", "so_nguoi", "Số người?", ""],
              ["begin_group", "g", "Đặt phòng", ""], ["select_one room", "phong", "Phòng?", "${so_nguoi} <= suc_chua"],
              ["text", "ghi_chu", "Ghi chú?", ""], ["end_group", "", "", ""]]
    path = book(tmp_path, {"survey": survey, "choices": FRUIT_CHOICES})
    with pytest.raises(FormError) as caught:
        load_form_file(path)
    line = "trang tính survey, dòng 4, cột choice_filter: " + texts.XLSFORM_FILTER_OUTSIDE.format(key="so_nguoi")
    assert f"{path}: {line}" == str(caught.value)
    skipped: list[str] = []
    form, _ = load_form_file(path, skip_unsupported=True, skipped=skipped)
    assert [line] == skipped and ["ghi_chu"] == [q.key for q in form.sections[1].questions]


def test_cascade__filtered_by_a_typed_number__the_choices_of_that_number(tmp_path):
    survey = [["type", "name", "label", "choice_filter"], ["integer", "tang", "Tầng mấy?", ""],
              ["select_one phong", "phong", "Phòng nào?", "tang = ${tang}"]]
    choices = [["list_name", "name", "label", "tang"], ["phong", "p101", "Phòng 101", "1"],
               ["phong", "p102", "Phòng 102", "1"], ["phong", "p201", "Phòng 201", "2"]]
    chat = Chat(load_form_file(book(tmp_path, {"survey": survey, "choices": choices}))[0])
    chat.send("/start")
    rooms = chat.send("2")
    assert "Phòng 201" in rooms and "Phòng 101" not in rooms


def test_choice_filter__fixed_values_spelt_alike__each_its_own_list(tmp_path):
    survey = [["type", "name", "label", "choice_filter"], ["select_one xa", "a", "A", "tinh = 'Hà Nội'"],
              ["select_one xa", "b", "B", "tinh = 'Ha Noi'"]]
    choices = [["list_name", "name", "label", "tinh"], ["xa", "x1", "Xã 1", "Hà Nội"], ["xa", "x2", "Xã 2", "Ha Noi"]]
    questions = load_form_file(book(tmp_path, {"survey": survey, "choices": choices}))[0].sections[0].questions
    assert [["x1"], ["x2"]] == [[c.value for c in q.choices] for q in questions]
