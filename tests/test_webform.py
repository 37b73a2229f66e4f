"""The report's web page over real HTTP against `hcc-bot run` with the fake Zalo: the link from the chat, the one field
check shared with the chat, the chat resuming after the page, the whole report by the page (its Zalo messages and
its workbook against a chat-only report), and access: expired link, a link opened twice, another contact's cookie, a
POST without CSRF, a field of another campaign, a removed contact, a closed campaign, the deadline."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook
from PIL import Image

from bot.webform.access import LINK_TTL
from conversations import texts
from conversations.form import DEFAULT_FORM, load_form
from exports.data import load_export_data
from exports.workbook import build_workbook
from storage import queries as q
from tests.export_samples import portrait
from tests.webform_support import client, csrf_of, open_link, running_bot

JSON = {"Accept": "application/json"}

# One report, as the page sends it (field path, value) and as the chat is told it (one message each).
WEB_REPORT: list[tuple[str, str | list[str]]] = [
    ("reporter.name", "Nguyễn Thị Lan"), ("reporter.phone", "0912 345 678"),
    ("leader[new].name", "Trần Văn Hùng"), ("leader[new].position", "Phó Giám đốc Sở"),
    ("leader[new].phone", "0913 456 789"),
    ("main_staff[new].name", "Lê Thị Mai"), ("main_staff[new].position", "Chuyên viên"),
    ("main_staff[new].phone", "0987 654 321"), ("main_staff[new].gender", "nu"),
    ("main_staff[new].shirt_size", "7"), ("main_staff[new].photo", "PHOTO"),
    ("postal_staff[new].name", "Võ Thị Hoa"), ("postal_staff[new].position", "Văn thư"),
    ("postal_staff[new].phone", "0934 222 333"),
    ("procedures.tthc_total", "125"), ("procedures.tthc_total_partners", "Sở Tài chính, Cục Thuế tỉnh"),
    ("procedures.tthc_linked", "12"), ("procedures.tthc_linked_partners", "Công an tỉnh, Sở Y tế"),
    ("procedures.public_services", "125"), ("procedures.online_services", "40"),
    ("procedures.postal_return", "80"), ("procedures.postal_return_partners", "Bưu điện tỉnh"),
    ("procedures.postal_receive", "60"), ("procedures.postal_receive_partners", "Bưu điện tỉnh"),
    ("procedures.postal_online", "20"), ("procedures.postal_online_partners", "Bưu điện tỉnh"),
    ("pickup.agree", "no"), ("pickup.proposed_times", "09:30 và 14:30"),
    ("pickup.address", "Bộ phận một cửa, tầng 1, số 2 Nguyễn Văn Trị, Biên Hòa"),
    ("pickup.notes", "Cổng sau đóng sau 16:30."),
    ("plan[new].content", "Rà soát TTHC"), ("plan[new].detail", "Rà soát 125 TTHC, đề xuất danh mục"),
    ("plan[new].start", "2026-12-01"), ("plan[new].end", "2026-12-15"), ("plan[new].responsibility", "rieng"),
    ("plan[new].partners", "Sở Nội vụ"),
    ("issues.text", "Chưa có trụ sở tạm cho bộ phận một cửa; đề nghị bố trí kinh phí mua máy scan."),
]
CHAT_REPORT = [
    "Nguyễn Thị Lan, 0912 345 678",
    "Trần Văn Hùng, Phó Giám đốc Sở, 0913 456 789",
    "Lê Thị Mai, Chuyên viên, 0987 654 321", "1", "7", "PHOTO", "xong",
    "xong",
    "Võ Thị Hoa, Văn thư, 0934 222 333", "xong",
    "125", "Sở Tài chính, Cục Thuế tỉnh", "12", "Công an tỉnh, Sở Y tế", "125", "bỏ qua", "40", "bỏ qua",
    "80", "Bưu điện tỉnh", "60", "Bưu điện tỉnh", "20", "Bưu điện tỉnh",
    "không", "09:30 và 14:30", "Bộ phận một cửa, tầng 1, số 2 Nguyễn Văn Trị, Biên Hòa", "Cổng sau đóng sau 16:30.",
    "Rà soát TTHC; Rà soát 125 TTHC, đề xuất danh mục; 01/12/2026; 15/12/2026; riêng; Sở Nội vụ", "xong",
    "Chưa có trụ sở tạm cho bộ phận một cửa; đề nghị bố trí kinh phí mua máy scan.",
    "nộp",
]


def small_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 260), (120, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


async def save(session, base: str, csrf: str, path: str, value, *, photo: bytes | None = None) -> tuple[int, dict]:
    """One field saved as the page's script saves it (multipart, the CSRF token in a header)."""
    import aiohttp

    data = aiohttp.FormData()
    if photo is not None:
        data.add_field(path, photo, filename="anh.jpg", content_type="image/jpeg")
    else:
        for v in value if isinstance(value, list) else [value]:
            data.add_field(path, v)
    async with session.post(f"{base}/web/luu", data=data, headers={**JSON, "X-CSRF-Token": csrf}) as response:
        return response.status, await response.json()


async def fill_by_page(session, base: str, csrf: str, report=WEB_REPORT) -> None:
    real: dict[str, str] = {}
    for path, value in report:
        section = path.partition("[")[0]
        if "[new]" in path and section in real:
            path = path.replace("[new]", f"[{real[section]}]")
        status, body = await save(session, base, csrf, path, value,
                                  photo=portrait((40, 90, 160)) if value == "PHOTO" else None)
        assert (200, {}) == (status, body["errors"]), path
        if "[new]" in path:
            real[section] = body["saved"][path].partition("[")[2].partition("]")[0]


async def test_webform__whole_report_by_page__few_zalo_messages_and_the_chat_only_workbook(tmp_path):
    async with running_bot(tmp_path, units=("STP", "CTHUE")) as bot:
        await bot.say("lan", bot.codes["STP"])
        link = await bot.link("lan")
        async with client() as session:
            assert 303 == await open_link(session, link)
            _, csrf, _ = await csrf_of(session, bot.base)
            await fill_by_page(session, bot.base, csrf)
            async with session.post(f"{bot.base}/web/nop", data={"csrf": csrf}, headers=JSON) as response:
                body = await response.json()
        assert body["submitted"] and body["message"].startswith("Đã nộp báo cáo lúc")
        await bot.wait(lambda: len(bot.zalo.texts_to("lan")) >= 3)  # the confirmation, sent after the commit
        by_page = bot.zalo.texts_to("lan")
        print(f"\nZalo bot messages for the whole report by the page: {len(by_page)} (by chat: below)")
        assert 3 == len(by_page)  # the welcome, the link, the confirmation
        assert by_page[-1].startswith("Đã nộp báo cáo lúc")

        await bot.say("hoa", bot.codes["CTHUE"])
        for line in CHAT_REPORT:
            reply = await (bot.photo("hoa", portrait((40, 90, 160))) if line == "PHOTO" else bot.say("hoa", line))
        assert "Đã nộp báo cáo lúc" in reply
        print(f"Zalo bot messages for the same report by chat: {len(bot.zalo.texts_to('hoa'))}")

        db = await bot.db()
        form = load_form(DEFAULT_FORM)
        async with db.sessionmaker() as s:
            campaign = await q.current_campaign(s)
        books = {}
        for code in ("STP", "CTHUE"):
            data = await load_export_data(db, form, now=bot.clock[0], campaign_id=campaign.id, unit_codes=[code])
            books[code] = build_workbook(data, tmp_path / f"{code}.xlsx")
        await db.dispose()
    web, chat = load_workbook(books["STP"]), load_workbook(books["CTHUE"])
    assert chat.sheetnames == web.sheetnames
    compared = 0
    for name in web.sheetnames:
        rows_web = [[_same_unit(c.value) for c in row] for row in web[name].iter_rows()]
        rows_chat = [[_same_unit(c.value) for c in row] for row in chat[name].iter_rows()]
        assert rows_chat == rows_web, name
        compared += sum(len(r) for r in rows_web)
    assert compared > 100


def _same_unit(value):
    """A cell with the unit's own name or code, or a time of day the two reports were sent at, made comparable."""
    if isinstance(value, str):
        return value.replace("Cục Thuế tỉnh", "UNIT").replace("Sở Tư pháp", "UNIT").replace("CTHUE", "CODE") \
            .replace("STP", "CODE")
    if hasattr(value, "hour"):
        return "TIME"
    return value


async def test_webform__mistakes__the_chats_messages_next_to_the_field_and_nothing_stored(tmp_path):
    async with running_bot(tmp_path) as bot:
        await bot.say("lan", bot.codes["STP"])
        async with client() as session:
            assert 303 == await open_link(session, await bot.link("lan"))
            _, csrf, _ = await csrf_of(session, bot.base)
            status, body = await save(session, bot.base, csrf, "reporter.phone", "091234567")
            assert (422, ["reporter.phone"]) == (status, list(body["errors"]))
            assert texts.PHONE_INVALID == body["errors"]["reporter.phone"]
            status, body = await save(session, bot.base, csrf, "plan[new].content", "Rà soát TTHC")
            item = body["saved"]["plan[new].content"].partition("[")[2].partition("]")[0]
            await save(session, bot.base, csrf, f"plan[{item}].start", "2026-12-10")
            status, body = await save(session, bot.base, csrf, f"plan[{item}].end", "2026-12-01")
            assert body["errors"][f"plan[{item}].end"].startswith("Ngày kết thúc không được trước ngày bắt đầu (10/12/2026)")
            status, body = await save(session, bot.base, csrf, "main_staff[new].name", "Lê Thị Mai")
            staff = body["saved"]["main_staff[new].name"].partition("[")[2].partition("]")[0]
            status, body = await save(session, bot.base, csrf, f"main_staff[{staff}].photo", None, photo=small_photo())
            assert body["errors"][f"main_staff[{staff}].photo"] == texts.PHOTO_TOO_SMALL.format(
                width=200, height=260, min_width=300, min_height=400)
        # The chat sees the page's answers and nothing refused; it goes on from the first question missing.
        reply = await bot.say("lan", "chào")
        assert texts.WEB_BACK_IN_CHAT in reply
        assert "Họ và tên của bạn (người điền báo cáo)?" in reply
        answers = await stored_answers(bot, "STP")
        assert {f"main_staff[{staff}].name": "Lê Thị Mai", f"plan[{item}].content": "Rà soát TTHC",
                f"plan[{item}].start": "2026-12-10", "main_staff.__last__": 1, "plan.__last__": 1} == answers


async def stored_answers(bot, code: str) -> dict:
    db = await bot.db()
    try:
        async with db.sessionmaker() as s:
            campaign = await q.current_campaign(s)
            unit = await q.get_unit_by_code(s, code)
            report, _ = await q.lock_report(s, campaign_id=campaign.id, unit_id=unit.id, now=bot.clock[0])
            return await q.load_answers(s, report.id)
    finally:
        await db.dispose()


async def test_webform__link_preview_then_open_twice__second_refused_and_expired_link_refused(tmp_path):
    async with running_bot(tmp_path) as bot:
        await bot.say("lan", bot.codes["STP"])
        link = await bot.link("lan")
        async with client() as preview:  # a chat app's link preview: GETs only, opens nothing
            for _ in range(3):
                async with preview.get(link) as response:
                    assert (200, texts.WEB_OPEN_BUTTON) == (response.status, texts.WEB_OPEN_BUTTON
                                                            if texts.WEB_OPEN_BUTTON in await response.text() else "")
        async with client() as first, client() as second:
            assert 303 == await open_link(first, link)
            assert 410 == await open_link(second, link)  # the same link in another browser: used
            status, _, html = await csrf_of(second, bot.base)
            assert 401 == status and texts.WEB_FORM_SIGNED_OUT in html
        later = await bot.link("lan")
        bot.clock[0] += LINK_TTL + timedelta(minutes=1)
        async with client() as session:
            async with session.get(later) as response:
                assert (410, True) == (response.status, texts.WEB_LINK_GONE in await response.text())
            assert 410 == await open_link(session, later)


async def test_webform__another_contacts_cookie_and_no_csrf__refused_nothing_stored(tmp_path):
    async with running_bot(tmp_path, units=("STP", "CTHUE")) as bot:
        await bot.say("lan", bot.codes["STP"])
        await bot.say("hoa", bot.codes["CTHUE"])
        async with client() as lan, client() as hoa:
            assert 303 == await open_link(lan, await bot.link("lan"))
            assert 303 == await open_link(hoa, await bot.link("hoa"))
            _, lan_csrf, _ = await csrf_of(lan, bot.base)
            _, hoa_csrf, _ = await csrf_of(hoa, bot.base)
            # Hoa's cookie with Lan's CSRF token: refused (the token is the session's own).
            status, _ = await _post(hoa, f"{bot.base}/web/luu", {"csrf": lan_csrf, "reporter.name": "Kẻ Lạ"})
            assert 403 == status
            # No token at all.
            status, _ = await _post(lan, f"{bot.base}/web/luu", {"reporter.name": "Kẻ Lạ"})
            assert 403 == status
            # A made-up cookie value: no session.
            async with client() as stranger:
                stranger.cookie_jar.update_cookies({"hcc_web": "gAAAAABnot-a-real-one"})
                status, _ = await _post(stranger, f"{bot.base}/web/luu", {"csrf": lan_csrf, "reporter.name": "X"})
                assert 401 == status
            # A field of another campaign's form (the shipped training form's), and a made-up path: refused.
            for path in ("attendees[new].birth_date", "contact.name", "reporter.nam", "reporter[1].name"):
                status, body = await save(lan, bot.base, lan_csrf, path, "01/01/1990")
                assert (422, texts.WEB_NO_SUCH_FIELD) == (status, body["errors"][path])
            status, body = await save(hoa, bot.base, hoa_csrf, "reporter.name", "Trần Thị Hoa")
            assert 200 == status
            _, _, lan_page = await csrf_of(lan, bot.base)
            assert "Trần Thị Hoa" not in lan_page and "Kẻ Lạ" not in lan_page
        assert {} == await stored_answers(bot, "STP")


async def test_webform__contact_removed_or_campaign_closed__session_ends_at_once(tmp_path):
    async with running_bot(tmp_path) as bot:
        await bot.say("lan", bot.codes["STP"])
        await bot.say("an", bot.codes["STP"])
        async with client() as lan, client() as an:
            assert 303 == await open_link(lan, await bot.link("lan"))
            assert 303 == await open_link(an, await bot.link("an"))
            assert 200 == (await csrf_of(lan, bot.base))[0]
            db = await bot.db()
            async with db.transaction() as s:
                contact = await q.get_contact(s, "zalo", "lan")
                await q.unbind_contact(s, contact, now=bot.clock[0], reason="removed")
            status, _, html = await csrf_of(lan, bot.base)
            assert (401, True) == (status, texts.WEB_FORM_SIGNED_OUT in html)
            assert 200 == (await csrf_of(an, bot.base))[0]
            async with db.transaction() as s:
                campaign = await q.current_campaign(s)
                campaign.closed_at = bot.clock[0]
            await db.dispose()
            assert 401 == (await csrf_of(an, bot.base))[0]


async def test_webform__after_the_deadline__read_only_and_nothing_stored(tmp_path):
    async with running_bot(tmp_path) as bot:
        await bot.say("lan", bot.codes["STP"])
        async with client() as session:
            assert 303 == await open_link(session, await bot.link("lan"))
            _, csrf, _ = await csrf_of(session, bot.base)
            bot.clock[0] += timedelta(days=30)
            status, _, html = await csrf_of(session, bot.base)
            assert 200 == status and texts.WEB_READ_ONLY in html and "disabled" in html
            status, body = await save(session, bot.base, csrf, "reporter.name", "Nguyễn Thị Lan")
            assert ({}, True) == (body["saved"], body["message"].startswith("Đã quá hạn nộp ("))
            _, _, html = await csrf_of(session, bot.base)
            assert "Nguyễn Thị Lan" not in html


async def _post(session, url: str, data: dict) -> tuple[int, str]:
    async with session.post(url, data=data, headers=JSON, allow_redirects=False) as response:
        return response.status, await response.text()
