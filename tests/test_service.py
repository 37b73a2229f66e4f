"""The service over real SQLite and PostgreSQL: invites, durability, duplicates, concurrency, photos, admins."""

from __future__ import annotations

import asyncio
import hashlib
import io
import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from bot.bootstrap import ensure_units_and_campaign
from bot.service import Inbound, Service
from conversations import texts
from conversations.form import load_form
from storage import inbox as inbox_q
from storage import queries as q
from storage.db import Database, open_database

FORM = load_form()
NOW = datetime(2017, 3, 27, 2, 0, tzinfo=timezone.utc)  # 09:00 the day before the deadline
DEADLINE = datetime(2017, 3, 28, 9, 30, tzinfo=timezone.utc)  # 16:30 Asia/Ho_Chi_Minh
_ids = itertools.count(1)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def setup(db: Database) -> None:
    await ensure_units_and_campaign(db, FORM, NOW)
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        campaign.deadline_at = DEADLINE


async def invite(db: Database, unit: str | None, *, days: int = 7, uses: int = 3) -> str:
    async with db.transaction() as s:
        unit_id = (await q.get_unit_by_code(s, unit)).id if unit else None
        created = await q.create_invite(s, unit_id=unit_id, role="unit" if unit else "admin",
                                        expires_at=NOW + timedelta(days=days), max_uses=uses, now=NOW)
        return created.code


def make_service(db: Database, tmp_path: Path, clock: Clock | None = None) -> Service:
    return Service(db, FORM, tmp_path / "photos", clock or Clock(NOW))


async def say(service: Service, user: str, text: str | None = None, *, event_id: str | None = None,
              delivered: bool = True, **kw) -> str | None:
    """Send one message from `user`; the bot's reply text, or None when nothing is sent.

    As a channel does, the replies are reported sent, unless `delivered` is False (the process died first).
    """
    inbound = Inbound(channel="test", user_id=user, chat_id=user, event_id=event_id or f"e{next(_ids)}",
                      text=text, **kw)
    replies = await service.handle(inbound)
    if replies is not None and delivered:
        service.sent(inbound)
    return None if replies is None else "\n".join(r.text for r in replies)


async def answers_of(db: Database, unit: str) -> dict:
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        unit_row = await q.get_unit_by_code(s, unit)
        report = await q.get_or_create_report(s, campaign_id=campaign.id, unit_id=unit_row.id, now=NOW)
        return await q.load_answers(s, report.id)


from tests.face_photos import face_portrait  # noqa: E402  (a real face: a good photo is not warned about)


def jpeg(width: int = 600, height: int = 800) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 160, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


async def test_invite__stranger_says_hello__asked_for_an_invite_code(db, tmp_path):
    await setup(db)
    assert texts.INVITE_PROMPT == await say(make_service(db, tmp_path), "u1", "Xin chào")


async def test_invite__valid_code__bound_and_asked_the_first_question(db, tmp_path):
    await setup(db)
    code = await invite(db, "STP")
    reply = await say(make_service(db, tmp_path), "u1", code.lower()[:4] + "-" + code.lower()[4:])
    assert reply.startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp"))
    assert "Họ và tên của bạn (người điền báo cáo)?" in reply


async def test_invite__deep_link_start_code__bound(db, tmp_path):
    await setup(db)
    code = await invite(db, "CAT")
    reply = await say(make_service(db, tmp_path), "u1", f"/start {code}")
    assert reply.startswith(texts.BOUND_UNIT.format(unit="Công an tỉnh"))


async def test_invite__wrong_codes__refused_then_slowed_down(db, tmp_path):
    await setup(db)
    service = make_service(db, tmp_path)
    replies = [await say(service, "u1", f"ABCD234{n}") for n in range(2, 9)]
    assert texts.INVITE_WRONG.format(code="ABCD2342") == replies[0]
    assert texts.INVITE_SLOW_DOWN.format(minutes=2) == replies[-1]
    code = await invite(db, "STP")
    assert texts.INVITE_SLOW_DOWN.format(minutes=2) == await say(service, "u1", code)


@pytest.mark.parametrize(("days", "uses", "revoke", "expected"), [
    (-1, 3, False, texts.INVITE_EXPIRED.format(date="26/03/2017")),
    (7, 1, False, texts.INVITE_USED_UP.format(max_uses=1)),
    (7, 3, True, texts.INVITE_REVOKED),
])
async def test_invite__unusable_code__says_why(db, tmp_path, days, uses, revoke, expected):
    await setup(db)
    code = await invite(db, "STP", days=days, uses=uses)
    service = make_service(db, tmp_path)
    if uses == 1:
        await say(service, "someone-else", code)
    if revoke:
        async with db.transaction() as s:
            await q.revoke_invite(s, code, now=NOW)
    assert expected == await say(service, "u1", code)


async def test_service__answer_then_restart__resumes_at_the_same_question_with_everything_kept(db, tmp_path):
    await setup(db)
    code = await invite(db, "STP")
    service = make_service(db, tmp_path)
    await say(service, "u1", code)
    await say(service, "u1", "Nguyễn Thị Lan, 0912 345 678")
    await say(service, "u1", "Trần Văn Hùng")
    url = db.engine.url.render_as_string(hide_password=False)
    schema = None
    if not db.is_sqlite:
        async with db.engine.connect() as conn:
            schema = (await conn.execute(sa.text("SHOW search_path"))).scalar()
    await db.dispose()

    reopened = await open_database(url, schema=schema)
    try:
        reply = await say(make_service(reopened, tmp_path), "u1", start=True)
        assert texts.WELCOME_BACK.format(unit="Sở Tư pháp") in reply
        assert reply.rstrip().endswith("Chức vụ? Ví dụ: Phó Giám đốc Sở.")
        assert {"reporter.name": "Nguyễn Thị Lan", "reporter.phone": "+84912345678",
                "leader[1].name": "Trần Văn Hùng", "leader.__last__": 1} == await answers_of(reopened, "STP")
    finally:
        await reopened.dispose()


async def test_service__same_event_twice__second_changes_nothing_and_sends_nothing(db, tmp_path):
    await setup(db)
    code = await invite(db, "STP")
    service = make_service(db, tmp_path)
    await say(service, "u1", code)
    await say(service, "u1", "Nguyễn Thị Lan, 0912 345 678")
    await say(service, "u1", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789")
    first = await say(service, "u1", "Lê Thị Mai, Chuyên viên, 0987 654 321", event_id="dup-1")
    before = await answers_of(db, "STP")
    again = await say(service, "u1", "Lê Thị Mai, Chuyên viên, 0987 654 321", event_id="dup-1")
    assert first is not None and again is None
    assert before == await answers_of(db, "STP")
    assert ["Lê Thị Mai"] == [v for k, v in before.items() if k.startswith("main_staff[") and k.endswith(".name")]


LEADER = "Trần Văn Hùng, Phó Giám đốc, 0913 456 789"


async def leader_answered(db: Database, tmp_path: Path, *, delivered: bool) -> tuple[Service, str]:
    """A bound contact of STP who has just given the leader; the reply to it `delivered` or not."""
    await setup(db)
    code = await invite(db, "STP")
    service = make_service(db, tmp_path)
    await say(service, "u1", code)
    await say(service, "u1", "Nguyễn Thị Lan, 0912 345 678")
    return service, await say(service, "u1", LEADER, delivered=delivered)


def staff_names(answers: dict, role: str) -> list[str]:
    return [v for k, v in sorted(answers.items()) if k.startswith(f"{role}[") and k.endswith(".name")]


@pytest.mark.parametrize("restarted", [False, True], ids=["send-failed", "process-died"])
async def test_service_repeat__reply_never_sent_then_same_line_again__same_reply_and_stored_once(
        db, tmp_path, restarted):
    """The person got no reply to the leader and sends the same line again: it is not the first main staff."""
    service, first = await leader_answered(db, tmp_path, delivered=False)
    if restarted:
        service = make_service(db, tmp_path, Clock(NOW + timedelta(minutes=1)))
    again = await say(service, "u1", LEADER)
    answers = await answers_of(db, "STP")
    assert "Có thể gửi cả họ tên, chức vụ, số di động trong một tin" in first  # the first main staff asked
    assert first == again
    assert (["Trần Văn Hùng"], []) == (staff_names(answers, "leader"), staff_names(answers, "main_staff"))


@pytest.mark.parametrize("restarted", [False, True], ids=["same-process", "after-clean-restart"])
async def test_service_repeat__reply_sent_then_same_line_again__taken_as_the_next_answer(db, tmp_path, restarted):
    """A reply that went out is forgotten: the same text next is a real answer (a second person of that name)."""
    service, first = await leader_answered(db, tmp_path, delivered=True)
    if restarted:
        await service.close()  # a clean shutdown records what was sent
        service = make_service(db, tmp_path, Clock(NOW + timedelta(minutes=1)))
    again = await say(service, "u1", LEADER)
    answers = await answers_of(db, "STP")
    assert first != again
    assert (["Trần Văn Hùng"], ["Trần Văn Hùng"]) == (staff_names(answers, "leader"), staff_names(answers, "main_staff"))


@pytest.mark.parametrize("delivered", [True, False], ids=["first-reply-sent", "first-reply-lost"])
async def test_service_repeat__same_line_sent_before_the_first_reply_reached_them__one_answer_one_reply(
        db, tmp_path, delivered):
    """No reply came (the bot was slow, or down with the first message in its inbox), so the person typed the
    leader again: that second message was sent before the replies to the first existed. It is not the first main
    staff; it gets the first one's replies only if those never went out."""
    await setup(db)
    code = await invite(db, "STP")
    clock = Clock(NOW)
    service = make_service(db, tmp_path, clock)
    await say(service, "u1", code, sent_at=NOW)
    await say(service, "u1", "Nguyễn Thị Lan, 0912 345 678", sent_at=NOW)
    clock.now = NOW + timedelta(seconds=30)  # the first message is handled 30 s after it was sent
    first = await say(service, "u1", LEADER, sent_at=NOW + timedelta(seconds=1), delivered=delivered)
    again = await say(service, "u1", LEADER, sent_at=NOW + timedelta(seconds=20))  # typed again 19 s later
    answers = await answers_of(db, "STP")
    assert "Có thể gửi cả họ tên, chức vụ, số di động trong một tin" in first
    assert (None if delivered else first) == again
    assert (["Trần Văn Hùng"], []) == (staff_names(answers, "leader"), staff_names(answers, "main_staff"))
    # Typed once more after the reply came: a real answer, the first main staff of that name.
    clock.now = NOW + timedelta(seconds=40)
    later = await say(service, "u1", LEADER, sent_at=NOW + timedelta(seconds=35))
    answers = await answers_of(db, "STP")
    assert later is not None and later != first
    assert (["Trần Văn Hùng"], ["Trần Văn Hùng"]) == (staff_names(answers, "leader"), staff_names(answers, "main_staff"))


async def arrive(service: Service, clock: Clock, user: str, text: str, *, sent: float, received: float,
                 replied: float | None = None) -> str | None:
    """A Telegram-like message through the inbox: the person sends it at `sent` seconds after NOW (the platform's
    `date` is that, rounded down to the second), it reaches the inbox at `received` and is handled then; its
    replies reach the person at `replied` (when given). The bot's reply text, or None when nothing is sent."""
    event_id = f"e{next(_ids)}"
    async with service.db.transaction() as s:
        await inbox_q.accept(s, channel="test", platform_id=event_id, chat=user, payload={},
                             at=NOW + timedelta(seconds=received))
    clock.now = NOW + timedelta(seconds=received)
    inbound = Inbound(channel="test", user_id=user, chat_id=user, event_id=event_id, text=text,
                      sent_at=NOW + timedelta(seconds=int(sent)), sent_at_step=timedelta(seconds=1))
    replies = await service.handle(inbound, queued=True)
    if replies is not None and replied is not None:
        clock.now = NOW + timedelta(seconds=replied)
        service.sent(inbound)
    return None if replies is None else "\n".join(r.text for r in replies)


async def test_service_repeat__resent_a_moment_before_the_reply_on_whole_second_dates__still_one_answer(db, tmp_path):
    """Issue 22, the rare shift CI once saw: Telegram dates messages in whole seconds. The person got no reply to
    the leader for a while and sends it again at 30.05 s; the reply, slow, goes out at 30.10 s; the platform holds
    the re-send and hands it over at 30.40 s. Its `date` says 30 s, and every earlier message of the channel was
    sent late in its second (the smallest lag seen is 0.6 s too high): read as 30.62 s, after the reply, the re-send
    was taken for the first main staff. It is one answer; typed again 3 s after the reply, it is a new one."""
    await setup(db)
    code = await invite(db, "STP")
    clock = Clock(NOW)
    service = make_service(db, tmp_path, clock)
    await arrive(service, clock, "u1", code, sent=1.7, received=1.72, replied=1.75)
    await arrive(service, clock, "u1", "Nguyễn Thị Lan, 0912 345 678", sent=5.6, received=5.62, replied=5.65)
    first = await arrive(service, clock, "u1", LEADER, sent=20.0, received=30.0, replied=30.1)
    again = await arrive(service, clock, "u1", LEADER, sent=30.05, received=30.4, replied=30.45)
    answers = await answers_of(db, "STP")
    assert "Có thể gửi cả họ tên, chức vụ, số di động trong một tin" in first  # the first main staff asked
    assert again is None  # the person has the reply already: nothing more
    assert (["Trần Văn Hùng"], []) == (staff_names(answers, "leader"), staff_names(answers, "main_staff"))
    later = await arrive(service, clock, "u1", LEADER, sent=33.1, received=33.12, replied=33.15)
    answers = await answers_of(db, "STP")
    assert later is not None and later != first
    assert (["Trần Văn Hùng"], ["Trần Văn Hùng"]) == (staff_names(answers, "leader"), staff_names(answers, "main_staff"))


@pytest.mark.parametrize("restarted", [False, True], ids=["same-process", "process-died"])
async def test_service_redelivered_update__reply_never_sent__sent_again_only_after_a_restart(db, tmp_path, restarted):
    """The platform delivers the same update again (Telegram's offset unconfirmed when the process died)."""
    await setup(db)
    code = await invite(db, "STP")
    service = make_service(db, tmp_path)
    await say(service, "u1", code)
    await say(service, "u1", "Nguyễn Thị Lan, 0912 345 678")
    first = await say(service, "u1", LEADER, event_id="upd-7", delivered=False)
    if restarted:
        service = make_service(db, tmp_path, Clock(NOW + timedelta(minutes=1)))
    again = await say(service, "u1", LEADER, event_id="upd-7")
    # A running process sends its own replies: a platform retry overtaking the send gets nothing.
    assert (first if restarted else None) == again
    assert ["Trần Văn Hùng"] == staff_names(await answers_of(db, "STP"), "leader")


async def test_service__two_contacts_add_staff_at_once__both_kept_as_separate_people(db, tmp_path):
    await setup(db)
    code = await invite(db, "STP")
    service = make_service(db, tmp_path)
    await say(service, "a", code)
    await say(service, "a", "Nguyễn Thị Lan, 0912 345 678")
    await say(service, "a", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789")
    await say(service, "b", code)  # b arrives at the first main staff member as well
    await asyncio.gather(
        say(service, "a", "Lê Thị Mai, Chuyên viên, 0987 654 321"),
        say(service, "b", "Phạm Văn Nam, Chuyên viên, 0905 123 456"),
    )
    answers = await answers_of(db, "STP")
    names = sorted(v for k, v in answers.items() if k.startswith("main_staff[") and k.endswith(".name"))
    assert ["Lê Thị Mai", "Phạm Văn Nam"] == names
    assert {"main_staff[1].name", "main_staff[2].name"} <= set(answers)


async def at_first_photo(db, tmp_path) -> Service:
    """A unit contact of STP at the photo of the first main staff (Lê Thị Mai)."""
    await setup(db)
    code = await invite(db, "STP")
    service = make_service(db, tmp_path)
    for text in [code, "Nguyễn Thị Lan, 0912 345 678", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789",
                 "Lê Thị Mai, Chuyên viên, 0987 654 321", "Nữ", "9"]:
        await say(service, "u1", text)
    return service


async def test_service__photo_sent__stored_as_badge_and_bad_photo_refused_without_change(db, tmp_path):
    service = await at_first_photo(db, tmp_path)
    before = await answers_of(db, "STP")
    refused = await say(service, "u1", photo=jpeg(100, 100))
    assert refused.startswith(texts.PHOTO_TOO_SMALL.format(width=100, height=100, min_width=300, min_height=400))
    assert before == await answers_of(db, "STP")
    accepted = await say(service, "u1", photo=jpeg())
    assert texts.ITEM_SAVED.format(item="nhân sự chính", n=1, name="Lê Thị Mai") in accepted
    photo_id = (await answers_of(db, "STP"))["main_staff[1].photo"]
    async with db.transaction() as s:
        photo = await q.get_photo(s, photo_id)
    with Image.open(photo.processed_path) as badge:
        assert (354, 472) == badge.size


async def test_service__landscape_then_small_then_portrait_photo__each_stored_and_only_poor_ones_warned(db, tmp_path):
    service = await at_first_photo(db, tmp_path)
    saved = texts.ITEM_SAVED.format(item="nhân sự chính", n=1, name="Lê Thị Mai")
    sent = {"landscape": jpeg(1600, 900), "small": jpeg(300, 400), "portrait": face_portrait(600, 800)}
    seen = {}
    for kind, data in sent.items():
        reply = await say(service, "u1", photo=data)
        assert reply.startswith(saved)
        photo_id = (await answers_of(db, "STP"))["main_staff[1].photo"]
        async with db.transaction() as s:
            photo = await q.get_photo(s, photo_id)
        with Image.open(photo.processed_path) as badge:
            seen[kind] = (photo.sha256, photo.width, photo.height, badge.size)
        assert texts.PHOTO_WARN_LANDSCAPE in reply if kind == "landscape" else texts.PHOTO_WARN_LANDSCAPE not in reply
        small = texts.PHOTO_WARN_SMALL.format(width=300, height=400)
        assert small in reply if kind == "small" else "Lưu ý: ảnh nhỏ" not in reply
        assert texts.PHOTO_REDO_BACK in reply if kind != "portrait" else texts.PHOTO_REDO_BACK not in reply
        assert "Họ và tên nhân sự chính?" in reply  # the next person, as after any photo
        if kind != "portrait":  # the way back the warning gives
            assert "Ảnh 3x4 để in thẻ" in await say(service, "u1", "quay lại")
    assert {kind: (hashlib.sha256(data).hexdigest(), *Image.open(io.BytesIO(data)).size, (354, 472))
            for kind, data in sent.items()} == seen


async def test_service__submit_edit_resubmit__two_versions_kept(db, tmp_path):
    await setup(db)
    clock = Clock(NOW)
    service = make_service(db, tmp_path, clock)
    code = await invite(db, "STP")
    script = [code, "Nguyễn Thị Lan, 0912 345 678", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789",
              "Lê Thị Mai, Chuyên viên, 0987 654 321", "1", "5"]
    for text in script:
        await say(service, "u1", text)
    await say(service, "u1", photo=jpeg())
    for text in ["xong", "xong", "Võ Thị Hoa, Văn thư, 0934 222 333", "xong", "0", "0", "0", "0", "0", "0", "0",
                 "có", "Tầng 1", "bỏ qua",
                 "Rà soát TTHC; Chi tiết; 01/04/2017; 30/04/2017; chung; Sở Nội vụ", "xong", "bỏ qua"]:
        await say(service, "u1", text)
    submitted = await say(service, "u1", "nộp")
    assert submitted.startswith("Đã nộp báo cáo lúc 09:00 ngày 27/03/2017.")
    clock.now = NOW + timedelta(hours=1)
    await say(service, "u1", "sửa 9")
    await say(service, "u1", "1")
    changed = await say(service, "u1", "Thiếu trụ sở.")
    assert texts.CHANGED_AFTER_SUBMIT in changed
    await say(service, "u1", "xong")
    assert (await say(service, "u1", "nộp")).startswith("Đã nộp báo cáo lúc 10:00 ngày 27/03/2017.")
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        unit = await q.get_unit_by_code(s, "STP")
        report = await q.get_or_create_report(s, campaign_id=campaign.id, unit_id=unit.id, now=NOW)
        versions = await q.list_report_versions(s, report.id)
    assert [1, 2] == [v.version for v in versions]
    assert versions[0].answers.get("issues.text") is None
    assert "Thiếu trụ sở." == versions[1].answers["issues.text"]
    assert "submitted" == report.status


async def test_service__after_deadline__read_only_message_and_nothing_changes(db, tmp_path):
    await setup(db)
    clock = Clock(NOW)
    service = make_service(db, tmp_path, clock)
    code = await invite(db, "STP", days=30)
    await say(service, "u1", code)
    clock.now = DEADLINE + timedelta(minutes=1)
    reply = await say(service, "u1", "Nguyễn Thị Lan, 0912 345 678")
    assert texts.READ_ONLY.format(deadline="16:30 ngày 28/03/2017") == reply
    assert {} == await answers_of(db, "STP")


async def test_admin__asks_status__sees_units_grouped(db, tmp_path):
    await setup(db)
    service = make_service(db, tmp_path)
    unit_code = await invite(db, "STP")
    await say(service, "u1", unit_code)
    await say(service, "u1", "Nguyễn Thị Lan, 0912 345 678")
    admin_code = await invite(db, None, uses=1)
    bound = await say(service, "boss", admin_code)
    assert bound.startswith(texts.BOUND_ADMIN)
    status = await say(service, "boss", "tình hình")
    assert status.startswith("TÌNH HÌNH NỘP BÁO CÁO")
    assert "Đã nộp 0/25 đơn vị." in status
    assert "Đang nhập (1):\n- STP Sở Tư pháp – cập nhật 09:00 ngày 27/03/2017" in status
    assert "- SNV Sở Nội vụ – chưa có người liên hệ" in status
