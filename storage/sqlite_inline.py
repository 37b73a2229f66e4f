"""SQLite run on the event loop's own thread, behind the aiosqlite interface SQLAlchemy's driver adapter uses.

aiosqlite sends every call (cursor, execute, fetch, close, commit) to a worker thread and wakes the event loop
when it is done: about fifty round trips per message here, which cost more CPU than the SQL itself. SQLite is a
library working on a local file; with WAL and synchronous=NORMAL a statement of ours takes microseconds and a
commit does not wait for the disk, so calling it directly is cheaper and blocks the loop for less time than a
thread hand-off takes. The one wait is SQLite's busy timeout while another process (the CLI) holds the write
lock, which it does for milliseconds.

Every coroutine here completes without suspending, so SQLAlchemy's await_only() gets its result at once.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Callable


class InlineCursor:
    """aiosqlite.Cursor's coroutine methods over a sqlite3 cursor."""

    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    async def execute(self, sql: str, parameters: Any = None) -> "InlineCursor":
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> "InlineCursor":
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _RunNow:
    """Stands in for aiosqlite's request queue: SQLAlchemy sets the isolation level through it."""

    @staticmethod
    def put_nowait(item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class InlineConnection:
    """aiosqlite.Connection's coroutine methods over a sqlite3 connection, run at once."""

    def __init__(self, connection: sqlite3.Connection):
        self._conn = connection
        self._tx = _RunNow()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._conn.isolation_level = value

    def begin_now(self, sql: str) -> None:
        """BEGIN at once, straight on the sqlite3 connection (storage/db.py's begin listener)."""
        self._conn.execute(sql)

    async def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        return await (await self.cursor()).execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    def stop(self) -> None:
        """SQLAlchemy's forced close (after a cancelled operation)."""
        self._conn.close()


def inline_creator(database: str) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine: a new inline connection to the file `database`."""

    async def connect() -> InlineConnection:
        # check_same_thread off: the pool may close a connection from the thread that collects garbage.
        return InlineConnection(sqlite3.connect(database, check_same_thread=False))

    return connect
