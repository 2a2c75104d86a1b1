"""``nmrf-bot run``: the bot itself, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import signal

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import BotApp, NothingToRun
from bot.cli.context import AppContext, ensure_current_schema
from bot.supervision import LoopHealth, pause
from bot.logs import config_secrets
from bot.logs import configure as configure_logging
from storage.database import session_factory
from storage.errors import ConfigurationError, DatabaseUnreachable

log = logging.getLogger("nmrf-bot")


@click.command("run")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default=None, help="Default: [logging] level.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None, help="Default: [logging] format.")
@click.pass_obj
def run(app: AppContext, log_level: str | None, log_format: str | None) -> None:
    """Start the configured chat adapters (Telegram, Slack or both) and the scheduler."""
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

    app.run_with_engine(work)


async def wait_for_database(engine: AsyncEngine, stop: asyncio.Event, health: LoopHealth) -> bool:
    """A database server out of reach at start is waited for, one log line
    saying so, like any later outage (False if told to stop meanwhile). A
    SQLite file that will not open, or a schema that is not current, is a
    mistake to fix, not an outage: it ends the command with its one line."""
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
