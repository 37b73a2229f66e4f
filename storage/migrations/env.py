"""Alembic environment: migrates the connection handed over by storage.db.open_database.

Run by hand (e.g. `alembic revision --autogenerate`), it connects to `sqlalchemy.url` from the Alembic
config or, failing that, to the HCC_DATABASE_URL environment variable. Logging is left as the host
program configured it (no fileConfig).
"""

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage import models
from storage.db import normalize_url

config = context.config
target_metadata = models.Base.metadata


def _configure_and_run(connection: Connection) -> None:
    # render_as_batch: SQLite can only ALTER a table by copying it, which batch mode does for us.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("HCC_DATABASE_URL")
    if not url:
        raise RuntimeError("no database: set sqlalchemy.url in the Alembic config or HCC_DATABASE_URL")
    return normalize_url(url)


async def _run_with_own_engine() -> None:
    engine = create_async_engine(_url())
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    """Emit the migration SQL instead of running it (`alembic upgrade head --sql`)."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the given connection, or open one from the configured URL."""
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(_run_with_own_engine())
    else:
        _configure_and_run(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
