"""``nmrf-bot audit list``: who changed what, when."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from bot.cli.context import AppContext
from bot.cli.options import DATE
from bot.output import FORMATS
from storage.choices import AUDIT_ACTIONS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

COLUMNS = ("id", "at", "zone", "actor", "action", "table", "row", "changes")


@click.group()
def audit() -> None:
    """The audit log: every change to the registry, with who made it."""


@audit.command("list")
@click.option("--actor", default=None, help="Part of the actor: secretariat:3, focal_point:12, cli:maria, telegram:111.")
@click.option("--table", default=None, help="Only changes to this table, e.g. focal_points, institutions, assignments.")
@click.option("--action", type=click.Choice(AUDIT_ACTIONS), default=None)
@click.option("--since", type=DATE, default=None, help="From this day (in the shown time zone).")
@click.option("--until", type=DATE, default=None, help="Up to and including this day (in the shown time zone).")
@click.option("--utc", is_flag=True, help="Show and read days in UTC instead of [schedule] timezone.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many entries, newest first (default: all).")
@click.pass_obj
def audit_list(
    app: AppContext, actor: str | None, table: str | None, action: str | None, since: date | None, until: date | None,
    utc: bool, fmt: str, limit: int | None,
) -> None:
    """Who changed what, newest first. Times are in [schedule] timezone
    (or UTC with --utc), and the zone is named in each row."""
    from bot.output import write_rows
    from storage.audit_log import AuditFilter, list_audit

    zone_name = "UTC" if utc else app.config.schedule.timezone
    zone = ZoneInfo(zone_name)

    def start_of(day: date) -> datetime:
        return datetime.combine(day, time(), zone)

    wanted = AuditFilter(
        actor=actor, table=table, action=action,
        since=start_of(since) if since else None,
        until=start_of(until + timedelta(days=1)) if until else None,
        limit=limit,
    )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            return [
                {
                    "id": entry.id,
                    "at": entry.at.astimezone(zone).replace(microsecond=0).isoformat(sep=" "),
                    "zone": zone_name,
                    "actor": entry.actor,
                    "action": entry.action,
                    "table": entry.entity,
                    "row": entry.entity_id,
                    # JSON keeps the structure; a table or CSV cell holds it as one JSON text.
                    "changes": entry.changes if fmt == "json" else json.dumps(entry.changes, ensure_ascii=False, sort_keys=True),
                }
                for entry in await list_audit(session, wanted)
            ]

    write_rows(app.run(work), COLUMNS, fmt, None)
