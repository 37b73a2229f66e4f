"""The web console over real HTTP on 127.0.0.1: sign-in links, sessions, CSRF, the board, review and return.

The pages are read as a person would (their text); the chat side runs through the real service, and the
return's comment goes out on the reminder path to a recording sender.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import unescape

import aiohttp
import docx
import pytest
from PIL import Image
import sqlalchemy as sa

from bot.bootstrap import ensure_units_and_campaign
from bot.console import setup_console
from bot.console.auth import create_login
from bot.fanout import SendResult
from bot.reminders.scheduler import run_due
from bot.review import Officer, extend_deadline
from bot.service import Inbound, Service
from bot.web import build_app, start_app
from bot.reminders.plan import example_deadline
from conversations import texts
from conversations.form import load_form
from storage import queries as q
from storage.models import AuditLog, ReminderSend, Report, WebLogin
from tests.export_samples import FULL_REPORT, portrait

FORM = load_form()
NOW = datetime(2017, 3, 27, 2, 0, tzinfo=timezone.utc)  # 09:00 the day before the deadline
DEADLINE = datetime(2017, 3, 28, 9, 30, tzinfo=timezone.utc)  # 16:30 Asia/Ho_Chi_Minh
_ids = itertools.count(1)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def text_of(html: str) -> str:
    """What a person reads on the page: no tags, entities decoded, spaces collapsed."""
    html = re.sub(r"(?s)<(script|style).*?</\1>", " ", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@dataclass
class Console:
    base: str
    service: Service
    clock: Clock
    db: object

    async def link(self, *, officer: str = "Nguyễn Văn An", contact_id: int | None = None) -> str:
        async with self.db.transaction() as s:
            return (await create_login(s, officer=officer, contact_id=contact_id, base_url=self.base,
                                       now=self.clock())).url


@pytest.fixture
async def console(db, tmp_path):
    await ensure_units_and_campaign(db, FORM, NOW)
    async with db.transaction() as s:
        (await q.current_campaign(s)).deadline_at = DEADLINE
    clock = Clock(NOW)
    service = Service(db, FORM, tmp_path / "photos", clock, export_dir=tmp_path / "exports")
    app = build_app()
    setup_console(app, service, session_key=os.urandom(32), secure_cookie=False)
    port = free_port()
    runner = await start_app(app, "127.0.0.1", port)
    service.console_url = f"http://127.0.0.1:{port}"
    try:
        yield Console(service.console_url, service, clock, db)
    finally:
        await service.jobs.drain()
        await runner.cleanup()


def browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # cookies for 127.0.0.1 too


async def sign_in(session: aiohttp.ClientSession, console: Console, **kw) -> None:
    url = await console.link(**kw)
    async with session.get(url) as page:
        assert 200 == page.status
        assert texts.WEB_LOGIN_BUTTON in text_of(await page.text())
    async with session.post(url, allow_redirects=False) as done:
        assert 303 == done.status
        cookie = done.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie


async def csrf_of(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as page:
        return re.search(r'name="csrf" value="([^"]+)"', await page.text())[1]


async def fields_of(session: aiohttp.ClientSession, url: str) -> dict[str, str]:
    """The hidden fields a unit page's forms send: the CSRF token and what the officer sees (`seen`)."""
    async with session.get(url) as page:
        html = await page.text()
    return {"csrf": re.search(r'name="csrf" value="([^"]+)"', html)[1],
            "seen": re.search(r'name="seen" value="([^"]+)"', html)[1]}


async def say(service: Service, user: str, text: str | None = None, **kw) -> str:
    inbound = Inbound(channel="zalo", user_id=user, chat_id=user, event_id=f"e{next(_ids)}", text=text,
                      display_name=kw.pop("name", None), **kw)
    replies = await service.handle(inbound)
    service.sent(inbound)
    return "\n".join(r.text for r in replies or [])


async def bind(console: Console, user: str, unit: str | None, name: str) -> None:
    async with console.db.transaction() as s:
        unit_id = (await q.get_unit_by_code(s, unit)).id if unit else None
        code = (await q.create_invite(s, unit_id=unit_id, role="unit" if unit else "admin",
                                      expires_at=NOW + timedelta(days=7), max_uses=3, now=NOW)).code
    await say(console.service, user, code, name=name)


async def submit_full_report(console: Console, user: str) -> str:
    reply = ""
    for n, line in enumerate(FULL_REPORT):
        if line == "PHOTO":
            reply = await say(console.service, user, photo=portrait((n * 7 % 200, 90, 140)))
        else:
            reply = await say(console.service, user, line)
    return reply


async def report_of(db, unit: str) -> Report:
    async with db.transaction() as s:
        unit_row = await q.get_unit_by_code(s, unit)
        return await s.scalar(sa.select(Report).where(Report.unit_id == unit_row.id))


async def test_console__no_session__sign_in_page_and_no_data(console):
    async with browser() as session:
        for path in ("/console/", "/console/don-vi/STP", "/console/bang", "/console/xuat"):
            async with session.get(console.base + path) as page:
                body = text_of(await page.text())
                assert page.status in (401,), path
                assert "Sở Tư pháp" not in body and "STP" not in body
            if path == "/console/":
                assert texts.WEB_SIGNIN_TITLE in body and "hcc-bot web-login" in body


async def test_console__sign_in_link__board_lists_every_unit_with_counts(console):
    async with browser() as session:
        await sign_in(session, console)
        async with session.get(console.base + "/console/") as page:
            body = text_of(await page.text())
    async with console.db.transaction() as s:
        units = await q.list_units(s)
    assert len(units) > 20
    for unit in units:
        assert unit.name in body
    assert f"{texts.STATE_LABELS['not_started']} {len(units)}" in body
    assert texts.WEB_DEADLINE.format(deadline="16:30 ngày 28/03/2017", left="còn 1 ngày 7 giờ 30 phút") in body
    assert "Nguyễn Văn An" in body  # the officer's name in the header


async def test_console__link_used_twice__second_refused_in_vietnamese(console):
    url = await console.link()
    async with browser() as first:
        async with first.post(url, allow_redirects=False) as done:
            assert 303 == done.status
    async with browser() as second:
        async with second.post(url, allow_redirects=False) as again:
            assert 410 == again.status
            assert texts.WEB_LINK_USED.format(at="09:00 ngày 27/03/2017") in text_of(await again.text())
        async with second.get(console.base + "/console/") as page:
            assert 401 == page.status


async def test_console__link_after_ten_minutes__expired_and_said_so(console):
    url = await console.link()
    console.clock.now = NOW + timedelta(minutes=10, seconds=1)
    async with browser() as session:
        async with session.get(url) as page:
            assert 410 == page.status
            assert texts.WEB_LINK_EXPIRED.format(at="09:10 ngày 27/03/2017") in text_of(await page.text())
        async with session.post(url, allow_redirects=False) as done:
            assert 410 == done.status
        async with session.get(console.base + "/console/") as board:
            assert 401 == board.status


async def test_console__post_without_csrf__403_and_nothing_changes(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    assert "Đã nộp báo cáo" in await submit_full_report(console, "lan")
    async with browser() as session:
        await sign_in(session, console)
        async with session.post(console.base + "/console/don-vi/STP/duyet", allow_redirects=False) as refused:
            assert 403 == refused.status
            assert texts.WEB_CSRF == await refused.text()
        async with session.post(console.base + "/console/don-vi/STP/duyet", data={"csrf": "forged"},
                                allow_redirects=False) as forged:
            assert 403 == forged.status
    assert (await report_of(console.db, "STP")).review is None


async def test_console__return_with_comment__unit_told_in_chat_resubmits_then_accepted(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await bind(console, "hung", "STP", "Trần Văn Hùng")
    assert "Đã nộp báo cáo" in await submit_full_report(console, "lan")
    async with browser() as session:
        await sign_in(session, console)
        unit_url = console.base + "/console/don-vi/STP"
        fields = await fields_of(session, unit_url)
        async with session.post(unit_url + "/tra-lai", data={**fields, "comment": "  "}) as empty:
            assert texts.REVIEW_COMMENT_REQUIRED in text_of(await empty.text())
        assert (await report_of(console.db, "STP")).review is None
        comment = "Bổ sung ảnh 3x4 rõ nét của bà Lê Thị Mai."
        async with session.post(unit_url + "/tra-lai", data={**fields, "comment": comment}) as returned:
            page = text_of(await returned.text())
        assert texts.REVIEW_RETURNED.format(unit="Sở Tư pháp", contacts=2) in page
        assert texts.STATE_LABELS["returned"] in page and comment in page

        sent: list[tuple[str, str]] = []

        async def sender(chat_id, user_id, text):
            sent.append((chat_id, text))
            return SendResult(True)

        await run_due(console.db, FORM, console.clock(), {"zalo": sender})
        notice = texts.RETURN_NOTICE.format(unit="Sở Tư pháp", title=(await campaign_title(console.db)),
                                            comment=comment)
        assert ["hung", "lan"] == sorted(chat for chat, text in sent if text == notice)
        assert "Sở Nội vụ đề nghị bổ sung" in notice

        async with session.get(console.base + "/console/?state=returned") as board:
            body = text_of(await board.text())
        assert "Sở Tư pháp" in body and "Công an tỉnh" not in body
        assert "Nguyễn Thị Lan (Zalo): đã nhận tin" in body

        # The unit resubmits in the chat, past the deadline: still on time, since the returned version was.
        console.clock.now = DEADLINE + timedelta(hours=2)
        await say(console.service, "lan", "sửa 9")
        await say(console.service, "lan", "1")
        await say(console.service, "lan", "Đã bổ sung ảnh; đề nghị bố trí máy scan.")
        await say(console.service, "lan", "xong")
        assert (await say(console.service, "lan", "nộp")).startswith("Đã nộp báo cáo lúc 18:30 ngày 28/03/2017")
        async with session.get(unit_url) as unit_page:
            body = text_of(await unit_page.text())
        assert texts.STATE_LABELS["submitted"] in body
        assert texts.WEB_DIFF_TITLE.format(old=1, new=2, count=1) in body
        assert "Đã bổ sung ảnh; đề nghị bố trí máy scan." in body
        assert texts.WEB_VERSION_RETURNED in body

        fields = await fields_of(session, unit_url)
        async with session.post(unit_url + "/duyet", data={**fields}) as accepted:
            assert texts.REVIEW_ACCEPTED.format(unit="Sở Tư pháp") in text_of(await accepted.text())
    locked = await say(console.service, "lan", "sửa 9")
    assert texts.READ_ONLY_ACCEPTED in locked
    async with console.db.transaction() as s:
        actions = [(a.action, (a.new or {}).get("officer")) for a in await s.scalars(
            sa.select(AuditLog).where(AuditLog.action.like("review_%")).order_by(AuditLog.id))]
        signins = await s.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                                 .where(AuditLog.action == "web_sign_in"))
    assert [("review_return", "Nguyễn Văn An"), ("review_accept", "Nguyễn Văn An")] == actions
    assert 1 == signins


async def campaign_title(db) -> str:
    async with db.transaction() as s:
        return (await q.current_campaign(s)).title


async def test_console__unit_contact_asks_for_a_sign_in_link__refused_and_no_link_made(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    reply = await say(console.service, "lan", "đăng nhập web")
    assert texts.ADMIN_ONLY.format(command="đăng nhập web") in reply
    assert "/console/" not in reply
    async with console.db.transaction() as s:
        assert 0 == await s.scalar(sa.select(sa.func.count()).select_from(WebLogin))


async def test_console__admin_asks_in_chat__link_signs_in_once(console):
    await bind(console, "an", None, "Nguyễn Văn An")
    reply = await say(console.service, "an", "Đăng nhập web")
    url = re.search(r"http://\S+", reply)[0]
    assert url.startswith(console.base + "/console/dang-nhap/")
    assert "09:10 ngày 27/03/2017" in reply
    async with browser() as session:
        async with session.post(url) as board:
            assert "Nguyễn Văn An" in text_of(await board.text())
            assert 200 == board.status
        # Unbound from the chat: the console session ends with it.
        async with console.db.transaction() as s:
            contact = await q.get_contact(s, "zalo", "an")
            await q.unbind_contact(s, contact, now=NOW, reason="test")
        async with session.get(console.base + "/console/") as page:
            assert 401 == page.status


async def test_console__extend_one_unit__board_shows_it_and_overdue_only_for_the_others(console):
    async with browser() as session:
        await sign_in(session, console)
        unit_url = console.base + "/console/don-vi/CAT"
        fields = await fields_of(session, unit_url)
        async with session.post(unit_url + "/gia-han", data={**fields, "deadline": "bốn giờ"}) as bad:
            assert texts.WEB_DEADLINE_INVALID.format(value="bốn giờ", example=example_deadline()) in text_of(await bad.text())
        async with session.post(unit_url + "/gia-han", data={**fields, "deadline": "30/03/2017 16:30"}) as ok:
            assert texts.EXTENDED.format(unit="Công an tỉnh", deadline="16:30 ngày 30/03/2017") in text_of(await ok.text())
        console.clock.now = DEADLINE + timedelta(hours=1)
        async with session.get(console.base + "/console/?state=overdue") as board:
            body = text_of(await board.text())
    assert "Sở Tư pháp" in body and "Công an tỉnh" not in body


def test_run__no_token__console_served_and_points_to_web_login(tmp_path):
    """`hcc-bot run` without any channel token still serves the console (and says how to sign in)."""
    port = free_port()
    env = {"HCC_DATA_DIR": str(tmp_path / "data"), "HCC_LISTEN": f"127.0.0.1:{port}", "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = []
        while not any("/console/" in line for line in lines):
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line)
        assert any(texts.CLI_RUN_NO_CHANNEL in line for line in lines)

        async def fetch() -> tuple[int, str]:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/console/") as page:
                    return page.status, text_of(await page.text())

        status, body = asyncio.run(fetch())
        assert 401 == status and texts.WEB_SIGNIN_TITLE in body
        login = subprocess.run([sys.executable, "-m", "bot", "web-login", "--json"], cwd=tmp_path, env=env,
                               text=True, capture_output=True, timeout=60)
        assert 0 == login.returncode, login.stderr
        assert f'"url": "http://127.0.0.1:{port}/console/dang-nhap/' in login.stdout
        assert '"expires_at": "' in login.stdout
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert 0 == process.returncode


async def test_console__remind_one_unit_and_all__queued_on_the_reminder_path_with_the_officer(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await bind(console, "binh", "CAT", "Lê Văn Bình")
    async with browser() as session:
        await sign_in(session, console)
        token = await csrf_of(session, console.base + "/console/")
        async with session.post(console.base + "/console/nhac", data={"csrf": token, "unit": "STP"}) as one:
            assert texts.WEB_REMINDED_UNIT.format(unit="Sở Tư pháp", contacts=1) in text_of(await one.text())
        async with console.db.transaction() as s:
            first = [(r.contact_id, r.kind) for r in await s.scalars(sa.select(ReminderSend))]
            lan = await q.get_contact(s, "zalo", "lan")
        assert [(lan.id, "unit")] == first
        console.clock.now += timedelta(seconds=1)
        async with session.post(console.base + "/console/nhac", data={"csrf": token}) as everyone:
            assert texts.REMIND_QUEUED.format(contacts=2, units=2) in text_of(await everyone.text())
        async with session.get(console.base + "/console/") as board:
            assert "Nguyễn Thị Lan (Zalo): đang gửi tin" in text_of(await board.text())
    async with console.db.transaction() as s:
        officers = [(a.new or {}).get("officer") for a in await s.scalars(
            sa.select(AuditLog).where(AuditLog.action == "remind_now"))]
    assert ["Nguyễn Văn An", "Nguyễn Văn An"] == officers


async def test_console__thumbnail_and_unit_document__served_to_officers_only(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    async with browser() as session:
        await sign_in(session, console)
        async with session.get(console.base + "/console/don-vi/STP") as page:
            photo = re.search(r'src="(/console/anh/\d+)"', await page.text())[1]
        async with session.get(console.base + photo) as image:
            assert "image/jpeg" == image.content_type
            assert (354, 472) == Image.open(io.BytesIO(await image.read())).size
        async with session.get(console.base + "/console/don-vi/STP/bao-cao.docx") as document:
            assert 200 == document.status
            assert 'filename="bao-cao_STP.docx"' in document.headers["Content-Disposition"]
            text = "\n".join(p.text for p in docx.Document(io.BytesIO(await document.read())).paragraphs)
            assert "Chưa có trụ sở tạm cho bộ phận một cửa; đề nghị bố trí kinh phí mua máy scan." in text
    async with browser() as stranger:
        async with stranger.get(console.base + photo) as refused:
            assert 401 == refused.status and "image" not in refused.content_type
        async with stranger.get(console.base + "/console/don-vi/STP/bao-cao.docx") as refused:
            assert 401 == refused.status


async def test_console__export_started_from_the_page__progress_then_files_to_download(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    async with browser() as session:
        await sign_in(session, console)
        token = await csrf_of(session, console.base + "/console/xuat")
        async with session.post(console.base + "/console/xuat", data={"csrf": token}) as started:
            assert texts.WEB_NAV_EXPORTS in text_of(await started.text())
        for _ in range(600):
            async with session.get(console.base + "/console/xuat/tinh-trang", headers={"X-Live": "1"}) as live:
                body = await live.text()
            if 'id="export-result"' in body:
                break
            await asyncio.sleep(0.2)
        assert texts.EXPORT_READY.format(count=len(await units_of(console.db))) in text_of(body)
        links = re.findall(r'href="(/console/xuat/tai/[^"]+)"', body)
        assert any(link.endswith(".zip") for link in links) and any(link.endswith(".xlsx") for link in links)
        async with session.get(console.base + next(link for link in links if link.endswith(".zip"))) as archive:
            assert 200 == archive.status and (await archive.read()).startswith(b"PK")
        async with session.get(console.base + "/console/xuat/tai/..%2F..%2Fetc/passwd") as escape:
            assert 404 == escape.status


async def units_of(db) -> list:
    async with db.transaction() as s:
        return await q.list_units(s)


async def test_console__idle_12_hours__signed_out(console, monkeypatch):
    import bot.console.auth as auth_module

    async with browser() as session:
        await sign_in(session, console)
        async with session.get(console.base + "/console/") as page:
            assert 200 == page.status
        later = auth_module.time.time() + 12 * 3600 + 5
        monkeypatch.setattr(auth_module.time, "time", lambda: later)
        async with session.get(console.base + "/console/") as page:
            assert 401 == page.status
            assert texts.WEB_SIGNIN_TITLE in text_of(await page.text())


async def test_console__https_public_address__cookie_secure(db, tmp_path):
    await ensure_units_and_campaign(db, FORM, NOW)
    service = Service(db, FORM, tmp_path / "photos", Clock(NOW))
    app = build_app()
    setup_console(app, service, session_key=os.urandom(32), secure_cookie=True)
    port = free_port()
    runner = await start_app(app, "127.0.0.1", port)
    try:
        console = Console(f"http://127.0.0.1:{port}", service, Clock(NOW), db)
        async with browser() as session:
            async with session.post(await console.link(), allow_redirects=False) as done:
                assert "Secure" in done.headers["Set-Cookie"]
    finally:
        await runner.cleanup()


async def test_extension__unit_submits_after_the_campaign_deadline_but_before_its_own__on_time(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    async with console.db.transaction() as s:
        campaign = await q.current_campaign(s)
        await extend_deadline(s, campaign, "STP", DEADLINE + timedelta(days=2), Officer("An"), NOW)
    console.clock.now = DEADLINE + timedelta(hours=3)
    reply = await submit_full_report(console, "lan")
    assert reply.startswith("Đã nộp báo cáo lúc 19:30 ngày 28/03/2017. Cảm ơn bạn!")
    assert "submitted" == (await report_of(console.db, "STP")).status

    sent: list[tuple[str, str]] = []

    async def sender(chat_id, user_id, text):
        sent.append((chat_id, text))
        return SendResult(True)

    # The overdue notice goes to units past their deadline, not to one whose own deadline is later.
    await bind(console, "binh", "CAT", "Lê Văn Bình")
    async with console.db.transaction() as s:
        campaign = await q.current_campaign(s)
        await extend_deadline(s, campaign, "CAT", DEADLINE + timedelta(days=2), Officer("An"), console.clock())
    await bind(console, "cuc", "CTHUE", "Võ Thị Cúc")
    await run_due(console.db, FORM, console.clock(), {"zalo": sender})
    assert ["cuc"] == sorted({chat for chat, text in sent if "quá hạn" in text.lower() or "QUÁ HẠN" in text})


async def test_chat_review__admin_returns_and_accepts_in_the_chat__same_states_as_the_console(console):
    await bind(console, "an", None, "Nguyễn Văn An")
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    assert texts.REVIEW_NOT_SUBMITTED.format(unit="Công an tỉnh") == await say(console.service, "an", "duyệt CAT")
    assert texts.REVIEW_COMMENT_REQUIRED == await say(console.service, "an", "trả lại STP")
    assert (await report_of(console.db, "STP")).review is None
    assert "Sở Tư pháp" in await say(console.service, "an", "tình hình")  # the states the officer acts on
    reply = await say(console.service, "an", "Trả lại STP: Bổ sung số điện thoại của lãnh đạo.")
    assert texts.REVIEW_RETURNED.format(unit="Sở Tư pháp", contacts=1) == reply
    report = await report_of(console.db, "STP")
    assert ("returned", "Bổ sung số điện thoại của lãnh đạo.", "Nguyễn Văn An") == \
        (report.review, report.review_comment, report.reviewed_by)
    assert texts.RETURNED_REMINDER.format(comment="Bổ sung số điện thoại của lãnh đạo.") in \
        await say(console.service, "lan", "chào bạn")
    console.clock.now += timedelta(seconds=30)
    assert (await say(console.service, "lan", "nộp")).startswith("Đã nộp báo cáo lúc 09:00 ngày 27/03/2017")
    # The unit submitted again after the officer's return: the bot says so before anything is accepted.
    stale = await say(console.service, "an", "duyệt stp")
    assert stale.startswith("Chưa duyệt, không có gì thay đổi: báo cáo của Sở Tư pháp đã thay đổi sau khi bạn xem")
    assert "Nguyễn Thị Lan nộp báo cáo lúc 09:00 ngày 27/03/2017" in stale and stale.endswith(
        texts.REVIEW_CHAT_AGAIN.format(command="“duyệt stp”"))
    assert (await report_of(console.db, "STP")).review is None
    assert texts.REVIEW_ACCEPTED.format(unit="Sở Tư pháp") == await say(console.service, "an", "duyệt stp")
    assert texts.EXTENDED.format(unit="Công an tỉnh", deadline="16:30 ngày 30/03/2017") == \
        await say(console.service, "an", "gia hạn CAT 30/03/2017 16:30")


async def test_console__more_units_than_a_page__pages_with_every_unit_once(console, monkeypatch):
    import bot.console.views as views

    monkeypatch.setattr(views, "PAGE_SIZE", 10)
    names = [u.name for u in await units_of(console.db)]
    seen = []
    async with browser() as session:
        await sign_in(session, console)
        for page in (1, 2, 3):
            async with session.get(console.base + f"/console/?sort=code&trang={page}") as board:
                html = await board.text()
            seen += re.findall(r'<tr data-unit="([A-Z0-9_-]+)"', html)
            if page == 1:
                assert texts.WEB_PAGE.format(first=1, last=10, total=len(names), page=1, pages=3) in text_of(html)
    async with console.db.transaction() as s:
        codes = sorted(u.code for u in await q.list_units(s))
    assert codes == seen


async def test_console__remind_one_unit__other_units_pending_reminders_still_go_out(console):
    """A reminder to one unit replaces only that unit's pending messages, and is not a slot of the plan."""
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await bind(console, "binh", "CAT", "Lê Văn Bình")
    async with browser() as session:
        await sign_in(session, console)
        token = await csrf_of(session, console.base + "/console/")
        async with session.post(console.base + "/console/nhac", data={"csrf": token}) as everyone:
            assert texts.REMIND_QUEUED.format(contacts=2, units=2) in text_of(await everyone.text())
        everyone_at = console.clock.now
        console.clock.now += timedelta(minutes=5)
        async with session.post(console.base + "/console/nhac", data={"csrf": token, "unit": "STP"}) as one:
            assert texts.WEB_REMINDED_UNIT.format(unit="Sở Tư pháp", contacts=1) in text_of(await one.text())
    async with console.db.transaction() as s:
        lan, binh = await q.get_contact(s, "zalo", "lan"), await q.get_contact(s, "zalo", "binh")
        sends = sorted((r.slot_id, r.contact_id, r.state) for r in await s.scalars(sa.select(ReminderSend)))
        campaign = await q.current_campaign(s)
        last_slot = await q.last_reminder_slot_at(s, campaign.id)
    first, second = sorted({slot for slot, _, _ in sends})
    assert [(first, lan.id, q.SEND_EXPIRED), (first, binh.id, q.SEND_PENDING),
            (second, lan.id, q.SEND_PENDING)] == sorted(sends, key=lambda r: (r[0], r[1] != lan.id))
    assert everyone_at == last_slot.replace(tzinfo=timezone.utc)


async def test_review__returned_twice_and_reopened_after_the_deadline__still_on_time_everywhere(console):
    """On time is settled by the first submission: two returns and a reopening, each answered after the deadline,
    leave the report "đã nộp" (on time) in the engine, the board and the exports' label."""
    from bot.board import load_board
    from exports.data import status_label, load_export_data

    await bind(console, "an", None, "Nguyễn Văn An")
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    console.clock.now = DEADLINE + timedelta(hours=1)
    for n in range(2):
        await say(console.service, "an", "tình hình")  # the officer sees the new submission, then returns it
        reply = await say(console.service, "an", f"trả lại STP: Lần {n + 1}: bổ sung số điện thoại.")
        assert texts.REVIEW_RETURNED.format(unit="Sở Tư pháp", contacts=1) == reply
        console.clock.now += timedelta(hours=1)
        assert (await say(console.service, "lan", "nộp")).startswith("Đã nộp báo cáo lúc")
        assert "submitted" == (await report_of(console.db, "STP")).status
    await say(console.service, "an", "tình hình")
    assert texts.REVIEW_ACCEPTED.format(unit="Sở Tư pháp") == await say(console.service, "an", "duyệt STP")
    assert texts.REVIEW_REOPENED.format(unit="Sở Tư pháp") == await say(console.service, "an", "mở lại STP")
    console.clock.now += timedelta(hours=1)
    await say(console.service, "lan", "sửa 9")
    await say(console.service, "lan", "1")
    await say(console.service, "lan", "Đã bổ sung.")
    await say(console.service, "lan", "xong")
    submitted = await say(console.service, "lan", "nộp")
    assert submitted.startswith("Đã nộp báo cáo lúc") and "muộn" not in submitted.lower()
    async with console.db.transaction() as s:
        campaign = await q.current_campaign(s)
        board = await load_board(s, campaign, FORM, console.clock())
    data = await load_export_data(console.db, FORM, now=console.clock())
    row = next(r for r in board.rows if r.code == "STP")
    assert (row.state, row.late) == ("submitted", False)
    assert texts.STATE_LABELS["submitted"] == status_label(data, next(u for u in data.units if u.code == "STP"))


async def test_console__signed_out__a_copy_of_the_cookie_is_refused_too(console):
    async with browser() as session:
        await sign_in(session, console)
        copy = browser()
        copy.cookie_jar.update_cookies({c.key: c.value for c in session.cookie_jar})
        async with copy:
            async with copy.get(console.base + "/console/") as page:
                assert 200 == page.status  # the copy works while the sign-in stands
            token = await csrf_of(session, console.base + "/console/")
            async with session.post(console.base + "/console/dang-xuat", data={"csrf": token}) as out:
                assert texts.WEB_SIGNIN_TITLE in text_of(await out.text())  # back on the sign-in page
            async with copy.get(console.base + "/console/") as page:
                assert 401 == page.status and texts.WEB_SIGNIN_TITLE in text_of(await page.text())
    async with console.db.transaction() as s:
        login = await s.scalar(sa.select(WebLogin))
        actions = [a.action for a in await s.scalars(sa.select(AuditLog).order_by(AuditLog.id))]
    assert login.revoked_at is not None and "web_sign_out" in actions


async def test_console__sign_in_button_pressed_from_another_site__refused_and_link_still_unused(console):
    url = await console.link()
    async with browser() as session:
        async with session.post(url, allow_redirects=False,
                                headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}) as r:
            assert 403 == r.status
        async with session.get(console.base + "/console/") as page:
            assert 401 == page.status
        async with session.post(url, allow_redirects=False,
                                headers={"Origin": console.base, "Sec-Fetch-Site": "same-origin"}) as r:
            assert 303 == r.status  # the same link, pressed on our own page, still signs in


async def test_console__two_campaigns__menu_switches_the_board_and_its_form(console, tmp_path):
    from bot.forms import form_hash, read_form_file
    from tests.test_campaigns import training_form_file

    form, raw = read_form_file(training_form_file(tmp_path))
    async with console.db.transaction() as s:
        cat = await q.get_unit_by_code(s, "CAT")
        second = await q.create_campaign(s, title="Cử cán bộ dự lớp bồi dưỡng", deadline_at=DEADLINE + timedelta(days=7),
                                         form_id=form.id, doc_ref=None, now=NOW, form_snapshot=raw,
                                         form_hash=form_hash(raw), unit_ids=[cat.id])
        first = (await q.list_campaigns(s))[0]
    async with browser() as session:
        await sign_in(session, console)
        async with session.get(console.base + "/console/") as board:
            body = text_of(await board.text())
        assert "Cử cán bộ dự lớp bồi dưỡng" in body and "Công an tỉnh" in body and "Sở Tư pháp" not in body
        token = await csrf_of(session, console.base + "/console/")
        async with session.post(console.base + "/console/dot", data={"csrf": token, "campaign": str(first.id)}) as r:
            body = text_of(await r.text())
        assert first.title in body and "Sở Tư pháp" in body
        async with session.get(console.base + "/console/don-vi/STP") as unit_page:
            assert "I.1. Lãnh đạo phụ trách trực tiếp" in text_of(await unit_page.text())
        async with session.post(console.base + "/console/dot", data={"csrf": token, "campaign": str(second.id)}):
            pass
        async with session.get(console.base + "/console/don-vi/CAT") as unit_page:
            body = text_of(await unit_page.text())
        assert "Danh sách học viên" in body and "I.1. Lãnh đạo phụ trách trực tiếp" not in body
