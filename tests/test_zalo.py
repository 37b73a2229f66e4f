"""The Zalo channel end to end: our aiohttp client against the fake Zalo Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.bootstrap import ensure_units_and_campaign
from bot.runner import FatalChannelError, run_bot
from bot.service import Service
from bot.settings import Settings
from bot.web import build_app, start_app
from bot.channels.zalo import TEXT_LIMIT, ZaloChannel, ZaloTokenRefused
from conversations import texts
from conversations.form import DEFAULT_FORM, load_form
from storage import queries as q
from tests.fake_zalo import FakeZalo

FORM = load_form()
NOW = datetime(2017, 3, 27, 2, 0, tzinfo=timezone.utc)
DEADLINE = datetime(2017, 3, 28, 9, 30, tzinfo=timezone.utc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def jpeg(color=(90, 140, 200), size=(600, 800)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
async def fake():
    server = await FakeZalo().start()
    yield server
    await server.stop()


async def prepare(db, now: datetime = NOW, deadline: datetime = DEADLINE) -> str:
    """Sample units, a campaign due `deadline` (16:30 on 28/03/2017), and an invite code for Sở Tư pháp."""
    await ensure_units_and_campaign(db, FORM, now)
    async with db.transaction() as s:
        (await q.current_campaign(s)).deadline_at = deadline
        unit = await q.get_unit_by_code(s, "STP")
        invite = await q.create_invite(s, unit_id=unit.id, role="unit", expires_at=now + timedelta(days=7),
                                       max_uses=3, now=now)
        return invite.code


async def prepare_today(db) -> str:
    """`prepare` on the real clock, due in a week: for the tests that compare the platform's times with ours."""
    now = datetime.now(timezone.utc)
    return await prepare(db, now, now + timedelta(days=7))


def settings_for(fake: FakeZalo, tmp_path: Path, *, webhook: bool = False, token: str | None = None) -> Settings:
    port = free_port()
    return Settings(database_url="unused", data_dir=tmp_path, form_path=DEFAULT_FORM,
                    zalo_token=token or fake.token, zalo_api_url=fake.url,
                    public_url=f"http://127.0.0.1:{port}" if webhook else None,
                    listen_host="127.0.0.1", listen_port=port)


@asynccontextmanager
async def zalo_bot(db, fake: FakeZalo, tmp_path: Path, *, webhook: bool = False, people=(), **options):
    """A running Zalo channel (polling, or webhook behind our web server) over `db`."""
    settings = settings_for(fake, tmp_path, webhook=webhook)
    service = Service(db, options.pop("form", FORM), tmp_path / "photos", clock=options.pop("clock", lambda: NOW))
    channel = ZaloChannel(settings, service, poll_interval=0.01, retry_base=0.01, **options)
    app = build_app(options.get("links"))
    channel.add_routes(app)
    runner = await start_app(app, settings.listen_host, settings.listen_port)
    await channel.start()
    for person in people:
        person.channel = channel
    try:
        yield channel
    finally:
        await channel.stop()
        await runner.cleanup()


class Person:
    """A unit contact on Zalo: sends one message and waits for the bot's whole answer."""

    def __init__(self, fake: FakeZalo, user: str = "6ede9afa66b88fe6d6a9", webhook: bool = False):
        self.fake, self.user, self.webhook = fake, user, webhook
        self.channel: ZaloChannel | None = None

    async def send(self, update: dict) -> str:
        before = len(self.fake.sent)
        if self.webhook:
            assert 200 == await self.fake.deliver(update)
        else:
            self.fake.push(update)
        await self.fake.wait_sent(before + 1)
        await self.channel.queue.drain()  # a long reply goes out in several parts
        return "\n".join(m.text for m in self.fake.sent[before:])

    async def says(self, text: str) -> str:
        return await self.send(self.fake.text(self.user, text))

    async def sends_photo(self, data: bytes) -> str:
        return await self.send(self.fake.image(self.user, data))


SAMPLE_REPORT = [
    "Nguyễn Thị Lan, 0912 345 678",
    "Trần Văn Hùng, Phó Giám đốc Sở, 0913 456 789",
    "Lê Thị Mai, Chuyên viên, 0987 654 321", "1", "7", "PHOTO",
    "Phạm Văn Nam, Chuyên viên, 0905 123 456", "2", "40", "PHOTO",
    "Đỗ Thị Hạnh, Cán sự, 0934 111 222", "nữ", "9", "PHOTO",
    "xong",
    "Bùi Văn Long, Chuyên viên, 0977 333 444", "PHOTO",
    "Hồ Thị Thu, Chuyên viên, 0966 555 666", "PHOTO",
    "Ngô Văn Tài, Cán sự, 0355 777 888", "PHOTO",
    "xong",
    "Võ Thị Hoa, Văn thư, 0934 222 333",
    "xong",
    "125", "Sở Tài chính, Cục Thuế tỉnh",
    "12", "Công an tỉnh, Sở Y tế",
    "125", "bỏ qua",
    "40", "bỏ qua",
    "80", "Bưu điện tỉnh",
    "60", "Bưu điện tỉnh",
    "20", "Bưu điện tỉnh",
    "không", "09:30 và 14:30", "Bộ phận một cửa, tầng 1, số 2 Nguyễn Văn Trị, Biên Hòa", "Cổng sau đóng sau 16:30.",
    "Rà soát TTHC; Rà soát 125 TTHC, đề xuất danh mục; 01/04/2017; 15/04/2017; riêng; Sở Nội vụ",
    "Đào tạo nhân sự; Tập huấn quy trình một cửa; 10/04/2017; 20/04/2017; chung; Sở Nội vụ, Bưu điện tỉnh",
    "Thử nghiệm phần mềm\nChạy thử phần mềm một cửa điện tử\n20/04/2017\n30/04/2017\nchung\nSở Thông tin và Truyền thông",
    "Vận hành chính thức; Tiếp nhận hồ sơ tại Trung tâm; 02/05/2017; 31/05/2017; riêng",
    "xong",
    "Chưa có trụ sở tạm cho bộ phận một cửa; đề nghị bố trí kinh phí mua máy scan.",
    "xem lại",
]


async def fill_sample_report(person: Person) -> list[str]:
    answers = []
    for n, line in enumerate(SAMPLE_REPORT):
        if line == "PHOTO":
            answers.append(await person.sends_photo(jpeg((n * 3 % 255, 120, 200))))
        else:
            answers.append(await person.says(line))
    return answers


async def report_of(db, unit_code: str = "STP"):
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        unit = await q.get_unit_by_code(s, unit_code)
        report = await q.get_or_create_report(s, campaign_id=campaign.id, unit_id=unit.id, now=NOW)
        return report, await q.load_answers(s, report.id)


async def test_zalo_polling__sample_report__submitted_within_80_bot_messages(db, fake, tmp_path):
    """The whole sample report on Zalo, answered without mistakes: at most 80 messages from the bot."""
    code = await prepare(db)
    person = Person(fake)
    async with zalo_bot(db, fake, tmp_path, people=(person,)):
        bound = await person.says(code)
        assert bound.startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp"))
        replies = await fill_sample_report(person)
        assert "1 – Nữ, 2 – Nam" in replies[2]
        assert "Bấm biểu tượng ảnh" in replies[4]
        assert "CÒN THIẾU" not in replies[-1] and texts.REVIEW_COMPLETE in replies[-1]
        before = len(fake.sent)
        detail = await person.says("xem lại 3")  # one section in full
        assert "1. Tên: Lê Thị Mai; Chức vụ: Chuyên viên; Số điện thoại: 0987 654 321" in detail
        del fake.sent[before:]  # the count below is the report's own, as before the detail existed
        submitted = await person.says("nộp")
    assert submitted.startswith("Đã nộp báo cáo lúc 09:00 ngày 27/03/2017.")
    report, answers = await report_of(db)
    assert "submitted" == report.status
    assert 3 == len([k for k in answers if k.startswith("main_staff[") and k.endswith(".photo")])
    assert all(isinstance(answers[f"backup_staff[{n}].photo"], int) for n in (1, 2, 3))
    assert "09:30, 14:30" == answers["pickup.proposed_times"]
    assert "2017-05-31" == answers["plan[4].end"]
    assert "Sở Thông tin và Truyền thông" == answers["plan[3].partners"]
    assert all(len(m.text) <= TEXT_LIMIT for m in fake.sent)
    review = [m.text for m in fake.sent if m.text.startswith("XEM LẠI BÁO CÁO")]
    assert 1 == len(review) and len(review[0]) <= 2000  # the review of the whole report is one message
    print(f"Zalo bot messages for the sample report: {len(fake.sent)}")
    assert len(fake.sent) <= 51  # 52 before the review became one message; it must not grow


# The sample report typed by a person who makes the mistakes people make: a digit missing from a mobile, the
# phone left for a second message, a greeting in the middle, an end date before the start. Each costs one
# message more than the sample report (the bot's correction), never a wrong field.
MISTAKES = {
    "Phạm Văn Nam, Chuyên viên, 0905 123 456": ["Phạm Văn Nam, Chuyên viên, 0905 123 45", "0905 123 456"],
    "Bùi Văn Long, Chuyên viên, 0977 333 444": ["Bùi Văn Long, Chuyên viên", "0977 333 444"],
    "Võ Thị Hoa, Văn thư, 0934 222 333": ["chào em", "Võ Thị Hoa, Văn thư, 0934 222 333"],
    "Vận hành chính thức; Tiếp nhận hồ sơ tại Trung tâm; 02/05/2017; 31/05/2017; riêng":
        ["Vận hành chính thức; Tiếp nhận hồ sơ tại Trung tâm; 02/05/2017; 30/04/2017; riêng", "31/05/2017"],
}


async def test_zalo_polling__sample_report_with_mistakes__one_message_more_per_mistake_and_right_fields(
        db, fake, tmp_path):
    code = await prepare(db)
    person = Person(fake)
    async with zalo_bot(db, fake, tmp_path, people=(person,)):
        await person.says(code)
        said = {}
        for n, line in enumerate(SAMPLE_REPORT):
            if line == "PHOTO":
                await person.sends_photo(jpeg((n * 3 % 255, 120, 200)))
                continue
            for typed in MISTAKES.get(line, [line]):
                said[typed] = await person.says(typed)
        submitted = await person.says("nộp")
    assert submitted.startswith("Đã nộp báo cáo lúc 09:00 ngày 27/03/2017.")
    assert texts.PHONE_INVALID in said["Phạm Văn Nam, Chuyên viên, 0905 123 45"]
    assert texts.COMPACT_MISSING.format(labels="Số điện thoại") in said["Bùi Văn Long, Chuyên viên"]
    assert texts.WELCOME_BACK.split("!")[0] not in said["chào em"]
    assert "Ví dụ: 31/05/2017" in said["Vận hành chính thức; Tiếp nhận hồ sơ tại Trung tâm; 02/05/2017; 30/04/2017; riêng"]
    _, answers = await report_of(db)
    assert ("Phạm Văn Nam", "Chuyên viên", "+84905123456") == tuple(answers[f"main_staff[2].{k}"] for k in
                                                                   ("name", "position", "phone"))
    assert ("Bùi Văn Long", "Chuyên viên", "+84977333444") == tuple(answers[f"backup_staff[1].{k}"] for k in
                                                                   ("name", "position", "phone"))
    assert ("2017-05-02", "2017-05-31") == (answers["plan[4].start"], answers["plan[4].end"])
    print(f"Zalo bot messages for the sample report with {len(MISTAKES)} mistakes: {len(fake.sent)}")
    assert len(fake.sent) <= 51 + len(MISTAKES)  # the sample report's count, and one more per mistake


async def test_zalo_webhook__right_secret__answered_and_wrong_secret_or_body_refused(db, fake, tmp_path):
    code = await prepare(db)
    person = Person(fake, webhook=True)
    async with zalo_bot(db, fake, tmp_path, webhook=True, people=(person,)) as channel:
        assert fake.webhook_url.endswith("/zalo/webhook")
        assert len(fake.webhook_secret) >= 32
        assert (await person.says(code)).startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp"))
        sent = len(fake.sent)
        assert 403 == await fake.deliver(fake.text(person.user, "Kẻ gian, 0912 345 678"), secret="wrong")
        assert 403 == await fake.deliver(fake.text(person.user, "Kẻ gian, 0912 345 678"), secret="")
        assert 400 == await fake.deliver({}, raw=b"{not json")
        assert 400 == await fake.deliver({"hello": "world"})
        # Malformed bodies with the right secret: a clear 400, never a 500 or a traceback.
        assert 400 == await fake.deliver({}, raw=b"[" * 100_000 + b"]" * 100_000)  # nested 100,000 deep
        assert 400 == await fake.deliver({"event_name": "message.text.received", "message": "x"})
        bad_text = fake.text(person.user, "x")
        bad_text["message"]["text"] = 5
        assert 400 == await fake.deliver(bad_text)
        await channel.queue.drain()
        assert sent == len(fake.sent)
        assert {} == (await report_of(db))[1]
        wrapped = fake.text(person.user, "Nguyễn Thị Lan, 0912 345 678")
        before = len(fake.sent)
        assert 200 == await fake.deliver(wrapped, wrapped=True)
        await fake.wait_sent(before + 1)
    assert "Nguyễn Thị Lan" == (await report_of(db))[1]["reporter.name"]


async def test_zalo_polling__restart_midway__resumes_at_the_same_question(db, fake, tmp_path):
    code = await prepare(db)
    person = Person(fake)
    async with zalo_bot(db, fake, tmp_path, people=(person,)):
        await person.says(code)
        await person.says("Nguyễn Thị Lan, 0912 345 678")
        await person.says("Trần Văn Hùng")
    async with zalo_bot(db, fake, tmp_path, people=(person,)):
        again = await person.says("Phó Giám đốc Sở")
    assert "Số điện thoại di động? Ví dụ: 0913 456 789." in again
    assert {"reporter.name": "Nguyễn Thị Lan", "reporter.phone": "+84912345678", "leader[1].name": "Trần Văn Hùng",
            "leader[1].position": "Phó Giám đốc Sở", "leader.__last__": 1} == (await report_of(db))[1]


class CrossingZalo(FakeZalo):
    """A fake Zalo where the person re-sends a line while the bot's reply to it is on its way: the re-send is
    dated (by Zalo) a few milliseconds before the reply, and Zalo hands it to the webhook only later."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.resend_of: tuple[str, str] | None = None  # (user, text) to re-send as the next reply comes in
        self.resent: dict | None = None

    async def _api(self, request):
        if request.match_info["method"] == "sendMessage" and self.resend_of is not None:
            self.resent, self.resend_of = self.text(*self.resend_of), None
            await asyncio.sleep(0.02)  # the reply is dated 20 ms after the re-send
        return await super()._api(request)


async def test_zalo_webhook__resent_as_the_reply_came_and_handed_over_late__one_answer_nothing_shifted(
        db, tmp_path):
    """Issue 22, the shift a CI run saw once: no reply for a while, the person sends the line again a moment
    before the reply reaches the chat; Zalo, slow that day (every message reaches us a second late), hands the
    re-send over after the bot recorded the reply as sent. By our clocks it came after the reply; by Zalo's it was
    sent before the reply existed, so it cannot answer the question the reply asks. Nothing is stored from it and
    nothing is answered; the next line the person sends is the answer to the next question."""
    fake = await CrossingZalo().start()
    code = await prepare_today(db)
    user = "6ede9afa66b88fe6d6a9"

    async def late(text: str, lag: float = 1.0) -> str:
        """The person sends `text`; Zalo hands it to the webhook `lag` seconds later. The bot's answer."""
        update = fake.text(user, text)
        before = len(fake.sent)
        await asyncio.sleep(lag)
        assert 200 == await fake.deliver(update)
        await fake.wait_sent(before + 1)
        return fake.sent[-1].text

    try:
        async with zalo_bot(db, fake, tmp_path, webhook=True, clock=lambda: datetime.now(timezone.utc)) as channel:
            await late(code)
            fake.resend_of = (user, "Nguyễn Thị Lan, 0912 345 678")
            assert "Lãnh đạo" in await late("Nguyễn Thị Lan, 0912 345 678")  # the leader asked
            assert fake.resent is not None
            await channel.queue.drain()  # the reply is recorded as sent
            sent = len(fake.sent)
            assert 200 == await fake.deliver(fake.resent)  # the re-send, dated before the reply
            await channel.queue.drain()
            assert sent == len(fake.sent)  # the person has the reply already: nothing more
            assert "Chức vụ" in await late("Trần Văn Hùng")
    finally:
        await fake.stop()
    answers = (await report_of(db))[1]
    assert ("Nguyễn Thị Lan", "Trần Văn Hùng") == (answers["reporter.name"], answers["leader[1].name"])


async def test_zalo_webhook__delivery_retried_after_later_messages__never_an_answer_and_said_so(db, fake, tmp_path):
    """Issue 22: Zalo's first delivery of a line fails (the bot was restarting) and is retried later, as Zalo's
    undocumented retry policy may do. Meanwhile the person sent the line again, got the reply and answered the
    next question. The retried line, dated before that answer, is not the answer to the question after it: the
    person is told it came late and is asked the current question again; nothing of it is stored."""
    code = await prepare_today(db)
    person = Person(fake, webhook=True)
    async with zalo_bot(db, fake, tmp_path, webhook=True, people=(person,), clock=lambda: datetime.now(timezone.utc)):
        await person.says(code)
        first = fake.text(person.user, "Nguyễn Thị Lan, 0912 345 678")  # its delivery failed: retried below
        await asyncio.sleep(0.01)
        assert "Lãnh đạo" in await person.says("Nguyễn Thị Lan, 0912 345 678")  # sent again: the leader asked
        await asyncio.sleep(0.01)
        assert "Nhân sự chính" in await person.says("Trần Văn Hùng, Phó Giám đốc Sở, 0913 456 789")
        late = await person.send(first)
        assert texts.MESSAGE_LATE.format(
            what="Tin nhắn “Nguyễn Thị Lan, 0912 345 678”",
            time=datetime.fromtimestamp(first["message"]["date"] / 1000, timezone.utc).astimezone(
                ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%H:%M:%S")) in late
        assert "Nhân sự chính" in late  # the current question again
        assert "Giới tính" in await person.says("Lê Thị Mai, Chuyên viên, 0987 654 321")
    answers = (await report_of(db))[1]
    assert ["Lê Thị Mai"] == [v for k, v in answers.items() if k.startswith("main_staff[") and k.endswith(".name")]
    assert ("Nguyễn Thị Lan", "Trần Văn Hùng") == (answers["reporter.name"], answers["leader[1].name"])


@pytest.mark.parametrize("as_list", [False, True], ids=["one-object", "list"])
async def test_zalo_polling__update_delivered_twice__stored_once_answered_once(db, fake, tmp_path, as_list):
    """Consumed updates come back on later polls (one live client saw it): nothing is added twice."""
    code = await prepare(db)
    fake.replay_consumed, fake.updates_as_list, fake.idle_as_http_408 = True, as_list, False
    person = Person(fake)
    async with zalo_bot(db, fake, tmp_path, people=(person,)) as channel:
        await person.says(code)
        await person.says("Nguyễn Thị Lan, 0912 345 678")
        await person.says("Trần Văn Hùng, Phó Giám đốc, 0913 456 789")
        await person.says("Lê Thị Mai, Chuyên viên, 0987 654 321")
        for _ in range(20):  # let the replays come back and be ignored
            await asyncio.sleep(0.02)
        await channel.queue.drain()
    answers = (await report_of(db))[1]
    assert ["Lê Thị Mai"] == [v for k, v in answers.items() if k.startswith("main_staff[") and k.endswith(".name")]
    assert 4 == len(fake.sent)  # one answer per message: the replays got none


@pytest.mark.parametrize("status", [429, 500, 502])
async def test_zalo_send__transient_failure__retried_and_delivered(db, fake, tmp_path, status):
    code = await prepare(db)
    person = Person(fake)
    async with zalo_bot(db, fake, tmp_path, people=(person,)):
        fake.fail_next("sendMessage", status, times=2)
        assert (await person.says(code)).startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp"))
    assert 3 == sum(1 for method, _ in fake.calls if method == "sendMessage")


async def test_zalo_send__error_as_http_200_ok_false__retried(db, fake, tmp_path):
    """Zalo reports errors inside HTTP 200 too: `ok` is checked on every answer."""
    code = await prepare(db)
    person = Person(fake)
    async with zalo_bot(db, fake, tmp_path, people=(person,)):
        fake.fail_next("sendMessage", 200, {"ok": False, "error_code": 429, "description": "quota"})
        assert (await person.says(code)).startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp"))


async def test_zalo_send__always_failing__recorded_for_the_department(db, fake, tmp_path):
    code = await prepare(db)
    async with zalo_bot(db, fake, tmp_path) as channel:
        fake.fail_next("sendMessage", 500, times=10)
        fake.push(fake.text("u-fail", code))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if sum(1 for m, _ in fake.calls if m == "sendMessage") >= 4:
                break
        await channel.queue.drain()
    async with db.transaction() as s:
        contact = await q.get_contact(s, "zalo", "u-fail")
        from storage.models import AuditLog
        import sqlalchemy as sa
        actions = list(await s.scalars(sa.select(AuditLog.action).where(AuditLog.contact_id == contact.id)))
    assert "send_failed" in actions


@pytest.mark.parametrize("event", ["message.sticker.received", "message.unsupported.received"])
async def test_zalo__sticker_or_unsupported__short_hint_and_the_question_again(db, fake, tmp_path, event):
    code = await prepare(db)
    person = Person(fake)
    async with zalo_bot(db, fake, tmp_path, people=(person,)):
        await person.says(code)
        reply = await person.send(fake.update(person.user, event))
    assert reply.startswith(texts.UNSUPPORTED_MESSAGE)
    assert "Họ và tên của bạn (người điền báo cáo)?" in reply


async def test_zalo_photo__30_mb_image__refused_with_a_message(db, fake, tmp_path):
    code = await prepare(db)
    person = Person(fake)
    async with zalo_bot(db, fake, tmp_path, people=(person,)):
        for line in [code, "Nguyễn Thị Lan, 0912 345 678", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789",
                     "Lê Thị Mai, Chuyên viên, 0987 654 321", "1", "7"]:
            await person.says(line)
        fake.huge_files["huge.jpg"] = 30 * 1024 * 1024
        reply = await person.send(fake.image(person.user, name="huge.jpg"))
    assert reply.startswith(texts.PHOTO_TOO_LARGE.format(max_mb=20))
    assert "main_staff[1].photo" not in (await report_of(db))[1]


async def test_zalo_photo__strangers_never_fetched__a_contacts_kept_at_the_shape_its_question_asks(db, fake, tmp_path):
    """The channel decides before the download whether a photo is taken, and how (issue 27: one read, passed on to
    the service): a stranger's image is not even downloaded; a bound contact's photo of the office keeps its own
    shape, and their staff member's photo is cut to the 3x4 badge."""
    from tests.test_photos_images import NOW as OFFICE_NOW, jpeg as banded_jpeg, prepare_office_form

    form, unit_id, code = await prepare_office_form(db, tmp_path)
    stranger, person = Person(fake, user="5f1c0ffee0000000beef"), Person(fake)
    async with zalo_bot(db, fake, tmp_path, form=form, clock=lambda: OFFICE_NOW, people=(stranger, person)):
        said = await stranger.send(fake.image(stranger.user, banded_jpeg((1600, 900)), name="stranger.jpg"))
        assert said.startswith(texts.INVITE_PROMPT[:40])
        assert "stranger.jpg" not in fake.fetched
        await person.says(code)
        await person.says("Số 2 Nguyễn Văn Trị, Biên Hòa")
        said = await person.send(fake.image(person.user, banded_jpeg((1600, 900)), name="office.jpg"))
        assert "Họ tên?" in said and texts.PHOTO_WARN_LANDSCAPE not in said
        await person.says("Lê Thị Mai")
        said = await person.send(fake.image(person.user, banded_jpeg((1600, 900)), name="badge.jpg"))
        assert texts.PHOTO_WARN_LANDSCAPE in said
    assert ["office.jpg", "badge.jpg"] == fake.fetched
    async with db.transaction() as s:
        report = await q.get_or_create_report(s, campaign_id=(await q.current_campaign(s)).id, unit_id=unit_id,
                                              now=OFFICE_NOW)
        answers = await q.load_answers(s, report.id)
        office = await q.get_photo(s, answers["office.front"])
        badge = await q.get_photo(s, answers["staff[1].photo"])
    assert (1600, 900) == Image.open(office.processed_path).size
    assert (354, 472) == Image.open(badge.processed_path).size


async def test_zalo_photo__url_times_out__asked_to_send_again(db, fake, tmp_path):
    code = await prepare(db)
    person = Person(fake)
    async with zalo_bot(db, fake, tmp_path, photo_timeout=0.3, people=(person,)):
        for line in [code, "Nguyễn Thị Lan, 0912 345 678", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789",
                     "Lê Thị Mai, Chuyên viên, 0987 654 321", "1", "7"]:
            await person.says(line)
        fake.slow_files.add("slow.jpg")
        fake.files["slow.jpg"] = jpeg()
        reply = await person.send(fake.image(person.user, name="slow.jpg"))
        assert reply.startswith(texts.PHOTO_DOWNLOAD_FAILED)
        accepted = await person.send(fake.image(person.user, jpeg(), field_name="photo"))
    assert texts.ITEM_SAVED.format(item="nhân sự chính", n=1, name="Lê Thị Mai") in accepted


async def test_zalo_start__refused_token__stops_with_one_clear_line(db, fake, tmp_path):
    settings = settings_for(fake, tmp_path, token="0:wrong")
    channel = ZaloChannel(settings, Service(db, FORM, tmp_path / "photos"))
    with pytest.raises(ZaloTokenRefused) as refused:
        await channel.start()
    assert texts.CLI_ZALO_TOKEN_REFUSED == str(refused.value)


async def test_zalo_polling__token_revoked_while_running__runner_stops_with_one_line(sqlite_db, fake, tmp_path):
    db_url = sqlite_db.engine.url.render_as_string(hide_password=False)
    settings = settings_for(fake, tmp_path)
    settings = Settings(**{**settings.__dict__, "database_url": db_url})
    fake.fail_next("getUpdates", 200, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    with pytest.raises(FatalChannelError) as fatal:
        await asyncio.wait_for(run_bot(settings), timeout=20)
    assert texts.CLI_ZALO_TOKEN_REFUSED == str(fatal.value)


async def test_zalo_polling__idle__at_least_the_interval_between_polls(db, fake, tmp_path):
    await prepare(db)
    fake.idle_as_http_408 = True
    async with zalo_bot(db, fake, tmp_path, poll_timeout=0) as channel:
        channel.poll_interval = 0.2
        fake.calls.clear()
        await asyncio.sleep(1.1)
    starts = [t for method, t in fake.calls if method == "getUpdates"]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(starts) >= 3 and min(gaps) >= 0.19


async def test_zalo__client_errors__token_never_logged(db, tmp_path, caplog):
    """A connection error's text carries the URL (and so the token): only its type is logged."""
    await prepare(db)
    dead = FakeZalo()
    dead.url = f"http://127.0.0.1:{free_port()}"
    settings = settings_for(dead, tmp_path)
    channel = ZaloChannel(settings, Service(db, FORM, tmp_path / "photos"), retry_base=0.01)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Exception):
        await channel.start()
    assert dead.token not in caplog.text
    assert "fake-zalo-secret" not in caplog.text


async def test_zalo_admin__asks_status__sees_every_unit_grouped(db, fake, tmp_path):
    code = await prepare(db)
    async with db.transaction() as s:
        admin_code = (await q.create_invite(s, unit_id=None, role="admin", expires_at=NOW + timedelta(days=7),
                                            max_uses=1, now=NOW)).code
    person, officer = Person(fake), Person(fake, user="so-noi-vu-1")
    async with zalo_bot(db, fake, tmp_path, people=(person, officer)):
        await person.says(code)
        await person.says("Nguyễn Thị Lan, 0912 345 678")
        assert (await officer.says(admin_code)).startswith(texts.BOUND_ADMIN)
        status = await officer.says("tinh hinh")
    assert "Đã nộp 0/25 đơn vị." in status
    assert "Đang nhập (1):\n- STP Sở Tư pháp – cập nhật 09:00 ngày 27/03/2017" in status
    assert "- CAT Công an tỉnh – chưa có người liên hệ" in status


async def test_zalo_unit_contact__admin_command__refused_never_stored_and_the_question_again(db, fake, tmp_path):
    """Admin commands are refused to unit contacts: "tình hình" is neither answered nor stored as their name."""
    code = await prepare(db)
    person = Person(fake)
    async with zalo_bot(db, fake, tmp_path, people=(person,)):
        await person.says(code)
        reply = await person.says("tình hình")
    assert "TÌNH HÌNH NỘP BÁO CÁO" not in reply
    assert reply.startswith(texts.ADMIN_ONLY.format(command="tình hình"))
    assert "Họ và tên của bạn (người điền báo cáo)?" in reply  # the question it was asked, again
    assert {} == (await report_of(db))[1]


async def test_zalo_group_chat__answers_ignored__nothing_stored(db, fake, tmp_path):
    code = await prepare(db)
    person = Person(fake)
    async with zalo_bot(db, fake, tmp_path, people=(person,)) as channel:
        await person.says(code)
        in_group = fake.text(person.user, "Nguyễn Thị Lan, 0912 345 678")
        in_group["message"]["chat"] = {"id": "group-1", "chat_type": "GROUP"}
        fake.push(in_group)
        for _ in range(30):
            await asyncio.sleep(0.01)
        await channel.queue.drain()
    assert [] == fake.texts_to("group-1")
    assert {} == (await report_of(db))[1]

