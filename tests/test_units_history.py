"""A deactivated unit keeps its history: the report it began stays in that campaign's status, board, export and
digest (marked inactive); without one it drops out of the open campaign's counts and reminders (q.shows_unit)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest

from bot.admin import status_text
from bot.board import load_board
from bot.cli import main
from bot.cli.campaign import close_campaign, summary
from bot.fanout import SendResult
from bot.reminders.control import preview_text
from bot.reminders.messages import late_text
from bot.reminders.scheduler import queue_now, run_due, unit_states
from bot.service import Inbound, Service
from conversations import texts
from conversations.form import load_form
from exports.data import load_export_data
from exports.workbook import build_workbook
from storage import queries as q
from storage.db import Database
from tests.export_samples import FULL_REPORT, portrait

FORM = load_form()
NOW = datetime(2027, 3, 20, 3, 0, tzinfo=timezone.utc)  # 10:00 in Hà Nội: not in the quiet hours
DEADLINE = datetime(2027, 3, 31, 9, 30, tzinfo=timezone.utc)
UNITS = [("STP", "Sở Tư pháp"), ("SNV", "Sở Nội vụ"), ("CAT", "Công an tỉnh"), ("STC", "Sở Tài chính")]
INACTIVE = f", {texts.UNIT_INACTIVE_MARK}"
_ids = itertools.count()


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """`hcc-bot ARGS` on the test's SQLite database (tmp_path/hcc.db, sqlite_db's), run in a thread: main() runs
    its own event loop. (exit status, out, err)."""
    for name in [n for n in os.environ if n.startswith("HCC_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HCC_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)

    async def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = await asyncio.to_thread(main, list(args))
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


async def say(service: Service, user: str, text: str | None = None, **kw) -> str:
    inbound = Inbound(channel="zalo", user_id=user, chat_id=user, event_id=f"h{next(_ids)}", text=text, **kw)
    replies = await service.handle(inbound)
    service.sent(inbound)
    return "\n".join(r.text for r in replies or [])


async def bind(db: Database, service: Service, user: str, unit: str) -> None:
    async with db.transaction() as s:
        unit_id = (await q.get_unit_by_code(s, unit)).id
        code = (await q.create_invite(s, unit_id=unit_id, role="unit", expires_at=NOW + timedelta(days=7),
                                      max_uses=3, now=NOW)).code
    await say(service, user, code)


async def province(db: Database, tmp_path) -> tuple[Service, int]:
    """Four units and a campaign asking every active unit; STP (contact "lan") submits the whole report in the
    chat, CAT and STC have a contact each and nothing entered, SNV has no contact."""
    async with db.transaction() as s:
        await q.upsert_units(s, UNITS, now=NOW)
        campaign = await q.create_campaign(s, title="Báo cáo quý I", deadline_at=DEADLINE, form_id=FORM.id,
                                           doc_ref=None, now=NOW)
    service = Service(db, FORM, tmp_path / "photos", clock=lambda: NOW)
    for user, unit in (("lan", "STP"), ("cat", "CAT"), ("stc", "STC")):
        await bind(db, service, user, unit)
    for n, line in enumerate(FULL_REPORT):
        reply = await say(service, "lan", photo=portrait((n * 7 % 200, 90, 140))) if line == "PHOTO" \
            else await say(service, "lan", line)
    assert "Đã nộp báo cáo lúc" in reply
    return service, campaign.id


def header(submitted: int, total: int) -> str:
    return f"Đã nộp {submitted}/{total} đơn vị."


async def test_deactivated_after_submitting__still_in_status_board_export_marked__no_reminder_reactivated_back(
        sqlite_db: Database, tmp_path, cli):
    db = sqlite_db
    service, campaign_id = await province(db, tmp_path)
    try:
        async with db.transaction() as s:  # a reminder queued before CAT is deactivated
            queued = await queue_now(s, await q.get_campaign(s, campaign_id), NOW)
        assert (2, 2) == (queued.units, queued.contacts)  # CAT and STC: STP submitted, SNV has no contact
        assert 0 == (await cli("units", "deactivate", "STP"))[0]
        assert 0 == (await cli("units", "deactivate", "CAT"))[0]

        # `hcc-bot status`: STP's report is still counted, marked; CAT (nothing entered) is no longer asked.
        code, out, _ = await cli("status")
        lines = out.splitlines()
        assert 0 == code and lines[1].endswith(header(1, 3))
        assert [f"{'STP':<10} {'đã nộp':<14}", f"{'SNV':<10} {'chưa bắt đầu':<14}",
                f"{'STC':<10} {'chưa bắt đầu':<14}"] == [line[:25] for line in lines[2:]]
        assert lines[2].endswith(f"Sở Tư pháp – {texts.UNIT_INACTIVE_MARK}") and lines[4].endswith("Sở Tài chính")
        units = json.loads((await cli("status", "--json"))[1])["units"]
        assert [("STP", "submitted", False), ("SNV", "not_started", True), ("STC", "not_started", True)] == \
            [(u["code"], u["status"], u["active"]) for u in units]
        assert "Đã nộp: 1/3" in (await cli("campaign", "show"))[1]
        assert "đã nộp 1/3" in (await cli("campaign", "list"))[1]

        # The board (the console's and the chat's "tình hình").
        async with db.sessionmaker() as s:
            campaign = await q.get_campaign(s, campaign_id)
            board = await load_board(s, campaign, FORM, NOW)
            chat = await status_text(s, FORM, campaign, NOW)
            preview = await preview_text(s, FORM, campaign, NOW, confirm="")
        assert [("STP", "submitted", False), ("SNV", "not_started", True), ("STC", "not_started", True)] == \
            [(r.code, r.state, r.active) for r in board.rows]
        assert (1, 1, 2) == (board.submitted, board.counts["submitted"], board.counts["not_started"])
        assert header(1, 3) in chat.splitlines()[1] and "CAT" not in chat
        assert "CAT" not in preview and "STC" in preview

        # The export: STP's row in the status sheet, marked; CAT's gone.
        data = await load_export_data(db, FORM, now=NOW, campaign_id=campaign_id)
        sheet = openpyxl.load_workbook(build_workbook(data, tmp_path / "tong-hop.xlsx"))[texts.SHEET_STATUS]
        rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] in dict(UNITS)}
        assert {"STP": "đã nộp" + INACTIVE, "SNV": "chưa bắt đầu", "STC": "chưa bắt đầu"} == \
            {code: row[2] for code, row in rows.items()}
        assert "Nguyễn Thị Lan" == rows["STP"][3]  # the reporter, as submitted

        # No reminder for CAT: neither the one queued before nor a new one.
        sent: list[str] = []

        async def sender(chat_id, user_id, text):
            sent.append(chat_id)
            return SendResult(True)

        await run_due(db, FORM, NOW + timedelta(seconds=1), {"zalo": sender})
        assert ["stc"] == sent
        async with db.transaction() as s:
            again = await queue_now(s, await q.get_campaign(s, campaign_id), NOW + timedelta(minutes=1))
        assert (1, 1) == (again.units, again.contacts)  # STC only

        # Reactivated: CAT is asked again, reminded again; STP is still counted (and no longer marked).
        assert 0 == (await cli("units", "activate", "CAT"))[0]
        assert 0 == (await cli("units", "activate", "STP"))[0]
        lines = (await cli("status"))[1].splitlines()
        assert lines[1].endswith(header(1, 4)) and ["STP", "SNV", "CAT", "STC"] == [line[:3] for line in lines[2:]]
        assert INACTIVE[2:] not in "\n".join(lines)
        async with db.transaction() as s:
            back = await queue_now(s, await q.get_campaign(s, campaign_id), NOW + timedelta(minutes=2))
        assert (2, 2) == (back.units, back.contacts)  # CAT and STC
    finally:
        await service.close()


async def test_closed_campaign__deactivating_the_unit_that_submitted__changes_nothing_it_shows(
        sqlite_db: Database, tmp_path, cli):
    db = sqlite_db
    service, campaign_id = await province(db, tmp_path)
    try:
        async with db.transaction() as s:
            await close_campaign(s, await q.get_campaign(s, campaign_id), "Nguyễn Văn An", NOW)
            await q.create_campaign(s, title="Báo cáo quý II", deadline_at=DEADLINE + timedelta(days=90),
                                    form_id=FORM.id, doc_ref=None, now=NOW)
        before = (await cli("status", "--campaign", str(campaign_id)))[1]
        assert 0 == (await cli("units", "import", str(units_file(tmp_path, "SNV", "CAT", "STC")), "--replace",
                               "--yes"))[0]  # STP is no longer on the province's list
        after = (await cli("status", "--campaign", str(campaign_id)))[1]
        assert before.splitlines()[1].endswith(header(1, 4)) and after.splitlines()[1].endswith(header(1, 4))
        assert after.splitlines()[2].endswith(f"Sở Tư pháp – {texts.UNIT_INACTIVE_MARK}")
        listing = (await cli("campaign", "list"))[1].splitlines()
        assert "đã nộp 1/4" in listing[0] and "đã nộp 0/3" in listing[1]  # the new round asks the three left
        data = await load_export_data(db, FORM, now=NOW, campaign_id=campaign_id)
        assert [("STP", "submitted", False)] == [(u.code, u.status, u.active) for u in data.units if u.code == "STP"]
    finally:
        await service.close()


def units_file(tmp_path, *codes: str):
    path = tmp_path / "don-vi.csv"
    path.write_text("Mã;Tên đơn vị\n" + "".join(f"{c};{dict(UNITS)[c]}\n" for c in codes), encoding="utf-8-sig")
    return path


async def test_begun_then_deactivated__in_progress_marked_in_the_late_list__not_reminded__not_started_row_drops(
        db: Database, tmp_path):
    """A report begun (in progress) stays, marked, but is not reminded; a report row never begun does not keep
    the unit. Both databases: the rule is one SQL predicate."""
    async with db.transaction() as s:
        await q.upsert_units(s, UNITS, now=NOW)
        campaign = await q.create_campaign(s, title="Báo cáo quý I", deadline_at=DEADLINE, form_id=FORM.id,
                                           doc_ref=None, now=NOW, unit_ids=None)
    service = Service(db, FORM, tmp_path / "photos", clock=lambda: NOW)
    try:
        for user, unit in (("lan", "STP"), ("cat", "CAT")):
            await bind(db, service, user, unit)
        await say(service, "lan", FULL_REPORT[0])  # STP begins: in progress
        async with db.transaction() as s:
            cat = await q.get_unit_by_code(s, "CAT")
            await q.get_or_create_report(s, campaign_id=campaign.id, unit_id=cat.id, now=NOW)  # a row, not begun
            for code in ("STP", "CAT"):
                await q.set_unit_active(s, await q.get_unit_by_code(s, code), False)
        async with db.transaction() as s:
            campaign = await q.get_campaign(s, campaign.id)
            shown = [(u.code, r.status if r else None) for u, r in await q.reports_by_unit(s, campaign.id)]
            states = await unit_states(s, campaign)
            info = await summary(s, campaign, FORM)
            with pytest.raises(Exception, match=texts.REMIND_NOBODY):
                await queue_now(s, campaign, NOW)  # STP is not reminded, CAT is not asked, the rest have no contact
        assert [("STP", "in_progress"), ("SNV", None), ("STC", None)] == shown
        assert (3, 0) == (info["unit_count"], info["submitted"])
        late = late_text(campaign, states, [])
        assert f"- STP Sở Tư pháp – {texts.STATUS_LABELS['in_progress']}{INACTIVE}" in late.splitlines()
    finally:
        await service.close()


async def test_closed_campaign__a_unit_that_never_began_deactivated_afterwards__still_counted_marked(
        db: Database, tmp_path):
    """Issue 23: a campaign closed with SNV "chưa bắt đầu" keeps it in its total when SNV is deactivated later
    (the campaign asked it while it ran); a unit deactivated before the close, and the next round, drop it.
    Both databases: the rule is one SQL predicate."""
    service, campaign_id = await province(db, tmp_path)
    try:
        async with db.transaction() as s:
            await q.set_unit_active(s, await q.get_unit_by_code(s, "STC"), False, now=NOW)  # while it ran
            await close_campaign(s, await q.get_campaign(s, campaign_id), "Nguyễn Văn An", NOW + timedelta(days=1))
            await q.create_campaign(s, title="Báo cáo quý II", deadline_at=DEADLINE + timedelta(days=90),
                                    form_id=FORM.id, doc_ref=None, now=NOW + timedelta(days=1))
        async with db.sessionmaker() as s:
            before = await status_text(s, FORM, await q.get_campaign(s, campaign_id), NOW + timedelta(days=1))
        async with db.transaction() as s:
            await q.set_unit_active(s, await q.get_unit_by_code(s, "SNV"), False, now=NOW + timedelta(days=2))
        async with db.sessionmaker() as s:
            closed = await q.get_campaign(s, campaign_id)
            after = await status_text(s, FORM, closed, NOW + timedelta(days=2))
            board = await load_board(s, closed, FORM, NOW + timedelta(days=2))
            current = await q.current_campaign(s)
            next_round = await load_board(s, current, FORM, NOW + timedelta(days=2))
        assert header(1, 3) in before.splitlines()[1] and header(1, 3) in after.splitlines()[1]
        assert [("STP", True), ("SNV", False), ("CAT", True)] == [(r.code, r.active) for r in board.rows]
        assert "STC" not in after
        data = await load_export_data(db, FORM, now=NOW + timedelta(days=2), campaign_id=campaign_id)
        assert ["STP", "SNV", "CAT"] == [u.code for u in data.units]
        assert ["STP", "CAT"] == [r.code for r in next_round.rows]  # the next round asks the active units
    finally:
        await service.close()
