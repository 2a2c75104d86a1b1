"""An indicator's values, one per period (issue 16 review, F9): a value for
exactly a period given before corrects it (the latest counts, the earlier
kept in the history); one whose period overlaps another's without being it
(a year beside its quarters, two quarters a month apart) is refused with the
period it overlaps, in storage on every backend, on the command line and in
chat in the reader's language; the trend has one point a period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import OutgoingMessage
from handlers.engine import ConversationEngine
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage.clock import running_on
from storage.enums import Channel
from storage.errors import InvalidValue
from storage.indicator_models import IndicatorFrequency, IndicatorKind, IndicatorValue
from storage.indicators import IndicatorData, Reporter, ValueData, add_indicator, record_value, series
from storage.models import FocalPoint, OutboxMessage
from messages import t
from messages.numbers import local_period
from tests.cli_harness import Cli
from tests.dialogue_harness import ANA, bot, chat, clock, gateway
from tests.fakes import FakeClock, FakeGateway

__all__ = ["bot", "clock", "gateway"]

SECRETARIAT = Reporter("cli:maria", Channel.CLI)
TODAY = date(2026, 11, 23)


def _legal_aid(first_due: date = date(2027, 1, 15)) -> IndicatorData:
    return IndicatorData(
        "I-3", IndicatorKind.PROCESS, "Cases of free legal aid given to women", "cases", IndicatorFrequency.QUARTERLY, "MOJ", first_due,
        data_source="Legal aid case register",
    )


async def test_a_partly_overlapping_period_is_refused_and_the_same_period_corrects(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    clock = FakeClock()
    with running_on(clock):
        async with sessions() as session, session.begin():
            indicator = await add_indicator(session, _legal_aid())

    async def give(value: int, start: date, end: date) -> None:
        with running_on(clock):
            async with sessions() as session, session.begin():
                await record_value(session, indicator, ValueData(Decimal(value), start, end, "register"), SECRETARIAT, today=TODAY)
        clock.advance(hours=1)

    await give(10, date(2026, 7, 1), date(2026, 9, 30))
    for start, end in ((date(2026, 8, 1), date(2026, 10, 31)), (date(2026, 1, 1), date(2026, 12, 31)), (date(2026, 9, 30), date(2026, 9, 30))):
        with pytest.raises(InvalidValue, match=f"the period {start}..{end} overlaps 2026-07-01..2026-09-30, for which I-3 has a value") as refused:
            await give(30, start, end)
        assert refused.value.key == "refusal.indicators.period_overlaps"
        assert refused.value.values["other_start"] == date(2026, 7, 1) and refused.value.values["other_end"] == date(2026, 9, 30)
    # The same quarter again is a correction; the next quarter, touching it, is its own.
    await give(12, date(2026, 7, 1), date(2026, 9, 30))
    await give(15, date(2026, 10, 1), date(2026, 10, 31))
    async with sessions() as session:
        found = (await series(session, [indicator.id]))[indicator.id]
        stored = (await session.scalars(select(IndicatorValue.value).order_by(IndicatorValue.id))).all()
    assert [(p.value.period_start, str(p.value.value)) for p in found.points] == [(date(2026, 7, 1), "12"), (date(2026, 10, 1), "15")]
    assert [(str(p.value.value), p.superseded) for p in found.history] == [("10", True), ("12", False), ("15", False)]
    assert [str(v) for v in stored] == ["10", "12", "15"]


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


def test_the_command_line_names_the_period_overlapped(cli: Cli, world: dict[str, int]) -> None:
    cli("indicators", "add", "I-3", "--kind", "process", "--definition", "Legal aid", "--unit", "cases", "--frequency", "quarterly",
        "--institution", "MOJ", "--first-due", "2027-01-15", "--source", "register")
    cli("indicators", "record", "I-3", "--value", "10", "--from", "2026-07-01", "--to", "2026-09-30")
    _, err = cli("indicators", "record", "I-3", "--value", "30", "--from", "2026-08-01", "--to", "2026-10-31", expect=1)
    assert err.strip() == (
        "error: the period 2026-08-01..2026-10-31 overlaps 2026-07-01..2026-09-30, for which I-3 has a value: "
        "give a value for that same period to correct it, or for a period that does not overlap it"
    )
    out, _ = cli("indicators", "record", "I-3", "--value", "12", "--from", "2026-07-01", "--to", "2026-09-30")
    assert out.startswith("recorded I-3 = 12 cases for 2026-07-01..2026-09-30")


async def test_in_chat_an_overlapping_period_is_asked_again_in_the_readers_language(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], clock: FakeClock, bot: ConversationEngine, gateway: FakeGateway,
) -> None:
    with running_on(clock):
        async with sessions() as session, session.begin():
            # Due today: it asks for July to September 2026.
            indicator = await add_indicator(session, _legal_aid(TODAY))
            # The secretariat recorded a figure for June to August already (it does not answer the request).
            await record_value(session, indicator, ValueData(Decimal(7), date(2026, 6, 1), date(2026, 8, 31), "e-mail"), SECRETARIAT, today=TODAY)
            ana = await session.get(FocalPoint, world["ana"])
            assert ana is not None
            ana.language = "es"
    await ReminderService(sessions, Policy(), clock).tick()
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.key.like("indicators:%")))
    assert row is not None
    give = next(b for r in OutgoingMessage.from_dict(row.message).buttons for b in r if b.label == "Dar I-3")
    assert await chat(bot, gateway, ANA.presses(give.action)) == ["indicator.ask_value"]
    assert await chat(bot, gateway, ANA.says("12")) == ["indicator.ask_period"]
    # The period the request proposes overlaps the secretariat's: refused, naming it.
    await bot.handle(ANA.presses(gateway.action(t("button.this_period", "es", period=local_period(date(2026, 7, 1), date(2026, 9, 30), "es")))))
    [refused] = gateway.take()
    assert refused.key == "indicator.period_overlaps"
    assert refused.text.startswith(f"Ese período, {local_period(date(2026, 7, 1), date(2026, 9, 30), 'es')}, se superpone con")
    assert local_period(date(2026, 6, 1), date(2026, 8, 31), "es") in refused.text
    # A typed period overlapping it is refused too; one that does not is taken.
    await bot.handle(ANA.says("2026-08-01 2026-09-30"))
    [again] = gateway.take()
    assert again.key == "indicator.period_overlaps"
    assert await chat(bot, gateway, ANA.says("2026-09-01 2026-09-30")) == ["indicator.ask_source_default"]
    async with sessions() as session:
        assert len((await session.scalars(select(IndicatorValue))).all()) == 1
