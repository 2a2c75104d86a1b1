"""``nmrf-bot secretariat``: the secretariat's users and their roles.

``[secretariat]`` in the configuration only seeds the first admins (at
``db upgrade``, or with ``secretariat seed``); after that, users are added,
changed and removed here or from chat by an admin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from bot.cli.context import AppContext
from bot.cli.options import output_options
from messages import DEFAULT_LANGUAGE
from storage.enums import SecretariatRole

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from storage.models import SecretariatUser

ROLES = click.Choice([r.value for r in SecretariatRole])
COLUMNS = ("id", "name", "email", "role", "language", "timezone", "active", "platforms")


def _row(u: SecretariatUser) -> dict[str, Any]:
    return {
        "id": u.id, "name": u.name, "email": u.email, "role": SecretariatRole(u.role).value, "language": u.language,
        "timezone": u.timezone, "active": u.active, "platforms": sorted({i.platform.value for i in u.identities}),
    }


@click.group()
def secretariat() -> None:
    """Secretariat users: admin (people and network), coordinator (requests,
    deadlines, assignments, imports, reports), viewer (reports and summaries)."""


@secretariat.command("seed")
@click.pass_obj
def secretariat_seed(app: AppContext) -> None:
    """Create the configuration's [secretariat] users as admins, if the database has no active admin."""
    from bot.cli.db import secretariat_from_config
    from storage.database import writing
    from storage.secretariat import seed_secretariat_users

    users = secretariat_from_config(app)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            return str(await seed_secretariat_users(session, users))

    click.echo(app.run(work))


@secretariat.command("add")
@click.argument("name")
@click.argument("email")
@click.option("--role", type=ROLES, required=True, help="admin, coordinator or viewer.")
@click.option("--language", default=None, help="Their language (default: the configuration's).")
@click.option("--timezone", default=None, help="IANA time zone (default: [schedule] timezone).")
@click.option("--telegram-user-id", type=int, default=None, help="Their numeric Telegram user id.")
@click.option("--slack-user-id", default=None, help="Their Slack member id (U...).")
@click.pass_obj
def secretariat_add(app: AppContext, name: str, email: str, role: str, language: str | None, timezone: str | None,
                    telegram_user_id: int | None, slack_user_id: str | None) -> None:
    """Add a secretariat user with a role."""
    from storage.database import writing
    from storage.secretariat import SecretariatUserData, add_secretariat_user

    data = SecretariatUserData(
        name=name, email=email, language=language or DEFAULT_LANGUAGE,
        timezone=timezone or app.config.schedule.timezone, telegram_user_id=telegram_user_id, slack_user_id=slack_user_id,
        role=SecretariatRole(role),
    )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            user = await add_secretariat_user(session, data)
            return f"secretariat user {user.id} added: {user.name} <{user.email}>, {SecretariatRole(user.role).value}"

    click.echo(app.run(work))


@secretariat.command("edit")
@click.argument("who")
@click.option("--name", default=None)
@click.option("--role", type=ROLES, default=None)
@click.option("--language", default=None)
@click.option("--timezone", default=None)
@click.option("--active/--inactive", default=None, help="Bring back, or take away, their access.")
@click.option("--telegram-user-id", type=int, default=None)
@click.option("--slack-user-id", default=None)
@click.pass_obj
def secretariat_edit(app: AppContext, who: str, name: str | None, role: str | None, language: str | None, timezone: str | None,
                     active: bool | None, telegram_user_id: int | None, slack_user_id: str | None) -> None:
    """Change a secretariat user (WHO: their e-mail or id). The last active admin cannot be demoted."""
    from storage.database import writing
    from storage.secretariat import edit_secretariat_user

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            user = await edit_secretariat_user(
                session, who, name=name, role=SecretariatRole(role) if role else None, language=language, timezone=timezone,
                active=active, telegram_user_id=telegram_user_id, slack_user_id=slack_user_id,
            )
            state = "active" if user.active else "inactive"
            return f"secretariat user {user.id}: {user.name} <{user.email}>, {SecretariatRole(user.role).value}, {state}"

    click.echo(app.run(work))


@secretariat.command("remove")
@click.argument("who")
@click.pass_obj
def secretariat_remove(app: AppContext, who: str) -> None:
    """Take a secretariat user's access away (WHO: e-mail or id). Kept, inactive,
    so what they did stays theirs; the last active admin cannot be removed."""
    from storage.database import writing
    from storage.secretariat import remove_secretariat_user

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            user = await remove_secretariat_user(session, who)
            return f"secretariat user {user.id} ({user.email}) removed: inactive, their history kept"

    click.echo(app.run(work))


@secretariat.command("invite")
@click.argument("who")
@click.pass_obj
def secretariat_invite(app: AppContext, who: str) -> None:
    """A one-time invite code for a secretariat user (WHO: e-mail or id): the first
    chat account that sends it (/start CODE on Telegram, start CODE in a Slack DM)
    becomes theirs. Valid for 14 days; only its hash is stored."""
    from storage.database import writing
    from storage.secretariat_invites import INVITE_LIFETIME, create_secretariat_invite
    from storage.secretariat import find_secretariat_user

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            user = await find_secretariat_user(session, who)
            code = await create_secretariat_invite(session, user, app.now())
            until = (app.now() + INVITE_LIFETIME).date().isoformat()
            return (f"invite for {user.name} <{user.email}>, once, until {until}:\n"
                    f"  Telegram: /start {code}\n  Slack (a DM to the bot): start {code}")

    click.echo(app.run(work))


@secretariat.command("list")
@click.option("--active-only", is_flag=True, help="Leave out removed users.")
@output_options
@click.pass_obj
def secretariat_list(app: AppContext, active_only: bool, fmt: str, limit: int | None) -> None:
    """List secretariat users with their roles."""
    from bot.output import write_rows
    from storage.secretariat import list_secretariat_users

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            return [_row(u) for u in await list_secretariat_users(session, include_inactive=not active_only)]

    write_rows(app.run(work), COLUMNS, fmt, limit)
