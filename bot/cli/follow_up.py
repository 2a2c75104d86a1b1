"""``nmrf-bot followup``: the paragraphs of a concluding observation a treaty
body selected for its follow-up procedure (storage.follow_up), and the
follow-up information deadline made to cover exactly those."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from bot.cli.context import AppContext
from bot.cli.options import IDS, output_options
from storage.enums import FollowUpSource
from storage.errors import InvalidValue

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from storage.follow_up import Paragraph, SelectionChange


@click.group("followup")
def follow_up() -> None:
    """The paragraphs of treaty bodies' concluding observations selected for follow-up."""


def _targets_args(command: Any) -> Any:
    command = click.argument("paragraphs", nargs=-1)(command)
    command = click.argument("symbol", required=False)(command)
    return click.option("--ids", type=IDS, default=None, help="Recommendation ids instead of SYMBOL PARAGRAPHS: '3,5,9'.")(command)


async def _targets(session: AsyncSession, symbol: str | None, paragraphs: tuple[str, ...], ids: tuple[int, ...] | None) -> list[Paragraph]:
    from storage.follow_up import resolve_ids, resolve_paragraphs

    if ids and (symbol or paragraphs):
        raise InvalidValue("give either SYMBOL PARAGRAPHS or --ids, not both")
    if ids:
        return await resolve_ids(session, ids)
    if not symbol or not paragraphs:
        raise InvalidValue("give the document symbol and its paragraphs, e.g. CEDAW/C/URY/CO/10 12, 14(a), 27 (or --ids)")
    _, found = await resolve_paragraphs(session, symbol, " ".join(paragraphs))
    return found


async def _deadline_notes(session: AsyncSession, change: SelectionChange) -> list[str]:
    """A follow-up deadline that no longer covers exactly its document's selection, and the command that fixes it."""
    from storage.follow_up import deadline_to_repoint

    notes = []
    for symbol in sorted({p.symbol for p in change.changed if p.symbol}):
        deadline_id = await deadline_to_repoint(session, symbol)
        if deadline_id is not None:
            notes.append(
                f"deadline {deadline_id} (follow-up information) covers other recommendations than {symbol}'s selection: "
                f"`nmrf-bot followup apply-deadline {symbol}` re-points it"
            )
    return notes


def _said(change: SelectionChange, done: str, same: str) -> str:
    from storage.follow_up import describe_paragraphs

    parts = []
    for label, items in ((done, change.changed), (same, change.unchanged)):
        if items:
            by_doc: dict[str, list[Paragraph]] = {}
            for p in items:
                by_doc.setdefault(p.symbol or p.mechanism, []).append(p)
            named = "; ".join(
                f"{doc} {describe_paragraphs([p.paragraph for p in ps], [p.recommendation_id for p in ps if not p.paragraph])}"
                for doc, ps in by_doc.items()
            )
            parts.append(f"{label}: {named} ({', '.join(f'#{p.recommendation_id}' for p in items)})")
    return "\n".join(parts)


@follow_up.command("select")
@_targets_args
@click.pass_obj
def select_command(app: AppContext, symbol: str | None, paragraphs: tuple[str, ...], ids: tuple[int, ...] | None) -> None:
    """Record paragraphs as selected for follow-up: SYMBOL 12, 14(a), 27 (or --ids)."""
    from storage.follow_up import select_paragraphs

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            change = await select_paragraphs(session, await _targets(session, symbol, paragraphs, ids), FollowUpSource.SECRETARIAT)
            notes = await _deadline_notes(session, change)
        return "\n".join([_said(change, "selected for follow-up", "already selected"), *notes])

    click.echo(app.run(work))


@follow_up.command("unselect")
@_targets_args
@click.pass_obj
def unselect_command(app: AppContext, symbol: str | None, paragraphs: tuple[str, ...], ids: tuple[int, ...] | None) -> None:
    """Take paragraphs out of the follow-up selection: SYMBOL 12, 27 (or --ids)."""
    from storage.follow_up import unselect_paragraphs

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            change = await unselect_paragraphs(session, await _targets(session, symbol, paragraphs, ids))
            notes = await _deadline_notes(session, change)
        return "\n".join([_said(change, "no longer selected", "were not selected"), *notes])

    click.echo(app.run(work))


LIST_COLUMNS = ("document", "mechanism", "country", "paragraph", "id", "source", "selected_at", "selected_by")


@follow_up.command("list")
@click.argument("symbol", required=False)
@output_options
@click.pass_obj
def list_command(app: AppContext, symbol: str | None, fmt: str, limit: int | None) -> None:
    """The selected paragraphs, of every concluding observation or of SYMBOL's."""
    from bot.output import write_rows
    from storage.follow_up import list_selection

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            return [
                {
                    "document": r.symbol, "mechanism": r.mechanism, "country": r.country, "paragraph": r.paragraph,
                    "id": r.recommendation_id, "source": r.source, "selected_at": r.selected_at, "selected_by": r.selected_by,
                }
                for r in await list_selection(session, symbol)
            ]

    rows = app.run(work)
    write_rows(rows, LIST_COLUMNS, fmt, limit)
    if fmt == "table":
        click.echo(f"{len(rows)} selected paragraph(s)", err=True)


@follow_up.command("apply-deadline")
@click.argument("symbol")
@click.option("--deadline", "deadline_id", type=int, default=None, help="The follow-up information deadline, when several cover SYMBOL.")
@click.pass_obj
def apply_deadline(app: AppContext, symbol: str, deadline_id: int | None) -> None:
    """Make SYMBOL's follow-up information deadline (and its input deadlines)
    cover exactly the selected paragraphs; reminders then ask only about those."""
    from handlers.deadline_replan import cancel_pending_reminders
    from storage.follow_up import repoint_deadline

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            done = await repoint_deadline(session, symbol, deadline_id)
            if done.before == done.after:
                return f"deadline {done.deadline_id} already covers exactly the {len(done.after)} selected recommendation(s)"
            # Reminders planned and not yet sent carry the old coverage: withdrawn, the plan makes them again.
            withdrawn = await cancel_pending_reminders(session, [done.deadline_id, *done.input_ids])
        inputs = f" and its input deadline(s) {', '.join(map(str, done.input_ids))}" if done.input_ids else ""
        return (
            f"deadline {done.deadline_id}{inputs} now cover {len(done.after)} selected recommendation(s) "
            f"(was {len(done.before)}); {withdrawn} pending reminder(s) re-planned"
        )

    click.echo(app.run(work))
