"""`hcc-bot reopen` after a contact wrote while the report was locked (issue 22, part 5): the next message asks the
first question still unanswered, not "Bạn đã trả lời hết các câu hỏi" over an empty report."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from conversations import texts
from storage.db import open_database
from tests.test_service import DEADLINE, Clock, answers_of, invite, make_service, say, setup


def hcc_reopen(tmp_path: Path, unit: str) -> subprocess.CompletedProcess:
    """`hcc-bot reopen UNIT` as the operator runs it, on the test's SQLite file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HCC_")}
    env.update(HCC_DATA_DIR=str(tmp_path), HCC_DATABASE_URL=f"sqlite:///{tmp_path / 'hcc.db'}")
    return subprocess.run([sys.executable, "-m", "bot", "reopen", unit], cwd=tmp_path, text=True,
                          capture_output=True, env=env, timeout=120)


async def test_reopen__contact_wrote_while_locked__next_message_asks_the_first_missing_question(tmp_path):
    db = await open_database(f"sqlite:///{tmp_path / 'hcc.db'}")
    try:
        await setup(db)
        code = await invite(db, "STP")
        service = make_service(db, tmp_path, Clock(DEADLINE + timedelta(hours=2)))  # the deadline has passed
        bound = await say(service, "u1", code)
        locked = await say(service, "u1", "Nguyễn Thị Lan, 0912 345 678")
        done = hcc_reopen(tmp_path, "STP")
        assert 0 == done.returncode, done.stderr
        locked_answers = await answers_of(db, "STP")
        again = await say(service, "u1", "Nguyễn Thị Lan, 0912 345 678")
        await say(service, "u1", "Nguyễn Thị Lan, 0912 345 678")  # the answer to the question now asked
        answers = await answers_of(db, "STP")
    finally:
        await db.dispose()
    closed = texts.READ_ONLY.format(deadline="16:30 ngày 28/03/2017")
    assert (True, closed) == (bound.endswith(closed), locked)
    assert {} == locked_answers  # what came while locked was not stored
    assert "Bạn đã trả lời hết các câu hỏi" not in again
    assert again.startswith("【Người điền báo cáo】 · câu 1/2")  # the first missing question
    assert ("Nguyễn Thị Lan", "+84912345678") == (answers["reporter.name"], answers["reporter.phone"])
