"""``nmrf-bot run``: the bot itself, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
from typing import TYPE_CHECKING

import click

from bot.cli.context import AppContext, ensure_current_schema
from storage.errors import ConfigurationError, DatabaseUnreachable

if TYPE_CHECKING:
    import asyncio

    from sqlalchemy.ext.asyncio import AsyncEngine
    from bot.supervision import LoopHealth

log = logging.getLogger("nmrf-bot")


@click.command("run")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default=None, help="Default: [logging] level.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None, help="Default: [logging] format.")
@click.pass_obj
def run(app: AppContext, log_level: str | None, log_format: str | None) -> None:
    """Start the configured chat adapters (Telegram, Slack or both) and the scheduler."""
    import asyncio

    from bot.app import BotApp, NothingToRun
    from bot.supervision import LoopHealth
    from bot.logs import config_secrets, configure as configure_logging
    from storage.database import session_factory

    fewer_malloc_arenas()
    settings = app.config.logging
    configure_logging(log_level or settings.level, log_format or settings.format, config_secrets(app.config))

    async def work(engine: AsyncEngine) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        if not await wait_for_database(engine, stop, LoopHealth("database", log, app.clock, expected=lambda _exc: True)):
            return
        try:
            bot = BotApp(app.config, session_factory(engine), app.clock)
        except NothingToRun as exc:
            raise ConfigurationError(str(exc)) from None
        await bot.start()
        log.info("nmrf-bot running; stop with Ctrl-C or SIGTERM")
        asked, failed = asyncio.ensure_future(stop.wait()), asyncio.ensure_future(bot.failed.wait())
        try:
            await asyncio.wait({asked, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            asked.cancel()
            failed.cancel()
            await bot.stop()
        if bot.failed.is_set() and not stop.is_set():
            raise ConfigurationError(f"no chat platform can run: {bot.failure()}")

    app.run_with_engine(work, **serving_pool(app.config.database.url))


# A SQLite file takes one writer at a time, and its readers share two cores at
# most: beyond a few connections, each more (its thread, its page cache, its
# statements) is memory and no speed. SQLAlchemy's default keeps up to
# fifteen; at national scale (3,000 recommendations, 300 focal points, a day of
# reminders, 2,000 turns) four instead of fifteen were 13 MiB of the peak.
SQLITE_POOL = {"pool_size": 3, "max_overflow": 2}


def serving_pool(url: str) -> dict[str, int]:
    """The engine's pool while the bot serves: smaller on a SQLite file, as is elsewhere."""
    from storage.database import async_url

    target = async_url(url)
    if target.get_backend_name() == "sqlite" and target.database not in (None, "", ":memory:"):
        return dict(SQLITE_POOL)
    return {}


def fewer_malloc_arenas() -> None:
    """glibc gives each thread that allocates its own malloc arena, up to eight
    a core, and keeps their freed memory: the bot's threads (a database
    connection's, the executor's) made 7 MiB of its peak that way. Two are
    enough for a process whose work is one event loop; set before any thread
    starts. Not glibc (musl, macOS): nothing to do."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
        if mallopt is not None:
            mallopt(-8, 2)  # M_ARENA_MAX
    except OSError:
        pass


async def wait_for_database(engine: AsyncEngine, stop: asyncio.Event, health: LoopHealth) -> bool:
    """A database server out of reach at start is waited for, one log line
    saying so, like any later outage (False if told to stop meanwhile). A
    SQLite file that will not open, or a schema that is not current, is a
    mistake to fix, not an outage: it ends the command with its one line."""
    from bot.supervision import pause

    while not stop.is_set():
        try:
            await ensure_current_schema(engine)
        except DatabaseUnreachable as exc:
            if engine.dialect.name == "sqlite":
                raise
            await pause(stop, health.failed(exc))
            continue
        health.succeeded()
        return True
    return False
