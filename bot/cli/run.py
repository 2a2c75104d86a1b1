"""``nmrf-bot run``: the bot itself, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import signal

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import BotApp, NothingToRun
from bot.cli.context import AppContext
from storage.errors import ConfigurationError


@click.command("run")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default="INFO", show_default=True)
@click.pass_obj
def run(app: AppContext, log_level: str) -> None:
    """Start the configured chat adapters (Telegram, Slack or both) and the scheduler."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Library chatter at INFO would log request URLs, which hold the Telegram token.
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "slack_sdk", "slack_bolt", "apscheduler", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(log_level)))

    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        try:
            bot = BotApp(app.config, sessions)
        except NothingToRun as exc:
            raise ConfigurationError(str(exc)) from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await bot.start()
        click.echo("nmrf-bot running; stop with Ctrl-C or SIGTERM", err=True)
        try:
            await stop.wait()
        finally:
            await bot.stop()

    app.run(work)
