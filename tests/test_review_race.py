"""Two officers, one report: an action taken on what an officer saw earlier changes nothing when the report
changed since, says what happened (who, what, when), and offers the action again on the current state.

Real HTTP on 127.0.0.1 against the console (and real headless Chromium for the two signed-in officers), the CLI's
`hcc-bot review` as the terminal runs it, and the chat's admin commands; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli import build_parser
from bot.cli.console import CommandError, console_command
from bot.review import Officer, Seen, accept
from conversations import texts
from conversations.answers import LOCAL_TZ
from storage import queries as q
from storage.models import AuditLog, ReminderSend, Report, Unit
from tests.test_console import (NOW, bind, browser, console, fields_of, report_of, say, sign_in,  # noqa: F401
                                submit_full_report, text_of)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
SCREENSHOTS = Path(os.environ.get("HCC_SCREENSHOTS") or Path(__file__).resolve().parents[1] / "screenshots")
COMMENT = "Bổ sung ảnh 3x4 của bà Lê Thị Mai.\nGhi rõ số điện thoại của lãnh đạo."


async def notices_queued(db) -> int:
    async with db.transaction() as s:
        return await s.scalar(sa.select(sa.func.count()).select_from(ReminderSend))


async def review_actions(db) -> list[tuple[str, str]]:
    async with db.transaction() as s:
        return [(a.action, (a.new or {}).get("officer")) for a in await s.scalars(
            sa.select(AuditLog).where(AuditLog.action.like("review_%")).order_by(AuditLog.id))]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
async def test_browser__two_officers_stale_page_returns__nothing_changes_b_told_who_accepted_and_acts_again(console):
    from playwright.async_api import async_playwright, expect

    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    assert "Đã nộp báo cáo" in await submit_full_report(console, "lan")
    unit_url = console.base + "/console/don-vi/STP"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            pages, blocked = {}, []  # blocked: what the Content-Security-Policy refused (nothing, we expect)
            for officer, viewport in (("Nguyễn Văn An", {"width": 1280, "height": 900}),
                                      ("Trần Thị Bích", {"width": 390, "height": 844})):
                context = await chromium.new_context(viewport=viewport, locale="vi-VN",
                                                     is_mobile=viewport["width"] < 500)
                page = await context.new_page()
                page.on("console", lambda message: blocked.append(message.text)
                        if "Content Security Policy" in message.text else None)
                await page.goto(await console.link(officer=officer))
                await page.click("#sign-in")
                await expect(page.locator('tr[data-unit="STP"] progress')).to_have_attribute("value", "100")
                await page.goto(unit_url)
                await expect(page.locator("#unit-state")).to_have_text(texts.STATE_LABELS["submitted"])
                pages[officer] = page
            a, b = pages["Nguyễn Văn An"], pages["Trần Thị Bích"]

            console.clock.now = NOW + timedelta(minutes=5)
            await a.click("#accept")
            await expect(a.locator("#unit-state")).to_have_text(texts.STATE_LABELS["accepted"])

            # B, on the page opened before A's decision, returns it with a comment.
            console.clock.now = NOW + timedelta(minutes=7)
            await b.fill("#comment", COMMENT)
            await b.click("#return")
            flash = b.locator("#flash")
            await expect(flash).to_contain_text("Chưa trả lại, không có gì thay đổi")
            await expect(flash).to_contain_text("Nguyễn Văn An duyệt lúc 09:05 ngày 27/03/2017")
            await expect(flash).to_contain_text(f"Trạng thái hiện tại: {texts.STATE_LABELS['accepted']}")
            await expect(b.locator("#unit-state")).to_have_text(texts.STATE_LABELS["accepted"])
            report = await report_of(console.db, "STP")
            assert ("accepted", "Nguyễn Văn An") == (report.review, report.reviewed_by)
            assert 0 == await notices_queued(console.db)  # the unit is told nothing
            assert [("review_accept", "Nguyễn Văn An")] == await review_actions(console.db)
            await b.screenshot(path=str(SCREENSHOTS / "stale-phone.png"), full_page=False)

            # The page now offers the return again, on the accepted report, with B's comment kept.
            assert COMMENT == await b.locator("#comment").input_value()
            await expect(b.locator("#reopen")).to_be_visible()
            await b.click("#return")
            await expect(b.locator("#unit-state")).to_have_text(texts.STATE_LABELS["returned"])
            await expect(b.locator(".warn-box .lines")).to_have_text(f"“{COMMENT}”")
            assert "\n" in await b.locator(".warn-box .lines").inner_text()  # the comment keeps its two lines
            report = await report_of(console.db, "STP")
            assert ("returned", COMMENT, "Trần Thị Bích") == \
                (report.review, report.review_comment, report.reviewed_by)
            assert 1 == await notices_queued(console.db)

            # A's page is stale now: A's reopen changes nothing and A is told about B's return.
            await a.click("#reopen")
            await expect(a.locator("#flash")).to_contain_text(
                "Trần Thị Bích trả lại để bổ sung lúc 09:07 ngày 27/03/2017")
            await expect(a.locator("#unit-state")).to_have_text(texts.STATE_LABELS["returned"])
            await a.screenshot(path=str(SCREENSHOTS / "stale-desktop.png"), full_page=False)
            await a.click("#versions a >> text=" + texts.WEB_VIEW)  # the links work from the refused POST's page
            await expect(a.locator("#report")).to_contain_text(
                texts.WEB_SHOWING_VERSION.format(n=1, at="09:00 ngày 27/03/2017"))
            assert [("review_accept", "Nguyễn Văn An"), ("review_return", "Trần Thị Bích")] == \
                await review_actions(console.db)
            assert [] == blocked
        finally:
            await chromium.close()


async def test_console__unit_resubmits_while_the_page_is_open__accept_refused_naming_the_submission(console):
    await bind(console, "an", None, "Nguyễn Văn An")
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    await say(console.service, "an", "tình hình")
    assert texts.REVIEW_RETURNED.format(unit="Sở Tư pháp", contacts=1) == \
        await say(console.service, "an", "trả lại STP: Bổ sung số điện thoại.")
    async with browser() as session:
        await sign_in(session, console, officer="Trần Thị Bích")
        unit_url = console.base + "/console/don-vi/STP"
        seen_returned = await fields_of(session, unit_url)  # the page shows "cần bổ sung"
        console.clock.now = NOW + timedelta(minutes=30)
        assert (await say(console.service, "lan", "nộp")).startswith("Đã nộp báo cáo lúc 09:30")
        async with session.post(unit_url + "/gia-han", data={**seen_returned, "deadline": "30/03/2017 16:30"}) as r:
            body = text_of(await r.text())
            assert 409 == r.status  # the page as it is now, in the answer to the refused action
        assert "Chưa gia hạn, không có gì thay đổi" in body and "Nguyễn Thị Lan nộp báo cáo lúc 09:30 ngày 27/03/2017" in body
        assert (await report_of(console.db, "STP")).deadline_at is None
        fresh = await fields_of(session, unit_url)
        assert fresh["seen"] != seen_returned["seen"]
        async with session.post(unit_url + "/duyet", data=fresh) as r:
            assert texts.REVIEW_ACCEPTED.format(unit="Sở Tư pháp") in text_of(await r.text())
        # The same page's token again (a second tab, a double click): refused, the acceptance stands.
        async with session.post(unit_url + "/duyet", data=fresh) as r:
            body = text_of(await r.text())
        assert "Trần Thị Bích duyệt lúc 09:30 ngày 27/03/2017" in body
    assert [("review_return", "Nguyễn Văn An"), ("review_accept", "Trần Thị Bích")] == \
        await review_actions(console.db)


async def test_console__page_without_its_token__refused_and_nothing_changes(console):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    async with browser() as session:
        await sign_in(session, console)
        unit_url = console.base + "/console/don-vi/STP"
        fields = await fields_of(session, unit_url)
        async with session.post(unit_url + "/duyet", data={"csrf": fields["csrf"]}) as r:
            assert texts.REVIEW_EXPECT_MISSING in text_of(await r.text())
    assert (await report_of(console.db, "STP")).review is None


def cli(*argv: str):
    return build_parser().parse_args(list(argv))


async def test_cli__token_from_review_show_then_a_colleague_accepts__return_refused_and_told(console, capsys):
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    db, settings = console.db, None
    assert 0 == await console_command(cli("review", "show", "stp"), db, settings, console.clock())
    shown = capsys.readouterr().out
    assert f"Trạng thái: {texts.STATE_LABELS['submitted']}" in shown and "bản 1, nộp lúc" in shown
    token = shown.split("--expect ")[-1].strip().rstrip(")")
    Seen.parse(token)

    # A colleague accepts in the console between the operator's read and write.
    async with db.transaction() as s:
        await accept(s, await q.current_campaign(s), "STP", Officer("Nguyễn Văn An"), NOW + timedelta(minutes=3))
    with pytest.raises(CommandError) as refused:
        await console_command(cli("review", "return", "STP", "--comment", "Bổ sung ảnh.", "--expect", token,
                                  "--name", "Lê Văn Cường"), db, settings, console.clock())
    message = str(refused.value)
    assert "\n" not in message  # one line for the operator
    assert "Chưa trả lại, không có gì thay đổi" in message and "Nguyễn Văn An duyệt lúc 09:03 ngày 27/03/2017" in message
    new_token = message.split("Mã trạng thái hiện tại: ")[1].split(" ")[0]
    assert new_token != token
    # Without --expect nothing is done: the state and its token are named.
    with pytest.raises(CommandError) as refused:
        await console_command(cli("review", "return", "STP", "--comment", "Bổ sung ảnh."), db, settings,
                              console.clock())
    assert texts.CLI_REVIEW_EXPECT_NEEDED.format(unit="Sở Tư pháp", state="đã duyệt", token=new_token,
                                                 code="STP") == str(refused.value)
    # With --force a return does not overwrite an acceptance either.
    with pytest.raises(CommandError) as refused:
        await console_command(cli("review", "return", "STP", "--comment", "Bổ sung ảnh.", "--force"), db, settings,
                              console.clock())
    assert texts.REVIEW_RETURN_ACCEPTED.format(unit="Sở Tư pháp", officer="Nguyễn Văn An",
                                               at="09:03 ngày 27/03/2017", code="STP") == str(refused.value)
    assert 0 == await notices_queued(db)
    assert "accepted" == (await report_of(db, "STP")).review
    # With the current token the operator's decision goes through.
    assert 0 == await console_command(cli("review", "return", "STP", "--comment", "Bổ sung ảnh.", "--expect",
                                          new_token, "--name", "Lê Văn Cường"), db, settings, console.clock())
    assert texts.REVIEW_RETURNED.format(unit="Sở Tư pháp", contacts=1) in capsys.readouterr().out
    assert ("returned", "Lê Văn Cường") == ((r := await report_of(db, "STP")).review, r.reviewed_by)
    with pytest.raises(CommandError) as bad:
        await console_command(cli("review", "accept", "STP", "--expect", "hôm qua"), db, settings, console.clock())
    assert texts.REVIEW_EXPECT_INVALID.format(value="hôm qua") == str(bad.value)


async def test_cli__two_operators_at_once_with_the_same_token__exactly_one_succeeds(console, capsys):
    """The compare-and-set is atomic: two concurrent actions on the same token, one wins, one is told."""
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    await console_command(cli("review", "show", "STP", "--json"), console.db, None, console.clock())
    import json
    token = json.loads(capsys.readouterr().out)["token"]

    async def act(argv):
        try:
            return await console_command(cli(*argv), console.db, None, console.clock())
        except CommandError as exc:
            return str(exc)

    results = await asyncio.gather(
        act(["review", "accept", "STP", "--expect", token, "--name", "An"]),
        act(["review", "return", "STP", "--comment", "Bổ sung.", "--expect", token, "--name", "Bích"]))
    assert 1 == results.count(0), results
    assert 1 == sum(isinstance(r, str) and "không có gì thay đổi" in r for r in results), results
    assert 1 == len(await review_actions(console.db))


async def test_chat__officer_returns_after_a_colleague_accepted__told_who_and_when_then_acts_on_the_state_now(console):
    await bind(console, "an", None, "Nguyễn Văn An")
    await bind(console, "binh", None, "Lê Văn Bình")
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    for officer in ("binh", "an"):  # both read the list: Sở Tư pháp submitted
        assert "Sở Tư pháp" in await say(console.service, officer, "tình hình")
    assert texts.REVIEW_ACCEPTED.format(unit="Sở Tư pháp") == await say(console.service, "an", "duyệt STP")
    reply = await say(console.service, "binh", "trả lại STP: Bổ sung ảnh.")
    assert reply.startswith("Chưa trả lại, không có gì thay đổi: báo cáo của Sở Tư pháp đã thay đổi sau khi bạn xem")
    assert "Nguyễn Văn An duyệt lúc 09:00 ngày 27/03/2017" in reply and "Trạng thái hiện tại: đã duyệt" in reply
    assert reply.endswith(texts.REVIEW_CHAT_AGAIN.format(command="“trả lại STP: Bổ sung ảnh.”"))
    assert "accepted" == (await report_of(console.db, "STP")).review
    assert 0 == await notices_queued(console.db)
    # Told of the acceptance, the officer sends it again: it acts on the state they now know.
    assert texts.REVIEW_RETURNED.format(unit="Sở Tư pháp", contacts=1) == \
        await say(console.service, "binh", "trả lại STP: Bổ sung ảnh.")
    assert ("returned", "Lê Văn Bình") == ((r := await report_of(console.db, "STP")).review, r.reviewed_by)
    # A long comment on several lines is never quoted back cut: "send the same message again".
    long_comment = "trả lại STP: Bổ sung:\n" + "- ảnh 3x4 của nhân sự chính thứ hai, nền trắng, rõ mặt;\n" * 3
    await bind(console, "cuong", None, "Trần Văn Cường")
    reply = await say(console.service, "cuong", long_comment)
    assert reply.endswith(texts.REVIEW_CHAT_CONFIRM.split("{command}")[0][-20:] + texts.REVIEW_CHAT_SAME_MESSAGE
                          + texts.REVIEW_CHAT_CONFIRM.split("{command}")[1]) and "nền trắng" not in reply


async def test_chat__officer_who_was_shown_nothing__told_the_state_first__a_colleagues_extension_never_overwritten(
        console):
    await bind(console, "an", None, "Nguyễn Văn An")
    await bind(console, "binh", None, "Lê Văn Bình")
    await bind(console, "lan", "STP", "Nguyễn Thị Lan")
    await submit_full_report(console, "lan")
    # Nothing of Sở Tư pháp shown to this officer in the chat yet: the bot says its state and does nothing.
    reply = await say(console.service, "an", "duyệt STP")
    assert texts.REVIEW_CHAT_CONFIRM.format(unit="Sở Tư pháp", state="đã nộp",
                                            changes="Nguyễn Thị Lan nộp báo cáo lúc 09:00 ngày 27/03/2017",
                                            command="“duyệt STP”") == reply
    assert (await report_of(console.db, "STP")).review is None
    assert texts.REVIEW_ACCEPTED.format(unit="Sở Tư pháp") == await say(console.service, "an", "duyệt STP")
    # Two officers extend one unit: the second is told of the first's extension instead of overwriting it.
    for officer in ("an", "binh"):
        assert "Công an tỉnh" in await say(console.service, officer, "tình hình")
    assert texts.EXTENDED.format(unit="Công an tỉnh", deadline="16:30 ngày 30/03/2017") == \
        await say(console.service, "an", "gia hạn CAT 30/03/2017 16:30")
    reply = await say(console.service, "binh", "gia hạn CAT 29/03/2017 16:30")
    assert reply.startswith("Chưa gia hạn, không có gì thay đổi") and "Nguyễn Văn An đổi hạn riêng lúc" in reply
    async with console.db.transaction() as s:
        unit = await s.scalar(sa.select(Unit).where(Unit.code == "CAT"))
        report = await s.scalar(sa.select(Report).where(Report.unit_id == unit.id))
    assert "30/03/2017 16:30" == report.deadline_at.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")
