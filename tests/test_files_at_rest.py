"""Files at rest: personal data readable by the bot's user only; a killed export is cleaned up and its admin told."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.export_jobs import JOBS_DIR
from conversations.texts import EXPORT_INTERRUPTED, UNIT_DOCUMENT_INTERRUPTED
from bot.files import secure_data_dir
from bot.service import Service
from bot.web import DownloadLinks, build_app, load_or_create_key, start_app
from conversations import texts
from storage.db import open_database
from tests.test_run import free_port
from tests.test_service import FORM, NOW, Clock, invite, jpeg, say, setup
from tests.test_web import fetch

ROOT = Path(__file__).resolve().parent.parent
STAFF_UP_TO_THE_PHOTO = ["Nguyễn Thị Lan, 0912 345 678", "Trần Văn Hùng, Phó Giám đốc, 0913 456 789",
                         "Lê Thị Mai, Chuyên viên, 0987 654 321", "Nữ", "9"]


class Inbox:
    """A channel's file delivery that records what each person was sent."""

    def __init__(self):
        self.sent: list[tuple[str, str, list[str]]] = []  # (chat id, text, file names)

    async def deliver_files(self, chat_id: str, user_id: str, text: str, files: list[Path]) -> None:
        self.sent.append((chat_id, text, [p.name for p in files]))

    async def progress(self, chat_id: str, user_id: str, text: str) -> None:
        pass


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes_under(root: Path) -> dict[str, str]:
    """Relative path -> octal mode of everything under root, root itself included."""
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        found[path.relative_to(root).as_posix()] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


async def test_run_with_photo_and_exports__umask_022__files_0600_folders_0700(tmp_path, umask_022):
    data = tmp_path / "data"
    db = await open_database(f"sqlite:///{data / 'hcc.db'}")
    try:
        await setup(db)
        service = Service(db, FORM, data / "photos", Clock(NOW), export_dir=data / "exports")
        inbox = service.deliverers["test"] = Inbox()
        for text in [await invite(db, "STP"), *STAFF_UP_TO_THE_PHOTO]:
            await say(service, "contact", text)
        assert "Lê Thị Mai" in await say(service, "contact", photo=jpeg())
        await say(service, "officer", await invite(db, None, uses=1))
        assert texts.EXPORT_STARTED == await say(service, "officer", "xuất")
        assert texts.UNIT_DOCUMENT_STARTED == await say(service, "contact", "tải báo cáo")
        await service.jobs.drain()
        assert texts.EXPORT_STARTED == await say(service, "officer", "xuất mới")
        await service.jobs.drain()
        load_or_create_key(data)
        modes = modes_under(data)  # while the database is open: its -wal and -shm are there too
    finally:
        await db.dispose()
    assert [texts.EXPORT_READY.format(count=25), texts.EXPORT_NOTHING_NEW.format(at="09:00 ngày 27/03/2017")] == \
        [t for c, t, _ in inbox.sent if c == "officer"]
    assert [("contact", ["bao-cao_STP.docx"])] == [(c, f) for c, _, f in inbox.sent if f and c == "contact"]
    folders = {p for p in modes if (data / p).is_dir()}
    assert {"exports", "photos", f"exports/{JOBS_DIR}", "exports/don-vi"} <= folders
    assert any(p.endswith(".zip") for p in modes) and any(p.endswith("/the-nhan-su.pdf") for p in modes)
    assert any(p.endswith(".orig.jpg") for p in modes) and {"hcc.db-wal", "hcc.db-shm", "link.key"} <= set(modes)
    assert {p: "0o700" for p in folders} == {p: m for p, m in modes.items() if p in folders}
    assert {p: "0o600" for p in modes if p not in folders} == {p: m for p, m in modes.items() if p not in folders}
    assert not any(p.endswith((".partial", ".part", ".tmp")) or p.startswith(f"exports/{JOBS_DIR}/") for p in modes)


async def test_secure_data_dir__files_of_an_earlier_version__made_owner_only(tmp_path, umask_022):
    data = tmp_path / "data"
    (data / "photos" / "ab").mkdir(parents=True)
    (data / "photos" / "ab" / "ab12.jpg").write_bytes(b"jpeg")
    (data / "hcc.db").write_bytes(b"")
    (data / "notes.txt").write_text("not the bot's")
    secure_data_dir(data)
    assert {".": "0o700", "photos": "0o700", "photos/ab": "0o700", "photos/ab/ab12.jpg": "0o600",
            "hcc.db": "0o600", "notes.txt": "0o644"} == modes_under(data)


# A bot whose export is stuck in its last step, as long as it takes to kill it: argv = database, data, signal file.
KILLED_BOT = textwrap.dedent("""
    import asyncio, sys, time
    from pathlib import Path

    import exports.build
    from bot.service import Service
    from storage.db import open_database
    from tests.test_files_at_rest import Inbox
    from tests.test_service import FORM, NOW, Clock

    def stuck(data, folder, progress=None):
        Path(sys.argv[3]).write_text("stuck")
        time.sleep(600)

    exports.build.build_unit_documents = stuck

    async def main():
        db = await open_database(sys.argv[1])
        data = Path(sys.argv[2])
        service = Service(db, FORM, data / "photos", Clock(NOW), export_dir=data / "exports")
        service.deliverers["telegram"] = Inbox()
        await service.jobs.export("telegram", "chat-7", "officer-7", only_changed=False)

    asyncio.run(main())
""")


async def wait_for_file(path: Path, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the export never reached its last step"
        await asyncio.sleep(0.05)


async def test_export_killed_mid_way__next_start__half_built_folder_removed_and_admin_told(tmp_path, umask_022):
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'hcc.db'}"
    db = await open_database(url)
    stuck = tmp_path / "stuck"
    bot = subprocess.Popen([sys.executable, "-c", KILLED_BOT, url, str(data), str(stuck)], cwd=ROOT,
                           stderr=subprocess.PIPE, text=True)
    try:
        await setup(db)
        await wait_for_file(stuck, bot)
        service = Service(db, FORM, data / "photos", Clock(NOW), export_dir=data / "exports")
        inbox = service.deliverers["telegram"] = Inbox()
        # Another worker starting while this export runs leaves it alone.
        assert 0 == await service.jobs.recover()
        building = [p.name for p in (data / "exports").iterdir() if p.name != JOBS_DIR]
        assert ["tong-hop_1_20170327-090000.partial"] == building
        assert (data / "exports" / building[0] / "tong-hop.xlsx").is_file()
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=30)
        assert 1 == await service.jobs.recover()
        assert [] == [p.name for p in (data / "exports").rglob("*") if p.name != JOBS_DIR]
        assert [("chat-7", EXPORT_INTERRUPTED.format(at="09:00 ngày 27/03/2017", command="xuất"), [])] == inbox.sent
        assert 0 == await service.jobs.recover()  # told once
        assert 1 == len(inbox.sent)
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
        bot.stderr.close()
        await db.dispose()


async def test_unit_document_cancelled_mid_way__next_start__contact_told_once(tmp_path, monkeypatch):
    import exports.document

    data = tmp_path / "data"
    db = await open_database(f"sqlite:///{data / 'hcc.db'}")
    try:
        await setup(db)
        service = Service(db, FORM, data / "photos", Clock(NOW), export_dir=data / "exports")
        inbox = service.deliverers["test"] = Inbox()
        await say(service, "contact", await invite(db, "STP"))
        writing, never = asyncio.Event(), asyncio.Event()
        loop = asyncio.get_running_loop()

        def half_written(data, unit, path, *, partial):
            partial.write_bytes(b"PK half a document")
            loop.call_soon_threadsafe(writing.set)
            asyncio.run_coroutine_threadsafe(never.wait(), loop).result(timeout=30)
            raise RuntimeError("the process is gone before it gets here")

        monkeypatch.setattr(exports.document, "build_unit_document", half_written)
        task = asyncio.create_task(service.jobs.unit_document("test", "contact", "contact", "STP"))
        await writing.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (data / "exports" / JOBS_DIR).is_dir() and any((data / "exports" / "don-vi").rglob("*.part"))
        never.set()
        restarted = Service(db, FORM, data / "photos", Clock(NOW), export_dir=data / "exports")
        restarted.deliverers["test"] = inbox
        assert 1 == await restarted.jobs.recover()
        assert 0 == await restarted.jobs.recover()
    finally:
        await db.dispose()
    expected = UNIT_DOCUMENT_INTERRUPTED.format(at="09:00 ngày 27/03/2017", command="tải báo cáo")
    assert [("contact", expected, [])] == inbox.sent
    assert [] == [p.name for p in (data / "exports" / "don-vi").rglob("*.part")]  # one folder per campaign


async def test_download_link__into_an_unfinished_export__refused(tmp_path):
    exports_dir = tmp_path / "exports"
    building = exports_dir / "tong-hop_1_20170327-090000.partial"
    building.mkdir(parents=True)
    (building / "tong-hop.xlsx").write_bytes(b"half")
    (exports_dir / "tong-hop_1_20170327-090000.zip.part").write_bytes(b"PK half")
    links = DownloadLinks(load_or_create_key(tmp_path), exports_dir)
    port = free_port()
    runner = await start_app(build_app(links), "127.0.0.1", port)
    try:
        for target in (building / "tong-hop.xlsx", exports_dir / "tong-hop_1_20170327-090000.zip.part"):
            url_path, _ = links.url_path(target)
            assert (404, texts.LINK_EXPIRED.encode()) == await fetch(f"http://127.0.0.1:{port}{url_path}")
    finally:
        await runner.cleanup()
