"""The Telegram channel end to end: the real python-telegram-bot against a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
import sqlalchemy as sa
from PIL import Image

from bot.bootstrap import ensure_units_and_campaign
from bot.service import Service
from bot.settings import Settings
from bot.channels.telegram import SEND_ATTEMPTS, TelegramChannel, TelegramTokenRefused
from bot.web import build_app, start_app
from conversations import texts
from conversations.form import DEFAULT_FORM, load_form
from storage import queries as q
from storage.db import Database
from storage.models import Contact, Photo, ProcessedEvent
from tests.fake_telegram import FakeTelegram

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

FORM = load_form()
NOW = datetime(2017, 3, 27, 2, 0, tzinfo=timezone.utc)  # 09:00 the day before the deadline
DEADLINE = datetime(2017, 3, 28, 9, 30, tzinfo=timezone.utc)
USER = 4242
FIRST_QUESTION = "Họ và tên của bạn (người điền báo cáo)?"
PHOTO_QUESTION = "Ảnh 3x4 để in thẻ"


def jpeg(width: int = 600, height: int = 800, color: tuple[int, int, int] = (120, 160, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG")
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def setup(db: Database) -> None:
    await ensure_units_and_campaign(db, FORM, NOW)
    async with db.transaction() as s:
        (await q.current_campaign(s)).deadline_at = DEADLINE


async def invite(db: Database, unit: str = "STP") -> str:
    async with db.transaction() as s:
        unit_id = (await q.get_unit_by_code(s, unit)).id
        created = await q.create_invite(s, unit_id=unit_id, role="unit", expires_at=NOW + timedelta(days=7),
                                        max_uses=3, now=NOW)
        return created.code


async def report_of(db: Database, unit: str = "STP"):
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        unit_row = await q.get_unit_by_code(s, unit)
        report = await q.get_or_create_report(s, campaign_id=campaign.id, unit_id=unit_row.id, now=NOW)
        return report, await q.load_answers(s, report.id)


async def count(db: Database, model) -> int:
    async with db.transaction() as s:
        return await s.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@contextlib.asynccontextmanager
async def running(db: Database, fake: FakeTelegram, tmp_path: Path, *, webhook: bool = False,
                  token: str | None = None, send_interval: float = 0.01,
                  on_fatal: Callable[[str], None] | None = None) -> AsyncIterator[TelegramChannel]:
    """A started channel (polling, or webhook on our own web server); its waits are recorded on a virtual clock."""
    port = free_port()
    settings = Settings(database_url="sqlite://", data_dir=tmp_path, form_path=DEFAULT_FORM,
                        telegram_token=token or fake.token, telegram_api_url=fake.url,
                        public_url=f"http://127.0.0.1:{port}" if webhook else None)
    channel = TelegramChannel(settings, Service(db, FORM, tmp_path / "photos", lambda: NOW),
                              on_fatal=on_fatal, send_interval=send_interval, retry_base=0.01)
    channel.waits, now = [], [0.0]

    async def virtual_sleep(seconds: float) -> None:
        channel.waits.append(seconds)
        now[0] += max(0.0, seconds)

    channel.sleep, channel.monotonic = virtual_sleep, lambda: now[0]
    app = build_app()
    channel.add_routes(app)
    web_runner = await start_app(app, "127.0.0.1", port)
    try:
        await channel.start()
        try:
            yield channel
        finally:
            await channel.stop()
    finally:
        await web_runner.cleanup()


async def say(fake: FakeTelegram, action: Awaitable, chat: int = USER) -> str:
    """Do something as the user; the text of the bot's next message into the chat."""
    before = len(fake.sent(chat))
    await action
    await fake.wait_until(lambda: len(fake.sent(chat)) > before)
    return fake.sent(chat)[before]["text"]


async def bind(db: Database, fake: FakeTelegram) -> str:
    return await say(fake, fake.text(USER, f"/start {await invite(db)}"))


async def to_photo_question(db: Database, fake: FakeTelegram) -> str:
    await bind(db, fake)
    for text in ["Nguyễn Thị Lan, 0912 345 678", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789",
                 "Lê Thị Mai, Chuyên viên, 0987 654 321", "1"]:
        await say(fake, fake.text(USER, text))
    return await say(fake, fake.text(USER, "7"))


async def test_polling__deep_link_start_code__bound_asked_first_question_and_commands_registered(db, fake, tmp_path):
    await setup(db)
    async with running(db, fake, tmp_path):
        reply = await bind(db, fake)
    assert reply.startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp"))
    assert FIRST_QUESTION in reply
    expected = [{"command": c, "description": d} for c, d in texts.TELEGRAM_COMMANDS]
    assert expected == fake.calls_of("setMyCommands")[0].params["commands"]
    async with db.transaction() as s:
        contact = await q.get_contact(s, "telegram", str(USER))
    assert ("unit", "Lan Nguyễn") == (contact.role, contact.display_name)


async def test_polling__whole_report_with_buttons_photo_and_document__answers_saved_and_submitted(db, fake, tmp_path):
    await setup(db)
    code = await invite(db)
    async with running(db, fake, tmp_path):
        await say(fake, fake.text(USER, f"/start {code}"))
        for text in ["Nguyễn Thị Lan, 0912 345 678", "Trần Văn Hùng, Phó Giám đốc Sở, 0913 456 789"]:
            await say(fake, fake.text(USER, text))
        gender = await say(fake, fake.text(USER, "Lê Thị Mai, Chuyên viên, 0987 654 321"))
        keyboard = fake.sent(USER)[-1]["reply_markup"]["inline_keyboard"]
        assert [[{"text": "Nữ", "callback_data": "nu"}], [{"text": "Nam", "callback_data": "nam"}]] == keyboard
        pressed_id = max(fake.messages)
        await say(fake, fake.press(USER, "Nữ"))
        assert f"{gender}\n\n{texts.CHOSEN.format(label='Nữ')}" == fake.messages[pressed_id]["text"]
        assert "reply_markup" not in fake.messages[pressed_id]
        photo_question = await say(fake, fake.press(USER, "7"))
        assert PHOTO_QUESTION in photo_question and photo_question.endswith(texts.TELEGRAM_PHOTO_HINT)
        saved = await say(fake, fake.photo(USER, jpeg(color=(200, 30, 30))))
        assert texts.ITEM_SAVED.format(item="nhân sự chính", n=1, name="Lê Thị Mai") in saved
        await say(fake, fake.text(USER, "Phạm Văn Nam; Chuyên viên; 0905.123.456"))
        await say(fake, fake.press(USER, "Nam"))
        await say(fake, fake.press(USER, "40"))
        await say(fake, fake.document(USER, jpeg(1200, 1600, (30, 30, 200)), name="nam.jpg"))
        for text in ["xong", "không có", "Võ Thị Hoa, Văn thư, 0934 222 333", "xong",
                     "125", "Sở Tài chính, Cục Thuế tỉnh", "12", "Công an tỉnh", "125", "bỏ qua", "40", "bỏ qua",
                     "80", "bỏ qua", "60", "bỏ qua", "20", "bỏ qua"]:
            await say(fake, fake.text(USER, text))
        await say(fake, fake.press(USER, texts.YES))
        for text in ["Bộ phận một cửa, tầng 1, số 2 Nguyễn Văn Trị", "bỏ qua",
                     "Rà soát TTHC; Rà soát 125 TTHC, đề xuất danh mục; 01/04/2017; 30/04/2017; riêng; Sở Nội vụ",
                     "xong", "Chưa có trụ sở tạm cho bộ phận một cửa."]:
            await say(fake, fake.text(USER, text))
        submitted = await say(fake, fake.text(USER, "nộp"))
    assert submitted.startswith("Đã nộp báo cáo lúc 09:00 ngày 27/03/2017.")
    report, answers = await report_of(db)
    assert "submitted" == report.status
    picked = {"main_staff[1].gender": "nu", "main_staff[1].shirt_size": "7", "main_staff[2].gender": "nam",
              "main_staff[2].shirt_size": "40", "pickup.agree": True, "plan[1].responsibility": "rieng"}
    assert picked == {k: answers.get(k) for k in picked}
    async with db.transaction() as s:
        photos = [await q.get_photo(s, answers[f"main_staff[{n}].photo"]) for n in (1, 2)]
    assert [(600, 800), (1200, 1600)] == [(p.width, p.height) for p in photos]  # the document kept its size


async def test_polling__album__first_photo_taken_and_one_note_for_the_rest(sqlite_db, fake, tmp_path):
    await setup(sqlite_db)
    async with running(sqlite_db, fake, tmp_path):
        await to_photo_question(sqlite_db, fake)
        before = len(fake.sent(USER))
        await fake.album(USER, [jpeg(color=(1, 2, 3)), jpeg(color=(4, 5, 6)), jpeg(color=(7, 8, 9))])
        await fake.wait_until(lambda: len(fake.sent(USER)) >= before + 2)
        await fake.text(USER, "xem lại")  # a later message: the album's replies are all out by its answer
        await fake.wait_until(lambda: len(fake.sent(USER)) >= before + 3)
    replies = [m["text"] for m in fake.sent(USER)[before:]]
    assert texts.ITEM_SAVED.format(item="nhân sự chính", n=1, name="Lê Thị Mai") in replies[0]
    assert texts.ALBUM_FIRST_ONLY == replies[1]
    assert 1 == sum(r == texts.ALBUM_FIRST_ONLY for r in replies)
    assert 1 == await count(sqlite_db, Photo)
    assert 1 == len(fake.calls_of("getFile"))


async def test_polling__restart_midway__resumes_at_the_same_question(db, fake, tmp_path):
    await setup(db)
    async with running(db, fake, tmp_path):
        await bind(db, fake)
        await say(fake, fake.text(USER, "Nguyễn Thị Lan, 0912 345 678"))
        await say(fake, fake.text(USER, "Trần Văn Hùng"))
    sent_before = len(fake.sent(USER))
    async with running(db, fake, tmp_path):
        reply = await say(fake, fake.text(USER, "/start"))
    assert sent_before + 1 == len(fake.sent(USER))  # nothing from before the restart was handled again
    assert reply.startswith(texts.WELCOME_BACK.format(unit="Sở Tư pháp"))
    assert reply.rstrip().endswith("Chức vụ? Ví dụ: Phó Giám đốc Sở.")
    _, answers = await report_of(db)
    assert {"reporter.name": "Nguyễn Thị Lan", "reporter.phone": "+84912345678",
            "leader[1].name": "Trần Văn Hùng", "leader.__last__": 1} == answers


async def test_webhook__right_secret__update_handled_and_answered(sqlite_db, fake, tmp_path):
    await setup(sqlite_db)
    async with running(sqlite_db, fake, tmp_path, webhook=True) as channel:
        assert channel.settings.public_url + "/telegram/webhook" == fake.webhook_url
        assert len(fake.webhook_secret) >= 32
        reply = await bind(sqlite_db, fake)
    assert reply.startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp"))
    assert [] == fake.calls_of("getUpdates")


async def test_webhook__wrong_or_missing_secret__403_and_nothing_changed(sqlite_db, fake, tmp_path):
    await setup(sqlite_db)
    async with running(sqlite_db, fake, tmp_path, webhook=True):
        update = fake.message(USER, text=f"/start {await invite(sqlite_db)}")
        wrong = await fake.deliver(update, secret="x" * 64)
        missing = await fake.deliver(update, secret="")
        statuses = []
        async with aiohttp.ClientSession() as session:
            for body in [b"{not json", b"[" * 100_000 + b"]" * 100_000, b'{"update_id": 1, "message": "x"}',
                         b'{"update_id": 2, "message": {"message_id": 1, "date": 0, "chat": 5, "text": 5}}']:
                async with session.post(fake.webhook_url, data=body,
                                        headers={"X-Telegram-Bot-Api-Secret-Token": fake.webhook_secret}) as response:
                    statuses.append(response.status)
    assert (403, 403) == (wrong, missing)
    assert [400, 400, 400, 400] == statuses  # malformed bodies with the right secret: never a 500
    assert [] == fake.calls_of("sendMessage")
    assert (0, 0) == (await count(sqlite_db, Contact), await count(sqlite_db, ProcessedEvent))


async def test_webhook__same_update_delivered_twice__second_changes_nothing_and_sends_nothing(db, fake, tmp_path):
    await setup(db)
    async with running(db, fake, tmp_path, webhook=True):
        await bind(db, fake)
        update = fake.message(USER, text="Nguyễn Thị Lan, 0912 345 678")
        await say(fake, fake.deliver(update))
        _, before = await report_of(db)
        assert 200 == await fake.deliver(update)
        reply = await say(fake, fake.text(USER, "xem lại"))  # handled after the repeat, in order
    assert 3 == len(fake.sent(USER))
    assert reply.startswith(texts.REVIEW_PROGRESS.split(" –")[0])
    assert before == (await report_of(db))[1]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # raised inside PTB's RetryAfter
@pytest.mark.parametrize(("status", "retry_after", "expected_waits"), [
    (429, 7, [7.0]),  # Telegram's flood control: wait as told, then send again
    (500, None, [0.01, 0.02]),  # a server error: back off and retry
])
async def test_send__429_or_500_then_success__waits_and_delivers(sqlite_db, fake, tmp_path, status, retry_after,
                                                                 expected_waits):
    await setup(sqlite_db)
    async with running(sqlite_db, fake, tmp_path) as channel:
        fake.fail("sendMessage", times=len(expected_waits), status=status, retry_after=retry_after)
        reply = await say(fake, fake.text(USER, "Xin chào"))
    assert texts.INVITE_PROMPT == reply
    assert [status] * len(expected_waits) + [200] == [c.status for c in fake.calls_of("sendMessage")]
    assert expected_waits == channel.waits


async def test_send__reply_lost_then_person_sends_the_same_again__reply_arrives_and_answer_stored_once(db, fake,
                                                                                                     tmp_path):
    """Every try to send the reply to the leader fails; the person, seeing nothing, sends the same line again."""
    await setup(db)
    leader = "Trần Văn Hùng, Phó Giám đốc, 0913 456 789"
    async with running(db, fake, tmp_path) as channel:
        await bind(db, fake)
        await say(fake, fake.text(USER, "Nguyễn Thị Lan, 0912 345 678"))
        fake.fail("sendMessage", times=SEND_ATTEMPTS, status=500)
        await fake.text(USER, leader)
        await fake.wait_until(lambda: len(fake.calls_of("sendMessage")) >= 2 + SEND_ATTEMPTS)
        await channel.queue.drain()
        reply = await say(fake, fake.text(USER, leader))
    _, answers = await report_of(db)
    assert [500] * SEND_ATTEMPTS + [200] == [c.status for c in fake.calls_of("sendMessage")[2:]]
    assert reply.startswith("Đã ghi: Trần Văn Hùng · Phó Giám đốc · 0913 456 789.")
    assert ("Trần Văn Hùng", None) == (answers.get("leader[1].name"), answers.get("main_staff[1].name"))


async def test_send__user_blocked_the_bot__403_recorded_and_contact_marked_blocked(db, fake, tmp_path):
    await setup(db)
    async with running(db, fake, tmp_path) as channel:
        await bind(db, fake)
        fake.fail("sendMessage", status=403)
        await fake.text(USER, "Nguyễn Thị Lan, 0912 345 678")
        await fake.wait_until(lambda: fake.calls_of("sendMessage")[-1].status == 403)
        await channel.queue.drain()
        async with db.transaction() as s:
            blocked_at = (await q.get_contact(s, "telegram", str(USER))).blocked_at
        fake.fail("sendMessage", status=403)
        bulk = await channel.send_text(str(USER), "Nhắc hạn nộp báo cáo")
    assert NOW == blocked_at
    assert False is bulk


async def test_document__over_20_mb__refused_by_size_without_downloading(sqlite_db, fake, tmp_path):
    await setup(sqlite_db)
    async with running(sqlite_db, fake, tmp_path):
        await to_photo_question(sqlite_db, fake)
        reply = await say(fake, fake.document(USER, None, size=25 * 1024 * 1024, name="anh-goc.jpg"))
    assert reply.startswith(texts.PHOTO_TOO_LARGE.format(max_mb=20))
    assert PHOTO_QUESTION in reply
    assert [] == fake.calls_of("getFile")


async def test_document__not_an_image__asked_for_a_photo(sqlite_db, fake, tmp_path):
    await setup(sqlite_db)
    async with running(sqlite_db, fake, tmp_path):
        await to_photo_question(sqlite_db, fake)
        reply = await say(fake, fake.document(USER, b"%PDF-1.4", mime="application/pdf", name="cv.pdf"))
    assert reply.startswith(texts.PHOTO_NOT_IMAGE)
    assert [] == fake.calls_of("getFile")


@pytest.mark.parametrize("kind", ["sticker", "voice"])
async def test_unsupported__sticker_or_voice__hint_and_the_question_again(sqlite_db, fake, tmp_path, kind):
    await setup(sqlite_db)
    async with running(sqlite_db, fake, tmp_path):
        await bind(sqlite_db, fake)
        reply = await say(fake, getattr(fake, kind)(USER))
    assert reply.startswith(texts.UNSUPPORTED_MESSAGE)
    assert FIRST_QUESTION in reply


async def test_review__longer_than_4096__split_into_parts_under_the_limit(sqlite_db, fake, tmp_path):
    await setup(sqlite_db)
    long_text = "Đề nghị bố trí thêm máy quét tài liệu tại quầy của đơn vị. " * 45  # ~2700 characters
    async with running(sqlite_db, fake, tmp_path):
        await bind(sqlite_db, fake)
        report, answers = await report_of(sqlite_db)
        async with sqlite_db.transaction() as s:
            await q.save_answer_changes(s, report_id=report.id, contact_id=None, before=answers,
                                        after={"issues.text": (long_text * 2).strip()}, at=NOW)
        before = len(fake.sent(USER))
        await fake.text(USER, "xem lại 9")  # section IV in full: longer than one Telegram message
        await fake.wait_until(lambda: any(FIRST_QUESTION in m["text"] for m in fake.sent(USER)[before:]))
    parts = [m["text"] for m in fake.sent(USER)[before:]]
    assert 2 <= len(parts)
    assert all(len(p) <= 4096 for p in parts)
    assert len((long_text * 2).strip()) < sum(len(p) for p in parts)


@pytest.mark.parametrize(("chats", "expected_chat_waits", "expected_overall_waits"), [
    ([USER, USER, USER], [0, 1, 1], [0, 0, 0]),  # one chat: one message per interval
    ([USER, USER + 1, USER + 2], [0, 0, 0], [0, 1, 1]),  # many chats: about 30 per interval overall
])
async def test_send_text__bulk__paced_per_chat_and_overall(sqlite_db, fake, tmp_path, chats, expected_chat_waits,
                                                            expected_overall_waits):
    await setup(sqlite_db)
    async with running(sqlite_db, fake, tmp_path, send_interval=1.0) as channel:
        results = [await channel.send_text(str(chat), "Nhắc hạn nộp báo cáo") for chat in chats]
    assert [True, True, True] == results
    assert expected_chat_waits == [round(w, 6) for w in channel.waits[0::2]]
    assert expected_overall_waits == [round(w * 30, 6) for w in channel.waits[1::2]]


async def test_start__token_refused__one_clear_error(sqlite_db, fake, tmp_path):
    with pytest.raises(TelegramTokenRefused) as refused:
        async with running(sqlite_db, fake, tmp_path, token="999:wrong"):
            pass
    assert texts.CLI_TELEGRAM_TOKEN_REFUSED == str(refused.value)


async def test_polling__token_revoked_while_running__reported_as_fatal(sqlite_db, fake, tmp_path):
    fatal: list[str] = []
    reported = asyncio.Event()

    def on_fatal(message: str) -> None:
        fatal.append(message)
        reported.set()

    async with running(sqlite_db, fake, tmp_path, on_fatal=on_fatal):
        await fake.wait_until(lambda: bool(fake.calls_of("getUpdates")))
        await fake.revoke_token()
        await asyncio.wait_for(reported.wait(), 10)
    assert [texts.CLI_TELEGRAM_TOKEN_REFUSED] == fatal


async def test_logs__conversation_errors_and_refused_token_at_debug__never_show_the_token(sqlite_db, fake, tmp_path,
                                                                                          caplog):
    caplog.set_level(logging.DEBUG)
    await setup(sqlite_db)
    async with running(sqlite_db, fake, tmp_path):
        await to_photo_question(sqlite_db, fake)
        fake.fail("sendMessage", status=500)
        fake.fail("getFile", status=500)
        await say(fake, fake.photo(USER, jpeg()))
    with pytest.raises(TelegramTokenRefused):
        async with running(sqlite_db, fake, tmp_path, token="999:AAWrongTokenWrongToken"):
            pass
    assert "Telegram sendMessage failed (NetworkError)" in caplog.text
    assert fake.token not in caplog.text
    assert "AAWrongTokenWrongToken" not in caplog.text


async def test_group_chat__messages_ignored_and_a_command_gets_a_hint__nothing_stored(sqlite_db, fake, tmp_path):
    """A bound contact writing in a group never moves their chat there, and the group sees no report."""
    await setup(sqlite_db)
    async with running(sqlite_db, fake, tmp_path):
        await bind(sqlite_db, fake)
        group = -100777
        answer = fake.message(USER, text="Nguyễn Thị Lan, 0912 345 678")
        answer["message"]["chat"] = {"id": group, "type": "supergroup", "title": "Tổ công tác"}
        await fake.deliver(answer)
        command = fake.message(USER, text="/xemlai", entities=[{"type": "bot_command", "offset": 0, "length": 7}])
        command["message"]["chat"] = {"id": group, "type": "supergroup", "title": "Tổ công tác"}
        await fake.deliver(command)
        await fake.wait_until(lambda: fake.sent(group))
    assert [texts.GROUP_CHAT_HINT] == [m["text"] for m in fake.sent(group)]
    assert {} == (await report_of(sqlite_db))[1]
    async with sqlite_db.transaction() as s:
        assert str(USER) == (await q.get_contact(s, "telegram", str(USER))).chat_id


async def test_polling__answer_typed_instead_of_pressed__buttons_of_that_question_removed(db, fake, tmp_path):
    await setup(db)
    async with running(db, fake, tmp_path):
        await bind(db, fake)
        for text in ["Nguyễn Thị Lan, 0912 345 678", "Trần Văn Hùng, Phó Giám đốc Sở, 0913 456 789"]:
            await say(fake, fake.text(USER, text))
        await say(fake, fake.text(USER, "Lê Thị Mai, Chuyên viên, 0987 654 321"))
        with_buttons = max(fake.messages)
        assert "reply_markup" in fake.messages[with_buttons]
        sizes = await say(fake, fake.text(USER, "nữ"))  # typed, not pressed
        await fake.wait_until(lambda: "reply_markup" not in fake.messages[with_buttons])
        assert FORM.section("main_staff").question("shirt_size").prompt in sizes
        assert "reply_markup" in fake.messages[max(fake.messages)]  # the new question keeps its own buttons
