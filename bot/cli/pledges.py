"""``nmrf-bot pledges``: the year's pledge rounds (storage.pledges). The
secretariat opens a round, moves its dates and closes it; records a pledge
or an outcome sent to it by e-mail; and reads who has pledged, who
confirmed, and what became of each pledge. The file for the round is
`nmrf-bot report pledges`.

Every change is in the audit log with its actor."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import click

from bot.cli.context import AppContext
from bot.cli.options import DATE, IDS, output_options
from storage.enums import Channel, PledgeOutcomeKind, PledgeState

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from storage.pledge_models import PledgeRound
    from storage.pledges import Author, PledgeView

LIST_COLUMNS = (
    "code", "year", "institution", "state", "text", "serves", "author", "given_at", "confirmed_at", "outcome", "account", "told_at", "told_by",
)
SUMMARY_COLUMNS = ("institution", "name", "standing", "confirmed", "drafts", "withdrawn", "done", "partly", "not", "awaited")
ROUND_COLUMNS = ("year", "ask_by", "report_back_on", "stage", "institutions", "confirmed", "drafts", "opened_at", "opened_by", "closed_at")
STATES = ("all", *(s.value for s in PledgeState))


def _codes(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in (value or "").split(",") if part.strip()))


def _author(app: AppContext) -> Author:
    from storage.pledges import Author

    return Author(app.actor, Channel.CLI)


@click.group()
def pledges() -> None:
    """Yearly pledges: each institution's, confirmed, and reported back on at the year's end."""


@pledges.command("open")
@click.argument("year", type=int)
@click.option("--ask-by", type=DATE, required=True, help="The day pledges are asked by (reminded before it, then after it until given).")
@click.option("--report-back", "report_back", type=DATE, required=True, help="The day each confirmed pledge is asked back: done, partly or not.")
@click.option("--institutions", callback=_codes, default=None, help="Only these institutions: 'MOJ,MOW' (default: every active one).")
@click.pass_obj
def pledges_open(app: AppContext, year: int, ask_by: date, report_back: date, institutions: tuple[str, ...]) -> None:
    """Open the year's round: the institutions asked hear it in chat at the start of their next working day."""
    from storage import pledges as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            made = await store.open_round(
                session, year, ask_by, report_back, today=app.today(), actor=app.actor, now=app.now(), institutions=institutions,
            )
            asked = len(await store.asked_institutions(session, made.id))
        return (
            f"opened the {made.year} round: {asked} institution(s) asked for pledges by {made.ask_by.isoformat()}; "
            f"report-back from {made.report_back_on.isoformat()}"
        )

    click.echo(app.run(work))


@pledges.command("edit")
@click.argument("year", type=int)
@click.option("--ask-by", type=DATE, default=None, help="A new day pledges are asked by.")
@click.option("--report-back", "report_back", type=DATE, default=None, help="A new day the report-back begins.")
@click.pass_obj
def pledges_edit(app: AppContext, year: int, ask_by: date | None, report_back: date | None) -> None:
    """Move a round's dates (the reminders follow them)."""
    from storage import pledges as store
    from storage.database import writing

    if ask_by is None and report_back is None:
        raise click.UsageError("give --ask-by, --report-back or both")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            round_, changed = await store.edit_round(session, year, ask_by=ask_by, report_back_on=report_back)
        dates = f"pledges by {round_.ask_by.isoformat()}, report-back from {round_.report_back_on.isoformat()}"
        return f"the {year} round: {dates}" if changed else f"the {year} round: already {dates}; nothing changed"

    click.echo(app.run(work))


@pledges.command("close")
@click.argument("year", type=int)
@click.pass_obj
def pledges_close(app: AppContext, year: int) -> None:
    """Close a round: nobody is asked anything more, and no pledge or outcome is taken; what was given stays."""
    from storage import pledges as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            round_ = await store.close_round(session, year, actor=app.actor, now=app.now())
            found = await store.summary(session, round_)
        return f"closed the {year} round: {found.total('confirmed')} confirmed pledge(s), {found.total('awaited')} never reported back on"

    click.echo(app.run(work))


def _stage(round_: PledgeRound, today: date) -> str:
    from storage.pledges import phase

    return phase(round_, today)


@pledges.command("rounds")
@output_options
@click.pass_obj
def pledges_rounds(app: AppContext, fmt: str, limit: int | None) -> None:
    """Every round, the latest first."""
    from bot.output import write_rows
    from storage import pledges as store

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        out = []
        async with sessions() as session:
            for round_ in await store.list_rounds(session):
                found = await store.summary(session, round_)
                out.append({
                    "year": round_.year, "ask_by": round_.ask_by, "report_back_on": round_.report_back_on, "stage": _stage(round_, app.today()),
                    "institutions": len(found.lines), "confirmed": found.total("confirmed"), "drafts": found.total("drafts"),
                    "opened_at": round_.opened_at, "opened_by": round_.opened_by, "closed_at": round_.closed_at,
                })
        return out

    write_rows(app.run(work), ROUND_COLUMNS, fmt, limit)


async def _round(session: AsyncSession, year: int | None) -> PledgeRound:
    from storage import pledges as store

    return await store.get_round(session, year) if year is not None else await store.latest_round(session)


def _row(view: PledgeView, year: int) -> dict[str, Any]:
    pledge, outcome = view.pledge, view.outcome
    return {
        "code": pledge.code, "year": year, "institution": view.institution_code, "state": pledge.state.value, "text": pledge.text,
        "serves": view.serves, "author": pledge.author_label, "given_at": pledge.created_at, "confirmed_at": pledge.confirmed_at,
        "outcome": outcome.outcome.value if outcome else None, "account": outcome.account if outcome else None,
        "told_at": outcome.created_at if outcome else None, "told_by": outcome.author_label if outcome else None,
    }


@pledges.command("list")
@click.option("--year", type=int, default=None, help="The round's year (default: the latest).")
@click.option("--institution", default=None, help="Only this institution's pledges.")
@click.option("--state", type=click.Choice(STATES), default="all", show_default=True)
@output_options
@click.pass_obj
def pledges_list(app: AppContext, year: int | None, institution: str | None, state: str, fmt: str, limit: int | None) -> None:
    """A round's pledges, with what each serves and its latest outcome."""
    from bot.output import write_rows
    from storage import pledges as store
    from storage.network import get_institution

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            round_ = await _round(session, year)
            institution_id = (await get_institution(session, institution)).id if institution else None
            views = await store.pledge_views(
                session, round_.id, institution_id=institution_id, states=None if state == "all" else [PledgeState(state)],
            )
        return [_row(v, round_.year) for v in views]

    count = write_rows(app.run(work), LIST_COLUMNS, fmt, limit)
    if fmt == "table":
        click.echo(f"{count} pledge(s)", err=True)


def _summary_rows(found: Any) -> list[dict[str, Any]]:
    return [
        {
            "institution": line.code, "name": line.name, "standing": line.standing, "confirmed": line.confirmed, "drafts": line.drafts,
            "withdrawn": line.withdrawn, "done": line.outcomes[PledgeOutcomeKind.DONE], "partly": line.outcomes[PledgeOutcomeKind.PARTLY],
            "not": line.outcomes[PledgeOutcomeKind.NOT_DONE], "awaited": line.awaited,
        }
        for line in found.lines
    ]


@pledges.command("summary")
@click.argument("year", type=int, required=False)
@output_options
@click.pass_obj
def pledges_summary(app: AppContext, year: int | None, fmt: str, limit: int | None) -> None:
    """Per institution asked: whether it pledged (confirmed, drafts only, no pledge, nothing yet), and its outcomes."""
    from bot.output import write_rows
    from storage import pledges as store

    async def work(sessions: async_sessionmaker[AsyncSession]) -> Any:
        async with sessions() as session:
            return await store.summary(session, await _round(session, year))

    found = app.run(work)
    write_rows(_summary_rows(found), SUMMARY_COLUMNS, fmt, limit)
    if fmt == "table":
        click.echo(
            f"{found.round.year}: {len(found.lines)} institution(s) asked; {found.count('confirmed')} confirmed, {found.count('drafts')} with drafts only, "
            f"{found.count('no_pledge')} no pledge, {found.count('nothing')} not answered; {found.total('confirmed')} confirmed pledge(s): "
            f"{found.outcome_total(PledgeOutcomeKind.DONE)} done, {found.outcome_total(PledgeOutcomeKind.PARTLY)} partly, "
            f"{found.outcome_total(PledgeOutcomeKind.NOT_DONE)} not, {found.total('awaited')} awaited",
            err=True,
        )


@pledges.command("show")
@click.argument("ref")
@click.pass_obj
def pledges_show(app: AppContext, ref: str) -> None:
    """A pledge whole (P-3) with every outcome told, or a round (2027) by institution."""
    from storage import pledges as store
    from storage.pledge_models import PledgeRound

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        async with sessions() as session:
            if ref.strip().isdigit() and len(ref.strip()) == 4:
                found = await store.summary(session, await store.get_round(session, int(ref)))
                r = found.round
                lines = [f"{r.year} round ({_stage(r, app.today())}): pledges asked by {r.ask_by.isoformat()}, report-back from {r.report_back_on.isoformat()}"]
                by_institution: dict[str, list[PledgeView]] = {}
                for view in found.pledges:
                    by_institution.setdefault(view.institution_code, []).append(view)
                for line in found.lines:
                    lines.append(f"  {line.code} ({line.standing.replace('_', ' ')})")
                    for view in by_institution.get(line.code, []):
                        told = f"; {view.outcome.outcome.value}: {view.outcome.account}" if view.outcome else ""
                        serves = f" [{view.serves}]" if view.serves else ""
                        lines.append(f"    {view.pledge.code} {view.pledge.state.value}: {view.pledge.text}{serves}{told}")
                return lines
            pledge = await store.get_pledge(session, ref)
            round_ = await session.get(PledgeRound, pledge.round_id)
            assert round_ is not None
            [view] = await store.pledge_views(session, pledge.round_id, ids=[pledge.id])
            told = await store.outcomes_of(session, pledge.id)
        lines = [
            f"{pledge.code} ({round_.year}, {view.institution_code}, {pledge.state.value}): {pledge.text}",
            f"  serves: {view.serves or '-'}",
            f"  given by {pledge.author_label} on {pledge.created_at:%Y-%m-%d}"
            + (f"; confirmed by {pledge.confirmed_by} on {pledge.confirmed_at:%Y-%m-%d}" if pledge.confirmed_at else "")
            + (f"; withdrawn by {pledge.withdrawn_by} on {pledge.withdrawn_at:%Y-%m-%d}" if pledge.withdrawn_at else ""),
        ]
        if not told:
            lines.append("  outcome: none told yet")
        for number, outcome in enumerate(told, start=1):
            current = " (counts)" if number == len(told) else ""
            lines.append(f"  outcome {outcome.created_at:%Y-%m-%d}: {outcome.outcome.value}{current}: {outcome.account} ({outcome.author_label})")
        return lines

    click.echo("\n".join(app.run(work)))


@pledges.command("add")
@click.argument("year", type=int)
@click.option("--institution", required=True, help="Whose pledge it is (an institution the round asks).")
@click.option("--text", required=True, help="The pledge in the institution's words; #12 and A-3 in it name what it serves.")
@click.option("--recommendations", type=IDS, default=None, help="Recommendations it serves besides those named: '3,5' or '10-20'.")
@click.option("--actions", callback=_codes, default=None, help="Actions it serves besides those named: 'A-1,A-2'.")
@click.option("--confirmed", is_flag=True, help="The institution confirmed it already (sent to the secretariat): no draft.")
@click.pass_obj
def pledges_add(
    app: AppContext, year: int, institution: str, text: str, recommendations: tuple[int, ...] | None, actions: tuple[str, ...], confirmed: bool,
) -> None:
    """Record a pledge an institution sent to the secretariat."""
    from storage import pledges as store
    from storage.database import writing
    from storage.network import get_institution

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            round_ = await store.get_round(session, year)
            made = await store.add_pledge(
                session, round_, (await get_institution(session, institution)).id, text, _author(app), today=app.today(), now=app.now(),
                recommendations=recommendations or (), actions=actions, confirmed=confirmed,
            )
            [view] = await store.pledge_views(session, round_.id, ids=[made.id])
        return f"added {made.code} ({made.state.value}) for {view.institution_code} in {year}" + (f", serving {view.serves}" if view.serves else "")

    click.echo(app.run(work))


@pledges.command("confirm")
@click.argument("code")
@click.pass_obj
def pledges_confirm(app: AppContext, code: str) -> None:
    """Confirm a draft on the institution's word."""
    from storage import pledges as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            pledge = await store.confirm_pledge(session, code, by=app.actor, today=app.today(), now=app.now())
        return f"{pledge.code}: confirmed"

    click.echo(app.run(work))


@pledges.command("withdraw")
@click.argument("code")
@click.pass_obj
def pledges_withdraw(app: AppContext, code: str) -> None:
    """Withdraw a pledge before the report-back (it is kept, marked withdrawn)."""
    from storage import pledges as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            pledge = await store.withdraw_pledge(session, code, by=app.actor, today=app.today(), now=app.now())
        return f"{pledge.code}: withdrawn"

    click.echo(app.run(work))


@pledges.command("outcome")
@click.argument("code")
@click.option("--outcome", type=click.Choice([k.value for k in PledgeOutcomeKind]), required=True, help="done, partly or not.")
@click.option("--account", required=True, help="In a few words, what became of it.")
@click.pass_obj
def pledges_outcome(app: AppContext, code: str, outcome: str, account: str) -> None:
    """Record what became of a confirmed pledge, as its institution told the secretariat (the latest told counts)."""
    from storage import pledges as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            pledge = await store.get_pledge(session, code)
            told = await store.record_outcome(session, pledge, PledgeOutcomeKind(outcome), account, _author(app), today=app.today(), now=app.now())
        return f"{pledge.code}: {told.outcome.value}, recorded"

    click.echo(app.run(work))
