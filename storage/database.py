"""One engine, one session factory, and the per-backend connection settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.audit import AuditedSession
from storage.errors import ConfigurationError

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def async_url(url: str | URL) -> URL:
    """Map ``sqlite:///x`` and ``postgresql://...`` to their async drivers."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise ConfigurationError(f"not a database URL: {exc}") from None
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ConfigurationError(
            f"unsupported database {parsed.drivername!r}: use sqlite:///FILE or postgresql://..."
        )
    return parsed.set(drivername=driver)


def create_engine(url: str | URL, *, echo: bool = False, **kwargs: Any) -> AsyncEngine:
    target = async_url(url)
    engine = create_async_engine(target, echo=echo, **kwargs)
    if target.get_backend_name() == "sqlite":
        _configure_sqlite(engine, in_memory=target.database in (None, "", ":memory:"))
    return engine


def _configure_sqlite(engine: AsyncEngine, *, in_memory: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN and breaks
        # SAVEPOINT; SQLAlchemy's documented fix is to take it over.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            # WAL lets the scheduler read while a handler writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=AuditedSession)
