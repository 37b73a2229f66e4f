"""Forms that say more: notes, calculations, metadata, "Khác (ghi rõ)", times, dates with times, places, lists
counted by an answer and expressions across sections — asked, answered, reviewed, edited and exported, through
the engine with a form written here (YAML), as a person types it."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from conversations import texts
from conversations.answers import LOCAL_TZ, review_section, review_summary
from conversations.engine import Location, Pick, ReportInfo, State, Text, render_plain, step
from conversations.form import FormError, load_form
from conversations.xpath import REGEX_TIMEOUT, parse_expression
from exports.data import ExportData, UnitReport
from exports.workbook import build_workbook

NOW = datetime(2027, 3, 2, 9, 0, tzinfo=LOCAL_TZ)
DEADLINE = datetime(2027, 3, 20, 16, 30, tzinfo=LOCAL_TZ)

FORM_YAML = """\
id: nhan_luc_2027
title: Báo cáo nhân lực bộ phận một cửa
sections:
  - key: unit
    title: I. Thông tin chung
    questions:
      - {key: started, label: Bắt đầu, type: meta, meta: start}
      - {key: day, label: Ngày nhập, type: meta, meta: today}
      - {key: device, label: Kênh, type: meta, meta: deviceid}
      - {key: who, label: Người nhập, type: meta, meta: username}
      - {key: mobile, label: Số máy, type: meta, meta: phonenumber}
      - {key: sim, label: SIM, type: meta, meta: simserial}
      - {key: finished, label: Nộp lúc, type: meta, meta: end}
      - {key: as_of, label: "Số liệu tính đến ngày 31/12/2026.", type: note}
      - {key: male, label: Số cán bộ nam, prompt: "Số cán bộ nam?", type: integer}
      - key: female
        label: Số cán bộ nữ
        prompt: "Số cán bộ nữ?"
        type: integer
        constraint: "${female} <= ${male} * 10"
        constraint_message: "Số nữ không quá 10 lần số nam: vui lòng kiểm tra lại."
      - {key: total, label: Tổng số cán bộ, type: calculate, calculation: "${male} + ${female}"}
      - {key: share, label: Tỷ lệ nữ (%), type: calculate, calculation: "round(${female} * 100 div ${total}, 1)"}
      - {key: total_note, label: "Đơn vị có ${total} cán bộ.", type: note}
      - key: kind
        label: Loại hình
        prompt: "Loại hình đơn vị?"
        type: choice
        or_other: true
        choices: [{value: so, label: Sở}, {value: huyen, label: UBND cấp huyện}]
      - {key: kind_name, label: Tên loại hình, type: calculate, calculation: "jr:choice-name(${kind}, '${kind}')"}
      - {key: trainers, label: Số giảng viên, prompt: "Có bao nhiêu giảng viên?", type: integer}
      - {key: end_note, label: "Tiếp theo: từng giảng viên.", type: note}
  - key: trainer
    title: II. Giảng viên
    repeat: {count: "${trainers}", item: giảng viên}
    questions:
      - {key: name, label: Họ và tên, prompt: "Họ tên giảng viên?", type: name}
      - {key: hours, label: Số giờ dạy, prompt: "Số giờ dạy?", type: integer}
      - {key: label, label: Tóm tắt, type: calculate, calculation: "concat(${name}, ' (', ${hours}, ' giờ)')"}
  - key: schedule
    title: III. Lịch làm việc
    questions:
      - {key: hours_total, label: Tổng số giờ dạy, type: calculate, calculation: "sum(${hours})"}
      - {key: people, label: Số giảng viên đã khai, type: calculate, calculation: "count(${hours})"}
      - {key: open_at, label: Giờ mở cửa, prompt: "Giờ mở cửa buổi sáng?", type: time}
      - {key: visit, label: Lịch kiểm tra, prompt: "Ngày giờ đoàn kiểm tra đến?", type: datetime}
      - {key: place, label: Vị trí trụ sở, prompt: "Vị trí trụ sở?", type: geopoint, relevant: "${kind} = 'so'"}
      - key: big
        label: Đề xuất tăng biên chế
        prompt: "Đề xuất tăng biên chế?"
        type: text
        relevant: "${total} >= 10 and ${hours_total} > 0"
        required: false
"""


@pytest.fixture(scope="module")
def form(tmp_path_factory):
    path = tmp_path_factory.mktemp("form") / "form.yaml"
    path.write_text(FORM_YAML, encoding="utf-8")
    return load_form(path)


class Chat:
    def __init__(self, form, contact=None):
        self.form = form
        self.state = State(answers={}, report=ReportInfo(unit_name="Sở Tư pháp", deadline_at=DEADLINE),
                           contact=contact or {"channel": "telegram", "name": "Lan", "phone": "+84912345678"})
        self.now = NOW

    def send(self, said) -> str:
        event = Text(said) if isinstance(said, str) else said
        self.state, replies = step(self.form, self.state, event, self.now)
        assert 1 == len(replies)
        self.now += timedelta(minutes=1)
        return render_plain(replies[0])

    @property
    def answers(self):
        return self.state.answers


def filled(form) -> Chat:
    """A contact who answered section I up to the number of trainers (2)."""
    chat = Chat(form)
    chat.send("/start")
    for said in ("4", "6", "1", "2"):
        chat.send(said)
    return chat


def test_note__first_in_the_form__said_with_the_first_question(form):
    chat = Chat(form)
    said = chat.send("/start")
    assert "Số liệu tính đến ngày 31/12/2026." in said
    assert said.index("Số liệu tính đến ngày 31/12/2026.") < said.index("Số cán bộ nam?")


def test_note__with_a_calculated_value__said_before_the_next_question_and_never_stored(form):
    chat = Chat(form)
    chat.send("/start")
    chat.send("4")
    said = chat.send("6")
    assert "Đơn vị có 10 cán bộ." in said and said.index("Đơn vị có 10 cán bộ.") < said.index("Loại hình đơn vị?")
    assert not any(k.endswith(("as_of", "total_note", "end_note")) for k in chat.answers)


def test_note__at_a_section_end__said_with_the_next_section_first_question(form):
    chat = filled(form)
    assert "Đã hết" not in chat.answers
    chat2 = Chat(form)
    chat2.send("/start")
    for said in ("4", "6", "1"):
        chat2.send(said)
    said = chat2.send("2")
    assert said.index("Tiếp theo: từng giảng viên.") < said.index("Họ tên giảng viên?")


def test_calculate__answers_given__stored_with_them(form):
    chat = filled(form)
    assert (10, 60, "Sở") == (chat.answers["unit.total"], chat.answers["unit.share"], chat.answers["unit.kind_name"])


def test_calculate__an_answer_it_depends_on_edited__recomputed(form):
    chat = filled(form)
    chat.send("sửa 1")
    said = chat.send("Số cán bộ nam")
    assert "Số cán bộ nam?" in said
    chat.send("14")
    assert (20, 30) == (chat.answers["unit.total"], chat.answers["unit.share"])
    assert "Tổng số cán bộ: 20" in chat.send("xem lại 1")


def test_calculate__in_the_review__shown_and_never_offered_for_editing(form):
    chat = filled(form)
    review = chat.send("xem lại 1")
    assert "- Tổng số cán bộ: 10" in review and "- Tỷ lệ nữ (%): 60" in review
    assert "Tổng số cán bộ: 10" in review_summary(form, chat.answers)
    menu = chat.send("sửa 1")
    assert "Tổng số cán bộ" not in menu and "Số cán bộ nam: 4" in menu


def test_constraint__naming_the_question_itself__checks_the_new_answer(form):
    chat = Chat(form)
    chat.send("/start")
    chat.send("1")
    said = chat.send("11")
    assert "Số nữ không quá 10 lần số nam: vui lòng kiểm tra lại." in said
    assert "unit.female" not in chat.answers


def test_meta__first_answer_and_submission__recorded_never_asked(form):
    chat = filled(form)
    assert ("2027-03-02T09:01:00+07:00", "2027-03-02", "telegram", "Lan", "+84912345678") == tuple(
        chat.answers[f"unit.{k}"] for k in ("started", "day", "device", "who", "mobile"))
    assert "unit.sim" not in chat.answers and "unit.finished" not in chat.answers
    for said in ("Nguyễn Văn An", "3", "Trần Thị Bình", "5", "7:30", "15/03/2027 9h", "10.95, 106.82", "bỏ qua"):
        chat.send(said)
    said = chat.send("nộp")
    assert "Đã nộp" in said or "đã nộp" in said.lower()
    assert chat.answers["unit.finished"].startswith("2027-03-02T09:")
    review = review_section(form.sections[0], chat.answers)
    assert "telegram" not in review and "Bắt đầu" not in review


def test_repeat_count__from_an_earlier_answer__asks_that_many_items_then_moves_on(form):
    chat = filled(form)
    said = chat.send("Nguyễn Văn An")
    assert "Số giờ dạy?" in said
    chat.send("3")
    chat.send("Trần Thị Bình")
    said = chat.send("5")
    assert "Giờ mở cửa buổi sáng?" in said
    chat.send("quay lại")
    assert "【II. Giảng viên (2 giảng viên)】" in chat.send("quay lại")
    assert ("Nguyễn Văn An (3 giờ)", 8, 2) == (chat.answers["trainer[1].label"], chat.answers["schedule.hours_total"],
                                              chat.answers["schedule.people"])


def test_repeat_count__fewer_items_than_the_count__missing_names_the_count(form):
    chat = filled(form)
    chat.send("Nguyễn Văn An")
    chat.send("3")
    said = chat.send("nộp")
    assert "II. Giảng viên" in said and "2 giảng viên" in said


def test_sum_over_a_repeat__an_item_deleted__total_and_count_recomputed(form):
    chat = filled(form)
    for said in ("Nguyễn Văn An", "3", "Trần Thị Bình", "5"):
        chat.send(said)
    assert (8, 2) == (chat.answers["schedule.hours_total"], chat.answers["schedule.people"])
    chat.send("sửa 2")
    chat.send("Trần Thị Bình")
    chat.send("Xóa giảng viên này")
    chat.send("có")
    assert (3, 1) == (chat.answers["schedule.hours_total"], chat.answers["schedule.people"])
    assert "Tổng số giờ dạy: 3" in chat.send("xem lại 3")


def test_or_other__other_chosen__asks_the_text_and_stores_both(form):
    chat = Chat(form)
    chat.send("/start")
    chat.send("4")
    said = chat.send("6")
    assert "3 – Khác (ghi rõ)" in said
    said = chat.send("3")
    assert "Bạn chọn “Khác”: vui lòng ghi rõ (Loại hình)." == said
    said = chat.send("Ban quản lý khu công nghiệp")
    assert "Có bao nhiêu giảng viên?" in said
    assert ("other", "Ban quản lý khu công nghiệp") == (chat.answers["unit.kind"], chat.answers["unit.kind_other"])
    assert "- Loại hình: Khác (ghi rõ): Ban quản lý khu công nghiệp" in chat.send("xem lại 1")


def test_or_other__changed_to_a_listed_choice__text_dropped(form):
    chat = Chat(form)
    chat.send("/start")
    for said in ("4", "6", "3", "Ban quản lý"):
        chat.send(said)
    chat.send("sửa 1")
    chat.send("Loại hình")
    chat.send(Pick("huyen"))
    assert "unit.kind_other" not in chat.answers and "huyen" == chat.answers["unit.kind"]


def test_time_and_datetime__typed_as_people_write__stored_and_shown(form):
    chat = filled(form)
    for said in ("Nguyễn Văn An", "3", "Trần Thị Bình", "5"):
        chat.send(said)
    said = chat.send("25h")
    assert texts.TIME_INVALID in said
    said = chat.send("7h30")
    assert "Ngày giờ đoàn kiểm tra đến?" in said
    said = chat.send("ngày mai")
    assert texts.DATETIME_INVALID in said and "28/03/2017 14:30" in said
    chat.send("15/03/2027 14:00")
    assert ("07:30", "2027-03-15T14:00") == (chat.answers["schedule.open_at"], chat.answers["schedule.visit"])
    review = chat.send("xem lại 3")
    assert "- Giờ mở cửa: 07:30" in review and "- Lịch kiểm tra: 15/03/2027 14:00" in review


def test_geopoint__location_shared_or_typed__checked_stored_reviewed_edited_exported(form, tmp_path):
    chat = filled(form)
    for said in ("Nguyễn Văn An", "3", "Trần Thị Bình", "5", "7:30", "15/03/2027 9h"):
        chat.send(said)
    said = chat.send("95, 10")
    assert texts.GEOPOINT_OUT_OF_RANGE in said and "schedule.place" not in chat.answers
    chat.send(Location(10.9501, 106.8213))
    assert {"lat": 10.9501, "lon": 106.8213} == chat.answers["schedule.place"]
    chat.send("quay lại")
    chat.send("https://www.google.com/maps/@10.95,106.82,15z")
    assert {"lat": 10.95, "lon": 106.82} == chat.answers["schedule.place"]
    assert "- Vị trí trụ sở: 10.95, 106.82" in chat.send("xem lại 3")
    chat.send("sửa 3")
    assert "Vị trí trụ sở?" in chat.send("Vị trí trụ sở")
    chat.send(Location(11.0, 107.0))
    data = ExportData(form=form, campaign_title="Nhân lực 2027", doc_ref=None, deadline_at=DEADLINE,
                      generated_at=NOW, units=[UnitReport("STP", "Sở Tư pháp", "in_progress", dict(chat.answers))])
    wb = load_workbook(build_workbook(data, tmp_path / "x.xlsx"))
    assert any("11.0, 107.0" in r for ws in wb.worksheets for r in ws.iter_rows(values_only=True))


def test_relevant__naming_another_section__follows_its_answer(form):
    chat = filled(form)
    for said in ("Nguyễn Văn An", "3", "Trần Thị Bình", "5", "7:30"):
        chat.send(said)
    chat.send("15/03/2027 9h")
    chat.send(Location(10.95, 106.82))
    chat.send("sửa 1")
    chat.send("Loại hình")
    chat.send(Pick("huyen"))
    assert "schedule.place" not in chat.answers


def test_workbook__calculated_time_and_other__exported_as_columns(form, tmp_path):
    chat = Chat(form)
    chat.send("/start")
    for said in ("4", "6", "3", "Ban quản lý", "1", "Nguyễn Văn An", "3", "7:30", "15/03/2027 9h", "bỏ qua"):
        chat.send(said)
    units = [UnitReport("STP", "Sở Tư pháp", "in_progress", dict(chat.answers), None, NOW)]
    data = ExportData(form=form, campaign_title="Nhân lực 2027", doc_ref=None, deadline_at=DEADLINE,
                      generated_at=NOW, units=units)
    wb = load_workbook(build_workbook(data, tmp_path / "x.xlsx"))
    cells = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            cells.setdefault(ws.title, []).append(row)
    unit_rows = [r for rows in cells.values() for r in rows if r and r[0] == "STP"]
    flat = [v for r in unit_rows for v in r]
    assert 10 in flat and 60 in flat  # total and share as numbers
    assert "Khác (ghi rõ): Ban quản lý" in flat
    assert "07:30" in flat and "15/03/2027 09:00" in flat
    assert "Nguyễn Văn An (3 giờ)" in flat
    assert "telegram" in flat and "2027-03-02" in flat  # meta: the channel and the date of the first answer
    headers = [v for rows in cells.values() for r in rows for v in r if isinstance(v, str)]
    assert "Tổng số cán bộ" in headers and "Số liệu tính đến ngày 31/12/2026." not in headers


def test_regex_constraint__catastrophic_pattern__refused_within_the_time_limit(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("""\
id: r
title: R
sections:
  - key: s
    title: S
    questions:
      - {key: code, label: Mã, prompt: "Mã?", type: text, constraint: "regex(., '^(a+)+$') and regex(., '^(a|aa)+$')"}
""", encoding="utf-8")
    form = load_form(path)
    chat = Chat(form)
    chat.send("/start")
    started = time.perf_counter()
    said = chat.send("a" * 299 + "!")  # the second pattern backtracks past the time limit on it
    elapsed = time.perf_counter() - started
    assert elapsed < REGEX_TIMEOUT * 3 + 0.5
    assert "s.code" not in chat.answers and "Mã?" in said
    chat.send("aaaa")
    assert "aaaa" == chat.answers["s.code"]


@pytest.mark.parametrize(("question", "error"), [
    ("{key: c, label: C, type: calculate}", "questions[1] (c).calculation: " + texts.FORM_ERR_CALCULATION_MISSING),
    ("{key: c, label: C, type: calculate, calculation: '${zz} + 1'}",
     "questions[1] (c).calculation: " + texts.FORM_ERR_NOT_IN_FORM.format(name="zz")),
    ("{key: c, label: C, type: meta}", "questions[1] (c).meta: " + texts.FORM_ERR_META_MISSING.format(
        kinds="start, end, today, deviceid, username, phonenumber")),
    ("{key: c, label: C, prompt: 'C?', type: text, or_other: true}",
     "questions[1] (c).or_other: " + texts.FORM_ERR_TYPE_ONLY.format(types=texts.FORM_ERR_CHOICE_TYPES,
                                                                     name="or_other")),
])
def test_load__new_field_misused__one_line_error(tmp_path, question, error):
    path = tmp_path / "f.yaml"
    path.write_text(f"""\
id: r
title: R
sections:
  - key: s
    title: S
    questions:
      - {{key: a, label: A, prompt: "A?", type: integer}}
      - {question}
""", encoding="utf-8")
    with pytest.raises(FormError) as caught:
        load_form(path)
    assert str(caught.value) == f"{path}: sections[0] (s).{error}"


OPEN_YAML = """\
id: lop_2027
title: Lớp tập huấn
sections:
  - key: classes
    title: I. Lớp tập huấn đã tổ chức
    repeat: {min: 0, max: null, item: lớp}
    questions:
      - {key: topic, label: Chủ đề, prompt: "Chủ đề của lớp?", type: text, required: false}
      - {key: day, label: Ngày mở lớp, prompt: "Ngày mở lớp?", type: date}
      - {key: learners, label: Số học viên, prompt: "Số học viên?", type: integer}
  - key: closing
    title: II. Kết luận
    questions:
      - {key: classes_count, label: Số lớp, type: calculate, calculation: "count(${learners})"}
      - {key: learners_total, label: Tổng số học viên, type: calculate, calculation: "sum(${learners})"}
      - {key: remark, label: Nhận xét, prompt: "Nhận xét chung?", type: long_text}
"""


@pytest.fixture(scope="module")
def open_form(tmp_path_factory):
    path = tmp_path_factory.mktemp("open") / "form.yaml"
    path.write_text(OPEN_YAML, encoding="utf-8")
    return load_form(path)


def test_open_repeat__before_the_first_item__asks_whether_there_is_any(open_form):
    chat = Chat(open_form)
    said = chat.send("/start")
    assert "【I. Lớp tập huấn đã tổ chức】\nCó lớp nào không?" in said
    said = chat.send("không")
    assert "Nhận xét chung?" in said and chat.answers["classes.__done__"] is True


def test_open_repeat__optional_first_question_skipped__item_kept_and_more_asked_after_it(open_form):
    chat = Chat(open_form)
    chat.send("/start")
    assert "Chủ đề của lớp?" in chat.send("có")
    assert "Ngày mở lớp?" in chat.send("bỏ qua")
    chat.send("05/03/2027")
    said = chat.send("25")
    assert "Thêm lớp nữa không?" in said
    assert "Chủ đề của lớp?" in chat.send(Pick("yes"))
    chat.send("Cải cách hành chính")
    chat.send("06/03/2027")
    chat.send("30")
    said = chat.send("không")
    assert "Nhận xét chung?" in said
    assert (2, 55) == (chat.answers["closing.classes_count"], chat.answers["closing.learners_total"])
    review = chat.send("xem lại 1")
    assert "1. Chủ đề: không có; Ngày mở lớp: 05/03/2027; Số học viên: 25" in review
    assert "2. Chủ đề: Cải cách hành chính" in review


def test_open_repeat__not_yes_or_no__asked_again_and_nothing_stored(open_form):
    chat = Chat(open_form)
    chat.send("/start")
    said = chat.send("Cải cách hành chính")
    assert texts.YES_NO_INVALID in said and "Có lớp nào không?" in said
    assert {} == {k: v for k, v in chat.answers.items() if k.startswith("classes")}


def test_open_repeat__item_added_from_the_edit_menu__first_question_asked_directly(open_form):
    chat = Chat(open_form)
    chat.send("/start")
    chat.send("không")
    chat.send("sửa 1")
    said = chat.send("Thêm lớp")
    assert "Chủ đề của lớp?" in said
    chat.send("Chuyển đổi số")
    chat.send("07/03/2027")
    chat.send("12")
    assert 12 == chat.answers["closing.learners_total"]


def test_open_repeat__exported__one_row_per_item(open_form, tmp_path):
    chat = Chat(open_form)
    chat.send("/start")
    for said in ("có", "bỏ qua", "05/03/2027", "25", "có", "Cải cách", "06/03/2027", "30", "không", "Tốt"):
        chat.send(said)
    data = ExportData(form=open_form, campaign_title="Lớp 2027", doc_ref=None, deadline_at=DEADLINE,
                      generated_at=NOW, units=[UnitReport("STP", "Sở Tư pháp", "in_progress", dict(chat.answers))])
    wb = load_workbook(build_workbook(data, tmp_path / "x.xlsx"))
    rows = [r for ws in wb.worksheets for r in ws.iter_rows(values_only=True) if r and r[0] == "STP"]
    assert [(1, "không có", 25), (2, "Cải cách", 30)] == [(r[3], r[4], r[6]) for r in rows if len(r) > 6 and
                                                           isinstance(r[3], int)]
    assert any(2 in r and 55 in r for r in rows)


def test_calculate__reading_no_answer__stored_from_the_first_answer(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("""\
id: r
title: R
sections:
  - key: s
    title: S
    questions:
      - {key: a, label: A, prompt: "A?", type: integer}
      - {key: day, label: Ngày lập, type: calculate, calculation: "today()"}
      - {key: rate, label: Định mức, type: calculate, calculation: "2 * 3 div 4"}
""", encoding="utf-8")
    chat = Chat(load_form(path))
    chat.send("/start")
    chat.send("5")
    assert ("2027-03-02", 1.5) == (chat.answers["s.day"], chat.answers["s.rate"])
    assert "- Định mức: 1,5" in chat.send("xem lại 1")


def test_repeat_count__count_answer_raised_in_the_edit_menu__one_more_item_missing_then_asked(form):
    chat = filled(form)
    for said in ("Nguyễn Văn An", "3", "Trần Thị Bình", "5"):
        chat.send(said)
    chat.send("sửa 1")
    chat.send("Số giảng viên")
    chat.send("3")
    assert "Giờ mở cửa buổi sáng?" in chat.send("xong")  # back where the person was
    for said in ("7:30", "15/03/2027 9h", "10.95, 106.82", "bỏ qua"):
        said = chat.send(said)
    assert "Họ tên giảng viên?" in said and "Giảng viên thứ 3" in said  # the list now needs a third
    said = chat.send("nộp")
    assert texts.MISSING_ITEMS.format(section="II. Giảng viên", min=3, item="giảng viên") in said


def test_time__edited_from_the_menu__new_value_and_review(form):
    chat = filled(form)
    for said in ("Nguyễn Văn An", "3", "Trần Thị Bình", "5", "7:30", "15/03/2027 9h", "10.95, 106.82"):
        chat.send(said)
    chat.send("sửa 3")
    said = chat.send("Giờ mở cửa")
    assert "Giờ mở cửa buổi sáng?" in said and "07:30" in said
    chat.send("8h15")
    assert "- Giờ mở cửa: 08:15" in chat.send("xem lại 3")


class Exact(str):
    """The whole message, as a channel without buttons shows it."""


def test_transcript__notes_totals_other_and_a_counted_list__as_zalo_shows_them(form):
    chat = Chat(form, contact={"channel": "zalo", "name": "Lan"})
    script = [
        ("/start", ["Hạn nộp: 16:30 ngày 20/03/2027.",
                    "【I. Thông tin chung】 · câu 1/4\nSố liệu tính đến ngày 31/12/2026.\nSố cán bộ nam?"]),
        ("4", Exact("【I. Thông tin chung】 · câu 2/4\nSố cán bộ nữ?")),
        ("60", Exact("Số nữ không quá 10 lần số nam: vui lòng kiểm tra lại.\n\nSố cán bộ nữ?")),
        ("6", Exact("【I. Thông tin chung】 · câu 3/4\nĐơn vị có 10 cán bộ.\nLoại hình đơn vị?\n"
                    "Gõ số để chọn: 1 – Sở, 2 – UBND cấp huyện, 3 – Khác (ghi rõ).")),
        ("Khác", Exact("Bạn chọn “Khác”: vui lòng ghi rõ (Loại hình).")),
        ("Ban quản lý các khu công nghiệp", Exact("【I. Thông tin chung】 · câu 4/4\nCó bao nhiêu giảng viên?")),
        ("1", Exact("Tiếp theo: từng giảng viên.\n【II. Giảng viên (1 giảng viên)】 · câu 1/2\nHọ tên giảng viên?")),
        ("Nguyễn Văn An", Exact("【II. Giảng viên (1 giảng viên)】 · câu 2/2\nSố giờ dạy?")),
        ("3", Exact("Đã lưu giảng viên thứ 1: Nguyễn Văn An.\n\n【III. Lịch làm việc】 · câu 1/3\n"
                    "Giờ mở cửa buổi sáng?")),
        ("7g30", Exact("【III. Lịch làm việc】 · câu 2/3\nNgày giờ đoàn kiểm tra đến?")),
        ("9h 15/3/2027", ["【III. Lịch làm việc】 · câu 3/3\nĐề xuất tăng biên chế?"]),
        ("xem lại 1", ["I. Thông tin chung\n- Số cán bộ nam: 4\n- Số cán bộ nữ: 6\n- Tổng số cán bộ: 10\n"
                       "- Tỷ lệ nữ (%): 60\n- Loại hình: Khác (ghi rõ): Ban quản lý các khu công nghiệp\n"
                       "- Tên loại hình: Khác (ghi rõ)\n- Số giảng viên: 1"]),
        ("xem lại 3", ["- Tổng số giờ dạy: 3\n- Số giảng viên đã khai: 1\n- Giờ mở cửa: 07:30\n"
                       "- Lịch kiểm tra: 15/03/2027 09:00"]),
    ]
    for n, (said, expected) in enumerate(script, 1):
        answer = chat.send(said)
        if isinstance(expected, Exact):
            assert expected == answer, f"step {n}: {said!r}"
        else:
            assert [] == [phrase for phrase in expected if phrase not in answer], f"step {n}: {said!r}:\n{answer}"


NOTES_YAML = """\
id: ghi_chu
title: Ghi chú
sections:
  - key: guide
    title: I. Hướng dẫn
    questions:
      - {key: how, label: "Điền số liệu của cả năm 2026.", type: note}
  - key: needs
    title: II. Nhu cầu
    questions:
      - key: kinds
        label: Nhu cầu hỗ trợ
        prompt: "Đơn vị cần hỗ trợ gì?"
        type: multi_choice
        or_other: true
        choices: [{value: may, label: Máy tính}, {value: mang, label: Đường truyền}]
      - {key: bye, label: "Cảm ơn đơn vị đã trả lời.", type: note}
"""


def test_notes_only_section_and_last_note__said_on_the_way_and_at_the_end(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(NOTES_YAML, encoding="utf-8")
    form = load_form(path)
    chat = Chat(form)
    said = chat.send("/start")
    assert said.index("Điền số liệu của cả năm 2026.") < said.index("【II. Nhu cầu】") < said.index("Đơn vị cần hỗ trợ gì?")
    said = chat.send("1, 3")
    assert "Bạn chọn “Khác”: vui lòng ghi rõ (Nhu cầu hỗ trợ)." == said
    said = chat.send("Máy in")
    assert said.startswith("Cảm ơn đơn vị đã trả lời.")
    assert (["may", "other"], "Máy in") == (chat.answers["needs.kinds"], chat.answers["needs.kinds_other"])
    assert "- Nhu cầu hỗ trợ: Máy tính, Khác (ghi rõ): Máy in" in chat.send("xem lại 2")
    assert "đã xong 2/2 phần" in chat.send("xem lại")


def test_load__calculate_and_meta_without_label__named_by_their_key(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("""\
id: r
title: R
sections:
  - key: s
    title: S
    questions:
      - {key: start, type: meta, meta: start}
      - {key: a, label: A, prompt: "A?", type: integer}
      - {key: double_a, type: calculate, calculation: "${a} * 2"}
""", encoding="utf-8")
    chat = Chat(load_form(path))
    chat.send("/start")
    chat.send("4")
    assert "- double_a: 8" in chat.send("xem lại 1")


def test_repeat__first_question_conditional_on_another_section__item_starts_at_the_first_that_applies(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("""\
id: r
title: R
sections:
  - key: a
    title: I. Chung
    questions:
      - {key: has_code, label: Có mã cán bộ, prompt: "Cán bộ có mã số không?", type: yes_no}
  - key: people
    title: II. Cán bộ
    repeat: {min: 1, max: 3, item: cán bộ}
    questions:
      - {key: code, label: Mã số, prompt: "Mã số cán bộ?", type: text, relevant: "${has_code} = 'yes'"}
      - {key: name, label: Họ và tên, prompt: "Họ tên?", type: name}
""", encoding="utf-8")
    form = load_form(path)
    chat = Chat(form)
    chat.send("/start")
    said = chat.send("không")
    assert "Họ tên?" in said and "Mã số cán bộ?" not in said  # below its minimum: no "có … nào không?"
    said = chat.send("Lê Thị Mai")
    assert "Đã lưu cán bộ thứ 1: Lê Thị Mai." in said and "Cán bộ thứ 2\nHọ tên?" in said
    chat.send("xong")
    assert ["people[1].name"] == [k for k in chat.answers if k.startswith("people[")]
    chat2 = Chat(form)
    chat2.send("/start")
    assert "Mã số cán bộ?" in chat2.send("có")


# --- i24-fix: references to any question of the form, the functions real XLSForms use ---

FORWARD_YAML = """\
id: f
title: F
sections:
  - key: s
    title: Người khai
    questions:
      - {key: ten, label: Tên, prompt: "Tên?", type: text}
      - {key: lan_dau, label: Khai lần đầu, prompt: "Khai lần đầu?", type: yes_no, relevant: "${ma_cu} = ''"}
      - {key: so, label: Số lần, prompt: "Số lần?", type: integer, relevant: "${so} = '' or ${so} > 0"}
      - {key: goi, label: Gọi là, type: calculate, calculation: "concat(normalize-space(${ten}), ' / ', ${ma_cu})"}
  - key: t
    title: Hồ sơ
    questions:
      - {key: ma_cu, label: Mã cũ, prompt: "Mã cũ?", type: text, required: false}
      - {key: dien_tich, label: Diện tích, prompt: "Diện tích?", type: decimal}
      - {key: canh, label: Cạnh, type: calculate, calculation: "round(sqrt(${dien_tich}), 2)"}
      - {key: tinh, label: Mã tỉnh, type: calculate, calculation: "substr(${ma_cu}, 0, 2)"}
"""


@pytest.fixture()
def forward_form(tmp_path):
    path = tmp_path / "forward.yaml"
    path.write_text(FORWARD_YAML, encoding="utf-8")
    return load_form(path)


def test_reference__a_later_section_not_answered_yet__reads_as_empty_and_the_question_is_asked(forward_form):
    chat = Chat(forward_form)
    assert "Tên?" in chat.send("/start")
    assert "Khai lần đầu?" in chat.send("  Nguyễn   Lan ")  # ma_cu (later) not answered: '' = '' holds
    assert "Số lần?" in chat.send("có")
    assert "Mã cũ?" in chat.send("3")  # its own name in its relevant: empty, then its answer
    assert (True, 3, "Nguyễn Lan / ") == (chat.answers["s.lan_dau"], chat.answers["s.so"], chat.answers["s.goi"])


def test_reference__the_later_answer_given__calculation_recomputed_and_condition_follows_it(forward_form):
    chat = Chat(forward_form)
    for said in ("/start", "Lan", "có", "3", "HN-0042", "16"):
        chat.send(said)
    answers = chat.answers
    assert ("Lan / HN-0042", 4, "HN") == (answers["s.goi"], answers["t.canh"], answers["t.tinh"])
    assert "s.lan_dau" not in answers  # its condition names ma_cu, now answered: the answer no longer applies
    assert "- Gọi là: Lan / HN-0042" in chat.send("xem lại 1")


def test_reference__a_name_not_in_the_form__refused_in_one_line(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(FORWARD_YAML.replace("${ma_cu} = ''", "${ma_ko_co} = ''"), encoding="utf-8")
    with pytest.raises(FormError) as caught:
        load_form(path)
    assert (f"{path}: sections[0] (s).questions[1] (lan_dau).relevant: "
            + texts.FORM_ERR_NOT_IN_FORM.format(name="ma_ko_co") == str(caught.value))


@pytest.mark.parametrize(("source", "expected"), [
    ("normalize-space('  Sở   Tư pháp ')", "Sở Tư pháp"),
    ("substr('HN-0042', 3)", "0042"),
    ("substr('HN-0042', 0, 2)", "HN"),
    ("substring-before('a-b-c', '-')", "a"),
    ("substring-after('a-b-c', '-')", "b-c"),
    ("translate('Sở y tế', 'ởy', 'OY')", "SO Y tế"),
    ("ends-with(${ten}, 'Lan')", "true"),
    ("sqrt(${n})", 3),
    ("sqrt(-1)", None),
    ("pow(2, 10)", 1024),
    ("log10(1000)", 3),
    ("round(exp(0) + log(1), 0)", 1),
    ("max(${ds})", 7),
    ("min(${ds}, 0)", 0),
    ("max(${ds}, ${trong})", None),
    ("once(concat(${ten}, '!'))", "Nguyễn Lan!"),
    ("join(', ', ${ds})", "4, 7, 2"),
    ("join('-', ${ten}, ${trong}, 'x')", "Nguyễn Lan-x"),
    ("round(cos(pi()) + sin(0) + tan(0) + atan2(0, 1), 0)", -1),
    ("round(asin(1) * 2, 4) = round(pi(), 4) and acos(1) = atan(0)", "true"),
    ("format-date(${ngay}, '%d/%m/%Y')", "02/03/2027"),
    ("format-date(${ngay}, '%e %b %y, %a')", "2 Mar 27, Tue"),
    ("format-date-time(${luc}, '%Y-%m-%d %H:%M:%S.%3')", "2027-03-02 07:05:09.250"),
    ("format-date-time(${luc}, '%h giờ %n/%e')", "7 giờ 3/2"),
    ("format-date(${ten}, '%d/%m/%Y')", None),
    ("format-date(${trong}, '%Y')", None),
])
def test_functions__real_forms_use__evaluated_as_odk(source, expected):
    values = {"ten": "Nguyễn Lan", "n": 9, "ds": [4, 7, 2], "trong": None, "ngay": "2027-03-02",
              "luc": "2027-03-02T07:05:09.250+07:00"}
    assert expected == parse_expression(source).evaluate(values)


def test_reference__a_calculation_naming_itself__reads_its_own_stored_value(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("""\
id: r
title: R
sections:
  - key: s
    title: S
    questions:
      - {key: a, label: A, prompt: "A?", type: integer}
      - {key: lap, label: Lập lần đầu, type: calculate, calculation: "coalesce(${lap}, concat(today(), '/', ${a}))"}
""", encoding="utf-8")
    chat = Chat(load_form(path))
    chat.send("/start")
    chat.send("5")
    assert "2027-03-02/5" == chat.answers["s.lap"]
    for said in ("sửa", "1", "1", "7"):  # a changed: the calculation reads its own value first and keeps it
        chat.send(said)
    assert (7, "2027-03-02/5") == (chat.answers["s.a"], chat.answers["s.lap"])
