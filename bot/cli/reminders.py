"""``nmrf-bot reminders``: what the reminder plan holds, before anything is sent."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import reminder_policy
from bot.cli.context import AppContext
from bot.cli.options import DATE, output_options
from bot.output import write_rows
from handlers.deadline_names import deadline_name
from handlers.reminders.plan import simulate
from handlers.reminders.snapshot import load_snapshot

PREVIEW_COLUMNS = ("local_time", "utc_time", "recipient", "role", "institution", "kind", "step", "deadline", "due_on", "items")


@click.group()
def reminders() -> None:
    """Reminders and escalations to focal points, and the secretariat's digests."""


@reminders.command("preview")
@click.option("--from", "first", type=DATE, default=None, help="First day (default: today).")
@click.option("--to", "last", type=DATE, required=True, help="Last day, included.")
@output_options
@click.pass_obj
def reminders_preview(app: AppContext, first: date | None, last: date, fmt: str, limit: int | None) -> None:
    """Every reminder, escalation and digest the plan holds from --from to
    --to, as if each went out and nobody answered: who, about what, which
    step, when in their time and in UTC. Nothing is sent or stored."""
    first = first or app.today()
    if last < first:
        raise click.BadParameter("--to is before --from")
    policy = reminder_policy(app.config)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            snapshot = await load_snapshot(session, policy, datetime.combine(first, time(0), tzinfo=timezone.utc))
        rows: list[dict[str, Any]] = []
        for planned in simulate(snapshot, policy, first, last):
            reader = planned.recipient
            common = {
                "local_time": planned.send_at.astimezone(ZoneInfo(reader.timezone)).strftime("%Y-%m-%d %H:%M %Z"),
                "utc_time": planned.send_at.strftime("%Y-%m-%d %H:%M"),
                "recipient": reader.name,
                "role": reader.role.value if reader.role else reader.kind,
                "kind": planned.kind.value,
            }
            for item in planned.items:
                rows.append({
                    **common, "institution": snapshot.institutions.get(item.institution_id), "step": item.step,
                    "deadline": deadline_name(item.deadline.name, reader.language), "due_on": item.deadline.due_on,
                    "items": ", ".join(f"#{r}" for r in item.recommendations),
                })
            for institution, deadline, still_open in planned.overdue:
                rows.append({
                    **common, "institution": snapshot.institutions.get(institution), "step": "overdue",
                    "deadline": deadline_name(deadline.name, reader.language), "due_on": deadline.due_on, "items": f"{still_open} open",
                })
        return rows

    write_rows(app.run(work), PREVIEW_COLUMNS, fmt, limit)
