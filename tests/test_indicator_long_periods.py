"""A value answers the due date it was given for, or the one whose period
it reaches the end of, and no later one (issue 16 review): a value typed
for "2026-11-01 2030-12-31" used to answer every request until 2031, so
the focal point was never asked again; and a value for the quarter under
way answered the request about the quarter before it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.clock import running_on
from storage.indicator_models import IndicatorFrequency
from storage.indicators import add_indicator, open_request, open_requests, record_value, ValueData
from tests.fakes import FakeClock
from tests.test_indicators import SECRETARIAT, judges, moj

__all__ = ["moj"]


async def test_a_value_for_a_long_period_answers_one_request_not_every_later_one(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 12, tzinfo=UTC))
    with running_on(clock):
        async with sessions() as session, session.begin():
            indicator = await add_indicator(session, judges(first_due=date(2026, 12, 15), frequency=IndicatorFrequency.MONTHLY))
    async with sessions() as session, session.begin():
        # Begun, so taken; it reaches far past the request of 15 December (November).
        await record_value(session, indicator, ValueData(Decimal(30), date(2026, 11, 1), date(2030, 12, 31), "register"), SECRETARIAT, today=date(2026, 12, 16))
    async with sessions() as session:
        asked = [r.due_on for r in await open_requests(session, date(2027, 3, 16))]
        assert asked == [date(2026, 12, 15), date(2027, 1, 15), date(2027, 2, 15), date(2027, 3, 15)]
        assert await open_request(session, indicator, date(2027, 2, 15), date(2027, 3, 16)) is not None


async def test_a_value_for_the_quarter_under_way_does_not_answer_the_quarter_before(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    clock = FakeClock(datetime(2026, 10, 1, 12, tzinfo=UTC))
    with running_on(clock):
        async with sessions() as session, session.begin():
            indicator = await add_indicator(session, judges(first_due=date(2026, 10, 15)))
    async with sessions() as session, session.begin():
        # 20 October: October to December is under way; the request of 15 October asks for July to September.
        await record_value(session, indicator, ValueData(Decimal(33), date(2026, 10, 1), date(2026, 12, 31), "register"), SECRETARIAT, today=date(2026, 10, 20))
    async with sessions() as session:
        assert [(r.due_on, r.period) for r in await open_requests(session, date(2026, 10, 20))] == [(date(2026, 10, 15), (date(2026, 7, 1), date(2026, 9, 30)))]
    async with sessions() as session, session.begin():
        # A value for June to September still reaches the end of July to September: it answers
        # (July to October would overlap October to December's value, and is refused: F9).
        await record_value(session, indicator, ValueData(Decimal(32), date(2026, 6, 1), date(2026, 9, 30), "register"), SECRETARIAT, today=date(2026, 10, 31))
    async with sessions() as session:
        assert await open_requests(session, date(2026, 11, 2)) == []
        # And the value for October to December answers the request of 15 January, which asks for it.
        assert await open_request(session, indicator, date(2027, 1, 15), date(2027, 1, 20)) is None
