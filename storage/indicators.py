"""Indicators (issue 16): their definitions, when each value falls due, the
values given (append-only), and each indicator's series with its trend.

An indicator is reported by one institution at a frequency: its first due
date is ``first_due``, the next ones follow every month, quarter, half-year
or year counted from it (31 January, then 28 February, then 31 March). Each
due date asks for the last whole calendar period that ended by then (due
15 January, quarterly: October to December). A due date is answered by a
value given for it (the chat's request, or ``--due`` on the command line),
or by any value whose period reaches the end of the period it asks about
but not the end of the period after it (that one answers the next request).

Values are never changed: a corrected figure is a new value for the same
period, and the latest given for a period is the one a series shows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.action_models import Action
from storage.enums import Channel, OutboxStatus
from storage.errors import Conflict, InvalidValue, NotFound, ids_value
from storage.idempotent import add_once
from storage.indicator_models import (
    FREQUENCY_MONTHS,
    SCALE,
    Indicator,
    IndicatorAction,
    IndicatorFrequency,
    IndicatorKind,
    IndicatorRecommendation,
    IndicatorReminderStep,
    IndicatorValue,
    plain,
)
from storage.models import AuditEntry, Institution, OutboxMessage, Recommendation
from storage.network import Change, get_institution
from storage.types import utcnow

_CODE = re.compile(r"[A-Z0-9][A-Z0-9_.-]{0,31}")
# A float keeps 15 significant digits, and SQLite keeps a value as one.
MAX_DIGITS = 15
DEFINITION_CHARS = 2000
UNIT_CHARS = 100
TEXT_CHARS = 300
SOURCE_CHARS = 500
NOTE_CHARS = 2000
# Due dates older than this are no longer asked for (as overdue deadlines leave the plan).
ASK_HORIZON = timedelta(days=180)


def indicator_code(value: str) -> str:
    """'i-3' -> 'I-3'."""
    code = value.strip().upper()
    if not _CODE.fullmatch(code):
        raise InvalidValue(
            f"an indicator code is letters, digits, '.', '_' or '-' (at most 32), such as I-3; got {value!r}", field="code",
            key="refusal.indicators.bad_code", values={"text": value.strip()},
        )
    return code


def check_measure(value: Decimal, what: str = "value") -> Decimal:
    """A finite number of at most 15 significant digits and 6 decimals, without trailing zeros."""
    # The figure as given (str), so a refusal shows it exactly, not rounded to a locale's pattern.
    if not value.is_finite():
        raise InvalidValue(f"{what}: expected a number, got {value}", field=what, key="refusal.indicators.not_a_number", values={"field": what, "text": str(value)})
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > SCALE:
        raise InvalidValue(
            f"{what}: at most {SCALE} decimal places, got {value}", field=what,
            key="refusal.indicators.too_many_decimals", values={"field": what, "scale": SCALE, "text": str(value)},
        )
    if len(plain(value).as_tuple().digits) > MAX_DIGITS:
        raise InvalidValue(
            f"{what}: at most {MAX_DIGITS} significant digits, got {value}", field=what,
            key="refusal.indicators.too_many_digits", values={"field": what, "digits": MAX_DIGITS, "text": str(value)},
        )
    return plain(value)


def parse_measure(text: str | int | float | Decimal, what: str = "value") -> Decimal:
    """A number as the command line and a spreadsheet give it: 1234.5 (a dot before decimals, no grouping)."""
    if isinstance(text, bool):
        raise InvalidValue(f"{what}: expected a number such as 1234.5, got {text!r}", field=what, key="refusal.indicators.not_a_number", values={"field": what, "text": str(text)})
    if isinstance(text, (int, Decimal)):
        return check_measure(Decimal(text), what)
    if isinstance(text, float):
        # A spreadsheet's cell: its shortest repr is what the person typed.
        return check_measure(Decimal(repr(text)), what)
    typed = text.strip().replace("\u2212", "-")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", typed):
        raise InvalidValue(
            f"{what}: expected a number such as 1234.5 or -3 (a dot before decimals, no thousands separator), got {text!r}", field=what,
            key="refusal.indicators.number_format", values={"field": what, "text": text.strip()},
        )
    try:
        return check_measure(Decimal(typed), what)
    except InvalidOperation:
        raise InvalidValue(
            f"{what}: expected a number such as 1234.5, got {text!r}", field=what, key="refusal.indicators.not_a_number", values={"field": what, "text": text.strip()},
        ) from None


def _text(value: str | None, what: str, limit: int, *, required: bool = False) -> str | None:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        if required:
            raise InvalidValue(f"{what} is required", field=what, key="refusal.indicators.required", values={"field": what})
        return None
    if len(cleaned) > limit:
        raise InvalidValue(
            f"{what} is at most {limit} characters, got {len(cleaned)}", field=what,
            key="refusal.indicators.too_long", values={"field": what, "count": limit, "length": len(cleaned)},
        )
    return cleaned


# --- when values fall due ---------------------------------------------------


def due_dates(first_due: date, frequency: IndicatorFrequency, until: date, since: date | None = None) -> list[date]:
    """The due dates from ``first_due`` up to ``until`` (and from ``since``), in order."""
    months = FREQUENCY_MONTHS[frequency]
    out: list[date] = []
    k = 0
    while (day := first_due + relativedelta(months=k * months)) <= until:
        if since is None or day >= since:
            out.append(day)
        k += 1
    return out


def next_due(first_due: date, frequency: IndicatorFrequency, after: date) -> date:
    """The first due date on or after ``after``."""
    months = FREQUENCY_MONTHS[frequency]
    k = 0
    while (day := first_due + relativedelta(months=k * months)) < after:
        k += 1
    return day


def period_for(due_on: date, frequency: IndicatorFrequency) -> tuple[date, date]:
    """The last whole calendar month, quarter, half-year or year that ended by
    ``due_on``: what its request asks about."""
    months = FREQUENCY_MONTHS[frequency]
    index = due_on.year * 12 + due_on.month - 1
    start = index - index % months
    end = date(start // 12, start % 12 + 1, 1) + relativedelta(months=months) - timedelta(days=1)
    if end > due_on:
        start -= months
    first = date(start // 12, start % 12 + 1, 1)
    return first, first + relativedelta(months=months) - timedelta(days=1)


# --- definitions ------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorData:
    code: str
    kind: IndicatorKind
    definition: str
    unit: str
    frequency: IndicatorFrequency
    institution_code: str
    first_due: date
    baseline_value: Decimal | None = None
    baseline_date: date | None = None
    target_value: Decimal | None = None
    target_date: date | None = None
    data_source: str | None = None
    disaggregation: str | None = None
    plausible_min: Decimal | None = None
    plausible_max: Decimal | None = None
    # Action codes and recommendation ids; None leaves them as they are.
    actions: tuple[str, ...] | None = None
    recommendations: tuple[int, ...] | None = None


def _checks(data: IndicatorData) -> list[Callable[[], object]]:
    """Each check of a definition on its own, in the order they are told."""

    def baseline() -> None:
        if (data.baseline_value is None) != (data.baseline_date is None):
            raise InvalidValue(
                "a baseline needs both its value and its date", field="baseline_date" if data.baseline_date is None else "baseline_value",
                key="refusal.indicators.baseline_incomplete",
            )

    def target() -> None:
        if (data.target_value is None) != (data.target_date is None):
            raise InvalidValue(
                "a target needs both its value and its date", field="target_date" if data.target_date is None else "target_value",
                key="refusal.indicators.target_incomplete",
            )

    def order() -> None:
        if data.baseline_date and data.target_date and data.target_date <= data.baseline_date:
            raise InvalidValue(
                f"the target date {data.target_date} is not after the baseline date {data.baseline_date}", field="target_date",
                key="refusal.indicators.target_not_after_baseline", values={"target": data.target_date, "baseline": data.baseline_date},
            )

    def measure(name: str) -> Callable[[], object]:
        return lambda: check_measure(getattr(data, name), name) if getattr(data, name) is not None else None

    def range_() -> None:
        low, high = data.plausible_min, data.plausible_max
        check_range(plain(low) if low is not None and low.is_finite() else None, plain(high) if high is not None and high.is_finite() else None)

    return [
        baseline, target, order, *(measure(name) for name in ("baseline_value", "target_value", "plausible_min", "plausible_max")), range_,
        lambda: indicator_code(data.code),
        lambda: _text(data.definition, "definition", DEFINITION_CHARS, required=True),
        lambda: _text(data.unit, "unit", UNIT_CHARS, required=True),
        lambda: _text(data.data_source, "data_source", TEXT_CHARS),
        lambda: _text(data.disaggregation, "disaggregation", TEXT_CHARS),
    ]


def indicator_refusals(data: IndicatorData) -> list[InvalidValue]:
    """Every refusal ``check_indicator`` would meet, not only the first: a
    template row is told each bad cell at once."""
    found: list[InvalidValue] = []
    for check in _checks(data):
        try:
            check()
        except InvalidValue as exc:
            found.append(exc)
    return found


def check_indicator(data: IndicatorData) -> IndicatorData:
    """Validated and normalised, before anything is looked up."""
    for check in _checks(data):
        check()
    measures = {
        name: check_measure(getattr(data, name), name) if getattr(data, name) is not None else None
        for name in ("baseline_value", "target_value", "plausible_min", "plausible_max")
    }
    return replace(
        data,
        code=indicator_code(data.code),
        definition=_text(data.definition, "definition", DEFINITION_CHARS, required=True) or "",
        unit=_text(data.unit, "unit", UNIT_CHARS, required=True) or "",
        data_source=_text(data.data_source, "data_source", TEXT_CHARS),
        disaggregation=_text(data.disaggregation, "disaggregation", TEXT_CHARS),
        actions=tuple(dict.fromkeys(a.strip().upper() for a in data.actions if a.strip())) if data.actions is not None else None,
        recommendations=tuple(dict.fromkeys(data.recommendations)) if data.recommendations is not None else None,
        **measures,
    )


def check_range(minimum: Decimal | None, maximum: Decimal | None) -> None:
    if minimum is not None and maximum is not None and maximum < minimum:
        raise InvalidValue(
            f"the plausible range's maximum {maximum} is below its minimum {minimum}", field="plausible_max",
            key="refusal.indicators.range_reversed", values={"minimum": minimum, "maximum": maximum},
        )


async def get_indicator(session: AsyncSession, code: str) -> Indicator:
    found = await session.scalar(select(Indicator).where(Indicator.code == indicator_code(code)))
    if found is None:
        raise NotFound(
            f"no indicator with code {code.strip().upper()!r} (see: nmrf-bot indicators list)", field="code",
            key="refusal.indicators.unknown", values={"code": code.strip().upper()},
        )
    return found


def _fields(data: IndicatorData, institution_id: int) -> dict[str, object]:
    return {
        "kind": data.kind, "definition": data.definition, "unit": data.unit, "frequency": data.frequency,
        "institution_id": institution_id, "first_due": data.first_due,
        "baseline_value": data.baseline_value, "baseline_date": data.baseline_date,
        "target_value": data.target_value, "target_date": data.target_date,
        "data_source": data.data_source, "disaggregation": data.disaggregation,
        "plausible_min": data.plausible_min, "plausible_max": data.plausible_max,
    }


async def add_indicator(session: AsyncSession, data: IndicatorData) -> Indicator:
    data = check_indicator(data)
    if await session.scalar(select(Indicator.id).where(Indicator.code == data.code)):
        raise Conflict(
            f"an indicator with code {data.code!r} exists already (change it with: nmrf-bot indicators edit {data.code})", field="code",
            key="refusal.indicators.exists", values={"code": data.code},
        )
    institution = await get_institution(session, data.institution_code)
    links = await _links(session, data)
    indicator = Indicator(code=data.code, **_fields(data, institution.id))
    session.add(indicator)
    await session.flush()
    await _set_links(session, indicator, links)
    return indicator


async def upsert_indicator(session: AsyncSession, data: IndicatorData) -> Change:
    """The template's row: created, or changed to match it; links given replace the old ones."""
    data = check_indicator(data)
    existing = await session.scalar(select(Indicator).where(Indicator.code == data.code))
    if existing is None:
        await add_indicator(session, data)
        return Change.CREATED
    institution = await get_institution(session, data.institution_code)
    links = await _links(session, data)
    changed = False
    for attr, value in _fields(data, institution.id).items():
        if getattr(existing, attr) != value:
            setattr(existing, attr, value)
            changed = True
    changed = await _set_links(session, existing, links) or changed
    await session.flush()
    return Change.UPDATED if changed else Change.UNCHANGED


@dataclass(frozen=True)
class IndicatorEdit:
    """What to change of an indicator; None leaves a field as it is."""

    kind: IndicatorKind | None = None
    definition: str | None = None
    unit: str | None = None
    frequency: IndicatorFrequency | None = None
    institution_code: str | None = None
    first_due: date | None = None
    baseline: tuple[Decimal, date] | None = None
    target: tuple[Decimal, date] | None = None
    data_source: str | None = None
    disaggregation: str | None = None
    actions: tuple[str, ...] | None = None
    recommendations: tuple[int, ...] | None = None


async def edit_indicator(session: AsyncSession, code: str, edit: IndicatorEdit) -> tuple[Indicator, Change]:
    indicator = await get_indicator(session, code)
    institution = await session.get(Institution, indicator.institution_id)
    assert institution is not None
    base = IndicatorData(
        indicator.code, indicator.kind, indicator.definition, indicator.unit, indicator.frequency, institution.code, indicator.first_due,
        indicator.baseline_value, indicator.baseline_date, indicator.target_value, indicator.target_date,
        indicator.data_source, indicator.disaggregation, indicator.plausible_min, indicator.plausible_max,
    )
    wanted = replace(
        base,
        **{name: getattr(edit, name) for name in ("kind", "definition", "unit", "frequency", "institution_code", "first_due", "data_source", "disaggregation", "actions", "recommendations") if getattr(edit, name) is not None},
        **({"baseline_value": edit.baseline[0], "baseline_date": edit.baseline[1]} if edit.baseline else {}),
        **({"target_value": edit.target[0], "target_date": edit.target[1]} if edit.target else {}),
    )
    return indicator, await upsert_indicator(session, wanted)


async def set_range(session: AsyncSession, code: str, minimum: Decimal | None, maximum: Decimal | None) -> Indicator:
    """The plausible range the secretariat sets (None: no bound on that side)."""
    indicator = await get_indicator(session, code)
    minimum = check_measure(minimum, "min") if minimum is not None else None
    maximum = check_measure(maximum, "max") if maximum is not None else None
    check_range(minimum, maximum)
    indicator.plausible_min, indicator.plausible_max = minimum, maximum
    await session.flush()
    return indicator


async def retire_indicator(session: AsyncSession, code: str, reason: str, now: datetime | None = None) -> Indicator:
    """Retire an indicator: no value is asked of it from now on (open_requests
    leaves it out); it stays, with its values, in the history and the reports,
    marked retired. The reason is kept beside it and in the audit log. On
    PostgreSQL the row is locked and read again first, so two retirements
    at once do not both pass the check (the second's reason replacing the
    first's); SQLite's writers hold its write lock already."""
    indicator = await get_indicator(session, code)
    if session.get_bind().dialect.name == "postgresql":
        await session.refresh(indicator, with_for_update=True)
    if indicator.retired_at is not None:
        raise InvalidValue(
            f"{indicator.code} was retired on {indicator.retired_at:%Y-%m-%d} already ({indicator.retired_reason})", field="code",
            key="refusal.indicators.already_retired",
            values={"code": indicator.code, "date": indicator.retired_at.date(), "reason": indicator.retired_reason or ""},
        )
    indicator.retired_reason = _text(reason, "reason", NOTE_CHARS, required=True)
    indicator.retired_at = now or utcnow()
    await _take_back_asks(session, indicator.id)
    await session.flush()
    return indicator


async def _take_back_asks(session: AsyncSession, indicator_id: int) -> None:
    """The queued messages not yet sent that ask for the indicator's value,
    or tell the secretariat that nobody can be asked for it, go, with the
    steps they took (of every indicator in them): their keys, one a person
    a day, are then free, and the next tick asks for what is still due
    without it. A sender that claimed one meanwhile keeps it."""
    pending = (await session.scalars(
        select(OutboxMessage.id).join(IndicatorReminderStep, IndicatorReminderStep.outbox_id == OutboxMessage.id)
        .where(IndicatorReminderStep.indicator_id == indicator_id, OutboxMessage.status == OutboxStatus.PENDING).distinct()
    )).all()
    # The secretariat's notice that nobody can be asked for it (keyed by
    # handlers.reminders.nobody_asked: nobody:indicator:ID:DUE:...).
    await session.execute(delete(OutboxMessage).where(
        OutboxMessage.key.like(f"nobody:indicator:{indicator_id}:%"), OutboxMessage.status == OutboxStatus.PENDING,
    ))
    if not pending:
        return
    await session.execute(delete(IndicatorReminderStep).where(IndicatorReminderStep.outbox_id.in_(pending)))
    await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(pending), OutboxMessage.status == OutboxStatus.PENDING))


async def _links(session: AsyncSession, data: IndicatorData) -> tuple[set[int] | None, set[int] | None]:
    """The action ids and recommendation ids ``data`` names (None: leave them), each checked to exist."""
    actions: set[int] | None = None
    if data.actions is not None:
        found = {code: i for i, code in await session.execute(select(Action.id, Action.code).where(Action.code.in_(data.actions)))} if data.actions else {}
        missing = [a for a in data.actions if a not in found]
        if missing:
            raise NotFound(
                f"no action with code {', '.join(map(repr, missing))} (see: nmrf-bot actions list)", field="actions",
                key="refusal.indicators.unknown_actions", values={"codes": ", ".join(missing)},
            )
        actions = set(found.values())
    recommendations: set[int] | None = None
    if data.recommendations is not None:
        recommendations = set(data.recommendations)
        known = set((await session.scalars(select(Recommendation.id).where(Recommendation.id.in_(recommendations)))).all()) if recommendations else set()
        if missing_ids := sorted(recommendations - known):
            raise NotFound(
                f"no recommendation with id {', '.join(map(str, missing_ids))}", field="recommendations",
                key="refusal.actions.unknown_recommendations", values={"ids": ids_value(missing_ids)},
            )
    return actions, recommendations


async def _set_links(session: AsyncSession, indicator: Indicator, links: tuple[set[int] | None, set[int] | None]) -> bool:
    """Replace the indicator's actions and recommendations with those given; whether any changed."""
    actions, recommendations = links
    changed = False
    if actions is not None:
        changed = await _replace(session, IndicatorAction, IndicatorAction.action_id, indicator.id, actions) or changed
    if recommendations is not None:
        changed = await _replace(session, IndicatorRecommendation, IndicatorRecommendation.recommendation_id, indicator.id, recommendations) or changed
    return changed


async def _replace(session: AsyncSession, model: type, column: object, indicator_id: int, wanted: set[int]) -> bool:
    have = set((await session.scalars(select(column).where(model.indicator_id == indicator_id))).all())  # type: ignore[attr-defined, call-overload]
    for gone in have - wanted:
        await session.delete(await session.get(model, (indicator_id, gone)))
    for new in wanted - have:
        session.add(model(**{"indicator_id": indicator_id, column.key: new}))  # type: ignore[attr-defined]
    await session.flush()
    return have != wanted


@dataclass(frozen=True)
class IndicatorRow:
    """An indicator as lists show it."""

    indicator: Indicator
    institution: str
    actions: tuple[str, ...]
    recommendations: tuple[int, ...]


async def list_indicators(
    session: AsyncSession, *, institution: str | None = None, kind: IndicatorKind | None = None, ids: Collection[int] | None = None,
) -> list[IndicatorRow]:
    """By code; ``institution`` a code."""
    statement = select(Indicator, Institution.code).join(Institution, Institution.id == Indicator.institution_id).order_by(Indicator.code)
    if institution is not None:
        statement = statement.where(Indicator.institution_id == (await get_institution(session, institution)).id)
    if kind is not None:
        statement = statement.where(Indicator.kind == kind)
    if ids is not None:
        statement = statement.where(Indicator.id.in_(list(ids)))
    rows = (await session.execute(statement)).all()
    wanted = [i.id for i, _ in rows]
    actions: dict[int, list[str]] = defaultdict(list)
    recs: dict[int, list[int]] = defaultdict(list)
    if wanted:
        for indicator_id, code in await session.execute(
            select(IndicatorAction.indicator_id, Action.code).join(Action, Action.id == IndicatorAction.action_id)
            .where(IndicatorAction.indicator_id.in_(wanted)).order_by(Action.code)
        ):
            actions[indicator_id].append(code)
        for indicator_id, rec in await session.execute(
            select(IndicatorRecommendation.indicator_id, IndicatorRecommendation.recommendation_id)
            .where(IndicatorRecommendation.indicator_id.in_(wanted)).order_by(IndicatorRecommendation.recommendation_id)
        ):
            recs[indicator_id].append(rec)
    return [IndicatorRow(i, code, tuple(actions[i.id]), tuple(recs[i.id])) for i, code in rows]


# --- values -----------------------------------------------------------------


@dataclass(frozen=True)
class Reporter:
    """Who gives a value: a focal point in chat, or the secretariat."""

    label: str
    channel: Channel
    focal_point_id: int | None = None
    secretariat_user_id: int | None = None


@dataclass(frozen=True)
class ValueData:
    value: Decimal
    period_start: date
    period_end: date
    source: str
    note: str | None = None
    due_on: date | None = None


def outside_range(indicator: Indicator, value: Decimal) -> bool:
    low, high = indicator.plausible_min, indicator.plausible_max
    return (low is not None and value < low) or (high is not None and value > high)


def _bound(value: Decimal | None) -> Decimal | str:
    # An open end of the range reads as a dash in every language.
    return "-" if value is None else value


def check_period(start: date, end: date, today: date) -> None:
    if end < start:
        raise InvalidValue(
            f"the period ends ({end}) before it starts ({start})", field="period_end", key="refusal.indicators.period_reversed", values={"start": start, "end": end},
        )
    if start > today:
        raise InvalidValue(
            f"the period starts on {start}, after today: a value is given for a period begun", field="period_start",
            key="refusal.indicators.period_future", values={"start": start},
        )


async def overlapping_period(session: AsyncSession, indicator_id: int, start: date, end: date) -> tuple[date, date] | None:
    """The earliest period of a value already given that shares a day with
    ``start``..``end`` without being that same period; None when there is none."""
    found = (await session.execute(
        select(IndicatorValue.period_start, IndicatorValue.period_end)
        .where(
            IndicatorValue.indicator_id == indicator_id, IndicatorValue.period_start <= end, IndicatorValue.period_end >= start,
            or_(IndicatorValue.period_start != start, IndicatorValue.period_end != end),
        )
        .order_by(IndicatorValue.period_start, IndicatorValue.period_end).limit(1)
    )).first()
    return None if found is None else (found[0], found[1])


async def check_overlap(session: AsyncSession, indicator: Indicator, start: date, end: date) -> None:
    """A value for exactly a period given before corrects it (the latest
    counts, the earlier kept in the history); one whose period overlaps
    another's without being it is refused, naming that period: both would
    count in the trend, a quarter's figure beside a year's or two quarters
    shifted by a month, and a statistician could no longer read it.
    On PostgreSQL the indicator's row is locked first: two values given at
    once (chat and the command line) would each miss the other's, not yet
    committed; SQLite's writers hold its write lock already."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(Indicator.id).where(Indicator.id == indicator.id).with_for_update())
    other = await overlapping_period(session, indicator.id, start, end)
    if other is not None:
        raise InvalidValue(
            f"the period {start}..{end} overlaps {other[0]}..{other[1]}, for which {indicator.code} has a value: "
            f"give a value for that same period to correct it, or for a period that does not overlap it",
            field="period_start", key="refusal.indicators.period_overlaps",
            values={"start": start, "end": end, "other_start": other[0], "other_end": other[1], "code": indicator.code},
        )


async def record_value(
    session: AsyncSession, indicator: Indicator, data: ValueData, reporter: Reporter, *,
    idempotency_key: str | None = None, today: date | None = None, at: datetime | None = None,
) -> IndicatorValue:
    """Append one value, checked: a number the indicator can hold, inside its
    plausible range, for a period that has begun. A redelivered message
    (an ``idempotency_key`` seen before) returns the value stored then.
    ``at``: when it was given (a chat turn's own clock); default now."""
    value = check_measure(data.value)
    if outside_range(indicator, value):
        low = "" if indicator.plausible_min is None else f"{indicator.plausible_min}"
        high = "" if indicator.plausible_max is None else f"{indicator.plausible_max}"
        raise InvalidValue(
            f"{value} is outside the plausible range of {indicator.code} ({low or '-'} to {high or '-'}); "
            f"check the figure, or widen the range with: nmrf-bot indicators set-range {indicator.code}",
            field="value", key="refusal.indicators.out_of_range",
            values={"value": value, "code": indicator.code, "low": _bound(indicator.plausible_min), "high": _bound(indicator.plausible_max)},
        )
    check_period(data.period_start, data.period_end, today or utcnow().date())
    await check_overlap(session, indicator, data.period_start, data.period_end)
    source = _text(data.source, "source", SOURCE_CHARS, required=True)
    row = IndicatorValue(
        indicator_id=indicator.id, value=value, period_start=data.period_start, period_end=data.period_end, due_on=data.due_on,
        source=source, note=_text(data.note, "note", NOTE_CHARS), institution_id=indicator.institution_id,
        focal_point_id=reporter.focal_point_id, secretariat_user_id=reporter.secretariat_user_id,
        reporter_label=reporter.label[:200], channel=reporter.channel, idempotency_key=idempotency_key, created_at=at or utcnow(),
    )
    return await add_once(session, row, idempotency_key)


@dataclass(frozen=True)
class Point:
    """One value of a series, with its change from the value before it and from the baseline."""

    value: IndicatorValue
    change: Decimal | None
    from_baseline: Decimal | None
    # A later value was given for the same period: this one no longer counts.
    superseded: bool = False


@dataclass
class Series:
    """An indicator's values over time: ``points``, the latest given for each
    period, by period; ``history``, every value in the order given."""

    indicator: Indicator
    points: list[Point] = field(default_factory=list)
    history: list[Point] = field(default_factory=list)

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def towards_target(self) -> Decimal | None:
        """How far the latest value has come from the baseline to the target:
        0 at the baseline, 1 at the target (beyond either, below 0 or above 1)."""
        i, latest = self.indicator, self.latest
        if latest is None or i.baseline_value is None or i.target_value is None or i.target_value == i.baseline_value:
            return None
        return (latest.value.value - i.baseline_value) / (i.target_value - i.baseline_value)


def _diff(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else plain(a - b)


# What the audit log can give back of an indicator as it stood, column by column.
_REWOUND: dict[str, object] = {
    "kind": IndicatorKind, "definition": str, "unit": str, "frequency": IndicatorFrequency, "institution_id": int,
    "first_due": date.fromisoformat, "baseline_value": Decimal, "baseline_date": date.fromisoformat, "target_value": Decimal,
    "target_date": date.fromisoformat, "data_source": str, "disaggregation": str, "plausible_min": Decimal, "plausible_max": Decimal,
    "retired_at": datetime.fromisoformat, "retired_reason": str,
}


async def as_they_stood(session: AsyncSession, indicators: Sequence[Indicator], as_of: datetime) -> list[Indicator]:
    """The indicators as defined at ``as_of``: each one changed since is a
    copy, outside the session, with the audit log's old values put back
    (newest change first), so a plan "as of" a date shows the baseline and
    target of then; the others are returned as they are."""
    wanted = {str(i.id): i for i in indicators}
    if not wanted:
        return []
    old: dict[str, dict[str, object]] = {}
    for entry in await session.scalars(
        select(AuditEntry).where(AuditEntry.at > as_of, AuditEntry.entity == Indicator.__tablename__, AuditEntry.action == "update")
        .order_by(AuditEntry.id.desc())
    ):
        if entry.entity_id not in wanted:
            continue
        for name, read in _REWOUND.items():
            if name in (entry.changes or {}):
                was = entry.changes[name][0]  # type: ignore[index]
                old.setdefault(entry.entity_id, {})[name] = None if was is None else read(was)  # type: ignore[operator]
    out: list[Indicator] = []
    for key, indicator in wanted.items():
        if key not in old:
            out.append(indicator)
            continue
        columns = {attr.key: getattr(indicator, attr.key) for attr in inspect(Indicator).column_attrs}
        out.append(Indicator(**{**columns, **old[key]}))
    return out


async def series(
    session: AsyncSession, indicator_ids: Collection[int] | None = None, *, as_of: datetime | None = None,
) -> dict[int, Series]:
    """Each indicator's series (every indicator when ``indicator_ids`` is None),
    with only the values given by ``as_of`` and the indicator as defined
    then: for the plan report, the progress page's charts and ``indicators show``."""
    statement = select(Indicator).order_by(Indicator.code)
    if indicator_ids is not None:
        statement = statement.where(Indicator.id.in_(list(indicator_ids)))
    found = list((await session.scalars(statement)).all())
    if as_of is not None:
        found = await as_they_stood(session, found, as_of)
    out = {i.id: Series(i) for i in found}
    if not out:
        return out
    values = select(IndicatorValue).where(IndicatorValue.indicator_id.in_(list(out))).order_by(IndicatorValue.indicator_id, IndicatorValue.id)
    if as_of is not None:
        values = values.where(IndicatorValue.created_at <= as_of)
    by_indicator: dict[int, list[IndicatorValue]] = defaultdict(list)
    for v in (await session.scalars(values)).all():
        by_indicator[v.indicator_id].append(v)
    for indicator_id, given in by_indicator.items():
        _fill(out[indicator_id], given)
    return out


def _fill(s: Series, given: Sequence[IndicatorValue]) -> None:
    baseline = s.indicator.baseline_value
    latest: dict[tuple[date, date], IndicatorValue] = {}
    for v in given:
        latest[(v.period_start, v.period_end)] = v
    counted = sorted(latest.values(), key=lambda v: (v.period_end, v.period_start))
    previous: Decimal | None = None
    changes: dict[int, Decimal | None] = {}
    for v in counted:
        changes[v.id] = _diff(v.value, previous)
        s.points.append(Point(v, changes[v.id], _diff(v.value, baseline)))
        previous = v.value
    kept = {v.id for v in counted}
    before: Decimal | None = None
    for v in given:
        # A superseded value's change is from the one counted before it in the series.
        change = changes[v.id] if v.id in kept else _diff(v.value, before)
        s.history.append(Point(v, change, _diff(v.value, baseline), superseded=v.id not in kept))
        if v.id in kept:
            before = v.value


# --- what is asked for ------------------------------------------------------


@dataclass(frozen=True)
class DueRequest:
    """A due date not yet answered: the value its institution's focal points are asked for."""

    indicator_id: int
    code: str
    definition: str
    unit: str
    institution_id: int
    due_on: date
    period: tuple[date, date]


def answers(value_due: date | None, value_end: date, due_on: date, period: tuple[date, date], frequency: IndicatorFrequency) -> bool:
    """Whether a value (given for ``value_due``, its period ending ``value_end``)
    answers the request of ``due_on`` about ``period``: given for it, or
    reaching the end of that period but not the end of the next one, which
    is the next request's to answer. Without that bound one value typed for
    2026 to 2030 answered every request until 2031."""
    if value_due == due_on:
        return True
    after = period[1] + timedelta(days=1)
    next_end = after + relativedelta(months=FREQUENCY_MONTHS[frequency]) - timedelta(days=1)
    return period[1] <= value_end < next_end


async def open_requests(session: AsyncSession, today: date, *, horizon: timedelta = ASK_HORIZON, indicator_ids: Collection[int] | None = None) -> list[DueRequest]:
    """Every due date from ``today - horizon`` to ``today`` not yet answered,
    oldest first. An indicator is asked only from the day it was defined:
    the values before it are the secretariat's to enter."""
    # A retired indicator is asked nothing more, its due dates before included.
    statement = select(Indicator).where(Indicator.retired_at.is_(None)).order_by(Indicator.code)
    if indicator_ids is not None:
        statement = statement.where(Indicator.id.in_(list(indicator_ids)))
    indicators = (await session.scalars(statement)).all()
    if not indicators:
        return []
    given: dict[int, list[tuple[date | None, date]]] = defaultdict(list)
    for indicator_id, due_on, end in await session.execute(
        select(IndicatorValue.indicator_id, IndicatorValue.due_on, IndicatorValue.period_end).where(IndicatorValue.indicator_id.in_([i.id for i in indicators]))
    ):
        given[indicator_id].append((due_on, end))
    out: list[DueRequest] = []
    for i in indicators:
        since = max(today - horizon, i.created_at.date())
        for due_on in due_dates(i.first_due, i.frequency, today, since):
            period = period_for(due_on, i.frequency)
            if not any(answers(d, end, due_on, period, i.frequency) for d, end in given[i.id]):
                out.append(DueRequest(i.id, i.code, i.definition, i.unit, i.institution_id, due_on, period))
    return sorted(out, key=lambda r: (r.due_on, r.code))


async def open_requests_of(session: AsyncSession, institution_id: int, today: date) -> list[DueRequest]:
    """``open_requests`` of the indicators one institution reports."""
    ids = (await session.scalars(select(Indicator.id).where(Indicator.institution_id == institution_id))).all()
    return await open_requests(session, today, indicator_ids=ids) if ids else []


async def open_request(session: AsyncSession, indicator: Indicator, due_on: date, today: date) -> DueRequest | None:
    """The request of ``due_on`` if it is a due date of the indicator, come and
    not yet answered (however long ago: its button may be old)."""
    if due_on > today or due_on not in due_dates(indicator.first_due, indicator.frequency, due_on, due_on):
        return None
    period = period_for(due_on, indicator.frequency)
    given = await session.execute(select(IndicatorValue.due_on, IndicatorValue.period_end).where(IndicatorValue.indicator_id == indicator.id))
    if any(answers(d, end, due_on, period, indicator.frequency) for d, end in given):
        return None
    return DueRequest(indicator.id, indicator.code, indicator.definition, indicator.unit, indicator.institution_id, due_on, period)
