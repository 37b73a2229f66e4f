"""The `hcc-bot` command line: demo, run, units, invite, contacts, campaign, status, reopen."""

from __future__ import annotations

import argparse
import dataclasses
import asyncio
import json
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path

from bot.admin import status_rows
from bot.cli.campaign import CampaignCommandError, add_campaign_parsers, campaign_command
from bot.forms import form_of
from bot.cli.console import CommandError, add_console_parsers, console_command
from bot.bootstrap import ensure_units_and_campaign
from bot.files import secure_data_dir
from bot.runner import FatalChannelError, check_workers, run_bot, run_workers
from bot.reminders.control import change_deadline, change_plan, plan_text, preview_text
from bot.reminders.plan import PlanError, parse_deadline as parse_plan_deadline
from bot.reminders.scheduler import queue_now
from bot.service import Service, utc_now
from bot.settings import SETTINGS_HELP, ConfigError, Settings, load_settings
from bot.channels.terminal import run_demo
from conversations import texts
from conversations.answers import LOCAL_TZ, format_datetime
from conversations.form import Form, FormError, load_form
from storage import queries as q
from storage.db import Database, DatabaseUnavailable, open_database

DEMO_UNIT = "STP"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hcc-bot",
        description="Zalo/Telegram bot thu thập báo cáo thành lập Trung tâm hành chính công tỉnh.",
        epilog="Settings (environment or .env): " + "; ".join(f"{k}: {v}" for k, v in SETTINGS_HELP.items()),
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="chat in the terminal as a contact of a sample unit (no token needed)")
    demo.add_argument("--unit", default=DEMO_UNIT, help=f"unit code (default {DEMO_UNIT})")

    run = sub.add_parser("run", help="start every channel whose token is set")
    run.add_argument("--workers", type=int, default=1,
                     help="bot processes sharing HCC_LISTEN (PostgreSQL and webhooks only; default 1)")

    units = sub.add_parser("units", help="import or list units").add_subparsers(dest="action", required=True)
    imp = units.add_parser("import", help="import or update units from a CSV file with columns code,name")
    imp.add_argument("file", type=Path)
    lst = units.add_parser("list", help="list units")
    lst.add_argument("--json", action="store_true")

    invite = sub.add_parser("invite", help="print an invite code for a unit (or --admin)")
    invite.add_argument("unit", nargs="?", help="unit code")
    invite.add_argument("--admin", action="store_true", help="an invite for a Sở Nội vụ officer")
    invite.add_argument("--days", type=int, default=14, help="valid for this many days (default 14)")
    invite.add_argument("--uses", type=int, default=None, help="how many people may use it (default 3, admin 1)")
    invite.add_argument("--revoke", metavar="CODE", help="revoke an invite code (an admin code also removes the "
                                                          "admins bound with it)")
    invite.add_argument("--unbind", action="store_true", help="with --revoke: also remove the unit contacts bound "
                                                              "with the code")
    invite.add_argument("--json", action="store_true")

    contacts = sub.add_parser("contacts", help="list or remove the people bound to units or as admins")
    contacts_sub = contacts.add_subparsers(dest="action", required=True)
    contacts_list = contacts_sub.add_parser("list", help="who is bound: name, channel, role, unit, since, last seen")
    contacts_list.add_argument("--unit", metavar="CODE", help="only the contacts of this unit")
    contacts_list.add_argument("--json", action="store_true")
    contacts_remove = contacts_sub.add_parser("remove", help="unbind a person (their next message gets the invite "
                                                             "prompt)")
    contacts_remove.add_argument("id", type=int, help="the ID shown by `contacts list`")

    add_campaign_parsers(sub)

    remind = sub.add_parser("remind", help="deadline reminders: preview, send now, or show/change the plan")
    remind.add_argument("--preview", action="store_true", help="who would be reminded now (the default)")
    remind.add_argument("--now", action="store_true", help="queue reminders for every unit not submitted")
    remind.add_argument("--campaign", type=int, default=None, help="campaign id (default: the newest open one)")
    plan = remind.add_subparsers(dest="action").add_parser("plan", help="show or change the reminder plan")
    plan.add_argument("--slots", help='e.g. "-1 08:00, 08:00, 14:30, 16:00" (-1: the day before the due day)')
    plan.add_argument("--quiet", help='quiet hours without reminders, e.g. "21:00-07:00", or "không"')
    plan.add_argument("--catch-up", type=int, help="minutes a missed overdue notice may still be sent (at least 24 h); other missed slots go out until the next slot")
    plan.add_argument("--overdue-after", type=int, help="minutes after the deadline for the overdue notice")

    status = sub.add_parser("status", help="each unit's state in the current campaign")
    status.add_argument("--json", action="store_true")
    status.add_argument("--campaign", type=int, default=None, help="campaign id (default: the newest open one)")

    export = sub.add_parser("export", help="write the workbook, photos, badges and documents for Sở Nội vụ")
    export.add_argument("--out", type=Path, required=True, help="folder to write into")
    export.add_argument("--campaign", type=int, default=None, help="campaign id (default: the current one)")
    export.add_argument("--units", default=None, help="only these unit codes, comma-separated")
    export.add_argument("--no-zip", action="store_true", help="do not also write a zip of the folder")

    purge = sub.add_parser("purge", help="remove photos and personal fields of a finished campaign")
    purge.add_argument("--campaign", type=int, required=True, help="campaign id")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    add_console_parsers(sub)

    reopen = sub.add_parser("reopen", help="let a unit edit and submit after the deadline")
    reopen.add_argument("unit")
    reopen.add_argument("--close", action="store_true", help="make it read-only again")
    reopen.add_argument("--campaign", type=int, default=None, help="campaign id (default: the newest open one)")
    return parser


def parse_deadline(value: str) -> datetime:
    """'28/03/2017 16:30' in Asia/Ho_Chi_Minh as an aware datetime."""
    try:
        return datetime.strptime(value.strip(), "%d/%m/%Y %H:%M").replace(tzinfo=LOCAL_TZ)
    except ValueError:
        raise CommandError(texts.CLI_DEADLINE_INVALID.format(value=value)) from None


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
    form = load_form(settings.form_path)
    if args.command == "demo":
        settings = demo_settings(settings)
    secure_data_dir(settings.data_dir)  # 0700 / 0600, whatever the umask or an older version left
    db = await open_database(settings.database_url)
    try:
        now = utc_now()
        bootstrap = not (args.command == "units" and args.action == "import") and \
            not (args.command == "campaign" and args.action == "create")
        if bootstrap:
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
        if args.command == "units" and args.action == "import":
            try:
                rows = q.read_units_csv(args.file)
            except (OSError, ValueError) as exc:
                raise CommandError(str(exc)) from None
            created, updated = await q.upsert_units(s, rows, now=now)
            print(texts.CLI_UNITS_IMPORTED.format(created=created, updated=updated, path=args.file))
        elif args.command == "units":
            units = await q.list_units(s)
            if args.json:
                _print_json([{"code": u.code, "name": u.name} for u in units])
            else:
                for u in units:
                    print(f"{u.code:<10} {u.name}")
        elif args.command == "invite":
            return await _invite(s, args, now)
        elif args.command == "contacts":
            return await _contacts(s, args, now)
        elif args.command == "remind" or (args.command == "campaign" and args.action == "deadline"):
            try:
                print(await remind_command(s, form, args, now))
            except PlanError as exc:
                raise CommandError(str(exc)) from None
        elif args.command == "campaign":
            deadline = None
            if args.action == "create":
                deadline = parse_deadline(args.deadline)
                if deadline <= now and not args.force:
                    raise CommandError(texts.CLI_DEADLINE_PAST.format(deadline=format_datetime(deadline)))
            try:
                await campaign_command(s, args, form, form.path, now, deadline)
            except CampaignCommandError as exc:
                raise CommandError(str(exc)) from None
        elif args.command == "status":
            campaign = await _campaign_of(s, args)
            rows = await status_rows(s, form_of(campaign, form), campaign, now)
            if args.json:
                _print_json({"campaign": {"id": campaign.id, "title": campaign.title,
                                          "deadline_at": _iso(campaign.deadline_at)},
                             "units": [{**r, "submitted_at": _iso(r["submitted_at"]),
                                        "last_activity_at": _iso(r["last_activity_at"]),
                                        "deadline_at": _iso(r["deadline_at"])}
                                       for r in rows]})
            else:
                print(texts.STATUS_HEADER.format(
                    title=campaign.title, deadline=format_datetime(campaign.deadline_at),
                    submitted=sum(r["state"] in ("submitted", "submitted_late", "accepted") for r in rows),
                    total=len(rows)))
                for r in rows:
                    when = r["submitted_at"] or r["last_activity_at"]
                    print(f"{r['code']:<10} {texts.STATE_LABELS[r['state']]:<14} "
                          f"{format_datetime(when) if when else '':<22} {r['name']}")
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


async def _campaign_of(s, args):
    """The campaign `--campaign ID` names, else the newest open one."""
    wanted = getattr(args, "campaign", None)
    campaign = await (q.get_campaign(s, wanted) if wanted else q.current_campaign(s))
    if campaign is None:
        raise CommandError(texts.CLI_CAMPAIGN_UNKNOWN.format(id=wanted) if wanted else texts.CLI_CAMPAIGN_NONE)
    return campaign


async def remind_command(s, form: Form, args, now: datetime) -> str:
    """`hcc-bot remind [--now|--preview]`, `hcc-bot remind plan [...]`, `hcc-bot campaign deadline "..."`."""
    campaign = await _campaign_of(s, args)
    form = form_of(campaign, form)
    if args.command == "campaign":
        changed = await change_deadline(s, campaign, parse_plan_deadline(args.value, texts.CLI_DEADLINE_INVALID), now)
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
        campaign = await (q.get_campaign(s, args.campaign) if args.campaign else q.current_campaign(s))
        if campaign is None:
            raise CommandError(texts.CLI_CAMPAIGN_UNKNOWN.format(id=args.campaign))
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


def _short(dt: datetime | None) -> str:
    return dt.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M") if dt else "–"


def _names(contacts) -> str:
    return (": " + ", ".join(f"{c.display_name or texts.CONTACT_NO_NAME} (ID {c.id})" for c in contacts)) if contacts else ""


async def _revoke(s, args: argparse.Namespace, now: datetime) -> int:
    invite = await q.find_invite(s, args.revoke)
    if invite is None:
        raise CommandError(texts.CLI_INVITE_NOT_FOUND.format(code=args.revoke))
    bound = await q.contacts_bound_with(s, invite.id)
    newly = await q.revoke_invite(s, invite.code, now=now)  # unbinds the admins bound with an admin code
    await q.add_audit(s, at=now, action="invite_revoke", new={"invite": invite.id, "unbind": args.unbind})
    print((texts.CLI_INVITE_REVOKED if newly else texts.CLI_INVITE_ALREADY_REVOKED).format(code=invite.code))
    if invite.role == "admin":
        print(texts.CLI_INVITE_ADMINS_UNBOUND.format(count=len(bound), names=_names(bound)))
    elif args.unbind:
        for contact in bound:
            await q.unbind_contact(s, contact, now=now, reason="invite_revoked")
        print(texts.CLI_INVITE_CONTACTS_UNBOUND.format(count=len(bound), names=_names(bound)))
    elif bound:
        unit = await q.get_unit(s, invite.unit_id)
        print(texts.CLI_INVITE_CONTACTS_KEPT.format(count=len(bound), unit=unit.name, names=_names(bound),
                                                    code=invite.code))
    return 0


async def _contacts(s, args: argparse.Namespace, now: datetime) -> int:
    if args.action == "remove":
        contact = await q.get_contact_by_id(s, args.id)
        if contact is None:
            raise CommandError(texts.CLI_CONTACT_UNKNOWN.format(id=args.id))
        name = contact.display_name or texts.CONTACT_NO_NAME
        if contact.role is None:
            raise CommandError(texts.CLI_CONTACT_NOT_BOUND.format(name=name, id=contact.id))
        unit = await q.get_unit(s, contact.unit_id) if contact.unit_id is not None else None
        role = texts.ROLE_ADMIN if contact.role == "admin" else texts.ROLE_UNIT.format(unit=unit.name if unit else "")
        await q.unbind_contact(s, contact, now=now, reason="cli")
        print(texts.CLI_CONTACT_REMOVED.format(name=name, id=contact.id, role=role,
                                               channel=texts.CHANNEL_LABELS.get(contact.channel, contact.channel)))
        return 0
    unit = None
    if args.unit:
        unit = await q.get_unit_by_code(s, args.unit)
        if unit is None:
            raise CommandError(texts.CLI_UNIT_UNKNOWN.format(code=args.unit))
    rows = await q.list_bound_contacts(s, unit_id=unit.id if unit else None)
    if args.json:
        _print_json([{"id": c.id, "display_name": c.display_name, "channel": c.channel, "role": c.role,
                      "unit_code": u.code if u else None, "unit_name": u.name if u else None,
                      "invite_code": i.code if i else None, "bound_at": _iso(c.bound_at),
                      "last_seen_at": _iso(c.last_seen_at), "unreachable": c.blocked_at is not None}
                     for c, u, i in rows])
        return 0
    if not rows:
        print(texts.CLI_CONTACTS_NONE_IN_UNIT.format(unit=unit.name) if unit else texts.CLI_CONTACTS_NONE)
        return 0
    lines = [texts.CLI_CONTACTS_COLUMNS]
    lines += [[str(c.id), texts.CHANNEL_LABELS.get(c.channel, c.channel), texts.CLI_CONTACTS_ROLES.get(c.role, c.role),
               u.code if u else "–", _short(c.bound_at), _short(c.last_seen_at), c.display_name or "–"]
              for c, u, _ in rows]
    widths = [max(len(line[n]) for line in lines) for n in range(len(lines[0]) - 1)]
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1])
    return 0


async def _invite(s, args: argparse.Namespace, now: datetime) -> int:
    if args.unbind and not args.revoke:
        raise CommandError(texts.CLI_INVITE_UNBIND_USAGE)
    if args.revoke:
        return await _revoke(s, args, now)
    if args.admin == bool(args.unit):
        raise CommandError(texts.CLI_INVITE_USAGE)
    if args.days < 1 or (args.uses is not None and args.uses < 1):
        raise CommandError(texts.CLI_INVITE_LIMITS)
    unit = None
    if args.unit:
        unit = await q.get_unit_by_code(s, args.unit)
        if unit is None:
            raise CommandError(texts.CLI_UNIT_UNKNOWN.format(code=args.unit))
    uses = args.uses or (1 if args.admin else 3)
    invite = await q.create_invite(s, unit_id=unit.id if unit else None, role="admin" if args.admin else "unit",
                                   expires_at=now + timedelta(days=args.days), max_uses=uses, now=now)
    shown = f"{invite.code[:4]}-{invite.code[4:]}"
    if args.json:
        _print_json({"code": invite.code, "display_code": shown, "role": invite.role,
                     "unit_code": unit.code if unit else None, "unit_name": unit.name if unit else None,
                     "expires_at": _iso(invite.expires_at), "max_uses": invite.max_uses})
    else:
        who = f"{unit.name} ({unit.code})" if unit else texts.CLI_INVITE_ADMIN
        print(texts.CLI_INVITE_CREATED.format(who=who, code=shown, expires=format_datetime(invite.expires_at),
                                              max_uses=invite.max_uses))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hcc-bot` console script and `python -m bot`."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
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
