"""`hcc-bot web-login` and `hcc-bot review …`: the console's sign-in link and its review, from the terminal.

`review show UNIT` prints the report's state and its token ("2.17"); an action given `--expect TOKEN` does
nothing when the report changed since (a colleague's decision, the unit's new submission) and says what
happened, as the console does for a page opened earlier. Without --expect an action is refused, naming the
current state and token; with --force instead it goes only from the state it is meant for (a return never
overwrites an acceptance).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime

import sqlalchemy as sa

from bot import review
from bot.console import console_base_url
from bot.console.auth import create_login
from bot.reminders.plan import PlanError, example_deadline, parse_deadline
from bot.review import Officer
from conversations import texts
from conversations.answers import LOCAL_TZ, format_datetime
from storage import queries as q
from storage.models import Report


class CommandError(Exception):
    """A mistake in a command's arguments or data: one line for the operator, exit code 2."""


def add_console_parsers(sub) -> None:
    web_login = sub.add_parser("web-login", help="in liên kết đăng nhập trang theo dõi, dùng một lần (10 phút)")
    web_login.add_argument("--name", default=texts.CLI_WEB_OFFICER, help="tên ghi vào nhật ký")
    web_login.add_argument("--json", action="store_true")

    review_parser = sub.add_parser("review", help="duyệt, trả lại để bổ sung hoặc mở lại báo cáo của "
                                                  "một đơn vị; gia hạn riêng cho một đơn vị")
    review_sub = review_parser.add_subparsers(dest="action", required=True)
    show = review_sub.add_parser("show", help="trạng thái báo cáo và mã dùng cho --expect")
    show.add_argument("unit", help="mã đơn vị")
    show.add_argument("--json", action="store_true")
    for name, help_text in (("accept", "duyệt báo cáo đơn vị đã nộp (khóa lại)"),
                            ("return", "trả lại để bổ sung; nhận xét gửi tới người liên hệ của đơn vị"),
                            ("reopen", "hủy duyệt"),
                            ("extend", "hạn nộp riêng cho đơn vị này")):
        action = review_sub.add_parser(name, help=help_text)
        action.add_argument("unit", help="mã đơn vị")
        action.add_argument("--name", default=texts.CLI_WEB_OFFICER, help="tên cán bộ ghi vào nhật ký")
        action.add_argument("--expect", metavar="MÃ",
                            help="mã mà `review show` in ra: từ chối nếu báo cáo đã thay đổi từ đó")
        action.add_argument("--force", action="store_true",
                            help="không có --expect: thực hiện trên trạng thái hiện tại (một lần trả lại không "
                                 "bao giờ ghi đè một lần duyệt)")
        if name == "return":
            action.add_argument("--comment", required=True, help="đơn vị cần bổ sung hoặc sửa gì")
        if name == "extend":
            action.add_argument("--deadline", help='"dd/mm/yyyy HH:MM", giờ Việt Nam')
            action.add_argument("--clear", action="store_true", help="về hạn chung của đợt")



async def console_command(args: argparse.Namespace, db, settings, now: datetime) -> int:
    if args.command == "web-login":
        async with db.transaction() as s:
            link = await create_login(s, officer=args.name, contact_id=None, base_url=console_base_url(settings),
                                      now=now)
        if args.json:
            print(json.dumps({"url": link.url, "expires_at": link.expires_at.astimezone(LOCAL_TZ).isoformat(),
                              "officer": args.name}, ensure_ascii=False, indent=2))
        else:
            print(texts.CLI_WEB_LOGIN.format(url=link.url, expires=format_datetime(link.expires_at)))
        return 0
    return await _review(args, db, now)


async def _review(args: argparse.Namespace, db, now: datetime) -> int:
    """`hcc-bot review accept|return|reopen|extend UNIT`: the console's review, from the terminal."""
    officer = Officer(getattr(args, "name", texts.CLI_WEB_OFFICER))
    try:
        async with db.transaction() as s:
            campaign = await q.current_campaign(s)
            if campaign is None:
                raise CommandError(texts.CLI_CAMPAIGN_NONE.format(example=example_deadline()))
            if args.action == "show":
                return await _show(s, campaign, args)
            expect = args.expect
            if not expect and not args.force:  # an action carries what the operator saw, as the console's do
                unit = await review.campaign_unit(s, campaign, args.unit)
                report = await s.scalar(sa.select(Report).where(Report.campaign_id == campaign.id,
                                                                Report.unit_id == unit.id))
                raise CommandError(texts.CLI_REVIEW_EXPECT_NEEDED.format(
                    unit=unit.name, state=texts.STATE_LABELS[review.state_of(report)],
                    token=await review.seen_of(s, report), code=unit.code))
            if args.action == "accept":
                message = await review.accept(s, campaign, args.unit, officer, now, expect=expect)
            elif args.action == "return":
                message = await review.return_report(s, campaign, args.unit, args.comment or "", officer, now,
                                                     expect=expect)
            elif args.action == "reopen":
                message = await review.reopen(s, campaign, args.unit, officer, now, expect=expect)
            else:
                deadline = None if args.clear else parse_deadline(args.deadline or "", texts.WEB_DEADLINE_INVALID)
                message = await review.extend_deadline(s, campaign, args.unit, deadline, officer, now, expect=expect)
    except review.Stale as exc:
        code = args.unit.strip().upper()
        raise CommandError(f"{exc} {texts.CLI_REVIEW_NOW.format(token=exc.current, code=code)}") from None
    except (review.ReviewError, PlanError) as exc:
        raise CommandError(str(exc)) from None
    print(message)
    return 0


async def _show(s, campaign, args: argparse.Namespace) -> int:
    """`hcc-bot review show UNIT`: what an officer decides on, and the token that pins it."""
    unit = await review.campaign_unit(s, campaign, args.unit)
    report = await s.scalar(sa.select(Report).where(Report.campaign_id == campaign.id, Report.unit_id == unit.id))
    seen = await review.seen_of(s, report)
    state = review.state_of(report)
    versions = await q.list_report_versions(s, report.id) if report is not None else []
    last = await review.changes_since(s, report, review.Seen(0, 0), limit=1) if seen.event else None
    if args.json:
        print(json.dumps({"unit": unit.code, "name": unit.name, "campaign": campaign.id, "state": state,
                          "version": seen.version, "token": str(seen), "last_change": last},
                         ensure_ascii=False, indent=2))
        return 0
    version = texts.CLI_REVIEW_VERSION.format(n=versions[-1].version, at=format_datetime(versions[-1].submitted_at)) \
        if versions else texts.CLI_REVIEW_NO_VERSION
    print(texts.CLI_REVIEW_SHOW.format(unit=unit.name, code=unit.code, title=campaign.title,
                                       state=texts.STATE_LABELS[state], version=version,
                                       last=last or texts.CLI_REVIEW_NOTHING_YET, token=seen))
    return 0
