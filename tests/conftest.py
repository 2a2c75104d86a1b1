"""Fixtures: a migrated database on every backend under test.

SQLite always; PostgreSQL too when NMRF_TEST_DATABASE_URL is set (CI sets it).
Databases are built by the real Alembic migrations, never by create_all, so
the tests exercise what `nmrf-bot db upgrade` builds, triggers included.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.assignments import assign
from storage.conversations import link_identity
from storage.database import create_engine, session_factory
from storage.enums import FocalPointRole, ImportSource, InstitutionKind, Platform
from storage.importers.run import import_file
from storage.migrate import rebuild_from_scratch
from storage.models import Base, Recommendation
from storage.network import FocalPointData, InstitutionData, add_focal_point, add_institution
from storage.reference import ensure_mechanisms
from storage.selection import Selector

def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker has a database of its own (test_gw0,
    test_gw1, ...), made on first use: the fixtures empty theirs between
    tests, which on one shared database would pull it away from the other."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


async def _create_database(url: str) -> None:
    parsed = make_url(url)
    server = create_async_engine(parsed.set(drivername="postgresql+asyncpg", database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with server.connect() as conn:
            known = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database})
            if not known:
                await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        await server.dispose()


PG_URL = _worker_database(os.environ.get("NMRF_TEST_DATABASE_URL"))
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXTURES = Path(__file__).parent / "fixtures"


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await rebuild_from_scratch(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str | None:
    if PG_URL:
        if os.environ.get("PYTEST_XDIST_WORKER"):
            asyncio.run(_create_database(PG_URL))
        asyncio.run(_migrate(PG_URL))
    return PG_URL


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        async with session_factory(engine)() as session, session.begin():
            await ensure_mechanisms(session)
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_migrated: str | None) -> Iterator[str]:
    """A URL to a freshly migrated, empty database (mechanisms seeded)."""
    if request.param == "sqlite":
        path = tmp_path / "nmrf.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
    else:
        assert pg_migrated
        asyncio.run(_reset_postgres(pg_migrated))
        yield pg_migrated


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def backend(engine: AsyncEngine) -> str:
    return engine.dialect.name


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Six UPR recommendations; the Ministry of Justice answers for three."""
    await import_file(sessions, ImportSource.UPRINFO, FIXTURES / "uprinfo_small.csv")
    async with sessions() as session, session.begin():
        await add_institution(session, InstitutionData("MOJ", "Ministry of Justice", InstitutionKind.MINISTRY))
        await add_institution(session, InstitutionData("MOW", "Ministry of Women", InstitutionKind.MINISTRY))
        ana = await add_focal_point(session, FocalPointData("Ana Pérez", "MOJ", FocalPointRole.TECHNICAL, "en", "America/Montevideo", date(2025, 1, 1), "ana@justicia.example"))
        ids = list((await session.scalars(select(Recommendation.id).order_by(Recommendation.id))).all())
        await assign(session, "MOJ", Selector(ids=tuple(ids[:3])))
        await assign(session, "MOW", Selector(ids=tuple(ids[3:])))
        await link_identity(session, ana.id, Platform.TELEGRAM, "", "111", "111")
    return {"ana": ana.id, "mine": ids[0], "not_mine": ids[4], "mine_all": ids[:3]}




@pytest.fixture
def fault_report(request: pytest.FixtureRequest) -> Iterator[dict[str, object]]:
    """Counts a fault test records; appended as a JSON line to the file in
    NMRF_FAULT_REPORT (set by bench/run_all.py), with the test's outcome."""
    counts: dict[str, object] = {}
    yield counts
    target = os.environ.get("NMRF_FAULT_REPORT")
    if target and counts:
        line = {"test": request.node.name, **counts}
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps(line, default=str) + "\n")
