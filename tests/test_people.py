"""People whose access ends or changes, through the real service on SQLite and PostgreSQL.

An admin's access rests on their invite: revoking it makes them a stranger again. A bound person who sends
another valid code is asked before anything changes. New admins are announced to the other admins. A removed
contact gets the invite prompt on their next message, and can be invited again.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from bot.service import Inbound, Service
from conversations import texts
from conversations.form import load_form
from storage import queries as q
from storage.db import MIGRATIONS_DIR, Database
from storage.models import AuditLog, Invite
from tests.test_access import NO_ADMIN_TRACES, REPORTER_A, admin_traces, answers_of, contact_of
from tests.test_service import NOW, Clock, invite, setup

FORM = load_form()
_ids = itertools.count(1)
STP_UNIT = texts.ROLE_UNIT.format(unit="Sở Tư pháp")
CAT_UNIT = texts.ROLE_UNIT.format(unit="Công an tỉnh")
LEADER_PROMPT = FORM.section("leader").question("name").prompt
REPORTER_PROMPT = FORM.section("reporter").question("name").prompt


class Recorder:
    """A channel that records what the service sends to people other than the one writing."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    async def deliver_files(self, chat_id: str, user_id: str, text: str, files: list[Path]) -> None:
        self.sent.append((chat_id, text))

    async def progress(self, chat_id: str, user_id: str, text: str) -> None:
        pass


def service_for(db: Database, tmp_path: Path, clock: Clock | None = None) -> Service:
    service = Service(db, FORM, tmp_path / "photos", clock or Clock(NOW))
    service.deliverers["telegram"] = Recorder()
    service.deliverers["zalo"] = Recorder()
    return service


async def say(service: Service, user: str, text: str | None = None, *, channel: str = "telegram",
              name: str | None = None, **kw) -> str:
    """One event from `user`; the text of every reply, joined."""
    inbound = Inbound(channel=channel, user_id=user, chat_id=f"chat-{user}", event_id=f"p{next(_ids)}", text=text,
                      display_name=name, **kw)
    replies = await service.handle(inbound)
    assert replies is not None
    service.sent(inbound)
    return "\n".join(r.text for r in replies)


async def binding(db: Database, user: str, channel: str = "telegram") -> tuple:
    contact = await contact_of(db, user, channel)
    async with db.transaction() as s:
        unit = await q.get_unit(s, contact.unit_id) if contact.unit_id else None
    return contact.role, unit.code if unit else None


async def revoke(db: Database, code: str) -> None:
    async with db.transaction() as s:
        assert await q.revoke_invite(s, code, now=NOW)


async def unit_contact(db: Database, service: Service, user: str = "a", unit: str = "STP") -> str:
    """A contact of `unit` who has answered the reporter's name and phone; the code they used."""
    code = await invite(db, unit)
    await say(service, user, code, name="Nguyễn Thị Lan")
    await say(service, user, REPORTER_A)
    return code


# --- An admin whose invite is revoked -------------------------------------------------------------------------


async def test_admin__invite_revoked__next_status_or_export_gets_the_invite_prompt(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    code = await invite(db, None)
    assert (await say(service, "boss", code)).startswith(texts.BOUND_ADMIN)
    assert texts.STATUS_HEADER.split("–")[0] in await say(service, "boss", "tình hình")
    await revoke(db, code)
    assert [texts.INVITE_PROMPT] * 3 == [await say(service, "boss", c) for c in ("tình hình", "xuất", "nhắc ngay")]
    await service.jobs.drain()
    assert (None, None) == await binding(db, "boss")
    assert NO_ADMIN_TRACES == await admin_traces(db)


async def test_admin__invite_revoked_behind_the_services_back__unbound_at_their_next_message(db, tmp_path):
    """An invite revoked by any other path than revoke_invite still ends the admin's access."""
    await setup(db)
    service = service_for(db, tmp_path)
    code = await invite(db, None)
    await say(service, "boss", code)
    async with db.transaction() as s:
        await s.execute(sa.update(Invite).where(Invite.code == code).values(revoked_at=NOW))
    assert texts.INVITE_PROMPT == await say(service, "boss", "xuất")
    await service.jobs.drain()
    assert ((None, None), 0) == (await binding(db, "boss"), (await admin_traces(db))["exports"])


async def test_unit_contact__invite_revoked_without_unbind__keeps_reporting(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    code = await unit_contact(db, service)
    await revoke(db, code)
    await say(service, "a", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789")
    assert "Trần Văn Hùng" == (await answers_of(db, "STP"))["leader[1].name"]
    assert ("unit", "STP") == await binding(db, "a")


async def test_contact__unbound__invite_prompt_then_a_new_code_starts_afresh(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    await unit_contact(db, service)
    async with db.transaction() as s:
        await q.unbind_contact(s, await q.get_contact(s, "telegram", "a"), now=NOW, reason="cli")
    assert texts.INVITE_PROMPT == await say(service, "a", "Trần Văn Hùng")
    again = await say(service, "a", await invite(db, "STP"))
    assert again.startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp") + "\n\n" + texts.WELCOME.split("{")[0])
    assert {"reporter.name": "Nguyễn Thị Lan", "reporter.phone": "+84912345678"} == await answers_of(db, "STP")
    async with db.transaction() as s:
        actions = list(await s.scalars(sa.select(AuditLog.action).where(AuditLog.action.in_(("bind", "unbind")))
                                       .order_by(AuditLog.id)))
    assert ["bind", "unbind", "bind"] == actions


# --- A bound person sends another code ------------------------------------------------------------------------


async def test_unit_contact__admin_deep_link__asked_first_and_stays_a_unit_contact_until_yes(db, tmp_path):
    """Seen: a unit contact who sent /start <admin code> silently became admin and lost the unit."""
    await setup(db)
    service = service_for(db, tmp_path)
    await unit_contact(db, service)
    admin_code = await invite(db, None)
    asked = await say(service, "a", f"/start {admin_code}")
    assert texts.CHANGE_CONFIRM.format(current=STP_UNIT, target=texts.ROLE_ADMIN) == asked
    assert ("unit", "STP") == await binding(db, "a")
    assert [0] == [i.uses for i in await _invites(db) if i.code == admin_code]
    changed = await say(service, "a", "Đồng ý")
    assert changed.startswith(texts.BOUND_ADMIN)
    assert ("admin", None) == await binding(db, "a")
    assert texts.STATUS_HEADER.split("–")[0] in await say(service, "a", "tình hình")


async def test_unit_contact__another_units_code_then_no__kept_and_the_question_asked_again(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    await unit_contact(db, service)
    before = await answers_of(db, "STP")
    assert texts.CHANGE_CONFIRM.format(current=STP_UNIT, target=CAT_UNIT) == await say(service, "a", await invite(db, "CAT"))
    kept = await say(service, "a", "không")
    assert kept.startswith(texts.CHANGE_KEPT.format(current=STP_UNIT) + "\n\n")
    assert LEADER_PROMPT in kept
    assert (("unit", "STP"), before) == (await binding(db, "a"), await answers_of(db, "STP"))
    assert LEADER_PROMPT not in await say(service, "a", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789")
    assert "Trần Văn Hùng" == (await answers_of(db, "STP"))["leader[1].name"]


async def test_unit_contact__another_units_code_then_an_answer__change_cancelled_and_the_answer_stored(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    await unit_contact(db, service)
    await say(service, "a", await invite(db, "CAT"))
    reply = await say(service, "a", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789")
    assert reply.startswith(texts.CHANGE_CANCELLED.format(current=STP_UNIT) + "\n\n")
    assert "Trần Văn Hùng" == (await answers_of(db, "STP"))["leader[1].name"]
    assert LEADER_PROMPT not in await say(service, "a", "đồng ý")  # too late: just an answer now
    assert ("unit", "STP") == await binding(db, "a")


async def test_unit_contact__another_units_code_then_yes__bound_there_and_welcomed_at_its_first_question(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    await unit_contact(db, service)
    code_b = await invite(db, "CAT")
    await say(service, "a", code_b)
    assert texts.CHANGE_CONFIRM.format(current=STP_UNIT, target=CAT_UNIT) == await say(service, "a", code_b)  # sent twice
    changed = await say(service, "a", "đồng ý")
    assert changed.startswith(texts.BOUND_UNIT.format(unit="Công an tỉnh") + "\n\n"
                              + texts.WELCOME.format(unit="Công an tỉnh", title=texts.DEFAULT_CAMPAIGN_TITLE, deadline="16:30 ngày 28/03/2017"))
    assert REPORTER_PROMPT in changed
    await say(service, "a", "Phan Văn Đức, 0916 222 333")
    assert ("unit", "CAT") == await binding(db, "a")
    assert {"reporter.name": "Phan Văn Đức", "reporter.phone": "+84916222333"} == await answers_of(db, "CAT")
    assert "Nguyễn Thị Lan" == (await answers_of(db, "STP"))["reporter.name"]  # the old unit's report is kept
    assert [1] == [i.uses for i in await _invites(db) if i.code == code_b]


async def test_unit_contact__code_revoked_before_yes__refused_and_nothing_changes(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    await unit_contact(db, service)
    code_b = await invite(db, "CAT")
    await say(service, "a", code_b)
    await revoke(db, code_b)
    assert (texts.INVITE_REVOKED + "\n\n" + texts.CHANGE_KEPT.format(current=STP_UNIT)) == await say(service, "a", "đồng ý")
    assert ("unit", "STP") == await binding(db, "a")


async def test_unit_contact__own_code_typed_again__welcomed_back_and_not_stored(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    code = await unit_contact(db, service)
    reply = await say(service, "a", f"{code[:4]}-{code[4:]}")
    assert texts.WELCOME_BACK.format(unit="Sở Tư pháp") in reply and LEADER_PROMPT in reply
    assert {"reporter.name": "Nguyễn Thị Lan", "reporter.phone": "+84912345678"} == await answers_of(db, "STP")


async def test_unit_contact__admin_code_as_plain_text_at_a_name__a_question_not_the_name(db, tmp_path):
    """Seen: an admin code stored as the reporter's name."""
    await setup(db)
    service = service_for(db, tmp_path)
    await say(service, "a", await invite(db, "STP"))
    admin_code = await invite(db, None)
    assert texts.CHANGE_CONFIRM.format(current=STP_UNIT, target=texts.ROLE_ADMIN) == await say(service, "a", admin_code)
    assert {} == await answers_of(db, "STP")


async def test_unit_contact__eight_letters_of_the_codes_alphabet_but_no_such_invite__stored_as_the_name(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    await say(service, "a", await invite(db, "STP"))
    await say(service, "a", "NGUYENVA")
    assert {"reporter.name": "NGUYENVA"} == await answers_of(db, "STP")
    assert 0 == (await contact_of(db, "a", "telegram")).invite_failures


async def test_admin__unit_code__asked_first_then_becomes_that_units_contact(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    await say(service, "boss", await invite(db, None))
    asked = await say(service, "boss", await invite(db, "STP"))
    assert texts.CHANGE_CONFIRM.format(current=texts.ROLE_ADMIN, target=STP_UNIT) == asked
    assert ("admin", None) == await binding(db, "boss")
    assert (await say(service, "boss", "ok")).startswith(texts.BOUND_UNIT.format(unit="Sở Tư pháp"))
    assert ("unit", "STP") == await binding(db, "boss")


async def test_admin_commands_and_words_that_only_start_like_them__refused_or_stored(db, tmp_path):
    """A long answer that starts with a command word ("Nhắc ...", "Hạn nộp ...") is an answer."""
    await setup(db)
    service = service_for(db, tmp_path)
    await say(service, "a", await invite(db, "STP"))
    await say(service, "a", "Nguyễn Thị Lan")
    for typed in ("/export", "hạn nộp 01/04/2017 16:30", "giờ yên lặng không"):
        assert (await say(service, "a", typed)).startswith(texts.ADMIN_ONLY.format(command=typed))
    assert {"reporter.name": "Nguyễn Thị Lan"} == await answers_of(db, "STP")


# --- New admins are announced ---------------------------------------------------------------------------------


async def test_admin_binding__other_admins_told_who_on_which_channel(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    await say(service, "first", await invite(db, None), name="Trần Thị Bích")
    await say(service, "second", await invite(db, None), channel="zalo", name="Lê Văn Cường")
    await service.jobs.drain()
    assert [("chat-first", texts.ADMIN_ANNOUNCE.format(name="Lê Văn Cường", channel="Zalo"))] == \
        service.deliverers["telegram"].sent
    assert [] == service.deliverers["zalo"].sent
    await unit_contact(db, service, "a")
    await say(service, "a", await invite(db, None))
    assert [] == [t for _, t in service.deliverers["telegram"].sent[1:]]  # nobody told before "đồng ý"
    await say(service, "a", "đồng ý")
    await service.jobs.drain()
    told = texts.ADMIN_ANNOUNCE.format(name="Nguyễn Thị Lan", channel="Telegram")
    assert [("chat-first", told)] == service.deliverers["telegram"].sent[1:]
    assert [("chat-second", told)] == service.deliverers["zalo"].sent


async def test_admin_binding__no_name_and_no_channel_running__announced_without_name_or_skipped(db, tmp_path):
    await setup(db)
    service = service_for(db, tmp_path)
    del service.deliverers["zalo"]
    await say(service, "first", await invite(db, None), channel="zalo")
    await say(service, "second", await invite(db, None))
    await service.jobs.drain()  # the Zalo admin cannot be told (no Zalo channel running): logged, nothing fails
    assert [] == service.deliverers["telegram"].sent
    await say(service, "third", await invite(db, None), channel="zalo")
    await service.jobs.drain()
    assert [("chat-second", texts.ADMIN_ANNOUNCE.format(name=texts.CONTACT_NO_NAME, channel="Zalo"))] == \
        service.deliverers["telegram"].sent


# --- The migration's backfill ---------------------------------------------------------------------------------


def test_migration_0005__bound_before__invite_and_time_taken_from_the_audit_log(tmp_path):
    """Contacts bound before 0005 get their invite back from the "bind" audit rows, so revoking still works."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        conn.execute(sa.text("INSERT INTO unit (id, code, name, active, created_at) VALUES (1, 'STP', 'Sở Tư pháp', 1, :t)"),
                     {"t": NOW})
        for n, (unit, role) in enumerate([(1, "unit"), (None, "admin"), (1, "unit")], 1):
            conn.execute(sa.text("INSERT INTO invite (id, code, unit_id, role, expires_at, max_uses, uses, created_at) "
                                 "VALUES (:n, :code, :unit, :role, :t, 3, 1, :t)"),
                         {"n": n, "code": f"CODE{n}XYZ", "unit": unit, "role": role, "t": NOW})
        people = [(1, "unit", 1), (2, "admin", None), (3, None, None), (4, "unit", 1)]
        for n, role, unit in people:
            conn.execute(sa.text("INSERT INTO contact (id, channel, platform_user_id, chat_id, role, unit_id, "
                                 "invite_failures, created_at) VALUES (:n, 'telegram', :n, :n, :role, :unit, 0, :t)"),
                         {"n": n, "role": role, "unit": unit, "t": NOW})
        # Contact 4 used invite 1, then invite 3: the last bind counts. Contact 3 was bound, then never again.
        binds = [(1, 1, "unit", 1), (2, 2, "admin", 2), (3, 1, "unit", 3), (4, 1, "unit", 4), (4, 3, "unit", 5)]
        for contact, invite_id, role, minutes in binds:
            conn.execute(sa.text("INSERT INTO audit_log (at, contact_id, action, new) VALUES (:at, :c, 'bind', :new)"),
                         {"at": NOW + timedelta(minutes=minutes), "c": contact,
                          "new": f'{{"invite": {invite_id}, "role": "{role}"}}'})
        command.upgrade(cfg, "head")
        rows = conn.execute(sa.text("SELECT id, invite_id, bound_at IS NOT NULL FROM contact ORDER BY id")).all()
    engine.dispose()
    assert [(1, 1, 1), (2, 2, 1), (3, None, 0), (4, 3, 1)] == [tuple(r) for r in rows]


async def _invites(db: Database) -> list[Invite]:
    async with db.transaction() as s:
        return await q.list_invites(s)
