"""``nmrf-bot actions`` and ``nmrf-bot frameworks``: the implementation
plan's actions (storage.actions), created, decided, edited and updated by
the secretariat, and the national plans their chapters come from."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bot.cli.context import AppContext
from bot.cli.options import DATE, IDS, enum_choice, output_options
from storage.choices import ACTION_CLEARABLE
from storage.enums import ActionState, Channel, FrameworkKind, ImplementationStatus
from storage.errors import InvalidValue

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from storage.actions import ActionView, ChapterRef

F = TypeVar("F", bound=Callable[..., Any])

LIST_COLUMNS = (
    "code", "title", "state", "status", "responsible", "contributing", "start_date", "target_date",
    "budget", "currency", "budget_internal", "recommendations", "link_groups", "sdg_targets", "chapters",
)
HISTORY_COLUMNS = ("code", "update", "at", "status", "institution", "author", "channel", "done", "next_step", "next_date", "corrects")


class CodeListType(click.ParamType):
    """'MOW,MIDES' or '5.2, 16.3': a comma-separated list, each kept as typed."""

    name = "LIST"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        items = tuple(dict.fromkeys(part.strip() for part in str(value).split(",") if part.strip()))
        if not items:
            self.fail(f"expected a comma-separated list, got {value!r}", param, ctx)
        return items


class AmountType(click.ParamType):
    name = "AMOUNT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Decimal:
        from storage import actions as store

        if isinstance(value, Decimal):
            return value
        try:
            return store.parse_budget(str(value))
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)


CODES = CodeListType()
AMOUNT = AmountType()


def _chapters(values: tuple[str, ...]) -> tuple[ChapterRef, ...]:
    from storage import actions as store

    try:
        return tuple(store.chapter_ref(v) for v in values)
    except InvalidValue as exc:
        raise click.BadParameter(str(exc), param_hint="--chapter") from None


def _action_options(*, adding: bool) -> Callable[[F], F]:
    """The fields of an action, as `add` requires them and `edit` changes them."""

    def wrap(func: F) -> F:
        options = [
            click.option("--title", required=adding, default=None, help="What the action does, in a line."),
            click.option("--responsible", required=adding, default=None, help="The responsible institution's code, e.g. MOJ."),
            click.option("--recommendations", "--ids", "recommendations", type=IDS, default=None, help="The recommendations it serves: '3,5,9' or '10-20'."),
            click.option("--link-groups", type=IDS, default=None, help="The linked groups it serves (their numbers): '2,7'."),
            click.option("--description", default=None, help="What it involves, at any length."),
            click.option("--contributing", type=CODES, default=None, help="Contributing institutions' codes: 'MOW,MIDES'."),
            click.option("--start-date", type=DATE, default=None, help="When it starts, YYYY-MM-DD."),
            click.option("--target-date", type=DATE, default=None, help="When it is to be done, YYYY-MM-DD (reminders cover it)."),
            click.option("--budget", type=AMOUNT, default=None, help="Its budget, e.g. 150000 or 150000.50."),
            click.option("--currency", default=None, help="The budget's currency, ISO 4217: UYU, EUR, USD."),
            click.option("--budget-source", default=None, help="Where the money comes from, e.g. 'National budget, line 12'."),
            click.option("--sdg", "sdg_targets", type=CODES, default=None, help="SDG targets it serves: '5.2,16.3'."),
            click.option("--chapter", "chapters", multiple=True, help="A framework's chapter it serves, FRAMEWORK:CHAPTER, e.g. PNDH:2.3 (repeatable)."),
        ]
        if adding:
            options += [
                click.option("--code", default=None, help="Its code (default: the next A-N)."),
                click.option("--budget-internal", is_flag=True, help="Keep the budget out of public outputs."),
            ]
        else:
            options += [
                click.option("--budget-internal/--budget-public", "budget_internal", default=None, help="Keep the budget out of public outputs, or show it again."),
                click.option("--clear", "clear", multiple=True, type=click.Choice(sorted(ACTION_CLEARABLE)), help="Empty a field (repeatable)."),
            ]
        for option in reversed(options):
            func = option(func)
        return func

    return wrap


@click.group()
def actions() -> None:
    """Actions of the implementation plan: measures taken on recommendations."""


def _row(view: ActionView) -> dict[str, Any]:
    budget = view.budget
    return {
        "code": view.code, "title": view.title, "state": view.state, "status": view.status, "responsible": view.responsible_code,
        "contributing": [code for code, _ in view.contributing], "start_date": view.start_date, "target_date": view.target_date,
        "budget": str(budget.amount) if budget else None, "currency": budget.currency if budget else None,
        "budget_internal": budget.internal if budget else None,
        "recommendations": [f"#{r}" for r in view.recommendations], "link_groups": list(view.link_groups),
        "sdg_targets": list(view.sdg_targets), "chapters": [f"{c.framework}:{c.code}" for c in view.chapters],
    }


@actions.command("add")
@_action_options(adding=True)
@click.pass_obj
def actions_add(app: AppContext, **given: Any) -> None:
    """Add an action (accepted at once) serving recommendations or linked groups."""
    from storage import actions as store
    from storage.actions import ActionData
    from storage.database import writing

    data = ActionData(
        title=given["title"], responsible=given["responsible"], recommendations=given["recommendations"] or (),
        link_groups=given["link_groups"] or (), description=given["description"], contributing=given["contributing"] or (),
        start_date=given["start_date"], target_date=given["target_date"], budget_amount=given["budget"],
        budget_currency=given["currency"], budget_source=given["budget_source"], budget_internal=given["budget_internal"],
        sdg_targets=given["sdg_targets"] or (), chapters=_chapters(given["chapters"]), code=given["code"],
    )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            action = await store.create_action(session, data, actor=app.actor, now=app.now())
            [view] = (await store.views(session, [action.id])).values()
        served = ", ".join([f"#{r}" for r in view.recommendations] + [f"group {g}" for g in view.link_groups])
        return f"{view.code} added: {view.title!r}, {view.responsible_code} responsible, serving {served}"

    click.echo(app.run(work))


@actions.command("list")
@click.option("--state", type=click.Choice([*(s.value for s in ActionState), "all"]), default="accepted", show_default=True, help="Which actions.")
@click.option("--institution", default=None, help="Only actions this institution answers for or contributes to.")
@click.option("--status", type=enum_choice(ImplementationStatus), default=None, help="Only actions with this status.")
@click.option("--recommendation", type=click.IntRange(min=1), default=None, help="Only actions serving this recommendation (directly or through its linked group).")
@click.option("--overdue", is_flag=True, help="Only unfinished actions whose target date has passed.")
@output_options
@click.pass_obj
def actions_list(app: AppContext, state: str, institution: str | None, status: str | None, recommendation: int | None, overdue: bool, fmt: str, limit: int | None) -> None:
    """The actions, with their institutions, dates, budget and what they serve."""
    from bot.output import write_rows
    from storage import actions as store
    from storage.actions import ActionFilter

    wanted = ActionFilter(
        state=None if state == "all" else ActionState(state), institution=institution,
        status=ImplementationStatus(status) if status else None, recommendation=recommendation, overdue_on=app.today() if overdue else None,
    )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[ActionView]:
        async with sessions() as session:
            return await store.list_actions(session, wanted)

    found = app.run(work)
    count = write_rows([_row(v) for v in found], LIST_COLUMNS, fmt, limit)
    if fmt == "table":
        click.echo(f"{count} action(s)", err=True)


@actions.command("show")
@click.argument("code")
@click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")), default="table", show_default=True, help="Output format (json and csv: its history).")
@click.pass_obj
def actions_show(app: AppContext, code: str, fmt: str) -> None:
    """One action whole, and its history of updates."""
    from bot.output import write_rows
    from storage import actions as store

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[ActionView, list[dict[str, Any]]]:
        async with sessions() as session:
            action = await store.get_action(session, code)
            [view] = (await store.views(session, [action.id])).values()
            names = {i: c for i, c in await _institution_codes(session)}
            rows = [
                {"code": view.code, "update": u.id, "at": u.created_at, "status": u.status, "institution": names.get(u.institution_id) if u.institution_id else "secretariat",
                 "author": u.author_label, "channel": u.channel, "done": u.narrative, "next_step": u.next_step, "next_date": u.next_step_due_on, "corrects": u.corrects_id}
                for u in await store.history(session, action.id)
            ]
            return view, rows

    view, rows = app.run(work)
    if fmt != "table":
        write_rows(rows, HISTORY_COLUMNS, fmt)
        return
    lines = [f"{view.code}: {view.title}", f"  state: {view.state.value}; status: {view.status.value}"]
    if view.decision_note:
        lines.append(f"  decision: {view.decision_note}")
    if view.description:
        lines.append(f"  description: {view.description}")
    contributing = f"; contributing: {', '.join(c for c, _ in view.contributing)}" if view.contributing else ""
    lines.append(f"  responsible: {view.responsible_code} ({view.responsible_name}){contributing}")
    lines.append(f"  dates: {_day(view.start_date)} to {_day(view.target_date)}")
    if view.budget:
        internal = " (internal: not in public outputs)" if view.budget.internal else ""
        source = f", from {view.budget.source}" if view.budget.source else ""
        lines.append(f"  budget: {view.budget.amount:,} {view.budget.currency}{source}{internal}")
    served = [f"#{r}" for r in view.recommendations] + [f"linked group {g}" for g in view.link_groups]
    lines.append(f"  serves: {', '.join(served)}")
    if view.sdg_targets:
        lines.append(f"  SDG targets: {', '.join(view.sdg_targets)}")
    for chapter in view.chapters:
        lines.append(f"  chapter: {chapter.framework}:{chapter.code} {chapter.title} ({chapter.framework_title})")
    lines.append(f"  history: {len(rows)} update(s)" if rows else "  history: no update yet")
    for row in rows:
        done = f": {row['done']}" if row["done"] else ""
        lines.append(f"    {row['at']:%Y-%m-%d %H:%M} {row['status'].value} by {row['author']} ({row['institution']}){done}")
    click.echo("\n".join(lines))


def _day(value: Any) -> str:
    return value.isoformat() if value else "—"


async def _institution_codes(session: AsyncSession) -> list[tuple[int, str]]:
    from sqlalchemy import select
    from storage.models import Institution

    return [(i, c) for i, c in await session.execute(select(Institution.id, Institution.code))]


@actions.command("edit")
@click.argument("code")
@_action_options(adding=False)
@click.pass_obj
def actions_edit(app: AppContext, code: str, **given: Any) -> None:
    """Change an action: each option given replaces what it names; --clear empties a field."""
    from storage import actions as store
    from storage.actions import ActionEdit
    from storage.database import writing

    edit = ActionEdit(
        title=given["title"], description=given["description"], responsible=given["responsible"], start_date=given["start_date"],
        target_date=given["target_date"], budget_amount=given["budget"], budget_currency=given["currency"], budget_source=given["budget_source"],
        budget_internal=given["budget_internal"], recommendations=given["recommendations"], link_groups=given["link_groups"],
        contributing=given["contributing"], sdg_targets=given["sdg_targets"], chapters=_chapters(given["chapters"]) if given["chapters"] else None,
        clear=frozenset(given["clear"]),
    )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            action, changed = await store.edit_action(session, code, edit, now=app.now())
            return f"{action.code} changed" if changed else f"{action.code} unchanged: it already reads so"

    click.echo(app.run(work))


@actions.command("accept")
@click.argument("codes", nargs=-1, required=True)
@click.pass_obj
def actions_accept(app: AppContext, codes: tuple[str, ...]) -> None:
    """Take proposed actions into the plan (all or none)."""
    from bot.policy import reminder_policy
    from handlers.action_decisions import tell_proposer
    from storage import actions as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        said: list[str] = []
        async with writing(sessions) as session:
            for c in dict.fromkeys(codes):
                action = await store.decide(session, c, True, actor=app.actor, now=app.now())
                # The focal point who proposed it is told, in chat.
                await tell_proposer(session, action, reminder_policy(app.config), app.now())
                said.append(f"{action.code} accepted")
        return said

    click.echo("\n".join(app.run(work)))


@actions.command("reject")
@click.argument("code")
@click.option("--reason", required=True, help="Why, for the focal point who proposed it.")
@click.pass_obj
def actions_reject(app: AppContext, code: str, reason: str) -> None:
    """Reject a proposed action, saying why."""
    from bot.policy import reminder_policy
    from handlers.action_decisions import tell_proposer
    from storage import actions as store
    from storage.database import writing

    if not reason.strip():
        raise click.BadParameter("say why the action is rejected", param_hint="--reason")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            action = await store.decide(session, code, False, actor=app.actor, now=app.now(), note=reason)
            await tell_proposer(session, action, reminder_policy(app.config), app.now())
            return f"{action.code} rejected"

    click.echo(app.run(work))


@actions.command("update")
@click.argument("code")
@click.option("--status", type=enum_choice(ImplementationStatus), required=True, help="Where the action stands.")
@click.option("--done", default=None, help="What was done.")
@click.option("--next-step", default=None, help="The next step.")
@click.option("--next-date", type=DATE, default=None, help="The next step's date, YYYY-MM-DD.")
@click.pass_obj
def actions_update(app: AppContext, code: str, status: str, done: str | None, next_step: str | None, next_date: Any) -> None:
    """Record the secretariat's own update of an action (kept in its history)."""
    from storage import actions as store
    from storage.actions import ActionUpdateData
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            action = await store.get_action(session, code)
            update = await store.record_action_update(session, ActionUpdateData(
                action.id, ImplementationStatus(status), app.actor, Channel.CLI, narrative=(done or "").strip() or None,
                next_step=(next_step or "").strip() or None, next_step_due_on=next_date,
            ), app.now())
            return f"{action.code} is now {update.status.value} (update {update.id})"

    click.echo(app.run(work))


@click.group()
def frameworks() -> None:
    """National plans (a human-rights action plan, a development plan) whose chapters actions serve."""


@frameworks.command("add")
@click.argument("code")
@click.option("--title", required=True, help="The plan's name.")
@click.option("--kind", type=enum_choice(FrameworkKind), required=True, help="What kind of plan.")
@click.pass_obj
def frameworks_add(app: AppContext, code: str, title: str, kind: str) -> None:
    """Add a national plan."""
    from storage import actions as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            framework = await store.add_framework(session, code, title, FrameworkKind(kind))
            return f"framework {framework.code} added: {framework.title}"

    click.echo(app.run(work))


@frameworks.command("chapter")
@click.argument("framework")
@click.argument("code")
@click.option("--title", required=True, help="The chapter's title.")
@click.pass_obj
def frameworks_chapter(app: AppContext, framework: str, code: str, title: str) -> None:
    """Add a chapter to a plan (actions name it as FRAMEWORK:CHAPTER)."""
    from storage import actions as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            chapter = await store.add_chapter(session, framework, code, title)
            return f"chapter {framework.strip().upper()}:{chapter.code} added: {chapter.title}"

    click.echo(app.run(work))


@frameworks.command("list")
@output_options
@click.pass_obj
def frameworks_list(app: AppContext, fmt: str, limit: int | None) -> None:
    """The plans and their chapters."""
    from bot.output import write_rows
    from storage import actions as store

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            return [
                {"framework": f.code, "title": f.title, "kind": f.kind, "chapter": c.code if c else None, "chapter_title": c.title if c else None}
                for f, chapters in await store.list_frameworks(session) for c in (chapters or [None])
            ]

    count = write_rows(app.run(work), ("framework", "title", "kind", "chapter", "chapter_title"), fmt, limit)
    if fmt == "table":
        click.echo(f"{count} row(s)", err=True)
