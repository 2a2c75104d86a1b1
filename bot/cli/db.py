"""``nmrf-bot db``: create and upgrade the database."""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli.context import AppContext
from storage.database import session_factory
from storage.migrate import current_revision, head_revision, upgrade
from storage.secretariat import SecretariatUserData, sync_secretariat_users


@click.group()
def db() -> None:
    """Create, upgrade and inspect the database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
@click.pass_obj
def db_upgrade(app: AppContext, revision: str) -> None:
    """Create the database or bring it up to date, then sync reference data and
    the secretariat users listed in the configuration."""

    async def work(engine: AsyncEngine) -> str | None:
        before = await current_revision(engine)
        await upgrade(engine, revision)
        async with session_factory(engine)() as session, session.begin():
            await sync_secretariat_users(session, secretariat_from_config(app))
        after = await current_revision(engine)
        return f"database at schema {after}" + ("" if before == after else f" (was {before or 'empty'})")

    click.echo(app.run_with_engine(work))


@db.command("status")
@click.pass_obj
def db_status(app: AppContext) -> None:
    """Show the schema revision of the database and of this code."""
    current = app.run_with_engine(current_revision)
    head = head_revision()
    state = "up to date" if current == head else "needs `nmrf-bot db upgrade`"
    click.echo(f"database schema: {current or 'none'}; code schema: {head}; {state}")


def secretariat_from_config(app: AppContext) -> list[SecretariatUserData]:
    config = app.config
    return [
        SecretariatUserData(
            name=u.name,
            email=u.email,
            language=u.language,
            timezone=u.timezone or config.schedule.timezone,
            telegram_user_id=u.telegram_user_id,
            slack_user_id=u.slack_user_id,
        )
        for u in config.secretariat.users
    ]
