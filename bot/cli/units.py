"""`hcc-bot units import|list|activate|deactivate`: the province's own list of units, previewed before written."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from bot.cli.console import CommandError
from bot.unit_files import UnitFileError, read_sample_units, read_units_file
from conversations import texts
from conversations.parsers import fold
from storage import queries as q

PREVIEW_LINES = 30  # per kind of change; the rest is counted


def add_units_parsers(sub) -> None:
    units = sub.add_parser("units", help="danh sách đơn vị của tỉnh: nhập, xem, ngừng/cho hoạt động lại")
    actions = units.add_subparsers(dest="action", required=True)
    imp = actions.add_parser("import", help="nhập hoặc cập nhật đơn vị từ tệp .csv hoặc .xlsx (xem trước rồi mới ghi)",
                             description="Cột: mã, tên đơn vị; tùy chọn: nhóm (ví dụ “Sở, ban, ngành”), email. "
                                         "CSV phân cách bằng dấu phẩy hoặc chấm phẩy, UTF-8 (Excel: “CSV UTF-8”).")
    imp.add_argument("file", type=Path, nargs="?", help="tệp .csv hoặc .xlsx")
    imp.add_argument("--sample", action="store_true", help="nhập 25 đơn vị mẫu của Công văn năm 2017 (để thử)")
    imp.add_argument("--replace", action="store_true",
                     help="các đơn vị không có trong tệp chuyển sang ngừng hoạt động (không xóa)")
    imp.add_argument("--yes", action="store_true", help="ghi ngay, không hỏi lại")
    lst = actions.add_parser("list", help="mọi đơn vị, đang hoạt động và đã ngừng")
    lst.add_argument("--json", action="store_true", help="in dạng JSON")
    for name, help_text in (("deactivate", "ngừng một đơn vị: không vào đợt mới, không được nhắc; dữ liệu giữ nguyên"),
                            ("activate", "cho một đơn vị hoạt động trở lại")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("code", help="mã đơn vị")


def _lines(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    shown = [f"  {item}" for item in items[:PREVIEW_LINES]]
    more = [texts.UNITS_PREVIEW_MORE.format(count=len(items) - PREVIEW_LINES)] if len(items) > PREVIEW_LINES else []
    return [title.format(count=len(items)), *shown, *more]


def preview_text(changes: q.UnitChanges, path, ignored: list[str]) -> str:
    """What the import will change: added, renamed (or new group/email), reactivated, deactivated."""
    lines = [texts.UNITS_PREVIEW_HEADER.format(path=path, rows=changes.rows)]
    if ignored:
        lines.append(texts.UNITS_PREVIEW_IGNORED.format(columns=", ".join(f"“{c}”" for c in ignored)))
    lines += _lines(texts.UNITS_PREVIEW_ADDED, [f"{r.code:<10} {r.name}" + (f" ({r.group})" if r.group else "")
                                                for r in changes.added])
    lines += _lines(texts.UNITS_PREVIEW_UPDATED, [
        f"{u.code:<10} {u.name} → {r.name}" if u.name != r.name else f"{u.code:<10} {r.name}: "
        + ", ".join(f"{label} “{old or '–'}” → “{new or '–'}”" for label, old, new in (
            (texts.UNITS_COL_GROUP, u.group_name, r.group), (texts.UNITS_COL_EMAIL, u.email, r.email))
            if new is not None and (new or None) != old)
        for u, r in changes.updated])
    lines += _lines(texts.UNITS_PREVIEW_REACTIVATED, [f"{u.code:<10} {u.name}" for u in changes.reactivated])
    lines += _lines(texts.UNITS_PREVIEW_DEACTIVATED, [f"{u.code:<10} {u.name}" for u in changes.deactivated])
    if changes.unchanged:
        lines.append(texts.UNITS_PREVIEW_UNCHANGED.format(count=changes.unchanged))
    if changes.empty:
        lines.append(texts.UNITS_PREVIEW_NOTHING)
    return "\n".join(lines)


def _confirmed(args) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        return False
    print(texts.UNITS_CONFIRM, end="", flush=True)
    return fold(sys.stdin.readline()) in {fold(w) for w in texts.UNITS_CONFIRM_WORDS}


async def units_command(s, args, now: datetime) -> int:
    """Run `hcc-bot units …` in the caller's transaction (an import not confirmed writes nothing)."""
    if args.action == "import":
        return await _import(s, args, now)
    if args.action == "list":
        return await _list(s, args)
    unit = await q.get_unit_by_code(s, args.code)
    if unit is None:
        raise CommandError(texts.CLI_UNIT_UNKNOWN.format(code=args.code))
    active = args.action == "activate"
    changed = await q.set_unit_active(s, unit, active, now=now)
    if changed:
        await q.add_audit(s, at=now, action="unit_activate" if active else "unit_deactivate", new={"unit": unit.code})
    done = (texts.UNITS_ACTIVATED if active else texts.UNITS_DEACTIVATED) if changed else \
        (texts.UNITS_ALREADY_ACTIVE if active else texts.UNITS_ALREADY_INACTIVE)
    print(done.format(unit=unit.name, code=unit.code))
    return 0


async def _import(s, args, now: datetime) -> int:
    if args.sample == (args.file is not None):
        raise CommandError(texts.UNITS_SAMPLE_OR_FILE)
    try:
        read = read_sample_units() if args.sample else read_units_file(args.file)
    except UnitFileError as exc:
        raise CommandError(str(exc)) from None
    changes = await q.plan_units(s, read.rows, replace=args.replace)
    print(preview_text(changes, texts.UNITS_SAMPLE_LABEL if args.sample else args.file, read.ignored))
    if changes.empty:
        return 0
    if not _confirmed(args):
        print(texts.UNITS_NOT_WRITTEN)
        return 1
    await q.apply_units(s, changes, now=now)
    await q.add_audit(s, at=now, action="units_import", new={
        "added": len(changes.added), "updated": len(changes.updated), "reactivated": len(changes.reactivated),
        "deactivated": [u.code for u in changes.deactivated]})
    print(texts.UNITS_WRITTEN.format(added=len(changes.added), updated=len(changes.updated),
                                     reactivated=len(changes.reactivated), deactivated=len(changes.deactivated)))
    return 0


async def _list(s, args) -> int:
    units = await q.list_units(s, active_only=False)
    if args.json:
        print(json.dumps([{"code": u.code, "name": u.name, "group": u.group_name, "email": u.email,
                           "active": u.active} for u in units], ensure_ascii=False, indent=2))
        return 0
    if not units:
        print(texts.UNITS_NONE)
        return 0
    for u in units:
        state = texts.UNITS_STATE_ACTIVE if u.active else texts.UNITS_STATE_INACTIVE
        print(f"{u.code:<10} {state:<10} {u.name}" + (f" – {u.group_name}" if u.group_name else "")
              + (f" <{u.email}>" if u.email else ""))
    active = sum(u.active for u in units)
    print(texts.UNITS_LIST_FOOTER.format(active=active, inactive=len(units) - active))
    return 0
