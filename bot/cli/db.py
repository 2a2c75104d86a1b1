"""``nmrf-bot db``: create and upgrade the database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.context import AppContext
from storage.errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.ext.asyncio import AsyncEngine
    from storage.secretariat import SecretariatUserData


@click.group()
def db() -> None:
    """Create, upgrade and inspect the database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
@click.pass_obj
def db_upgrade(app: AppContext, revision: str) -> None:
    """Create the database or bring it up to date, then sync reference data and
    the secretariat users listed in the configuration."""
    from storage.database import session_factory
    from storage.migrate import current_revision, upgrade
    from storage.secretariat import seed_secretariat_users

    async def work(engine: AsyncEngine) -> str | None:
        before = await current_revision(engine)
        await upgrade(engine, revision)
        async with session_factory(engine)() as session, session.begin():
            await seed_secretariat_users(session, secretariat_from_config(app))
        after = await current_revision(engine)
        return f"database at schema {after}" + ("" if before == after else f" (was {before or 'empty'})")

    click.echo(app.run_with_engine(work))


@db.command("status")
@click.pass_obj
def db_status(app: AppContext) -> None:
    """Show the schema revision of the database and of this code."""
    from storage.migrate import current_revision, head_revision

    current = app.run_with_engine(current_revision)
    head = head_revision()
    state = "up to date" if current == head else "needs `nmrf-bot db upgrade`"
    click.echo(f"database schema: {current or 'none'}; code schema: {head}; {state}")


def password_like(parameter: str) -> bool:
    """password, sslpassword (the client key's), passfile (where passwords are)."""
    return "pass" in parameter.lower()


def without_password(url: URL) -> str:
    """The URL as libpq reads it, with no password in it, neither in the
    userinfo nor as a query parameter: a printed command line ends up in shell
    histories and tickets."""
    from sqlalchemy.engine import URL

    # URL.set(password=None) would keep the password: None there means "unchanged".
    bare = URL.create(
        "postgresql", username=url.username, host=url.host, port=url.port, database=url.database,
        query={k: v for k, v in url.query.items() if not password_like(k)},
    )
    return bare.render_as_string(hide_password=False)


def secretariat_from_config(app: AppContext) -> list[SecretariatUserData]:
    from storage.secretariat import SecretariatUserData

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


@db.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace TARGET if it exists.")
@click.pass_obj
def db_backup(app: AppContext, target: Path, force: bool) -> None:
    """Copy a SQLite database to TARGET while the bot keeps running (SQLite's
    online backup), then check the copy. For PostgreSQL, says how to use pg_dump."""
    from sqlalchemy.engine import make_url
    from storage.backup import backup_sqlite

    url = make_url(app.config.database.url)
    if url.get_backend_name() == "postgresql":
        safe = without_password(url)
        left_out = sorted({k for k in url.query if password_like(k) and k.lower() != "password"})
        raise ConfigurationError(
            "PostgreSQL is backed up with its own tool, consistent while the bot runs: "
            f"pg_dump --format=custom --file {target} '{safe}'; "
            f"restore with pg_restore --clean --dbname '{safe}' {target} "
            "(both read the password from the environment: PGPASSWORD=... before the command, or a line in ~/.pgpass"
            + (f"; left out of these lines, to be added by hand: {', '.join(left_out)}" if left_out else "") + ")"
        )
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ConfigurationError(f"cannot back up {url.render_as_string()}: only a SQLite file or PostgreSQL")
    source = Path(url.database)
    if not source.exists():
        raise ConfigurationError(f"no database at {source}")
    if target.exists() and not force:
        raise ConfigurationError(f"{target} exists; give --force to replace it")
    if target.resolve() == source.resolve():
        raise ConfigurationError("the backup must go to another file than the database")
    # Said as such: SQLite's own word for it is "unable to open database file".
    folder = target.resolve().parent
    if not folder.is_dir():
        raise ConfigurationError(f"cannot write the backup to {target}: no folder {folder}")
    if not os.access(folder, os.W_OK):
        raise ConfigurationError(f"cannot write the backup to {target}: permission denied")
    copied = backup_sqlite(source, target)
    click.echo(f"backed up {source} to {target}: {copied.pages} pages, {copied.bytes / 2**20:.1f} MiB, schema {copied.revision}, integrity ok")
