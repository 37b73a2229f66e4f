"""`hcc-bot invite` and `hcc-bot contacts list|remove`: who may bind to a unit, and who is bound."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta

from bot.cli.console import CommandError
from conversations import texts
from conversations.answers import LOCAL_TZ, format_datetime
from storage import queries as q


def add_contacts_parsers(sub) -> None:
    invite = sub.add_parser("invite", help="in mã mời cho một đơn vị (hoặc --admin cho cán bộ Sở Nội vụ)")
    invite.add_argument("unit", nargs="?", help="mã đơn vị")
    invite.add_argument("--admin", action="store_true", help="mã mời cho một cán bộ Sở Nội vụ")
    invite.add_argument("--days", type=int, default=14, help="hiệu lực bao nhiêu ngày (mặc định 14)")
    invite.add_argument("--uses", type=int, default=None, help="bao nhiêu người được dùng (mặc định 3, admin 1)")
    invite.add_argument("--revoke", metavar="MÃ", help="thu hồi một mã mời (mã admin: gỡ luôn các cán bộ đã dùng nó)")
    invite.add_argument("--unbind", action="store_true", help="cùng --revoke: gỡ luôn người liên hệ đã dùng mã")
    invite.add_argument("--json", action="store_true", help="in dạng JSON")

    contacts = sub.add_parser("contacts", help="xem hoặc gỡ người liên hệ của đơn vị và cán bộ Sở Nội vụ")
    contacts_sub = contacts.add_subparsers(dest="action", required=True)
    contacts_list = contacts_sub.add_parser("list", help="ai đã gắn: tên, kênh, vai trò, đơn vị, từ lúc, lần cuối")
    contacts_list.add_argument("--unit", metavar="MÃ", help="chỉ người liên hệ của đơn vị này")
    contacts_list.add_argument("--json", action="store_true", help="in dạng JSON")
    contacts_remove = contacts_sub.add_parser("remove", help="gỡ một người (tin nhắn sau của họ sẽ được hỏi mã mời)")
    contacts_remove.add_argument("id", type=int, help="số ID trong `contacts list`")


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(LOCAL_TZ).isoformat() if dt else None


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


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


async def contacts_command(s, args: argparse.Namespace, now: datetime) -> int:
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


async def invite_command(s, args: argparse.Namespace, now: datetime) -> int:
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
            raise CommandError(texts.CLI_UNIT_UNKNOWN.format(code=args.unit) if await q.list_units(s, active_only=False)
                               else texts.UNITS_NONE)
        if not unit.active:
            raise CommandError(texts.UNITS_INACTIVE_INVITE.format(unit=unit.name, code=unit.code))
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
