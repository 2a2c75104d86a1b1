"""What every command shares: the configuration, the database, who is acting."""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from storage.clock import Clock, running_on, wall_clock
from storage.errors import ConfigurationError, DatabaseUnreachable

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
    from bot.config import Config

T = TypeVar("T")


class RowSink(Protocol):
    def write(self, row: Mapping[str, Any], /) -> object: ...


S = TypeVar("S", bound=RowSink)


class AppContext:
    def __init__(self, config_path: str | None, clock: Clock = wall_clock) -> None:
        self._config_path = Path(config_path) if config_path else None
        self._config: Config | None = None
        # Every command reads the time from here (and storage below it, through
        # running_on), so a test or a rehearsal decides what "now" is.
        self.clock = clock

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """Today where the secretariat is ([schedule] timezone)."""
        return self.clock().astimezone(ZoneInfo(self.config.schedule.timezone)).date()

    @property
    def config(self) -> Config:
        # Loaded on first use, so `nmrf-bot --help` works with a broken file
        # (and without loading pydantic).
        if self._config is None:
            from bot.config import load_config

            self._config = load_config(self._config_path)
        return self._config

    @property
    def actor(self) -> str:
        try:
            return f"cli:{getpass.getuser()}"
        except (KeyError, OSError):
            return "cli"

    def run(
        self,
        work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]],
        *,
        check_schema: bool = True,
    ) -> T:
        from storage.database import session_factory

        async def with_sessions(engine: AsyncEngine) -> T:
            if check_schema:
                await ensure_current_schema(engine)
            return await work(session_factory(engine))

        return self.run_with_engine(with_sessions)

    def run_with_engine(self, work: Callable[[AsyncEngine], Awaitable[T]], **engine_options: Any) -> T:
        """``engine_options``: for storage.database.create_engine (`run` keeps fewer SQLite connections)."""
        # asyncio is a tenth of a second to import: for the commands that work, not for --help.
        import asyncio

        from storage.audit import acting_as
        from storage.database import create_engine, dispose
        from storage.priorities import ruling_with

        async def go() -> T:
            engine = create_engine(self.config.database.url, **engine_options)
            failed = True
            try:
                # The [priorities] rules, for every refresh below (imports, links...).
                with acting_as(self.actor), running_on(self.clock), ruling_with(self.config.priorities.rules):
                    result = await work(engine)
                failed = False
                return result
            except OSError as exc:
                if exc.filename is not None:
                    raise  # a file being read or written, not the database server
                raise ConfigurationError(f"cannot reach the database: {exc}") from None
            finally:
                await dispose(engine, after_error=failed)

        return asyncio.run(go())

    def read(self, statement: Select[Any], start: Callable[[], S]) -> S:
        """A statement that only reads, its rows written to ``start()`` one by
        one in order (made once the schema is checked, so a refusal prints no
        header). On SQLite through Python's sqlite3, with no event loop, ORM or
        models loaded (storage.database.sqlite_reading_engine); on PostgreSQL
        through `run`'s engine. Nothing is written, so nothing is audited and
        no priority is refreshed."""
        from storage.database import async_url

        url = self.config.database.url
        if async_url(url).get_backend_name() != "sqlite":

            async def work(engine: AsyncEngine) -> S:
                await ensure_current_schema(engine)
                sink = start()
                async with engine.connect() as conn:
                    async for row in await conn.stream(statement.execution_options(yield_per=1000)):
                        sink.write(row._mapping)
                return sink

            return self.run_with_engine(work)

        from storage.database import sqlite_reading_engine
        from storage.migrate import current_revision_of

        engine = sqlite_reading_engine(url)
        try:
            with running_on(self.clock), contextlib.ExitStack() as stack:
                with _opening_database():
                    conn = stack.enter_context(engine.connect())
                    current = current_revision_of(conn)
                refuse_unless_current(current)
                sink = start()
                for row in conn.execution_options(yield_per=1000).execute(statement):
                    sink.write(row._mapping)
                return sink
        finally:
            engine.dispose()


@contextlib.contextmanager
def _opening_database() -> Iterator[None]:
    """A database that cannot be opened, as the error the CLI prints."""
    from sqlalchemy.exc import DBAPIError
    from storage.database import is_unavailable

    try:
        yield
    except (DBAPIError, OSError) as exc:
        kind = DatabaseUnreachable if is_unavailable(exc) else ConfigurationError
        raise kind(f"cannot open the database: {exc.__class__.__name__}: {exc}") from None


async def ensure_current_schema(engine: AsyncEngine) -> None:
    """Refuse to work on a database the code does not match, with the fix."""
    from storage.migrate import current_revision

    with _opening_database():
        current = await current_revision(engine)
    refuse_unless_current(current)


def refuse_unless_current(current: str | None) -> None:
    """``current``: the database's schema revision (None: no tables yet)."""
    from storage.migrate import head_revision

    head = head_revision()
    if current is None:
        raise ConfigurationError("the database has no tables yet: run `nmrf-bot db upgrade` first")
    if current != head:
        raise ConfigurationError(
            f"the database is at schema {current} and this version needs {head}: run `nmrf-bot db upgrade`"
        )
