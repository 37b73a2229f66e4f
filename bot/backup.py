"""`hcc-bot backup` and `hcc-bot restore`: one checksummed archive of the database, photos and keys, while it runs."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import make_url

from conversations import texts
from exports.private_files import FILE_MODE, FOLDER_MODE

FORMAT = "hcc-bot-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"  # the same checksums, for `sha256sum -c`
SQLITE_MEMBER = "database/hcc.db"
PG_MEMBER = "database/postgresql.dump"  # pg_dump's custom format, for pg_restore
EXPORTS_INDEX = "exports-index.json"
KEYS = "*.key"  # every key in the data folder: download links, console and web form sessions, and any later one
IGNORED_IN_EMPTY = {"lost+found"}  # a fresh volume's own folder


class BackupError(Exception):
    """What went wrong, as one line for the operator (exit code 2)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    files: int
    photos: int
    size: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- PostgreSQL tools -------------------------------------------------------------------------------------------


def libpq_url(database_url: str) -> tuple[str, dict[str, str]]:
    """The libpq address of a SQLAlchemy URL, without the password, and the environment that carries it."""
    url = make_url(database_url)
    env = {"PGPASSWORD": url.password} if url.password else {}
    host = quote(url.host or "localhost", safe="")
    user = f"{quote(url.username, safe='')}@" if url.username else ""
    port = f":{url.port}" if url.port else ""
    query = {k: v for k, v in url.query.items() if k in ("sslmode", "sslrootcert", "sslcert", "sslkey")}
    if "ssl" in url.query and "sslmode" not in query:
        query["sslmode"] = {"true": "require", "false": "disable"}.get(str(url.query["ssl"]).lower(),
                                                                      str(url.query["ssl"]))
    tail = ("?" + "&".join(f"{k}={v}" for k, v in query.items())) if query else ""
    return f"postgresql://{user}{host}{port}/{quote(url.database or '', safe='')}{tail}", env


def _major(version_text: str) -> int:
    found = re.search(r"(\d+)(?:\.\d+)?", version_text)
    return int(found.group(1)) if found else 0


def find_pg_tool(name: str, server_major: int, search: tuple[str, ...] = ("/usr/lib/postgresql",)) -> str:
    """pg_dump or pg_restore able to handle this server: the server's own version's, else the nearest newer one."""
    candidates: list[tuple[int, str]] = []
    for root in search:
        for binary in Path(root).glob(f"*/bin/{name}"):
            if binary.parent.parent.name.isdigit():
                candidates.append((int(binary.parent.parent.name), str(binary)))
    on_path = shutil.which(name)
    if on_path:
        try:
            out = subprocess.run([on_path, "--version"], capture_output=True, text=True, timeout=30).stdout
            candidates.append((_major(out.rsplit(")", 1)[-1]), on_path))
        except (OSError, subprocess.SubprocessError):
            pass
    usable = sorted((major, path) for major, path in candidates if major >= server_major)
    if not usable:
        raise BackupError(texts.BACKUP_PG_TOOL_MISSING.format(tool=name, major=server_major))
    exact = [path for major, path in usable if major == server_major]
    return exact[0] if exact else usable[0][1]  # the nearest newer one


async def _pg_fetch(database_url: str, sql: str):
    """One value from PostgreSQL, connected as the bot connects (TLS settings included)."""
    import sqlalchemy as sa

    from storage.db import DatabaseUnavailable, open_database

    try:
        db = await open_database(database_url, migrate=False)
    except DatabaseUnavailable as exc:
        raise BackupError(texts.BACKUP_DB_UNREACHABLE.format(problem=exc)) from None
    try:
        async with db.transaction() as s:
            return (await s.execute(sa.text(sql))).scalar()
    finally:
        await db.dispose()


async def _pg_server_major(database_url: str) -> int:
    return int(await _pg_fetch(database_url, "SHOW server_version_num")) // 10000


def _run_tool(args: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **env})
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["?"])[-1]
        raise BackupError(texts.BACKUP_TOOL_FAILED.format(tool=what, detail=detail))


# -- backup -----------------------------------------------------------------------------------------------------


def _is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def _sqlite_path(database_url: str) -> Path:
    return Path(make_url(database_url).database or "")


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while the bot writes (it waits for the writer's turn)."""
    if not source.is_file():
        raise BackupError(texts.BACKUP_NO_DATABASE.format(path=source))
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive
    finally:
        dst.close()
        src.close()


def _exports_index(exports: Path) -> list[dict]:
    """What the exports folder held (rebuilt from the database on demand, so listed, not copied)."""
    if not exports.is_dir():
        return []
    return [{"path": p.relative_to(exports).as_posix(), "size": p.stat().st_size, "sha256": sha256_file(p)}
            for p in sorted(exports.rglob("*")) if p.is_file() and not p.is_symlink()]


async def backup(settings, out: Path, now: datetime, version: str) -> BackupResult:
    """Write the archive to `out` (0600, written aside and renamed into place: never a half archive)."""
    out = Path(out)
    if out.exists():
        raise BackupError(texts.BACKUP_OUT_EXISTS.format(path=out))
    if not out.parent.is_dir():
        raise BackupError(texts.BACKUP_OUT_FOLDER.format(path=out.parent))
    data_dir = Path(settings.data_dir)
    with tempfile.TemporaryDirectory(prefix=".hcc-backup-", dir=out.parent) as staging_name:
        staging = Path(staging_name)
        os.chmod(staging, FOLDER_MODE)
        (staging / "database").mkdir(mode=FOLDER_MODE)
        # The database first, then the photos: photos are written before the rows that name them, so every
        # photo the copied database names is already there when the photos are copied.
        if _is_sqlite(settings.database_url):
            kind = "sqlite"
            _copy_sqlite(_sqlite_path(settings.database_url), staging / SQLITE_MEMBER)
        else:
            kind = "postgresql"
            major = await _pg_server_major(settings.database_url)
            address, env = libpq_url(settings.database_url)
            _run_tool([find_pg_tool("pg_dump", major), "--format=custom", "--no-owner", "--no-privileges",
                       f"--file={staging / PG_MEMBER}", f"--dbname={address}"], env, "pg_dump")
        members: list[tuple[str, Path]] = [(SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER,
                                            staging / (SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER))]
        for key in sorted(data_dir.glob(KEYS)):
            if key.is_file() and not key.is_symlink():
                members.append((f"data/{key.name}", key))
        photos = 0
        photos_dir = data_dir / "photos"
        if photos_dir.is_dir():
            for path in sorted(photos_dir.rglob("*")):
                if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
                    members.append((f"data/photos/{path.relative_to(photos_dir).as_posix()}", path))
                    photos += 1
        index = staging / EXPORTS_INDEX
        index.write_text(json.dumps(_exports_index(data_dir / "exports"), ensure_ascii=False, indent=1), "utf-8")
        members.append((EXPORTS_INDEX, index))
        files = {name: {"sha256": sha256_file(path), "size": path.stat().st_size} for name, path in members}
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "created_at": now.isoformat(),
                    "hcc_bot_version": version, "database": kind, "files": files}
        sums = "".join(f"{entry['sha256']}  {name}\n" for name, entry in files.items())
        partial = staging / "archive.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        # compresslevel 1: the photos (most of the bytes) do not shrink; the database does, even at level 1.
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=1) as tar:
            for name, body in ((MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1)), (SUMS, sums)):
                data = body.encode()
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), FILE_MODE, int(now.timestamp())
                tar.addfile(info, io.BytesIO(data))
            for name, path in members:
                info = tar.gettarinfo(str(path), arcname=name)
                info.mode, info.uid, info.gid, info.uname, info.gname = FILE_MODE, 0, 0, "", ""
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, out)
    return BackupResult(out, len(members), photos, out.stat().st_size)


# -- restore ----------------------------------------------------------------------------------------------------


def _read_archive(archive: Path, staging: Path) -> dict:
    """Extract into `staging` and check every file against the manifest; the manifest."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:  # only plain files and folders with relative names (Python < 3.11.4 too)
                parts = Path(member.name).parts
                if not (member.isfile() or member.isdir()) or member.name.startswith("/") or ".." in parts:
                    raise tarfile.TarError(member.name)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(staging, members, filter="data")
            else:
                tar.extractall(staging, members)
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise BackupError(texts.RESTORE_NOT_AN_ARCHIVE.format(path=archive, problem=type(exc).__name__)) from None
    try:
        manifest = json.loads((staging / MANIFEST).read_text("utf-8"))
        assert manifest["format"] == FORMAT and isinstance(manifest["files"], dict)
    except (OSError, ValueError, KeyError, AssertionError, TypeError):
        raise BackupError(texts.RESTORE_NOT_AN_ARCHIVE.format(path=archive, problem=MANIFEST)) from None
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise BackupError(texts.RESTORE_NEWER_FORMAT.format(path=archive))
    for name, entry in manifest["files"].items():
        path = (staging / name).resolve()
        if not path.is_relative_to(staging.resolve()) or not path.is_file() or sha256_file(path) != entry["sha256"]:
            raise BackupError(texts.RESTORE_CHECKSUM.format(name=name))
    return manifest


def _data_dir_in_use(data_dir: Path, sqlite_file: Path | None) -> str | None:
    """What makes the target not empty, or None."""
    if sqlite_file is not None and sqlite_file.exists() and sqlite_file.stat().st_size > 0:
        return str(sqlite_file)
    if data_dir.is_dir():
        for entry in sorted(data_dir.iterdir()):
            if entry.name not in IGNORED_IN_EMPTY:
                return str(entry)
    elif data_dir.exists():
        return str(data_dir)
    return None


async def _pg_has_tables(database_url: str) -> bool:
    return bool(await _pg_fetch(database_url, "SELECT count(*) FROM information_schema.tables "
                                              "WHERE table_schema = ANY(current_schemas(false))"))


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    os.chmod(target, FILE_MODE)


async def restore(settings, archive: Path) -> dict:
    """Restore the archive into an empty data folder and database; the manifest. Refuses a non-empty target."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(texts.RESTORE_NO_FILE.format(path=archive))
    data_dir = Path(settings.data_dir)
    sqlite_target = _sqlite_path(settings.database_url) if _is_sqlite(settings.database_url) else None
    busy = _data_dir_in_use(data_dir, sqlite_target)
    if busy:
        raise BackupError(texts.RESTORE_NOT_EMPTY.format(path=busy))
    if sqlite_target is None and await _pg_has_tables(settings.database_url):
        raise BackupError(texts.RESTORE_DB_NOT_EMPTY.format(url=make_url(settings.database_url).database))
    staging_parent = data_dir.parent if data_dir.parent.is_dir() else Path(tempfile.gettempdir())
    with tempfile.TemporaryDirectory(prefix=".hcc-restore-", dir=staging_parent) as staging_name:
        staging = Path(staging_name)
        os.chmod(staging, FOLDER_MODE)
        manifest = _read_archive(archive, staging)
        kind = manifest.get("database")
        if (kind == "sqlite") != (sqlite_target is not None):
            raise BackupError(texts.RESTORE_KIND_MISMATCH.format(backup=kind,
                                                                 target="sqlite" if sqlite_target else "postgresql"))
        data_dir.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        os.chmod(data_dir, FOLDER_MODE)
        if sqlite_target is not None:
            _place(staging / SQLITE_MEMBER, sqlite_target)
        else:
            major = await _pg_server_major(settings.database_url)
            address, env = libpq_url(settings.database_url)
            _run_tool([find_pg_tool("pg_restore", major), "--no-owner", "--no-privileges", "--exit-on-error",
                       f"--dbname={address}", str(staging / PG_MEMBER)], env, "pg_restore")
        for name in manifest["files"]:
            if name.startswith("data/"):
                _place(staging / name, data_dir / name.removeprefix("data/"))
        for folder in [data_dir / "photos", *(p for p in (data_dir / "photos").rglob("*") if p.is_dir())]:
            if folder.is_dir():
                os.chmod(folder, FOLDER_MODE)
    await _repoint_photos(settings)
    return manifest


async def _repoint_photos(settings) -> None:
    """The database names each photo's files by path: point them into this data folder's photos."""
    import sqlalchemy as sa

    from storage.db import open_database
    from storage.models import Photo

    db = await open_database(settings.database_url)  # also brings an older backup's schema up to date
    try:
        async with db.transaction() as s:
            for photo in (await s.execute(sa.select(Photo))).scalars():
                for column in ("original_path", "processed_path"):
                    old = Path(getattr(photo, column))
                    setattr(photo, column, str(Path(settings.photos_dir) / old.parent.name / old.name))
    finally:
        await db.dispose()
