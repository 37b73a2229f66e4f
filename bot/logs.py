"""Logging as the operator sets it: HCC_LOG_LEVEL (default INFO) and HCC_LOG_FORMAT (text, or json a line)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("text", "json")
# Libraries that log a request's URL (with the bot token in its path) or every poll at INFO: warnings only.
QUIET = ("httpx", "httpcore", "telegram", "aiohttp.access", "apscheduler", "sqlalchemy.engine", "asyncio", "alembic")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and the exception's type if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger on stderr (replacing our earlier set-up); what we log carries no personal data."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.name = "hcc-bot"
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.name == "hcc-bot"]:  # ours from an earlier call, not a test's
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
