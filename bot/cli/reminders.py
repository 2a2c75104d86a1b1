"""``nmrf-bot reminders``: what the reminder plan holds, before anything is sent."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from bot.cli.context import AppContext
from bot.cli.options import DATE, output_options
from storage.enums import Priority

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

PREVIEW_COLUMNS = ("local_time", "utc_time", "recipient", "role", "institution", "kind", "step", "deadline", "due_on", "items", "priority")


@click.group()
def reminders() -> None:
    """Reminders and escalations to focal points, and the secretariat's digests."""


@reminders.command("preview")
@click.option("--from", "first", type=DATE, default=None, help="First day (default: today).")
@click.option("--to", "last", type=DATE, required=True, help="Last day, included.")
@click.option(
    "--priority", "levels", type=click.Choice([p.value for p in Priority]), multiple=True,
    help="Only the reminders and escalations about recommendations of this priority (a linked group at its highest "
    "member's); repeat for several. Leaves out the requests naming no recommendation and the secretariat's digests.",
)
@output_options
@click.pass_obj
def reminders_preview(app: AppContext, first: date | None, last: date, levels: tuple[str, ...], fmt: str, limit: int | None) -> None:
    """Every reminder, escalation and digest the plan holds from --from to
    --to, as if each went out and nobody answered: who, about what (in the
    digest's order, high priority first), which step, when in their time and
    in UTC; as [reminders] priorities limits them. Nothing is sent or stored."""
    from bot.policy import reminder_policy
    from bot.output import write_rows
    from handlers.deadline_names import deadline_name
    from handlers.reminders.compose import listed
    from handlers.reminders.plan import at_levels, level_of, simulate
    from handlers.reminders.preview import plan_rows
    from handlers.reminders.snapshot import load_snapshot

    first = first or app.today()
    if last < first:
        raise click.BadParameter("--to is before --from")
    policy = reminder_policy(app.config)
    chosen = frozenset(Priority(level) for level in levels)

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
                about = at_levels(item.recommendations, snapshot, chosen) if chosen else item.recommendations
                if chosen and not about:
                    continue
                level = level_of(about, snapshot)
                rows.append({
                    **common, "institution": snapshot.institutions.get(item.institution_id), "step": item.step,
                    "deadline": deadline_name(item.deadline.name, reader.language), "due_on": item.deadline.due_on,
                    "items": ", ".join(f"#{r}" for _, members in listed(about, snapshot) for r in members),
                    "priority": level.value if level is not None else None,
                })
            if chosen:
                continue
            for institution, deadline, still_open in planned.overdue:
                rows.append({
                    **common, "institution": snapshot.institutions.get(institution), "step": "overdue",
                    "deadline": deadline_name(deadline.name, reader.language), "due_on": deadline.due_on, "items": f"{still_open} open",
                })
        if not chosen:
            # The implementation plan's own: actions' target dates, indicators' due dates, pledge rounds.
            async with sessions() as session:
                for row in await plan_rows(session, policy, first, last):
                    reader = row.recipient
                    rows.append({
                        "local_time": row.send_at.astimezone(ZoneInfo(reader.timezone)).strftime("%Y-%m-%d %H:%M %Z"),
                        "utc_time": row.send_at.strftime("%Y-%m-%d %H:%M"), "recipient": reader.name,
                        "role": reader.role.value if reader.role else reader.kind, "kind": row.kind.value, "institution": row.institution,
                        "step": row.step, "deadline": row.about, "due_on": row.due_on, "items": row.items,
                    })
            # In time order, each moment's deadlines first (a stable sort keeps their order).
            rows.sort(key=lambda r: r["utc_time"])
        return rows

    write_rows(app.run(work), PREVIEW_COLUMNS, fmt, limit)
