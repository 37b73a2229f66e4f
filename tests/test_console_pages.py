"""The console shows and hands out what it says: units of the chosen campaign only, line breaks kept, units that
never submitted last when sorting by "Nộp lúc", a contact who wrote to the bot not shown as never reached, and
the security headers on every response. Real HTTP on 127.0.0.1, SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from conversations import texts
from storage import queries as q
from storage.models import AuditLog, Report, ReportVersion
from tests.test_console import (DEADLINE, NOW, bind, browser, console, csrf_of, fields_of, say,  # noqa: F401
                                sign_in, submit_full_report, text_of)

TEMPLATES = Path(__file__).resolve().parents[1] / "bot" / "console" / "templates"


async def second_campaign_for_cat_only(console, tmp_path):
    from bot.forms import form_hash, read_form_file
    from tests.test_campaigns import training_form_file

    form, raw = read_form_file(training_form_file(tmp_path))
    async with console.db.transaction() as s:
        cat = await q.get_unit_by_code(s, "CAT")
        return await q.create_campaign(s, title="Cử cán bộ dự lớp bồi dưỡng", deadline_at=DEADLINE + timedelta(days=7),
                                       form_id=form.id, doc_ref=None, now=NOW, form_snapshot=raw,
                                       form_hash=form_hash(raw), unit_ids=[cat.id])


async def test_console__unit_outside_the_chosen_campaign__page_and_every_action_404_nothing_written(console, tmp_path):
    second = await second_campaign_for_cat_only(console, tmp_path)
    async with browser() as session:
        await sign_in(session, console)
        # The newest campaign (CAT only) is the one shown.
        fields = await fields_of(session, console.base + "/console/don-vi/CAT")
        async with session.get(console.base + "/console/don-vi/STP") as page:
            assert 404 == page.status
            assert texts.REVIEW_NO_UNIT.format(code="STP") == await page.text()
        async with session.get(console.base + "/console/don-vi/STP/bao-cao.docx") as document:
            assert 404 == document.status
        for action, data in (("duyet", {}), ("tra-lai", {"comment": "Bổ sung."}), ("mo-lai", {}),
                             ("gia-han", {"deadline": "30/03/2017 16:30"})):
            async with session.post(console.base + f"/console/don-vi/STP/{action}", data={**fields, **data},
                                    allow_redirects=False) as refused:
                assert 404 == refused.status, action
        async with session.post(console.base + "/console/nhac", data={"csrf": fields["csrf"], "unit": "STP"},
                                allow_redirects=False) as refused:
            assert 404 == refused.status
        async with session.get(console.base + "/console/don-vi/KHONGCO") as page:
            assert 404 == page.status
        async with session.get(console.base + "/console/don-vi/CAT") as page:
            assert 200 == page.status
    async with console.db.transaction() as s:
        reports = await s.scalar(sa.select(sa.func.count()).select_from(Report).where(Report.campaign_id == second.id))
        actions = sorted(a.action for a in await s.scalars(sa.select(AuditLog)))
    assert 0 == reports  # no stray report row for STP
    assert ["web_login_link", "web_sign_in"] == actions  # no review, deadline or reminder written


async def test_console__line_breaks_in_an_answer_and_a_comment__kept_on_the_page(console):
    await bind(console, "an", None, "Nguyễn Văn An")
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    async with console.db.transaction() as s:  # a two-line answer, as a phone's keyboard sends it
        version = await s.scalar(sa.select(ReportVersion))
        key = next(k for k, v in version.answers.items() if str(v).startswith("Chưa có trụ sở tạm"))
        version.answers = {**version.answers, key: "Chưa có trụ sở tạm.\nĐề nghị cấp 60 triệu đồng mua 2 máy scan."}
    await say(console.service, "an", "tình hình")
    await say(console.service, "an", "trả lại STP: Bổ sung ảnh 3x4.\nGhi rõ số điện thoại.")
    async with browser() as session:
        await sign_in(session, console)
        async with session.get(console.base + "/console/don-vi/STP") as page:
            html = await page.text()
    shown = re.findall(r'<(?:span|ins|del) class="lines">([^<]*)</', html)
    assert "Chưa có trụ sở tạm.\nĐề nghị cấp 60 triệu đồng mua 2 máy scan." in shown
    assert "“Bổ sung ảnh 3x4.\nGhi rõ số điện thoại.”" in shown
    css = (TEMPLATES.parent / "static" / "console.css").read_text()
    assert re.search(r"\.lines\s*\{\s*white-space:\s*pre-line;", css)


async def board_order(session, console, direction: str) -> list[str]:
    async with session.get(console.base + f"/console/?sort=submitted&dir={direction}") as board:
        return re.findall(r'<tr data-unit="([A-Z0-9_-]+)"', await board.text())


async def test_console__sort_by_submitted__never_submitted_last_in_both_directions(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await bind(console, "binh", "CAT", "Lê Văn Bình")
    await submit_full_report(console, "lan")
    console.clock.now = NOW + timedelta(hours=1)
    await submit_full_report(console, "binh")
    async with browser() as session:
        await sign_in(session, console)
        ascending = await board_order(session, console, "asc")
        descending = await board_order(session, console, "desc")
    assert ["STP", "CAT"] == ascending[:2]
    assert ["CAT", "STP"] == descending[:2]
    assert ascending[2:] == descending[2:] == sorted(ascending[2:])  # the rest by code, after them
    assert len(ascending) > 20


async def test_console__contact_wrote_to_the_bot_no_reminder_yet__board_says_so(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    async with browser() as session:
        await sign_in(session, console)
        async with session.get(console.base + "/console/") as board:
            body = text_of(await board.text())
    assert f"Nguyễn Thị Lan (Zalo): {texts.WEB_DELIVERY['seen']} 09:00 ngày 27/03/2017" in body
    assert f"Nguyễn Thị Lan (Zalo): {texts.WEB_DELIVERY['none']}" not in body


SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def assert_secure(response, what: str) -> None:
    for name, value in SECURITY.items():
        assert value == response.headers.get(name), (what, name)
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict((d.split(" ", 1) + [""])[:2] for d in (p.strip() for p in policy.split(";")) if d)
    assert "'none'" == directives.get("frame-ancestors"), what
    assert "'self'" == directives.get("script-src"), what
    assert "'self'" == directives.get("style-src"), what
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, what


async def test_console__every_response__security_headers(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    link = await console.link()
    async with browser() as stranger:
        for path in ("/console/", "/console/don-vi/STP", "/console/static/console.js", "/console/static/console.css"):
            async with stranger.get(console.base + path, allow_redirects=False) as r:
                assert_secure(r, path)
        async with stranger.get(link) as r:
            assert_secure(r, "sign-in link")
        async with stranger.post(console.base + "/console/nhac", allow_redirects=False) as r:
            assert 401 == r.status
            assert_secure(r, "401")
    async with browser() as session:
        await sign_in(session, console)
        fields = await fields_of(session, console.base + "/console/don-vi/STP")
        for path in ("/console/", "/console/bang", "/console/don-vi/STP", "/console/don-vi/STP/bao-cao.docx",
                     "/console/xuat", "/console/don-vi/KHONGCO", "/console"):
            async with session.get(console.base + path, allow_redirects=False) as r:
                assert_secure(r, path)
        async with session.post(console.base + "/console/don-vi/STP/duyet", data=fields,
                                allow_redirects=False) as r:
            assert 303 == r.status
            assert_secure(r, "303")
        async with session.post(console.base + "/console/don-vi/STP/duyet", allow_redirects=False) as r:
            assert 403 == r.status
            assert_secure(r, "403")


def test_templates__no_inline_script_style_or_handler():
    """The policy forbids inline code: our one script is a file, and no template carries a style= or on…=."""
    for template in TEMPLATES.glob("*.html"):
        html = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), template.name
        assert not re.search(r"<style\b", html), template.name
        assert not re.search(r"\sstyle\s*=", html), template.name
        assert not re.search(r"\son[a-z]+\s*=", html), template.name
        assert "javascript:" not in html, template.name


async def test_console__remind_from_a_filtered_board__back_on_the_same_filter_never_elsewhere(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    async with browser() as session:
        await sign_in(session, console)
        token = await csrf_of(session, console.base + "/console/?state=not_started")
        for back, expected in (("/console/?state=not_started&sort=name", "/console/?state=not_started&sort=name"),
                               ("//evil.example/console/", "/console/"), ("https://evil.example/", "/console/")):
            async with session.post(console.base + "/console/nhac", data={"csrf": token, "unit": "STP", "back": back},
                                    allow_redirects=False) as r:
                assert (303, expected) == (r.status, r.headers["Location"])


async def test_console__unit_deactivated_after_submitting__its_page_still_opens__one_never_begun_is_gone(console):
    from storage.models import Unit
    await bind(console, "an", None, "Nguyễn Văn An")
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    async with console.db.transaction() as s:
        for code in ("STP", "CTHUE"):
            await q.set_unit_active(s, await s.scalar(sa.select(Unit).where(Unit.code == code)), False)
    async with browser() as session:
        await sign_in(session, console)
        async with session.get(console.base + "/console/don-vi/STP") as page:
            shown = (page.status, "Nguyễn Thị Lan" in await page.text())
        async with session.get(console.base + "/console/don-vi/CTHUE") as page:
            gone = page.status
        async with session.get(console.base + "/console") as page:
            board = text_of(await page.text())
    assert ((200, True), 404) == (shown, gone)
    assert f"Sở Tư pháp ({texts.UNIT_INACTIVE_MARK})" in board and "Cục Thuế tỉnh" not in board
    assert f"Sở Tư pháp – nộp lúc 09:00 ngày 27/03/2017 – {texts.UNIT_INACTIVE_MARK}" in \
        await say(console.service, "an", "tình hình")
    # Its contacts can no longer answer: no return (the unit would be asked for what it cannot send); accepted.
    assert texts.REVIEW_UNIT_INACTIVE.format(unit="Sở Tư pháp", code="STP", action="trả lại") == \
        await say(console.service, "an", "trả lại STP: Bổ sung ảnh.")
    assert texts.REVIEW_ACCEPTED.format(unit="Sở Tư pháp") == await say(console.service, "an", "duyệt STP")
