"""``nmrf-bot chat``: the conversations in the terminal, as someone on the network."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.context import AppContext
from storage.errors import NotFound

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@click.command("chat")
@click.option("--as", "as_", metavar="ID|EMAIL", default=None, help="The focal point to be (an id or an e-mail).")
@click.option("--as-secretariat", "as_secretariat", metavar="EMAIL", default=None, help="The secretariat user to be.")
@click.option("--files", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="Where reports sent to you are saved.")
@click.pass_obj
def chat(app: AppContext, as_: str | None, as_secretariat: str | None, files: Path) -> None:
    """Talk to the bot in this terminal, as a focal point or a secretariat
    user, against the configured database: /help, /mine, the buttons by
    their number. End with /quit or Ctrl-D. Updates given here are real."""
    import asyncio

    from sqlalchemy import func, select
    from bot.policy import reminder_policy
    from bot.reports.build import ReportBuilder
    from bot.terminal import TerminalEngine, TerminalGateway, address_for, converse
    from storage.models import FocalPoint, SecretariatUser

    if (as_ is None) == (as_secretariat is None):
        raise click.UsageError("give --as ID|EMAIL or --as-secretariat EMAIL")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session:
            person: FocalPoint | SecretariatUser | None
            if as_secretariat is not None:
                person = await session.scalar(select(SecretariatUser).where(func.lower(SecretariatUser.email) == as_secretariat.lower()))
            elif as_.isdigit():  # type: ignore[union-attr]
                person = await session.get(FocalPoint, int(as_))  # type: ignore[arg-type]
            else:
                person = await session.scalar(select(FocalPoint).where(func.lower(FocalPoint.email) == as_.lower()))  # type: ignore[union-attr]
        if person is None:
            raise NotFound(f"nobody on the network is {as_secretariat or as_} (see: nmrf-bot focal-points list, secretariat list)")
        gateway = TerminalGateway(click.echo, files)
        engine = TerminalEngine(
            sessions, gateway, app.clock, timeout=timedelta(minutes=app.config.conversation.timeout_minutes),
            policy=reminder_policy(app.config), reports=ReportBuilder(sessions, app.clock, public_requires_validation=app.config.reports.public_requires_validation), person=person,
        )
        interactive = sys.stdin.isatty()
        click.echo(f"You are {person.name}. Type /help, or /quit to leave.", err=True)

        async def read() -> str | None:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return None
            if not interactive:
                click.echo(f"> {line.rstrip()}")
            return line

        await converse(engine, gateway, address_for(person), read)

    app.run(work)
