"""Exports asked for in the chat: Telegram sends the files, Zalo an expiring link from our web server."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import aiohttp
import docx
import openpyxl
import pytest

from conversations import texts
from storage import queries as q
from tests.fake_zalo import FakeZalo
from tests.rendering import SOFFICE
from tests.test_telegram import NOW, USER, fake, running, say, setup  # noqa: F401  (fake is a fixture)
from tests.test_zalo import Person, prepare, zalo_bot


def pdf_text(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(data))


async def admin_invite(db) -> str:
    async with db.transaction() as s:
        return (await q.create_invite(s, unit_id=None, role="admin", expires_at=NOW + timedelta(days=7),
                                      max_uses=1, now=NOW)).code


async def test_telegram_admin__export__progress_then_zip_document_with_the_workbook(sqlite_db, fake, tmp_path):
    await setup(sqlite_db)
    code = await admin_invite(sqlite_db)
    async with running(sqlite_db, fake, tmp_path) as channel:
        assert (await say(fake, fake.text(USER, code))).startswith(texts.BOUND_ADMIN)
        assert texts.EXPORT_STARTED == await say(fake, fake.text(USER, "xuất"))
        await channel.service.jobs.drain()
        await fake.wait_until(lambda: fake.documents)
    ready = next(m["text"] for m in fake.sent(USER) if m["text"].startswith(texts.EXPORT_READY.format(count=25)))
    # First the consolidated report on its own (its PDF where LibreOffice is installed), then the zip.
    (chat, report_name, report), (_, name, data) = fake.documents[0], fake.documents[1]
    expected = texts.REPORT_FILE.replace(".docx", ".pdf") if SOFFICE else texts.REPORT_FILE
    assert (USER, expected) == (chat, report_name)
    assert (texts.REPORT_PDF_MISSING in ready) == (SOFFICE is None)
    title = "Số: …/BC-SNV"  # the consolidated report's number line (a table cell of its heading)
    if SOFFICE:
        assert title in pdf_text(report)
    else:
        assert title in [c.text for t in docx.Document(io.BytesIO(report)).tables for r in t.rows for c in r.cells]
    assert USER == chat and name.startswith("tong-hop_1_") and name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        workbook_name = next(n for n in names if n.endswith("/tong-hop.xlsx"))
        workbook = openpyxl.load_workbook(io.BytesIO(archive.read(workbook_name)))
    assert texts.SHEET_STATUS == workbook.sheetnames[0]
    assert any(n.endswith("/" + texts.REPORT_FILE) for n in names)
    assert not any(n.endswith(("the-nhan-su.pdf", "bang-ten.pdf")) for n in names)  # no photo yet: no badges
    assert [] == [n for n in names if "/bao-cao-don-vi/" in n]  # no unit has started: no empty documents
    # One progress message, edited in place as the export goes on, and not stuck at 0/25.
    shape = re.compile(r"Đang tổng hợp \d+/25 đơn vị \(.*\)…")
    progress = [m for m in fake.messages.values() if shape.fullmatch(m.get("text", ""))]
    assert 1 == len(progress)
    edits = [c.params["text"] for c in fake.calls_of("editMessageText")
             if int(c.params.get("message_id", 0)) == progress[0]["message_id"]]
    assert any(text.startswith("Đang tổng hợp 25/25") for text in edits)


async def test_telegram_admin__export_new_with_nothing_changed__says_so(sqlite_db, fake, tmp_path):
    await setup(sqlite_db)
    code = await admin_invite(sqlite_db)
    async with running(sqlite_db, fake, tmp_path) as channel:
        await say(fake, fake.text(USER, code))
        await say(fake, fake.text(USER, "xuất"))
        await channel.service.jobs.drain()
        await say(fake, fake.text(USER, "xuất mới"))
        await channel.service.jobs.drain()
        await fake.wait_until(lambda: texts.EXPORT_NOTHING_NEW.format(at="09:00 ngày 27/03/2017")
                              in [m["text"] for m in fake.sent(USER)])
    assert 2 == len(fake.documents)  # the first export's report and zip; nothing for the second


async def test_telegram_unit_contact__asks_for_own_document__gets_a_docx(sqlite_db, fake, tmp_path):
    await setup(sqlite_db)
    async with sqlite_db.transaction() as s:
        unit = await q.get_unit_by_code(s, "STP")
        code = (await q.create_invite(s, unit_id=unit.id, role="unit", expires_at=NOW + timedelta(days=7),
                                      max_uses=3, now=NOW)).code
    async with running(sqlite_db, fake, tmp_path) as channel:
        await say(fake, fake.text(USER, f"/start {code}"))
        await say(fake, fake.text(USER, "Nguyễn Thị Lan, 0912 345 678"))
        assert texts.UNIT_DOCUMENT_STARTED == await say(fake, fake.text(USER, "tải báo cáo"))
        await channel.service.jobs.drain()
        await fake.wait_until(lambda: fake.documents)
    assert [(USER, "bao-cao_STP.docx")] == [(c, n) for c, n, _ in fake.documents]


@pytest.mark.parametrize("public", [True, False], ids=["with-public-url", "without"])
async def test_zalo_admin__export__link_or_where_the_file_is(sqlite_db, tmp_path, public):
    zalo = await FakeZalo().start()
    try:
        await prepare(sqlite_db)
        code = await admin_invite(sqlite_db)
        officer = Person(zalo, user="officer", webhook=public)
        from bot.web import DownloadLinks, load_or_create_key

        links = DownloadLinks(load_or_create_key(tmp_path), tmp_path / "exports")
        async with zalo_bot(sqlite_db, zalo, tmp_path, webhook=public, people=(officer,), links=links) as channel:
            await officer.says(code)
            assert texts.EXPORT_STARTED == await officer.says("xuất")
            before = len(zalo.sent)
            await channel.service.jobs.drain()
            await zalo.wait_sent(before + 1)
            message = zalo.sent[-1].text
            assert message.startswith(texts.EXPORT_READY.format(count=25))
            if public:  # a link to the consolidated report, then one to the zip
                assert f"Tải “{texts.REPORT_FILE.replace('.docx', '.pdf') if SOFFICE else texts.REPORT_FILE}”" in message
                url = message.split("\n")[-1]
                base = channel.settings.public_url
                assert url.startswith(f"{base}/tai/") and len(url) > len(base) + 40
                async with aiohttp.ClientSession() as session:
                    async with session.get(url) as response:
                        assert 200 == response.status
                        body = await response.read()
                    async with session.get(url[:-4] + "abcd") as response:
                        assert 404 == response.status
                        assert texts.LINK_EXPIRED == await response.text()
                with zipfile.ZipFile(io.BytesIO(body)) as archive:
                    assert any(n.endswith("/tong-hop.xlsx") for n in archive.namelist())
            else:  # what an officer can act on: who to ask, and the IT person's command on a line of its own
                assert "cán bộ CNTT" in message and ".zip”" in message and f"{texts.REPORT_FILE[:-5]}" in message
                assert "hcc-bot export --out <thư mục>" in message.splitlines()
                assert str(tmp_path) not in message and "HCC_" not in message
    finally:
        await zalo.stop()
