"""The one field check (conversations/fields.py): the chat's engine and the page get the same value or the same
Vietnamese message for the same input, and a web event changes the chat's state as the chat would."""

from __future__ import annotations

from datetime import datetime

import pytest

from conversations import fields, texts
from conversations.answers import LOCAL_TZ
from conversations.engine import ReportInfo, State, Text, WebDeleteItem, WebSave, step, web_step
from conversations.form import load_form
from conversations.parsers import ParseError

FORM = load_form()
NOW = datetime(2017, 3, 28, 9, 0, tzinfo=LOCAL_TZ)
DEADLINE = datetime(2017, 3, 28, 16, 30, tzinfo=LOCAL_TZ)
TODAY = NOW.date()


def chat_at(path: str, answers: dict) -> tuple[State, str]:
    """The chat's state asking the question of `path` (in the middle of a conversation)."""
    section, item, question = fields.path_parts(path)
    slot = {"s": section, "i": None if item is None else int(item), "q": question, "new": False}
    cursor = {"mode": "fill", "stage": "ask", "slot": slot, "seen": NOW.isoformat()}
    return State(answers=answers, report=ReportInfo("Sở Tư pháp", DEADLINE), cursor=cursor), path


@pytest.mark.parametrize("path, raw", [
    ("reporter.phone", "091234567"), ("reporter.phone", "0912 345 678"), ("reporter.name", "Lan 2"),
    ("procedures.tthc_total", "mười"), ("procedures.tthc_total", "125"), ("plan[1].end", "01/04/2017"),
    ("plan[1].end", "31/02/2017"), ("plan[1].end", "20/04/2017"), ("pickup.proposed_times", "25:00"),
])
def test_check_field__same_input__same_value_or_message_as_the_chat(path, raw):
    answers = {"plan[1].content": "Rà soát", "plan[1].detail": "x", "plan[1].start": "2017-04-10",
               "pickup.agree": False}
    state, _ = chat_at(path, answers)
    chat_state, replies = step(FORM, state, Text(raw), NOW)
    key = path
    try:
        _, value = fields.check_field(FORM, answers, path, raw, TODAY)
    except ParseError as exc:
        assert replies[0].text.startswith(exc.message)  # the chat says the same, then asks again
        assert key not in chat_state.answers
    else:
        assert value == chat_state.answers[key]


def test_check_field__not_asked_or_unknown__refused():
    with pytest.raises(ParseError) as exc:
        fields.check_field(FORM, {"pickup.agree": True}, "pickup.proposed_times", "09:30", TODAY)
    assert texts.WEB_NOT_ASKED == exc.value.message
    for path in ("nope.name", "reporter.nope", "leader.name", "reporter[1].name", "plan[9].content", "__x"):
        with pytest.raises(ParseError):
            fields.check_field(FORM, {}, path, "x", TODAY)


def test_web_step__save_then_chat__chat_resumes_at_first_missing_and_takes_no_answer():
    state, _ = chat_at("reporter.name", {})
    state, result = web_step(FORM, state, WebSave((("reporter.name", "Nguyễn Thị Lan"),
                                                   ("reporter.phone", "0912 345 678"))), NOW)
    assert ({}, "Nguyễn Thị Lan") == (result.errors, state.answers["reporter.name"])
    after, replies = step(FORM, state, Text("Trần Văn Hùng"), NOW)  # typed for a question they had not seen
    assert texts.WEB_BACK_IN_CHAT in replies[0].text and "leader[1].name" not in after.answers
    assert "Họ và tên lãnh đạo" in replies[0].text


def test_web_step__new_item_then_delete__item_numbers_never_reused():
    state, _ = chat_at("reporter.name", {})
    state, result = web_step(FORM, state, WebSave((("plan[new].content", "A"), ("plan[new].detail", "B"))), NOW)
    assert {"plan[new].content": "plan[1].content", "plan[new].detail": "plan[1].detail"} == result.saved
    state, _ = web_step(FORM, state, WebDeleteItem("plan", 1), NOW)
    state, result = web_step(FORM, state, WebSave((("plan[new].content", "C"),)), NOW)
    assert {"plan[new].content": "plan[2].content"} == result.saved
    assert "plan[1].content" not in state.answers
