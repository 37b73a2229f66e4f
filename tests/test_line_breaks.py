"""Line and paragraph separators (U+2028, U+2029, NEL) split a compact answer as a newline does.

Seen: a name, a position and a phone typed on three "lines" stored together as the name, because the phone's
keyboard sent U+2028 between them.
"""

import pytest

from conversations import texts
from conversations.parsers import clean_text, normalize_line_breaks
from tests.test_engine import opened, prompt, send, without

SEPARATORS = [pytest.param("\u2028", id="line-separator"), pytest.param("\u2029", id="paragraph-separator"),
              pytest.param("\x85", id="next-line"), pytest.param("\r\n", id="crlf"), pytest.param("\n", id="newline")]


@pytest.mark.parametrize("sep", SEPARATORS)
def test_normalize_line_breaks__any_separator__a_newline(sep):
    assert "Đào Thị Hạnh\nCán sự\n0912 000 333" == normalize_line_breaks(f"Đào Thị Hạnh{sep}Cán sự{sep}0912 000 333")


@pytest.mark.parametrize("sep", SEPARATORS)
def test_clean_text__one_line__separator_becomes_a_space(sep):
    assert "Phó Giám đốc" == clean_text(f"Phó{sep}Giám đốc", multiline=False)


@pytest.mark.parametrize("sep", SEPARATORS)
def test_compact__staff_on_separated_lines__three_fields_stored(sep):
    state, reply = send(opened(without("main_staff.__done__")), f"Đào Thị Hạnh{sep}Cán sự{sep}0912 000 333")
    assert {"main_staff[3].name": "Đào Thị Hạnh", "main_staff[3].position": "Cán sự",
            "main_staff[3].phone": "+84912000333"} == {k: v for k, v in state.answers.items()
                                                        if k.startswith("main_staff[3].")}
    assert reply.text.startswith(texts.COMPACT_ACK.format(summary="Đào Thị Hạnh · Cán sự · 0912 000 333"))


@pytest.mark.parametrize("sep", SEPARATORS)
def test_compact__plan_lines_with_a_wrong_date__the_rest_kept_in_their_own_fields(sep):
    """Lines make the parts explicit: one bad part is asked again, never the whole message stored as content."""
    typed = sep.join(["Niêm yết TTHC", "Niêm yết tại Trung tâm", "31/4", "30/4", "chung"])
    state, reply = send(opened(without("plan.__done__")), typed)
    assert {"plan[2].content": "Niêm yết TTHC", "plan[2].detail": "Niêm yết tại Trung tâm", "plan[2].end": "2017-04-30",
            "plan[2].responsibility": "chung"} == {k: v for k, v in state.answers.items() if k.startswith("plan[2].")}
    assert prompt("plan", "start") in reply.text


@pytest.mark.parametrize("sep", SEPARATORS)
def test_compact__two_plan_lines__content_and_detail_kept_apart(sep):
    state, _ = send(opened(without("plan.__done__")), f"Niêm yết TTHC{sep}Niêm yết tại Trung tâm")
    assert ("Niêm yết TTHC", "Niêm yết tại Trung tâm") == (state.answers["plan[2].content"],
                                                           state.answers["plan[2].detail"])
