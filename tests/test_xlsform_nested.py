"""A repeat inside a repeat, as XLSForm authors write it (issue 24): staff of a unit, each with their trainings.

The inner list is a list of its own after the staff list; each training first says whose it is (a choice among
the staff already entered), then its own questions, which may read that person's answers. Asked in the chat,
shown and saved on the web page, kept with its person when the person is renamed or deleted, totalled, and
exported as a sheet with the person's name beside each training."""

from __future__ import annotations

from datetime import datetime

import pytest
from openpyxl import load_workbook

from bot.form_files import load_form_file
from conversations import texts
from conversations.answers import review_section
from conversations.engine import Pick, State, WebDeleteItem, WebSave, web_step
from exports.build import build_export
from exports.data import ExportData, UnitReport
from tests.export_samples import DEADLINE, NOW
from tests.test_form_expressions import Chat
from tests.test_xlsform_cascade import book

SURVEY = [["type", "name", "label", "relevant", "calculation"],
          ["begin_group", "chung", "I. Thông tin chung", "", ""],
          ["text", "don_vi", "Tên đơn vị?", "", ""],
          ["end_group", "", "", "", ""],
          ["begin_repeat", "can_bo", "Cán bộ", "", ""],
          ["text", "ho_ten", "Họ và tên?", "", ""],
          ["select_one cv", "chuc_vu", "Chức vụ?", "", ""],
          ["begin_repeat", "khoa_hoc", "Khóa đào tạo", "", ""],
          ["note", "cua_ai", "Khóa đào tạo của ${ho_ten}.", "", ""],
          ["text", "ten_khoa", "Tên khóa?", "", ""],
          ["integer", "so_ngay", "Số ngày học?", "", ""],
          ["text", "chung_chi", "Số chứng chỉ?", "${chuc_vu} = 'lanh_dao'", ""],
          ["end_repeat", "", "", "", ""],
          ["end_repeat", "", "", "", ""],
          ["calculate", "tong_ngay", "Tổng số ngày đào tạo", "", "sum(${so_ngay})"],
          ["text", "ghi_chu", "Ghi chú?", "", ""]]
CHOICES = [["list_name", "name", "label"], ["cv", "lanh_dao", "Lãnh đạo"], ["cv", "chuyen_vien", "Chuyên viên"]]


@pytest.fixture()
def staff_form(tmp_path):
    return load_form_file(book(tmp_path, {"survey": SURVEY, "choices": CHOICES}))[0]


def two_people(form) -> Chat:
    """A contact who entered the unit and two people (a leader, then a specialist), and closed the list."""
    chat = Chat(form)
    for said in ("/start", "Sở Tư pháp", "có", "Nguyễn Văn An", "1", "có", "Trần Thị Bình", "2"):
        chat.send(said)
    return chat


def key_of(form, section_key: str, question_key: str, item: int | None = None) -> str:
    return f"{section_key}.{question_key}" if item is None else f"{section_key}[{item}].{question_key}"


def test_chat__after_the_staff_each_training_chooses_its_person_then_asks_its_own_questions(staff_form):
    chat = two_people(staff_form)
    said = chat.send("không")  # no more staff: the trainings
    assert "Có khóa đào tạo nào không?" in said
    said = chat.send("có")
    assert "Khóa đào tạo này thuộc cán bộ nào?" in said
    assert "Nguyễn Văn An" in said and "Trần Thị Bình" in said
    said = chat.send("1")
    assert "Khóa đào tạo của Nguyễn Văn An." in said and "Tên khóa?" in said  # the note reads the person's name
    chat.send("Bồi dưỡng kiến thức quản lý nhà nước")
    assert "Số chứng chỉ?" in chat.send("10")  # asked: An is a leader
    assert "Thêm khóa đào tạo nữa không?" in chat.send("CC-2026-015")
    chat.send("có")
    said = chat.send(Pick("2"))  # the button of Trần Thị Bình
    assert "Khóa đào tạo của Trần Thị Bình." in said
    chat.send("Kỹ năng số cơ bản")
    assert "Thêm khóa đào tạo nữa không?" in chat.send("5")  # no certificate asked: Bình is no leader
    assert "Ghi chú?" in chat.send("không")
    trainings = staff_form.sections[2].key
    answers = chat.answers
    link = staff_form.sections[2].questions[0].key
    assert {"item": 1, "name": "Nguyễn Văn An"} == answers[key_of(staff_form, trainings, link, 1)]
    assert {"item": 2, "name": "Trần Thị Bình"} == answers[key_of(staff_form, trainings, link, 2)]
    assert "CC-2026-015" == answers[key_of(staff_form, trainings, "chung_chi", 1)]
    assert key_of(staff_form, trainings, "chung_chi", 2) not in answers
    total = next(k for k in answers if k.endswith(".tong_ngay"))
    assert 15 == answers[total]
    review = review_section(staff_form.sections[2], answers)
    assert "Cán bộ: Nguyễn Văn An" in review and "Cán bộ: Trần Thị Bình" in review


def test_chat__a_person_not_in_the_list__refused_and_nothing_stored(staff_form):
    chat = two_people(staff_form)
    chat.send("không")
    chat.send("có")
    before = dict(chat.answers)
    said = chat.send("5")
    assert texts.CHOICE_NOT_IN_LIST.format(raw="5") in said and "Trần Thị Bình" in said
    assert before == chat.answers
    said = chat.send(Pick("7"))  # a button of a person deleted meanwhile
    assert texts.STALE_BUTTON in said and before == chat.answers


def test_no_staff__no_training_asked(staff_form):
    chat = Chat(staff_form)
    for said in ("/start", "Sở Tư pháp"):
        chat.send(said)
    said = chat.send("không")  # no staff at all
    assert "Ghi chú?" in said and "khóa đào tạo" not in said.lower()


def web(form, chat: Chat, event) -> Chat:
    state, result = web_step(form, chat.state, event, datetime(2026, 12, 7, 9, 0).astimezone())
    assert not result.errors, result.errors
    chat.state = state
    return chat


def colleague(form, chat: Chat, event) -> None:
    """A change another contact of the unit makes on the page: the answers change, this contact's place stays."""
    state, result = web_step(form, chat.state, event, datetime(2026, 12, 7, 9, 0).astimezone())
    assert not result.errors, result.errors
    chat.state = State(answers=state.answers, report=state.report, cursor=chat.state.cursor,
                       contact=chat.state.contact)


def test_person_renamed_on_the_page__the_training_follows__deleted__the_training_goes_and_the_total_too(staff_form):
    chat = two_people(staff_form)
    for said in ("không", "có", "1", "Bồi dưỡng", "10", "CC-1", "có", "2", "Kỹ năng số", "5"):
        chat.send(said)
    people, trainings = staff_form.sections[1].key, staff_form.sections[2].key
    link = staff_form.sections[2].questions[0].key
    web(staff_form, chat, WebSave(((f"{people}[1].ho_ten", "Nguyễn Văn Ân"),)))
    assert "Nguyễn Văn Ân" == chat.answers[f"{trainings}[1].{link}"]["name"]
    assert "Cán bộ: Nguyễn Văn Ân" in review_section(staff_form.sections[2], chat.answers)
    web(staff_form, chat, WebDeleteItem(people, 1))
    assert not any(k.startswith(f"{trainings}[1].") for k in chat.answers)  # the training went with its person
    assert "Trần Thị Bình" == chat.answers[f"{trainings}[2].{link}"]["name"]
    total = next(k for k in chat.answers if k.endswith(".tong_ngay"))
    assert 5 == chat.answers[total]


def test_web_page__the_trainings_choose_their_person_among_the_staff(staff_form):
    from bot.webform.page import build, live
    from conversations import fields

    chat = two_people(staff_form)
    for said in ("không", "có", "2", "Kỹ năng số", "5"):
        chat.send(said)
    page = build(staff_form, chat.answers, chat.state.report, datetime(2026, 12, 7, 9, 0).astimezone())
    trainings = next(s for s in page["sections"] if s["key"] == staff_form.sections[2].key)
    person = trainings["items"][0]["fields"][0]
    assert [("1", "Nguyễn Văn An", False), ("2", "Trần Thị Bình", True)] == \
        [(o["value"], o["label"], o["checked"]) for o in person["options"]]
    people = staff_form.sections[1].key
    assert live(staff_form, chat.answers, {"x": fields.field_path(people, 1, "ho_ten")})["reload"]
    link = staff_form.sections[2].questions[0].key
    web(staff_form, chat, WebSave(((f"{staff_form.sections[2].key}[1].{link}", "1"),)))
    assert {"item": 1, "name": "Nguyễn Văn An"} == chat.answers[f"{staff_form.sections[2].key}[1].{link}"]
    state, result = web_step(staff_form, chat.state, WebSave(((f"{staff_form.sections[2].key}[1].{link}", "9"),)),
                             datetime(2026, 12, 7, 9, 0).astimezone())
    assert texts.STALE_BUTTON == next(iter(result.errors.values())) and state.answers == chat.answers


def test_empty_staff_list__the_page_offers_no_training_to_add(staff_form):
    from bot.webform.page import build

    chat = Chat(staff_form)
    chat.send("/start")
    page = build(staff_form, chat.answers, chat.state.report, datetime(2026, 12, 7, 9, 0).astimezone())
    trainings = next(s for s in page["sections"] if s["key"] == staff_form.sections[2].key)
    assert ([], False) == (trainings["items"], trainings["can_add"])


def filled_and_exported(form, tmp_path):
    """Two people (An a leader), a training each (Bình's first), the report ended; then the campaign's export."""
    chat = two_people(form)
    for said in ("không", "có", "2", "Kỹ năng số", "5", "có", "1", "Bồi dưỡng", "10", "CC-1", "không", "không"):
        chat.send(said)
    units = [UnitReport("STP", "Sở Tư pháp", "submitted", dict(chat.answers), NOW, NOW)]
    data = ExportData(form=form, campaign_title="Báo cáo cán bộ và đào tạo", doc_ref="số 1/SNV",
                      deadline_at=DEADLINE, generated_at=NOW, units=units, province="Đồng Nai")
    return build_export(data, tmp_path / "out", campaign_id=1)


def test_workbook__a_sheet_of_trainings_with_the_person_of_each(staff_form, tmp_path):
    export = filled_and_exported(staff_form, tmp_path)
    sheet = load_workbook(export.workbook)[staff_form.sections[2].title[:31]]
    top = next(row[0].row for row in sheet.iter_rows() if row[0].value == texts.COL_UNIT_CODE)
    header = [c.value for c in sheet[top]]
    rows = [list(r) for r in sheet.iter_rows(min_row=top + 1, values_only=True) if any(v is not None for v in r)]
    assert ["Cán bộ", "Tên khóa?", "Số ngày học?", "Số chứng chỉ?"] == header[4:8]
    assert [["Trần Thị Bình", "Kỹ năng số", 5, None], ["Nguyễn Văn An", "Bồi dưỡng", 10, "CC-1"]] == \
        [r[4:8] for r in rows]


def test_corpus_shape__a_repeat_holding_only_a_repeat__the_inner_list_stands_alone(tmp_path):
    """KoboToolbox's double_repeat test form: an outer repeat with nothing of its own but the inner one."""
    survey = [["type", "name", "label"], ["begin_repeat", "bed_net", "Bed Net"],
              ["begin_repeat", "member", "Household Member"], ["text", "name", "Name"], ["end_repeat", "", ""],
              ["end_repeat", "", ""]]
    form = load_form_file(book(tmp_path, {"survey": survey}))[0]
    assert [("member", ["name"], None)] == [(s.key, [q.key for q in s.questions], s.questions[0].item_of)
                                            for s in form.sections]


def test_unit_document__the_trainings_table__the_person_column_and_no_note_column(staff_form, tmp_path):
    """The unit's document lists the trainings with their person; the note of each training ("Khóa đào tạo của
    ${ho_ten}.") is no column, and the certificate, asked because the person is a leader, is printed."""
    from docx import Document

    from tests.test_export_generic import table_texts

    export = filled_and_exported(staff_form, tmp_path)
    tables = [table_texts(t) for t in Document(str(export.documents[0])).tables]
    trainings = next(t for t in tables if t[0][:2] == [texts.COL_STT, "Cán bộ"])
    assert [["STT", "Cán bộ", "Tên khóa?", "Số ngày học?", "Số chứng chỉ?"],
            ["1", "Trần Thị Bình", "Kỹ năng số", "5", ""],
            ["2", "Nguyễn Văn An", "Bồi dưỡng", "10", "CC-1"]] == trainings


def test_chat_edit__a_training_moved_to_another_person__what_only_a_leader_answers_dropped(staff_form):
    chat = two_people(staff_form)
    for said in ("không", "có", "1", "Bồi dưỡng", "10", "CC-1", "không", "không"):
        chat.send(said)
    trainings = staff_form.sections[2]
    assert "3 – Cán bộ › Khóa đào tạo" in chat.send("sửa")
    said = chat.send("3")  # the trainings: listed by their own name, not by their person's
    assert "1 – Bồi dưỡng" in said
    assert "1 – Cán bộ: Nguyễn Văn An" in chat.send("1")
    said = chat.send("1")
    assert "Khóa đào tạo này thuộc cán bộ nào?" in said and "Đang lưu: Nguyễn Văn An." in said
    said = chat.send("Trần Thị Bình")  # typed by name
    assert "1 – Cán bộ: Trần Thị Bình" in said and "Số chứng chỉ?" not in said
    assert {"item": 2, "name": "Trần Thị Bình"} == chat.answers[f"{trainings.key}[1].{trainings.questions[0].key}"]
    assert f"{trainings.key}[1].chung_chi" not in chat.answers


# --- Three levels, conditions and calculations across the levels (a review's findings) ---------------------------

THREE = [["type", "name", "label", "relevant", "constraint", "calculation", "repeat_count"],
         ["begin_repeat", "cb", "Cán bộ", "", "", "", ""],
         ["text", "ten", "Tên?", "", "", "", ""],
         ["integer", "tuoi", "Tuổi?", "", "", "", ""],
         ["calculate", "so_khoa", "Số khóa", "", "", "count(${tk})", ""],
         ["begin_repeat", "kh", "Khóa học", "", "", "", "${so_khoa_du_kien}"],
         ["text", "tk", "Tên khóa?", "", "", "", ""],
         ["integer", "ngay", "Số ngày?", "", ". < ${tuoi}", "", ""],
         ["calculate", "tuoi_cb", "Tuổi cán bộ", "", "", "${tuoi}", ""],
         ["begin_repeat", "bh", "Buổi học", "", "", "", ""],
         ["text", "bten", "Buổi?", "", "", "", ""],
         ["note", "nt", "Buổi của ${ten}, khóa ${tk}.", "", "", "", ""],
         ["text", "x", "Chỉ hỏi người trên 30?", "${tuoi} > 30", "", "", ""],
         ["end_repeat", "", "", "", "", "", ""],
         ["end_repeat", "", "", "", "", "", ""],
         ["end_repeat", "", "", "", "", "", ""],
         ["integer", "so_khoa_du_kien", "Số khóa dự kiến?", "", "", "", ""],
         ["text", "gc", "Ghi chú?", "", "", "", ""]]


@pytest.fixture()
def three(tmp_path):
    skipped: list[str] = []
    form = load_form_file(book(tmp_path, {"survey": THREE}), skip_unsupported=True, skipped=skipped)[0]
    return form, skipped


def people_and_courses(form) -> Chat:
    chat = Chat(form)
    for said in ("/start", "có", "An", "40", "có", "Bình", "20", "không",  # staff
                 "có", "1", "K-An", "12", "có", "2", "K-Bình", "5", "không"):  # courses
        chat.send(said)
    return chat


def test_three_levels__the_inner_count_an_open_list_and_said(three):
    form, skipped = three
    assert [("cb", None), ("kh", "cb"), ("bh", "kh")] == [(s.key, s.questions[0].item_of) for s in form.sections[:3]]
    assert ["trang tính survey, dòng 6, cột repeat_count: " + texts.XLSFORM_INNER_COUNT] == skipped


def test_three_levels__a_constraint_and_a_calculation_read_the_person(three):
    form, _ = three
    chat = Chat(form)
    for said in ("/start", "có", "An", "40", "có", "Bình", "20", "không", "có", "2", "K-Bình"):
        chat.send(said)
    before = dict(chat.answers)
    said = chat.send("25")  # more days than Bình's age (20): the constraint reads the person
    assert texts.CONSTRAINT_FAILED.format(value="25", label="Số ngày?") in said and before == chat.answers
    chat.send("5")
    assert 20 == chat.answers["kh[1].tuoi_cb"]
    chat.send("không")
    web(form, chat, WebSave((("kh[1].cb_item", "1"),)))  # the course moved to An: the calculation follows
    assert 40 == chat.answers["kh[1].tuoi_cb"]


def test_three_levels__a_session_reads_its_course_and_the_course_s_person(three):
    form, _ = three
    chat = people_and_courses(form)
    assert "Tên khóa?" not in chat.send("có")  # a session: which course first
    said = chat.send("1")  # K-An
    assert "Buổi?" in said
    said = chat.send("B1")
    assert "Buổi của An, khóa K-An." in said and "Chỉ hỏi người trên 30?" in said  # An is 40: asked
    chat.send("có")
    chat.send("có")
    chat.send("2")  # K-Bình
    assert "Chỉ hỏi người trên 30?" not in chat.send("B2")  # Bình is 20
    assert ("có", None) == (chat.answers["bh[1].x"], chat.answers.get("bh[2].x"))


def test_three_levels__each_person_counts_their_own_courses_and_a_deleted_person_takes_them_all(three):
    form, _ = three
    chat = people_and_courses(form)
    chat.send("có")
    chat.send("1")
    chat.send("B1")
    assert (1, 1) == (chat.answers["cb[1].so_khoa"], chat.answers["cb[2].so_khoa"])
    web(form, chat, WebDeleteItem("cb", 1))
    assert not any(k.startswith(("cb[1].", "kh[1].", "bh[1].")) for k in chat.answers)  # An, K-An, B1
    assert "K-Bình" == chat.answers["kh[2].tk"]


def test_inner_repeat_with_a_condition__only_the_people_it_holds_for_offered(tmp_path):
    survey = [["type", "name", "label", "relevant"], ["begin_repeat", "cb", "Cán bộ", ""],
              ["text", "ten", "Tên?", ""], ["integer", "tuoi", "Tuổi?", ""],
              ["begin_repeat", "kh", "Khóa học", "${tuoi} > 30"], ["text", "tk", "Tên khóa?", ""],
              ["end_repeat", "", "", ""], ["end_repeat", "", "", ""], ["text", "gc", "Ghi chú?", ""]]
    form = load_form_file(book(tmp_path, {"survey": survey}))[0]
    chat = Chat(form)
    for said in ("/start", "có", "An", "20", "có", "Bình", "45"):
        chat.send(said)
    chat.send("không")
    said = chat.send("có")
    assert "Bình" in said and "An" not in said.replace("Bình", "")
    chat = Chat(form)
    for said in ("/start", "có", "An", "20"):
        chat.send(said)
    assert "Ghi chú?" in chat.send("không")  # nobody over 30: no course asked


def test_a_number_typed_after_another_contact_changed_the_list__asked_again_never_the_wrong_person(staff_form):
    chat = two_people(staff_form)
    chat.send("không")
    assert "1 – Nguyễn Văn An, 2 – Trần Thị Bình" in chat.send("có")
    colleague(staff_form, chat, WebDeleteItem(staff_form.sections[1].key, 1))  # deletes An meanwhile
    before = dict(chat.answers)
    said = chat.send("1")  # meant An: not taken as Bình, now first
    assert texts.ITEM_OF_CHANGED in said and "1 – Trần Thị Bình" in said and before == chat.answers
    chat.send("1")
    assert "Trần Thị Bình" == chat.answers[f"khoa_hoc[1].{staff_form.sections[2].questions[0].key}"]["name"]


def test_khong_co_at_the_first_training__the_list_closed(staff_form):
    chat = two_people(staff_form)
    chat.send("không")
    chat.send("có")
    assert "Ghi chú?" in chat.send("không có")


def test_the_staff_list_emptied_by_a_colleague__the_chat_moves_on(staff_form):
    chat = two_people(staff_form)
    for said in ("không", "có", "1", "K", "5", "CC"):
        chat.send(said)
    for n in (1, 2):
        colleague(staff_form, chat, WebDeleteItem(staff_form.sections[1].key, n))
    said = chat.send("có")  # one more training, but nobody is left to have it
    assert texts.ITEM_OF_NONE.format(item="khóa đào tạo", parent="cán bộ") in said and "Ghi chú?" in said


def test_purge__the_name_kept_with_a_training_is_personal_when_the_person_s_name_is(tmp_path):
    from bot.purge import personal_keys

    survey = [["type", "name", "label", "hcc::personal"], ["begin_repeat", "cb", "Cán bộ", ""],
              ["text", "ten", "Tên?", "yes"], ["begin_repeat", "kh", "Khóa học", ""], ["text", "tk", "Tên khóa?", ""],
              ["end_repeat", "", "", ""], ["end_repeat", "", "", ""]]
    form = load_form_file(book(tmp_path, {"survey": survey}))[0]
    answers = {"cb[1].ten": "An", "kh[1].cb_item": {"item": 1, "name": "An"}, "kh[1].tk": "K"}
    assert ["cb[1].ten", "kh[1].cb_item"] == sorted(personal_keys(form, answers))


def test_console__the_certificate_read_through_the_person_shown_and_no_note_column(staff_form):
    from bot.console.report_view import report_sections

    chat = two_people(staff_form)
    for said in ("không", "có", "1", "Bồi dưỡng", "10", "CC-1", "không"):
        chat.send(said)
    view = report_sections(staff_form, chat.answers)[2]
    assert ["Cán bộ", "Tên khóa?", "Số ngày học?", "Số chứng chỉ?"] == view.columns
    assert ["Nguyễn Văn An", "Bồi dưỡng", "10", "CC-1"] == [c.text for c in view.rows[0]]


def test_yaml__a_list_inside_a_list_with_a_minimum__refused_in_one_line(tmp_path):
    from conversations.form import FormError, load_form

    path = tmp_path / "f.yaml"
    path.write_text("""id: f
title: F
sections:
  - key: cb
    title: Cán bộ
    repeat: {min: 0, item: cán bộ}
    questions: [{key: ten, label: Tên, prompt: "Tên?", type: text}]
  - key: kh
    title: Khóa học
    repeat: {min: 1, item: khóa học}
    questions: [{key: ai, label: Cán bộ, prompt: "Của ai?", type: choice, item_of: cb},
                {key: tk, label: Tên khóa, prompt: "Tên khóa?", type: text}]
""", encoding="utf-8")
    with pytest.raises(FormError) as caught:
        load_form(path)
    assert f"{path}: sections[1] (kh).repeat: {texts.FORM_ERR_NESTED_OPEN}" == str(caught.value)


def test_a_repeat_holding_only_a_repeat_inside_a_repeat__the_innermost_belongs_to_the_outermost(tmp_path):
    survey = [["type", "name", "label"], ["begin_repeat", "a", "A"], ["text", "at", "A tên?"],
              ["begin_repeat", "b", "B"], ["begin_group", "g", "Nhóm G"], ["begin_repeat", "c", "C"],
              ["text", "ct", "C tên?"], ["end_repeat", "", ""], ["end_group", "", ""], ["end_repeat", "", ""],
              ["end_repeat", "", ""]]
    form = load_form_file(book(tmp_path, {"survey": survey}))[0]
    assert [("a", None), ("c", "a")] == [(s.key, s.questions[0].item_of) for s in form.sections]


def test_consolidated_report__a_note_in_a_plain_section__no_column_and_the_answers_under_their_headers(tmp_path):
    from docx import Document

    from tests.test_export_generic import table_texts

    survey = [["type", "name", "label"], ["integer", "nam", "Số nam?"], ["note", "n1", "Tiếp theo là số nữ."],
              ["integer", "nu", "Số nữ?"], ["text", "gc", "Ghi chú?"]]
    form = load_form_file(book(tmp_path, {"survey": survey}))[0]
    chat = Chat(form)
    for said in ("/start", "4", "6", "abc"):
        chat.send(said)
    units = [UnitReport("STP", "Sở Tư pháp", "submitted", dict(chat.answers), NOW, NOW)]
    data = ExportData(form=form, campaign_title="T", doc_ref="số 1", deadline_at=DEADLINE, generated_at=NOW,
                      units=units, province="Đồng Nai")
    export = build_export(data, tmp_path / "out", campaign_id=1)
    table = next(table_texts(t) for t in Document(str(export.report)).tables
                 if any("Số nam?" in cell for cell in table_texts(t)[0]))
    assert [["STT", "Đơn vị", "Số nam?", "Số nữ?", "Ghi chú?"], ["1", "Sở Tư pháp", "4", "6", "abc"],
            ["", "Tổng cộng", "4", "6", ""]] == table


def test_chat_delete_a_person__the_confirmation_says_their_trainings_go_too(staff_form):
    chat = two_people(staff_form)
    for said in ("không", "có", "1", "Bồi dưỡng", "10", "CC-1", "có", "1", "Tin học", "3", "CC-2", "không", "không"):
        chat.send(said)
    chat.send("sửa")
    chat.send("2")  # the staff
    assert "3 – Xóa cán bộ này" in chat.send("1")  # Nguyễn Văn An
    said = chat.send("3")
    assert texts.MENU_CONFIRM_DELETE.format(name="Nguyễn Văn An", section="Cán bộ") in said
    assert "2 khóa đào tạo của “Nguyễn Văn An” cũng sẽ bị xóa theo." in said
    chat.send("Xóa")
    assert not any(k.startswith("khoa_hoc[") for k in chat.answers)


@pytest.mark.parametrize("item_of", ["[cb, kh]", "{a: 1}", "3", "khong_co", "kh"])
def test_yaml__item_of_not_an_earlier_list__refused_in_one_line(tmp_path, item_of):
    from conversations.form import FormError, load_form

    path = tmp_path / "f.yaml"
    path.write_text(f"""id: f
title: F
sections:
  - key: cb
    title: Cán bộ
    repeat: {{min: 0, item: cán bộ}}
    questions: [{{key: ten, label: Tên, prompt: "Tên?", type: text}}]
  - key: kh
    title: Khóa học
    repeat: {{min: 0, item: khóa học}}
    questions: [{{key: ai, label: Cán bộ, prompt: "Của ai?", type: choice, item_of: {item_of}}},
                {{key: tk, label: Tên khóa, prompt: "Tên khóa?", type: text}}]
""", encoding="utf-8")
    with pytest.raises(FormError) as caught:
        load_form(path)
    assert str(caught.value) == f"{path}: sections[1] (kh).questions[0] (ai).item_of: {texts.FORM_ERR_ITEM_OF}"
