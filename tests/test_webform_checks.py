"""The report's web page over real HTTP against `hcc-bot run` with the fake Zalo, for what an audit found missing:
a removed contact bound again (its old cookie stays ended), "Nộp báo cáo" refused in the page's own words with
links to the fields, the photo checks on the page's path (each message next to the field, nothing stored when
refused), another unit's photo, the return loop by the page, and the headers that let Telegram's web client frame
the page and nothing else."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import timedelta
from html import unescape
from types import SimpleNamespace

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from PIL import Image

from bot.photos import MAX_BYTES
from bot.review import Officer, return_report
from bot.webform.access import Sessions
from conversations import texts
from storage import queries as q
from storage.models import Photo, Report, WebFormLink
from tests.export_samples import portrait
from tests.test_console import text_of
from tests.test_photos import png_with_header_size
from tests.test_photos_images import jpeg as banded_jpeg
from tests.test_webform import JSON, WEB_REPORT, fill_by_page, save, stored_answers
from tests.webform_support import client, csrf_of, open_link, running_bot

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def element_text(html: str, element_id: str) -> str:
    """What a person reads in the element with this id (its first closing tag ends it)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>', html, re.DOTALL)
    assert found is not None, element_id
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found[2])).split())


def tag_of(html: str, element_id: str) -> str:
    found = re.search(rf'<[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert found is not None, element_id
    return found[0]


async def post_page(session, base: str, action: str, fields: dict, files: dict | None = None) -> tuple[int, str]:
    """A form of the page sent without the script (multipart as the browser sends it): the status, the page."""
    data = aiohttp.FormData()
    for name, value in fields.items():
        data.add_field(name, value)
    for name, content in (files or {}).items():
        data.add_field(name, content, filename="anh.jpg", content_type="image/jpeg")
    async with session.post(f"{base}{action}", data=data) as response:
        return response.status, await response.text()


async def photo_rows(bot) -> int:
    db = await bot.db()
    try:
        async with db.sessionmaker() as s:
            return await s.scalar(sa.select(sa.func.count()).select_from(Photo))
    finally:
        await db.dispose()


# --- 1. a contact removed and bound again: its old session stays ended ------------------------------------------


async def test_webform__removed_then_bound_again__old_cookie_ended_new_link_works(tmp_path):
    async with running_bot(tmp_path) as bot:
        await bot.say("lan", bot.codes["STP"])
        async with client() as old:
            assert 303 == await open_link(old, await bot.link("lan"))
            status, csrf, _ = await csrf_of(old, bot.base)
            assert 200 == status
            unopened = await bot.link("lan")
            db = await bot.db()
            async with db.transaction() as s:
                contact = await q.get_contact(s, "zalo", "lan")
                await q.unbind_contact(s, contact, now=bot.clock[0], reason="cli")
            async with db.sessionmaker() as s:
                revoked = list(await s.scalars(sa.select(WebFormLink.revoked_at)))
            await db.dispose()
            assert 2 == len(revoked) and None not in revoked  # the link opened and the one not opened yet
            reply = await bot.say("lan", bot.codes["STP"])  # the same unit again, within the 24 hours
            assert "Sở Tư pháp" in reply
            status, _, html = await csrf_of(old, bot.base)
            assert (401, True) == (status, texts.WEB_FORM_SIGNED_OUT in text_of(html))
            async with old.post(f"{bot.base}/web/luu", data={"csrf": csrf, "reporter.name": "Kẻ Lạ"},
                                headers={**JSON, "X-CSRF-Token": csrf}) as response:
                assert (401, texts.WEB_FORM_SIGNED_OUT) == (response.status, await response.text())
            async with client() as other:
                assert 410 == await open_link(other, unopened)  # a link sent before the removal: gone too
        async with client() as new:
            assert 303 == await open_link(new, await bot.link("lan"))
            status, csrf, html = await csrf_of(new, bot.base)
            assert 200 == status and "Sở Tư pháp" in html
            assert (200, {}) == ((await save(new, bot.base, csrf, "reporter.name", "Nguyễn Thị Lan"))[0], {})
        assert {"reporter.name": "Nguyễn Thị Lan"} == await stored_answers(bot, "STP")


async def test_webform__moved_to_another_unit_and_back__old_cookie_ended(tmp_path):
    async with running_bot(tmp_path, units=("STP", "CTHUE")) as bot:
        await bot.say("lan", bot.codes["STP"])
        async with client() as old:
            assert 303 == await open_link(old, await bot.link("lan"))
            units = []
            for code in ("CTHUE", "STP"):  # the change asked, confirmed
                for line in (bot.codes[code], texts.CHANGE_YES_WORDS[0]):
                    await bot.say("lan", line)
                    await asyncio.sleep(1.0)  # the whole answer (a welcome follows the confirmation)
                db = await bot.db()
                async with db.sessionmaker() as s:
                    contact = await q.get_contact(s, "zalo", "lan")
                    units.append((await q.get_unit(s, contact.unit_id)).code)
                await db.dispose()
            assert ["CTHUE", "STP"] == units
            status, _, html = await csrf_of(old, bot.base)
            assert (401, True) == (status, texts.WEB_FORM_SIGNED_OUT in text_of(html))


# --- 3. "Nộp báo cáo" refused: the page's own words, what is missing linked to its fields --------------------------


async def test_webform__submit_incomplete__what_is_missing_linked_no_chat_commands(tmp_path):
    async with running_bot(tmp_path) as bot:
        await bot.say("lan", bot.codes["STP"])
        async with client() as session:
            assert 303 == await open_link(session, await bot.link("lan"))
            _, csrf, _ = await csrf_of(session, bot.base)
            await save(session, bot.base, csrf, "reporter.name", "Nguyễn Thị Lan")
            await save(session, bot.base, csrf, "pickup.agree", "no")
            before = len(bot.zalo.texts_to("lan"))
            status, html = await post_page(session, bot.base, "/web/nop", {"csrf": csrf})
            async with session.post(f"{bot.base}/web/nop", data={"csrf": csrf}, headers=JSON) as response:
                body = await response.json()
        assert 200 == status
        summary = element_text(html, "summary")
        links = dict(re.findall(r'<li><a href="(#[^"]+)">([^<]+)</a></li>', html.partition('id="summary"')[2]
                                .partition("</div>")[0]))
        count = len(links)
        assert summary.startswith(texts.WEB_CANNOT_SUBMIT.format(count=count)) and count > 5
        assert {"#f-reporter-phone": "Người điền báo cáo: Số điện thoại người điền",
                "#s-leader": "I.1. Lãnh đạo phụ trách trực tiếp: cần ít nhất 1 lãnh đạo",
                "#f-pickup-proposed_times": "II. Lịch thu gom – giao nhận hồ sơ của bưu điện: Thời gian đơn vị đề xuất",
                }.items() <= \
            {k: unescape(v) for k, v in links.items()}.items(), links
        for anchor in links:  # every link goes to something on the page
            assert f'id="{anchor[1:]}"' in html, anchor
        for chat_words in ("Gõ", "gõ", "bổ sung”", "?"):  # no chat command, no next chat question
            assert chat_words not in summary, chat_words
        assert 'autofocus' in tag_of(html, "summary") and 'role="alert"' in tag_of(html, "summary")
        assert not body["submitted"] and body["message"].startswith(texts.WEB_CANNOT_SUBMIT.format(count=count))
        assert "Gõ" not in body["message"]
        await asyncio.sleep(0.5)
        assert before == len(bot.zalo.texts_to("lan"))  # the chat hears nothing of a refused submission


# --- 6. photos on the page's path ----------------------------------------------------------------------------------


async def test_webform__photo_checks_on_the_page__message_next_to_the_field_nothing_stored(tmp_path):
    async with running_bot(tmp_path, units=("STP", "CTHUE")) as bot:
        await bot.say("lan", bot.codes["STP"])
        async with client() as session:
            assert 303 == await open_link(session, await bot.link("lan"))
            _, csrf, _ = await csrf_of(session, bot.base)
            _, body = await save(session, bot.base, csrf, "main_staff[new].name", "Lê Thị Mai")
            assert {"main_staff[new].name": "main_staff[1].name"} == body["saved"]
            path, status_id, input_id = "main_staff[1].photo", "st-f-main_staff-1-photo", "f-main_staff-1-photo"
            refusals = [
                (b"\xff\xd8" + bytes(MAX_BYTES), texts.PHOTO_TOO_LARGE.format(max_mb=MAX_BYTES // (1024 * 1024))),
                (PDF, texts.PHOTO_NOT_IMAGE),
                (png_with_header_size(30000, 30000), texts.PHOTO_TOO_MANY_PIXELS.format(width=30000, height=30000)),
            ]
            for data, message in refusals:
                status, html = await post_page(session, bot.base, "/web/luu", {"csrf": csrf}, {path: data})
                assert (422, message) == (status, element_text(html, status_id))
                assert 'aria-invalid="true"' in tag_of(html, input_id)
                assert f"Ảnh 3x4: {message}" in element_text(html, "summary")
            assert 0 == await photo_rows(bot)
            assert "main_staff[1].photo" not in await stored_answers(bot, "STP")

            # Turned by EXIF (stored 800x600, the red band on its left edge): kept upright, the band on top.
            status, html = await post_page(session, bot.base, "/web/luu", {"csrf": csrf},
                                           {path: banded_jpeg((800, 600), exif_orientation=6)})
            assert 303 == status or 200 == status
            upright = await stored_photo(bot, "main_staff[1].photo")
            assert (354, 472) == upright.size
            red, green, blue = upright.getpixel((177, 10))[:3]
            assert red > 150 and blue < 100, (red, green, blue)

            # A landscape photo for a badge: cut to 3x4, and the page says so next to the field.
            _, body = await save(session, bot.base, csrf, "main_staff[new].name", "Trần Văn Bình")
            second = body["saved"]["main_staff[new].name"].replace(".name", ".photo")
            wide = io.BytesIO()
            Image.new("RGB", (1600, 900), (90, 120, 160)).save(wide, "JPEG")
            status, html = await post_page(session, bot.base, "/web/luu", {"csrf": csrf}, {second: wide.getvalue()})
            assert 200 == status
            assert texts.PHOTO_WARN_LANDSCAPE in element_text(html, "st-f-main_staff-2-photo")
            cut = await stored_photo(bot, second)
            assert 3 * cut.size[1] == 4 * cut.size[0]
            assert 2 == await photo_rows(bot)

            # A good photo for an item that does not exist yet: refused, no photo row left behind.
            status, html = await post_page(session, bot.base, "/web/luu", {"csrf": csrf},
                                           {"main_staff[new].photo": portrait((10, 20, 30))})
            assert 422 == status and texts.WEB_PHOTO_NEW_ITEM in element_text(html, "summary")
            assert 2 == await photo_rows(bot)


async def stored_photo(bot, path: str) -> Image.Image:
    photo_id = (await stored_answers(bot, "STP"))[path]
    db = await bot.db()
    try:
        async with db.sessionmaker() as s:
            row = await s.get(Photo, photo_id)
    finally:
        await db.dispose()
    return Image.open(row.processed_path)


async def test_webform__another_units_photo__404(tmp_path):
    async with running_bot(tmp_path, units=("STP", "CTHUE")) as bot:
        await bot.say("lan", bot.codes["STP"])
        await bot.say("hoa", bot.codes["CTHUE"])
        async with client() as lan, client() as hoa:
            assert 303 == await open_link(lan, await bot.link("lan"))
            assert 303 == await open_link(hoa, await bot.link("hoa"))
            _, csrf, _ = await csrf_of(hoa, bot.base)
            await save(hoa, bot.base, csrf, "main_staff[new].name", "Võ Thị Hoa")
            status, body = await save(hoa, bot.base, csrf, "main_staff[1].photo", None, photo=portrait((40, 90, 160)))
            assert (200, {}) == (status, body["errors"])
            photo_id = (await stored_answers(bot, "CTHUE"))["main_staff[1].photo"]
            async with hoa.get(f"{bot.base}/web/anh/{photo_id}") as response:
                assert (200, "image/jpeg") == (response.status, response.content_type)
            for asked in (str(photo_id), str(photo_id + 1), "abc"):
                async with lan.get(f"{bot.base}/web/anh/{asked}") as response:
                    assert 404 == response.status, asked


# --- 7. the return loop by the page ----------------------------------------------------------------------------------


async def test_webform__returned_then_fixed_on_the_page__new_version_review_cleared_one_confirmation(tmp_path):
    comment = "Số điện thoại người điền báo cáo chưa đúng, đề nghị sửa lại."
    async with running_bot(tmp_path) as bot:
        await bot.say("lan", bot.codes["STP"])
        async with client() as session:
            assert 303 == await open_link(session, await bot.link("lan"))
            _, csrf, _ = await csrf_of(session, bot.base)
            await fill_by_page(session, bot.base, csrf, WEB_REPORT)
            before = len(bot.zalo.texts_to("lan"))
            status, html = await post_page(session, bot.base, "/web/nop", {"csrf": csrf})
            assert 200 == status and element_text(html, "message").startswith("Đã nộp báo cáo lúc")
            assert "gõ" not in element_text(html, "message")
            await bot.wait(lambda: len(bot.zalo.texts_to("lan")) > before)

            db = await bot.db()
            async with db.transaction() as s:
                campaign = await q.current_campaign(s)
                await return_report(s, campaign, "STP", comment, Officer("Nguyễn Văn An"), bot.clock[0])
            await bot.wait(lambda: comment in bot.zalo.texts_to("lan")[-1], timeout=30)  # the notice, in the chat
            _, _, html = await csrf_of(session, bot.base)
            assert " ".join(texts.WEB_RETURNED_NOTE.format(comment=comment).split()) == element_text(html, "returned")

            bot.clock[0] += timedelta(minutes=10)
            status, body = await save(session, bot.base, csrf, "reporter.phone", "0912 345 679")
            assert (200, {}) == (status, body["errors"])
            before = len(bot.zalo.texts_to("lan"))
            status, html = await post_page(session, bot.base, "/web/nop", {"csrf": csrf})
            assert 200 == status and element_text(html, "message").startswith("Đã nộp báo cáo lúc")
            await bot.wait(lambda: len(bot.zalo.texts_to("lan")) > before)
            await asyncio.sleep(1.0)  # anything more would have come by now
            sent = bot.zalo.texts_to("lan")[before:]
            assert 1 == len(sent) and sent[0].startswith("Đã nộp báo cáo lúc"), sent
            _, _, html = await csrf_of(session, bot.base)
            assert 'id="returned"' not in html

            async with db.sessionmaker() as s:
                report = await s.scalar(sa.select(Report))
                versions = await q.list_report_versions(s, report.id)
            await db.dispose()
        assert (None, None) == (report.review, report.review_comment)
        assert report.status in ("submitted", "submitted_late")
        assert [1, 2] == [v.version for v in versions]
        assert "+84912345679" == (await stored_answers(bot, "STP"))["reporter.phone"]


# --- 8. Telegram's web client frames the page; nothing else may -----------------------------------------------------


async def test_webform__headers__telegram_web_may_frame_the_entry_and_the_page_only(tmp_path):
    async with running_bot(tmp_path) as bot:
        await bot.say("lan", bot.codes["STP"])
        link = await bot.link("lan")
        async with client() as session:
            async with session.get(link) as response:  # the link's page (its button opens the session): no framing
                assert "DENY" == response.headers.get("X-Frame-Options")
                assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
            assert 303 == await open_link(session, link)
            _, csrf, _ = await csrf_of(session, bot.base)
            framed = [("GET", "/web/telegram", None), ("GET", "/web/bao-cao", None),
                      ("POST", "/web/luu", {"csrf": csrf, "reporter.name": "Nguyễn Thị Lan"}),
                      ("POST", "/web/nop", {"csrf": csrf})]
            for method, path, data in framed:
                async with session.request(method, f"{bot.base}{path}", data=data) as response:
                    csp = response.headers["Content-Security-Policy"]
                    assert "X-Frame-Options" not in response.headers, path
                    assert csp.endswith("frame-ancestors https://web.telegram.org") and "'none'" not in \
                        csp.partition("frame-ancestors")[2], path
                    assert "script-src 'self'" in csp and "default-src 'none'" in csp
            for path in ("/web/static/webform.js", "/web/anh/1"):
                async with session.get(f"{bot.base}{path}") as response:
                    assert "DENY" == response.headers.get("X-Frame-Options"), path
                    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
            async with session.get(f"{bot.base}/console/") as response:
                assert "DENY" == response.headers.get("X-Frame-Options")


async def test_sessions__from_telegrams_web_app_over_https__cookie_sent_in_its_frame():
    link = SimpleNamespace(id=1, contact_id=2, campaign_id=3, unit_id=4)
    cookies = {}
    for secure, framed in ((True, True), (True, False), (False, True)):
        sessions = Sessions(b"k" * 32, secure=secure)
        response = web.Response()
        await sessions.start(make_mocked_request("POST", "/web/telegram"), response, link, framed=framed)
        cookie = response.cookies["hcc_web"]
        cookies[secure, framed] = (cookie["samesite"], bool(cookie["secure"]))
    assert {(True, True): ("None", True), (True, False): ("Lax", True), (False, True): ("Lax", False)} == cookies
