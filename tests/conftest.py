"""Shared fixtures: an open, migrated database on SQLite and (when configured) PostgreSQL."""

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import Database, normalize_url, open_database

# The local PostgreSQL must not be reached through an HTTP proxy configured for the machine.
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

POSTGRES_URL_ENV = "HCC_TEST_POSTGRES_URL"


async def _drop_schema(url: str, schema: str) -> None:
    engine = create_async_engine(normalize_url(url))
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


async def _sqlite(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(f"sqlite:///{tmp_path / 'hcc.db'}")
    try:
        yield database
    finally:
        await database.dispose()


async def _postgres() -> AsyncIterator[Database]:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set: PostgreSQL tests skipped")
    schema = f"t_{secrets.token_hex(6)}"
    try:
        database = await open_database(url, schema=schema)
        try:
            yield database
        finally:
            await database.dispose()
    finally:
        await _drop_schema(url, schema)


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An open, migrated database: SQLite in tmp_path, or PostgreSQL in a fresh schema."""
    databases = _sqlite(tmp_path) if request.param == "sqlite" else _postgres()
    async for database in databases:
        yield database


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """An open, migrated SQLite database in tmp_path."""
    async for database in _sqlite(tmp_path):
        yield database
