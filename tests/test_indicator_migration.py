"""Migration 0025 (issue 16's indicators) on every backend: it builds the
tables and takes them away again, indicator_values keeps its history even
against raw SQL, and a value reads back as the Decimal it was."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import session_factory
from storage.indicator_models import IndicatorValue
from storage.migrate import current_revision, downgrade, head_revision, upgrade

INDICATOR_TABLES = {"indicators", "indicator_actions", "indicator_recommendations", "indicator_values", "indicator_reminder_steps"}


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))


async def _one_value(engine: AsyncEngine, value: str = "1234.5") -> None:
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO institutions (code, name, kind, active, created_at, updated_at) "
            "VALUES ('MOJ', 'Justice', 'ministry', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))
        await conn.execute(text(
            "INSERT INTO indicators (code, kind, definition, unit, frequency, institution_id, first_due, created_at, updated_at) "
            "VALUES ('I-1', 'outcome', 'Women judges', '%', 'yearly', 1, '2027-01-15', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))
        await conn.execute(text(
            "INSERT INTO indicator_values (indicator_id, value, period_start, period_end, source, reporter_label, channel, created_at) "
            f"VALUES (1, {value}, '2026-01-01', '2026-12-31', 'Judiciary', 'test', 'cli', CURRENT_TIMESTAMP)"
        ))


async def test_0025_builds_the_indicator_tables_and_takes_them_away(engine: AsyncEngine) -> None:
    assert INDICATOR_TABLES <= await _tables(engine)
    await downgrade(engine, "0024")
    assert await current_revision(engine) == "0024"
    assert not (INDICATOR_TABLES & await _tables(engine))
    assert "actions" in await _tables(engine)
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()
    assert INDICATOR_TABLES <= await _tables(engine)
    # The triggers came back with the table.
    await _one_value(engine)
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM indicator_values"))


@pytest.mark.parametrize("statement", ["UPDATE indicator_values SET value = 99", "DELETE FROM indicator_values"])
async def test_indicator_values_refuse_update_and_delete_in_sql(engine: AsyncEngine, statement: str) -> None:
    await _one_value(engine)
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    async with session_factory(engine)() as session:
        assert (await session.scalars(select(IndicatorValue.value))).all() == [Decimal("1234.5")]


async def test_a_value_reads_back_as_the_decimal_given_without_trailing_zeros(engine: AsyncEngine) -> None:
    await _one_value(engine, "0.123456")
    async with session_factory(engine)() as session:
        value = await session.scalar(select(IndicatorValue.value))
    assert value == Decimal("0.123456") and str(value) == "0.123456"


async def test_a_period_cannot_end_before_it_starts_nor_a_range_be_upside_down(engine: AsyncEngine) -> None:
    await _one_value(engine)
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE indicators SET plausible_min = 10, plausible_max = 5"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO indicator_values (indicator_id, value, period_start, period_end, source, reporter_label, channel, created_at) "
                f"VALUES (1, 1, '{date(2026, 12, 31)}', '{date(2026, 1, 1)}', 'x', 'test', 'cli', CURRENT_TIMESTAMP)"
            ))
