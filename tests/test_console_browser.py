"""The whole review cycle in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright), against
`hcc-bot run` with the fake Telegram and Zalo servers on 127.0.0.1.

An admin asks for a sign-in link in Telegram and opens it; the board lists every unit; a unit contact's report
arrives through Telegram and shows on the open board without a reload; the officer returns it with a comment,
which reaches the unit's contacts on Telegram and on Zalo; the contact corrects it in the chat and submits again;
the officer sees the difference and accepts. Screenshots of the board and the unit page are written to
`screenshots/` (or $HCC_SCREENSHOTS).
"""

from __future__ import annotations

import asyncio
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.bootstrap import ensure_units_and_campaign
from bot.reminders.control import change_plan
from bot.runner import run_bot
from bot.service import utc_now
from bot.settings import Settings
from conversations import texts
from conversations.form import DEFAULT_FORM, load_form
from storage import queries as q
from storage.db import open_database
from tests.export_samples import FULL_REPORT, portrait
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.test_console import free_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("HCC_SCREENSHOTS") or Path(__file__).resolve().parents[1] / "screenshots")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
UNIT_USER, ADMIN_USER = 42, 7

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)")


async def say(telegram: FakeTelegram, user: int, line: str | bytes, timeout: float = 20) -> str:
    """Send a line (or a photo) from the user and wait for the bot's answer; its text."""
    before = len(telegram.sent(user))
    if isinstance(line, bytes):
        await telegram.photo(user, line)
    else:
        await telegram.text(user, line)
    await telegram.wait_until(lambda: len(telegram.sent(user)) > before, timeout=timeout)
    await asyncio.sleep(0.05)  # a second message of the same answer
    return "\n".join(m["text"] for m in telegram.sent(user)[before:] if "text" in m)


async def test_browser__whole_review_cycle__unit_hears_the_comment_in_its_chats(tmp_path):
    from playwright.async_api import async_playwright, expect

    zalo, telegram = await FakeZalo().start(), FakeTelegram()
    await telegram.start()
    db_url = f"sqlite:///{tmp_path / 'hcc.db'}"
    port = free_port()
    settings = Settings(database_url=db_url, data_dir=tmp_path, form_path=DEFAULT_FORM,
                        zalo_token=zalo.token, zalo_api_url=zalo.url,
                        telegram_token=telegram.token, telegram_api_url=telegram.url,
                        listen_host="127.0.0.1", listen_port=port)
    db = await open_database(db_url)
    now = utc_now()
    await ensure_units_and_campaign(db, load_form(DEFAULT_FORM), now)
    async with db.transaction() as s:
        campaign = await q.current_campaign(s)
        title = campaign.title
        await change_plan(s, campaign, now, quiet="không")  # the test runs at any hour: no quiet hours
        stp = await q.get_unit_by_code(s, "STP")
        unit_code = (await q.create_invite(s, unit_id=stp.id, role="unit", expires_at=now + timedelta(days=3),
                                           max_uses=3, now=now)).code
        admin_code = (await q.create_invite(s, unit_id=None, role="admin", expires_at=now + timedelta(days=3),
                                            max_uses=1, now=now)).code
        units = len(await q.list_units(s))
    await db.dispose()
    stop = asyncio.Event()
    bot = asyncio.create_task(run_bot(settings, stop=stop))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        await telegram.wait_until(lambda: telegram.calls_of("getUpdates"), timeout=20)
        assert (await say(telegram, UNIT_USER, f"/start {unit_code}")).startswith(
            texts.BOUND_UNIT.format(unit="Sở Tư pháp"))
        zalo.push(zalo.text("zalo-hung", unit_code))
        await zalo.wait_sent(1, timeout=20)
        await say(telegram, ADMIN_USER, f"/start {admin_code}")
        link = re.search(r"http://\S+", await say(telegram, ADMIN_USER, "đăng nhập web"))[0]
        assert link.startswith(f"http://127.0.0.1:{port}/console/dang-nhap/")

        async with async_playwright() as p:
            chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = await chromium.new_page(viewport={"width": 1400, "height": 900}, locale="vi-VN")
            await page.goto(link)
            await page.click("#sign-in")
            await expect(page.locator("#board tbody tr")).to_have_count(units)
            await expect(page.locator('tr[data-unit="STP"]')).to_contain_text(texts.STATE_LABELS["not_started"])

            # The unit answers the whole report in Telegram while the board stays open.
            for n, line in enumerate(FULL_REPORT):
                reply = await say(telegram, UNIT_USER, portrait((n * 9 % 200, 80, 150)) if line == "PHOTO" else line)
            assert "Đã nộp báo cáo lúc" in reply
            row = page.locator('tr[data-unit="STP"]')
            await expect(row).to_contain_text(texts.STATE_LABELS["submitted"], timeout=15_000)
            await expect(row).to_contain_text("100%")
            await page.screenshot(path=str(SCREENSHOTS / "board.png"), full_page=False)

            await row.get_by_role("link", name="Sở Tư pháp").click()
            await expect(page.locator("h1")).to_contain_text("Sở Tư pháp")
            await expect(page.locator("#report img.thumb").first).to_be_visible()
            comment = "Đề nghị ghi rõ kiến nghị về kinh phí mua máy scan."
            await page.click("#return")  # no comment: the browser asks for one, nothing is sent
            await expect(page.locator("#unit-state")).to_have_text(texts.STATE_LABELS["submitted"])
            await page.fill("#comment", comment)
            await page.click("#return")
            await expect(page.locator("#unit-state")).to_have_text(texts.STATE_LABELS["returned"])
            await expect(page.locator(".flash.ok")).to_contain_text(
                texts.REVIEW_RETURNED.format(unit="Sở Tư pháp", contacts=2))

            notice = texts.RETURN_NOTICE.format(unit="Sở Tư pháp", title=title, comment=comment)
            await telegram.wait_until(lambda: any(m.get("text") == notice for m in telegram.sent(UNIT_USER)),
                                      timeout=20)
            for _ in range(200):
                if notice in zalo.texts_to("zalo-hung"):
                    break
                await asyncio.sleep(0.1)
            assert notice in zalo.texts_to("zalo-hung")

            # Corrected in the chat and submitted again.
            await say(telegram, UNIT_USER, "sửa 9")
            await say(telegram, UNIT_USER, "1")
            await say(telegram, UNIT_USER, "Chưa có trụ sở tạm; đề nghị cấp 60 triệu đồng mua 2 máy scan.")
            await say(telegram, UNIT_USER, "xong")
            assert "Đã nộp báo cáo lúc" in await say(telegram, UNIT_USER, "nộp")

            await page.reload()
            await expect(page.locator("#unit-state")).to_have_text(texts.STATE_LABELS["submitted"])
            diff = page.locator("#diff")
            await expect(diff).to_contain_text(texts.WEB_DIFF_TITLE.format(old=1, new=2, count=1))
            await expect(diff.locator("ins")).to_have_text("Chưa có trụ sở tạm; đề nghị cấp 60 triệu đồng mua 2 máy scan.")
            await expect(page.locator("#versions")).to_contain_text(texts.WEB_VERSION_RETURNED)
            await page.screenshot(path=str(SCREENSHOTS / "unit.png"), full_page=True)
            await page.click("#accept")
            await expect(page.locator("#unit-state")).to_have_text(texts.STATE_LABELS["accepted"])

            await page.goto(f"http://127.0.0.1:{port}/console/")
            await expect(page.locator('tr[data-unit="STP"]')).to_contain_text(texts.STATE_LABELS["accepted"])
            phone = await chromium.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            await phone.context.add_cookies(await page.context.cookies())
            await phone.goto(f"http://127.0.0.1:{port}/console/don-vi/STP")
            await phone.screenshot(path=str(SCREENSHOTS / "unit-phone.png"), full_page=False)
            await chromium.close()
        assert texts.READ_ONLY_ACCEPTED in await say(telegram, UNIT_USER, "sửa 9")
    finally:
        stop.set()
        await asyncio.wait_for(bot, timeout=30)
        await zalo.stop()
        await telegram.stop()
