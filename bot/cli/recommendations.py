"""``nmrf-bot recommendations``, ``assign``, ``clusters`` and ``deadlines``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from bot.cli.context import AppContext
from bot.cli.options import DATE, IDS, enum_choice, output_options, selector_from, selector_options
from messages import DEFAULT_LANGUAGE, t
from storage.errors import InvalidValue, NotFound
from storage.enums import (
    AssignmentRole,
    DeadlineKind,
    ImplementationStatus,
    Priority,
    RecommendationKind,
    UprPosition,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from storage.deadline_suggestions import MissingSelection, Suggestion
    from storage.models import Deadline


@click.group()
def recommendations() -> None:
    """Recommendations received from the UN human-rights mechanisms."""


@recommendations.command("list")
@click.option("--state", "country", default=None, help="State concerned, e.g. Uruguay.")
@click.option("--mechanism", default=None, help="UPR, CEDAW, CRC, ...")
@click.option("--theme", default=None)
@click.option("--institution", default=None, help="Assigned to this institution (code).")
@click.option("--status", type=enum_choice(ImplementationStatus), default=None, help="Current status.")
@click.option("--position", type=enum_choice(UprPosition), default=None, help="UPR position.")
@click.option("--kind", type=enum_choice(RecommendationKind), default=None)
@click.option("--cluster", default=None)
@click.option("--cycle", type=click.IntRange(min=1), default=None, help="UPR cycle.")
@click.option("--priority", type=enum_choice(Priority), default=None, help="Effective priority (see: nmrf-bot priorities show).")
@click.option(
    "--sort", type=click.Choice(["id", "priority"]), default="id", show_default=True,
    help="priority: high, medium, low, then none, each by id.",
)
@output_options
@click.pass_obj
def recommendations_list(app: AppContext, fmt: str, limit: int | None, sort: str, **filters: Any) -> None:
    """List recommendations with their current status, priority and institutions."""
    from bot.output import RowWriter
    # The listing in SQLAlchemy Core: no ORM, no models (storage.recommendation_list says why).
    from storage.recommendation_list import COLUMNS, TABLE_COLUMNS, RecommendationFilter, list_statement

    for key in ("status", "position", "kind", "priority"):
        if filters[key]:
            filters[key] = {
                "status": ImplementationStatus, "position": UprPosition, "kind": RecommendationKind, "priority": Priority,
            }[key](filters[key])
    statement = list_statement(RecommendationFilter(**filters, by_priority=sort == "priority"), limit)
    writer = app.read(statement, lambda: RowWriter(TABLE_COLUMNS if fmt == "table" else COLUMNS, fmt))
    writer.close()
    if fmt == "table":
        click.echo(t("count.recommendations", DEFAULT_LANGUAGE, count=writer.count), err=True)


@recommendations.command("find")
@click.argument("words", nargs=-1, required=True)
@click.option("--mechanism", default=None, help="UPR, CEDAW, CRC, ...")
@click.option("--institution", default=None, help="Assigned to this institution (code).")
@click.option("--status", type=enum_choice(ImplementationStatus), default=None, help="Current status.")
@click.option("--unassigned", is_flag=True, help="Only recommendations no institution answers for.")
@output_options
@click.pass_obj
def recommendations_find(
    app: AppContext, words: tuple[str, ...], mechanism: str | None, institution: str | None,
    status: str | None, unassigned: bool, fmt: str, limit: int | None,
) -> None:
    """Recommendations whose text has every one of WORDS, best match first (what /find answers)."""
    from bot.output import RowWriter
    from storage.recommendations import COLUMNS, TABLE_COLUMNS, RecommendationFilter
    from storage.search import search_recommendations

    chosen = RecommendationFilter(
        mechanism=mechanism, institution=institution, status=ImplementationStatus(status) if status else None
    )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        writer = RowWriter(TABLE_COLUMNS if fmt == "table" else COLUMNS, fmt)
        async with sessions() as session:
            # The CLI prints every match unless --limit: one page as large as asked.
            page = await search_recommendations(
                session, " ".join(words), chosen, unassigned=unassigned, limit=limit or 1_000_000
            )
        for row in page.rows:
            writer.write(row)
        writer.close()
        return writer.count

    count = app.run(work)
    if fmt == "table":
        click.echo(t("count.recommendations", DEFAULT_LANGUAGE, count=count), err=True)


@click.command("assign")
@click.option("--institution", required=True, help="Institution code.")
@click.option("--role", type=enum_choice(AssignmentRole), default=AssignmentRole.LEAD.value, show_default=True)
@click.option("--replace-lead", is_flag=True, help="Where another institution leads, make it contributing.")
@click.option("--remove", is_flag=True, help="Remove the institution's assignments instead (history and updates stay).")
@selector_options
@click.pass_obj
def assign_command(app: AppContext, institution: str, role: str, replace_lead: bool, remove: bool, **kwargs: Any) -> None:
    """Assign recommendations to an institution, by ids, theme or cluster (or --remove them)."""
    from storage.assignments import assign, unassign

    selector = selector_from(kwargs)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            if remove:
                gone = await unassign(session, institution, selector)
                withdrawn = f", {gone.notices_withdrawn} notice(s) not yet sent withdrawn" if gone.notices_withdrawn else ""
                return f"{gone.removed} removed, {gone.not_assigned} were not assigned to it{withdrawn}"
            r = await assign(session, institution, selector, AssignmentRole(role), replace_lead=replace_lead)
        extra = f", {r.leads_replaced} former lead(s) now contributing" if r.leads_replaced else ""
        return f"{r.created} assigned, {r.role_changed} role changed, {r.unchanged} already assigned{extra}"

    click.echo(app.run(work))


@click.group()
def clusters() -> None:
    """The secretariat's thematic clusters."""


@clusters.command("add")
@click.argument("name")
@click.option("--description", default=None)
@click.option("--priority", type=enum_choice(Priority), default=None)
@click.pass_obj
def clusters_add(app: AppContext, name: str, description: str | None, priority: str | None) -> None:
    """Add a cluster."""
    from storage.clusters import add_cluster

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            c = await add_cluster(session, name, description, Priority(priority) if priority else None)
            return f"added cluster {c.name!r} (id {c.id})"

    click.echo(app.run(work))


@clusters.command("put")
@click.argument("name")
@selector_options
@click.pass_obj
def clusters_put(app: AppContext, name: str, **kwargs: Any) -> None:
    """Put recommendations into a cluster, by ids, theme or cluster."""
    from storage.clusters import put_in_cluster

    selector = selector_from(kwargs)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            moved = await put_in_cluster(session, name, selector)
        return f"{t('count.recommendations', DEFAULT_LANGUAGE, count=moved)} put in {name!r}"

    click.echo(app.run(work))


@clusters.command("list")
@output_options
@click.pass_obj
def clusters_list(app: AppContext, fmt: str, limit: int | None) -> None:
    """List clusters with their number of recommendations."""
    from bot.output import write_rows
    from storage.clusters import list_clusters

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            return [
                {"id": c.id, "name": c.name, "priority": c.priority, "recommendations": n, "description": c.description}
                for c, n in await list_clusters(session)
            ]

    write_rows(app.run(work), ("id", "name", "priority", "recommendations", "description"), fmt, limit)


@click.group()
def deadlines() -> None:
    """Report due dates, follow-up replies and internal input deadlines."""


@deadlines.command("add")
@click.option("--kind", type=enum_choice(DeadlineKind), required=True)
@click.option("--due", type=DATE, required=True, help="Due date, YYYY-MM-DD.")
@click.option("--title", default=None, help="Default: named from kind, mechanism and State in each reader's language, e.g. 'CEDAW follow-up information (Uruguay)'.")
@click.option("--for-mechanism", "for_mechanism", default=None, help="The mechanism the deadline is owed to.")
@click.option("--for-country", "for_country", default=None, help="The State that owes it, as part of its name.")
@click.option("--parent", type=int, default=None, help="For an internal input deadline: the deadline it serves.")
@click.option("--notes", default=None)
@selector_options
@click.pass_obj
def deadlines_add(
    app: AppContext,
    kind: str,
    due: date,
    title: str | None,
    for_mechanism: str | None,
    parent: int | None,
    notes: str | None,
    for_country: str | None,
    **kwargs: Any,
) -> None:
    """Add a deadline, optionally linked to recommendations (by ids, theme or cluster)."""
    from storage.deadlines import DeadlineData, add_deadline

    selector = selector_from(kwargs)
    data = DeadlineData(
        kind=DeadlineKind(kind), due_on=due, title=title, mechanism_code=for_mechanism, parent_id=parent, notes=notes, country=for_country
    )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            d = await add_deadline(session, data, selector)
            return (await _added(session, [d]))[0]

    click.echo(app.run(work))


async def _added(session: AsyncSession, made: list[Deadline]) -> list[str]:
    from handlers.deadline_names import deadline_name
    from storage.deadlines import deadline_names

    names = await deadline_names(session, [d.id for d in made])
    return [f"added deadline {d.id}: {deadline_name(names[d.id], 'en')}, due {d.due_on}" for d in made]


DEADLINE_COLUMNS = ("id", "kind", "title", "due_on", "mechanism", "parent", "recommendations", "notes", "submitted_on")


@deadlines.command("list")
@click.option("--kind", type=enum_choice(DeadlineKind), default=None)
@click.option("--from", "due_from", type=DATE, default=None, help="Due on or after.")
@click.option("--to", "due_to", type=DATE, default=None, help="Due on or before.")
@click.option("--mechanism", default=None)
@output_options
@click.pass_obj
def deadlines_list(
    app: AppContext,
    kind: str | None,
    due_from: date | None,
    due_to: date | None,
    mechanism: str | None,
    fmt: str,
    limit: int | None,
) -> None:
    """List deadlines by due date."""
    from bot.output import write_rows
    from handlers.deadline_names import deadline_name
    from storage.deadlines import deadline_names, list_deadlines

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            found = await list_deadlines(
                session,
                kind=DeadlineKind(kind) if kind else None,
                due_from=due_from,
                due_to=due_to,
                mechanism=mechanism,
            )
            names = await deadline_names(session, [d.id for d, _ in found])
            return [
                {
                    "id": d.id,
                    "kind": d.kind,
                    "title": deadline_name(names[d.id], "en"),
                    "due_on": d.due_on,
                    "mechanism": d.mechanism.code if d.mechanism else None,
                    "parent": d.parent_id,
                    "recommendations": n,
                    "notes": d.notes,
                    "submitted_on": d.submitted_on,
                }
                for d, n in found
            ]

    write_rows(app.run(work), DEADLINE_COLUMNS, fmt, limit)


def _today(app: AppContext) -> date:
    """Today in the secretariat's own calendar ([schedule] timezone)."""
    return app.now().astimezone(ZoneInfo(app.config.schedule.timezone)).date()


@deadlines.command("edit")
@click.argument("deadline_id", metavar="ID", type=int)
@click.option("--due", type=DATE, default=None, help="New due date, YYYY-MM-DD: its reminders are re-planned and the focal points concerned told.")
@click.option("--title", default=None, help='New title ("" to name it again from its kind, mechanism and State).')
@click.pass_obj
def deadlines_edit(app: AppContext, deadline_id: int, due: date | None, title: str | None) -> None:
    """Change a deadline's due date or title."""
    from bot.policy import reminder_policy
    from handlers.deadline_names import deadline_name
    from handlers.deadline_replan import after_change
    from storage.deadline_changes import edit_deadline
    from storage.deadlines import deadline_names

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            change = await edit_deadline(session, deadline_id, due_on=due, title=title)
            told = await after_change(session, reminder_policy(app.config), change, app.now())
            name = deadline_name((await deadline_names(session, [deadline_id]))[deadline_id], "en")
            if not change.moved:
                return f"deadline {deadline_id}: {name}, due {change.old_due}" + (" (title changed)" if change.title_changed else " (unchanged)")
            return f"deadline {deadline_id}: {name}, moved from {change.old_due} to {change.new_due}; {told} focal point(s) will be told"

    click.echo(app.run(work))


@deadlines.command("delete")
@click.argument("deadline_id", metavar="ID", type=int)
@click.pass_obj
def deadlines_delete(app: AppContext, deadline_id: int) -> None:
    """Withdraw a deadline: no more reminders, the focal points concerned are
    told. The row is kept, marked withdrawn, so what was sent and the audit
    log still name it."""
    from bot.policy import reminder_policy
    from handlers.deadline_names import deadline_name
    from handlers.deadline_replan import after_change
    from storage.deadline_changes import withdraw_deadline
    from storage.deadlines import deadline_names

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            name = deadline_name((await deadline_names(session, [deadline_id])).get(deadline_id) or _missing(deadline_id), "en")
            change = await withdraw_deadline(session, deadline_id, app.now())
            told = await after_change(session, reminder_policy(app.config), change, app.now())
            return f"withdrew deadline {deadline_id}: {name}, due {change.old_due}; {told} focal point(s) will be told"

    click.echo(app.run(work))


def _missing(deadline_id: int) -> Any:
    raise NotFound(f"no deadline with id {deadline_id}")


@deadlines.command("submitted")
@click.argument("deadline_id", metavar="ID", type=int)
@click.option("--on", "on", type=DATE, default=None, help="The day it was sent (default: today).")
@click.pass_obj
def deadlines_submitted(app: AppContext, deadline_id: int, on: date | None) -> None:
    """Mark a report as submitted: its reminders (and its input deadlines') stop."""
    from handlers.deadline_names import deadline_name
    from handlers.deadline_replan import after_submitted
    from storage.deadline_changes import mark_submitted
    from storage.deadlines import deadline_names

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            today = _today(app)
            deadline = await mark_submitted(session, deadline_id, on or today, today)
            await after_submitted(session, deadline_id)
            name = deadline_name((await deadline_names(session, [deadline_id]))[deadline_id], "en")
            assert deadline.submitted_on is not None
            late = (deadline.submitted_on - deadline.due_on).days
            when = "on time" if late <= 0 else f"{late} day(s) late"
            return f"deadline {deadline_id}: {name}, submitted on {deadline.submitted_on} ({when}; due {deadline.due_on})"

    click.echo(app.run(work))


SUGGESTION_COLUMNS = ("number", "kind", "due_on", "mechanism", "country", "serves", "recommendations", "exists", "basis")


@deadlines.command("suggest")
@click.option("--country", default=None, help="Only this State.")
@click.option("--input-lead", default="6m", show_default=True, help="Inputs due this long before each report: 6m, 90d, 8w, 1y.")
@click.option("--upr-review", "upr_reviews", multiple=True, metavar="STATE=YYYY-MM-DD", help="Date of a State's latest UPR review, when the data has none.")
@click.option("--accept", default=None, help="Create these suggestions: numbers such as 1,3-4, or 'all'.")
@click.option("--override", "overrides", multiple=True, metavar="N=YYYY-MM-DD", help="Create suggestion N with the date the committee stated instead.")
@output_options
@click.pass_obj
def deadlines_suggest(
    app: AppContext, country: str | None, input_lead: str, upr_reviews: tuple[str, ...], accept: str | None,
    overrides: tuple[str, ...], fmt: str, limit: int | None,
) -> None:
    """Deadlines the mechanisms' calendars give for the recommendations in the
    registry (follow-up information, periodic reports, UPR mid-term and national
    reports, and the ministries' input deadlines before each). Nothing is
    created without --accept; to override a date, add the deadline yourself."""
    from bot.output import write_rows
    from storage.deadline_rules import parse_lead
    from storage.deadline_suggestions import accept as accept_suggestions, missing_selections, suggest

    numbers_given = None if accept in (None, "all") else set(IDS.convert(accept, None, None))
    try:
        lead = parse_lead(input_lead)
        reviews = {}
        for item in upr_reviews:
            state, _, when = item.partition("=")
            reviews[state.strip().lower()] = date.fromisoformat(when.strip())
        stated = {}
        for item in overrides:
            number, _, when = item.partition("=")
            stated[int(number)] = date.fromisoformat(when.strip())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[list[Suggestion], list[str], list[MissingSelection]]:
        async with sessions() as session, session.begin():
            found = await suggest(session, app.today(), country=country, input_lead=lead, upr_reviews=reviews)
            missing = await missing_selections(session, app.today(), country=country)
            created: list[str] = []
            if accept or stated:
                numbers = (numbers_given if numbers_given is not None else {s.number for s in found}) if accept else set()
                try:
                    made = await accept_suggestions(session, found, numbers | set(stated), stated)
                except ValueError as exc:
                    raise InvalidValue(str(exc)) from None
                created = await _added(session, made)
            return found, created, missing

    found, created, missing = app.run(work)
    _follow_up_notes(found, missing)
    if created or accept or overrides:
        click.echo("\n".join(created) or "nothing new: every chosen suggestion is in the registry already")
        return
    rows = [
        {
            "number": s.number, "kind": s.kind, "due_on": s.due_on, "mechanism": s.mechanism, "country": s.country,
            "serves": s.serves, "recommendations": len(s.recommendation_ids), "exists": s.exists, "basis": s.basis,
        }
        for s in found
    ]
    write_rows(rows, SUGGESTION_COLUMNS, fmt, limit)


def _follow_up_notes(found: list[Suggestion], missing: list[MissingSelection]) -> None:
    """On stderr, so --format json stays one document: what the follow-up
    deadlines wait for (storage.follow_up)."""
    for m in missing:
        docs = ", ".join(m.documents)
        click.echo(
            f"{m.mechanism} follow-up information ({m.country}, due {m.due_on}) not suggested: no follow-up selection "
            f"recorded for {docs}; record it with `nmrf-bot followup select {m.documents[0]} PARAGRAPHS`", err=True,
        )
    for s in found:
        if s.repoint is not None:
            click.echo(
                f"suggestion {s.number}: deadline {s.repoint} exists but covers other recommendations than the selection; "
                f"`nmrf-bot followup apply-deadline {s.documents[0] if s.documents else 'SYMBOL'} --deadline {s.repoint}` re-points it",
                err=True,
            )
