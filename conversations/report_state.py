"""Where a unit's report stands, the one rule shared by the board, `status`, review and the exports (pure)."""

from __future__ import annotations

from typing import Any

from conversations import engine


def state_of(report: Any | None) -> str:
    """The board's state of a report (anything with `status` and `review`, or None): not_started, in_progress,
    submitted, submitted_late, returned, accepted."""
    if report is None:
        return engine.NOT_STARTED
    if report.review in (engine.RETURNED, engine.ACCEPTED):
        return report.review
    return report.status
