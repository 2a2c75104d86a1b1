"""A pledge round is for a year, and its dates belong to it (issue 16
review): a round for 2020 could be opened in 2026, asking by December and
reporting back in 2031."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import pledges as store
from storage.errors import InvalidValue
from tests.test_pledges import NOW, TODAY


async def test_a_round_for_a_year_that_is_over_is_refused(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        with pytest.raises(InvalidValue, match="2020 is over") as refused:
            await store.open_round(session, 2020, date(2026, 12, 20), date(2027, 1, 15), today=TODAY, actor="x", now=NOW)
        assert refused.value.field == "year"
        # This year's round, opened late in it, is still taken.
        made = await store.open_round(session, 2026, date(2026, 12, 15), date(2027, 1, 15), today=TODAY, actor="x", now=NOW)
        assert made.year == 2026


@pytest.mark.parametrize(("ask_by", "report_back", "field", "reason"), [
    (date(2028, 1, 31), date(2028, 6, 1), "ask_by", "asked by the end of 2027 at the latest"),
    (date(2027, 1, 31), date(2031, 1, 1), "report_back_on", "between 2027-07-01 and 2028-03-31"),
    (date(2027, 1, 31), date(2027, 3, 1), "report_back_on", "between 2027-07-01 and 2028-03-31"),
])
async def test_a_rounds_dates_belong_to_its_year(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], ask_by: date, report_back: date, field: str, reason: str,
) -> None:
    async with sessions() as session, session.begin():
        with pytest.raises(InvalidValue, match=reason) as refused:
            await store.open_round(session, 2027, ask_by, report_back, today=TODAY, actor="x", now=NOW)
        assert refused.value.field == field
        # Asked in the year before, reported back on early the next: taken.
        await store.open_round(session, 2027, date(2026, 12, 18), date(2028, 1, 15), today=TODAY, actor="x", now=NOW)
        with pytest.raises(InvalidValue, match=reason):
            await store.edit_round(session, 2027, ask_by=ask_by, report_back_on=report_back)
