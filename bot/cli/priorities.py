"""``nmrf-bot priorities``: each recommendation's priority by the Guide's five
criteria (storage.priorities), shown with its reasons, the secretariat's
inputs set, overrides made with their reason, and the levels refreshed."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import click

from bot.cli.context import AppContext
from bot.cli.options import DATE, selector_from, selector_options
from messages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, t
from storage.enums import BudgetImplications, Priority

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

_BUDGET = {"none": BudgetImplications.NONE, "some": BudgetImplications.SOME, "unknown": None}
_YES_NO_UNKNOWN = {"yes": True, "no": False, "unknown": None}
# A data criterion: "auto" gives it back to the data.
_YES_NO_AUTO = {"yes": True, "no": False, "auto": None}


@click.group("priorities")
def priorities() -> None:
    """Priorities by the OHCHR Practical Guide's five criteria, and the secretariat's say on them."""


@priorities.command("show")
@click.argument("recommendation_id", type=click.IntRange(min=1))
@click.option("--language", type=click.Choice(SUPPORTED_LANGUAGES), default=DEFAULT_LANGUAGE, show_default=True)
@click.option("--as-of", "as_of", type=DATE, default=None,
              help="The priority as it stood at the end of this day (YYYY-MM-DD), with who changed it last, when and why.")
@click.pass_obj
def show(app: AppContext, recommendation_id: int, language: str, as_of: date | None) -> None:
    """Each criterion (met, not met, unknown) with why and its source, the level and any override with its reason."""
    from bot.cli.report import end_of_day
    from handlers.priority_reasons import change_line, criterion_line, level_line
    from messages import local_date
    from storage.priorities import explain
    from storage.priority_history import change_as_of, views_as_of

    moment = end_of_day(app, as_of)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        async with sessions() as session:
            view = await explain(session, recommendation_id)
            change, when = None, ""
            if moment is not None:
                change = await change_as_of(session, recommendation_id, moment)
                if change is not None:
                    when = local_date(change.at.astimezone(moment.tzinfo).date(), language)
                then = (await views_as_of(session, [recommendation_id], moment)).get(recommendation_id)
                if then is None:
                    return [f"#{recommendation_id} {t('priority.none_then', language, date=local_date(moment.date(), language))}"]
                view = then
        lines = [f"#{recommendation_id} {level_line(view, language)}"]
        if change is not None:
            lines.append("  " + change_line(when, change.actor, change.cause, language))
        for c in view.criteria:
            lines.append(f"  [{c.source}] {criterion_line(c, language)}")
        return lines

    click.echo("\n".join(app.run(work)))


@priorities.command("history")
@click.argument("recommendation_id", type=click.IntRange(min=1))
@click.option("--language", type=click.Choice(SUPPORTED_LANGUAGES), default=DEFAULT_LANGUAGE, show_default=True)
@click.pass_obj
def history_command(app: AppContext, recommendation_id: int, language: str) -> None:
    """Every change of the recommendation's priority, oldest first: when, the level, who and why."""
    from handlers.priority_reasons import change_line, level_line
    from messages import local_date
    from storage.priority_history import history, view_of

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        async with sessions() as session:
            kept = await history(session, recommendation_id)
        if not kept:
            return [f"#{recommendation_id}: -"]
        return [
            f"{change.at:%Y-%m-%d %H:%M} {level_line(view_of(change), language)}\n  "
            + change_line(local_date(change.at.date(), language), change.actor, change.cause, language)
            for change in kept
        ]

    click.echo("\n".join(app.run(work)))


def _levels(counts: dict[Priority | None, int]) -> str:
    from handlers.priority_reasons import level_name

    return ", ".join(f"{level_name(level, DEFAULT_LANGUAGE)} {n}" for level, n in counts.items()) or "-"


@priorities.command("set")
@selector_options
@click.option("--budget", type=click.Choice(list(_BUDGET)), default=None, help="Budget implications (none: a quick win).")
@click.option("--national", type=click.Choice(list(_YES_NO_UNKNOWN)), default=None, help="A national priority (public, media, civil society).")
@click.option("--urgency", type=click.Choice(list(_YES_NO_AUTO)), default=None, help="Treaty-body urgency; auto: the follow-up selection says.")
@click.option("--recurrence", type=click.Choice(list(_YES_NO_AUTO)), default=None, help="Raised by other mechanisms; auto: linked groups and recommending States say.")
@click.option("--marginalised", type=click.Choice(list(_YES_NO_AUTO)), default=None, help="Concerns marginalised groups; auto: the affected-persons tags say.")
@click.pass_obj
def set_command(
    app: AppContext, budget: str | None, national: str | None, urgency: str | None,
    recurrence: str | None, marginalised: str | None, **kwargs: Any,
) -> None:
    """Set what the secretariat says of the criteria for the selected recommendations; the levels follow."""
    from storage.database import writing
    from storage.priorities import UNCHANGED, level_counts, set_inputs
    from storage.selection import select_ids

    selector = selector_from(kwargs)
    given: dict[str, Any] = {
        "budget": UNCHANGED if budget is None else _BUDGET[budget],
        "national": UNCHANGED if national is None else _YES_NO_UNKNOWN[national],
        "urgency": UNCHANGED if urgency is None else _YES_NO_AUTO[urgency],
        "recurrence": UNCHANGED if recurrence is None else _YES_NO_AUTO[recurrence],
        "marginalised": UNCHANGED if marginalised is None else _YES_NO_AUTO[marginalised],
    }
    if all(v is UNCHANGED for v in given.values()):
        raise click.UsageError("give at least one of --budget, --national, --urgency, --recurrence, --marginalised")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            ids = await select_ids(session, selector)
            changed = await set_inputs(session, ids, **given, actor=app.actor, now=app.now())
            counts = await level_counts(session, ids)
        return f"{t('count.recommendations', DEFAULT_LANGUAGE, count=changed)} changed; priority now: {_levels(counts)}"

    click.echo(app.run(work))


@priorities.command("override")
@selector_options
@click.option("--level", type=click.Choice([*(p.value for p in Priority), "none"]), required=True, help="none: clear the override.")
@click.option("--reason", default=None, help="Why (required to set one; kept in the audit log).")
@click.pass_obj
def override_command(app: AppContext, level: str, reason: str | None, **kwargs: Any) -> None:
    """Set the priority over the criteria, with the reason, or clear it (--level none)."""
    from storage.database import writing
    from storage.priorities import level_counts, override
    from storage.selection import select_ids

    selector = selector_from(kwargs)
    chosen = None if level == "none" else Priority(level)
    if chosen is not None and not (reason or "").strip():
        raise click.UsageError("--reason is required to set an override (it is kept in the audit log)")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            ids = await select_ids(session, selector)
            changed = await override(session, ids, chosen, reason, actor=app.actor, now=app.now())
            counts = await level_counts(session, ids)
        return f"{t('count.recommendations', DEFAULT_LANGUAGE, count=changed)} changed; priority now: {_levels(counts)}"

    click.echo(app.run(work))


@priorities.command("refresh")
@selector_options
@click.pass_obj
def refresh_command(app: AppContext, **kwargs: Any) -> None:
    """Work every priority out again from the criteria (after an upgrade, or a change of [priorities]);
    with a selection, only those."""
    from storage.database import writing
    from storage.priorities import refresh
    from storage.selection import Selector, select_ids

    selector = selector_from(kwargs)
    everything = selector == Selector()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            ids = None if everything else await select_ids(session, selector)
            changed = await refresh(session, ids)
        return f"{t('count.recommendations', DEFAULT_LANGUAGE, count=changed)} changed"

    click.echo(app.run(work))
