"""The console's side of the consolidated report's issuing details and of the unit documents, over real HTTP:
the issuing form on a campaign (the CLI's rule), a unit's .docx as the page shows it (a draft says DỰ THẢO, a unit
that never started has none)."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
import sqlalchemy as sa

from conversations import texts
from storage import queries as q
from storage.models import Answer, AuditLog
from tests.test_console import bind, browser, console, csrf_of, say, sign_in, text_of  # noqa: F401 (fixture)

URL = "/console/dot/{id}/ban-hanh"


async def campaign_of(console):
    async with console.db.transaction() as s:
        return await q.current_campaign(s)


async def test_issuing_form__seed_values_shown__officer_changes_the_signer__stored_audited_and_previewed(console):
    campaign = await campaign_of(console)
    url = console.base + URL.format(id=campaign.id)
    async with browser() as session:
        await sign_in(session, console)
        async with session.get(console.base + "/console/") as board:
            assert URL.format(id=campaign.id) in await board.text()
        async with session.get(url) as page:
            shown = text_of(await page.text())
        assert "Số: …/BC-SNV" in shown and "KT. GIÁM ĐỐC PHÓ GIÁM ĐỐC Tạ Quang Trường" in shown
        token = await csrf_of(session, url)
        fields = {"csrf": token, "doc_code": "BC-SNV", "doc_number": "12", "signer_authority": "",
                  "signer_title": "Giám đốc", "signer_name": "Nguyễn Văn Bình", "parent_body": "UBND TỈNH ĐỒNG NAI",
                  "recipients": "Như trên\nUBND tỉnh (b/c)\nLưu: VT, CCHC"}
        async with session.post(url, data=fields) as saved:
            after = text_of(await saved.text())
    assert after.startswith(texts.WEB_ISSUING_TITLE) or texts.WEB_ISSUING_TITLE in after
    assert "Đã lưu: " in after and "Số: 12/BC-SNV" in after and "GIÁM ĐỐC Nguyễn Văn Bình" in after
    assert "- UBND tỉnh (b/c); - Lưu: VT, CCHC." in after
    async with console.db.transaction() as s:
        stored = await q.get_campaign(s, campaign.id)
        audit = await s.scalar(sa.select(AuditLog).where(AuditLog.action == "campaign_edit"))
    assert (None, "GIÁM ĐỐC", "Nguyễn Văn Bình", ["Như trên", "UBND tỉnh (b/c)"], "Lưu: VT, CCHC.") == (
        stored.signer_authority, stored.signer_title.upper(), stored.signer_name, stored.recipients,
        stored.filing_line)
    assert "Nguyễn Văn Bình" == audit.new["signer_name"]


async def test_issuing_form__value_too_long__said_and_nothing_changed(console):
    campaign = await campaign_of(console)
    url = console.base + URL.format(id=campaign.id)
    async with browser() as session:
        await sign_in(session, console)
        token = await csrf_of(session, url)
        async with session.post(url, data={"csrf": token, "signer_name": "A" * 201, "doc_code": "X"}) as saved:
            after = text_of(await saved.text())
    assert texts.ISSUING_TOO_LONG.format(field=texts.ISSUING_FIELDS["signer_name"], max=200) in after
    async with console.db.transaction() as s:
        stored = await q.get_campaign(s, campaign.id)
    assert ("Tạ Quang Trường", "BC-SNV") == (stored.signer_name, stored.doc_code)


async def test_issuing_form__unknown_campaign__404(console):
    async with browser() as session:
        await sign_in(session, console)
        async with session.get(console.base + URL.format(id=999)) as page:
            assert 404 == page.status


async def test_unit_document__draft_says_so__never_started_has_none(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await say(console.service, "lan", "Nguyễn Thị Lan, 0912 345 678")
    async with browser() as session:
        await sign_in(session, console)
        async with session.get(console.base + "/console/don-vi/STP/bao-cao.docx") as draft:
            body = await draft.read()
        async with session.get(console.base + "/console/don-vi/CTHUE/bao-cao.docx") as none:
            missing = (none.status, await none.text())
    lines = [p.text for p in docx.Document(io.BytesIO(body)).paragraphs]
    assert texts.DOC_DRAFT in lines[:3]
    assert (404, texts.WEB_NO_DOCUMENT) == missing


async def test_unit_document__returned_then_edited_in_the_chat__still_the_version_last_submitted(console):
    """The page and its .docx show what the unit submitted, not the draft it is correcting."""
    from tests.test_console import submit_full_report
    submitted = "Chưa có trụ sở tạm cho bộ phận một cửa; đề nghị bố trí kinh phí mua máy scan."
    await bind(console, "an", None, "Nguyễn Văn An")
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    await say(console.service, "an", "tình hình")
    await say(console.service, "an", "trả lại STP: Bổ sung kiến nghị.")
    async with console.db.transaction() as s:  # the unit's draft answer changes, not yet submitted
        answer = next(a for a in await s.scalars(sa.select(Answer)) if a.value == submitted)
        answer.value = "Bản nháp đang sửa."
    async with browser() as session:
        await sign_in(session, console)
        async with session.get(console.base + "/console/don-vi/STP") as page:
            html = await page.text()
        async with session.get(console.base + "/console/don-vi/STP/bao-cao.docx") as document:
            lines = [p.text for p in docx.Document(io.BytesIO(await document.read())).paragraphs]
    text = "\n".join(lines)
    assert submitted in html and submitted in text
    assert "Bản nháp đang sửa." not in text and texts.DOC_DRAFT not in lines[:3]


async def test_unit_page__photo_without_a_face__contact_told_and_the_person_listed(console):
    from tests.export_samples import FULL_REPORT
    from tests.face_photos import jpeg_of, on_canvas

    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    first_photo = FULL_REPORT.index("PHOTO")
    for line in FULL_REPORT[:first_photo]:
        await say(console.service, "lan", line)
    reply = await say(console.service, "lan", photo=jpeg_of(on_canvas(1200, 1600, (0, 0), size=8)))  # no face
    assert texts.PHOTO_WARN_NO_FACE in reply
    async with browser() as session:
        await sign_in(session, console)
        async with session.get(console.base + "/console/don-vi/STP") as page:
            shown = text_of(await page.text())
    assert f"{texts.WEB_FACES_TITLE} Lê Thị Mai" in shown


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
@pytest.mark.parametrize("width,height", [(390, 844), (1280, 900)], ids=["phone", "desktop"])
async def test_browser__issuing_form__officer_sets_the_signer_and_sees_the_preview(console, tmp_path, width, height):
    from playwright.async_api import async_playwright, expect

    from tests.test_console_browser import CHROMIUM_ARGS, SCREENSHOTS

    link = await console.link()
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await chromium.new_page(viewport={"width": width, "height": height})
        await page.goto(link)
        await page.get_by_role("button").first.click()  # the sign-in page's one button
        await page.goto(console.base + "/console/")
        await page.click("#issuing-link")
        await page.fill("input[name=signer_name]", "Nguyễn Văn Bình")
        await page.fill("textarea[name=recipients]", "Như trên\nUBND tỉnh (b/c)\nLưu: VT, CCHC.")
        await page.click("#issuing-save")
        preview = page.locator("#issuing-preview")
        await expect(preview).to_contain_text("Nguyễn Văn Bình")
        await expect(preview).to_contain_text("- UBND tỉnh (b/c);")
        box = await page.locator("#issuing-form textarea").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width  # the form fits the screen
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"issuing-{width}.png"), full_page=True)
        await chromium.close()
