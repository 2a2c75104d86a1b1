"""Alembic environment.

``nmrf-bot db upgrade`` hands over an open connection (see storage.migrate).
Run directly (``alembic revision --autogenerate``), it reads the database URL
from NMRF_DATABASE_URL, or uses ./nmrf.db.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.database import async_url, create_engine
from storage.models import Base

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure)
    finally:
        await engine.dispose()


def _url() -> str:
    return os.environ.get("NMRF_DATABASE_URL") or "sqlite:///./nmrf.db"


if context.is_offline_mode():
    context.configure(url=str(async_url(_url())), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (connection := context.config.attributes.get("connection")) is not None:
    _configure(connection)
else:
    asyncio.run(_run_with_own_engine(_url()))
