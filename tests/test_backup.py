"""`hcc-bot backup` while contacts answer, and `hcc-bot restore` into a new folder: the same service comes back."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tarfile
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.backup import BackupError, find_pg_tool
from bot.console import SESSION_KEY_FILE as CONSOLE_KEY_FILE
from bot.web import KEY_FILE as LINK_KEY_FILE
from bot.webform.routes import SESSION_KEY_FILE as WEBFORM_KEY_FILE
from conversations import texts
from conversations.answers import LOCAL_TZ
from storage import queries as q
from storage.db import open_database
from tests.fake_zalo import FakeZalo
from tests.test_run import free_port
from tests.test_zalo import SAMPLE_REPORT, jpeg

POSTGRES_URL_ENV = "HCC_TEST_POSTGRES_URL"
UNITS_CSV = "code,name\nSTP,Sở Tư pháp\nCAT,Công an tỉnh\nSYT,Sở Y tế\n"


# --- helpers shared with tests/test_deploy.py -------------------------------------------------------------------


def cli(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`hcc-bot ARGS` as the IT person types it, with only these settings."""
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_PROXY": "127.0.0.1", **env},
                          timeout=180)


def seed(env: dict[str, str], cwd: Path) -> None:
    """The province's units and a campaign due in ten days, through the CLI."""
    (cwd / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    assert 0 == cli(env, "units", "import", str(cwd / "units.csv"), "--yes", cwd=cwd).returncode or \
        0 == cli(env, "units", "import", str(cwd / "units.csv"), cwd=cwd).returncode
    due = (datetime.now(LOCAL_TZ) + timedelta(days=10)).strftime("%d/%m/%Y 16:30")
    done = cli(env, "campaign", "create", "--title", "Báo cáo thử", "--deadline", due, cwd=cwd)
    assert 0 == done.returncode, done.stderr


async def invite_codes(url: str, codes: list[str]) -> dict[str, str]:
    db = await open_database(url)
    try:
        async with db.transaction() as s:
            now = datetime.now(LOCAL_TZ)
            result = {}
            for code in codes:
                unit = await q.get_unit_by_code(s, code)
                invite = await q.create_invite(s, unit_id=unit.id, role="unit", expires_at=now + timedelta(days=3),
                                               max_uses=3, now=now)
                result[code] = invite.code
            return result
    finally:
        await db.dispose()


async def say(fake: FakeZalo, user: str, update_or_text, timeout: float = 30) -> list[str]:
    """One message from `user` (polling), and the bot's first reply to it."""
    before = len(fake.texts_to(user))
    fake.push(fake.text(user, update_or_text) if isinstance(update_or_text, str) else update_or_text)
    deadline = asyncio.get_running_loop().time() + timeout
    while len(fake.texts_to(user)) <= before:
        remaining = deadline - asyncio.get_running_loop().time()
        assert remaining > 0, f"no reply to {user}"
        fake.sent_event.clear()
        try:
            await asyncio.wait_for(fake.sent_event.wait(), timeout=remaining)
        except asyncio.TimeoutError:
            pass
    return fake.texts_to(user)[before:]


class BotProcess:
    """`hcc-bot run` as the service manager starts it; stopped with SIGTERM."""

    def __init__(self, env: dict[str, str], cwd: Path):
        self.env, self.cwd = env, cwd
        self.process: asyncio.subprocess.Process | None = None
        self.output = cwd / f"bot-{secrets.token_hex(3)}.log"

    async def __aenter__(self) -> "BotProcess":
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=self.cwd, stdout=self.output.open("wb"),
            stderr=subprocess.STDOUT, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **self.env})
        for _ in range(600):  # up to 60 s on a loaded machine
            if "hcc-bot đang chạy" in self.output.read_text("utf-8", "replace"):
                return self
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        raise AssertionError(f"the bot did not start: {self.output.read_text('utf-8', 'replace')}")

    async def __aexit__(self, *exc) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        assert 0 == await asyncio.wait_for(self.process.wait(), 60), self.output.read_text("utf-8", "replace")


def answer(fake: FakeZalo, user: str, n: int) -> dict:
    line = SAMPLE_REPORT[n]
    return fake.image(user, jpeg(((n * 7 + len(user)) % 255, 120, 200))) if line == "PHOTO" else fake.text(user, line)


async def rows(url: str) -> dict[str, list[dict]]:
    """What the drill compares: reports, answers, versions, photos, contacts, audit entries."""
    db = await open_database(url, migrate=False)
    tables = {"report": "id", "answer": "report_id, key", "report_version": "id", "photo": "id",
              "contact": "id", "audit_log": "id", "conversation": "id", "unit": "id", "campaign": "id"}
    try:
        async with db.transaction() as s:
            result = {}
            for table, order in tables.items():
                found = (await s.execute(sa.text(f"SELECT * FROM {table} ORDER BY {order}"))).mappings().all()
                result[table] = [dict(r) for r in found]
            return result
    finally:
        await db.dispose()


def without(items: list[dict], *columns: str) -> list[dict]:
    return [{k: v for k, v in item.items() if k not in columns} for item in items]


# --- the drill --------------------------------------------------------------------------------------------------


async def _drill(tmp_path: Path, source_url: str, target_url: str) -> None:
    source_dir, target_dir, archive = tmp_path / "data", tmp_path / "restored", tmp_path / "backups" / "hcc.tar.gz"
    archive.parent.mkdir()
    fake = await FakeZalo().start()
    env = {"HCC_DATA_DIR": str(source_dir), "HCC_DATABASE_URL": source_url, "HCC_ZALO_BOT_TOKEN": fake.token,
           "HCC_ZALO_API_URL": fake.url, "HCC_LISTEN": f"127.0.0.1:{free_port()}"}
    await asyncio.to_thread(seed, env, tmp_path)
    codes = await invite_codes(source_url, ["STP", "CAT", "SYT"])
    try:
        async with BotProcess(env, tmp_path):
            # Sở Tư pháp completes and submits; Công an tỉnh stops after its first two answers.
            await say(fake, "stp", codes["STP"])
            for n in range(len(SAMPLE_REPORT)):
                await say(fake, "stp", answer(fake, "stp", n))
            assert (await say(fake, "stp", "nộp"))[0].startswith("Đã nộp báo cáo lúc")
            await say(fake, "cat", codes["CAT"])
            for n in range(2):
                await say(fake, "cat", answer(fake, "cat", n))
            await say(fake, "syt", codes["SYT"])

            # Sở Y tế keeps answering while the backup is taken, in another process.
            snapshots = [(await rows(source_url))["answer"]]
            before_backup = await rows(source_url)
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "backup", "--out", str(archive), cwd=tmp_path,
                env={"PATH": os.environ["PATH"], **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            waiting = asyncio.ensure_future(process.communicate())
            n = 0
            while not waiting.done() or n < 2:
                await say(fake, "syt", answer(fake, "syt", n))
                snapshots.append((await rows(source_url))["answer"])
                n += 1
            out, err = await waiting
            assert 0 == process.returncode, err.decode()
            # Logged as `hcc-bot run` logs (HCC_LOG_LEVEL, HCC_LOG_FORMAT): one line, no personal data.
            assert re.fullmatch(r"\S+ \S+ INFO bot\.cli\.ops: backup written: \d+ files, \d+ photos, \d+ bytes\n",
                                err.decode()), err.decode()
            assert out.decode().startswith(f"Đã sao lưu vào {archive}")
            # What Công an tỉnh's contact is asked next, by the bot that was backed up.
            expected_next = await say(fake, "cat", answer(fake, "cat", 2))
    finally:
        await fake.stop()

    assert 0o600 == stat.S_IMODE(archive.stat().st_mode)
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        for name, entry in manifest["files"].items():
            assert entry["sha256"] == hashlib.sha256(tar.extractfile(name).read()).hexdigest()
        # Every key `hcc-bot run` made: download links, console sessions, web form sessions.
        keys = {LINK_KEY_FILE, CONSOLE_KEY_FILE, WEBFORM_KEY_FILE}
        assert keys == {path.name for path in source_dir.glob("*.key")}
        assert {f"data/{key}" for key in keys} | {"exports-index.json"} <= set(manifest["files"])

    restored_env = {"HCC_DATA_DIR": str(target_dir), "HCC_DATABASE_URL": target_url}
    done = await asyncio.to_thread(cli, restored_env, "restore", str(archive), cwd=tmp_path)
    assert 0 == done.returncode, done.stderr
    assert done.stdout.strip().startswith("Đã khôi phục bản sao lưu lập lúc")

    source, restored = await rows(source_url), await rows(target_url)
    # Everything done before the backup started is there as it was; photos moved to the new folder.
    for table in ("unit", "campaign", "report_version"):
        assert source[table] == restored[table], table
    # Contact bindings (last_seen_at moves on as the contacts keep writing after the backup).
    assert without(source["contact"], "last_seen_at") == without(restored["contact"], "last_seen_at")
    assert without(before_backup["photo"], "original_path", "processed_path") == \
        without(restored["photo"], "original_path", "processed_path")
    assert [a for a in before_backup["audit_log"]] == restored["audit_log"][:len(before_backup["audit_log"])]
    assert restored["audit_log"] == source["audit_log"][:len(restored["audit_log"])]
    stp_report = next(r["id"] for r in before_backup["report"] if r["submitted_at"] is not None)
    assert [a for a in before_backup["answer"] if a["report_id"] == stp_report] == \
        [a for a in restored["answer"] if a["report_id"] == stp_report]
    assert [r for r in before_backup["report"] if r["id"] == stp_report] == \
        [r for r in restored["report"] if r["id"] == stp_report]
    assert 1 == len(restored["report_version"])
    for photo in restored["photo"]:
        for column in ("original_path", "processed_path"):
            path = Path(photo[column])
            assert path.is_relative_to(target_dir / "photos") and path.is_file()
        assert photo["sha256"] == hashlib.sha256(Path(photo["original_path"]).read_bytes()).hexdigest()
        assert 0o600 == stat.S_IMODE(Path(photo["original_path"]).stat().st_mode)
    # Sở Y tế's answers are exactly as they were after one of its messages: a consistent copy.
    assert restored["answer"] in snapshots
    for key in keys:  # the links and sessions handed out before the backup still open after the restore
        assert (source_dir / key).read_bytes() == (target_dir / key).read_bytes(), key
        assert 0o600 == stat.S_IMODE((target_dir / key).stat().st_mode)

    # The restored service: Công an tỉnh's contact goes on where the backup left it.
    fake = await FakeZalo().start()
    env2 = {**restored_env, "HCC_ZALO_BOT_TOKEN": fake.token, "HCC_ZALO_API_URL": fake.url,
            "HCC_LISTEN": f"127.0.0.1:{free_port()}"}
    try:
        async with BotProcess(env2, tmp_path):
            # A new message id: the platform never repeats one (a repeated one is skipped as already handled).
            assert expected_next == await say(fake, "cat", fake.text("cat", SAMPLE_REPORT[2], message_id="after-1"))
    finally:
        await fake.stop()


@pytest.mark.timeout(600)
async def test_restore_drill__sqlite_backup_while_answering__same_service_in_a_new_folder(tmp_path):
    await _drill(tmp_path, f"sqlite:///{tmp_path / 'data' / 'hcc.db'}", f"sqlite:///{tmp_path / 'restored' / 'hcc.db'}")


async def _create_database(base: str, name: str) -> str:
    url = make_url(base)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                 database=url.database)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def _drop_database(base: str, name: str) -> None:
    url = make_url(base)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                 database=url.database)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def pg_pair():
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set: PostgreSQL tests skipped")
    stem = f"{make_url(base).database}_{secrets.token_hex(4)}"
    names = [f"{stem}_src", f"{stem}_dst"]
    urls = [await _create_database(base, name) for name in names]
    try:
        yield urls
    finally:
        for name in names:
            await _drop_database(base, name)


@pytest.mark.timeout(600)
async def test_restore_drill__postgresql_backup_while_answering__same_service_in_a_new_database(tmp_path, pg_pair):
    await _drill(tmp_path, *pg_pair)


# --- refusals ---------------------------------------------------------------------------------------------------


async def _sqlite_backup(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    env = {"HCC_DATA_DIR": str(tmp_path / "data")}
    await asyncio.to_thread(seed, env, tmp_path)
    archive = tmp_path / "hcc.tar.gz"
    done = await asyncio.to_thread(cli, env, "backup", "--out", str(archive), cwd=tmp_path)
    assert 0 == done.returncode, done.stderr
    return archive, env


async def test_backup_restore_doctor__log_format_json__each_logs_its_result_as_run_does(tmp_path):
    def records(done: subprocess.CompletedProcess) -> list[dict]:
        return [json.loads(line) for line in done.stderr.splitlines()]

    env = {"HCC_DATA_DIR": str(tmp_path / "data"), "HCC_LOG_FORMAT": "json"}
    await asyncio.to_thread(seed, env, tmp_path)
    (tmp_path / "data" / "later.key").write_bytes(b"k" * 32)  # a key a later version adds: backed up too
    archive = tmp_path / "hcc.tar.gz"
    done = await asyncio.to_thread(cli, env, "backup", "--out", str(archive), cwd=tmp_path)
    assert 0 == done.returncode, done.stderr
    assert [("INFO", "bot.cli.ops")] == [(r["level"], r["logger"]) for r in records(done)]
    assert records(done)[0]["message"].startswith("backup written: ")

    restored = {**env, "HCC_DATA_DIR": str(tmp_path / "restored")}
    done = await asyncio.to_thread(cli, restored, "restore", str(archive), cwd=tmp_path)
    assert 0 == done.returncode, done.stderr
    assert [("INFO", "restore done: ")] == [(r["level"], r["message"][:14]) for r in records(done)]
    assert b"k" * 32 == (tmp_path / "restored" / "later.key").read_bytes()

    done = await asyncio.to_thread(cli, restored, "doctor", cwd=tmp_path)
    assert 1 == done.returncode  # no channel, no `hcc-bot run`
    red = ([] if shutil.which("soffice") or shutil.which("libreoffice") else ["libreoffice"]) + ["channels", "run"]
    assert [("INFO", f"doctor: 8 checks, red: {', '.join(red)}")] == [(r["level"], r["message"]) for r in records(done)]


async def test_restore__data_folder_not_empty__refused_in_one_line_and_nothing_changed(tmp_path):
    archive, env = await _sqlite_backup(tmp_path)
    before = {p: p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file()}
    done = await asyncio.to_thread(cli, env, "restore", str(archive), cwd=tmp_path)
    assert 2 == done.returncode
    assert 1 == len(done.stderr.strip().splitlines())
    assert done.stderr.startswith("Không khôi phục:") and "Traceback" not in done.stderr
    assert before == {p: p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file()}


async def test_restore__archive_altered__refused_naming_the_file_and_nothing_written(tmp_path):
    archive, _ = await _sqlite_backup(tmp_path)
    altered = tmp_path / "altered.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(altered, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "database/hcc.db":
                data = bytes(b ^ 1 for b in data)
            dst.addfile(member, io.BytesIO(data))
    target = tmp_path / "new"
    done = await asyncio.to_thread(cli, {"HCC_DATA_DIR": str(target)}, "restore", str(altered), cwd=tmp_path)
    assert 2 == done.returncode
    assert [texts.RESTORE_CHECKSUM.format(name="database/hcc.db")] == done.stderr.strip().splitlines()
    assert not target.exists()


async def test_backup__out_file_exists__refused_and_the_file_kept(tmp_path):
    archive, env = await _sqlite_backup(tmp_path)
    kept = archive.read_bytes()
    done = await asyncio.to_thread(cli, env, "backup", "--out", str(archive), cwd=tmp_path)
    assert 2 == done.returncode
    assert [texts.BACKUP_OUT_EXISTS.format(path=archive)] == done.stderr.strip().splitlines()
    assert kept == archive.read_bytes()


def test_backup__postgresql_without_pg_dump__one_line_naming_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError) as caught:
        find_pg_tool("pg_dump", 15, search=(str(tmp_path),))
    assert texts.BACKUP_PG_TOOL_MISSING.format(tool="pg_dump", major=15) == str(caught.value)


def test_backup__pg_dump_of_the_server_version__chosen_over_an_older_one(tmp_path, monkeypatch):
    for major in (13, 15, 16):
        tool = tmp_path / str(major) / "bin" / "pg_dump"
        tool.parent.mkdir(parents=True)
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "none"))
    assert str(tmp_path / "15" / "bin" / "pg_dump") == find_pg_tool("pg_dump", 15, search=(str(tmp_path),))
    assert str(tmp_path / "16" / "bin" / "pg_dump") == find_pg_tool("pg_dump", 16, search=(str(tmp_path),))
    assert str(tmp_path / "15" / "bin" / "pg_dump") == find_pg_tool("pg_dump", 14, search=(str(tmp_path),))


async def test_restore__postgresql_database_with_tables__refused_in_one_line(tmp_path, pg_pair):
    archive, _ = await _sqlite_backup(tmp_path)
    source, _ = pg_pair
    db = await open_database(source)  # the bot's tables, as after a first start
    await db.dispose()
    done = await asyncio.to_thread(cli, {"HCC_DATA_DIR": str(tmp_path / "new"), "HCC_DATABASE_URL": source},
                                   "restore", str(archive), cwd=tmp_path)
    assert 2 == done.returncode
    assert [texts.RESTORE_DB_NOT_EMPTY.format(url=make_url(source).database)] == done.stderr.strip().splitlines()
    assert not (tmp_path / "new").exists()


async def test_restore__sqlite_backup_into_postgresql__refused_naming_both(tmp_path, pg_pair):
    archive, _ = await _sqlite_backup(tmp_path)
    _, empty = pg_pair
    done = await asyncio.to_thread(cli, {"HCC_DATA_DIR": str(tmp_path / "new"), "HCC_DATABASE_URL": empty},
                                   "restore", str(archive), cwd=tmp_path)
    assert 2 == done.returncode
    assert [texts.RESTORE_KIND_MISMATCH.format(backup="sqlite", target="postgresql")] == \
        done.stderr.strip().splitlines()
