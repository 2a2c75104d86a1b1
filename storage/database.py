"""One engine, one session factory, and the per-backend connection settings."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError, TimeoutError as PoolTimeout

from storage.errors import ConfigurationError
from storage.paragraph_order import register_sqlite

# The async engine and the sessions load the ORM and, through the audit, every
# model: imported where an engine is made, not by what only parses a URL (the
# configuration) or reads SQLite without them (sqlite_reading_engine).
if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

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
    # SQLAlchemy takes any number; the driver would refuse it only when connecting, with a traceback.
    if parsed.port is not None and not 0 < parsed.port <= 65535:
        raise ConfigurationError(f"a port from 1 to 65535 in the database URL, not {parsed.port}")
    return parsed.set(drivername=driver)


# The execution option that marks a transaction as one that will write.
WRITES = "nmrf_writes"


def create_engine(url: str | URL, *, echo: bool = False, sqlite_busy_ms: int = 30_000, **kwargs: Any) -> AsyncEngine:
    from sqlalchemy.ext.asyncio import create_async_engine

    target = async_url(url)
    engine = create_async_engine(target, echo=echo, **kwargs)
    event.listen(engine.sync_engine, "before_cursor_execute", _without_nul, retval=True)
    if target.get_backend_name() == "sqlite":
        _configure_sqlite(engine.sync_engine, in_memory=target.database in (None, "", ":memory:"), busy_ms=sqlite_busy_ms)
    return engine


def sqlite_reading_engine(url: str | URL, *, sqlite_busy_ms: int = 30_000) -> Engine:
    """A synchronous engine on a SQLite database (Python's sqlite3), connected as
    create_engine's are, for a command that only reads: what aiosqlite adds is
    an event loop, a thread and a hand-over per row, none of which a read that
    runs alone needs (a quarter of `recommendations list`'s time on a national
    registry). PostgreSQL has no synchronous driver here: create_engine."""
    from sqlalchemy import create_engine as create_sync_engine

    target = async_url(url)
    if target.get_backend_name() != "sqlite":
        raise ValueError(f"not a SQLite database: {target.get_backend_name()}")
    engine = create_sync_engine(target.set(drivername="sqlite"))
    event.listen(engine, "before_cursor_execute", _without_nul, retval=True)
    _configure_sqlite(engine, in_memory=target.database in (None, "", ":memory:"), busy_ms=sqlite_busy_ms)
    return engine


NUL = "\x00"
NUL_STANDS_FOR = "\ufffd"


def _without_nul(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool) -> tuple[str, Any]:
    """PostgreSQL text cannot hold NUL: one pasted into a narrative or an
    imported cell would fail the whole save there and be kept on SQLite. It
    becomes U+FFFD on both, so every update is kept and reads the same."""
    # "executemany" may still hand over one row (SQLAlchemy's insertmanyvalues).
    if executemany and isinstance(parameters, (list, tuple)) and parameters and isinstance(parameters[0], (list, tuple, dict)):
        return statement, [_scrubbed(row) for row in parameters]
    return statement, _scrubbed(parameters)


def _scrubbed(row: Any) -> Any:
    if isinstance(row, dict):
        if any(isinstance(v, str) and NUL in v for v in row.values()):
            return {k: v.replace(NUL, NUL_STANDS_FOR) if isinstance(v, str) else v for k, v in row.items()}
    elif isinstance(row, (tuple, list)) and any(isinstance(v, str) and NUL in v for v in row):
        return type(row)(v.replace(NUL, NUL_STANDS_FOR) if isinstance(v, str) else v for v in row)
    return row


def _configure_sqlite(engine: Engine, *, in_memory: bool, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
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
        # How long a writer waits for another's lock before "database is locked".
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.close()
        # Natural paragraph order in SQL (storage.paragraph_order); PostgreSQL has it built in.
        register_sqlite(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A transaction that will write takes the write lock at once, waiting
        # for it under busy_timeout. A deferred one that read first fails at
        # its first write, without waiting, when another writer got there.
        immediate = conn.get_execution_options().get(WRITES) is True
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@asynccontextmanager
async def writing(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session in a transaction that will write: on SQLite it begins with
    the write lock (BEGIN IMMEDIATE), so concurrent writers queue rather than
    fail; on PostgreSQL it is an ordinary transaction."""
    async with sessions() as session, session.begin():
        await session.connection(execution_options={WRITES: True})
        yield session


async def dispose(engine: AsyncEngine, *, after_error: bool = False) -> None:
    """Close the engine for good, before its event loop ends. After an error
    the engine may hold an aiosqlite connection that failed to open, whose
    worker thread answers its finaliser later: collected here, while the
    loop still runs, it does not end in "Event loop is closed" on that thread."""
    await engine.dispose()
    if after_error:
        gc.collect()
        await asyncio.sleep(0.01)


def is_unavailable(exc: BaseException) -> bool:
    """Whether an error means the database is busy or out of reach for now
    (locked, restarting, the network to it down), so the same work may
    succeed later, rather than a fault in the work itself.

    The drivers do not agree: SQLAlchemy wraps what the driver raises while
    running a statement (OperationalError, InterfaceError, or any DBAPIError
    that invalidated the connection), but asyncpg's connect raises the
    socket's own OSError (ConnectionRefusedError, a timeout) unwrapped."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or _asyncpg_connection_error(exc.orig)
    if isinstance(exc, (OSError, asyncio.TimeoutError)):
        return True
    return _asyncpg_connection_error(exc)


def _asyncpg_connection_error(exc: BaseException | None) -> bool:
    # By name, so SQLite-only installs need no asyncpg import: its connection
    # errors (the server starting up or shutting down, too many clients).
    names = {cls.__name__ for cls in type(exc).__mro__} if exc is not None else set()
    return bool(names & {"PostgresConnectionError", "CannotConnectNowError", "TooManyConnectionsError", "ConnectionDoesNotExistError", "AdminShutdownError", "ConnectionFailureError"})


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from storage.audit import AuditedSession

    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=AuditedSession)
