"""``nmrf-bot indicators``: the implementation plan's indicators
(storage.indicators), defined and ranged by the secretariat, their values
as given in chat or recorded here, and each one's trend.

Numbers are typed plain here (1234.5, -3: a dot before decimals, no
thousands separator); in chat each focal point types them in their own
language's format."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from bot.cli.context import AppContext
from bot.cli.options import DATE, IDS, output_options
from storage.enums import IndicatorFrequency, IndicatorKind
from storage.errors import InvalidValue

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from storage.indicators import DueRequest, Point, Series

LIST_COLUMNS = (
    "code", "kind", "definition", "unit", "frequency", "institution", "first_due", "next_due", "baseline", "baseline_date",
    "target", "target_date", "latest", "latest_period", "plausible_min", "plausible_max", "source", "disaggregation", "actions", "recommendations",
    # The day it was retired: nothing is due of it since (next_due empty).
    "retired",
)
VALUE_COLUMNS = (
    "code", "value_id", "period_start", "period_end", "value", "change", "from_baseline", "counts", "due_on", "source", "note", "given_at", "given_by", "channel",
)


class MeasureType(click.ParamType):
    """A number as the command line takes it: 1234.5, -3."""

    name = "NUMBER"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Decimal:
        from storage.indicators import parse_measure

        if isinstance(value, Decimal):
            return value
        try:
            return parse_measure(str(value), param.name if param and param.name else "value")
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)


class CodesType(click.ParamType):
    """'A-1,A-2': action codes."""

    name = "CODES"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        return tuple(dict.fromkeys(part.strip() for part in str(value).split(",") if part.strip()))


NUMBER = MeasureType()
CODES = CodesType()


def _number(value: Decimal | None) -> int | float | None:
    """For JSON and CSV: a number they write as one (35, 36.25), never as text a
    spreadsheet would be told to neutralise (-1.25)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _signed(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"+{value}" if value > 0 else str(value)


def _definition_options(required: bool) -> Any:
    """The options ``add`` requires and ``edit`` takes, each optional there."""

    def wrap(command: Any) -> Any:
        for option in reversed([
            click.option("--kind", type=click.Choice([k.value for k in IndicatorKind]), required=required, help="OHCHR's kind: structural, process or outcome."),
            click.option("--definition", required=required, help="What is measured, e.g. 'Share of women among judges'."),
            click.option("--unit", required=required, help="e.g. '%', 'cases', 'per 100,000 live births'."),
            click.option("--frequency", type=click.Choice([f.value for f in IndicatorFrequency]), required=required, help="How often a value is due."),
            click.option("--institution", "institution_code", required=required, help="The institution that reports it (its focal points are asked)."),
            click.option("--first-due", type=DATE, required=required, help="The first due date; the next follow at the frequency."),
            click.option("--baseline", type=NUMBER, default=None, help="The baseline value (with --baseline-date)."),
            click.option("--baseline-date", type=DATE, default=None, help="The day the baseline was measured."),
            click.option("--target", type=NUMBER, default=None, help="The target value (with --target-date)."),
            click.option("--target-date", type=DATE, default=None, help="The day the target is to be reached."),
            click.option("--source", "data_source", default=None, help="Where values come from, e.g. 'Judiciary staff register' (offered in chat)."),
            click.option("--disaggregation", default=None, help="How values are broken down, e.g. 'sex; age; department'."),
            click.option("--actions", type=CODES, default=None, help="The actions it measures: 'A-1,A-2' (replaces those it had)."),
            click.option("--recommendations", type=IDS, default=None, help="The recommendations it measures: '3,5' or '10-20' (replaces those it had)."),
        ]):
            command = option(command)
        return command

    return wrap


def _pair(value: Decimal | None, day: date | None, what: str) -> tuple[Decimal, date] | None:
    if (value is None) != (day is None):
        raise click.UsageError(f"--{what} and --{what}-date go together")
    return (value, day) if value is not None and day is not None else None


@click.group()
def indicators() -> None:
    """Indicators (structural, process, outcome): definitions, values, trends."""


@indicators.command("add")
@click.argument("code")
@_definition_options(required=True)
@click.option("--min", "minimum", type=NUMBER, default=None, help="The lowest plausible value (a value below is asked again).")
@click.option("--max", "maximum", type=NUMBER, default=None, help="The highest plausible value.")
@click.pass_obj
def indicators_add(
    app: AppContext, code: str, kind: str, definition: str, unit: str, frequency: str, institution_code: str, first_due: date,
    baseline: Decimal | None, baseline_date: date | None, target: Decimal | None, target_date: date | None, data_source: str | None,
    disaggregation: str | None, actions: tuple[str, ...] | None, recommendations: tuple[int, ...] | None, minimum: Decimal | None, maximum: Decimal | None,
) -> None:
    """Define an indicator, e.g. `indicators add I-3 --kind outcome --definition "Share of women among judges"
    --unit % --frequency yearly --institution MOJ --first-due 2027-01-15 --baseline 31.5 --baseline-date 2024-12-31`."""
    from storage.database import writing
    from storage.indicators import IndicatorData, add_indicator, next_due

    _pair(baseline, baseline_date, "baseline")
    _pair(target, target_date, "target")
    data = IndicatorData(
        code, IndicatorKind(kind), definition, unit, IndicatorFrequency(frequency), institution_code, first_due,
        baseline, baseline_date, target, target_date, data_source, disaggregation, minimum, maximum, actions, recommendations,
    )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            made = await add_indicator(session, data)
            upcoming = next_due(made.first_due, made.frequency, app.today())
            return f"added indicator {made.code}: {made.definition} ({made.unit}), {made.frequency.value}; next due {upcoming.isoformat()}"

    click.echo(app.run(work))


@indicators.command("edit")
@click.argument("code")
@_definition_options(required=False)
@click.pass_obj
def indicators_edit(
    app: AppContext, code: str, kind: str | None, definition: str | None, unit: str | None, frequency: str | None, institution_code: str | None,
    first_due: date | None, baseline: Decimal | None, baseline_date: date | None, target: Decimal | None, target_date: date | None,
    data_source: str | None, disaggregation: str | None, actions: tuple[str, ...] | None, recommendations: tuple[int, ...] | None,
) -> None:
    """Correct an indicator: only the options given change (the values given stay as they were)."""
    from storage.database import writing
    from storage.indicators import IndicatorEdit, edit_indicator

    edit = IndicatorEdit(
        kind=IndicatorKind(kind) if kind else None, definition=definition, unit=unit, frequency=IndicatorFrequency(frequency) if frequency else None,
        institution_code=institution_code, first_due=first_due, baseline=_pair(baseline, baseline_date, "baseline"),
        target=_pair(target, target_date, "target"), data_source=data_source, disaggregation=disaggregation, actions=actions, recommendations=recommendations,
    )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            indicator, change = await edit_indicator(session, code, edit)
            return f"indicator {indicator.code}: {'changed' if change.value == 'updated' else 'already so; nothing changed'}"

    click.echo(app.run(work))


@indicators.command("retire")
@click.argument("code")
@click.option("--reason", required=True, help="Why it is no longer measured (kept beside it and in the audit log).")
@click.pass_obj
def indicators_retire(app: AppContext, code: str, reason: str) -> None:
    """Retire an indicator: no value is asked of it any more; it stays, with
    its values, in the history and the reports, marked retired."""
    from storage.database import writing
    from storage.indicators import retire_indicator

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            indicator = await retire_indicator(session, code, reason)
            assert indicator.retired_at is not None
            return f"indicator {indicator.code}: retired on {indicator.retired_at:%Y-%m-%d} ({indicator.retired_reason}); no value is asked of it any more"

    click.echo(app.run(work))


@indicators.command("set-range")
@click.argument("code")
@click.option("--min", "minimum", type=NUMBER, default=None, help="The lowest plausible value.")
@click.option("--max", "maximum", type=NUMBER, default=None, help="The highest plausible value.")
@click.option("--clear", is_flag=True, help="No plausible range: every number is taken.")
@click.pass_obj
def indicators_set_range(app: AppContext, code: str, minimum: Decimal | None, maximum: Decimal | None, clear: bool) -> None:
    """The plausible range: a value outside it is asked again in chat, with the reason (`--min 0 --max 100`)."""
    from storage.database import writing
    from storage.indicators import set_range

    if clear and (minimum is not None or maximum is not None):
        raise click.UsageError("give --min/--max or --clear, not both")
    if not clear and minimum is None and maximum is None:
        raise click.UsageError("give --min, --max or both (or --clear to take the range away)")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            indicator = await set_range(session, code, minimum, maximum)
            low, high = indicator.plausible_min, indicator.plausible_max
            if low is None and high is None:
                return f"indicator {indicator.code}: no plausible range"
            return f"indicator {indicator.code}: plausible from {low if low is not None else '-'} to {high if high is not None else '-'}"

    click.echo(app.run(work))


@indicators.command("list")
@click.option("--institution", default=None, help="Only the indicators this institution reports.")
@click.option("--kind", type=click.Choice([k.value for k in IndicatorKind]), default=None, help="Only this kind.")
@output_options
@click.pass_obj
def indicators_list(app: AppContext, institution: str | None, kind: str | None, fmt: str, limit: int | None) -> None:
    """The indicators, with their baseline, target and latest value."""
    from bot.output import write_rows
    from storage.indicators import list_indicators, next_due, series

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            rows = await list_indicators(session, institution=institution, kind=IndicatorKind(kind) if kind else None)
            trends = await series(session, [r.indicator.id for r in rows]) if rows else {}
        out = []
        for row in rows:
            i = row.indicator
            latest = trends[i.id].latest
            out.append({
                "code": i.code, "kind": i.kind, "definition": i.definition, "unit": i.unit, "frequency": i.frequency, "institution": row.institution,
                "first_due": i.first_due, "next_due": None if i.retired_at else next_due(i.first_due, i.frequency, app.today()),
                "baseline": _number(i.baseline_value), "baseline_date": i.baseline_date, "target": _number(i.target_value), "target_date": i.target_date,
                "latest": _number(latest.value.value) if latest else None,
                "latest_period": f"{latest.value.period_start.isoformat()}..{latest.value.period_end.isoformat()}" if latest else None,
                "plausible_min": _number(i.plausible_min), "plausible_max": _number(i.plausible_max), "source": i.data_source, "disaggregation": i.disaggregation,
                "actions": ",".join(row.actions), "recommendations": ",".join(map(str, row.recommendations)),
                "retired": i.retired_at.date() if i.retired_at else None,
            })
        return out

    count = write_rows(app.run(work), LIST_COLUMNS, fmt, limit)
    if fmt == "table":
        click.echo(f"{count} indicator(s)", err=True)


def _value_row(code: str, point: Point) -> dict[str, Any]:
    v = point.value
    return {
        "code": code, "value_id": v.id, "period_start": v.period_start, "period_end": v.period_end, "value": _number(v.value),
        # Numbers, not "+2.5": a spreadsheet reads them as numbers.
        "change": _number(point.change), "from_baseline": _number(point.from_baseline), "counts": "no" if point.superseded else "yes",
        "due_on": v.due_on, "source": v.source, "note": v.note, "given_at": v.created_at, "given_by": v.reporter_label, "channel": v.channel,
    }


async def _series_of(
    sessions: async_sessionmaker[AsyncSession], code: str, today: date,
) -> tuple[Series, str, list[DueRequest], tuple[str, ...], tuple[int, ...]]:
    from storage.indicators import get_indicator, list_indicators, open_requests, series

    async with sessions() as session:
        indicator = await get_indicator(session, code)
        [row] = await list_indicators(session, ids=[indicator.id])
        found = (await series(session, [indicator.id]))[indicator.id]
        awaited = await open_requests(session, today, indicator_ids=[indicator.id])
    return found, row.institution, awaited, row.actions, row.recommendations


@indicators.command("show")
@click.argument("code")
@click.pass_obj
def indicators_show(app: AppContext, code: str) -> None:
    """One indicator whole: its definition, its values by period with the change
    from the one before and from the baseline, and the values still awaited."""
    from storage.indicators import next_due

    today = app.today()
    found, institution, awaited, actions, recommendations = app.run(lambda sessions: _series_of(sessions, code, today))
    i = found.indicator
    lines = [
        f"{i.code} ({i.kind.value}): {i.definition}",
        f"  unit: {i.unit}; reported by {institution}, {i.frequency.value} from {i.first_due.isoformat()}; "
        + ("retired, nothing due" if i.retired_at else f"next due {next_due(i.first_due, i.frequency, today).isoformat()}"),
        f"  baseline: {f'{i.baseline_value} ({i.baseline_date})' if i.baseline_value is not None else '-'}; "
        f"target: {f'{i.target_value} by {i.target_date}' if i.target_value is not None else '-'}",
    ]
    if i.retired_at is not None:
        lines.append(f"  retired: {i.retired_at:%Y-%m-%d} ({i.retired_reason}); no value is asked of it any more")
    if i.plausible_min is not None or i.plausible_max is not None:
        lines.append(f"  plausible range: {i.plausible_min if i.plausible_min is not None else '-'} to {i.plausible_max if i.plausible_max is not None else '-'}")
    if i.data_source or i.disaggregation:
        lines.append(f"  source: {i.data_source or '-'}; disaggregation: {i.disaggregation or '-'}")
    if actions or recommendations:
        lines.append(f"  measures: {', '.join([*actions, *(f'#{r}' for r in recommendations)])}")
    if not found.points:
        lines.append("  values: none given yet")
    else:
        lines.append(f"  values ({len(found.points)} period(s); the latest given for each):")
        for p in found.points:
            v = p.value
            change = f"  change {_signed(p.change)}" if p.change is not None else ""
            baseline = f"  from baseline {_signed(p.from_baseline)}" if p.from_baseline is not None else ""
            lines.append(f"    {v.period_start.isoformat()}..{v.period_end.isoformat()}  {v.value} {i.unit}{change}{baseline}  ({v.source}; {v.reporter_label}, {v.created_at:%Y-%m-%d})")
        if (towards := found.towards_target) is not None:
            lines.append(f"  towards the target: {towards * 100:.0f}% of the way from the baseline")
    superseded = sum(1 for p in found.history if p.superseded)
    if superseded:
        lines.append(f"  {superseded} earlier figure(s) corrected since (see: nmrf-bot indicators values {i.code})")
    for request in awaited:
        start, end = request.period
        lines.append(f"  awaited: the value due {request.due_on.isoformat()}, for {start.isoformat()}..{end.isoformat()}")
    click.echo("\n".join(lines))


@indicators.command("values")
@click.argument("code")
@output_options
@click.pass_obj
def indicators_values(app: AppContext, code: str, fmt: str, limit: int | None) -> None:
    """Every value given, in the order given, with its change from the value
    before it and from the baseline; `counts` is no for a figure corrected since."""
    from bot.output import write_rows

    found, *_ = app.run(lambda sessions: _series_of(sessions, code, app.today()))
    write_rows([_value_row(found.indicator.code, p) for p in found.history], VALUE_COLUMNS, fmt, limit)


@indicators.command("record")
@click.argument("code")
@click.option("--value", type=NUMBER, required=True, help="The figure: 1234.5.")
@click.option("--from", "period_start", type=DATE, required=True, help="The first day of the period it covers.")
@click.option("--to", "period_end", type=DATE, required=True, help="The last day of that period.")
@click.option("--source", default=None, help="Where it comes from (default: the indicator's source).")
@click.option("--note", default=None, help="A note on the figure.")
@click.option("--due", "due_on", type=DATE, default=None, help="The due date it answers (its request then stops); by default the period decides.")
@click.pass_obj
def indicators_record(
    app: AppContext, code: str, value: Decimal, period_start: date, period_end: date, source: str | None, note: str | None, due_on: date | None,
) -> None:
    """Record a value given to the secretariat (a figure sent by e-mail, a published statistic)."""
    from storage.database import writing
    from storage.enums import Channel
    from storage.indicators import Reporter, ValueData, due_dates, get_indicator, record_value

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            indicator = await get_indicator(session, code)
            given_source = source or indicator.data_source
            if not given_source:
                raise InvalidValue(f"--source is required: indicator {indicator.code} has no source of its own", field="source")
            if due_on is not None and due_on not in due_dates(indicator.first_due, indicator.frequency, due_on, due_on):
                raise InvalidValue(f"{due_on} is not a due date of {indicator.code} ({indicator.frequency.value} from {indicator.first_due})", field="due")
            stored = await record_value(
                session, indicator, ValueData(value, period_start, period_end, given_source, note, due_on), Reporter(app.actor, Channel.CLI), today=app.today(),
            )
            return f"recorded {indicator.code} = {stored.value} {indicator.unit} for {period_start.isoformat()}..{period_end.isoformat()} (value {stored.id})"

    click.echo(app.run(work))
