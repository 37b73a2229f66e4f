"""Reading one item of a list from outside it (indexed-repeat(), as the UNHCR household forms name each member),
dates written with format-date(), and with --skip-unsupported a name that is no row of the form (HOT's form
fragments meant to be included in another): issue 24."""

from __future__ import annotations

import pytest

from bot.form_files import load_form_file
from conversations import texts
from conversations.form import FormError
from tests.test_form_expressions import Chat
from tests.test_xlsform_cascade import book

SURVEY = [["type", "name", "label", "calculation", "repeat_count"],
          ["integer", "so_nguoi", "Số người trong hộ?", "", ""],
          ["begin_repeat", "nguoi", "Thành viên", "", "${so_nguoi}"],
          ["text", "ten", "Họ tên?", "", ""],
          ["date", "ngay_sinh", "Ngày sinh?", "", ""],
          ["end_repeat", "", "", "", ""],
          ["calculate", "chu_ho", "", "indexed-repeat(${ten}, ${nguoi}, 1)", ""],
          ["calculate", "nguoi_thu_hai", "", "indexed-repeat(${ten}, ${nguoi}, 2)", ""],
          ["calculate", "sinh_chu_ho", "", "format-date(indexed-repeat(${ngay_sinh}, ${nguoi}, 1), '%d/%m/%Y')", ""],
          ["note", "xac_nhan", "Chủ hộ: ${chu_ho}, sinh ${sinh_chu_ho}.", "", ""],
          ["text", "ghi_chu", "Ghi chú?", "", ""]]


@pytest.fixture()
def household(tmp_path):
    return load_form_file(book(tmp_path, {"survey": SURVEY}))[0]


def test_indexed_repeat__the_first_and_second_member_named_after_the_list(household):
    chat = Chat(household)
    chat.send("/start")
    chat.send("2")
    chat.send("Nguyễn Văn An")
    chat.send("12/05/1970")
    chat.send("Trần Thị Bình")
    said = chat.send("01/02/1975")
    assert "Chủ hộ: Nguyễn Văn An, sinh 12/05/1970." in said and "Ghi chú?" in said
    answers = chat.answers
    assert ("Nguyễn Văn An", "Trần Thị Bình", "12/05/1970") == (
        answers["form_2.chu_ho"], answers["form_2.nguoi_thu_hai"], answers["form_2.sinh_chu_ho"])


def test_indexed_repeat__a_position_with_no_item__empty(household):
    chat = Chat(household)
    for said in ("/start", "1", "Nguyễn Văn An", "12/05/1970"):
        chat.send(said)
    assert "Nguyễn Văn An" == chat.answers["form_2.chu_ho"]
    assert chat.answers.get("form_2.nguoi_thu_hai") is None


def test_indexed_repeat__a_question_of_its_own_list__refused_naming_the_row(tmp_path):
    survey = [row[:] for row in SURVEY]
    survey.insert(5, ["calculate", "truoc", "", "indexed-repeat(${ten}, ${nguoi}, 1)", ""])  # inside the list
    path = book(tmp_path, {"survey": survey})
    with pytest.raises(FormError) as caught:
        load_form_file(path)
    assert str(caught.value) == (f"{path}: trang tính survey, dòng 6, cột calculation: indexed-repeat() chỉ đọc một "
                                 "câu hỏi của nhóm lặp từ bên ngoài nhóm lặp đó")


def test_skip_unsupported__a_name_that_is_no_row__read_as_left_out_and_said(tmp_path):
    """HOT's digitisation fragment: its relevant names a question of the form it is included in."""
    survey = [["type", "name", "label", "relevant"], ["text", "ten", "Tên công trình?", ""],
              ["select_one yn", "dung", "Thông tin đúng?", "${building_exists} = 'yes'"],
              ["text", "ghi_chu", "Ghi chú?", ""]]
    path = book(tmp_path, {"survey": survey, "choices": [["list_name", "name", "label"], ["yn", "yes", "Có"],
                                                         ["yn", "no", "Không"]]})
    with pytest.raises(FormError) as caught:
        load_form_file(path)
    assert "'building_exists' không phải tên một câu hỏi của biểu mẫu" in str(caught.value)
    skipped: list[str] = []
    form, _ = load_form_file(path, skip_unsupported=True, skipped=skipped)
    assert ["ten", "ghi_chu"] == [q.key for q in form.sections[0].questions]
    assert [f"trang tính survey, dòng 3, cột name: {texts.XLSFORM_NAME_UNKNOWN.format(name='building_exists')}",
            "trang tính survey, dòng 3, cột name: "
            + texts.XLSFORM_RELEVANT_SKIPPED.format(key="dung", other="building_exists")] == skipped
