"""The plan "as of" a date shows each action as it stood then (issue 16
review): its title, dates, budget, institutions, SDG targets, chapters and
the recommendations it served, read back from the audit log, where before
only its status was of that date and the rest was today's."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import actions
from storage.actions import ActionEdit, ChapterRef
from storage.audit import acting_as
from storage.clock import running_on
from storage.enums import Channel
from storage.indicator_models import Indicator, IndicatorFrequency, IndicatorKind
from storage.indicators import IndicatorData, IndicatorEdit, Reporter, ValueData, add_indicator, edit_indicator, record_value, series
from storage.report_plan import plan_indicators
from tests.fakes import FakeClock
from tests.test_actions import NOW, _data, _frameworks


async def test_the_plan_as_of_a_date_shows_each_action_as_it_stood_then(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    one, two, _ = world["mine_all"]
    clock = FakeClock(NOW)
    with running_on(clock), acting_as("cli:mary"):
        async with sessions() as session, session.begin():
            await _frameworks(session)
            made = await actions.create_action(session, _data(world), actor="cli:mary", now=clock())
        clock.advance(days=10)
        async with sessions() as session, session.begin():
            await actions.edit_action(session, made.code, ActionEdit(
                title="Train 400 judges", responsible="MOW", recommendations=(two,), target_date=date(2028, 1, 1),
                budget_amount=Decimal("999999"), budget_internal=True, sdg_targets=("16.3",), chapters=(ChapterRef("PND", "4"),),
            ), now=clock())
    between = NOW + timedelta(days=5)
    async with sessions() as session:
        then = await actions.actions_by_recommendation(session, as_of=between)
        public_then = await actions.actions_by_recommendation(session, as_of=between, public=True)
        now = await actions.actions_by_recommendation(session, as_of=clock.now + timedelta(hours=1), public=True)
        listed = await actions.list_actions(session, as_of=between)
    # On the 5th day it served #one, with its first title, dates, budget and links.
    assert list(then) == [one] and [a.id for a in listed] == [made.id]
    [was] = then[one]
    assert (was.title, was.responsible_code, was.contributing) == ("Train 300 judges on the Istanbul Protocol", "MOJ", (("MOW", "Ministry of Women"),))
    assert (was.start_date, was.target_date) == (date(2027, 1, 1), date(2027, 6, 30))
    assert was.budget is not None and (was.budget.amount, was.budget.currency, was.budget.internal) == (Decimal("150000.50"), "UYU", False)
    assert was.sdg_targets == ("5.2", "16.3") and [(c.framework, c.code) for c in was.chapters] == [("PNDH", "2.3")]
    # Its budget was public then, so the public plan of then shows it.
    assert public_then[one][0].budget is not None
    # Today: #two, the new fields, and the budget now internal is left out of the public plan.
    assert list(now) == [two]
    [is_] = now[two]
    assert (is_.title, is_.responsible_code, is_.contributing, is_.target_date, is_.budget) == ("Train 400 judges", "MOW", (), date(2028, 1, 1), None)
    assert is_.sdg_targets == ("16.3",) and [(c.framework, c.code) for c in is_.chapters] == [("PND", "4")]


async def test_the_plan_as_of_a_date_shows_each_indicator_as_it_was_defined_then(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    one, two, _ = world["mine_all"]
    clock = FakeClock(NOW)
    with running_on(clock), acting_as("cli:mary"):
        async with sessions() as session, session.begin():
            made = await add_indicator(session, IndicatorData(
                "I-3", IndicatorKind.OUTCOME, "Share of women among judges", "%", IndicatorFrequency.QUARTERLY, "MOJ", date(2027, 1, 15),
                baseline_value=Decimal("31.5"), baseline_date=date(2024, 12, 31), target_value=Decimal(45), target_date=date(2030, 12, 31),
                recommendations=(one,),
            ))
            await record_value(session, made, ValueData(Decimal(33), date(2026, 7, 1), date(2026, 9, 30), "register"), Reporter("cli:mary", Channel.CLI))
        clock.advance(days=10)
        async with sessions() as session, session.begin():
            await edit_indicator(session, "I-3", IndicatorEdit(
                definition="Women among judges and prosecutors", target=(Decimal(50), date(2031, 12, 31)), recommendations=(two,),
            ))
    between = NOW + timedelta(days=5)
    async with sessions() as session:
        then = await plan_indicators(session, None, [], between)
        now = await plan_indicators(session, None, [], clock.now + timedelta(hours=1))
        shown = await series(session, [made.id], as_of=between)
        stored = await session.get(Indicator, made.id)
    [was] = then.values()
    assert (was.series.indicator.definition, was.series.indicator.target_value, was.series.indicator.target_date) == (
        "Share of women among judges", Decimal(45), date(2030, 12, 31),
    )
    assert was.recommendations == (one,) and [p.value.value for p in was.series.points] == [Decimal(33)]
    # 33 from 31.5 towards 45: a ninth of the way, as it stood then.
    assert was.series.towards_target == Decimal("1.5") / Decimal("13.5")
    assert shown[made.id].indicator.target_value == Decimal(45)
    [is_] = now.values()
    assert (is_.series.indicator.definition, is_.series.indicator.target_value, is_.recommendations) == ("Women among judges and prosecutors", Decimal(50), (two,))
    # The copy of then is not the registry's row: that one is as edited.
    assert stored is not None and stored.target_value == Decimal(50)
