"""``nmrf-bot calendar closures``: the secretariat's own closure days.

Public holidays come from the ``holidays`` package, by each focal point's
country and subdivision; a closure day is one the secretariat declares
besides them (Uruguay's Tourism Week), for everyone or for one country or
subdivision. No reminder lands on either."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import click

from bot.cli.context import AppContext
from bot.cli.options import DATE, output_options

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from storage.calendars import Closure

COLUMNS = ("id", "name", "from", "to", "days", "scope")


def _row(c: Closure) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "from": c.starts_on, "to": c.ends_on, "days": (c.ends_on - c.starts_on).days + 1, "scope": c.scope}


def describe(c: Closure) -> str:
    span = c.starts_on.isoformat() if c.starts_on == c.ends_on else f"{c.starts_on.isoformat()}..{c.ends_on.isoformat()}"
    return f"{c.name} ({span}, {c.scope})"


@click.group()
def calendar() -> None:
    """Days off besides weekends: public holidays (by each focal point's
    country and subdivision) and the secretariat's closure days."""


@calendar.group()
def closures() -> None:
    """Closure days the secretariat declares: no reminder lands on them."""


@closures.command("add")
@click.option("--name", required=True, help='What it is, e.g. "Semana de Turismo".')
@click.option("--from", "starts_on", type=DATE, required=True, help="First day closed.")
@click.option("--to", "ends_on", type=DATE, default=None, help="Last day closed (default: the first; at most 31 days).")
@click.option("--country", default=None, help="Only for focal points keeping this country's holidays (ISO 3166-1, e.g. UY).")
@click.option("--subdivision", default=None, help="Only for this subdivision of --country, as the holidays package names it (e.g. BY).")
@click.pass_obj
def closures_add(app: AppContext, name: str, starts_on: date, ends_on: date | None, country: str | None, subdivision: str | None) -> None:
    """Declare a closure, e.g. `calendar closures add --name "Semana de Turismo" --from 2027-03-22 --to 2027-03-26 --country UY`."""
    from bot.policy import reminder_policy
    from handlers.reminders.calendars import keep_off_closed_days
    from storage.calendars import ClosureData, add_closure

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            added = await add_closure(session, ClosureData(name, starts_on, ends_on, country, subdivision))
            moved = await keep_off_closed_days(session, reminder_policy(app.config), app.now())
            done = f"added closure {added.id}: {describe(added)}"
            return done + (f"; {moved} message(s) queued for those days go on the next working day instead" if moved else "")

    click.echo(app.run(work))


@closures.command("list")
@click.option("--from", "since", type=DATE, default=None, help="Only closures not over before this day.")
@output_options
@click.pass_obj
def closures_list(app: AppContext, since: date | None, fmt: str, limit: int | None) -> None:
    """List the closures in date order."""
    from bot.output import write_rows
    from storage.calendars import list_closures

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            return [_row(c) for c in await list_closures(session, since)]

    write_rows(app.run(work), COLUMNS, fmt, limit)


@closures.command("remove")
@click.argument("closure_id", type=int)
@click.pass_obj
def closures_remove(app: AppContext, closure_id: int) -> None:
    """Remove a closure by its id (see `calendar closures list`)."""
    from storage.calendars import remove_closure

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            removed = await remove_closure(session, closure_id)
            return f"removed closure {removed.id}: {describe(removed)}"

    click.echo(app.run(work))
