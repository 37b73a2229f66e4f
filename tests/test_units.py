"""The province's own units: files as Excel saves them, the preview, --replace, and inactive units left out."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest

from bot.bootstrap import ensure_units_and_campaign
from bot.cli import main
from bot.reminders.scheduler import queue_now, unit_states
from bot.service import Inbound, Service
from bot.unit_files import UnitFileError, read_sample_units, read_units_file
from conversations import texts
from conversations.form import load_form
from storage import queries as q
from storage.db import Database
from storage.queries import UnitRow

FORM = load_form()
NOW = datetime(2027, 3, 20, 3, 0, tzinfo=timezone.utc)  # 10:00 in Hà Nội: not in the quiet hours


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """`hcc-bot ARGS` in this process (main), on an embedded database in tmp_path: (exit status, out, err)."""
    for name in [n for n in __import__("os").environ if n.startswith("HCC_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HCC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def excel_csv(path: Path, text: str) -> Path:
    """A CSV as Excel's "CSV UTF-8" writes it with Vietnamese regional settings: BOM, ';', CRLF."""
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8-sig"))
    return path


# --- reading files --------------------------------------------------------------------------------


def test_read_units_file__excel_csv_utf8_semicolons_vietnamese_headers__rows_with_group_and_email(tmp_path):
    path = excel_csv(tmp_path / "don-vi.csv",
                     "STT;Mã;Tên đơn vị;Nhóm;Email\n"
                     "1;stp;Sở Tư pháp;Sở, ban, ngành;VanThu@stp.dongnai.gov.vn\n"
                     "2;SVHTTDL;Sở Văn hóa, Thể thao và Du lịch;Sở, ban, ngành;\n"
                     ";;;;\n"
                     "3;UBX-TANPHU;UBND xã Tân Phú;UBND cấp xã;\n")
    read = read_units_file(path)
    assert [UnitRow("STP", "Sở Tư pháp", "Sở, ban, ngành", "vanthu@stp.dongnai.gov.vn"),
            UnitRow("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "Sở, ban, ngành", ""),
            UnitRow("UBX-TANPHU", "UBND xã Tân Phú", "UBND cấp xã", "")] == read.rows
    assert ["STT"] == read.ignored


def test_read_units_file__comma_csv_english_header_no_bom__two_columns(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text('code,name\nSNV,Sở Nội vụ\nSVHTTDL,"Sở Văn hóa, Thể thao và Du lịch"\n', encoding="utf-8")
    assert [UnitRow("SNV", "Sở Nội vụ", None, None), UnitRow("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", None, None)] \
        == read_units_file(path).rows


def test_read_units_file__xlsx_with_a_title_row__header_found_below_it(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH CƠ QUAN, ĐƠN VỊ"])
    sheet.append(["STT", "Mã đơn vị", "Tên cơ quan", "Khối"])
    sheet.append([1, "SYT", "Sở Y tế", "Sở, ban, ngành"])
    sheet.append([2, 101, "UBND huyện Vĩnh Cửu", "UBND cấp huyện"])
    book.save(tmp_path / "don-vi.xlsx")
    assert [UnitRow("SYT", "Sở Y tế", "Sở, ban, ngành", None), UnitRow("101", "UBND huyện Vĩnh Cửu", "UBND cấp huyện", None)] \
        == read_units_file(tmp_path / "don-vi.xlsx").rows


@pytest.mark.parametrize(("content", "expected"), [
    ("Mã;Tên đơn vị\nSTP;Sở Tư pháp\nS T P;Sở X\n",
     "{path}, dòng 3, cột “Mã”: " + texts.UNITS_BAD_CODE.format(value="S T P")),
    ("Mã;Tên đơn vị\nSTP;\n", "{path}, dòng 2, cột “Tên đơn vị”: " + texts.UNITS_EMPTY_NAME),
    ("Mã;Tên đơn vị;Email\nSTP;Sở Tư pháp;stp@\n",
     "{path}, dòng 2, cột “Email”: " + texts.UNITS_BAD_EMAIL.format(value="stp@")),
    ("Mã;Tên đơn vị\nSTP;Sở Tư pháp\nstp;Sở Tư pháp (2)\n",
     "{path}, dòng 3, cột “Mã”: " + texts.UNITS_DUP_CODE.format(code="STP", first=2)),
    ("STT;Tên\n1;Sở Tư pháp\n", "{path}, dòng 1: " + texts.UNITS_FILE_NO_HEADER.format(columns="“mã”",
                                                                                     found="“STT”, “Tên”")),
    ("Mã;Tên đơn vị\nSTP;S? T? ph?p\n",
     "{path}, dòng 2, cột “Tên đơn vị”: " + texts.UNITS_LOST_ACCENTS.format(value="S? T? ph?p")),
])
def test_read_units_file__bad_row__one_line_naming_file_row_and_column(tmp_path, content, expected):
    path = excel_csv(tmp_path / "don-vi.csv", content)
    with pytest.raises(UnitFileError) as caught:
        read_units_file(path)
    assert expected.format(path=path) == str(caught.value)


def test_read_units_file__plain_excel_csv_in_windows_1258__refused_with_how_to_save(tmp_path):
    path = tmp_path / "don-vi.csv"
    path.write_bytes("Mã;Tên\r\n".encode("utf-8") + "STC;Sở Tài chính\r\n".encode("cp1258", errors="replace"))
    with pytest.raises(UnitFileError) as caught:
        read_units_file(path)
    assert f"{path}, dòng 2: {texts.UNITS_FILE_NOT_UTF8}" == str(caught.value)


def test_read_units_file__ods_file__refused_naming_what_is_taken(tmp_path):
    (tmp_path / "don-vi.ods").write_bytes(b"PK")
    with pytest.raises(UnitFileError) as caught:
        read_units_file(tmp_path / "don-vi.ods")
    assert f"{tmp_path / 'don-vi.ods'}: {texts.UNITS_FILE_KIND}" == str(caught.value)


def test_read_sample_units__the_2017_letter__25_units_with_unique_codes():
    rows = read_sample_units().rows
    assert (25, 25) == (len(rows), len({r.code for r in rows}))
    assert UnitRow("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", None, None) in rows


# --- storage: the plan, then what it writes -------------------------------------------------------


async def test_plan_units__replace__added_renamed_reactivated_deactivated_and_nothing_deleted(db: Database):
    async with db.transaction() as s:
        await q.upsert_units(s, [("SNV", "Sở Nội vụ"), ("STP", "Sở Tư pháp"), ("CAT", "Công an tỉnh"),
                                 ("OLD", "Đơn vị cũ")], now=NOW)
        await q.set_unit_active(s, await q.get_unit_by_code(s, "OLD"), False)
    rows = [UnitRow("SNV", "Sở Nội vụ", "Sở, ban, ngành", ""), UnitRow("STP", "Sở Tư pháp tỉnh Đồng Nai"),
            UnitRow("OLD", "Đơn vị cũ"), UnitRow("NEW", "UBND xã Mới", "UBND cấp xã", "ubnd@moi.gov.vn")]
    async with db.transaction() as s:
        changes = await q.plan_units(s, rows, replace=True)
        assert (["NEW"], ["SNV", "STP"], ["OLD"], ["CAT"], 0) == (
            [r.code for r in changes.added], [u.code for u, _ in changes.updated],
            [u.code for u in changes.reactivated], [u.code for u in changes.deactivated], changes.unchanged)
        await q.apply_units(s, changes, now=NOW)
    async with db.sessionmaker() as s:
        units = {u.code: u for u in await q.list_units(s, active_only=False)}
        assert {"SNV": True, "STP": True, "CAT": False, "OLD": True, "NEW": True} == \
            {code: u.active for code, u in units.items()}
        assert ("Sở, ban, ngành", None) == (units["SNV"].group_name, units["SNV"].email)
        assert ("Sở Tư pháp tỉnh Đồng Nai", "ubnd@moi.gov.vn") == (units["STP"].name, units["NEW"].email)
        assert ["SNV", "STP", "OLD", "NEW"] == [u.code for u in await q.list_units(s)]


async def test_deactivated_unit__left_out_of_reminders_board_and_new_campaigns_its_contact_told(db: Database, tmp_path):
    campaign = await ensure_units_and_campaign(db, FORM, NOW)
    async with db.transaction() as s:
        for code in ("STP", "STC"):
            unit = await q.get_unit_by_code(s, code)
            contact = await q.get_or_create_contact(s, channel="telegram", platform_user_id=code, chat_id=code,
                                                    display_name=None, now=NOW)
            contact.role, contact.unit_id = "unit", unit.id
        await q.set_unit_active(s, await q.get_unit_by_code(s, "STC"), False)
    async with db.transaction() as s:
        states = await unit_states(s, campaign)
        fired = await queue_now(s, campaign, NOW)
        new = await q.create_campaign(s, title="Đợt mới", deadline_at=NOW.replace(year=2028), form_id=FORM.id,
                                      doc_ref=None, now=NOW)
        asked = [u.code for u, _ in await q.reports_by_unit(s, new.id)]
    assert (24, "STC" in [u.unit.code for u in states]) == (len(states), False)
    assert (1, 1) == (fired.contacts, fired.units)  # STP only: STC's contact gets no reminder
    assert (24, False) == (len(asked), "STC" in asked)
    service = Service(db, FORM, tmp_path / "photos", clock=lambda: NOW)
    replies = await service.handle(Inbound(channel="telegram", user_id="STC", chat_id="STC", event_id="e1",
                                           text="xin chào"))
    assert [texts.NO_CAMPAIGN] == [r.text for r in replies]
    await service.close()


# --- the command line -----------------------------------------------------------------------------


def test_units_import__preview_then_yes__nothing_written_before_yes(cli, tmp_path):
    path = excel_csv(tmp_path / "don-vi.csv", "Mã;Tên đơn vị;Nhóm\nSTP;Sở Tư pháp;Sở, ban, ngành\n"
                                               "UBX-TANPHU;UBND xã Tân Phú;UBND cấp xã\n")
    code, out, _ = cli("units", "import", str(path))
    assert 1 == code
    assert [texts.UNITS_PREVIEW_HEADER.format(path=path, rows=2), texts.UNITS_PREVIEW_ADDED.format(count=2),
            "  STP        Sở Tư pháp (Sở, ban, ngành)", "  UBX-TANPHU UBND xã Tân Phú (UBND cấp xã)",
            texts.UNITS_NOT_WRITTEN] == out.splitlines()
    assert (0, texts.UNITS_NONE + "\n") == cli("units", "list")[:2]
    code, out, _ = cli("units", "import", str(path), "--yes")
    assert (0, texts.UNITS_WRITTEN.format(added=2, updated=0, reactivated=0, deactivated=0)) == \
        (code, out.splitlines()[-1])
    listed = json.loads(cli("units", "list", "--json")[1])
    assert [{"code": "STP", "name": "Sở Tư pháp", "group": "Sở, ban, ngành", "email": None, "active": True},
            {"code": "UBX-TANPHU", "name": "UBND xã Tân Phú", "group": "UBND cấp xã", "email": None,
             "active": True}] == listed


def test_units_import_replace__sample_units_gone_from_the_province_list__deactivated_and_listed_as_such(cli, tmp_path):
    assert 0 == cli("units", "import", "--sample", "--yes")[0]
    path = excel_csv(tmp_path / "don-vi.csv", "Mã;Tên đơn vị\nSNV;Sở Nội vụ tỉnh Đồng Nai\nSTP;Sở Tư pháp\n"
                                               "UBH;UBND thành phố Biên Hòa\n")
    code, out, _ = cli("units", "import", str(path), "--replace", "--yes")
    assert 0 == code
    lines = out.splitlines()
    assert texts.UNITS_PREVIEW_ADDED.format(count=1) in lines and "  UBH        UBND thành phố Biên Hòa" in lines
    assert "  SNV        Sở Nội vụ → Sở Nội vụ tỉnh Đồng Nai" in lines
    assert texts.UNITS_PREVIEW_DEACTIVATED.format(count=23) in lines
    assert texts.UNITS_WRITTEN.format(added=1, updated=1, reactivated=0, deactivated=23) == lines[-1]
    listing = cli("units", "list")[1].splitlines()
    assert texts.UNITS_LIST_FOOTER.format(active=3, inactive=23) == listing[-1]
    assert f"{'CAT':<10} {texts.UNITS_STATE_INACTIVE:<10} Công an tỉnh" in listing
    again = cli("units", "import", str(path), "--replace")
    assert (0, texts.UNITS_PREVIEW_NOTHING) == (again[0], again[1].splitlines()[-1])


def test_units_deactivate_then_activate__said_and_invite_refused_meanwhile(cli):
    cli("units", "import", "--sample", "--yes")
    assert (0, texts.UNITS_DEACTIVATED.format(unit="Công an tỉnh", code="CAT") + "\n") == cli("units", "deactivate", "cat")[:2]
    code, _, err = cli("invite", "CAT")
    assert (2, texts.UNITS_INACTIVE_INVITE.format(unit="Công an tỉnh", code="CAT") + "\n") == (code, err)
    assert (0, texts.UNITS_ALREADY_INACTIVE.format(unit="Công an tỉnh", code="CAT") + "\n") == cli("units", "deactivate", "CAT")[:2]
    assert (0, texts.UNITS_ACTIVATED.format(unit="Công an tỉnh", code="CAT") + "\n") == cli("units", "activate", "CAT")[:2]
    assert 0 == cli("invite", "CAT")[0]
    assert (2, texts.CLI_UNIT_UNKNOWN.format(code="NOPE") + "\n") == cli("units", "activate", "NOPE")[::2]


def test_units_import__bad_row__one_line_on_stderr_nothing_written(cli, tmp_path):
    path = excel_csv(tmp_path / "don-vi.csv", "Mã;Tên đơn vị\nSTP;Sở Tư pháp\nS TC;Sở Tài chính\n")
    code, out, err = cli("units", "import", str(path), "--yes")
    assert (2, "", f"{path}, dòng 3, cột “Mã”: {texts.UNITS_BAD_CODE.format(value='S TC')}\n") == (code, out, err)
    assert texts.UNITS_NONE + "\n" == cli("units", "list")[1]


def test_units_import__neither_file_nor_sample__says_what_to_give(cli):
    assert (2, texts.UNITS_SAMPLE_OR_FILE + "\n") == cli("units", "import")[::2]


def test_read_units_file__lowercase_code_spaces_and_an_empty_trailing_column__cleaned(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text('code,name,\n snv ,Sở  Nội vụ,\nsvhttdl,"Sở Văn hóa, Thể thao và Du lịch"\n', encoding="utf-8-sig")
    assert [UnitRow("SNV", "Sở Nội vụ", None, None), UnitRow("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", None, None)] \
        == read_units_file(path).rows


def test_units_import__no_such_file__one_line_naming_it(cli, tmp_path):
    missing = tmp_path / "don-vi.xlsx"
    assert (2, f"{missing}: {texts.UNITS_FILE_MISSING}\n") == cli("units", "import", str(missing))[::2]


def test_units_import__at_a_terminal__asks_and_writes_after_co(tmp_path):
    """stdin is a terminal (a pseudo-terminal here): the preview, the question, and CÓ writes."""
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HCC_")}
    env["HCC_DATA_DIR"] = str(tmp_path / "data")
    try:
        os.write(master, "có\n".encode())
        result = subprocess.run([sys.executable, "-m", "bot", "units", "import", "--sample"], cwd=tmp_path, env=env,
                                stdin=slave, capture_output=True, text=True, timeout=120)
    finally:
        os.close(slave)
        os.close(master)
    assert 0 == result.returncode, result.stderr
    assert texts.UNITS_CONFIRM + texts.UNITS_WRITTEN.format(added=25, updated=0, reactivated=0, deactivated=0) == \
        result.stdout.splitlines()[-1]
