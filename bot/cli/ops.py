"""`hcc-bot doctor`, `hcc-bot backup --out FILE`, `hcc-bot restore FILE`: the IT person's operations commands."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path

from bot.backup import BackupError, backup, restore
from bot.doctor import run_checks
from bot.logs import setup_logging
from bot.service import utc_now
from bot.settings import ConfigError, load_settings
from conversations import texts
from conversations.answers import format_datetime

OPS_COMMANDS = ("doctor", "backup", "restore")
log = logging.getLogger(__name__)


def version() -> str:
    try:
        return metadata.version("hcc-bot")
    except metadata.PackageNotFoundError:
        return "unknown"


def add_ops_parsers(sub) -> None:
    doctor = sub.add_parser("doctor", help=texts.CLI_HELP_DOCTOR)
    doctor.add_argument("--json", action="store_true", help=texts.CLI_HELP_JSON)
    out = sub.add_parser("backup", help=texts.CLI_HELP_BACKUP)
    out.add_argument("--out", type=Path, required=True, help=texts.CLI_HELP_BACKUP_OUT)
    back = sub.add_parser("restore", help=texts.CLI_HELP_RESTORE)
    back.add_argument("file", type=Path, help=texts.CLI_HELP_RESTORE_FILE)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


async def ops_command(args: argparse.Namespace) -> int:
    """Run an operations command; its exit status. Logging is set up as for `hcc-bot run`."""
    if args.command == "doctor":
        try:
            settings = load_settings()
            setup_logging(settings.log_level, settings.log_format)
        except ConfigError:  # the doctor's first line says what is wrong; log as by default meanwhile
            setup_logging()
        checks = await run_checks()
        if args.json:
            print(json.dumps({"ok": all(c.ok for c in checks), "checks": [c.as_dict() for c in checks]},
                             ensure_ascii=False, indent=2))
        else:
            for check in checks:
                print(check.line())
        red = [c.name for c in checks if not c.ok]
        log.info("doctor: %s checks, %s", len(checks), f"red: {', '.join(red)}" if red else "all green")
        return 0 if not red else 1
    settings = load_settings()  # a wrong setting: ConfigError, one line from the command line's main
    setup_logging(settings.log_level, settings.log_format)
    try:
        if args.command == "backup":
            result = await backup(settings, args.out, utc_now(), version())
            log.info("backup written: %s files, %s photos, %s bytes", result.files, result.photos, result.size)
            print(texts.BACKUP_DONE.format(path=result.path, photos=result.photos, size=_size(result.size)))
            return 0
        manifest = await restore(settings, args.file)
        log.info("restore done: %s files checked and restored", len(manifest["files"]))
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:  # a folder not writable by this user, a full disk
        print(texts.OPS_FILE_ERROR.format(path=exc.filename or args.command, problem=exc.strerror), file=sys.stderr)
        return 2
    print(texts.RESTORE_DONE.format(created=format_datetime(datetime.fromisoformat(manifest["created_at"])),
                                    files=len(manifest["files"]), data_dir=settings.data_dir))
    return 0
