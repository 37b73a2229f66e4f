"""The unit page's history of the answers: each answer with the channel it came through (Zalo, Telegram, the web
page), old → new for an edit, newest first, "xem thêm" past the first lines; the version comparison says which
channel each change came from; a report filled partly on the page goes through the versions and the return loop as a
chat-only one. Real HTTP on 127.0.0.1 against the service; the web answers through the page's save path
(bot/webform/save.py); the page read in Debian's Chromium at phone and desktop width.
"""

from __future__ import annotations

import itertools
import logging
import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from bot.console import answer_history
from bot.service import Inbound
from bot.webform import save
from bot.webform.access import Person
from conversations import texts
from storage import queries as q
from storage.models import Contact, Report, ReportVersion
from tests.export_samples import FULL_REPORT, portrait
from tests.test_console import NOW, bind, browser, console, fields_of, say, sign_in, text_of  # noqa: F401
from tests.test_console_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

_ids = itertools.count(1)


async def say_telegram(service, user: str, text: str, name: str | None = None) -> str:
    inbound = Inbound(channel="telegram", user_id=user, chat_id=user, event_id=f"tg{next(_ids)}", text=text,
                      display_name=name)
    replies = await service.handle(inbound)
    service.sent(inbound)
    return "\n".join(r.text for r in replies or [])


async def bind_telegram(console, user: str, unit: str, name: str) -> None:
    async with console.db.transaction() as s:
        unit_id = (await q.get_unit_by_code(s, unit)).id
        code = (await q.create_invite(s, unit_id=unit_id, role="unit", expires_at=NOW + timedelta(days=7),
                                      max_uses=3, now=NOW)).code
    await say_telegram(console.service, user, code, name=name)


async def on_the_page(console, user: str, *, saves=(), delete=None, submit: bool = False) -> save.Loaded:
    """What `user` (a Zalo contact) does on the report's web page, through the page's own save path."""
    contact_id, campaign_id, unit_id = await ids_of(console, user)
    person = Person(link_id=0, contact_id=contact_id, campaign_id=campaign_id, unit_id=unit_id, csrf="")
    loaded = await save.run(console.service, person, console.clock(), saves=list(saves), delete=delete, submit=submit)
    assert not loaded.failed and not loaded.result.errors, loaded.result
    return loaded


async def fill_in_chat(console, user: str):
    """The whole report in the chat, a message every 20 seconds, as a person types it; when it was submitted."""
    reply = ""
    for n, line in enumerate(FULL_REPORT):
        console.clock.now = NOW + timedelta(seconds=20 * n)
        reply = await say(console.service, user, photo=portrait((n * 7 % 200, 90, 140))) if line == "PHOTO" \
            else await say(console.service, user, line)
    assert "Đã nộp báo cáo" in reply
    return console.clock.now


class Recorder:
    """The Zalo channel as the page's submission reaches it: the one message confirming it in the chat."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    async def deliver_files(self, chat_id, user_id, text, files) -> None:
        self.texts.append((chat_id, text))


def history_of(html: str) -> list[str]:
    """The history's lines as a person reads them, newest first."""
    part = re.search(r'(?s)<section class="card" id="answer-history">.*?</section>', html)[0]
    return [text_of(li) for li in re.findall(r"(?s)<li\b.*?</li>", part)]


async def unit_page(session, console, query: str = "") -> str:
    async with session.get(console.base + "/console/don-vi/STP" + query) as page:
        assert 200 == page.status
        return await page.text()


def values_of(html: str) -> list[tuple[str, str]]:
    """The (old, new) of each history line that has both, as the page marks them (<del>, <ins>)."""
    part = re.search(r'(?s)<section class="card" id="answer-history">.*?</section>', html)[0]
    pairs = [re.search(r'(?s)<del class="lines">(.*?)</del> → <ins class="lines">(.*?)</ins>', li)
             for li in re.findall(r"(?s)<li\b.*?</li>", part)]
    return [(text_of(found[1]), text_of(found[2])) for found in pairs if found]


async def test_history__answers_in_zalo_telegram_and_on_the_page__each_with_its_channel_newest_first(console, caplog):
    caplog.set_level(logging.DEBUG)
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await bind_telegram(console, "777", "STP", "Phạm Minh")
    console.clock.now = NOW + timedelta(minutes=1)
    await say(console.service, "lan", "Nguyễn Thị Lan, 0912 345 678")  # Zalo
    console.clock.now = NOW + timedelta(minutes=5)
    await on_the_page(console, "lan", saves=[("leader[new].name", "Trần Văn Hùng"),
                                             ("reporter.phone", "0912 345 679")])
    console.clock.now = NOW + timedelta(minutes=7)
    assert "Đang lưu: Nguyễn Thị Lan" in await say_telegram(console.service, "777", "chào")
    await say_telegram(console.service, "777", "Nguyễn Thị Lan Anh")  # Telegram, an edit
    console.clock.now = NOW + timedelta(minutes=9)
    await on_the_page(console, "lan", saves=[("leader[1].position", "Phó Giám đốc Sở")])
    console.clock.now = NOW + timedelta(minutes=10)
    await on_the_page(console, "lan", delete=("leader", 1))  # the person deleted on the page: named as it was
    async with browser() as session:
        await sign_in(session, console)
        html = await unit_page(session, console)
    reporter, phone = "Người điền báo cáo", "Người điền báo cáo › Số điện thoại người điền"
    leader = "I.1. Lãnh đạo phụ trách trực tiếp › Trần Văn Hùng"
    assert [
        f"27/03/2017 09:10 Nguyễn Thị Lan trang web {leader} › Tên Trần Văn Hùng → {texts.WEB_ANSWER_HISTORY_REMOVED}",
        f"27/03/2017 09:10 Nguyễn Thị Lan trang web {leader} › Chức vụ Phó Giám đốc Sở → "
        f"{texts.WEB_ANSWER_HISTORY_REMOVED}",
        f"27/03/2017 09:09 Nguyễn Thị Lan trang web {leader} › Chức vụ Phó Giám đốc Sở",
        f"27/03/2017 09:07 Phạm Minh Telegram {reporter} Nguyễn Thị Lan → Nguyễn Thị Lan Anh",
        f"27/03/2017 09:05 Nguyễn Thị Lan trang web {phone} 0912 345 678 → 0912 345 679",  # the form's order
        f"27/03/2017 09:05 Nguyễn Thị Lan trang web {leader} › Tên Trần Văn Hùng",
        f"27/03/2017 09:01 Nguyễn Thị Lan Zalo {reporter} Nguyễn Thị Lan",  # a first answer: no old value
        f"27/03/2017 09:01 Nguyễn Thị Lan Zalo {phone} 0912 345 678",
    ] == history_of(html)
    assert [("Nguyễn Thị Lan", "Nguyễn Thị Lan Anh"), ("0912 345 678", "0912 345 679")] == values_of(html)
    assert 5 == len(re.findall(r'<li class="via-web">', html)) and 3 == len(re.findall(r'<li class="via-chat">', html))
    assert "style=" not in html and "<script>" not in html  # the console's CSP: no inline style or script
    assert "0912 345 679" not in caplog.text and "Lan Anh" not in caplog.text  # shown to officers, never logged


async def ids_of(console, user: str) -> tuple[int, int, int]:
    """(contact, campaign, unit) of a unit contact, as the page's session holds them."""
    async with console.db.sessionmaker() as s:
        contact = await s.scalar(sa.select(Contact).where(Contact.platform_user_id == user))
        campaign = await q.current_campaign(s)
    return contact.id, campaign.id, contact.unit_id


async def test_history__returned_then_corrected_in_chat_and_submitted_on_the_page__versions_diff_and_history(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    first_submitted = await fill_in_chat(console, "lan")  # version 1, all in Zalo
    console.clock.now = NOW + timedelta(hours=1)
    async with browser() as session:  # returned by the department
        await sign_in(session, console)
        unit_url = console.base + "/console/don-vi/STP"
        comment = "Ghi rõ kinh phí; số điện thoại người điền chưa đúng."
        async with session.post(unit_url + "/tra-lai", data={**await fields_of(session, unit_url),
                                                             "comment": comment}) as returned:
            assert texts.REVIEW_RETURNED.format(unit="Sở Tư pháp", contacts=1) in text_of(await returned.text())
    console.clock.now = NOW + timedelta(hours=2)
    await say(console.service, "lan", "sửa 9")  # corrected in the chat...
    await say(console.service, "lan", "1")
    await say(console.service, "lan", "Đề nghị cấp 60 triệu đồng mua 2 máy scan.")
    await say(console.service, "lan", "xong")
    console.clock.now = NOW + timedelta(hours=3)
    told = Recorder()
    console.service.deliverers["zalo"] = told
    loaded = await on_the_page(console, "lan", saves=[("reporter.phone", "0912 345 679")], submit=True)  # ...and here
    assert loaded.result.submitted
    await console.service.jobs.drain()
    assert [("lan", True)] == [(chat, text.startswith("Đã nộp báo cáo lúc")) for chat, text in told.texts]
    async with console.db.sessionmaker() as s:
        report = await s.scalar(sa.select(Report))
        versions = list(await s.scalars(sa.select(ReportVersion).order_by(ReportVersion.version)))
    assert ("submitted", None) == (report.status, report.review)  # the department reviews anew, as after the chat
    assert [1, 2] == [v.version for v in versions] and versions[0].submitted_by == versions[1].submitted_by
    assert ("+84912345679", "Đề nghị cấp 60 triệu đồng mua 2 máy scan.") == \
        (versions[1].answers["reporter.phone"], versions[1].answers["issues.text"])

    async with browser() as session:
        await sign_in(session, console)
        html = await unit_page(session, console)
        body = text_of(html)
        assert texts.WEB_DIFF_TITLE.format(old=1, new=2, count=2) in body
        diff = re.search(r'(?s)<section class="card" id="diff">.*?</section>', html)[0]
        assert [("Số điện thoại người điền", "trang web"), ("Khó khăn, kiến nghị khác", "Zalo")] == [
            (label, channel) for label, channel in re.findall(
                r'<b>([^<]+)</b> <span class="badge channel">qua ([^<]+)</span>', diff)]

        versions_table = text_of(re.search(r'(?s)<section class="card" id="versions">.*?</table>', html)[0])
        assert "Nguyễn Thị Lan (trang web)" in versions_table and "Nguyễn Thị Lan (Zalo)" in versions_table
        lines = history_of(html)
        assert answer_history.PAGE == len(lines)
        assert [
            "27/03/2017 12:00 Nguyễn Thị Lan trang web Nộp báo cáo (bản 2)",
            "27/03/2017 12:00 Nguyễn Thị Lan trang web Người điền báo cáo › Số điện thoại người điền "
            "0912 345 678 → 0912 345 679",
            "27/03/2017 11:00 Nguyễn Thị Lan Zalo IV. Khó khăn, kiến nghị khác "
            "Chưa có trụ sở tạm cho bộ phận một cửa; đề nghị bố trí kinh phí mua máy scan. → "
            "Đề nghị cấp 60 triệu đồng mua 2 máy scan.",
            f"{answer_history.format_time(first_submitted)} Nguyễn Thị Lan Zalo Nộp báo cáo (bản 1)",
        ] == lines[:4]
        more = re.search(r'<a href="([^"]+)" id="history-more">', html)
        assert more is not None
        async with session.get(console.base + unescape(more[1])) as page:
            full = await page.text()
            everything = history_of(full)
        shown_photo = re.search(r'<a href="/console/anh/([0-9]+)" target="_blank">' + texts.WEB_HISTORY_PHOTO + "</a>",
                                full)
        async with session.get(console.base + f"/console/anh/{shown_photo[1]}") as thumbnail:
            assert (200, "image/jpeg") == (thumbnail.status, thumbnail.content_type)  # "ảnh" opens the photo
    assert everything[:50] == lines
    assert texts.WEB_ANSWER_HISTORY_SHOWN.format(shown=50, total=len(everything)) in body  # "50 of all", then more
    assert len(everything) > 50 and 'id="history-more"' not in everything
    assert everything[-2:] == ["27/03/2017 09:00 Nguyễn Thị Lan Zalo Người điền báo cáo Nguyễn Thị Lan",
                               "27/03/2017 09:00 Nguyễn Thị Lan Zalo Người điền báo cáo › Số điện thoại người điền "
                               "0912 345 678"]  # one message: in the form's order
    assert all(" Zalo " in line for line in everything[4:])  # the first report: all in the chat
    photo = next(line for line in everything if "› Lê Thị Mai › Ảnh 3x4" in line)
    assert photo.endswith(f"Zalo I.2. Nhân sự chính tại trung tâm › Lê Thị Mai › Ảnh 3x4 {texts.WEB_HISTORY_PHOTO}")


PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
async def test_browser__history_and_diff_at_phone_and_desktop_width__readable_no_horizontal_overflow(console):
    from playwright.async_api import async_playwright, expect

    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await bind_telegram(console, "777", "STP", "Phạm Minh")
    first_submitted = await fill_in_chat(console, "lan")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            desktop = await chromium.new_page(viewport=DESKTOP, locale="vi-VN")
            await desktop.goto(await console.link())
            await desktop.click("#sign-in")
            await expect(desktop.locator("p.deadline")).to_contain_text("Hạn nộp: 16:30 ngày 28/03/2017")
            await desktop.goto(console.base + "/console/don-vi/STP")
            await desktop.fill("#comment", "Ghi rõ kinh phí; địa chỉ giao nhận chưa đủ.")
            await desktop.click("#return")
            await expect(desktop.locator("#unit-state")).to_have_text(texts.STATE_LABELS["returned"])

            console.clock.now = first_submitted + timedelta(hours=1)  # corrected in Telegram and on the page
            await say_telegram(console.service, "777", "sửa 9")
            await say_telegram(console.service, "777", "1")
            await say_telegram(console.service, "777", "Đề nghị cấp 60 triệu đồng mua 2 máy scan.")
            console.clock.now = first_submitted + timedelta(hours=2)
            await on_the_page(console, "lan", saves=[
                ("reporter.phone", "0912 345 679"),
                ("pickup.address", "Bộ phận một cửa, tầng 1, số 2 Nguyễn Văn Trị, phường Thanh Bình, thành phố Biên "
                                   "Hòa, tỉnh Đồng Nai (cổng sau, gần nhà xe cán bộ)")], submit=True)

            phone = await chromium.new_page(viewport=PHONE, is_mobile=True, locale="vi-VN")
            await phone.context.add_cookies(await desktop.context.cookies())
            for page, name in ((phone, "unit-history-phone"), (desktop, "unit-history")):
                await page.goto(console.base + "/console/don-vi/STP")
                diff = page.locator("#diff")
                await expect(diff).to_contain_text(texts.WEB_DIFF_TITLE.format(old=1, new=2, count=3))
                await expect(diff.locator(".badge.channel")).to_have_text(
                    ["qua trang web", "qua trang web", "qua Telegram"])
                history = page.locator("#answer-history")
                lines = history.locator("li")
                await expect(lines.nth(0)).to_contain_text(texts.WEB_ANSWER_HISTORY_SUBMIT.format(n=2))
                await expect(lines.nth(1)).to_contain_text("trang web")
                await expect(lines.nth(3)).to_contain_text("Telegram")
                await expect(lines.nth(4)).to_contain_text(texts.WEB_ANSWER_HISTORY_SUBMIT.format(n=1))
                await expect(lines.nth(5)).to_contain_text("Zalo")
                width = page.viewport_size["width"]
                sizes = await page.evaluate("""() => {
                    const h = document.querySelector('#answer-history');
                    const parts = [...document.querySelectorAll('#answer-history li, #answer-history li > span, #diff li')];
                    return {page: document.documentElement.scrollWidth, history: h.scrollWidth,
                            widest: Math.max(...parts.map(e => e.getBoundingClientRect().right))};
                }""")
                assert sizes["page"] <= width and sizes["history"] <= width and sizes["widest"] <= width, (name, sizes)
                # Each line readable: the time, who and channel, the field and the values, none cut or hidden.
                for part in ("history-when", "history-who", "history-field", "history-values"):
                    await expect(lines.nth(1).locator(f".{part}")).to_be_visible()
                await diff.evaluate("e => e.scrollIntoView()")
                await page.screenshot(path=str(SCREENSHOTS / f"{name}-diff.png"))
                await history.evaluate("e => e.scrollIntoView()")
                await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        finally:
            await chromium.close()
