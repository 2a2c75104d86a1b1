"""Issue 16 re-check (F9 attacked with two processes): two overlapping
values given at once, a quarter by Ana in chat and the year by the
secretariat on the command line. check_overlap read the values, then the
insert followed: on PostgreSQL (READ COMMITTED) neither transaction saw the
other's uncommitted row and both were kept, the overlap F9 refuses. Now the
indicator's row is locked for the check, so the second waits for the first
and is refused naming its period; SQLite's write lock does it already."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.clock import running_on
from storage.database import writing
from storage.enums import Channel
from storage.errors import InvalidValue
from storage.indicator_models import IndicatorFrequency, IndicatorKind, IndicatorValue
from storage.indicators import IndicatorData, Reporter, ValueData, add_indicator, get_indicator, record_value
from tests.fakes import FakeClock

TODAY = date(2026, 11, 23)
SECRETARIAT = Reporter("cli:maria", Channel.CLI)


async def test_two_overlapping_values_given_at_once_keep_one_and_refuse_the_other(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    clock = FakeClock()
    with running_on(clock):
        async with sessions() as session, session.begin():
            await add_indicator(session, IndicatorData(
                "I-3", IndicatorKind.PROCESS, "Cases of free legal aid given to women", "cases", IndicatorFrequency.QUARTERLY, "MOJ",
                date(2027, 1, 15), data_source="Legal aid case register",
            ))

    async def give(value: int, start: date, end: date, started: asyncio.Event | None = None, hold: asyncio.Event | None = None) -> None:
        with running_on(clock):
            async with writing(sessions) as session:
                if started is not None:
                    started.set()
                indicator = await get_indicator(session, "I-3")
                await record_value(session, indicator, ValueData(Decimal(value), start, end, "register"), SECRETARIAT, today=TODAY)
                if hold is not None:
                    await hold.wait()

    hold = asyncio.Event()
    first = asyncio.create_task(give(10, date(2026, 7, 1), date(2026, 9, 30), hold=hold))
    await asyncio.sleep(0.3)
    second = asyncio.create_task(give(40, date(2026, 1, 1), date(2026, 12, 31)))
    await asyncio.sleep(0.5)
    hold.set()
    await first
    with pytest.raises(InvalidValue) as refused:
        await asyncio.wait_for(second, 20)
    assert refused.value.key == "refusal.indicators.period_overlaps" and refused.value.values["other_start"] == date(2026, 7, 1)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(IndicatorValue)) == 1
