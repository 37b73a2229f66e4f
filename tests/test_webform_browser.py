"""The report's web page in real headless Chromium at 390 px (Debian's /usr/bin/chromium driven by Playwright),
against `hcc-bot run` with the fake Zalo.

A unit contact bound on Zalo asks for the link in the chat and opens it; fills the page with mistakes (a phone short
of a digit, an end date before the start, a too-small photo), each error shown next to its field in the chat's
words; leaves half-way; answers some questions in the chat, which goes on from the first question missing; comes
back to the page, which shows the chat's answers; submits, and the chat gets one message. Without the script, a
section's "Lưu" saves it. Screenshots of each section at phone width go to `screenshots/webform/`.

Also: a field typed in and never left is saved when the tab closes or the screen locks; a proxy's 413 or 502 and a
lost connection are said in Vietnamese, the value kept and sent again; errors are announced (aria-invalid, the
error as the input's description, a focused summary with links); "Thêm" then "Xoá" on a list; the phone's keyboards
and pickers (inputmode, input types); no horizontal scrolling at 320 px with the script.
"""

from __future__ import annotations

import asyncio
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


async def phone(p, width: int = 390):
    """Debian's Chromium as a phone's browser (390 px, touch, Vietnamese): (browser, context, its first page)."""
    chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    context = await chromium.new_context(viewport={"width": width, "height": 844}, is_mobile=True, has_touch=True,
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


async def opened(context, link: str):
    """A new page of `context` on the report, opened from the link's page."""
    from playwright.async_api import expect

    page = await context.new_page()
    await page.goto(link)
    await page.get_by_role("button", name=texts.WEB_OPEN_BUTTON).click()
    await expect(page.locator("#missing")).to_be_visible()
    return page


async def answers_when(bot, code: str, condition, timeout: float = 10) -> dict:
    """The unit's stored answers once `condition(answers)` holds (a keepalive request may land after the close)."""
    for _ in range(int(timeout * 10)):
        answers = await stored_answers(bot, code)
        if condition(answers):
            return answers
        await asyncio.sleep(0.1)
    raise AssertionError(f"not stored: {answers}")


async def test_webform_browser__typed_without_leaving_the_field__saved_when_the_page_closes_or_hides(tmp_path):
    from playwright.async_api import async_playwright, expect

    async with running_bot(tmp_path) as bot, async_playwright() as p:
        await bot.say("lan", bot.codes["STP"])
        link = await bot.link("lan")
        chromium, context, page = await phone(p)
        page = await opened(context, link)
        await page.locator("#f-reporter-name").fill("Nguyễn Thị Lan")  # typed; the field is never left
        await page.close(run_before_unload=True)  # the tab closed: pagehide sends it (keepalive)
        await answers_when(bot, "STP", lambda a: a.get("reporter.name") == "Nguyễn Thị Lan")

        # The screen locked (the page hidden, still alive): sent, and the page says so once the answer comes.
        page = await context.new_page()
        await page.goto(link)  # the same link in the same browser: straight back in
        await page.locator("#f-reporter-phone").fill("0912 345 678")
        await page.evaluate("""() => {
            Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }""")
        await expect(page.locator("#st-f-reporter-phone")).to_have_text(texts.WEB_SAVED)
        assert "{}" == await page.evaluate("sessionStorage.getItem(Object.keys(sessionStorage)[0]) || '{}'")
        await chromium.close()
        answers = await stored_answers(bot, "STP")
    assert ("Nguyễn Thị Lan", "+84912345678") == (answers["reporter.name"], answers["reporter.phone"])


async def test_webform_browser__server_error_or_offline__said_kept_and_sent_again(tmp_path):
    from playwright.async_api import async_playwright, expect

    async with running_bot(tmp_path) as bot, async_playwright() as p:
        await bot.say("lan", bot.codes["STP"])
        link = await bot.link("lan")
        chromium, context, page = await phone(p)
        page = await opened(context, link)

        # A proxy's answers, not JSON: a 413 and a 502, each said in Vietnamese next to the field.
        async def too_large(route):
            await route.fulfill(status=413, content_type="text/html", body="<h1>413 Request Entity Too Large</h1>")
        await page.route("**/web/luu", too_large)
        await page.locator("#f-reporter-name").fill("Nguyễn Thị Lan")
        await page.locator("#f-reporter-name").blur()
        await expect(page.locator("#st-f-reporter-name")).to_have_text(texts.WEB_SAVE_TOO_LARGE)
        await page.unroute("**/web/luu")

        async def bad_gateway(route):
            await route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")
        await page.route("**/web/luu", bad_gateway)
        await page.locator("#f-reporter-phone").fill("0912 345 678")
        await page.locator("#f-reporter-phone").blur()
        await expect(page.locator("#st-f-reporter-phone")).to_have_text(
            texts.WEB_SAVE_SERVER_ERROR.format(status=502))
        await expect(page.locator("#f-reporter-phone")).to_have_attribute("aria-invalid", "true")
        await page.unroute("**/web/luu")
        assert {} == await stored_answers(bot, "STP")
        await page.reload()  # the server shows nothing stored; the page sends what it kept
        await expect(page.locator("#st-f-reporter-phone")).to_have_text(texts.WEB_SAVED)
        await expect(page.locator("#f-reporter-phone")).to_have_value("0912 345 678")
        await answers_when(bot, "STP", lambda a: a.get("reporter.phone") == "+84912345678")

        # The connection lost: said, kept, and sent when it is back.
        await context.set_offline(True)
        await page.locator("#f-leader-new-name").fill("Trần Văn Hùng")
        await page.locator("#f-leader-new-name").blur()
        await expect(page.locator("#st-f-leader-new-name")).to_have_text(texts.WEB_SAVE_FAILED_NET)
        await context.set_offline(False)
        await expect(page.locator("#st-f-leader-new-name")).to_have_text(texts.WEB_SAVED)
        await chromium.close()
        answers = await answers_when(bot, "STP", lambda a: "leader[1].name" in a)
    # The name refused by the proxy (413) is not sent again by itself: sending the same again would not help.
    assert ("Trần Văn Hùng", 1, False) == (answers["leader[1].name"], answers["leader.__last__"],
                                           "reporter.name" in answers)


async def test_webform_browser__errors_announced__aria_invalid_described_and_summary_focused(tmp_path):
    from playwright.async_api import async_playwright, expect

    async with running_bot(tmp_path) as bot, async_playwright() as p:
        await bot.say("lan", bot.codes["STP"])
        link = await bot.link("lan")
        chromium, context, page = await phone(p)
        page = await opened(context, link)
        status = page.locator("#st-f-reporter-phone")
        # Empty, yet in the accessibility tree: a live region that is displayed is announced when it fills.
        assert ("", "polite") == (await status.text_content(), await status.get_attribute("aria-live"))
        assert "none" != await status.evaluate("e => getComputedStyle(e).display")
        phone_input = page.locator("#f-reporter-phone")
        await phone_input.fill("091234567")
        await phone_input.blur()
        await expect(status).to_have_text(texts.PHONE_INVALID)
        await expect(phone_input).to_have_attribute("aria-invalid", "true")
        assert "st-f-reporter-phone" in (await phone_input.get_attribute("aria-describedby")).split()
        await expect(phone_input).to_have_accessible_description(texts.PHONE_INVALID)
        await phone_input.fill("0912 345 678")
        await phone_input.blur()
        await expect(status).to_have_text(texts.WEB_SAVED)
        await expect(phone_input).not_to_have_attribute("aria-invalid", "true")

        # "Nộp báo cáo" refused: what is missing, at the top, focused, each line a link to its field.
        await page.get_by_role("button", name=texts.WEB_SUBMIT).click()
        summary = page.locator("#summary")
        await expect(summary).to_be_focused()
        await expect(summary).to_have_attribute("role", "alert")
        await expect(summary.locator("h2")).to_contain_text("Chưa nộp được: báo cáo còn thiếu")
        await page.screenshot(path=str(SCREENSHOTS / "submit-refused.png"))
        await summary.locator('a[href="#f-pickup-agree-0"]').click()
        await expect(page.locator("#f-pickup-agree-0")).to_be_focused()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert 390 >= width
        await chromium.close()

        # Without the script: a section's errors at the top, focused, linked; the inputs marked invalid.
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await chromium.new_context(viewport={"width": 320, "height": 700}, java_script_enabled=False)
        page = await context.new_page()
        await page.goto(await bot.link("lan"))
        await page.get_by_role("button", name=texts.WEB_OPEN_BUTTON).click()
        section = page.locator("#s-leader")
        await section.get_by_label("Tên (bắt buộc)").fill("Trần Văn Hùng")
        await section.get_by_label("Số điện thoại (bắt buộc)").fill("0913 45")
        await section.get_by_role("button", name=texts.WEB_SAVE).click()
        summary = page.locator("#summary")
        await expect(summary).to_be_focused()
        await expect(summary.locator("h2")).to_have_text(texts.WEB_ERROR_SUMMARY.format(count=1))
        link_ = summary.get_by_role("link", name=f"Số điện thoại: {texts.PHONE_INVALID}")
        await expect(link_).to_have_attribute("href", "#f-leader-1-phone")
        await expect(page.locator("#f-leader-1-phone")).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#f-leader-1-phone")).to_have_accessible_description(texts.PHONE_INVALID)
        await page.screenshot(path=str(SCREENSHOTS / "noscript-summary-320.png"))
        assert 320 >= await page.evaluate("document.documentElement.scrollWidth")
        await chromium.close()


async def test_webform_browser__add_then_delete_an_item__stored_items_follow(tmp_path):
    from playwright.async_api import async_playwright, expect

    async with running_bot(tmp_path) as bot, async_playwright() as p:
        await bot.say("lan", bot.codes["STP"])
        link = await bot.link("lan")
        chromium, context, page = await phone(p, 320)  # the narrowest phone, with the script
        page = await opened(context, link)
        assert await page.evaluate("document.documentElement.classList.contains('js')")
        assert 320 >= await page.evaluate("document.documentElement.scrollWidth")
        first = page.locator("#f-plan-new-content")
        await first.fill("Rà soát TTHC")
        await first.blur()
        await expect(page.locator("#st-f-plan-new-content")).to_have_text(texts.WEB_SAVED)
        await page.get_by_role("link", name="Thêm nội dung kế hoạch").click()
        second = page.locator("#f-plan-new-content")
        await second.fill("Tập huấn cán bộ")
        await second.blur()
        await expect(page.locator("#st-f-plan-new-content")).to_have_text(texts.WEB_SAVED)
        answers = await stored_answers(bot, "STP")
        assert ("Rà soát TTHC", "Tập huấn cán bộ") == (answers["plan[1].content"], answers["plan[2].content"])
        await page.locator('fieldset[data-section="plan"][data-item="1"]').get_by_role(
            "button", name=texts.WEB_DELETE).click()
        await expect(page.locator('fieldset[data-section="plan"][data-item="1"]')).to_have_count(0)
        await expect(page.locator("#f-plan-2-content")).to_have_value("Tập huấn cán bộ")
        assert 320 >= await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=str(SCREENSHOTS / "script-320.png"), full_page=True)
        await chromium.close()
        answers = await stored_answers(bot, "STP")
    assert {"plan[2].content": "Tập huấn cán bộ", "plan.__last__": 2} == {
        k: v for k, v in answers.items() if k.startswith("plan")}


KINDS_FORM = """\
id: kinds_2027
title: Các kiểu câu hỏi
sections:
  - key: info
    title: I. Thông tin
    questions:
      - {key: staff, label: Số cán bộ, prompt: "Số cán bộ?", type: integer}
      - {key: area, label: Diện tích (m2), prompt: "Diện tích?", type: decimal}
      - {key: opened, label: Ngày khai trương, prompt: "Ngày?", type: date}
      - {key: opens_at, label: Giờ mở cửa, prompt: "Giờ?", type: time}
      - {key: visit, label: Thời điểm kiểm tra, prompt: "Khi nào?", type: datetime}
      - {key: phone, label: Điện thoại, prompt: "Số điện thoại?", type: phone}
      - {key: notes, label: Ghi chú dài về trụ sở và các phòng ban, prompt: "Ghi chú?", type: long_text}
"""


async def test_webform_browser__phone_keyboards_and_pickers__input_types_and_no_overflow_at_320(tmp_path):
    from playwright.async_api import async_playwright, expect

    form = tmp_path / "kinds.yaml"
    form.write_text(KINDS_FORM, encoding="utf-8")
    async with running_bot(tmp_path, form_path=form) as bot, async_playwright() as p:
        await bot.say("lan", bot.codes["STP"])
        link = await bot.link("lan")
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await chromium.new_context(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True,
                                             locale="vi-VN")
        page = await opened(context, link)
        kinds = {}
        for key in ("staff", "area", "opened", "opens_at", "visit", "phone"):
            field = page.locator(f"#f-info-{key}")
            kinds[key] = (await field.get_attribute("type"), await field.get_attribute("inputmode"))
        assert {"staff": ("text", "numeric"), "area": ("text", "decimal"), "opened": ("date", None),
                "opens_at": ("time", None), "visit": ("datetime-local", None), "phone": ("tel", None)} == kinds
        await page.locator("#f-info-area").fill("12,5")
        await page.locator("#f-info-area").blur()
        await expect(page.locator("#st-f-info-area")).to_have_text(texts.WEB_SAVED)
        await page.locator("#f-info-opens_at").fill("07:30")
        await page.locator("#f-info-opens_at").blur()
        await expect(page.locator("#st-f-info-opens_at")).to_have_text(texts.WEB_SAVED)
        assert await page.evaluate("document.documentElement.classList.contains('js')")  # with the script
        assert 320 >= await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=str(SCREENSHOTS / "kinds-320.png"), full_page=True)
        await chromium.close()
        answers = await stored_answers(bot, "STP")
    assert (12.5, "07:30") == (answers["info.area"], answers["info.opens_at"])
