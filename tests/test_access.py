"""Who may do what, through the real service on SQLite and PostgreSQL.

A person without an invite only ever gets the invite prompt and leaves nothing behind; a contact of one unit
neither reads nor changes another unit's report; admin commands typed by a unit contact do nothing an admin's
would; invite codes expire, can be revoked, have limited uses, and guessing them is slowed down (the clock is
injected, nothing sleeps). Webhook secrets are covered in test_telegram.py and test_zalo.py.
"""

from __future__ import annotations

import io
import itertools
import re
from datetime import timedelta
from pathlib import Path

import docx
import pytest
import sqlalchemy as sa
from PIL import Image

from bot.service import Inbound, Service
from conversations import texts
from conversations.form import load_form
from storage import queries as q
from storage.db import Database
from storage.models import (
    Answer, AuditLog, Contact, Conversation, Invite, Photo, Report, ReminderPlan, ReminderSend, ReminderSlot,
)
from tests.test_service import DEADLINE, NOW, Clock, invite, setup

FORM = load_form()
_ids = itertools.count(1)

REPORTER_A = "Nguyễn Thị Lan, 0912 345 678"
LEADER_A = "Trần Văn Hùng, Phó Giám đốc, 0913 456 789"
REPORTER_B = "Phan Văn Đức, 0916 222 333"
LEADER_B = "Lý Thị Ngọc, Giám đốc Công an, 0918 444 555"
STAFF_B = "Trương Văn Bình, Thủ quỹ, 0919 666 777"
B_WORDS = ["Phan Văn Đức", "0916 222 333", "Lý Thị Ngọc", "Giám đốc Công an", "0918 444 555", "Trương Văn Bình"]
# From a unit contact's first question to the count of procedures, the first question that is not free text.
TO_COUNT = [REPORTER_A, LEADER_A, "Lê Thị Mai, Chuyên viên, 0987 654 321", "Nữ", "9", "bỏ qua", "xong", "không có",
            "Võ Thị Hoa, Văn thư, 0934 222 333", "xong"]
COUNT_PROMPT = FORM.section("procedures").question("tthc_total").prompt
SLOW_DOWN = re.compile(re.escape(texts.INVITE_SLOW_DOWN).replace(r"\{minutes\}", "[0-9]+"))


async def say(service: Service, user: str, text: str | None = None, *, channel: str = "test", **kw) -> str:
    """One event from `user`; the text of every reply, joined."""
    inbound = Inbound(channel=channel, user_id=user, chat_id=user, event_id=f"a{next(_ids)}", text=text, **kw)
    replies = await service.handle(inbound)
    assert replies is not None
    service.sent(inbound)
    return "\n".join(r.text for r in replies)


async def answers_of(db: Database, unit: str) -> dict:
    async with db.transaction() as s:
        unit_row = await q.get_unit_by_code(s, unit)
        report = await s.scalar(sa.select(Report).where(Report.unit_id == unit_row.id))
        return {} if report is None else await q.load_answers(s, report.id)


async def report_state(db: Database, unit: str) -> tuple:
    """Everything stored about one unit's report: answers, status, versions, audit rows and photos."""
    async with db.transaction() as s:
        unit_row = await q.get_unit_by_code(s, unit)
        report = await s.scalar(sa.select(Report).where(Report.unit_id == unit_row.id))
        if report is None:
            return ()
        answers = await q.load_answers(s, report.id)
        versions = [v.answers for v in await q.list_report_versions(s, report.id)]
        audit = list(await s.execute(sa.select(AuditLog.action, AuditLog.key, AuditLog.old, AuditLog.new)
                                     .where(AuditLog.report_id == report.id).order_by(AuditLog.id)))
        photos = list(await s.scalars(sa.select(Photo.id).where(Photo.report_id == report.id)))
        return (answers, report.status, report.submitted_at, report.updated_at, versions, audit, photos)


async def contact_of(db: Database, user: str, channel: str = "test") -> Contact | None:
    async with db.transaction() as s:
        return await q.get_contact(s, channel, user)


async def invites(db: Database) -> list[Invite]:
    async with db.transaction() as s:
        return await q.list_invites(s)


async def count(db: Database, model, *where) -> int:
    async with db.transaction() as s:
        return await s.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


async def admin_traces(db: Database) -> dict:
    """What an admin command leaves behind: exports, reminders, plan and deadline changes."""
    async with db.transaction() as s:
        deadline = (await q.current_campaign(s)).deadline_at
    return {
        "exports": await count(db, AuditLog, AuditLog.action == "export"),
        "reminder_slots": await count(db, ReminderSlot),
        "reminder_sends": await count(db, ReminderSend),
        "reminder_plans": await count(db, ReminderPlan),
        "deadline": deadline,
    }


NO_ADMIN_TRACES = {"exports": 0, "reminder_slots": 0, "reminder_sends": 0, "reminder_plans": 0, "deadline": DEADLINE}
ADMIN_OUTPUT = [texts.STATUS_HEADER.split("–")[0], texts.EXPORT_STARTED, texts.ADMIN_HELP.split("\n")[0],
                texts.REMIND_QUEUED.split("{")[0], texts.PLAN_CHANGED, "LỊCH NHẮC", "Đã đổi hạn nộp",
                texts.REMIND_PREVIEW.split("{")[0], texts.REMIND_NOBODY]


def admin_output_in(reply: str) -> list[str]:
    return [marker for marker in ADMIN_OUTPUT if marker in reply]


def jpeg(width: int = 600, height: int = 800) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 160, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def wrong_codes(n: int) -> list[str]:
    """`n` different codes that look right (8 characters of the codes' alphabet) but were never issued."""
    return [f"ZZZZZZ{a}{b}" for a, b in itertools.islice(itertools.product("23456789", repeat=2), n)]


def service_for(db: Database, tmp_path: Path, clock: Clock | None = None) -> Service:
    return Service(db, FORM, tmp_path / "photos", clock or Clock(NOW))


# --- A person without an invite ------------------------------------------------------------------------------

STRANGER_SENDS = [
    {"text": "Xin chào"},
    {"text": "nộp"},
    {"text": "xuất"},
    {"text": "xuất mới"},
    {"text": "tình hình"},
    {"text": "/tinhhinh"},
    {"text": "status"},
    {"text": "export"},
    {"text": "/export"},
    {"text": "xem lại"},
    {"text": "sửa 1"},
    {"text": "nhắc ngay"},
    {"text": "hạn nộp 01/01/2030 16:30"},
    {"text": "tải báo cáo"},
    {"text": "/start"},
    {"text": REPORTER_A},
    {"text": "'; DROP TABLE contact; --"},
    {"pick": "nu"},
    {"pick": "yes"},
    {"pick": "s:reporter"},
    {"start": True},
    {"unsupported": "sticker"},
    {"photo_error": texts.PHOTO_DOWNLOAD_FAILED},
    {"photo": jpeg()},
]


async def test_stranger__anything_sent__only_the_invite_prompt_and_nothing_stored(db, tmp_path):
    await setup(db)
    await invite(db, "STP")
    service = service_for(db, tmp_path)
    replies = [await say(service, "stranger", **inbound) for inbound in STRANGER_SENDS]
    await service.jobs.drain()
    assert [texts.INVITE_PROMPT] * len(STRANGER_SENDS) == replies
    contact = await contact_of(db, "stranger")
    assert (None, None, 0, None) == (contact.role, contact.unit_id, contact.invite_failures,
                                     contact.invite_locked_until)
    stored = {model.__tablename__: await count(db, model) for model in (Report, Answer, Conversation, Photo, AuditLog)}
    assert {"report": 0, "answer": 0, "conversation": 0, "photo": 0, "audit_log": 0} == stored
    assert NO_ADMIN_TRACES == await admin_traces(db)


async def test_stranger__photo__not_even_written_to_disk(sqlite_db, tmp_path):
    """A person nobody invited must not be able to put files (personal data, or just bulk) on the server."""
    await setup(sqlite_db)
    assert texts.INVITE_PROMPT == await say(service_for(sqlite_db, tmp_path), "stranger", photo=jpeg())
    assert [] == [p for p in (tmp_path / "photos").rglob("*") if p.is_file()]


async def test_stranger__same_user_id_as_a_contact_on_another_channel__gets_the_invite_prompt(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    await say(service, "42", await invite(db, "STP"), channel="telegram")
    await say(service, "42", REPORTER_A, channel="telegram")
    assert [texts.INVITE_PROMPT] * 2 == [await say(service, "42", "xem lại", channel="zalo"),
                                          await say(service, "42", "Trần Văn Hùng", channel="zalo")]
    assert {"reporter.name": "Nguyễn Thị Lan", "reporter.phone": "+84912345678"} == await answers_of(db, "STP")


# --- A contact of unit A and the report of unit B -------------------------------------------------------------


async def two_units(db: Database, service: Service) -> None:
    """Contact "a" of STP with a reporter and a leader; contact "b" of CAT with a reporter, leader and staff."""
    await say(service, "a", await invite(db, "STP"))
    for line in [REPORTER_A, LEADER_A]:
        await say(service, "a", line)
    await say(service, "b", await invite(db, "CAT"))
    for line in [REPORTER_B, LEADER_B, STAFF_B]:
        await say(service, "b", line)


async def test_unit_contact__review__shows_only_their_own_units_answers(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    await two_units(db, service)
    review = "\n".join([await say(service, "a", typed) for typed in ("xem lại", "xem lại 1", "xem lại 2", "xem lại 3")])
    assert ["Nguyễn Thị Lan", "0912 345 678", "Trần Văn Hùng"] == [w for w in ["Nguyễn Thị Lan", "0912 345 678",
                                                                            "Trần Văn Hùng"] if w in review]
    assert [] == [w for w in B_WORDS if w in review]


class Recorder:
    """A channel that can deliver files: records what the export jobs hand it."""

    def __init__(self):
        self.files: list[Path] = []
        self.texts: list[str] = []

    async def deliver_files(self, chat_id: str, user_id: str, text: str, files: list[Path]) -> None:
        self.texts.append(text)
        self.files += files

    async def progress(self, chat_id: str, user_id: str, text: str) -> None:
        self.texts.append(text)


async def test_unit_contact__asks_for_the_document__gets_only_their_own_unit(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    recorder = service.deliverers["test"] = Recorder()
    await two_units(db, service)
    assert texts.UNIT_DOCUMENT_STARTED == await say(service, "a", "tải báo cáo")
    await service.jobs.drain()
    assert ["bao-cao_STP.docx"] == [f.name for f in recorder.files]
    document = docx.Document(str(recorder.files[0]))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    text = "\n".join([p.text for p in document.paragraphs] + cells)
    assert ["Nguyễn Thị Lan", "Trần Văn Hùng"] == [w for w in ["Nguyễn Thị Lan", "Trần Văn Hùng"] if w in text]
    assert [] == [w for w in B_WORDS if w in text]


# Everything a contact can do: answers, commands, the edit menu by typing and by (forged) buttons, deletions,
# submitting. None of it may reach another unit's report.
EVERY_PATH = [
    {"text": "sửa"}, {"pick": "s:main_staff"}, {"pick": "i:1"}, {"pick": "del"}, {"pick": "yes"},
    {"text": "sửa 2"}, {"text": "1"}, {"text": "1"}, {"text": "Người khác"}, {"text": "xong"},
    {"text": "sửa 3"}, {"pick": "i:1"}, {"pick": "i:2"}, {"pick": "i:999"}, {"pick": "add"},
    {"text": "Lý Thị Ngọc, Kẻ gian, 0918 444 555"}, {"text": "quay lại"}, {"text": "x"},
    {"text": "bổ sung"}, {"text": "bỏ qua"}, {"text": "không có"}, {"text": "nộp"}, {"text": "xem lại"},
    {"text": "tải báo cáo"}, {"photo": jpeg()}, {"pick": "f:name"}, {"pick": "CAT"}, {"text": "CAT"},
    {"text": "sửa 9"}, {"text": "1"}, {"text": "Sửa của Sở Tư pháp"}, {"text": "nộp"},
    # Item 1 now exists in both units: deleting "i:1" deletes this unit's own.
    {"text": "sửa 3"}, {"pick": "i:1"}, {"pick": "del"}, {"pick": "yes"}, {"text": "x"},
]


async def test_unit_contact__every_command_and_menu_path__never_changes_another_unit(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    service.deliverers["test"] = Recorder()
    await two_units(db, service)
    before = await report_state(db, "CAT")
    for inbound in EVERY_PATH:
        await say(service, "a", **inbound)
    await service.jobs.drain()
    assert before == await report_state(db, "CAT")
    own = await answers_of(db, "STP")
    assert ("Người khác", None) == (own.get("leader[1].name"), own.get("main_staff[1].name"))  # A's own edits


async def test_unit_contact__types_another_units_invite_code__asked_to_confirm_and_neither_stored_nor_bound(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    await two_units(db, service)
    code_b = await invite(db, "CAT")
    contact_before = await contact_of(db, "a")
    before, own_before = await report_state(db, "CAT"), await answers_of(db, "STP")
    reply = await say(service, "a", code_b)
    assert texts.CHANGE_CONFIRM.format(current="người liên hệ của Sở Tư pháp",
                                       target="người liên hệ của Công an tỉnh") == reply
    contact = await contact_of(db, "a")
    assert (contact_before.unit_id, "unit") == (contact.unit_id, contact.role)
    assert (before, own_before) == (await report_state(db, "CAT"), await answers_of(db, "STP"))


# --- Admin commands typed by a unit contact ------------------------------------------------------------------

ADMIN_COMMANDS = ["tình hình", "/tinhhinh", "trạng thái", "status", "xuất", "xuất mới", "/export", "export",
                  "nhắc", "nhắc ngay", "/nhacngay", "lịch nhắc", "lịch nhắc -1 08:00, 08:00",
                  "giờ yên lặng 00:00-23:59", "hạn nộp 01/04/2017 16:30", "đổi hạn 31/12/2017 23:59"]


async def test_unit_contact__admin_commands_at_a_count__said_to_be_for_admins_with_no_admin_effect(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    await say(service, "a", await invite(db, "STP"))
    for line in TO_COUNT:
        await say(service, "a", line)
    before = await answers_of(db, "STP")
    replies = {command: await say(service, "a", command) for command in ADMIN_COMMANDS}
    assert 0 == len(service.jobs.tasks)
    await service.jobs.drain()
    assert {c: texts.ADMIN_ONLY.format(command=c) for c in replies} == {c: r.split("\n\n")[0] for c, r in replies.items()}
    assert {c: [] for c in replies} == {c: admin_output_in(r) for c, r in replies.items()}
    assert all(COUNT_PROMPT in reply for reply in replies.values())
    assert before == await answers_of(db, "STP")
    assert NO_ADMIN_TRACES == await admin_traces(db)


async def test_unit_contact__admin_commands_at_a_name__never_stored_and_the_name_asked_again(db, tmp_path):
    """Seen: "tình hình" stored as the leader's name."""
    await setup(db)
    service = service_for(db, tmp_path)
    await say(service, "a", await invite(db, "STP"))
    await say(service, "a", "Nguyễn Thị Lan")
    await say(service, "a", "0912 345 678")  # now at the leader's name, a one-line text
    leader_prompt = FORM.section("leader").question("name").prompt
    replies = {command: await say(service, "a", command) for command in ADMIN_COMMANDS}
    await service.jobs.drain()
    assert {c: [] for c in replies} == {c: admin_output_in(r) for c, r in replies.items()}
    assert {c: True for c in replies} == {c: r.startswith(texts.ADMIN_ONLY.format(command=c)) and leader_prompt in r
                                          for c, r in replies.items()}
    assert {"reporter.name": "Nguyễn Thị Lan", "reporter.phone": "+84912345678"} == await answers_of(db, "STP")
    assert NO_ADMIN_TRACES == await admin_traces(db)


# --- Invite codes ---------------------------------------------------------------------------------------------


async def test_invite__used_just_before_and_at_expiry__binds_then_refused(db, tmp_path):
    await setup(db)
    clock = Clock(NOW)
    service = service_for(db, tmp_path, clock)
    code = await invite(db, "STP", days=7)
    clock.now = NOW + timedelta(days=7) - timedelta(seconds=1)
    assert (await say(service, "early", code)).startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp"))
    clock.now = NOW + timedelta(days=7)
    assert texts.INVITE_EXPIRED.format(date="03/04/2017") == await say(service, "late", code)
    assert texts.INVITE_EXPIRED.format(date="03/04/2017") == await say(service, "late", f"/start {code}")
    late = await contact_of(db, "late")
    assert (None, None) == (late.role, late.unit_id)
    assert texts.INVITE_PROMPT == await say(service, "late", "xem lại")


async def test_invite__revoked__refused_to_newcomers(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    code = await invite(db, "STP")
    async with db.transaction() as s:
        assert await q.revoke_invite(s, code, now=NOW)
    assert texts.INVITE_REVOKED == await say(service, "newcomer", code)
    assert texts.INVITE_REVOKED == await say(service, "newcomer", f"/start {code}")
    assert (None, {}) == ((await contact_of(db, "newcomer")).role, await answers_of(db, "STP"))


async def test_invite__two_uses__third_person_refused_and_uses_not_exceeded(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    code = await invite(db, "STP", uses=2)
    first, second = await say(service, "p1", code), await say(service, "p2", code)
    assert [True, True] == [r.startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp")) for r in (first, second)]
    assert texts.INVITE_USED_UP.format(max_uses=2) == await say(service, "p3", code)
    assert None is (await contact_of(db, "p3")).role
    assert [2] == [i.uses for i in await invites(db)]


async def test_invite__bound_person_opens_the_deep_link_of_a_used_up_code_again__resumes_their_report(db, tmp_path):
    """Telegram sends "/start CODE" each time the person opens the invite link; it must not count as a new use."""
    await setup(db)
    service = service_for(db, tmp_path)
    code = await invite(db, "STP", uses=1)
    await say(service, "p1", f"/start {code}")
    await say(service, "p1", REPORTER_A)
    again = await say(service, "p1", f"/start {code}")
    assert texts.WELCOME_BACK.format(unit="Sở Tư pháp") in again
    assert [1] == [i.uses for i in await invites(db)]


async def test_invite_guessing__five_wrong_codes__a_wait_even_for_the_right_code_then_it_works(db, tmp_path):
    await setup(db)
    clock = Clock(NOW)
    service = service_for(db, tmp_path, clock)
    code = await invite(db, "STP")
    wrong = wrong_codes(5)
    assert [texts.INVITE_WRONG.format(code=w) for w in wrong] == [await say(service, "guesser", w) for w in wrong]
    locked_until = (await contact_of(db, "guesser")).invite_locked_until
    assert NOW + timedelta(minutes=1) == locked_until
    for moment in (NOW, locked_until - timedelta(seconds=1)):
        clock.now = moment
        assert SLOW_DOWN.fullmatch(await say(service, "guesser", code))
        assert SLOW_DOWN.fullmatch(await say(service, "guesser", f"/start {code}"))
        assert None is (await contact_of(db, "guesser")).role
    clock.now = locked_until
    assert (await say(service, "guesser", code)).startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp"))
    contact = await contact_of(db, "guesser")
    assert ("unit", 0, None) == (contact.role, contact.invite_failures, contact.invite_locked_until)


async def test_invite_guessing__wrong_again_after_each_wait__wait_doubles_up_to_an_hour(db, tmp_path):
    await setup(db)
    clock = Clock(NOW)
    service = service_for(db, tmp_path, clock)
    for code in wrong_codes(4):
        await say(service, "guesser", code)
    waits = []
    for code in wrong_codes(9):
        assert texts.INVITE_WRONG.format(code=code) == await say(service, "guesser", code)
        locked_until = (await contact_of(db, "guesser")).invite_locked_until
        waits.append((locked_until - clock.now) // timedelta(minutes=1))
        clock.now = locked_until
    assert [1, 2, 4, 8, 16, 32, 60, 60, 60] == waits


async def test_invite_guessing__greetings_photos_and_stickers__never_count_as_wrong_codes(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    for inbound in [{"text": "Xin chào"}, {"text": "alo"}, {"text": "?"}, {"photo": jpeg()}, {"unsupported": "sticker"},
                    {"pick": "yes"}, {"text": "tôi chưa có mã"}] * 2:
        assert texts.INVITE_PROMPT == await say(service, "newcomer", **inbound)
    assert (0, None) == ((await contact_of(db, "newcomer")).invite_failures,
                         (await contact_of(db, "newcomer")).invite_locked_until)


async def test_invite_guessing__one_person_locked__another_person_not_slowed_down(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    for code in wrong_codes(6):
        await say(service, "guesser", code)
    assert SLOW_DOWN.fullmatch(await say(service, "guesser", "Xin chào"))
    assert (await say(service, "colleague", await invite(db, "STP"))).startswith(
        texts.BOUND_UNIT.format(unit="Sở Tư pháp"))


@pytest.mark.parametrize(("days", "uses", "revoke", "first_user", "expected"), [
    (-1, 3, False, None, texts.INVITE_EXPIRED.format(date="26/03/2017")),
    (7, 3, True, None, texts.INVITE_REVOKED),
    (7, 1, False, "the-real-admin", texts.INVITE_USED_UP.format(max_uses=1)),
], ids=["expired", "revoked", "used-up"])
async def test_invite_admin__unusable_code__nobody_made_admin_and_admin_commands_get_the_invite_prompt(
        db, tmp_path, days, uses, revoke, first_user, expected):
    await setup(db)
    service = service_for(db, tmp_path)
    code = await invite(db, None, days=days, uses=uses)
    if first_user:
        assert (await say(service, first_user, code)).startswith(texts.BOUND_ADMIN)
    if revoke:
        async with db.transaction() as s:
            await q.revoke_invite(s, code, now=NOW)
    assert expected == await say(service, "pretender", code)
    assert expected == await say(service, "pretender", f"/start {code}")
    assert [texts.INVITE_PROMPT] * 3 == [await say(service, "pretender", c) for c in ("tình hình", "xuất", "nhắc ngay")]
    await service.jobs.drain()
    assert None is (await contact_of(db, "pretender")).role
    assert (1 if first_user else 0) == await count(db, Contact, Contact.role == "admin")
    assert NO_ADMIN_TRACES == await admin_traces(db)
