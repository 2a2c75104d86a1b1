"""/mine tells a focal point, in one line under its header, how many of the
plan's actions their institution answers for or contributes to and how many
indicator values are asked of it and not yet given, pointing to /actions
(issue 16); nothing is said when there are neither."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.engine import ConversationEngine
from storage import actions
from storage.actions import ActionData
from storage.clock import running_on
from storage.enums import Channel
from storage.indicator_models import Indicator, IndicatorFrequency, IndicatorKind
from storage.indicators import IndicatorData, Reporter, ValueData, add_indicator, record_value
from storage.models import FocalPoint
from tests.dialogue_harness import ANA, bot, chat, clock, gateway
from tests.fakes import FakeClock, FakeGateway

__all__ = ["bot", "clock", "gateway"]

# Quarterly from the clock's Monday 23 November 2026: one value asked at once.
DUE = date(2026, 11, 23)


async def _header(bot: ConversationEngine, gateway: FakeGateway) -> list[str]:
    await chat(bot, gateway, ANA.says("/mine"))
    header = next(m for _, m in gateway.history if m.key == "mine.header")
    gateway.history.clear()
    return header.text.splitlines()


@pytest.fixture
async def plan(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], clock: FakeClock) -> dict[str, int]:
    """A-1 is MOJ's, MOJ contributes to A-2; A-3 is MOW's alone and A-4 only
    proposed; I-3 is asked of MOJ today, I-4 of MOW."""
    with running_on(clock):
        async with sessions() as session, session.begin():
            ana = await session.get(FocalPoint, world["ana"])
            for data, proposed in (
                (ActionData("Train 300 judges", "MOJ", recommendations=(world["mine"],)), None),
                (ActionData("A shelter in every department", "MOW", recommendations=(world["not_mine"],), contributing=("MOJ",)), None),
                (ActionData("A hotline", "MOW", recommendations=(world["not_mine"],)), None),
                (ActionData("Legal aid offices", "MOJ", recommendations=(world["mine"],)), ana),
            ):
                await actions.create_action(session, data, actor="cli:mary", now=clock.now, proposed_by=proposed)
            ids = {}
            for code, institution in (("I-3", "MOJ"), ("I-4", "MOW")):
                made = await add_indicator(session, IndicatorData(code, IndicatorKind.PROCESS, "Cases of legal aid", "cases", IndicatorFrequency.QUARTERLY, institution, DUE))
                ids[code] = made.id
    return ids


async def test_mine_says_nothing_of_the_plan_when_there_is_none(bot: ConversationEngine, gateway: FakeGateway, world: dict[str, int]) -> None:
    lines = await _header(bot, gateway)
    assert lines[0].startswith("Ministry of Justice: 3 recommendations") and len(lines) == 1


async def test_mine_counts_the_actions_and_the_values_awaited_in_the_readers_language(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], plan: dict[str, int], clock: FakeClock,
) -> None:
    first, line = await _header(bot, gateway)
    assert first.startswith("Ministry of Justice: 3 recommendations")
    assert line == "The plan: 2 actions, 1 indicator value awaited. /actions lists the actions."
    for language, said in (
        ("fr", "Le plan : 2 actions, 1 valeur d’indicateur attendue. /actions affiche les actions."),
        ("es", "El plan: 2 acciones, 1 valor de indicador pendiente. /actions muestra las acciones."),
    ):
        async with sessions() as session, session.begin():
            ana = await session.get(FocalPoint, world["ana"])
            assert ana is not None
            ana.language = language
        assert (await _header(bot, gateway))[-1] == said

    # The value given: none awaited any more.
    async with sessions() as session, session.begin():
        indicator = await session.get(Indicator, plan["I-3"])
        assert indicator is not None
        await record_value(
            session, indicator, ValueData(Decimal(1200), date(2026, 7, 1), date(2026, 9, 30), "Case register", due_on=DUE),
            Reporter("Ana Pérez", Channel.TELEGRAM, focal_point_id=world["ana"]), today=DUE, at=clock.now,
        )
    assert (await _header(bot, gateway))[-1] == "El plan: 2 acciones, 0 valores de indicadores pendientes. /actions muestra las acciones."
