"""``nmrf-bot db upgrade``: run the Alembic migrations, then sync reference data."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.database import session_factory

# Checking the schema (current_revision_of, head_revision) is every command's
# first step, and loads neither the async engine nor the models: a read
# without them (storage.recommendation_list) pays for neither.
if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# A migration file's own `revision = ...` and `down_revision = ...` lines.
_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+?)\s*$", re.M)


def alembic_config() -> Config:
    # Alembic is loaded to migrate, not by every command that checks the schema.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


class MigrationError(RuntimeError):
    """A migration left the database inconsistent; it was rolled back."""


def _run(connection: Connection, cfg: Config, revision: str, down: bool) -> None:
    # env.py uses this connection, so the migration runs inside our event loop
    # and our transaction instead of opening an engine of its own.
    from alembic import command

    cfg.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(cfg, revision)


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # Straight to the driver: a PRAGMA inside a transaction is ignored, and
    # SQLAlchemy would begin one for any statement it runs.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    cursor.close()


async def _migrate(engine: AsyncEngine, revision: str, *, down: bool) -> None:
    """One transaction. On SQLite, a migration that rebuilds a table others
    refer to (batch mode) must run with foreign keys off, as SQLite's own
    procedure for ALTER TABLE says; they are checked before the commit."""
    cfg = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as conn:
        if sqlite:
            await conn.run_sync(_sqlite_foreign_keys, False)
        try:
            async with conn.begin():
                await conn.run_sync(_run, cfg, revision, down)
                if sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise MigrationError(f"foreign keys broken by the migration to {revision}: {broken[:5]}")
        finally:
            if sqlite:
                await conn.run_sync(_sqlite_foreign_keys, True)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    from storage.reference import ensure_mechanisms

    await _migrate(engine, revision, down=False)
    async with session_factory(engine)() as session, session.begin():
        await ensure_mechanisms(session)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """For tests and for rolling back an upgrade; a downgrade can drop data."""
    await _migrate(engine, revision, down=True)


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


def current_revision_of(connection: Connection) -> str | None:
    """The revision alembic_version holds (None before the first upgrade or
    after a downgrade to base), read as Alembic's MigrationContext would."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(versions) > 1:
        raise RuntimeError(f"the database is at several revisions at once: {', '.join(sorted(versions))}")
    return versions[0] if versions else None


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(current_revision_of)


def head_revision() -> str | None:
    """The newest migration's revision: the one no other migration revises.

    Read from each migration file's own ``revision`` and ``down_revision``
    lines rather than through Alembic's ScriptDirectory, which imports Alembic
    and every migration: each command checks the schema before it works, and
    that was a third of a second of each (tests/test_startup.py checks that
    both give the same head)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        revisions.add(ast.literal_eval(found["revision"]))
        down = ast.literal_eval(found.get("down_revision", "None"))
        revised.update((down,) if isinstance(down, str) else down or ())
    heads = revisions - revised
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have several heads: {', '.join(sorted(heads))}")
    return next(iter(heads), None)
