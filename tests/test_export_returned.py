"""A report returned for correction stays where it belongs in every export: its last submitted version counts,
marked "đang bổ sung theo yêu cầu của Sở Nội vụ" with the department's comment, until the unit submits again
(real storage, SQLite and PostgreSQL; the review and the board's status function are the real ones)."""

from __future__ import annotations

from datetime import timedelta

import docx
import openpyxl
from pdfminer.high_level import extract_text

from bot.board import load_board
from bot.bootstrap import ensure_units_and_campaign
from bot.review import Officer, return_report
from bot.service import Service
from conversations import texts
from exports.badges import build_badges, build_name_tags
from exports.data import load_export_data, status_label
from exports.photo_archive import build_photo_archive
from exports.report import build_report
from exports.workbook import build_workbook
from storage import queries as q
from tests.test_campaigns import DEADLINE, FORM, NOW, Clock, bind, say, submit_seed_report

COMMENT = "Ảnh của ông Phạm Văn Nam bị mờ, đề nghị gửi lại."


async def returned_stp(db, tmp_path):
    """STP submitted the seed's report on time; the department returned it; the contact then changed an answer."""
    await ensure_units_and_campaign(db, FORM, NOW)
    async with db.transaction() as s:
        (await q.current_campaign(s)).deadline_at = DEADLINE
    clock = Clock(NOW)
    service = Service(db, FORM, tmp_path / "photos", clock)
    await bind(db, service, "lan", "STP")
    await submit_seed_report(db, service, "lan")
    clock.now = NOW + timedelta(hours=2)
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        await return_report(s, campaign, "STP", COMMENT, Officer("Nguyễn Văn An"), clock.now)
    await say(service, "lan", "sửa 1")  # begins a correction: what is entered now is not what was submitted
    return service, clock


async def test_returned_report__every_export__last_submitted_version_marked_with_the_comment(db, tmp_path):
    service, clock = await returned_stp(db, tmp_path)
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        board = await load_board(s, campaign, FORM, clock.now)
    assert "returned" == next(r for r in board.rows if r.code == "STP").state
    data = await load_export_data(db, FORM, now=clock.now)
    stp = next(u for u in data.units if u.code == "STP")
    assert ("submitted", True, texts.RETURNED_MARK, COMMENT) == (stp.status, stp.returned, status_label(data, stp),
                                                                stp.review_comment)
    assert "Lê Thị Mai" == stp.answers["main_staff[1].name"]

    report = docx.Document(str(build_report(data, tmp_path / "r.docx")))
    cells = [c.text for t in report.tables for row in t.rows for c in row.cells]
    marked = f"Sở Tư pháp ({texts.RETURNED_MARK})"
    assert 3 <= cells.count(marked)  # I, II and the plan's counts
    assert texts.RETURNED_NOTE.format(comment=COMMENT) in cells  # the status annex
    summary = next(p.text for p in report.paragraphs if p.text.startswith(texts.REPORT_SUMMARY_TITLE))
    assert "Đã có 1/" in summary and "đang nhập 0" in summary

    book = openpyxl.load_workbook(build_workbook(data, tmp_path / "w.xlsx"))
    status_rows = [[c.value for c in row] for row in book[texts.SHEET_STATUS].iter_rows()]
    assert any(row[:3] == ["STP", "Sở Tư pháp", texts.RETURNED_MARK] for row in status_rows)
    shirts = "\n".join(str(c.value) for row in book[texts.SHEET_SHIRTS].iter_rows() for c in row if c.value)
    assert "Sở Tư pháp" in shirts

    badges = build_badges(data, tmp_path / "the.pdf")
    tags = build_name_tags(data, tmp_path / "ten.pdf")
    badge_text = "".join(extract_text(str(path)) for path in badges)
    tag_text = "".join(extract_text(str(path)) for path in tags)
    assert ("LÊ THỊ MAI" in badge_text.upper(), "Lê Thị Mai" in tag_text) == (True, True)
    photos = build_photo_archive(data, tmp_path / "anh")
    assert 5 <= len([p for p in photos if p.suffix == ".jpg"])
