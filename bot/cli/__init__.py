"""The `hcc-bot` command line, entry point `main`; each command group in its own module (units, contacts, ...)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path

from bot.admin import status_rows
from bot.bootstrap import ensure_units_and_campaign, setup_steps
from bot.cli.campaign import CampaignCommandError, add_campaign_parsers, campaign_command
from bot.cli.console import CommandError, add_console_parsers, console_command
from bot.cli.ops import OPS_COMMANDS, add_ops_parsers, ops_command
from bot.cli.contacts import add_contacts_parsers, contacts_command, invite_command
from bot.cli.parser import ArgumentParser
from bot.cli.units import add_units_parsers, units_command
from bot.forms import form_of
from bot.logs import setup_logging
from bot.reminders.control import change_deadline, change_plan, plan_text, preview_text
from bot.reminders.plan import PlanError, example_deadline, future_deadline, parse_deadline as parse_plan_deadline
from bot.reminders.scheduler import queue_now
from bot.runner import FatalChannelError, check_workers, run_bot, run_workers
from bot.service import Service, utc_now
from bot.settings import (SETTINGS_HELP, ConfigError, Settings, load_settings, load_settings_form,
                          prepare_data_dir)
from bot.channels.terminal import run_demo
from conversations import texts
from conversations.answers import LOCAL_TZ, format_datetime
from conversations.form import Form, FormError
from storage import queries as q
from storage.db import Database, DatabaseUnavailable, open_database

DEMO_UNIT = "STP"
log = logging.getLogger(__name__)


def version() -> str:
    """The installed package's version (pyproject.toml's when installed from the repository)."""
    try:
        return metadata.version("hcc-bot")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="hcc-bot",
        description="Bot Zalo/Telegram thu thập báo cáo thành lập Trung tâm hành chính công tỉnh.",
        epilog="Cấu hình (biến môi trường hoặc tệp .env): " + "; ".join(f"{k}: {v}" for k, v in SETTINGS_HELP.items()),
    )
    parser.add_argument("--version", action="version", version=f"hcc-bot {version()}",
                        help="in phiên bản rồi thoát")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="trò chuyện trong cửa sổ lệnh như người liên hệ của một đơn vị mẫu "
                                       "(không cần token; dữ liệu riêng trong HCC_DATA_DIR/demo)")
    demo.add_argument("--unit", default=DEMO_UNIT, help=f"mã đơn vị (mặc định {DEMO_UNIT})")

    run = sub.add_parser("run", help="chạy bot: mọi kênh có token, trang theo dõi trên web, nhắc hạn")
    run.add_argument("--workers", type=int, default=1,
                     help="số tiến trình bot dùng chung HCC_LISTEN (chỉ với PostgreSQL và webhook; mặc định 1)")
    add_units_parsers(sub)
    add_contacts_parsers(sub)
    add_campaign_parsers(sub)

    remind = sub.add_parser("remind", help="nhắc hạn: xem trước, gửi ngay, hoặc xem/đổi lịch nhắc")
    remind.add_argument("--preview", action="store_true", help="ai sẽ được nhắc lúc này (mặc định)")
    remind.add_argument("--now", action="store_true", help="nhắc ngay mọi đơn vị chưa nộp")
    remind.add_argument("--campaign", type=int, default=None, help="số đợt (mặc định: đợt mới nhất đang mở)")
    plan = remind.add_subparsers(dest="action", metavar="plan").add_parser("plan", help="xem hoặc đổi lịch nhắc")
    plan.add_argument("--slots", help='ví dụ "-1 08:00, 08:00, 14:30, 16:00" (-1: ngày trước hạn)')
    plan.add_argument("--quiet", help='giờ không nhắc, ví dụ "21:00-07:00", hoặc "không"')
    plan.add_argument("--catch-up", type=int, help="số phút một thông báo quá hạn lỡ giờ vẫn được gửi (ít nhất "
                                                   "24 giờ); các lần nhắc lỡ khác gửi đến lần kế tiếp")
    plan.add_argument("--overdue-after", type=int, help="số phút sau hạn thì gửi thông báo quá hạn")

    status = sub.add_parser("status", help="tình hình nộp của từng đơn vị trong đợt hiện tại")
    status.add_argument("--json", action="store_true", help="in dạng JSON")
    status.add_argument("--campaign", type=int, default=None, help="số đợt (mặc định: đợt mới nhất đang mở)")

    export = sub.add_parser("export", help="xuất bảng tổng hợp, ảnh, thẻ và văn bản cho Sở Nội vụ")
    export.add_argument("--out", type=Path, required=True, help="thư mục ghi ra")
    export.add_argument("--campaign", type=int, default=None, help="số đợt (mặc định: đợt hiện tại)")
    export.add_argument("--units", default=None, help="chỉ các mã đơn vị này, cách nhau bằng dấu phẩy")
    export.add_argument("--no-zip", action="store_true", help="không ghi thêm tệp nén của thư mục")

    purge = sub.add_parser("purge", help="xóa ảnh và thông tin cá nhân của một đợt đã xong")
    purge.add_argument("--campaign", type=int, required=True, help="số đợt")
    purge.add_argument("--yes", action="store_true", help="không hỏi lại")

    add_console_parsers(sub)
    add_ops_parsers(sub)

    reopen = sub.add_parser("reopen", help="cho một đơn vị sửa và nộp sau hạn")
    reopen.add_argument("unit", help="mã đơn vị")
    reopen.add_argument("--close", action="store_true", help="khóa lại (chỉ xem)")
    reopen.add_argument("--campaign", type=int, default=None, help="số đợt (mặc định: đợt mới nhất đang mở)")
    return parser


def parse_deadline(value: str) -> datetime:
    """'28/03/2017 16:30' in Asia/Ho_Chi_Minh as an aware datetime."""
    try:
        return datetime.strptime(value.strip(), "%d/%m/%Y %H:%M").replace(tzinfo=LOCAL_TZ)
    except ValueError:
        raise CommandError(texts.CLI_DEADLINE_INVALID.format(value=value, example=example_deadline())) from None


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(LOCAL_TZ).isoformat() if dt else None


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def demo_settings(settings: Settings) -> Settings:
    """The demo plays on its own embedded SQLite under <data>/demo, never in the real campaign's database."""
    data_dir = settings.data_dir / "demo"
    return dataclasses.replace(settings, data_dir=data_dir,
                               database_url=f"sqlite+aiosqlite:///{data_dir / 'hcc.db'}")


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    form = load_settings_form(settings)
    if args.command == "demo":
        settings = demo_settings(settings)
    prepare_data_dir(settings)  # 0700 / 0600, whatever the umask or an older version left
    db = await open_database(settings.database_url)
    try:
        now = utc_now()
        if args.command == "demo":  # the demo's own database: the sample units and campaign
            await ensure_units_and_campaign(db, form, now)
        service = Service(db, form, settings.photos_dir, export_dir=settings.data_dir / "exports",
                          province=settings.province)
        if args.command == "demo":
            await run_demo(service, args.unit, sys.stdin, sys.stdout)
            return 0
        if args.command == "run":
            if not settings.zalo_token and not settings.telegram_token:
                print(texts.CLI_RUN_NO_CHANNEL, flush=True)  # the console alone still serves the department
            await db.dispose()
            if args.workers == 1:  # several: started by main() once the database is migrated and seeded here
                await run_bot(settings)
            return 0
        if args.command == "export":
            return await _export(args, db, form, now, settings.province)
        if args.command in ("web-login", "review"):
            return await console_command(args, db, settings, now)
        if args.command == "purge":
            return await _purge(args, db, form, now, settings.data_dir / "exports")
        return await _admin_command(args, db, form, now)
    finally:
        await db.dispose()


async def _admin_command(args: argparse.Namespace, db: Database, form, now: datetime) -> int:
    async with db.transaction() as s:
        if args.command == "units":
            return await units_command(s, args, now)
        elif args.command == "invite":
            return await invite_command(s, args, now)
        elif args.command == "contacts":
            return await contacts_command(s, args, now)
        elif args.command == "remind" or (args.command == "campaign" and args.action == "deadline"):
            try:
                print(await remind_command(s, form, args, now))
            except PlanError as exc:
                raise CommandError(str(exc)) from None
        elif args.command == "campaign":
            deadline = None
            if args.action == "create":
                deadline = _future(parse_deadline(args.deadline), args, now)
            try:
                await campaign_command(s, args, form, form.path, now, deadline)
            except CampaignCommandError as exc:
                raise CommandError(str(exc)) from None
        elif args.command == "status":
            return await _status(s, args, form, now)
        elif args.command == "reopen":
            unit = await q.get_unit_by_code(s, args.unit)
            if unit is None:
                raise CommandError(texts.CLI_UNIT_UNKNOWN.format(code=args.unit))
            campaign = await _campaign_of(s, args)
            if campaign.closed_at is not None:
                raise CommandError(texts.REVIEW_CAMPAIGN_CLOSED.format(title=campaign.title))
            report = await q.get_or_create_report(s, campaign_id=campaign.id, unit_id=unit.id, now=now, for_update=True)
            report.reopened = not args.close
            await q.add_audit(s, at=now, action="close" if args.close else "reopen", report_id=report.id)
            print((texts.CLI_CLOSED if args.close else texts.CLI_REOPENED).format(unit=unit.name))
    return 0


def _future(deadline: datetime, args, now: datetime) -> datetime:
    """A deadline already passed is refused unless --force (a mistyped year would move it years back)."""
    try:
        return future_deadline(deadline, now, force=args.force, message=texts.CLI_DEADLINE_PAST)
    except PlanError as exc:
        raise CommandError(str(exc)) from None


async def _status(s, args, form: Form, now: datetime) -> int:
    steps = None if args.campaign else await setup_steps(s)
    if steps is not None:  # an empty installation: what to do next, not an empty board
        if args.json:
            _print_json({"campaign": None, "units": [], "next_steps": steps})
        else:
            print("\n".join([texts.SETUP_TITLE + ".", texts.SETUP_NEXT,
                             *(f"  {n}. {step}" for n, step in enumerate(steps, 1))]))
        return 0
    campaign = await _campaign_of(s, args)
    rows = await status_rows(s, form_of(campaign, form), campaign, now)
    # A deactivated unit is on the board for the report it began (q.shows_unit): marked, never left out.
    inactive = {u.code for u in await q.list_units(s, active_only=False) if not u.active}
    if args.json:
        _print_json({"campaign": {"id": campaign.id, "title": campaign.title,
                                  "deadline_at": _iso(campaign.deadline_at)},
                     "units": [{**r, "active": r["code"] not in inactive, "submitted_at": _iso(r["submitted_at"]),
                                "last_activity_at": _iso(r["last_activity_at"]),
                                "deadline_at": _iso(r["deadline_at"])}
                               for r in rows]})
        return 0
    print(texts.STATUS_HEADER.format(
        title=campaign.title, deadline=format_datetime(campaign.deadline_at),
        submitted=sum(r["state"] in ("submitted", "submitted_late", "accepted") for r in rows), total=len(rows)))
    for r in rows:
        when = r["submitted_at"] or r["last_activity_at"]
        print(f"{r['code']:<10} {texts.STATE_LABELS[r['state']]:<14} "
              f"{format_datetime(when) if when else '':<22} {r['name']}"
              + (f" – {texts.UNIT_INACTIVE_MARK}" if r["code"] in inactive else ""))
    return 0


async def _campaign_of(s, args):
    """The campaign `--campaign ID` names, else the newest open one."""
    wanted = getattr(args, "campaign", None)
    campaign = await (q.get_campaign(s, wanted) if wanted else q.current_campaign(s))
    if campaign is None:
        raise CommandError(texts.CLI_CAMPAIGN_UNKNOWN.format(id=wanted) if wanted else texts.CLI_CAMPAIGN_NONE.format(example=example_deadline()))
    return campaign


async def remind_command(s, form: Form, args, now: datetime) -> str:
    """`hcc-bot remind [--now|--preview]`, `hcc-bot remind plan [...]`, `hcc-bot campaign deadline "..."`."""
    campaign = await _campaign_of(s, args)
    form = form_of(campaign, form)
    if args.command == "campaign":
        deadline = _future(parse_plan_deadline(args.value, texts.CLI_DEADLINE_INVALID), args, now)
        changed = await change_deadline(s, campaign, deadline, now)
        return changed + "\n\n" + await plan_text(s, campaign, now)
    if getattr(args, "action", None) == "plan":
        options = {"slots": args.slots, "quiet": args.quiet, "catch_up_minutes": args.catch_up,
                   "overdue_after_minutes": args.overdue_after}
        if any(v is not None for v in options.values()):
            await change_plan(s, campaign, now, **options)
            return texts.PLAN_CHANGED + "\n\n" + await plan_text(s, campaign, now)
        return await plan_text(s, campaign, now)
    if args.now:
        fired = await queue_now(s, campaign, now)
        return texts.CLI_REMIND_QUEUED.format(contacts=fired.contacts, units=fired.units)
    return await preview_text(s, form, campaign, now, confirm=texts.CLI_REMIND_CONFIRM)


async def _export(args: argparse.Namespace, db: Database, form, now: datetime, province: str | None) -> int:
    from exports.build import build_export
    from exports.data import load_export_data

    async with db.transaction() as s:
        campaign = await _campaign_of(s, args)
        codes = [c.strip() for c in args.units.split(",") if c.strip()] if args.units else None
        for code in codes or []:
            if await q.get_unit_by_code(s, code) is None:
                raise CommandError(texts.CLI_UNIT_UNKNOWN.format(code=code))
    data = await load_export_data(db, form_of(campaign, form), now=now, campaign_id=campaign.id, unit_codes=codes,
                                  province=province)
    tty = sys.stderr.isatty()

    def progress(step: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        line = texts.CLI_EXPORT_PROGRESS.format(done=done, total=total, step=texts.EXPORT_STEPS.get(step, step))
        if tty:
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {line}\033[K", end="", file=sys.stderr, flush=True)
        elif done == total:
            print(line, file=sys.stderr)

    result = await asyncio.to_thread(build_export, data, args.out, campaign_id=campaign.id,
                                     make_zip=not args.no_zip, progress=progress)
    if tty:
        print(file=sys.stderr)
    async with db.transaction() as s:
        await q.add_audit(s, at=now, action="export", new={"folder": result.folder.name, "units": len(data.units)})
    log.info("export done: campaign %s, %s units, %s (command line)", campaign.id, len(data.units), result.folder.name)
    print(texts.CLI_EXPORT_DONE.format(units=len(data.units), folder=result.folder))
    for path in result.files():
        print(f"  {path.relative_to(result.folder.parent)}")
    for note in result.notes:  # what could not be made (the report's PDF without LibreOffice), never silent
        print(note, file=sys.stderr)
    return 0


async def _purge(args: argparse.Namespace, db: Database, form, now: datetime, export_dir: Path) -> int:
    from bot.purge import purge_campaign

    async with db.transaction() as s:
        campaign = await q.get_campaign(s, args.campaign)
    if campaign is None:
        raise CommandError(texts.CLI_CAMPAIGN_UNKNOWN.format(id=args.campaign))
    if now <= campaign.deadline_at:
        raise CommandError(texts.CLI_PURGE_NOT_FINISHED.format(id=campaign.id,
                                                               deadline=format_datetime(campaign.deadline_at)))
    if not args.yes:
        print(texts.CLI_PURGE_CONFIRM.format(id=campaign.id, title=campaign.title), end="", flush=True)
        answer = sys.stdin.readline().strip()
        if answer.upper() != texts.CLI_PURGE_CONFIRM_WORD:
            print(texts.CLI_PURGE_ABORTED)
            return 1
    summary = await purge_campaign(db, form_of(campaign, form), campaign.id, now=now, export_dir=export_dir)
    print(texts.CLI_PURGE_DONE.format(**summary.__dict__))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hcc-bot` console script and `python -m bot`."""
    args = build_parser().parse_args(argv)
    try:
        if args.command in OPS_COMMANDS:  # doctor reads the settings itself: a wrong one is one of its lines
            return asyncio.run(ops_command(args))
        settings = load_settings()
        setup_logging(settings.log_level, settings.log_format)
        several = args.command == "run" and args.workers != 1
        if several:
            check_workers(settings, args.workers)
        code = asyncio.run(_run(args, settings))
        return run_workers(settings, args.workers) if several and code == 0 else code
    except ConfigError as exc:
        print(texts.CLI_CONFIG_ERROR.format(problem=exc), file=sys.stderr)
    except FormError as exc:
        print(texts.CLI_FORM_ERROR.format(problem=exc), file=sys.stderr)
    except DatabaseUnavailable as exc:
        print(texts.CLI_DATABASE_ERROR.format(problem=exc), file=sys.stderr)
    except FatalChannelError as exc:
        print(texts.CLI_CONFIG_ERROR.format(problem=exc), file=sys.stderr)
    except (CommandError, LookupError) as exc:
        print(exc.args[0] if exc.args else exc, file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
