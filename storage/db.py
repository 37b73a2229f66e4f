"""Opening the database: URL normalisation, engine settings, migrations on start, transactions."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.sqlite_inline import InlineConnection, inline_creator

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
FOLDER_MODE, FILE_MODE = 0o700, 0o600  # the SQLite file and the folder made for it (personal data)

_SQLITE_IMMEDIATE = "hcc_sqlite_begin_immediate"  # execution option read by _begin_sqlite
_MIGRATION_LOCK_KEY = int.from_bytes(b"hcc-mig", "big")  # PostgreSQL advisory lock for migrations

_ASYNC_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}

# PostgreSQL connection pool: at most PG_POOL_SIZE transactions at once; more queue in-process (first come first
# served) instead of waiting in the pool, where a burst of messages made some wait past pool_timeout ("cannot
# save"). Transactions never use the overflow connections: those are closed when given back, and a transaction
# opening a new connection each time is slow. The overflow is left for reads outside transactions.
PG_POOL_SIZE = 10
PG_MAX_OVERFLOW = 10
PG_POOL_TIMEOUT = 10  # seconds a checkout may wait in the pool itself
# How long a transaction may wait for its turn before the person is told that we cannot save right now: long
# enough for a burst of a thousand messages to drain, short enough that an unreachable database is not a hang.
QUEUE_TIMEOUT = 30.0

# While connecting, any of these means "the database is not there or not letting us in".
_CONNECT_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, DBAPIError)


class WriteLock:
    """SQLite's single writer, in-process: first come first served, except that a `first` transaction (a short
    one on the path of an acknowledgement: writing an update to the inbox) goes before those already waiting."""

    def __init__(self) -> None:
        self._locked = False
        self._waiters: collections.deque[asyncio.Future] = collections.deque()

    @contextlib.asynccontextmanager
    async def hold(self, first: bool = False) -> AsyncIterator[None]:
        if self._locked or self._waiters:
            future = asyncio.get_running_loop().create_future()
            (self._waiters.appendleft if first else self._waiters.append)(future)
            try:
                await future  # resolved by release: the lock is ours
            except BaseException:
                if future.done() and not future.cancelled():
                    self._release()  # handed over just as we were cancelled: pass it on
                elif future in self._waiters:
                    self._waiters.remove(future)
                raise
        else:
            self._locked = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiters:
            future = self._waiters.popleft()
            if not future.done():
                future.set_result(None)  # stays locked: handed to the next one
                return
        self._locked = False


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; str() is one line for the operator, without the password."""


# What a transaction raises when the database is away or too busy (the connection lost or refused, the pool's wait
# run out, a statement timed out): the service, the inbox and the photo check wait or say "cannot save" on these.
DB_ERRORS = (OperationalError, DBAPIError, DatabaseUnavailable, OSError, ConnectionError, PoolTimeout,
             asyncio.TimeoutError)


def normalize_url(url: str) -> str:
    """Return the async-driver form of a sqlite:/// or postgresql:// URL; ValueError (one line) if it is wrong."""
    scheme, sep, rest = url.partition("://")
    target = _ASYNC_SCHEMES.get(scheme.lower()) if sep else None
    if target is None:
        shown = scheme if sep else url.partition(":")[0]
        raise ValueError(f"expected a sqlite:/// or postgresql:// URL, got '{shown}'")
    normalized = f"{target}://{rest}"
    try:
        parsed = make_url(normalized)
    except (ValueError, ArgumentError):  # a port that is not a number, an unclosed [ ...; never show the password
        shape = "sqlite:///data/hcc.db" if target.startswith("sqlite") else f"{scheme}://user:password@host:5432/database"
        raise ValueError(f"cannot read the URL; expected {shape}") from None
    if target.startswith("postgresql"):
        _ssl_setting(parsed.query)  # a wrong sslmode stops the start, not the first connection
    return normalized


# libpq's sslmode values, which asyncpg's `ssl` argument takes as they are.
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_SSL_KEYS = ("sslmode", "ssl", "sslrootcert")
# ssl=true is asyncpg's ssl=True: TLS, the server's certificate checked against the system's CAs and its name.
_SSL_FLAGS: dict[str, str | bool] = {"true": True, "1": True, "false": "disable", "0": "disable"}


def _ssl_setting(query: Mapping[str, Any]) -> str | bool | ssl.SSLContext | None:
    """What asyncpg's `ssl` argument should be for the URL's sslmode / ssl / sslrootcert (None: its default).

    asyncpg takes neither `sslmode` nor `ssl=true` as they come in a URL (SQLAlchemy passes the query on as
    keyword arguments): libpq's `?sslmode=require` would be a TypeError at the first connection.
    """
    values = {}
    for key in _SSL_KEYS:
        value = query.get(key)
        if isinstance(value, tuple):
            raise ValueError(f"{key} is given more than once")
        if value is not None:
            values[key] = value
    modes = []
    if "sslmode" in values:
        if values["sslmode"].lower() not in SSL_MODES:
            raise ValueError(f"sslmode must be one of {', '.join(SSL_MODES)}, got '{values['sslmode']}'")
        modes.append(values["sslmode"].lower())
    if "ssl" in values:
        flag = values["ssl"].lower()
        if flag not in SSL_MODES and flag not in _SSL_FLAGS:
            raise ValueError(f"ssl must be true, false or one of {', '.join(SSL_MODES)}, got '{values['ssl']}'")
        modes.append(_SSL_FLAGS.get(flag, flag))
    if len(set(modes)) > 1:
        raise ValueError(f"sslmode={values['sslmode']} and ssl={values['ssl']} disagree: give only sslmode")
    mode = modes[0] if modes else None
    rootcert = values.get("sslrootcert")
    if rootcert is None:
        return mode
    if not Path(rootcert).is_file():
        raise ValueError(f"sslrootcert: {rootcert} is not a file; expected the server's CA certificate (PEM)")
    if mode not in (None, True, "require", "verify-ca", "verify-full"):
        raise ValueError(f"sslrootcert needs sslmode=require, verify-ca or verify-full, got sslmode={mode}")
    # As libpq: with a root certificate, require checks the server's certificate too (as verify-ca).
    try:
        context = ssl.create_default_context(cafile=rootcert)
    except ssl.SSLError:
        raise ValueError(f"sslrootcert: {rootcert} holds no PEM certificate") from None
    context.check_hostname = mode in (None, True, "verify-full")
    return context


def _masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _unavailable(url: str, exc: BaseException) -> DatabaseUnavailable:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    reason = lines[0].strip() if lines else type(cause).__name__
    password = make_url(url).password
    if password:
        reason = reason.replace(str(password), "***")
    if len(reason) > 300:
        reason = reason[:297] + "..."
    return DatabaseUnavailable(f"cannot reach the database at {_masked(url)}: {reason}")


def _is_disconnect(exc: BaseException) -> bool:
    return isinstance(exc, OSError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def _json_dumps(value: Any) -> str:
    # Keep Vietnamese readable when someone looks at the database directly.
    return json.dumps(value, ensure_ascii=False)


@dataclass
class Database:
    """An open database: the engine, its session factory and, on SQLite, the single-writer lock."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    is_sqlite: bool
    write_lock: WriteLock | None
    # PostgreSQL: at most as many transactions at once as the pool keeps connections; the others queue here.
    slots: asyncio.Semaphore | None = None

    @contextlib.asynccontextmanager
    async def transaction(self, *, first: bool = False) -> AsyncIterator[AsyncSession]:
        """Yield a session inside one transaction: commit on success, roll back on exception. On SQLite a `first`
        transaction goes before the writers already waiting (keep it short)."""
        async with self._turn(first):
            async with self.sessionmaker() as session, session.begin():
                if self.is_sqlite:
                    await session.connection(execution_options={_SQLITE_IMMEDIATE: True})
                yield session

    @contextlib.asynccontextmanager
    async def core_transaction(self, *, first: bool = False) -> AsyncIterator[AsyncConnection]:
        """`transaction` for Core statements only (text, insert, update): a connection, no ORM session to build,
        flush and close. For the short transactions on every update's path (the inbox's write)."""
        async with self._turn(first):
            async with self.engine.connect() as conn:
                if self.is_sqlite:
                    await conn.execution_options(**{_SQLITE_IMMEDIATE: True})
                async with conn.begin():
                    yield conn

    @contextlib.asynccontextmanager
    async def _turn(self, first: bool) -> AsyncIterator[None]:
        """Wait for a connection slot (PostgreSQL) or the single writer's turn (SQLite)."""
        if self.slots is not None:
            if not self.slots.locked():
                await self.slots.acquire()  # free: no timer needed
            else:
                try:
                    # asyncio.timeout cancels the acquire in place (no extra task whose permit could be lost).
                    async with asyncio.timeout(QUEUE_TIMEOUT):
                        await self.slots.acquire()
                except TimeoutError:
                    raise PoolTimeout(f"no database connection free within {QUEUE_TIMEOUT:.0f} s") from None
        try:
            async with self.write_lock.hold(first) if self.write_lock else contextlib.nullcontext():
                yield
        finally:
            if self.slots is not None:
                self.slots.release()

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide where transactions begin (see _begin_sqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000", "synchronous=NORMAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _begin_sqlite(conn: Connection) -> None:
    # The driver would only BEGIN before the first write, leaving earlier reads (and all DDL) outside
    # the transaction. Writing transactions BEGIN IMMEDIATE: they take SQLite's write lock up front, so
    # a read-then-write never fails to upgrade its lock when another process (the CLI) has written in
    # between, and busy_timeout makes it wait instead. Other sessions only read and BEGIN DEFERRED, so
    # in WAL mode they never wait for a writer.
    immediate = conn.get_execution_options().get(_SQLITE_IMMEDIATE, False)
    driver = conn.connection.driver_connection
    if isinstance(driver, InlineConnection):  # straight to sqlite3: a statement's whole path for a BEGIN cost more
        driver.begin_now("BEGIN IMMEDIATE" if immediate else "BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _upgrade(sync_conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")


def _create_engine(url: str, schema: str | None) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if schema is not None:
            raise ValueError("schema is only supported on PostgreSQL")
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise ValueError("in-memory SQLite is not supported: give a file, e.g. sqlite:///data/hcc.db")
        _create_private_file(Path(database))
        # No pool_pre_ping: a file does not disconnect, and the ping cost a round trip to the driver's thread
        # on every transaction.
        # SQLite runs on the event loop's thread (storage/sqlite_inline.py): no thread hand-off per call.
        engine = create_async_engine(url, json_serializer=_json_dumps, async_creator=inline_creator(database))
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
        return engine
    server_settings = {"application_name": "hcc-bot"}
    if schema is not None:
        server_settings["search_path"] = postgresql.dialect().identifier_preparer.quote(schema)
    # A database that stops answering (a network partition) must turn into "cannot save right now" within
    # seconds, not hang a person's message until TCP gives up minutes later.
    connect_args: dict[str, Any] = {"server_settings": server_settings, "timeout": 5, "command_timeout": 10}
    tls = _ssl_setting(parsed.query)
    if tls is not None:
        connect_args["ssl"] = tls
    return create_async_engine(
        parsed.difference_update_query(_SSL_KEYS),
        pool_pre_ping=True,
        json_serializer=_json_dumps,
        connect_args=connect_args,
        pool_size=PG_POOL_SIZE,
        max_overflow=PG_MAX_OVERFLOW,
        pool_timeout=PG_POOL_TIMEOUT,
    )


def _create_private_file(path: Path) -> None:
    """The SQLite file (and its folder) owner-only: names and mobiles are personal data (Decree 13/2023).

    SQLite gives its -wal and -shm files the database file's mode; they are set too in case they exist already.
    """
    folder = path.parent
    if not folder.is_dir():
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is filtered by the umask
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, FILE_MODE))  # an empty file is a new database
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            os.chmod(file, FILE_MODE)
        except FileNotFoundError:
            pass
        except PermissionError:  # not ours: whoever set it up chose its mode
            pass


async def open_database(url: str, *, schema: str | None = None, migrate: bool = True) -> Database:
    """Connect, create the schema if asked, apply migrations, and return the open Database."""
    url = normalize_url(url)
    try:
        engine = _create_engine(url, schema)
    except OSError as exc:  # the SQLite file's directory cannot be created
        raise _unavailable(url, exc) from exc
    is_sqlite = engine.dialect.name == "sqlite"
    try:
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except _CONNECT_ERRORS as exc:
            raise _unavailable(url, exc) from exc
        try:
            async with engine.connect() as conn:
                if is_sqlite:
                    await conn.execution_options(**{_SQLITE_IMMEDIATE: True})
                async with conn.begin():
                    if not is_sqlite:  # workers starting together migrate one after the other
                        await conn.execute(
                            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                        )
                    if schema is not None:
                        await conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
                    if migrate:
                        await conn.run_sync(_upgrade)
        except (OSError, DBAPIError) as exc:
            if not _is_disconnect(exc):  # a failing migration is a bug to see in full, not an outage
                raise
            raise _unavailable(url, exc) from exc
    except BaseException:
        await engine.dispose()
        raise
    return Database(
        engine=engine,
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
        is_sqlite=is_sqlite,
        write_lock=WriteLock() if is_sqlite else None,
        slots=None if is_sqlite else asyncio.Semaphore(PG_POOL_SIZE),
    )
