"""Deadline reminders on a fake clock: the plan, who gets what at each slot, restarts, two workers, real fakes.

The deadline is 16:30 on 28/03/2017 (Asia/Ho_Chi_Minh). Four units stay active: SNV (submitted, then edited
since), STP (not started, a Zalo and a Telegram contact), SYT (not started, nobody bound) and CAT (in progress,
a Zalo contact, two main staff without photos and no plan item yet). One admin, "boss", on Telegram.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections import Counter
from datetime import datetime, time, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiohttp import web

from bot import cli
from bot.bootstrap import ensure_units_and_campaign
from bot.fanout import DELIVERED, Fanout, Job, Limits, SendResult
from bot.reminders.control import change_plan
from bot.reminders.messages import missing_summary, time_left
from bot.reminders.plan import Plan, PlanError, due_slot, parse_quiet, parse_slots, plan_slots
from bot.reminders.scheduler import run_due
from bot.service import Inbound, Service
from bot.settings import Settings
from bot.channels.telegram_send import telegram_bot_sender
from bot.channels.zalo import ZALO_429_WAIT, ZaloChannel, zalo_sender
from conversations import texts
from conversations.answers import LOCAL_TZ
from conversations.form import DEFAULT_FORM, load_form
from storage import queries as q
from storage.db import Database, open_database
from storage.models import Contact, ReminderSend, ReminderSlot
from tests.conftest import POSTGRES_URL_ENV, _drop_schema
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

FORM = load_form()
TITLE = texts.DEFAULT_CAMPAIGN_TITLE
KEPT_UNITS = ["SNV", "STP", "SYT", "CAT"]


def local(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of March 2017 in Asia/Ho_Chi_Minh, as UTC."""
    return datetime(2017, 3, day, hour, minute, second, tzinfo=LOCAL_TZ).astimezone(timezone.utc)


NOW = local(26, 9)
DEADLINE = local(28, 16, 30)
CAT_ANSWERS = {
    "reporter.name": "Nguyễn Thị Lan", "reporter.phone": "+84912345678",
    "leader[1].name": "Trần Văn Hùng", "leader[1].position": "Phó Giám đốc", "leader[1].phone": "+84913456789",
    "main_staff[1].name": "Lê Thị Mai", "main_staff[1].position": "Chuyên viên",
    "main_staff[1].phone": "+84987654321", "main_staff[1].gender": "nu", "main_staff[1].shirt_size": "7",
    "main_staff[2].name": "Phạm Văn Nam", "main_staff[2].position": "Chuyên viên",
    "main_staff[2].phone": "+84905123456", "main_staff[2].gender": "nam", "main_staff[2].shirt_size": "40",
    "postal_staff[1].name": "Võ Thị Hoa", "postal_staff[1].position": "Văn thư",
    "postal_staff[1].phone": "+84934222333",
    "procedures.tthc_total": 125, "procedures.tthc_linked": 12, "procedures.public_services": 125,
    "procedures.online_services": 40, "procedures.postal_return": 80, "procedures.postal_receive": 60,
    "procedures.postal_online": 20, "pickup.agree": True, "pickup.address": "Bộ phận một cửa, tầng 1",
}


class VirtualClock:
    """The fan-out's clock: sleeping moves time on at once and is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 3))
        target = self.now + max(0.0, seconds)
        await asyncio.sleep(0)
        self.now = max(self.now, target)


def fanout(clock: VirtualClock | None = None, **limits: Limits) -> Fanout:
    clock = clock or VirtualClock()
    return Fanout(limits, sleep=clock.sleep, monotonic=clock.monotonic)


class Crash(Exception):
    """The process dies in the middle of a fan-out."""


class Outbox:
    """Fake send functions for both platforms: what was delivered, scripted failures, a crash after N sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []  # (channel, chat, text)
        self.script: dict[str, list[SendResult]] = {}
        self.crash_after: int | None = None

    def senders(self, channels=("zalo", "telegram")) -> dict:
        def make(channel: str):
            async def send(chat_id: str, user_id: str | None, text: str) -> SendResult:
                await asyncio.sleep(0)
                if self.crash_after is not None and len(self.sent) >= self.crash_after:
                    raise Crash()
                if self.script.get(chat_id):
                    return self.script[chat_id].pop(0)
                self.sent.append((channel, chat_id, text))
                return DELIVERED
            return send
        return {channel: make(channel) for channel in channels}

    def chats(self, since: int = 0) -> Counter:
        return Counter(chat for _, chat, _ in self.sent[since:])

    def to(self, chat: str) -> list[str]:
        return [text for _, c, text in self.sent if c == chat]


async def setup(db: Database, *, units=KEPT_UNITS) -> None:
    await ensure_units_and_campaign(db, FORM, NOW)
    async with db.transaction() as s:
        (await q.current_campaign(s)).deadline_at = DEADLINE
        for unit in await q.list_units(s):
            unit.active = unit.code in units


async def bind(db: Database, user: str, unit: str | None, channel: str = "zalo", name: str | None = None) -> int:
    async with db.transaction() as s:
        contact = await q.get_or_create_contact(s, channel=channel, platform_user_id=user, chat_id=user,
                                                display_name=name or f"Người dùng {user}", now=NOW)
        contact.role = "unit" if unit else "admin"
        contact.unit_id = (await q.get_unit_by_code(s, unit)).id if unit else None
        return contact.id


async def set_report(db: Database, unit: str, status: str, answers: dict | None = None) -> None:
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        unit_row = await q.get_unit_by_code(s, unit)
        report = await q.get_or_create_report(s, campaign_id=campaign.id, unit_id=unit_row.id, now=NOW)
        report.status = status
        if answers:
            before = await q.load_answers(s, report.id)
            await q.save_answer_changes(s, report_id=report.id, contact_id=None, before=before,
                                        after={**before, **answers}, at=NOW)


async def province(db: Database) -> None:
    """The four units and their contacts described at the top of this file."""
    await setup(db)
    await bind(db, "snv-z", "SNV")
    await bind(db, "stp-z", "STP")
    await bind(db, "stp-t", "STP", channel="telegram")
    await bind(db, "cat-z", "CAT")
    await bind(db, "boss", None, channel="telegram", name="Chánh Văn phòng")
    await set_report(db, "SNV", "submitted", {"reporter.name": "Trần Thị Hạnh"})
    async with db.transaction() as s:  # SNV edited its report after submitting it: still submitted, not nagged
        report = await q.get_or_create_report(s, campaign_id=(await q.current_campaign(s)).id,
                                              unit_id=(await q.get_unit_by_code(s, "SNV")).id, now=NOW)
        await q.add_report_version(s, report_id=report.id, answers={"reporter.name": "Trần Thị Hạnh"},
                                   contact_id=None, at=NOW, late=False)
    await set_report(db, "SNV", "submitted", {"reporter.name": "Trần Thị Hạnh Dung"})
    await set_report(db, "CAT", "in_progress", CAT_ANSWERS)


async def sends(db: Database) -> list[ReminderSend]:
    async with db.transaction() as s:
        return list(await s.scalars(sa.select(ReminderSend).order_by(ReminderSend.id)))


async def set_plan(db: Database, **changes) -> None:
    async with db.transaction() as s:
        await change_plan(s, await q.current_campaign(s), NOW, **changes)


# --- The plan on a fake clock ------------------------------------------------------------------------


def test_plan_slots__default_plan__day_before_and_due_day_then_overdue():
    expected = [(local(27, 8), "reminder"), (local(28, 8), "reminder"), (local(28, 14, 30), "reminder"),
                (local(28, 16), "reminder"), (local(28, 16, 31), "overdue")]
    assert expected == [(slot.at, slot.kind) for slot in plan_slots(Plan(), DEADLINE)]


@pytest.mark.parametrize(("slots", "deadline", "expected"), [
    # 22:00 the day before is in quiet hours: it moves to 07:00 on the due day
    (((-1, time(22)), (0, time(14, 30))), DEADLINE, [local(28, 7), local(28, 14, 30), local(28, 16, 31)]),
    # a 23:00 deadline: the overdue notice waits for 07:00; 08:00 stays, it is before the deadline
    (((0, time(8)),), local(28, 23), [local(28, 8), local(29, 7)]),
    # an 07:30 deadline: a 06:00 reminder moves to 07:00 (kept), 08:00 is after the deadline (dropped)
    (((0, time(6)), (0, time(8))), local(28, 7, 30), [local(28, 7), local(28, 7, 31)]),
    # 06:00 and 06:30 both move to 07:00: one slot
    (((0, time(6)), (0, time(6, 30))), DEADLINE, [local(28, 7), local(28, 16, 31)]),
])
def test_plan_slots__slot_in_quiet_hours__moved_to_the_end_of_them(slots, deadline, expected):
    assert expected == [slot.at for slot in plan_slots(Plan(slots=slots), deadline)]


@pytest.mark.parametrize(("now", "last_fired", "expected"), [
    (local(27, 7, 59), None, None),
    (local(27, 8), None, local(27, 8)),
    (local(28, 14, 30), local(28, 8), local(28, 14, 30)),
    (local(28, 14, 45), local(28, 14, 30), None),  # already fired: never twice
    (local(28, 15, 10), local(28, 8), local(28, 14, 30)),  # down at 14:30, back at 15:10: sent once, late
    (local(28, 16, 5), local(28, 8), local(28, 16)),  # missed 14:30 and 16:00: only the latest, no burst
    (local(27, 10, 1), None, local(27, 8)),  # back 2 hours late, before the next slot: still sent once
    (local(29, 16, 32), local(28, 16), None),  # the overdue notice is not sent a day late
    (local(28, 16, 31), local(28, 16), local(28, 16, 31)),  # the overdue notice
    (local(28, 22), local(28, 16), None),  # quiet hours
])
def test_due_slot__bot_up_or_back_from_down__latest_slot_once(now, last_fired, expected):
    slot = due_slot(Plan(), DEADLINE, now, last_fired)
    assert expected == (slot.at if slot else None)


@pytest.mark.parametrize(("now", "expected"), [
    (local(28, 14), "còn 2 giờ 30 phút"),
    (local(27, 8), "còn 1 ngày 8 giờ 30 phút"),
    (local(28, 16), "còn 30 phút"),
    (local(28, 14, 30, 20), "còn 2 giờ"),
    (local(28, 16, 29, 50), "sắp hết hạn"),
    (local(28, 16, 45), "đã quá hạn 15 phút"),
])
def test_time_left__before_and_after_the_deadline__said_in_days_hours_minutes(now, expected):
    assert expected == time_left(DEADLINE, now)


@pytest.mark.parametrize(("raw", "expected"), [
    ("-1 08:00, 08:00, 14:30, 16:00", ((-1, time(8)), (0, time(8)), (0, time(14, 30)), (0, time(16)))),
    ("16h; 8h30; -2 9:00", ((-2, time(9)), (0, time(8, 30)), (0, time(16)))),
])
def test_parse_slots__typed_plan__slots(raw, expected):
    assert expected == parse_slots(raw)


@pytest.mark.parametrize("raw", ["", "25:00", "sáng mai", "-1 -1 08:00", "-20 08:00"])
def test_parse_slots__nonsense__says_how_to_write_it(raw):
    with pytest.raises(PlanError) as error:
        parse_slots(raw)
    assert texts.PLAN_INVALID.format(value=raw.strip()) == str(error.value)


def test_parse_quiet__range_or_off__start_and_end():
    assert [(time(22), time(6, 30)), (time(0), time(0))] == [parse_quiet("22:00 - 06:30"), parse_quiet("Không")]


def test_missing_summary__photos_and_an_empty_section__counted_per_item_and_named_by_number():
    assert "ảnh của 2 nhân sự chính; mục III chưa có nội dung" == missing_summary(FORM, CAT_ANSWERS)


def test_missing_summary__fields_of_a_section_and_of_one_item__listed():
    answers = {k: v for k, v in CAT_ANSWERS.items()
               if not k.startswith("procedures.") and k not in ("reporter.phone", "main_staff[2].phone")}
    expected = ("mục “Người điền báo cáo”: số điện thoại người điền; ảnh của 2 nhân sự chính; "
                "số điện thoại của 1 nhân sự chính; mục “II. Về quy trình tiếp nhận – chuyển hồ sơ” chưa có nội dung; "
                "mục III chưa có nội dung")
    assert expected == missing_summary(FORM, answers)


# --- Who gets what, on both databases ------------------------------------------------------------------


async def test_run_due__every_slot__unfinished_units_contacts_and_admins_reached_once(db):
    """Submitted SNV never; SYT has nobody; CAT submits at 15:00 and is left alone from then on."""
    await province(db)
    outbox, fan, received = Outbox(), fanout(), {}
    for at in [local(27, 8), local(27, 8, 30), local(28, 8), local(28, 14, 30), local(28, 16), local(28, 16, 10),
               local(28, 16, 31)]:
        if at == local(28, 16):
            await set_report(db, "CAT", "submitted")
        before = len(outbox.sent)
        await run_due(db, FORM, at, outbox.senders(), fanout=fan)
        received[at.astimezone(LOCAL_TZ).strftime("%d %H:%M")] = dict(outbox.chats(before))
    everyone = {"stp-z": 1, "stp-t": 1, "cat-z": 1, "boss": 1}
    assert {"27 08:00": everyone, "27 08:30": {}, "28 08:00": everyone, "28 14:30": everyone,
            "28 16:00": {"stp-z": 1, "stp-t": 1, "boss": 1}, "28 16:10": {},
            "28 16:31": {"stp-z": 1, "stp-t": 1, "boss": 1}} == received
    assert outbox.to("stp-z")[-1].startswith("ĐÃ QUÁ HẠN NỘP BÁO CÁO – Sở Tư pháp\n")
    assert outbox.to("boss")[-1].startswith("ĐÃ HẾT HẠN NỘP BÁO CÁO – ")


async def test_run_due__unit_reminder_at_1400__exact_text_with_time_left_and_missing_parts(db):
    await province(db)
    await set_plan(db, slots="-1 08:00, 08:00, 14:00, 16:00")
    outbox = Outbox()
    await run_due(db, FORM, local(28, 14), outbox.senders(), fanout=fanout())
    expected = (
        "NHẮC HẠN NỘP BÁO CÁO – Công an tỉnh\n"
        "Hạn nộp: 16:30 ngày 28/03/2017 (còn 2 giờ 30 phút).\n"
        "Còn thiếu: ảnh của 2 nhân sự chính; mục III chưa có nội dung.\n"
        "Bạn chỉ cần trả lời tin nhắn này để tiếp tục, hoặc gõ “bổ sung” để nhập lần lượt các phần còn thiếu; "
        "xong thì gõ “nộp”.\n"
        "Muốn điền cả báo cáo trên một trang web? Gửi “điền trên web”."
    )
    assert [expected] == outbox.to("cat-z")
    assert outbox.to("stp-z")[0].startswith("NHẮC HẠN NỘP BÁO CÁO – Sở Tư pháp\nHạn nộp: 16:30 ngày 28/03/2017 "
                                             "(còn 2 giờ 30 phút).\nĐơn vị chưa gửi thông tin nào cho báo cáo.\n")


async def test_run_due__admin_digest__counts_names_not_started_and_units_without_contact(db):
    await province(db)
    outbox = Outbox()
    await run_due(db, FORM, local(28, 14, 30), outbox.senders(), fanout=fanout())
    expected = (
        f"TÌNH HÌNH NỘP BÁO CÁO – {TITLE}\n"
        "Hạn nộp: 16:30 ngày 28/03/2017 (còn 2 giờ).\n"
        "Đã nộp 1/4 đơn vị; đang nhập 1; chưa bắt đầu 2.\n"
        "Đã gửi tin nhắc tới 3 người liên hệ của 2 đơn vị chưa nộp.\n"
        "\n"
        "Chưa bắt đầu (2):\n"
        "- STP Sở Tư pháp\n"
        "- SYT Sở Y tế\n"
        "\n"
        "Chưa có người liên hệ (1), cần gọi điện:\n"
        "- SYT Sở Y tế"
    )
    assert [expected] == outbox.to("boss")
    assert "boss" == outbox.sent[-1][1]  # the digest goes after the slot's reminders, to count them


async def test_run_due__overdue_slot__admins_get_the_late_list(db):
    await province(db)
    outbox = Outbox()
    await run_due(db, FORM, local(28, 16, 31), outbox.senders(), fanout=fanout())
    expected = (
        f"ĐÃ HẾT HẠN NỘP BÁO CÁO – {TITLE}\n"
        "Hạn nộp: 16:30 ngày 28/03/2017. Đã nộp 1/4 đơn vị.\n"
        "\n"
        "Chưa nộp (3):\n"
        "- STP Sở Tư pháp – chưa bắt đầu\n"
        "- SYT Sở Y tế – chưa bắt đầu, chưa có người liên hệ\n"
        "- CAT Công an tỉnh – đang nhập"
    )
    assert [expected] == outbox.to("boss")


async def test_run_due__overdue_slot__a_unit_with_its_own_later_deadline_listed_apart_and_not_told_late(db):
    from bot.review import Officer, extend_deadline

    await province(db)
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        await extend_deadline(s, campaign, "CAT", local(30, 16, 30), Officer("Nguyễn Văn An"), local(28, 9))
    outbox = Outbox()
    await run_due(db, FORM, local(28, 16, 31), outbox.senders(), fanout=fanout())
    expected = (
        f"ĐÃ HẾT HẠN NỘP BÁO CÁO – {TITLE}\n"
        "Hạn nộp: 16:30 ngày 28/03/2017. Đã nộp 1/4 đơn vị.\n"
        "\n"
        "Chưa nộp (2):\n"
        "- STP Sở Tư pháp – chưa bắt đầu\n"
        "- SYT Sở Y tế – chưa bắt đầu, chưa có người liên hệ\n"
        "\n"
        "Được gia hạn, chưa đến hạn (1):\n"
        "- CAT Công an tỉnh – hạn mới 16:30 ngày 30/03/2017"
    )
    assert [expected] == outbox.to("boss")
    assert [] == outbox.to("cat-z")  # its contact is not told the deadline has passed
    # Its own deadline passes: its contact alone gets the overdue notice, naming that deadline, once.
    others = len(outbox.to("stp-z"))
    await run_due(db, FORM, local(30, 16, 31), outbox.senders(), fanout=fanout())
    await run_due(db, FORM, local(30, 17, 40), outbox.senders(), fanout=fanout())
    told = outbox.to("cat-z")
    assert 1 == len(told) and told[0].startswith("ĐÃ QUÁ HẠN NỘP BÁO CÁO – Công an tỉnh\nHạn nộp là 16:30 ngày "
                                                 "30/03/2017;")
    assert [expected] == outbox.to("boss") and others == len(outbox.to("stp-z"))  # nobody else told again


async def test_run_due__quiet_hours__nothing_at_2200_the_moved_slot_at_0700(db):
    await province(db)
    await set_plan(db, slots="-1 22:00, 14:30")
    outbox = Outbox()
    late_evening = await run_due(db, FORM, local(27, 22), outbox.senders(), fanout=fanout())
    morning = await run_due(db, FORM, local(28, 7), outbox.senders(), fanout=fanout())
    assert (None, "reminder") == (late_evening.slot, morning.slot)
    assert {"stp-z": 1, "stp-t": 1, "cat-z": 1, "boss": 1} == outbox.chats()


async def test_deadline_change__by_an_admin_in_the_chat__remaining_slots_follow_the_new_deadline(db, tmp_path):
    await province(db)
    outbox, fan = Outbox(), fanout()
    await run_due(db, FORM, local(28, 8), outbox.senders(), fanout=fan)
    service = Service(db, FORM, tmp_path / "photos", lambda: local(28, 9))
    reply = await service.handle(Inbound(channel="telegram", user_id="boss", chat_id="boss", event_id="e1",
                                         text="Hạn nộp 29/03/2017 16:30"))
    assert reply[0].text.startswith("Đã đổi hạn nộp từ 16:30 ngày 28/03/2017 thành 16:30 ngày 29/03/2017; ")
    fired = {}
    for at in [local(28, 14, 30), local(28, 16, 31), local(29, 8), local(29, 14, 30), local(29, 16, 31)]:
        fired[at.astimezone(LOCAL_TZ).strftime("%d %H:%M")] = (await run_due(db, FORM, at, outbox.senders(),
                                                                             fanout=fan)).slot
    assert {"28 14:30": None, "28 16:31": None, "29 08:00": "reminder", "29 14:30": "reminder",
            "29 16:31": "overdue"} == fired
    assert "Hạn nộp: 16:30 ngày 29/03/2017 (còn 8 giờ 30 phút)." in outbox.to("stp-z")[-3]  # 08:00 on the 29th


async def test_run_due__unit_submits_between_planning_and_sending__skipped(db):
    await province(db)
    outbox = Outbox()
    await run_due(db, FORM, local(28, 8), {}, fanout=fanout())  # planned, but no channel is up yet
    await set_report(db, "STP", "submitted")
    summary = await run_due(db, FORM, local(28, 8, 1), outbox.senders(), fanout=fanout())
    assert {"cat-z": 1, "boss": 1} == dict(outbox.chats())
    assert (2, 2) == (summary.skipped, summary.sent)


# --- Restarts ----------------------------------------------------------------------------------------


async def test_restart__between_slots__nothing_sent_again_and_the_next_slot_goes_out(db):
    await province(db)
    outbox = Outbox()
    await run_due(db, FORM, local(28, 8), outbox.senders(), fanout=fanout(), worker="before-restart")
    for at in [local(28, 8), local(28, 8, 5), local(28, 10)]:  # a new process: new worker, new queue
        await run_due(db, FORM, at, outbox.senders(), fanout=fanout(), worker=f"after-{at:%H%M}")
    assert {"stp-z": 1, "stp-t": 1, "cat-z": 1, "boss": 1} == outbox.chats()
    await run_due(db, FORM, local(28, 14, 30), outbox.senders(), fanout=fanout(), worker="later")
    assert {"stp-z": 2, "stp-t": 2, "cat-z": 2, "boss": 2} == outbox.chats()


async def test_restart__crash_in_the_middle_of_a_fanout__no_duplicate_and_no_loss(db):
    """50 contacts; the process dies after 20 deliveries; the restarted one sends the other 30 and the digest."""
    await setup(db, units=KEPT_UNITS + ["SYT"])
    for n in range(50):
        await bind(db, f"u{n:02d}", ["STP", "CAT", "SYT"][n % 3], channel=["zalo", "telegram"][n % 2])
    await bind(db, "boss", None, channel="telegram")
    outbox = Outbox()
    outbox.crash_after = 20
    with pytest.raises(Crash):
        await run_due(db, FORM, local(28, 14, 30), outbox.senders(), fanout=fanout(), worker="dies")
    assert 20 == len(outbox.sent)
    outbox.crash_after = None
    summary = await run_due(db, FORM, local(28, 14, 31), outbox.senders(), fanout=fanout(), worker="restarted")
    assert {**{f"u{n:02d}": 1 for n in range(50)}, "boss": 1} == dict(outbox.chats())
    assert {"sent"} == {row.state for row in await sends(db)}
    assert (None, 31) == (summary.slot, summary.sent)


async def test_restart__hard_kill_with_a_message_in_flight__failed_as_interrupted_never_sent_twice(db):
    """A worker killed mid-request leaves its row "sending": after the lease it is failed and shown to admins."""
    await province(db)
    outbox = Outbox()
    await run_due(db, FORM, local(28, 14, 30), {}, fanout=fanout())
    async with db.transaction() as s:  # what the killed worker left behind
        row = await s.scalar(sa.select(ReminderSend).join(Contact, Contact.id == ReminderSend.contact_id)
                             .where(Contact.chat_id == "stp-t"))
        row.state, row.claimed_by, row.claimed_at = "sending", "killed", local(28, 14, 30)
    early = await run_due(db, FORM, local(28, 14, 35), outbox.senders(), fanout=fanout())
    assert ({"stp-z": 1, "cat-z": 1}, 0) == (dict(outbox.chats()), early.recovered)  # boss waits for stp-t
    late = await run_due(db, FORM, local(28, 14, 41), outbox.senders(), fanout=fanout())
    assert ({"stp-z": 1, "cat-z": 1, "boss": 1}, 1) == (dict(outbox.chats()), late.recovered)
    assert "- Người dùng stp-t – Sở Tư pháp (Telegram): bot dừng giữa lúc gửi, chưa rõ đã nhận" in outbox.to("boss")[0]


async def test_restart__bot_down_across_two_slots__only_the_latest_missed_slot_sent_once(db):
    await province(db)
    outbox = Outbox()
    await run_due(db, FORM, local(28, 8), outbox.senders(), fanout=fanout())
    for at in [local(28, 16, 10), local(28, 16, 12)]:  # down from 09:00 to 16:10: 14:30 and 16:00 were missed
        await run_due(db, FORM, at, outbox.senders(), fanout=fanout())
    assert {"stp-z": 2, "stp-t": 2, "cat-z": 2, "boss": 2} == outbox.chats()
    async with db.transaction() as s:
        fired = [slot.at for slot in await s.scalars(sa.select(ReminderSlot).order_by(ReminderSlot.at))]
    assert [local(28, 8), local(28, 16)] == fired


# --- Two workers on one PostgreSQL ------------------------------------------------------------------


async def test_two_workers__one_postgres_same_slot__each_contact_reminded_exactly_once():
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set: PostgreSQL tests skipped")
    schema = f"t_{secrets.token_hex(6)}"
    first = await open_database(url, schema=schema)
    second = await open_database(url, schema=schema)
    try:
        await setup(first, units=KEPT_UNITS + ["SKHDT", "STC", "SCT", "SXD", "SYT"])
        units = ["STP", "SKHDT", "STC", "SCT", "SXD", "SYT", "CAT"]
        for n in range(60):
            await bind(first, f"u{n:02d}", units[n % len(units)], channel=["zalo", "telegram"][n % 2])
        await bind(first, "boss", None, channel="telegram")
        outbox = Outbox()
        summaries = await asyncio.gather(
            run_due(first, FORM, local(28, 14, 30), outbox.senders(), fanout=fanout(), worker="w1"),
            run_due(second, FORM, local(28, 14, 30), outbox.senders(), fanout=fanout(), worker="w2"))
        assert {**{f"u{n:02d}": 1 for n in range(60)}, "boss": 1} == dict(outbox.chats())
        assert 1 == sum(1 for s in summaries if s.slot)
        assert all(s.sent for s in summaries)  # both took part
        rows = await sends(first)
        assert (61, {"sent"}, {"w1", "w2"}) == (len(rows), {r.state for r in rows}, {r.claimed_by for r in rows})
    finally:
        await first.dispose()
        await second.dispose()
        await _drop_schema(url, schema)


# --- The send queue ------------------------------------------------------------------------------------


async def run_jobs(fan: Fanout, platform: str, jobs: list[Job], send) -> dict:
    queue, outcomes = list(jobs), {}

    async def take():
        return queue.pop(0) if queue else None

    async def done(job, outcome):
        outcomes[job.key] = outcome

    await fan.run(platform, send, take, done)
    return outcomes


async def test_fanout__many_chats_and_a_long_text__platform_rate_and_one_per_second_per_chat_kept():
    clock = VirtualClock()
    fan = fanout(clock, test=Limits(per_second=5, chat_interval=1.0, text_limit=30, concurrency=4))
    starts: list[tuple[str, float]] = []

    async def send(chat_id, user_id, text):
        starts.append((chat_id, clock.now))
        return DELIVERED

    jobs = [Job(n, f"c{n}", None, "ngắn") for n in range(8)] + [Job(99, "long", None, "dài " * 20)]
    outcomes = await run_jobs(fan, "test", jobs, send)
    times = sorted(t for _, t in starts)
    in_long_chat = [t for chat, t in starts if chat == "long"]
    assert {"sent"} == {o.state for o in outcomes.values()}
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.2 - 1e-9
    assert 3 == len(in_long_chat) and min(b - a for a, b in zip(in_long_chat, in_long_chat[1:])) >= 1.0 - 1e-9


async def test_fanout__transient_failures__backed_off_then_given_up_after_max_attempts():
    clock = VirtualClock()
    fan = fanout(clock, test=Limits(per_second=100, concurrency=1, max_attempts=3, backoff=1.0))

    async def send(chat_id, user_id, text):
        return SendResult(False, error="zalo 500")

    outcomes = await run_jobs(fan, "test", [Job(1, "c1", None, "x")], send)
    assert ("failed", 3, False, "zalo 500") == (outcomes[1].state, outcomes[1].attempts, outcomes[1].permanent,
                                                 outcomes[1].error)
    assert [1.0, 2.0] == [w for w in clock.waits if w >= 1]


async def test_fanout__429s_on_several_chats_at_once__whole_platform_paused():
    clock = VirtualClock()
    fan = fanout(clock, test=Limits(per_second=1000, concurrency=3, flood_429s=3))
    answered: Counter = Counter()
    starts: list[float] = []

    async def send(chat_id, user_id, text):
        answered[chat_id] += 1
        starts.append(clock.now)
        return SendResult(False, retry_after=4) if answered[chat_id] == 1 else DELIVERED

    outcomes = await run_jobs(fan, "test", [Job(n, f"c{n}", None, "x") for n in range(4)], send)
    assert {"sent"} == {o.state for o in outcomes.values()}
    assert min(t for t in starts[4:]) >= 4.0  # the 4th chat waited too, though it had no 429 of its own


# --- Against the fake Zalo and Telegram servers, real HTTP ----------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StallingZalo(FakeZalo):
    """The fake Zalo, able to hold sendMessage past the client's timeout (and then drop it)."""

    stalls = 0

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "sendMessage" and self.stalls > 0:
            self.stalls -= 1
            await asyncio.sleep(0.5)
            return web.json_response({"ok": False, "error_code": 408, "description": "too slow"}, status=504)
        return await super()._api(request)


async def zalo_channel(db: Database, fake: FakeZalo, tmp_path: Path) -> ZaloChannel:
    settings = Settings(database_url="unused", data_dir=tmp_path, form_path=DEFAULT_FORM, zalo_token=fake.token,
                        zalo_api_url=fake.url, listen_port=free_port())
    channel = ZaloChannel(settings, Service(db, FORM, tmp_path / "photos", lambda: NOW), retry_base=0.01)
    await channel.start()
    return channel


async def test_zalo__429_then_timeout_then_404__waits_retries_and_the_unreachable_contact_in_the_digest(
        db, tmp_path):
    await setup(db)
    await bind(db, "stp-z", "STP")
    await bind(db, "stp-lost", "STP", name="Lê Văn Tâm")
    await bind(db, "boss", None, channel="zalo")
    fake = await StallingZalo().start()
    channel = await zalo_channel(db, fake, tmp_path)
    clock = VirtualClock()
    try:
        fake.fail_next("sendMessage", 429)
        fake.stalls = 1
        sender = zalo_sender(channel, timeout=0.2)
        original = sender

        async def send(chat_id, user_id, text):
            if chat_id == "stp-lost":
                fake.fail_next("sendMessage", 404, {"ok": False, "error_code": 404, "description": "chat not found"})
            return await original(chat_id, user_id, text)

        one_at_a_time = Limits(per_second=5, concurrency=1)  # so the injected failures meet a known message
        summary = await run_due(db, FORM, local(28, 14, 30), {"zalo": send}, fanout=fanout(clock, zalo=one_at_a_time))
    finally:
        await channel.stop()
        await fake.stop()
    assert (2, 1) == (summary.sent, summary.failed)
    assert 1 == len(fake.texts_to("stp-z"))
    assert [] == fake.texts_to("stp-lost")
    assert ZALO_429_WAIT in clock.waits  # the 429: waited, then the timeout: backed off
    digest = fake.texts_to("boss")[0]
    assert digest.endswith("Không gửi được tin nhắc (1):\n"
                           "- Lê Văn Tâm – Sở Tư pháp (Zalo): không tìm thấy cuộc trò chuyện")
    async with db.transaction() as s:
        lost = await q.get_contact(s, "zalo", "stp-lost")
        rows = {r.contact_id: r for r in await q.list_reminder_sends(s)}
    assert (local(28, 14, 30), "failed", "not_found") == (lost.blocked_at, rows[lost.id].state,
                                                         rows[lost.id].last_error)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # raised inside PTB's RetryAfter
async def test_telegram__429_retry_after_and_403__waited_as_told_and_the_blocked_contact_recorded(db):
    from telegram import Bot

    await setup(db)
    await bind(db, "4242", "STP", channel="telegram")
    await bind(db, "4343", "CAT", channel="telegram")
    fake = FakeTelegram()
    await fake.start()
    bot = Bot(fake.token, base_url=f"{fake.url}/bot")
    clock = VirtualClock()
    try:
        await bot.initialize()
        fake.fail("sendMessage", times=1, status=429, retry_after=7)
        fake.fail("sendMessage", times=1, status=403)
        summary = await run_due(db, FORM, local(28, 14, 30), {"telegram": telegram_bot_sender(lambda: bot)},
                                fanout=fanout(clock, telegram=Limits(per_second=29, concurrency=1)))
    finally:
        await bot.shutdown()
        await fake.stop()
    # STP's message met the 429, waited 7 s, then met the 403 (the person blocked the bot): failed, not retried.
    assert [429, 403, 200] == [c.status for c in fake.calls_of("sendMessage")]
    assert 7.0 in clock.waits
    assert (1, 1, 0, 1) == (summary.sent, summary.failed, len(fake.sent(4242)), len(fake.sent(4343)))
    async with db.transaction() as s:
        assert local(28, 14, 30) == (await q.get_contact(s, "telegram", "4242")).blocked_at


# --- Admin commands: chat and command line ---------------------------------------------------------


async def test_admin_chat__preview_then_send_now__who_first_then_queued_and_sent_by_the_next_pass(db, tmp_path):
    await province(db)
    service = Service(db, FORM, tmp_path / "photos", lambda: local(28, 10))

    async def say(text: str, n: int) -> str:
        replies = await service.handle(Inbound(channel="telegram", user_id="boss", chat_id="boss",
                                               event_id=f"a{n}", text=text))
        return replies[0].text

    preview = await say("nhắc", 1)
    queued = await say("Nhắc ngay", 2)
    outbox = Outbox()
    summary = await run_due(db, FORM, local(28, 10, 0, 30), outbox.senders(), fanout=fanout())
    assert preview.startswith("Nếu nhắc ngay: 3 người liên hệ của 2 đơn vị chưa nộp sẽ nhận tin nhắc.\n"
                              "- STP Sở Tư pháp (chưa bắt đầu): 2 người liên hệ\n"
                              "- CAT Công an tỉnh (đang nhập): 1 người liên hệ\n\n"
                              "Chưa có người liên hệ (1), cần gọi điện:\n- SYT Sở Y tế\n\n"
                              "Ví dụ tin gửi Sở Tư pháp:\n\nNHẮC HẠN NỘP BÁO CÁO – Sở Tư pháp\n")
    assert preview.endswith("\n\nGõ “nhắc ngay” để gửi.")
    assert "Đã xếp 3 tin nhắc cho 2 đơn vị chưa nộp; bot gửi trong vòng 1 phút." == queued
    assert ({"stp-z": 1, "stp-t": 1, "cat-z": 1}, None) == (dict(outbox.chats()), summary.slot)


async def test_admin_chat__send_now_in_quiet_hours__refused(db, tmp_path):
    await province(db)
    service = Service(db, FORM, tmp_path / "photos", lambda: local(27, 23))
    replies = await service.handle(Inbound(channel="telegram", user_id="boss", chat_id="boss", event_id="q1",
                                           text="nhắc ngay"))
    assert texts.REMIND_QUIET.format(start="21:00", end="07:00") == replies[0].text


def test_cli__plan_deadline_and_preview__changed_and_printed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("HCC_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HCC_DATA_DIR", str(tmp_path / "data"))
    # a real installation starts empty: the province's units and a campaign first
    assert [0, 0] == [cli.main(["units", "import", "--sample", "--yes"]),
                      cli.main(["campaign", "create", "--title", "Báo cáo", "--deadline", "31/03/2099 16:30"])]
    capsys.readouterr()
    codes = [cli.main(["remind", "plan", "--slots", "-1 09:00, 15:00", "--quiet", "22:00-06:00"]),
             cli.main(["campaign", "deadline", "30/12/2099 16:30"]),
             cli.main(["remind", "--preview"]),
             cli.main(["remind", "plan", "--slots", "sáng mai"])]
    out, err = capsys.readouterr()
    assert [0, 0, 0, 2] == codes
    assert "Lịch: -1 09:00, 15:00. Giờ yên lặng (không gửi tin): 22:00–06:00." in out
    assert "- 09:00 ngày 29/12/2099: nhắc đơn vị chưa nộp, gửi tình hình cho Sở Nội vụ ← lần tới" in out
    assert "- 15:00 ngày 30/12/2099: nhắc đơn vị chưa nộp, gửi tình hình cho Sở Nội vụ\n" in out
    assert "thành 16:30 ngày 30/12/2099; lịch nhắc còn lại tính theo hạn mới." in out
    assert texts.REMIND_NOBODY in out
    assert texts.PLAN_INVALID.format(value="sáng mai") + "\n" == err
