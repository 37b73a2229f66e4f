"""The conversation engine, event by event, through the real form: commands, conditions, repeats, warnings,
filtered choices, the edit menu, submission and the deadline."""

from datetime import datetime, timedelta, timezone

import pytest

from conversations import texts
from conversations.answers import LOCAL_TZ, item_numbers, review_summary, review_text, scope, scopes
from conversations.engine import (
    IN_PROGRESS, NOT_STARTED, SUBMITTED, SUBMITTED_LATE, Option, Photo, PhotoRefused, Pick, Reply, ReportInfo, Start,
    State, Text, Unsupported, is_locked, parse_command, render_plain, step,
)
from conversations.form import load_form

FORM = load_form()
NOW = datetime(2017, 3, 28, 9, 0, tzinfo=LOCAL_TZ)
DEADLINE = datetime(2017, 3, 28, 16, 30, tzinfo=LOCAL_TZ)
AFTER_DEADLINE = datetime(2017, 3, 28, 17, 5, tzinfo=LOCAL_TZ)
UNIT = "Sở Tư pháp"
DEADLINE_TEXT = "16:30 ngày 28/03/2017"

MAIN = "I.2. Nhân sự chính tại trung tâm"

# A complete report, small: two main staff, one backup, one postal contact, one plan item.
COMPLETE = {
    "reporter.name": "Nguyễn Thị Lan",
    "reporter.phone": "+84912345678",
    "leader[1].name": "Trần Văn Hùng",
    "leader[1].position": "Phó Giám đốc Sở",
    "leader[1].phone": "+84913456789",
    "main_staff[1].name": "Lê Thị Mai",
    "main_staff[1].position": "Chuyên viên",
    "main_staff[1].phone": "+84987654321",
    "main_staff[1].gender": "nu",
    "main_staff[1].shirt_size": "9",
    "main_staff[1].photo": 11,
    "main_staff[2].name": "Trần Văn Bình",
    "main_staff[2].position": "Chuyên viên",
    "main_staff[2].phone": "+84905111222",
    "main_staff[2].gender": "nam",
    "main_staff[2].shirt_size": "40",
    "main_staff[2].photo": 12,
    "main_staff.__done__": True,
    "backup_staff[1].name": "Phạm Văn Nam",
    "backup_staff[1].position": "Chuyên viên",
    "backup_staff[1].phone": "+84905123456",
    "backup_staff[1].photo": 21,
    "backup_staff.__done__": True,
    "postal_staff[1].name": "Võ Thị Hoa",
    "postal_staff[1].position": "Văn thư",
    "postal_staff[1].phone": "+84934222333",
    "postal_staff.__done__": True,
    "procedures.tthc_total": 125,
    "procedures.tthc_total_partners": "Sở Tài chính",
    "procedures.tthc_linked": 12,
    "procedures.tthc_linked_partners": "Công an tỉnh",
    "procedures.public_services": 125,
    "procedures.public_services_partners": None,
    "procedures.online_services": 40,
    "procedures.online_services_partners": None,
    "procedures.postal_return": 80,
    "procedures.postal_return_partners": "Bưu điện tỉnh",
    "procedures.postal_receive": 60,
    "procedures.postal_receive_partners": "Bưu điện tỉnh",
    "procedures.postal_online": 0,
    "pickup.agree": False,
    "pickup.proposed_times": "09:30 và 14:30",
    "pickup.address": "Tầng 1, số 2 Nguyễn Văn Trị, Biên Hòa",
    "pickup.notes": None,
    "plan[1].content": "Rà soát bộ TTHC",
    "plan[1].detail": "Rà soát 125 TTHC",
    "plan[1].start": "2017-04-01",
    "plan[1].end": "2017-04-30",
    "plan[1].responsibility": "rieng",
    "plan[1].partners": None,
    "plan.__done__": True,
    "issues.text": None,
}


def without(*keys: str) -> dict:
    """The complete answers minus some: a key, a prefix ending in '.' or '[' ("main_staff[2].") or a whole section."""

    def dropped(a: str, k: str) -> bool:
        if "." not in k and "[" not in k:
            return a.startswith((f"{k}.", f"{k}["))
        return a == k or (k[-1] in ".[" and a.startswith(k))

    return {a: v for a, v in COMPLETE.items() if not any(dropped(a, k) for k in keys)}


def report(**changes) -> ReportInfo:
    return ReportInfo(**{"unit_name": UNIT, "deadline_at": DEADLINE, "status": IN_PROGRESS, **changes})


def opened(answers: dict, now: datetime = NOW, **report_changes) -> State:
    """The state after the person opens the chat: the cursor at the first question not answered yet."""
    state, _ = step(FORM, State(answers=answers, report=report(**report_changes)), Start(), now)
    return state


def send(state: State, *events, now: datetime = NOW) -> tuple[State, Reply]:
    """Send events one by one (text for a str); the state after the last and its one reply."""
    reply = None
    for event in events:
        event = Text(event) if isinstance(event, str) else event
        state, replies = step(FORM, state, event, now)
        assert 1 == len(replies)
        reply = replies[0]
    return state, reply


def prompt(section: str, question: str) -> str:
    return FORM.section(section).question(question).prompt


# --- parse_command ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("quay lại", "back"), ("Quay Lai", "back"), ("/quaylai", "back"), ("back", "back"),
        ("bỏ qua", "skip"), ("bo qua", "skip"), ("/boqua", "skip"), ("Bỏ qua.", "skip"),
        ("xem lại", "review"), ("xem lai", "review"), ("/xemlai", "review"),
        ("sửa", "edit"), ("SUA", "edit"), ("/sua", "edit"), ("chỉnh sửa", "edit"),
        ("nộp", "submit"), ("nop", "submit"), ("/nop", "submit"), ("Nộp báo cáo", "submit"),
        ("trợ giúp", "help"), ("tro giup", "help"), ("/help", "help"), ("?", "help"),
        ("xong", "done"), ("Xong!", "done"), ("/done", "done"),
        ("bổ sung", "missing"), ("bo sung", "missing"), ("/bosung", "missing"),
        ("không có", "none"), ("khong co", "none"), ("Không", "none"), ("không.", "none"), ("Không ạ", "none"),
        ("xong ạ", "done"), ("Nộp ạ!", "submit"),
        ("/start", "start"), ("/start@hcc_bot", "start"),
    ],
)
def test_parse_command__with_or_without_slash_and_diacritics__same_command(typed, command):
    assert (command, "") == parse_command(typed)


@pytest.mark.parametrize("typed", ["sửa 3", "/sua 3", "Sửa mục 3", "sua muc 3", "chỉnh sửa 3"])
def test_parse_command__edit_with_a_number__section_argument(typed):
    assert ("edit", "3") == parse_command(typed)


@pytest.mark.parametrize("typed", ["Lê Thị Mai", "Sửa chữa trụ sở", "không biết", "125", "xong việc rà soát",
                                   "Bộ phận một cửa, tầng 1, số 2 Nguyễn Văn Trị, Biên Hòa"])
def test_parse_command__an_answer__not_a_command(typed):
    assert None is parse_command(typed)


# --- Start, help, Unsupported ---------------------------------------------------------------------------------


def test_step__first_contact__welcome_and_first_question():
    state, reply = send(State(answers={}, report=report(status=NOT_STARTED)), Start())
    assert reply.text.startswith(texts.WELCOME.format(unit=UNIT, title=FORM.title, deadline=DEADLINE_TEXT))
    assert reply.text.endswith(prompt("reporter", "name"))
    assert {"mode": "fill", "stage": "ask", "slot": {"s": "reporter", "i": None, "q": "name", "new": False},
            "seen": NOW.isoformat()} == state.cursor


def test_step__first_answer__report_in_progress():
    state = opened({}, status=NOT_STARTED)
    state, _ = send(state, "Nguyễn Thị Lan")
    assert (IN_PROGRESS, {"reporter.name": "Nguyễn Thị Lan"}) == (state.report.status, state.answers)


def test_start__in_the_middle__welcome_back_and_same_question_again():
    state = opened(without("procedures.tthc_linked"))
    resumed, reply = send(state, Start())
    assert reply.text.startswith(texts.WELCOME_BACK.format(unit=UNIT))
    assert prompt("procedures", "tthc_linked") in reply.text
    assert (state.answers, state.cursor) == (resumed.answers, resumed.cursor)


def test_start__report_complete__welcome_back_and_ready_to_submit():
    _, reply = send(opened(COMPLETE), Start())
    assert texts.WELCOME_BACK.format(unit=UNIT) + "\n\n" + texts.END_READY == reply.text


def test_help__at_a_question__help_then_the_question_in_one_message():
    state = opened(without("pickup.address"))
    after, reply = send(state, "trợ giúp")
    assert reply.text.startswith(texts.HELP + "\n\n")
    assert prompt("pickup", "address") in reply.text
    assert state.answers == after.answers


@pytest.mark.parametrize("kind", ["sticker", "voice", ""])
def test_unsupported__at_a_question__says_so_and_asks_again(kind):
    state = opened(without("pickup.address"))
    after, reply = send(state, Unsupported(kind))
    assert f"{texts.UNSUPPORTED_MESSAGE}\n\n{prompt('pickup', 'address')}" == reply.text
    assert state.answers == after.answers


def test_unsupported__after_the_last_question__says_so_and_what_is_next():
    _, reply = send(opened(COMPLETE), Unsupported("sticker"))
    assert f"{texts.UNSUPPORTED_MESSAGE}\n\n{texts.END_READY}" == reply.text


# --- back and skip ---------------------------------------------------------------------------------------------


def test_back__after_an_answer__previous_question_with_its_current_value():
    state = opened({})
    state, _ = send(state, "Nguyễn Thị Lan")
    after, reply = send(state, "quay lại")
    assert prompt("reporter", "name") in reply.text
    assert texts.CURRENT_VALUE.format(value="Nguyễn Thị Lan") in reply.text
    assert state.answers == after.answers


def test_back__first_question__nothing_before():
    _, reply = send(opened({}), "/quaylai")
    assert reply.text.startswith(texts.NOTHING_BEFORE + "\n\n")
    assert reply.text.endswith(prompt("reporter", "name"))


def test_back__then_a_new_answer__replaces_the_old_one():
    state = opened(without("procedures.postal_receive", "procedures.postal_receive_partners", "procedures.postal_online"))
    state, _ = send(state, "quay lại", "quay lại", "81")
    assert 81 == state.answers["procedures.postal_return"]


def test_skip__optional_question__stored_as_skipped_and_next_question():
    state = opened(without("procedures.tthc_total_partners"))
    state, reply = send(state, "bỏ qua")
    assert None is state.answers["procedures.tthc_total_partners"]
    assert prompt("pickup", "address") not in reply.text


def test_skip__required_question__refused_and_nothing_stored():
    state = opened(without("pickup.address"))
    after, reply = send(state, "bo qua")
    assert f"{texts.SKIP_REQUIRED}\n\n{prompt('pickup', 'address')}" == reply.text
    assert state.answers == after.answers


def test_skip__question_with_a_value__value_kept():
    state = opened(without("pickup.notes"))
    state, _ = send(state, "quay lại")
    after, reply = send(state, "bỏ qua")
    assert "Tầng 1, số 2 Nguyễn Văn Trị, Biên Hòa" == after.answers["pickup.address"]
    assert prompt("pickup", "notes") in reply.text


# --- "không có" -----------------------------------------------------------------------------------------------


def test_none__first_item_of_optional_list__list_closed_and_next_section():
    state = opened(without("backup_staff", "postal_staff"))
    state, reply = send(state, "không có")
    assert True is state.answers["backup_staff.__done__"]
    assert not any(k.startswith("backup_staff[") for k in state.answers)
    assert "【I.4." in reply.text


def test_none__list_below_its_minimum__asked_for_an_item_and_nothing_stored():
    state = opened(without("main_staff"))
    after, reply = send(state, "không có")
    assert reply.text.startswith(texts.NEED_MIN_ITEMS.format(min=1, item="nhân sự chính"))
    assert state.answers == after.answers


def test_none__optional_question__stored_as_none():
    state = opened(without("procedures.tthc_total_partners"))
    state, _ = send(state, "không có")
    assert None is state.answers["procedures.tthc_total_partners"]


def test_none__yes_no_question__answers_no_and_asks_proposed_times():
    state = opened(without("pickup."))
    state, reply = send(state, "không")
    assert False is state.answers["pickup.agree"]
    assert prompt("pickup", "proposed_times") in reply.text


def test_none__count_question__stored_as_zero_and_partners_not_asked():
    state = opened(without("procedures.postal_online"))
    state, reply = send(state, "không có")
    assert 0 == state.answers["procedures.postal_online"]
    assert prompt("procedures", "postal_online_partners") not in reply.text


def test_none__required_text__refused_and_nothing_stored():
    state = opened(without("pickup.address"))
    after, reply = send(state, "không có")
    assert f"{texts.SKIP_REQUIRED}\n\n{prompt('pickup', 'address')}" == reply.text
    assert state.answers == after.answers


def test_none__photo_question__photo_deferred():
    state = opened(without("main_staff[2].photo"))
    state, reply = send(state, "không có")
    assert None is state.answers["main_staff[2].photo"]
    assert texts.DEFERRED in reply.text


# --- "xong" -----------------------------------------------------------------------------------------------------


def test_done__new_item_of_a_list__list_closed_and_next_section():
    state = opened(without("main_staff.__done__"))
    state, reply = send(state, "xong")
    assert True is state.answers["main_staff.__done__"]
    assert "【I.3." not in reply.text  # backup staff is complete: the next question is further on
    assert texts.END_READY == reply.text


def test_done__list_below_its_minimum__asked_for_an_item():
    state = opened(without("postal_staff"))
    after, reply = send(state, "xong")
    assert reply.text.startswith(texts.NEED_MIN_ITEMS.format(min=1, item="nhân sự tiếp nhận - trả hồ sơ với bưu điện"))
    assert state.answers == after.answers


def test_done__item_half_entered__refused_and_nothing_stored():
    state = opened(without("main_staff[2].gender", "main_staff[2].shirt_size", "main_staff[2].photo",
                           "main_staff.__done__"))
    after, reply = send(state, "xong")
    assert reply.text.startswith(texts.DONE_NOT_HERE.format(item="nhân sự chính"))
    assert state.answers == after.answers


def test_done__at_optional_last_question_of_an_item__item_kept_and_list_closed():
    state = opened(without("plan[1].partners", "plan.__done__"))
    state, reply = send(state, "xong")
    assert (None, True) == (state.answers["plan[1].partners"], state.answers["plan.__done__"])
    assert texts.END_READY == reply.text


def test_done__at_a_deferrable_photo__photo_deferred_and_list_closed():
    state = opened(without("main_staff[2].photo", "main_staff.__done__"))
    state, reply = send(state, "xong")
    assert (None, True) == (state.answers["main_staff[2].photo"], state.answers["main_staff.__done__"])
    assert texts.DEFERRED in reply.text


def test_done__required_question_outside_a_list__explains_and_asks_again():
    state = opened(without("pickup.address"))
    after, reply = send(state, "xong")
    assert f"{texts.DONE_NO_LIST}\n\n{prompt('pickup', 'address')}" == reply.text
    assert state.answers == after.answers


# --- Review -----------------------------------------------------------------------------------------------------


def test_review_text__reporter_and_no_backup__sections_then_what_is_missing():
    answers = {"reporter.name": "Nguyễn Thị Lan", "reporter.phone": "+84912345678", "backup_staff.__done__": True}
    expected = (
        "Người điền báo cáo\n- Người điền báo cáo: Nguyễn Thị Lan\n- Số điện thoại người điền: 0912 345 678\n\n"
        "I.1. Lãnh đạo phụ trách trực tiếp\n(chưa có)\n\n"
        "I.2. Nhân sự chính tại trung tâm\n(chưa có)\n\n"
        "I.3. Nhân sự dự phòng tại trung tâm\n(không có)\n\n"
        "I.4. Nhân sự tiếp nhận - trả hồ sơ tại đơn vị với bưu điện\n(chưa có)\n\n"
        "II. Về quy trình tiếp nhận – chuyển hồ sơ\n(chưa có)\n\n"
        "II. Lịch thu gom – giao nhận hồ sơ của bưu điện\n(chưa có)\n\n"
        "III. Kế hoạch chi tiết triển khai\n(chưa có)\n\n"
        "IV. Khó khăn, kiến nghị khác\n(chưa có)\n\n"
        "CÒN THIẾU:\n"
        "- I.1. Lãnh đạo phụ trách trực tiếp: cần ít nhất 1 lãnh đạo\n"
        "- I.2. Nhân sự chính tại trung tâm: cần ít nhất 1 nhân sự chính\n"
        "- I.4. Nhân sự tiếp nhận - trả hồ sơ tại đơn vị với bưu điện: cần ít nhất 1 nhân sự tiếp nhận - trả hồ sơ với bưu điện\n"
        "- II. Về quy trình tiếp nhận – chuyển hồ sơ: Thủ tục hành chính\n"
        "- II. Về quy trình tiếp nhận – chuyển hồ sơ: Thủ tục hành chính liên thông\n"
        "- II. Về quy trình tiếp nhận – chuyển hồ sơ: Dịch vụ công\n"
        "- II. Về quy trình tiếp nhận – chuyển hồ sơ: Dịch vụ công trực tuyến\n"
        "- II. Về quy trình tiếp nhận – chuyển hồ sơ: Trả kết quả qua bưu điện\n"
        "- II. Về quy trình tiếp nhận – chuyển hồ sơ: Nhận hồ sơ qua bưu điện\n"
        "- II. Về quy trình tiếp nhận – chuyển hồ sơ: DVC trực tuyến kết hợp bưu điện\n"
        "- II. Lịch thu gom – giao nhận hồ sơ của bưu điện: Đồng ý thu gom 10:00 và 15:00\n"
        "- II. Lịch thu gom – giao nhận hồ sơ của bưu điện: Địa chỉ giao nhận tại đơn vị\n"
        "- III. Kế hoạch chi tiết triển khai: cần ít nhất 1 nội dung kế hoạch"
    )
    assert expected == review_text(FORM, answers)


def test_review_text__complete_report__items_by_section_and_nothing_missing():
    review = review_text(FORM, COMPLETE)
    assert (
        f"{MAIN}\n"
        "1. Tên: Lê Thị Mai; Chức vụ: Chuyên viên; Số điện thoại: 0987 654 321; Giới tính: Nữ; Kích cỡ áo: 9; "
        "Ảnh 3x4: đã có ảnh\n"
        "2. Tên: Trần Văn Bình; Chức vụ: Chuyên viên; Số điện thoại: 0905 111 222; Giới tính: Nam; Kích cỡ áo: 40; "
        "Ảnh 3x4: đã có ảnh\n\n"
    ) in review
    assert "- Dịch vụ công: đơn vị liên thông: không có\n" in review
    assert "DVC trực tuyến kết hợp bưu điện: đơn vị liên thông" not in review  # count 0: not asked
    assert review.endswith(texts.REVIEW_COMPLETE)


def test_review__at_a_question__review_then_the_question_and_nothing_changed():
    state = opened(without("pickup.address"))
    after, reply = send(state, "xem lại")
    assert reply.text.startswith(review_summary(FORM, state.answers) + "\n\n【II. Lịch thu gom")
    assert reply.text.endswith(prompt("pickup", "address"))
    assert (state.answers, state.cursor) == (after.answers, after.cursor)


def test_review__missing_deferred_photo__listed_with_the_person():
    _, reply = send(opened(without("main_staff[2].photo") | {"main_staff[2].photo": None}), "xem lại")
    assert f"{texts.REVIEW_MISSING_HEADER}\n- {MAIN} – Trần Văn Bình: Ảnh 3x4" in reply.text


# --- Submit -----------------------------------------------------------------------------------------------------


def test_submit__something_missing__lists_it_and_status_unchanged():
    state = opened(without("pickup.address", "main_staff[1].photo"))
    after, reply = send(state, "nộp")
    items = f"- {MAIN} – Lê Thị Mai: Ảnh 3x4\n- II. Lịch thu gom – giao nhận hồ sơ của bưu điện: Địa chỉ giao nhận tại đơn vị"
    assert reply.text.startswith(texts.CANNOT_SUBMIT.format(items=items))
    assert (IN_PROGRESS, None) == (after.report.status, after.report.submitted_at)


def test_submit__complete__submitted_now():
    state, reply = send(opened(COMPLETE), "/nop")
    assert texts.SUBMITTED.format(at="09:00 ngày 28/03/2017", deadline=DEADLINE_TEXT) == reply.text
    assert (SUBMITTED, NOW, False) == (state.report.status, state.report.submitted_at, state.report.changed_since_submit)


def test_submit__again_without_changes__already_submitted_and_same_version():
    state, _ = send(opened(COMPLETE), "nộp")
    later = datetime(2017, 3, 28, 11, 0, tzinfo=LOCAL_TZ)
    after, reply = send(state, "nộp", now=later)
    assert reply.text.startswith(texts.ALREADY_SUBMITTED.format(at="09:00 ngày 28/03/2017"))
    assert NOW == after.report.submitted_at


def test_submit__from_the_edit_menu__submitted():
    state, reply = send(opened(COMPLETE), "sửa", "nộp")
    assert (SUBMITTED, texts.SUBMITTED.format(at="09:00 ngày 28/03/2017", deadline=DEADLINE_TEXT)) == \
        (state.report.status, reply.text)


# --- Edit after submitting, deadline, reopening ------------------------------------------------------------------


def submitted() -> State:
    state, _ = send(opened(COMPLETE), "nộp")
    return state


def test_edit_after_submit__answer_changed__still_submitted_and_marked_changed():
    later = datetime(2017, 3, 28, 10, 0, tzinfo=LOCAL_TZ)
    state, reply = send(submitted(), "sửa 7", Pick("f:address"), "Tầng 2, số 2 Nguyễn Văn Trị, Biên Hòa", now=later)
    assert reply.text.startswith(texts.CHANGED_AFTER_SUBMIT)
    assert (SUBMITTED, NOW, True) == (state.report.status, state.report.submitted_at, state.report.changed_since_submit)


def test_edit_after_submit__resubmitted__new_version_time():
    later = datetime(2017, 3, 28, 10, 0, tzinfo=LOCAL_TZ)
    state, _ = send(submitted(), "sửa 7", Pick("f:address"), "Tầng 2", "xong", now=later)
    state, reply = send(state, "nộp", now=later)
    assert texts.SUBMITTED.format(at="10:00 ngày 28/03/2017", deadline=DEADLINE_TEXT) == reply.text
    assert (SUBMITTED, later, False) == (state.report.status, state.report.submitted_at, state.report.changed_since_submit)


def test_edit_after_submit__same_answer_again__not_marked_changed():
    state, reply = send(submitted(), "sửa 7", Pick("f:address"), "Tầng 1, số 2 Nguyễn Văn Trị, Biên Hòa")
    assert False is state.report.changed_since_submit
    assert texts.CHANGED_AFTER_SUBMIT not in reply.text


@pytest.mark.parametrize(
    "event",
    [Text("Tầng 9"), Text("sửa"), Text("sửa 3"), Text("bỏ qua"), Text("quay lại"), Text("không có"), Text("xong"),
     Text("bổ sung"), Photo(99), Pick("yes"), PhotoRefused("Ảnh lỗi")],
    ids=repr,
)
def test_after_deadline__any_change__read_only_and_nothing_changed(event):
    state = opened(without("pickup.address"))
    after, reply = send(state, event, now=AFTER_DEADLINE)
    assert texts.READ_ONLY.format(deadline=DEADLINE_TEXT) == reply.text
    assert state.answers == after.answers


def test_after_deadline__review__review_then_read_only_without_a_question():
    state = opened(without("pickup.address"))
    _, reply = send(state, "xem lại", now=AFTER_DEADLINE)
    assert f"{review_summary(FORM, state.answers)}\n\n{texts.READ_ONLY.format(deadline=DEADLINE_TEXT)}" == reply.text


def test_after_deadline__help__help_then_read_only():
    _, reply = send(opened(without("pickup.address")), "trợ giúp", now=AFTER_DEADLINE)
    assert f"{texts.HELP}\n\n{texts.READ_ONLY.format(deadline=DEADLINE_TEXT)}" == reply.text


def test_after_deadline__submit__refused_and_status_unchanged():
    state, reply = send(opened(COMPLETE), "nộp", now=AFTER_DEADLINE)
    assert texts.READ_ONLY.format(deadline=DEADLINE_TEXT) == reply.text
    assert (IN_PROGRESS, None) == (state.report.status, state.report.submitted_at)


def test_after_deadline__first_contact__welcome_then_read_only():
    _, reply = send(State(answers={}, report=report(status=NOT_STARTED)), Start(), now=AFTER_DEADLINE)
    assert reply.text.endswith(texts.READ_ONLY.format(deadline=DEADLINE_TEXT))


def test_is_locked__deadline_passed_and_reopened__not_locked():
    assert (False, True, False) == (is_locked(report(), NOW), is_locked(report(), AFTER_DEADLINE),
                                     is_locked(report(reopened=True), AFTER_DEADLINE))


def test_reopened_after_deadline__answer_then_submit__submitted_late():
    state = opened(without("pickup.address"), now=AFTER_DEADLINE, reopened=True)
    state, _ = send(state, "Tầng 1", now=AFTER_DEADLINE)
    state, reply = send(state, "nộp", now=AFTER_DEADLINE)
    assert texts.SUBMITTED_LATE.format(at="17:05 ngày 28/03/2017", deadline=DEADLINE_TEXT) == reply.text
    assert (SUBMITTED_LATE, AFTER_DEADLINE, "Tầng 1") == (state.report.status, state.report.submitted_at,
                                                        state.answers["pickup.address"])


# --- Bad input changes nothing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gap", "typed", "error"),
    [
        ("reporter.phone", "0912 345", texts.PHONE_INVALID),
        ("reporter.phone", "028 3822 1234", texts.PHONE_NOT_MOBILE),
        ("reporter.name", "   ", texts.EMPTY_ANSWER),
        ("procedures.tthc_total", "khoảng 100", texts.INTEGER_INVALID),
        ("procedures.tthc_total", "-5", texts.INTEGER_NEGATIVE),
        ("plan[1].start", "đầu tháng 4", texts.DATE_INVALID.format(example="28/03/2017")),
        ("plan[1].start", "31/4/2017", texts.DATE_NOT_EXIST.format(raw="31/4/2017", example="28/03/2017")),
        ("main_staff[1].gender", "khác", texts.CHOICE_NOT_IN_LIST.format(raw="khác")),
        ("pickup.agree", "để hỏi lại", texts.YES_NO_INVALID),
        ("main_staff[1].photo", "ảnh đây ạ", texts.PHOTO_EXPECTED),
    ],
)
def test_bad_input__any_question__error_and_question_in_one_message_nothing_stored(gap, typed, error):
    gaps = [gap] + (["plan[1].end"] if gap == "plan[1].start" else [])
    gaps += ["main_staff[1].shirt_size"] if gap == "main_staff[1].gender" else []
    state = opened(without(*gaps))
    after, reply = send(state, typed)
    section, question = gap.split("[")[0].split(".")[0], gap.rsplit(".", 1)[1]
    assert reply.text.startswith(error + "\n\n" + prompt(section, question))
    assert state.answers == after.answers


# --- Conditions -------------------------------------------------------------------------------------------------


def test_condition__count_above_zero__partner_units_asked():
    state = opened(without("procedures.", "pickup.", "plan", "issues."))
    _, reply = send(state, "125")
    assert prompt("procedures", "tthc_total_partners") in reply.text


def test_condition__count_zero__partner_units_not_asked():
    state = opened(without("procedures.", "pickup.", "plan", "issues."))
    state, reply = send(state, "0")
    assert prompt("procedures", "tthc_linked") in reply.text
    assert "procedures.tthc_total_partners" not in state.answers


def test_condition__agrees_with_pickup_times__proposed_times_not_asked():
    state = opened(without("pickup."))
    _, reply = send(state, "có")
    assert prompt("pickup", "address") in reply.text


def test_condition__count_changed_to_zero__partner_units_dropped():
    state, _ = send(opened(COMPLETE), "sửa 6", Pick("f:tthc_linked"), "0")
    assert 0 == state.answers["procedures.tthc_linked"]
    assert "procedures.tthc_linked_partners" not in state.answers


def test_condition__count_changed_from_zero__partner_units_asked():
    state, reply = send(opened(COMPLETE), "sửa 6", Pick("f:postal_online"), "20")
    assert prompt("procedures", "postal_online_partners") in reply.text


def test_condition__changed_to_agree__proposed_times_dropped():
    state, reply = send(opened(COMPLETE), "sửa 7", Pick("f:agree"), Pick("yes"))
    assert True is state.answers["pickup.agree"]
    assert "pickup.proposed_times" not in state.answers
    assert reply.text.startswith(texts.MENU_FIELDS.format(title="II. Lịch thu gom – giao nhận hồ sơ của bưu điện"))


def test_condition__changed_to_disagree__proposed_times_asked():
    answers = without("pickup.proposed_times") | {"pickup.agree": True}
    state, reply = send(opened(answers), "sửa 7", Pick("f:agree"), "không")
    assert prompt("pickup", "proposed_times") in reply.text


# --- Repeats ----------------------------------------------------------------------------------------------------


def items(section: str, count: int) -> dict:
    """`count` complete items for a repeat section, like the first one of COMPLETE."""
    first = {k.split("].", 1)[1]: v for k, v in COMPLETE.items() if k.startswith(f"{section}[1].")}
    return {f"{section}[{n}].{q}": v for n in range(1, count + 1) for q, v in first.items()}


@pytest.mark.parametrize(("section", "maximum"), [("leader", 1), ("main_staff", 10), ("backup_staff", 10),
                                                  ("postal_staff", 3), ("plan", 20)])
def test_repeat__at_its_maximum__no_new_item_asked_nor_offered(section, maximum):
    answers = without(f"{section}[", f"{section}.__done__") | items(section, maximum)
    state, reply = send(opened(answers), Start())
    assert texts.WELCOME_BACK.format(unit=UNIT) + "\n\n" + texts.END_READY == reply.text
    number = [s.key for s in FORM.sections].index(section) + 1
    _, menu = send(state, f"sửa {number}")
    assert "add" not in [o.value for o in menu.options]


def test_repeat__tenth_main_staff_saved__moves_to_backup_staff():
    answers = without("main_staff", "backup_staff") | items("main_staff", 9)
    state, reply = send(opened(answers), "Ngô Văn Mười, Chuyên viên, 0912 000 010", "nam", "42", Photo(10))
    assert texts.ITEM_SAVED.format(item="nhân sự chính", n=10, name="Ngô Văn Mười") in reply.text
    assert "【I.3. Nhân sự dự phòng tại trung tâm (từ 0 đến 10)】" in reply.text


def test_repeat__leader__one_item_and_no_done_needed():
    state = opened(without("leader", "main_staff"))
    state, reply = send(state, "Trần Văn Hùng, Phó Giám đốc Sở, 0913 456 789")
    assert texts.ITEM_SAVED_ONE.format(item="lãnh đạo", name="Trần Văn Hùng") in reply.text
    assert "Nhân sự chính thứ 1" in reply.text
    assert "leader.__done__" not in state.answers


def test_repeat__new_item_hint__done_when_minimum_reached_none_when_empty():
    _, empty = send(opened(without("backup_staff")), Start())
    _, more = send(opened(without("backup_staff.__done__")), Start())
    _, first = send(opened(without("main_staff")), Start())
    hints = (texts.HINT_NO_ITEMS.format(item="nhân sự dự phòng"), texts.HINT_DONE.format(item="nhân sự dự phòng"),
             texts.HINT_DONE.format(item="nhân sự chính"))
    assert (True, True, False) == (hints[0] in empty.text, hints[1] in more.text, hints[2] in first.text)


def test_repeat__item_numbers__grow_after_a_deletion():
    """Item numbers only grow, so two contacts adding at once never take the same number."""
    answers = without("main_staff.__done__", "main_staff[1].")
    state, _ = send(opened(answers), "Đào Thị Hạnh; Cán sự; 0912 000 333")
    assert "Đào Thị Hạnh" == state.answers["main_staff[3].name"]


# --- Soft warnings ------------------------------------------------------------------------------------------------

WARNED = [
    ("tthc_linked", "Thủ tục hành chính liên thông", "Thủ tục hành chính", 125),
    ("online_services", "Dịch vụ công trực tuyến", "Dịch vụ công", 125),
    ("postal_return", "Trả kết quả qua bưu điện", "Thủ tục hành chính", 125),
    ("postal_receive", "Nhận hồ sơ qua bưu điện", "Thủ tục hành chính", 125),
    ("postal_online", "DVC trực tuyến kết hợp bưu điện", "Thủ tục hành chính", 125),
]


def at_count(question: str) -> State:
    return opened(without(f"procedures.{question}", f"procedures.{question}_partners", "pickup.", "plan", "issues."))


@pytest.mark.parametrize(("question", "label", "other", "limit"), WARNED, ids=[w[0] for w in WARNED])
def test_soft_warning__count_above_its_limit__warns_and_stores_nothing_yet(question, label, other, limit):
    state = at_count(question)
    after, reply = send(state, "300")
    assert texts.SOFT_WARNING.format(label=label, value=300, other=other, limit=limit) == reply.text
    assert (Option("keep", texts.KEEP_VALUE.format(value=300)), Option("redo", texts.REDO_VALUE)) == reply.options
    assert state.answers == after.answers


@pytest.mark.parametrize("keep", [Pick("keep"), Text("1"), Text("đúng"), Text("có"), Text("Giữ nguyên 300")], ids=repr)
def test_soft_warning__confirmed__value_stored(keep):
    state, reply = send(at_count("tthc_linked"), "300", keep)
    assert 300 == state.answers["procedures.tthc_linked"]
    assert prompt("procedures", "tthc_linked_partners") in reply.text


@pytest.mark.parametrize("redo", [Pick("redo"), Text("2"), Text("không"), Text("nhập lại"), Text("quay lại")], ids=repr)
def test_soft_warning__redo__question_again_and_nothing_stored(redo):
    state = at_count("tthc_linked")
    after, reply = send(state, "300", redo)
    assert prompt("procedures", "tthc_linked") == reply.text
    assert state.answers == after.answers


def test_soft_warning__corrected_number_typed__stored():
    state, _ = send(at_count("tthc_linked"), "300", "30")
    assert 30 == state.answers["procedures.tthc_linked"]


@pytest.mark.parametrize(("event", "note"), [(Pick("nu"), texts.STALE_BUTTON), (Photo(5), texts.WARNING_NEEDS_CHOICE),
                                             (Text("bỏ qua"), texts.WARNING_NEEDS_CHOICE)], ids=repr)
def test_soft_warning__other_event__says_so_and_warning_again(event, note):
    state = at_count("tthc_linked")
    state, warning = send(state, "300")
    after, reply = send(state, event)
    assert f"{note}\n\n{warning.text}" == reply.text
    assert state.answers == after.answers


def test_soft_warning__count_within_limit__no_warning():
    state, reply = send(at_count("online_services"), "125")
    assert 125 == state.answers["procedures.online_services"]
    assert texts.SOFT_WARNING.split(":")[0] not in reply.text


# --- Filtered choices ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("gender", "sizes"), [("Nữ", ("5", "7", "9", "12")), ("nam", ("38", "39", "40", "41", "42"))])
def test_shirt_size__by_gender__only_that_gender_sizes_offered(gender, sizes):
    state = opened(without("main_staff[2].gender", "main_staff[2].shirt_size", "main_staff[2].photo"))
    _, reply = send(state, gender)
    assert sizes == tuple(o.label for o in reply.options)


def test_shirt_size__men_size_for_a_woman__refused_and_nothing_stored():
    state = opened(without("main_staff[1].shirt_size"))
    after, reply = send(state, "40")
    assert reply.text.startswith(texts.CHOICE_NOT_IN_LIST.format(raw="40"))
    assert state.answers == after.answers


def test_shirt_size__gender_changed__size_dropped_and_asked_again():
    state, reply = send(opened(COMPLETE), "sửa 3", Pick("i:1"), Pick("f:gender"), Pick("nam"))
    assert "main_staff[1].shirt_size" not in state.answers
    assert prompt("main_staff", "shirt_size") in reply.text
    assert ("38", "39", "40", "41", "42") == tuple(o.label for o in reply.options)
    state, reply = send(state, "41")
    assert ("nam", "41") == (state.answers["main_staff[1].gender"], state.answers["main_staff[1].shirt_size"])
    assert reply.text.startswith(texts.MENU_FIELDS.format(title=f"{MAIN} – Lê Thị Mai"))


# --- Dates ------------------------------------------------------------------------------------------------------------


def test_end_date__before_start__hard_error_and_nothing_stored():
    state = opened(without("plan[1].end", "plan[1].responsibility", "plan[1].partners"))
    after, reply = send(state, "31/3")
    assert f"{texts.DATE_BEFORE.format(start='01/04/2017', example='30/04/2017')}\n\n{prompt('plan', 'end')}" == reply.text
    assert state.answers == after.answers


def test_end_date__same_day_as_start__accepted():
    state, _ = send(opened(without("plan[1].end")), "1/4")
    assert "2017-04-01" == state.answers["plan[1].end"]


def test_start_date__moved_past_end__end_dropped_and_asked_again():
    state, reply = send(opened(COMPLETE), "sửa 8", Pick("i:1"), Pick("f:start"), "15/5/2017")
    assert ("2017-05-15", False) == (state.answers["plan[1].start"], "plan[1].end" in state.answers)
    assert "Ngày kết thúc? Ví dụ: 31/05/2017." in reply.text  # an example after the new start


# --- Compact entry ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [
    "Đào Thị Hạnh\nCán sự\n0912 000 333",
    "Đào Thị Hạnh; Cán sự; 0912.000.333",
    "Đào Thị Hạnh, Cán sự, +84 912 000 333",
    "  Đào Thị Hạnh ;Cán sự;0912000333 ",
], ids=["lines", "semicolons", "commas", "spaces"])
def test_compact__name_position_phone__all_three_stored_and_confirmed(typed):
    state = opened(without("main_staff.__done__"))
    state, reply = send(state, typed)
    stored = {k: v for k, v in state.answers.items() if k.startswith("main_staff[3].")}
    assert {"main_staff[3].name": "Đào Thị Hạnh", "main_staff[3].position": "Cán sự",
            "main_staff[3].phone": "+84912000333"} == stored
    assert reply.text.startswith(texts.COMPACT_ACK.format(summary="Đào Thị Hạnh · Cán sự · 0912 000 333"))
    assert prompt("main_staff", "gender") in reply.text


def test_compact__name_and_position_phone_to_follow__both_kept_and_phone_asked():
    state, reply = send(opened(without("main_staff.__done__")), "Đào Thị Hạnh, Cán sự")
    assert {"main_staff[3].name": "Đào Thị Hạnh", "main_staff[3].position": "Cán sự"} == \
        {k: v for k, v in state.answers.items() if k.startswith("main_staff[3].")}
    assert (texts.COMPACT_ACK.format(summary="Đào Thị Hạnh · Cán sự") + "\n\n"
            + texts.COMPACT_MISSING.format(labels="Số điện thoại") + "\n\n" + prompt("main_staff", "phone")) == reply.text


def test_compact__lines_but_too_few__parts_kept_and_the_rest_asked():
    state, reply = send(opened(without("main_staff.__done__")), "Đào Thị Hạnh\nCán sự")
    assert ("Đào Thị Hạnh", "Cán sự") == (state.answers["main_staff[3].name"], state.answers["main_staff[3].position"])
    assert reply.text.endswith(texts.COMPACT_MISSING.format(labels="Số điện thoại") + "\n\n" + prompt("main_staff", "phone"))


def test_compact__semicolons_with_a_bad_phone__name_and_position_kept_phone_error_and_asked_again():
    state, reply = send(opened(without("main_staff.__done__")), "Đào Thị Hạnh; Cán sự; 0912 000")
    error = texts.COMPACT_PART_ERROR.format(n=3, label="Số điện thoại", error=texts.PHONE_INVALID)
    assert (texts.COMPACT_ACK.format(summary="Đào Thị Hạnh · Cán sự") + "\n\n" + error + "\n\n"
            + prompt("main_staff", "phone")) == reply.text
    assert "main_staff[3].phone" not in state.answers
    state, reply = send(state, "0912 000 333")
    assert "+84912000333" == state.answers["main_staff[3].phone"]
    assert prompt("main_staff", "gender") in reply.text


# What a person types at the first question of a group -> what is stored in that item, and what is asked next.
# Nothing from a line ever lands in another field: a wrong or missing part is asked for again, with its error.
COMPACT_LINES = [
    # the two lines the issue saw, on the backup staff group
    ("backup_staff", "Hoàng Văn Long, Chuyên viên, 0905 123 45",
     {"name": "Hoàng Văn Long", "position": "Chuyên viên"}, "phone", texts.PHONE_INVALID),
    ("backup_staff", "Đặng Thị Thu Trang, Cán bộ",
     {"name": "Đặng Thị Thu Trang", "position": "Cán bộ"}, "phone", None),
    # a landline as the third part
    ("backup_staff", "Hoàng Văn Long, Chuyên viên, 0251 3822 123",
     {"name": "Hoàng Văn Long", "position": "Chuyên viên"}, "phone", texts.PHONE_NOT_MOBILE),
    # the phone first or second: it still goes to the phone
    ("main_staff", "0912 000 333, Đào Thị Hạnh, Cán sự",
     {"name": "Đào Thị Hạnh", "position": "Cán sự", "phone": "+84912000333"}, "gender", None),
    ("main_staff", "Đào Thị Hạnh, 0912 000 333",
     {"name": "Đào Thị Hạnh", "phone": "+84912000333"}, "position", None),
    # name and phone with no separator: unambiguous only where no position sits between them
    ("reporter", "Nguyễn Thị Lan 0912 345 678", {"name": "Nguyễn Thị Lan", "phone": "+84912345678"}, None, None),
    ("main_staff", "Đào Thị Hạnh Cán sự 0912 000 333", {}, "name", texts.COMPACT_AMBIGUOUS),
    ("main_staff", "Đào Thị Hạnh, 0912 000 333, 0987 654 321", {}, "name", texts.COMPACT_AMBIGUOUS),
    # a name with digits is never stored as a name
    ("main_staff", "Đào Thị Hạnh 2", {}, "name", texts.NAME_HAS_DIGITS),
    ("leader", "Trần Văn Hùng, Phó Giám đốc Sở, 0913 456",
     {"name": "Trần Văn Hùng", "position": "Phó Giám đốc Sở"}, "phone", texts.PHONE_INVALID),
    ("leader", "Trần Văn Hùng; ; 0913 456 789", {"name": "Trần Văn Hùng", "phone": "+84913456789"}, "position", None),
    ("postal_staff", "Võ Thị Hoa\nVăn thư\n0934 222 333",
     {"name": "Võ Thị Hoa", "position": "Văn thư", "phone": "+84934222333"}, None, None),
    ("postal_staff", "Võ Thị Hoa, Văn thư, 0934 222 333, 0987 111 222", {}, "name",
     texts.COMPACT_COUNT.format(got=4, expected=3, labels="Tên, Chức vụ, Số điện thoại")),
    # plan items: "bỏ qua" as the last part leaves the optional partners empty, never the text "bỏ qua"
    ("plan", "Tập huấn; Tập huấn một cửa; 20/4; 25/4; riêng; bỏ qua",
     {"content": "Tập huấn", "detail": "Tập huấn một cửa", "start": "2017-04-20", "end": "2017-04-25",
      "responsibility": "rieng", "partners": None}, None, None),
    ("plan", "Tập huấn; Tập huấn một cửa; 31/4; 25/5; chung",
     {"content": "Tập huấn", "detail": "Tập huấn một cửa", "end": "2017-05-25", "responsibility": "chung"},
     "start", texts.DATE_NOT_EXIST.format(raw="31/4", example="28/03/2017")),
    ("plan", "Tập huấn; bỏ qua; 20/4; 25/4; chung",
     {"content": "Tập huấn", "start": "2017-04-20", "end": "2017-04-25", "responsibility": "chung"},
     "detail", texts.SKIP_REQUIRED),
]
GROUP_START = {"reporter": {}, "leader": without("leader"), "main_staff": without("main_staff.__done__"),
               "backup_staff": without("backup_staff.__done__"), "postal_staff": without("postal_staff.__done__"),
               "plan": without("plan.__done__")}


@pytest.mark.parametrize(("group", "typed", "stored", "asked", "error"), COMPACT_LINES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(COMPACT_LINES)])
def test_compact__partial_or_malformed_line__only_what_parsed_stored_in_its_own_field(group, typed, stored, asked, error):
    before = opened(GROUP_START[group])
    state, reply = send(before, typed)
    added = {k: v for k, v in state.answers.items() if before.answers.get(k, "absent") != v and "." in k
             and not k.endswith("__last__")}
    prefix = f"{group}." if group == "reporter" else None
    if prefix is None:
        numbers = sorted({int(k.split("[")[1].split("]")[0]) for k in added})
        prefix = f"{group}[{numbers[0]}]." if numbers else f"{group}[?]."
    assert stored == {k.removeprefix(prefix): v for k, v in added.items()}
    if error is not None:
        assert error in reply.text
    if asked is not None:
        assert prompt(group, asked) in reply.text.split("\n\n")[-1]
    if stored and error is None and asked in (None, "gender"):
        assert texts.COMPACT_MISSING.split(":")[0] not in reply.text


def test_compact__reporter_name_and_phone__both_stored():
    state, reply = send(opened({}), "Nguyễn Thị Lan, 0912 345 678")
    assert {"reporter.name": "Nguyễn Thị Lan", "reporter.phone": "+84912345678"} == dict(state.answers)
    assert reply.text.startswith(texts.COMPACT_ACK.format(summary="Nguyễn Thị Lan · 0912 345 678"))


def at_new_plan_item() -> State:
    return opened(without("plan.__done__"))


def test_compact__plan_five_lines__five_stored_and_partners_asked():
    state, reply = send(at_new_plan_item(), "Niêm yết TTHC\nNiêm yết tại Trung tâm\n15/4\n30/4\nchung")
    assert {"plan[2].content": "Niêm yết TTHC", "plan[2].detail": "Niêm yết tại Trung tâm", "plan[2].start": "2017-04-15",
            "plan[2].end": "2017-04-30", "plan[2].responsibility": "chung"} == \
        {k: v for k, v in state.answers.items() if k.startswith("plan[2].")}
    assert prompt("plan", "partners") in reply.text


def test_compact__plan_six_parts_partners_with_commas__partners_kept_whole():
    state, _ = send(at_new_plan_item(), "Tập huấn, Tập huấn một cửa, 20/4, 25/4, riêng, Sở Nội vụ, Bưu điện tỉnh")
    assert ("Tập huấn", "Sở Nội vụ, Bưu điện tỉnh") == (state.answers["plan[2].content"],
                                                         state.answers["plan[2].partners"])


def test_compact__plan_content_with_commas__single_content_answer():
    """A comma-separated content that does not read as six parts is the content itself."""
    typed = "Rà soát, chuẩn hóa, công khai, cập nhật TTHC, đưa vào Trung tâm"
    state, reply = send(at_new_plan_item(), typed)
    assert typed == state.answers["plan[2].content"]
    assert "plan[2].detail" not in state.answers
    assert prompt("plan", "detail") in reply.text


def test_compact__plan_end_before_start__other_parts_kept_and_end_asked_with_an_example_after_the_start():
    state, reply = send(at_new_plan_item(), "Tập huấn; Tập huấn một cửa; 25/4; 20/4; riêng")
    error = texts.COMPACT_PART_ERROR.format(n=4, label="Thời gian kết thúc",
                                            error=texts.DATE_BEFORE.format(start="25/04/2017", example="09/05/2017"))
    assert (texts.COMPACT_ACK.format(summary="Tập huấn · Tập huấn một cửa · 25/04/2017 · Trách nhiệm riêng")
            + "\n\n" + error + "\n\nNgày kết thúc? Ví dụ: 09/05/2017.") == reply.text
    assert "plan[2].end" not in state.answers


# --- The edit menu -------------------------------------------------------------------------------------------------------


def test_edit__command__every_section_offered():
    state, reply = send(opened(COMPLETE), "sửa")
    assert texts.MENU_SECTIONS == reply.text
    assert [s.title for s in FORM.sections] + [texts.MENU_DONE] == [o.label for o in reply.options]


def test_edit__section_number__that_section_items():
    _, reply = send(opened(COMPLETE), "sửa 3")
    assert texts.MENU_ITEMS.format(section=MAIN) == reply.text
    assert ["Lê Thị Mai", "Trần Văn Bình", texts.MENU_ADD.format(item="nhân sự chính"), texts.MENU_DONE] == \
        [o.label for o in reply.options]


def test_edit__unknown_section_number__says_so_and_section_menu():
    _, reply = send(opened(COMPLETE), "sửa 12")
    assert f"{texts.MENU_NO_SUCH_SECTION.format(n=12, count=9)}\n\n{texts.MENU_SECTIONS}" == reply.text


def test_edit__field_of_a_person__changed_and_back_to_that_person():
    state, reply = send(opened(COMPLETE), "sửa", Pick("s:main_staff"), Pick("i:2"), Pick("f:phone"))
    assert texts.CURRENT_VALUE.format(value="0905 111 222") in reply.text
    state, reply = send(state, "0905 999 888")
    assert "+84905999888" == state.answers["main_staff[2].phone"]
    assert "Số điện thoại: 0905 999 888" in [o.label for o in reply.options]


def test_edit__typed_numbers_and_label__same_as_buttons():
    """On Zalo the person types the option number, or a field's name."""
    state, reply = send(opened(COMPLETE), "sửa", "3", "Trần Văn Bình", "giới tính")
    assert prompt("main_staff", "gender") in reply.text
    assert texts.CURRENT_VALUE.format(value="Nam") in reply.text


def test_edit__delete_a_person__confirmed_and_removed():
    state, reply = send(opened(COMPLETE), "sửa 3", Pick("i:1"), Pick("del"))
    assert texts.MENU_CONFIRM_DELETE.format(name="Lê Thị Mai", section=MAIN) == reply.text
    state, reply = send(state, "có")
    assert not any(k.startswith("main_staff[1].") for k in state.answers)
    assert reply.text.startswith(texts.ITEM_DELETED.format(name="Lê Thị Mai"))
    assert ["Trần Văn Bình", texts.MENU_ADD.format(item="nhân sự chính"), texts.MENU_DONE] == \
        [o.label for o in reply.options]


def test_edit__delete_declined__nothing_removed():
    state = opened(COMPLETE)
    after, _ = send(state, "sửa 3", Pick("i:1"), Pick("del"), "không")
    assert state.answers == after.answers


def test_edit__delete_the_only_plan_item__listed_as_missing():
    state, _ = send(opened(COMPLETE), "sửa 8", Pick("i:1"), Pick("del"), Pick("yes"))
    _, reply = send(state, "nộp")
    assert "- III. Kế hoạch chi tiết triển khai: cần ít nhất 1 nội dung kế hoạch" in reply.text


def test_edit__add_a_person__asked_in_full_then_list_closed_again():
    state, reply = send(opened(COMPLETE), "sửa 3", Pick("add"))
    assert "Nhân sự chính thứ 3" in reply.text
    state, reply = send(state, "Đào Thị Hạnh, Cán sự, 0912 000 333", "nữ", "5", Photo(13))
    assert texts.ITEM_SAVED.format(item="nhân sự chính", n=3, name="Đào Thị Hạnh") in reply.text
    state, reply = send(state, "xong")
    assert texts.END_READY == reply.text
    assert ("Đào Thị Hạnh", 13, True) == (state.answers["main_staff[3].name"], state.answers["main_staff[3].photo"],
                                         state.answers["main_staff.__done__"])


def test_edit__back_command__one_level_up():
    state, reply = send(opened(COMPLETE), "sửa 3", Pick("i:1"), "quay lại")
    assert texts.MENU_ITEMS.format(section=MAIN) == reply.text
    _, reply = send(state, "quay lại")
    assert texts.MENU_SECTIONS == reply.text


def test_edit__stale_button__says_so_and_menu_again():
    state = opened(COMPLETE)
    state, menu = send(state, "sửa 3")
    after, reply = send(state, Pick("f:phone"))
    assert f"{texts.STALE_BUTTON}\n\n{menu.text}" == reply.text
    assert state.answers == after.answers


def test_edit__left_from_a_question__same_question_again():
    state = opened(without("pickup.address", "pickup.notes"))
    _, reply = send(state, "sửa", "xong")
    assert prompt("pickup", "address") in reply.text


def test_edit__back_while_editing_a_field__back_to_the_fields_and_nothing_changed():
    state = opened(COMPLETE)
    after, reply = send(state, "sửa 3", Pick("i:1"), Pick("f:position"), "quay lại")
    assert reply.text.startswith(texts.MENU_FIELDS.format(title=f"{MAIN} – Lê Thị Mai"))
    assert state.answers == after.answers


def test_edit__done_while_editing_a_field__back_to_the_fields():
    state, reply = send(opened(COMPLETE), "sửa 3", Pick("i:1"), Pick("f:position"), "xong")
    assert reply.text.startswith(texts.MENU_FIELDS.format(title=f"{MAIN} – Lê Thị Mai"))


# --- Photos ---------------------------------------------------------------------------------------------------------------


def test_photo__at_a_photo_question__stored_by_id():
    state, reply = send(opened(without("main_staff[2].photo")), Photo(42))
    assert 42 == state.answers["main_staff[2].photo"]
    assert texts.ITEM_SAVED.format(item="nhân sự chính", n=2, name="Trần Văn Bình") in reply.text


def test_photo__refused__its_message_and_the_question_again():
    state = opened(without("main_staff[2].photo"))
    message = texts.PHOTO_TOO_SMALL.format(width=100, height=120, min_width=300, min_height=400)
    after, reply = send(state, PhotoRefused(message))
    assert reply.text.startswith(f"{message}\n\n{prompt('main_staff', 'photo')}")
    assert (True, state.answers) == (reply.expects_photo, after.answers)


def test_photo__at_a_text_question__not_expected_and_nothing_stored():
    state = opened(without("pickup.address"))
    after, reply = send(state, Photo(5))
    assert f"{texts.PHOTO_NOT_EXPECTED}\n\n{prompt('pickup', 'address')}" == reply.text
    assert state.answers == after.answers


def test_photo__deferred__missing_at_submission():
    state, reply = send(opened(without("main_staff[2].photo")), "bỏ qua")
    assert reply.text.startswith(texts.DEFERRED)
    state, reply = send(state, "nộp")
    assert reply.text.startswith(texts.CANNOT_SUBMIT.format(items=f"- {MAIN} – Trần Văn Bình: Ảnh 3x4"))
    assert IN_PROGRESS == state.report.status


def test_missing__command__walks_through_what_is_missing_then_ready():
    answers = without("main_staff[1].photo", "pickup.address") | {"main_staff[1].photo": None}
    state, reply = send(opened(answers), "bổ sung")
    assert "Nhân sự chính thứ 1" in reply.text and prompt("main_staff", "photo") in reply.text
    state, reply = send(state, Photo(77))
    assert prompt("pickup", "address") in reply.text
    state, reply = send(state, "Tầng 1")
    assert texts.END_READY == reply.text


# --- Stale buttons and other contacts of the same unit ---------------------------------------------------------------------


def test_stale_button__choice_not_offered__says_so_and_question_again():
    state = opened(without("main_staff[1].shirt_size"))
    after, reply = send(state, Pick("40"))
    assert reply.text.startswith(f"{texts.STALE_BUTTON}\n\n{prompt('main_staff', 'shirt_size')}")
    assert state.answers == after.answers


def test_stale_button__at_a_text_question__says_so_and_question_again():
    state = opened(without("pickup.address"))
    after, reply = send(state, Pick("yes"))
    assert f"{texts.STALE_BUTTON}\n\n{prompt('pickup', 'address')}" == reply.text
    assert state.answers == after.answers


def test_stale_button__report_finished__says_so():
    _, reply = send(opened(COMPLETE), Pick("nu"))
    assert f"{texts.STALE_BUTTON}\n\n{texts.END_READY}" == reply.text


def test_other_contact_deleted_the_item__answer_not_stored_and_next_question():
    state = opened(without("main_staff[2].phone", "main_staff[2].gender", "main_staff[2].shirt_size",
                           "main_staff[2].photo", "main_staff.__done__"))
    deleted = State(answers=without("main_staff[2].", "main_staff.__done__"), report=state.report, cursor=state.cursor)
    after, reply = send(deleted, "0905 111 222")
    assert deleted.answers == after.answers
    assert reply.text.startswith(texts.QUESTION_GONE)


def test_other_contact_closed_the_list__new_person_still_added():
    state = opened(without("backup_staff.__done__"))
    closed = State(answers=COMPLETE, report=state.report, cursor=state.cursor)
    after, reply = send(closed, "Đào Thị Hạnh, Cán sự, 0912 000 333")
    assert "Đào Thị Hạnh" == after.answers["backup_staff[2].name"]
    assert prompt("backup_staff", "photo") in reply.text


def test_other_contact_deleted_the_item__help_still_answers():
    state = opened(without("main_staff[2].photo"))
    deleted = State(answers=without("main_staff[2]."), report=state.report, cursor=state.cursor)
    _, reply = send(deleted, "trợ giúp")
    assert reply.text.startswith(texts.HELP)


def test_other_contact_deleted_the_item__menu_of_that_item_goes_up_a_level():
    state, _ = send(opened(COMPLETE), "sửa 3", Pick("i:2"))
    deleted = State(answers=without("main_staff[2]."), report=state.report, cursor=state.cursor)
    _, reply = send(deleted, Pick("f:phone"))
    assert reply.text.endswith(texts.MENU_ITEMS.format(section=MAIN))


# --- Replies on channels without buttons ---------------------------------------------------------------------------------


def test_render_plain__options__numbered_after_the_text():
    reply = Reply("Giới tính?", (Option("nu", "Nữ"), Option("nam", "Nam")))
    assert "Giới tính?\n" + texts.TYPE_A_NUMBER.format(options="1 – Nữ, 2 – Nam") == render_plain(reply)


def test_render_plain__no_options__text_unchanged():
    assert "Địa chỉ?" == render_plain(Reply("Địa chỉ?"))


def test_step__pure__same_input_same_output():
    state = opened(without("pickup.address"))
    assert step(FORM, state, Text("Tầng 1"), NOW) == step(FORM, state, Text("Tầng 1"), NOW)


def test_greeting__xin_chao_at_a_text_question__not_stored_and_the_question_again():
    """People say hello first on Zalo: a greeting resumes, it is never taken as a name."""
    from conversations.engine import State, ReportInfo, Text, step as run_step
    from conversations.form import load_form as load

    form = load()
    deadline = datetime(2017, 3, 28, 9, 30, tzinfo=timezone.utc)
    now = datetime(2017, 3, 27, 2, 0, tzinfo=timezone.utc)
    state, _ = run_step(form, State({}, ReportInfo("Sở Tư pháp", deadline)), Text("/start"), now)
    state, replies = run_step(form, state, Text("Xin chào!"), now + timedelta(hours=3))
    assert {} == dict(state.answers)
    assert texts.WELCOME_BACK.format(unit="Sở Tư pháp") in replies[0].text
    assert "Họ và tên của bạn (người điền báo cáo)?" in replies[0].text


def test_render_plain__long_menu__one_option_per_line():
    from conversations.engine import Option, Reply, render_plain

    reply = Reply("Bạn muốn sửa mục nào?", (Option("a", "Người điền báo cáo"), Option("b", "I.1. Lãnh đạo phụ trách"),
                                            Option("x", "Xong, quay về")))
    assert "Bạn muốn sửa mục nào?\nGõ số để chọn:\n1 – Người điền báo cáo\n2 – I.1. Lãnh đạo phụ trách\n3 – Xong, quay về" \
        == render_plain(reply)
    assert "Giới tính?\nGõ số để chọn: 1 – Nữ, 2 – Nam." == render_plain(Reply("Giới tính?", (Option("nu", "Nữ"),
                                                                                              Option("nam", "Nam"))))


def test_repeat__last_person_deleted_then_another_added__new_number_not_reused():
    """A contact still on a deleted person's photo question can never answer for someone added since."""
    from conversations.engine import Photo, ReportInfo, State, Text, step as run_step
    from conversations.form import load_form as load

    form = load()
    deadline = datetime(2017, 3, 28, 9, 30, tzinfo=timezone.utc)
    now = datetime(2017, 3, 27, 2, 0, tzinfo=timezone.utc)
    report = ReportInfo("Sở Tư pháp", deadline)
    a, _ = run_step(form, State({}, report), Text("/start"), now)
    for text in ["Nguyễn Thị Lan, 0912 345 678", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789",
                 "Lê Thị Mai, Chuyên viên, 0987 654 321", "1", "7", "bỏ qua",
                 "Phạm Văn An, Chuyên viên, 0905 123 456", "2", "40"]:
        a, _ = run_step(form, a, Text(text), now)
    assert {"s": "main_staff", "i": 2, "q": "photo", "new": False} == a.cursor["slot"]
    # Contact B deletes person 2 and adds Trần Thị Ba.
    b, _ = run_step(form, State(a.answers, report), Text("/start"), now)
    for text in ["sửa 3", "2", "Xóa nhân sự chính này", "Xóa", "Thêm nhân sự chính", "Trần Thị Ba, Cán sự, 0934 111 222"]:
        b, _ = run_step(form, b, Text(text), now)
    assert "Trần Thị Ba" == b.answers["main_staff[3].name"] and "main_staff[2].name" not in b.answers
    a, replies = run_step(form, State(b.answers, report, a.cursor), Photo(77), now)
    assert "main_staff[3].photo" not in a.answers and "main_staff[2].photo" not in a.answers
    assert texts.QUESTION_GONE in replies[0].text


def test_scopes__complete_report__each_scope_as_scope_gives_it():
    """The one-pass grouping that all_slots uses agrees with scope() for every section and item."""
    answers = {**COMPLETE, "plan[3].content": "Đào tạo", "plan.__last__": 3, "odd key": 1}
    grouped = scopes(answers)
    expected = {(section.key, None): scope(answers, section.key) for section in FORM.sections}
    expected |= {(section.key, n): scope(answers, section.key, n)
                 for section in FORM.sections if section.repeat for n in item_numbers(answers, section.key)}
    assert {k: v for k, v in expected.items() if v} == grouped


# --- Greetings, examples, review: replies that fit where the person is ------------------------------------------


def test_greeting__chao_em_minutes_after_the_last_message__question_again_briefly_without_welcome():
    state = opened(without("pickup.address"))
    after, reply = send(state, "chào em", now=NOW + timedelta(minutes=10))
    assert prompt("pickup", "address") == reply.text.split("\n")[0]
    assert texts.WELCOME_BACK.format(unit=UNIT) not in reply.text
    assert state.answers == after.answers


def test_greeting__chao_em_hours_after_the_last_message__welcome_back_and_the_question():
    state = opened(without("pickup.address"))
    _, reply = send(state, "chào em", now=NOW + timedelta(hours=3))
    assert reply.text.startswith(texts.WELCOME_BACK.format(unit=UNIT))
    assert prompt("pickup", "address") in reply.text


def test_end_date__asked_after_a_start_date__example_is_a_date_after_the_start():
    state = at_new_plan_item()
    state, reply = send(state, "Tập huấn", "Tập huấn một cửa", "05/04/2017")
    assert "Ngày kết thúc? Ví dụ: 30/04/2017." in reply.text
    _, reply = send(state, "31/04/2017")
    assert texts.DATE_NOT_EXIST.format(raw="31/04/2017", example="30/04/2017") in reply.text


def test_question__in_a_list__says_the_item_and_its_place():
    state = opened(without("main_staff.__done__"))
    _, reply = send(state, "Đào Thị Hạnh")
    assert "Nhân sự chính thứ 3" + texts.QUESTION_PLACE.format(n=2, total=6) in reply.text


def test_review__summary__done_and_missing_first_then_a_line_per_section_within_a_zalo_message():
    answers = without("main_staff[2].", "pickup.address")
    _, reply = send(opened(answers), "xem lại")
    lines = reply.text.split("\n")
    assert texts.REVIEW_PROGRESS.format(done=8, total=len(FORM.sections)) == lines[0]
    assert texts.REVIEW_MISSING_HEADER in lines
    assert f"3. {MAIN}: 1 nhân sự chính (Lê Thị Mai)" in lines
    assert len(reply.text) <= 2000


@pytest.mark.parametrize("typed", ["xem lại 3", "xem lại I.2", "Xem lai i.2", "xem lại phần 3"])
def test_review__one_section__that_section_in_full(typed):
    _, reply = send(opened(COMPLETE), typed)
    assert reply.text.startswith(f"{MAIN}\n1. Tên: Lê Thị Mai; Chức vụ: Chuyên viên")


def test_review__no_such_section__says_which_numbers_exist():
    _, reply = send(opened(COMPLETE), "xem lại 12")
    assert reply.text.startswith(texts.REVIEW_NO_SUCH_SECTION.format(ref="12", count=len(FORM.sections)))


def test_review_word_starting_an_answer__stored_as_the_answer():
    state, _ = send(at_new_plan_item(), "Xem xét hồ sơ tồn đọng")
    assert "Xem xét hồ sơ tồn đọng" == state.answers["plan[2].content"]


def test_times__proposed_pickup_times_typed_freely__stored_as_hh_mm():
    state = opened(without("pickup."))
    state, _ = send(state, "không", "8h30 và 14h00")
    assert "08:30, 14:00" == state.answers["pickup.proposed_times"]
