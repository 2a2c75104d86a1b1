"""``nmrf-bot db upgrade``: run the Alembic migrations, then sync reference data."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import session_factory
from storage.reference import ensure_mechanisms

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _upgrade(connection: Connection, cfg: Config, revision: str) -> None:
    # env.py uses this connection, so the migration runs inside our event loop
    # and our transaction instead of opening an engine of its own.
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    cfg = alembic_config()
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, cfg, revision)
    async with session_factory(engine)() as session, session.begin():
        await ensure_mechanisms(session)


async def rebuild_from_scratch(engine: AsyncEngine) -> None:
    """Destroy every table and migrate an empty database to head.

    For tests and benchmarks, never for a deployment. On PostgreSQL the
    ``public`` schema is dropped; a SQLite file is expected to be new.
    """
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
