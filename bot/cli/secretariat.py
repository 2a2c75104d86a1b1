"""``nmrf-bot secretariat``: the users declared in the configuration."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.cli.context import AppContext
from bot.cli.db import secretariat_from_config
from bot.cli.options import output_options
from bot.output import write_rows
from storage.models import SecretariatUser
from storage.secretariat import sync_secretariat_users


@click.group()
def secretariat() -> None:
    """Secretariat users (declared under [secretariat] in the configuration)."""


@secretariat.command("sync")
@click.pass_obj
def secretariat_sync(app: AppContext) -> None:
    """Make the database's secretariat users match the configuration."""
    users = secretariat_from_config(app)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            counts = await sync_secretariat_users(session, users)
        return ", ".join(f"{n} {str(k)}" for k, n in counts.items())

    click.echo(app.run(work))


@secretariat.command("list")
@output_options
@click.pass_obj
def secretariat_list(app: AppContext, fmt: str, limit: int | None) -> None:
    """List secretariat users."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            users = await session.scalars(
                select(SecretariatUser).options(selectinload(SecretariatUser.identities)).order_by(SecretariatUser.name)
            )
            return [
                {
                    "id": u.id,
                    "name": u.name,
                    "email": u.email,
                    "language": u.language,
                    "timezone": u.timezone,
                    "active": u.active,
                    "platforms": sorted({i.platform.value for i in u.identities}),
                }
                for u in users
            ]

    write_rows(app.run(work), ("id", "name", "email", "language", "timezone", "active", "platforms"), fmt, limit)
