"""Indicators in storage (issue 16): due dates and the periods they ask
about, definitions and their links, values append-only and checked, and
each indicator's series with its trend."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.audit import acting_as
from storage.clock import running_on
from storage.enums import Channel, InstitutionKind
from storage.errors import AppendOnlyViolation, Conflict, InvalidValue, NotFound
from storage.indicator_models import IndicatorFrequency, IndicatorKind, IndicatorValue
from storage.indicators import (
    IndicatorData,
    IndicatorEdit,
    Reporter,
    ValueData,
    add_indicator,
    due_dates,
    edit_indicator,
    get_indicator,
    list_indicators,
    next_due,
    open_requests,
    parse_measure,
    period_for,
    record_value,
    series,
    set_range,
    upsert_indicator,
)
from storage.models import AuditEntry
from storage.network import Change, InstitutionData, add_institution
from tests.fakes import FakeClock

Q = IndicatorFrequency.QUARTERLY
SECRETARIAT = Reporter("cli:maria", Channel.CLI)


def judges(**overrides: object) -> IndicatorData:
    values: dict[str, object] = {
        "code": "i-3", "kind": IndicatorKind.OUTCOME, "definition": "Share of  women among judges", "unit": "%",
        "frequency": Q, "institution_code": "moj", "first_due": date(2027, 1, 15),
        "baseline_value": Decimal("31.5"), "baseline_date": date(2024, 12, 31), "target_value": Decimal("45"), "target_date": date(2030, 12, 31),
        "data_source": "Judiciary staff register", "plausible_min": Decimal("0"), "plausible_max": Decimal("100"),
    }
    values.update(overrides)
    return IndicatorData(**values)  # type: ignore[arg-type]


@pytest.fixture
async def moj(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await add_institution(session, InstitutionData("MOJ", "Ministry of Justice", InstitutionKind.MINISTRY))


def test_due_dates_follow_the_frequency_from_the_first_and_keep_month_ends() -> None:
    assert due_dates(date(2027, 1, 31), IndicatorFrequency.MONTHLY, date(2027, 4, 30)) == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30),
    ]
    assert due_dates(date(2027, 1, 15), Q, date(2027, 12, 31), since=date(2027, 5, 1)) == [date(2027, 7, 15), date(2027, 10, 15)]
    assert next_due(date(2027, 1, 15), IndicatorFrequency.YEARLY, date(2027, 1, 16)) == date(2028, 1, 15)


def test_each_due_date_asks_for_the_last_whole_period_ended_by_then() -> None:
    assert period_for(date(2027, 1, 15), Q) == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_for(date(2026, 12, 31), Q) == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_for(date(2026, 12, 30), Q) == (date(2026, 7, 1), date(2026, 9, 30))
    assert period_for(date(2027, 3, 1), IndicatorFrequency.MONTHLY) == (date(2027, 2, 1), date(2027, 2, 28))
    assert period_for(date(2027, 7, 10), IndicatorFrequency.HALF_YEARLY) == (date(2027, 1, 1), date(2027, 6, 30))
    assert period_for(date(2027, 2, 1), IndicatorFrequency.YEARLY) == (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize(("typed", "expected"), [("1234.5", "1234.5"), ("-3", "-3"), (12.25, "12.25"), (7, "7"), ("0.000001", "0.000001")])
def test_the_command_line_and_a_spreadsheet_give_plain_numbers(typed: object, expected: str) -> None:
    assert str(parse_measure(typed)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("typed", "reason"), [
    ("1,234.5", "no thousands separator"), ("12 %", "expected a number"), ("1e5", "expected a number"),
    ("0.0000001", "at most 6 decimal places"), ("1234567890123456", "at most 15 significant digits"),
])
def test_a_number_the_registry_cannot_keep_is_refused_with_the_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=reason):
        parse_measure(typed)


async def test_an_indicator_is_defined_once_with_its_links_and_audited(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    async with sessions() as session, session.begin():
        with acting_as("cli:maria"):
            indicator = await add_indicator(session, judges())
    assert indicator.code == "I-3" and indicator.definition == "Share of women among judges"
    for data, error, reason in (
        (judges(), Conflict, "'I-3' exists already"),
        (judges(code="I-4", recommendations=(999,)), NotFound, "no recommendation with id 999"),
        (judges(code="I-4", actions=("a-9",)), NotFound, "no action with code 'A-9'"),
    ):
        async with sessions() as session, session.begin():
            with pytest.raises(error, match=reason):
                await add_indicator(session, data)
    async with sessions() as session:
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.entity == "indicators"))).all()
    assert [(a.actor, a.action, a.changes["code"]) for a in audit] == [("cli:maria", "insert", "I-3")]  # type: ignore[index]


@pytest.mark.parametrize(("change", "reason"), [
    ({"baseline_date": None}, "a baseline needs both its value and its date"),
    ({"target_date": date(2024, 1, 1)}, "not after the baseline date"),
    ({"plausible_min": Decimal(50), "plausible_max": Decimal(10)}, "maximum 10 is below its minimum 50"),
    ({"definition": "  "}, "definition is required"),
    ({"code": "I 3"}, "an indicator code is"),
])
async def test_a_definition_that_does_not_hold_together_is_refused(sessions: async_sessionmaker[AsyncSession], moj: None, change: dict[str, object], reason: str) -> None:
    async with sessions() as session, session.begin():
        with pytest.raises(InvalidValue, match=reason):
            await add_indicator(session, judges(**change))


async def test_an_upsert_changes_only_what_differs_and_an_edit_keeps_the_rest(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    async with sessions() as session, session.begin():
        assert await upsert_indicator(session, judges()) is Change.CREATED
        assert await upsert_indicator(session, judges()) is Change.UNCHANGED
        assert await upsert_indicator(session, judges(unit="% of judges")) is Change.UPDATED
        indicator, change = await edit_indicator(session, "I-3", IndicatorEdit(target=(Decimal("50"), date(2030, 12, 31))))
    assert change is Change.UPDATED and indicator.target_value == Decimal(50) and indicator.unit == "% of judges"
    async with sessions() as session, session.begin():
        await set_range(session, "i-3", None, Decimal("80"))
        with pytest.raises(InvalidValue, match="below its minimum"):
            await set_range(session, "I-3", Decimal(90), Decimal(80))
    async with sessions() as session:
        found = await get_indicator(session, "I-3")
        assert (found.plausible_min, found.plausible_max) == (None, Decimal(80))
        assert [r.institution for r in await list_indicators(session, kind=IndicatorKind.OUTCOME)] == ["MOJ"]
        assert await list_indicators(session, kind=IndicatorKind.STRUCTURAL) == []


async def test_a_value_outside_the_range_or_for_a_period_to_come_is_refused(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    async with sessions() as session, session.begin():
        indicator = await add_indicator(session, judges())
    today = date(2026, 11, 23)
    async with sessions() as session, session.begin():
        with pytest.raises(InvalidValue, match=r"150 is outside the plausible range of I-3 \(0 to 100\)"):
            await record_value(session, indicator, ValueData(Decimal(150), date(2025, 1, 1), date(2025, 12, 31), "register"), SECRETARIAT, today=today)
        with pytest.raises(InvalidValue, match="after today"):
            await record_value(session, indicator, ValueData(Decimal(40), date(2027, 1, 1), date(2027, 3, 31), "register"), SECRETARIAT, today=today)
        with pytest.raises(InvalidValue, match="ends .* before it starts"):
            await record_value(session, indicator, ValueData(Decimal(40), date(2025, 12, 31), date(2025, 1, 1), "register"), SECRETARIAT, today=today)
        with pytest.raises(InvalidValue, match="source is required"):
            await record_value(session, indicator, ValueData(Decimal(40), date(2025, 1, 1), date(2025, 12, 31), " "), SECRETARIAT, today=today)
    async with sessions() as session:
        assert (await session.scalars(select(IndicatorValue))).all() == []


async def test_values_are_append_only_and_a_redelivery_stores_nothing_twice(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    async with sessions() as session, session.begin():
        indicator = await add_indicator(session, judges())
        data = ValueData(Decimal("33.1"), date(2025, 1, 1), date(2025, 12, 31), "register")
        first = await record_value(session, indicator, data, SECRETARIAT, idempotency_key="telegram:9", today=date(2026, 11, 23))
        again = await record_value(session, indicator, data, SECRETARIAT, idempotency_key="telegram:9", today=date(2026, 11, 23))
    assert first.id == again.id
    async with sessions() as session:
        value = await session.scalar(select(IndicatorValue))
        assert value is not None
        value.value = Decimal(1)
        with pytest.raises(AppendOnlyViolation):
            await session.flush()


async def test_the_series_shows_the_latest_value_of_each_period_with_its_trend(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    clock = FakeClock()
    async with sessions() as session, session.begin():
        indicator = await add_indicator(session, judges())

    async def give(value: str, start: date, end: date) -> None:
        with running_on(clock):
            async with sessions() as session, session.begin():
                await record_value(session, indicator, ValueData(Decimal(value), start, end, "register"), SECRETARIAT, today=clock().date())
        clock.advance(days=1)

    await give("34", date(2026, 1, 1), date(2026, 3, 31))
    await give("33.5", date(2025, 10, 1), date(2025, 12, 31))
    middle = clock()
    clock.advance(hours=1)
    # A correction of the first quarter: the later figure counts.
    await give("35.25", date(2026, 1, 1), date(2026, 3, 31))
    async with sessions() as session:
        now = (await series(session))[indicator.id]
        then = (await series(session, [indicator.id], as_of=middle))[indicator.id]
    assert [(str(p.value.value), p.change, p.from_baseline) for p in now.points] == [
        ("33.5", None, Decimal("2")), ("35.25", Decimal("1.75"), Decimal("3.75")),
    ]
    assert [(str(p.value.value), p.superseded) for p in now.history] == [("34", True), ("33.5", False), ("35.25", False)]
    assert now.towards_target == Decimal("3.75") / Decimal("13.5")
    assert [str(p.value.value) for p in then.points] == ["33.5", "34"]


async def test_open_requests_are_the_due_dates_come_and_not_answered(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    clock = FakeClock(datetime(2026, 11, 1, 12, tzinfo=UTC))
    with running_on(clock):
        async with sessions() as session, session.begin():
            indicator = await add_indicator(session, judges(first_due=date(2026, 10, 15), frequency=IndicatorFrequency.MONTHLY))
    async with sessions() as session:
        # Asked from the day it was defined: 15 October is before it.
        assert [r.due_on for r in await open_requests(session, date(2027, 1, 20))] == [date(2026, 11, 15), date(2026, 12, 15), date(2027, 1, 15)]
    async with sessions() as session, session.begin():
        # One given for its due date, one whose period covers December's request.
        await record_value(session, indicator, ValueData(Decimal(30), date(2026, 10, 1), date(2026, 10, 31), "register", due_on=date(2026, 11, 15)), SECRETARIAT, today=date(2027, 1, 20))
        await record_value(session, indicator, ValueData(Decimal(31), date(2026, 11, 1), date(2026, 11, 30), "register"), SECRETARIAT, today=date(2027, 1, 20))
    async with sessions() as session:
        left = await open_requests(session, date(2027, 1, 20))
    assert [(r.code, r.due_on, r.period) for r in left] == [("I-3", date(2027, 1, 15), (date(2026, 12, 1), date(2026, 12, 31)))]
