"""The report's web page in real headless Chromium at 390 px (Debian's /usr/bin/chromium driven by Playwright),
against `hcc-bot run` with the fake Zalo.

A unit contact bound on Zalo asks for the link in the chat and opens it; fills the page with mistakes (a phone short
of a digit, an end date before the start, a too-small photo), each error shown next to its field in the chat's
words; leaves half-way; answers some questions in the chat, which goes on from the first question missing; comes
back to the page, which shows the chat's answers; submits, and the chat gets one message. Without the script, a
section's "Lưu" saves it. Screenshots of each section at phone width go to `screenshots/webform/`.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image

from bot.console.auth import create_login
from conversations import texts
from tests.export_samples import portrait
from tests.test_console import text_of
from tests.test_console_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_webform import stored_answers
from tests.webform_support import client, running_bot

SCREENSHOTS = Path(os.environ.get("HCC_SCREENSHOTS") or Path(__file__).resolve().parents[1] / "screenshots") / "webform"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)")


def jpeg(width: int, height: int, path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 160)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


async def phone(p):
    """Debian's Chromium as a phone's browser (390 px, touch, Vietnamese): (browser, context, its first page)."""
    chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    context = await chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                         locale="vi-VN")
    return chromium, context, await context.new_page()


async def test_webform_browser__page_then_chat_then_page__submitted_and_confirmed_in_the_chat(tmp_path):
    from playwright.async_api import async_playwright, expect

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    small = jpeg(200, 260, tmp_path / "small.jpg")
    good = tmp_path / "good.jpg"
    good.write_bytes(portrait((60, 100, 150)))
    async with running_bot(tmp_path) as bot, async_playwright() as p:
        await bot.say("lan", bot.codes["STP"])
        link = await bot.link("lan")
        chromium, context, page = await phone(p)
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

        async def field(selector: str, value: str, status: str = texts.WEB_SAVED) -> None:
            await page.fill(selector, value)
            await page.locator(selector).blur()
            await expect(page.locator(f"#st-{selector[1:]}")).to_have_text(status)

        await page.goto(link)
        await expect(page.locator("h1")).to_have_text(texts.WEB_OPEN_HEADING)
        await page.get_by_role("button", name=texts.WEB_OPEN_BUTTON).click()
        await expect(page.locator("header")).to_contain_text("Sở Tư pháp")
        await expect(page.locator("#missing")).to_contain_text(texts.WEB_MISSING)
        await page.screenshot(path=str(SCREENSHOTS / "00-top.png"))

        # Labels are tied to their inputs: the page is filled by label where a person reads one.
        await page.get_by_label("Người điền báo cáo (bắt buộc)").fill("Nguyễn Thị Lan")
        await page.get_by_label("Người điền báo cáo (bắt buộc)").blur()
        await expect(page.locator("#st-f-reporter-name")).to_have_text(texts.WEB_SAVED)
        await field("#f-reporter-phone", "091234567", texts.PHONE_INVALID)  # a digit short: the chat's words
        assert "bad" in await page.locator('[data-path="reporter.phone"]').get_attribute("class")
        await field("#f-reporter-phone", "0912 345 678")

        await field("#f-leader-new-name", "Trần Văn Hùng")  # the first item is created by its first answer
        await expect(page.locator('fieldset[data-section="leader"]')).to_have_attribute("data-item", "1")
        await field("#f-leader-new-position", "Phó Giám đốc Sở")
        await field("#f-leader-new-phone", "0913 456 789")

        await field("#f-main_staff-new-name", "Lê Thị Mai")
        await field("#f-main_staff-new-position", "Chuyên viên")
        await field("#f-main_staff-new-phone", "0987 654 321")
        await page.get_by_label("Nữ", exact=True).check()  # the shirt sizes follow: the page reloads
        await expect(page.get_by_label("7", exact=True)).to_be_visible()
        await page.get_by_label("7", exact=True).check()
        await expect(page.locator("#st-f-main_staff-1-shirt_size")).to_have_text(texts.WEB_SAVED)
        await page.set_input_files("#f-main_staff-1-photo", str(small))
        await expect(page.locator("#st-f-main_staff-1-photo")).to_have_text(
            texts.PHOTO_TOO_SMALL.format(width=200, height=260, min_width=300, min_height=400))
        await page.set_input_files("#f-main_staff-1-photo", str(good))
        await expect(page.locator("#st-f-main_staff-1-photo")).to_have_text(texts.WEB_SAVED)
        await page.locator("#s-main_staff").screenshot(path=str(SCREENSHOTS / "03-main_staff.png"))

        await field("#f-postal_staff-new-name", "Võ Thị Hoa")
        await field("#f-postal_staff-new-position", "Văn thư")
        await field("#f-postal_staff-new-phone", "0934 222 333")
        await page.close()  # half-way: the rest in the chat

        reply = await bot.say("lan", "chào")
        assert texts.WEB_BACK_IN_CHAT in reply and "Tổng số thủ tục hành chính (TTHC) của đơn vị?" in reply
        for line in ["125", "Sở Tài chính, Cục Thuế tỉnh", "12", "Công an tỉnh, Sở Y tế", "125", "bỏ qua", "40",
                     "bỏ qua", "80", "Bưu điện tỉnh", "60", "Bưu điện tỉnh", "20", "Bưu điện tỉnh"]:
            reply = await bot.say("lan", line)
        assert "thu gom" in reply.lower()

        page = await context.new_page()
        await page.goto(link)  # the same link again in the same browser: straight back in
        await expect(page.locator("#f-procedures-tthc_total")).to_have_value("125")  # answered in the chat
        await expect(page.locator('[data-path="procedures.public_services_partners"]')).to_be_visible()
        await page.get_by_label("Không", exact=True).check()
        await expect(page.locator('[data-path="pickup.proposed_times"]')).to_be_visible()  # live condition
        await field("#f-pickup-proposed_times", "09:30 và 14:30")
        await field("#f-pickup-address", "Bộ phận một cửa, tầng 1, số 2 Nguyễn Văn Trị, Biên Hòa")
        await field("#f-plan-new-content", "Rà soát TTHC")
        await field("#f-plan-new-detail", "Rà soát 125 TTHC, đề xuất danh mục")
        await field("#f-plan-new-start", "2026-12-10")
        await field("#f-plan-new-end", "2026-12-01",
                    texts.DATE_BEFORE.format(start="10/12/2026", example="31/12/2026"))
        await field("#f-plan-new-end", "2026-12-15")
        await page.locator('[data-path="plan[1].responsibility"]').get_by_label("Trách nhiệm riêng").check()
        await expect(page.locator("#st-f-plan-new-responsibility")).to_have_text(texts.WEB_SAVED)
        await expect(page.locator("#missing")).to_contain_text(texts.WEB_NOTHING_MISSING)
        for section in ("reporter", "leader", "backup_staff", "postal_staff", "procedures", "pickup", "plan", "issues"):
            await page.locator(f"#s-{section}").screenshot(path=str(SCREENSHOTS / f"section-{section}.png"))

        before = len(bot.zalo.texts_to("lan"))
        await page.get_by_role("button", name=texts.WEB_SUBMIT).click()
        await expect(page.locator("#message")).to_contain_text("Đã nộp báo cáo lúc")
        await page.screenshot(path=str(SCREENSHOTS / "99-submitted.png"), full_page=True)
        await bot.wait(lambda: len(bot.zalo.texts_to("lan")) > before)
        assert 1 == len(bot.zalo.texts_to("lan")) - before
        assert bot.zalo.texts_to("lan")[-1].startswith("Đã nộp báo cáo lúc")
        print(f"\nZalo bot messages to the contact in all (page, chat half, page): {len(bot.zalo.texts_to('lan'))}")
        assert [] == violations
        await chromium.close()
        answers = await stored_answers(bot, "STP")
        # The console's unit page says which answers came through which channel.
        db = await bot.db()
        async with db.transaction() as s:
            login = await create_login(s, officer="Cán bộ Sở", contact_id=None, base_url=bot.base, now=bot.clock[0])
        await db.dispose()
        async with client() as officer:
            async with officer.post(login.url, allow_redirects=False) as response:
                assert 303 == response.status
            async with officer.get(f"{bot.base}/console/don-vi/STP") as response:
                shown = text_of(await response.text())
        assert re.search(r"Người dùng lan \(Zalo\) – trên trang web: \d+ lần lưu câu trả lời", shown), shown
        assert re.search(r"Người dùng lan \(Zalo\) – trong chat: 14 lần lưu câu trả lời", shown), shown
    assert ("Lê Thị Mai", "nu", "7", "2026-12-15", False, 125) == (
        answers["main_staff[1].name"], answers["main_staff[1].gender"], answers["main_staff[1].shirt_size"],
        answers["plan[1].end"], answers["pickup.agree"], answers["procedures.tthc_total"])
    assert isinstance(answers["main_staff[1].photo"], int)


async def test_webform_browser__without_script__a_section_saved_by_its_button(tmp_path):
    from playwright.async_api import async_playwright, expect

    async with running_bot(tmp_path) as bot, async_playwright() as p:
        await bot.say("lan", bot.codes["STP"])
        link = await bot.link("lan")
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await chromium.new_context(viewport={"width": 320, "height": 700}, java_script_enabled=False)
        page = await context.new_page()
        await page.goto(link)
        await page.get_by_role("button", name=texts.WEB_OPEN_BUTTON).click()
        section = page.locator("#s-leader")
        await section.get_by_label("Tên (bắt buộc)").fill("Trần Văn Hùng")
        await section.get_by_label("Chức vụ (bắt buộc)").fill("Phó Giám đốc Sở")
        await section.get_by_label("Số điện thoại (bắt buộc)").fill("0913 45")
        await section.get_by_role("button", name=texts.WEB_SAVE).click()
        await expect(page.locator("#s-leader .status.error")).to_have_text(texts.PHONE_INVALID)
        await page.locator("#s-leader").screenshot(path=str(SCREENSHOTS / "noscript-error-320.png"))
        section = page.locator("#s-leader")
        await section.get_by_label("Số điện thoại (bắt buộc)").fill("0913 456 789")
        await section.get_by_role("button", name=texts.WEB_SAVE).click()
        await expect(page.locator("#f-leader-1-phone")).to_have_value("0913 456 789")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert 320 >= width  # nothing wider than the phone
        await chromium.close()
        answers = await stored_answers(bot, "STP")
    assert ("Trần Văn Hùng", "Phó Giám đốc Sở", "+84913456789") == (
        answers["leader[1].name"], answers["leader[1].position"], answers["leader[1].phone"])


async def test_webform_browser__a_cascade__each_answer_redraws_the_next_choices(tmp_path):
    """The XLSForm documentation's cascade (state → county → city, a county named in two states) on the page:
    each choice saved redraws the choices that follow from it."""
    from playwright.async_api import async_playwright, expect

    from tests.test_xlsform_cascade import CHOICES, SETTINGS, SURVEY, book

    form = book(tmp_path, {"survey": SURVEY, "choices": CHOICES, "settings": SETTINGS})
    async with running_bot(tmp_path, form_path=form) as bot, async_playwright() as p:
        await bot.say("lan", bot.codes["STP"])
        link = await bot.link("lan")
        chromium, context, page = await phone(p)
        await page.goto(link)
        await page.get_by_role("button", name=texts.WEB_OPEN_BUTTON).click()
        await page.get_by_label("Texas", exact=True).check()  # the counties of Texas follow: the page reloads
        await expect(page.get_by_label("Hạt Cameron", exact=True)).to_be_visible()
        await expect(page.get_by_label("Hạt Pierce", exact=True)).to_have_count(0)
        await page.get_by_label("Hạt King", exact=True).check()  # King of Texas: its cities, not Seattle
        await expect(page.get_by_label("Finney", exact=True)).to_be_visible()
        await expect(page.get_by_label("Seattle", exact=True)).to_have_count(0)
        await page.get_by_label("Finney", exact=True).check()
        await expect(page.get_by_label("Finney", exact=True)).to_be_checked()
        await page.screenshot(path=str(SCREENSHOTS / "cascade.png"), full_page=True)
        await chromium.close()
        answers = await stored_answers(bot, "STP")
        assert ("texas", "king", "finney") == (answers["form.state"], answers["form.county"], answers["form.city"])


async def test_webform_browser__a_list_inside_a_list__each_training_chooses_its_person(tmp_path):
    """Staff entered in the chat; on the page each training of the list inside the staff list chooses its person
    among them (radio buttons), and a question that reads the person's answers shows once a leader is chosen."""
    from playwright.async_api import async_playwright, expect

    from tests.test_xlsform_cascade import book
    from tests.test_xlsform_nested import CHOICES, SURVEY

    form = book(tmp_path, {"survey": SURVEY, "choices": CHOICES})
    async with running_bot(tmp_path, form_path=form) as bot, async_playwright() as p:
        await bot.say("lan", bot.codes["STP"])
        for line in ("Sở Tư pháp", "có", "Nguyễn Văn An", "1", "có", "Trần Thị Bình", "2", "không"):
            reply = await bot.say("lan", line)
        assert "Có khóa đào tạo nào không?" in reply
        link = await bot.link("lan")
        chromium, context, page = await phone(p)
        await page.goto(link)
        await page.get_by_role("button", name=texts.WEB_OPEN_BUTTON).click()
        training = page.locator('fieldset[data-section="khoa_hoc"]')
        await expect(training.get_by_label("Trần Thị Bình", exact=True)).to_be_visible()
        certificate = page.locator('[data-path^="khoa_hoc["][data-path$=".chung_chi"]')
        await expect(training).to_contain_text("Khóa đào tạo của ….")  # whose: not chosen yet
        await training.get_by_label("Nguyễn Văn An", exact=True).check()  # the item is made; the page reloads
        await expect(page.locator("#f-khoa_hoc-1-ten_khoa")).to_be_visible()
        await expect(training).to_contain_text("Khóa đào tạo của Nguyễn Văn An.")
        await expect(certificate).to_be_visible()  # An is a leader
        await page.locator("#f-khoa_hoc-1-ten_khoa").fill("Bồi dưỡng quản lý nhà nước")
        await page.locator("#f-khoa_hoc-1-ten_khoa").blur()
        await expect(page.locator("#st-f-khoa_hoc-1-ten_khoa")).to_have_text(texts.WEB_SAVED)
        await training.get_by_label("Trần Thị Bình", exact=True).check()  # Bình is no leader: no certificate
        await expect(training).to_contain_text("Khóa đào tạo của Trần Thị Bình.")
        await expect(certificate).to_be_hidden()
        await page.screenshot(path=str(SCREENSHOTS / "nested.png"), full_page=True)
        await chromium.close()
        answers = await stored_answers(bot, "STP")
        assert ({"item": 2, "name": "Trần Thị Bình"}, "Bồi dưỡng quản lý nhà nước") == (
            answers["khoa_hoc[1].can_bo_item"], answers["khoa_hoc[1].ten_khoa"])
