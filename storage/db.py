"""Opening the database: URL normalisation, engine settings, migrations on start, transactions."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.sqlite_inline import inline_creator

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")

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


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; str() is one line for the operator, without the password."""


def normalize_url(url: str) -> str:
    """Return the async-driver form of a sqlite:/// or postgresql:// URL."""
    scheme, sep, rest = url.partition("://")
    target = _ASYNC_SCHEMES.get(scheme.lower()) if sep else None
    if target is None:
        shown = scheme if sep else url.partition(":")[0]
        raise ValueError(f"expected a sqlite:/// or postgresql:// URL, got '{shown}'")
    return f"{target}://{rest}"


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
    write_lock: asyncio.Lock | None
    # PostgreSQL: at most as many transactions at once as the pool keeps connections; the others queue here.
    slots: asyncio.Semaphore | None = None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Yield a session inside one transaction: commit on success, roll back on exception."""
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
            async with self.write_lock or contextlib.nullcontext():
                async with self.sessionmaker() as session, session.begin():
                    if self.is_sqlite:
                        await session.connection(execution_options={_SQLITE_IMMEDIATE: True})
                    yield session
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
        Path(database).parent.mkdir(parents=True, exist_ok=True)
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
    return create_async_engine(
        url,
        pool_pre_ping=True,
        json_serializer=_json_dumps,
        # A database that stops answering (a network partition) must turn into "cannot save right now" within
        # seconds, not hang a person's message until TCP gives up minutes later.
        connect_args={"server_settings": server_settings, "timeout": 5, "command_timeout": 10},
        pool_size=PG_POOL_SIZE,
        max_overflow=PG_MAX_OVERFLOW,
        pool_timeout=PG_POOL_TIMEOUT,
    )


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
        write_lock=asyncio.Lock() if is_sqlite else None,
        slots=None if is_sqlite else asyncio.Semaphore(PG_POOL_SIZE),
    )
