"""`hcc-bot contacts list/remove` and `hcc-bot invite --revoke CODE [--unbind]`, in a real subprocess.

People are bound through the real service on the same SQLite file the command line uses.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

import pytest

from bot.bootstrap import ensure_units_and_campaign
from bot.service import Inbound, Service, utc_now
from conversations import texts
from conversations.form import load_form
from storage.db import open_database
from tests.test_cli import hcc

FORM = load_form()
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def sample_installation(tmp_path):
    """The sample units and a campaign on the command line's database (a real installation starts empty)."""

    async def seed() -> None:
        (tmp_path / "data").mkdir(mode=0o700, exist_ok=True)
        db = await open_database(f"sqlite:///{tmp_path / 'data' / 'hcc.db'}")
        try:
            await ensure_units_and_campaign(db, FORM, utc_now())
        finally:
            await db.dispose()

    asyncio.run(seed())


def code_for(tmp_path: Path, *args: str) -> str:
    result = hcc(["invite", *args, "--json"], tmp_path)
    assert 0 == result.returncode, result.stderr
    return json.loads(result.stdout)["code"]


def say(tmp_path: Path, user: str, text: str, *, channel: str = "telegram", name: str | None = None) -> str:
    """One message to the bot, as the running bot would handle it, on the command line's database."""

    async def run() -> str:
        db = await open_database(f"sqlite:///{tmp_path / 'data' / 'hcc.db'}")
        try:
            service = Service(db, FORM, tmp_path / "data" / "photos")
            replies = await service.handle(Inbound(channel=channel, user_id=user, chat_id=user, display_name=name,
                                                   event_id=f"c{next(_ids)}", text=text))
            await service.jobs.drain()
            return "\n".join(r.text for r in replies or [])
        finally:
            await db.dispose()

    return asyncio.run(run())


def contacts(tmp_path: Path, *args: str) -> list[dict]:
    result = hcc(["contacts", "list", "--json", *args], tmp_path)
    assert 0 == result.returncode, result.stderr
    return json.loads(result.stdout)


def people(tmp_path: Path) -> list[tuple]:
    return [(c["display_name"], c["role"], c["unit_code"]) for c in contacts(tmp_path)]


def test_contacts_list__admins_and_unit_contacts__who_channel_role_unit_and_times(tmp_path):
    admin_code, stp_code, cat_code = code_for(tmp_path, "--admin"), code_for(tmp_path, "STP"), code_for(tmp_path, "CAT")
    say(tmp_path, "1", admin_code, name="Trần Thị Bích")
    say(tmp_path, "2", stp_code, channel="zalo", name="Nguyễn Thị Lan")
    say(tmp_path, "3", cat_code, name="Phan Văn Đức")
    say(tmp_path, "4", "xin chào", name="Người lạ")  # not bound: not listed
    listed = contacts(tmp_path)
    assert [("Trần Thị Bích", "telegram", "admin", None, admin_code),
            ("Phan Văn Đức", "telegram", "unit", "CAT", cat_code),
            ("Nguyễn Thị Lan", "zalo", "unit", "STP", stp_code)] == \
        [(c["display_name"], c["channel"], c["role"], c["unit_code"], c["invite_code"]) for c in listed]
    assert all(c["bound_at"] and c["last_seen_at"] and isinstance(c["id"], int) for c in listed)
    assert [("Nguyễn Thị Lan", "unit", "STP")] == [(c["display_name"], c["role"], c["unit_code"])
                                                  for c in contacts(tmp_path, "--unit", "stp")]
    table = hcc(["contacts", "list"], tmp_path)
    assert 0 == table.returncode, table.stderr
    lines = table.stdout.splitlines()
    assert texts.CLI_CONTACTS_COLUMNS == [cell.strip() for cell in lines[0].split("  ") if cell.strip()]
    assert ["Trần Thị Bích", "Phan Văn Đức", "Nguyễn Thị Lan"] == [line.split("  ")[-1].strip() for line in lines[1:]]
    assert ["quản trị", "đơn vị", "đơn vị"] == [
        next(r for r in texts.CLI_CONTACTS_ROLES.values() if f"  {r}  " in line) for line in lines[1:]]
    assert "Zalo" in lines[3] and "STP" in lines[3]


def test_contacts_list__nobody_and_unknown_unit__said_in_one_line(tmp_path):
    assert [texts.CLI_CONTACTS_NONE] == hcc(["contacts", "list"], tmp_path).stdout.splitlines()
    assert [texts.CLI_CONTACTS_NONE_IN_UNIT.format(unit="Sở Tư pháp")] == \
        hcc(["contacts", "list", "--unit", "STP"], tmp_path).stdout.splitlines()
    unknown = hcc(["contacts", "list", "--unit", "NOPE"], tmp_path)
    assert (2, texts.CLI_UNIT_UNKNOWN.format(code="NOPE")) == (unknown.returncode, unknown.stderr.strip())


def test_contacts_remove__unit_contact__unbound_and_asked_for_an_invite_next_time(tmp_path):
    say(tmp_path, "2", code_for(tmp_path, "STP"), name="Nguyễn Thị Lan")
    say(tmp_path, "2", "Nguyễn Thị Lan, 0912 345 678")
    contact_id = contacts(tmp_path)[0]["id"]
    removed = hcc(["contacts", "remove", str(contact_id)], tmp_path)
    assert 0 == removed.returncode, removed.stderr
    assert texts.CLI_CONTACT_REMOVED.format(name="Nguyễn Thị Lan", id=contact_id, channel="Telegram",
                                            role=texts.ROLE_UNIT.format(unit="Sở Tư pháp")) == removed.stdout.strip()
    assert [] == contacts(tmp_path)
    assert texts.INVITE_PROMPT == say(tmp_path, "2", "Trần Văn Hùng")
    again = hcc(["contacts", "remove", str(contact_id)], tmp_path)
    assert (2, texts.CLI_CONTACT_NOT_BOUND.format(name="Nguyễn Thị Lan", id=contact_id)) == \
        (again.returncode, again.stderr.strip())
    unknown = hcc(["contacts", "remove", "999"], tmp_path)
    assert (2, texts.CLI_CONTACT_UNKNOWN.format(id=999)) == (unknown.returncode, unknown.stderr.strip())


def test_contacts_remove__admin__status_asked_next_gets_the_invite_prompt(tmp_path):
    say(tmp_path, "1", code_for(tmp_path, "--admin"), name="Trần Thị Bích")
    assert texts.STATUS_HEADER.split("–")[0] in say(tmp_path, "1", "tình hình")
    hcc(["contacts", "remove", str(contacts(tmp_path)[0]["id"])], tmp_path)
    assert texts.INVITE_PROMPT == say(tmp_path, "1", "tình hình")


def test_invite_revoke__admin_code__its_admins_removed_and_told_so(tmp_path):
    code = code_for(tmp_path, "--admin", "--uses", "2")
    say(tmp_path, "1", code, name="Trần Thị Bích")
    say(tmp_path, "2", code, name="Lê Văn Cường")
    say(tmp_path, "3", code_for(tmp_path, "--admin"), name="Vũ Thị Dung")
    ids = [c["id"] for c in contacts(tmp_path)]
    result = hcc(["invite", "--revoke", f"{code[:4]}-{code[4:].lower()}"], tmp_path)
    assert 0 == result.returncode, result.stderr
    assert [texts.CLI_INVITE_REVOKED.format(code=code), texts.CLI_INVITE_ADMINS_UNBOUND.format(
        count=2, names=f": Trần Thị Bích (ID {ids[0]}), Lê Văn Cường (ID {ids[1]})")] == result.stdout.splitlines()
    assert [("Vũ Thị Dung", "admin", None)] == people(tmp_path)
    assert texts.INVITE_PROMPT == say(tmp_path, "1", "xuất")


def test_invite_revoke__unit_code_without_unbind__contacts_kept_and_the_way_to_remove_them_said(tmp_path):
    code = code_for(tmp_path, "STP")
    say(tmp_path, "2", code, name="Nguyễn Thị Lan")
    result = hcc(["invite", "--revoke", code], tmp_path)
    contact_id = contacts(tmp_path)[0]["id"]
    assert [texts.CLI_INVITE_REVOKED.format(code=code), texts.CLI_INVITE_CONTACTS_KEPT.format(
        count=1, unit="Sở Tư pháp", names=f": Nguyễn Thị Lan (ID {contact_id})", code=code)] == result.stdout.splitlines()
    assert [("Nguyễn Thị Lan", "unit", "STP")] == people(tmp_path)
    assert texts.INVITE_REVOKED == say(tmp_path, "5", code)  # nobody new


def test_invite_revoke__unit_code_with_unbind__everyone_bound_with_it_removed_others_kept(tmp_path):
    code = code_for(tmp_path, "STP")
    say(tmp_path, "2", code, name="Nguyễn Thị Lan")
    say(tmp_path, "3", code, name="Hồ Văn Tâm")
    say(tmp_path, "4", code_for(tmp_path, "STP"), name="Đỗ Thị Yến")
    bound = [c["id"] for c in contacts(tmp_path)]
    result = hcc(["invite", "--revoke", code, "--unbind"], tmp_path)
    assert 0 == result.returncode, result.stderr
    assert [texts.CLI_INVITE_REVOKED.format(code=code), texts.CLI_INVITE_CONTACTS_UNBOUND.format(
        count=2, names=f": Nguyễn Thị Lan (ID {bound[0]}), Hồ Văn Tâm (ID {bound[1]})")] == result.stdout.splitlines()
    assert [("Đỗ Thị Yến", "unit", "STP")] == people(tmp_path)
    assert texts.INVITE_PROMPT == say(tmp_path, "2", "Trần Văn Hùng")
    # Revoked already: --unbind still removes whoever is left bound with it (nobody here).
    again = hcc(["invite", "--revoke", code, "--unbind"], tmp_path)
    assert [texts.CLI_INVITE_ALREADY_REVOKED.format(code=code),
            texts.CLI_INVITE_CONTACTS_UNBOUND.format(count=0, names="")] == again.stdout.splitlines()


def test_invite__unbind_without_revoke__one_line_usage(tmp_path):
    result = hcc(["invite", "STP", "--unbind"], tmp_path)
    assert (2, texts.CLI_INVITE_UNBIND_USAGE) == (result.returncode, result.stderr.strip())
