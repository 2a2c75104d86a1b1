"""An action's target date is reminded like a deadline (handlers.reminders.
action_dates), through the real reminder tick on a fake clock, on every
backend: 30, 7 and 1 days before and then while overdue, on working days,
one message a person a day, steps missed folded into one, nothing for a
finished, rejected or undated action, a withdrawn reminder planned again;
its buttons open the action's update."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import OutgoingMessage
from handlers.engine import ConversationEngine
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage import actions
from storage.action_models import ActionReminderStep
from storage.actions import ActionData, ActionUpdateData
from storage.enums import Channel, ImplementationStatus, OutboxKind, OutboxStatus
from storage.models import FocalPoint, OutboxMessage
from tests.dialogue_harness import ANA, bot, chat, clock, gateway
from tests.fakes import FakeClock, FakeGateway

__all__ = ["bot", "clock", "gateway"]


def _at(day: date, hour: int = 13) -> datetime:
    # 13:00 UTC is 10:00 in Montevideo, where Ana works 09:00-17:00.
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
async def due(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], clock: FakeClock) -> dict[str, int]:
    """A-1 due 30 November 2026 (a week after the clock's Monday); A-2 has no date; A-3 is a proposal."""
    async with sessions() as session, session.begin():
        one = await actions.create_action(session, ActionData("Train 300 judges", "MOJ", recommendations=(world["mine"],), target_date=date(2026, 11, 30)), actor="cli", now=clock.now)
        await actions.create_action(session, ActionData("Undated", "MOJ", recommendations=(world["mine"],)), actor="cli", now=clock.now)
        ana = await session.get(FocalPoint, world["ana"])
        await actions.create_action(session, ActionData("Proposed", "MOJ", recommendations=(world["mine"],), target_date=date(2026, 11, 30)), actor="ana", now=clock.now, proposed_by=ana)
    return {"A-1": one.id}


async def _reminders(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("actions:%")).order_by(OutboxMessage.id))).all())


async def _steps(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, bool]]:
    async with sessions() as session:
        rows = await session.execute(select(ActionReminderStep.step, ActionReminderStep.outbox_id).order_by(ActionReminderStep.id))
        return [(step, outbox_id is not None) for step, outbox_id in rows]


async def test_the_target_date_is_reminded_before_on_working_days_and_once_a_day(
    sessions: async_sessionmaker[AsyncSession], due: dict[str, int], clock: FakeClock, world: dict[str, int],
) -> None:
    service = ReminderService(sessions, Policy(), clock)
    await service.tick()
    [first] = await _reminders(sessions)
    assert (first.key, first.kind, first.focal_point_id) == (f"actions:{world['ana']}:2026-11-23", OutboxKind.REMINDER, world["ana"])
    message = OutgoingMessage.from_dict(first.message)
    assert message.text.splitlines()[:3] == [
        "Ministry of Justice: the target date of 1 action is near or has passed:", "",
        "A-1 “Train 300 judges”: target date 30 November 2026 (in 7 days); status “not started”.",
    ]
    assert [b.action for row in message.buttons for b in row] == [f"xupd:{due['A-1']}", f"xsame:{due['A-1']}", "snooze:7"]
    # The 30-day step's day (31 October) is past: folded into this one, never sent.
    assert await _steps(sessions) == [("7", True), ("30", False)]
    await service.tick()
    assert len(await _reminders(sessions)) == 1

    clock.now = _at(date(2026, 11, 24))
    await service.tick()
    assert len(await _reminders(sessions)) == 1
    # Sunday 29th is the 1-day step: it goes on Monday, the target date itself.
    clock.now = _at(date(2026, 11, 29))
    await service.tick()
    assert len(await _reminders(sessions)) == 1
    clock.now = _at(date(2026, 11, 30))
    await service.tick()
    last = (await _reminders(sessions))[-1]
    assert last.key.endswith(":2026-11-30") and "(today)" in OutgoingMessage.from_dict(last.message).text


async def test_an_overdue_action_is_reminded_until_it_is_finished(
    sessions: async_sessionmaker[AsyncSession], due: dict[str, int], clock: FakeClock,
) -> None:
    service = ReminderService(sessions, Policy(overdue_every=3), clock)
    clock.now = _at(date(2026, 12, 1))
    await service.tick()
    [late] = await _reminders(sessions)
    assert "(1 day ago)" in OutgoingMessage.from_dict(late.message).text
    # Every step before it was folded into this one.
    assert sorted(await _steps(sessions)) == [("1", False), ("30", False), ("7", False), ("overdue-1", True)]
    async with sessions() as session, session.begin():
        await actions.record_action_update(session, ActionUpdateData(due["A-1"], ImplementationStatus.FULLY_IMPLEMENTED, "cli", Channel.CLI), clock.now)
    clock.now = _at(date(2026, 12, 4))
    await service.tick()
    assert len(await _reminders(sessions)) == 1


async def test_a_withdrawn_reminder_is_planned_again_and_a_snooze_holds_it(
    sessions: async_sessionmaker[AsyncSession], due: dict[str, int], clock: FakeClock, world: dict[str, int],
) -> None:
    service = ReminderService(sessions, Policy(), clock)
    async with sessions() as session, session.begin():
        ana = await session.get(FocalPoint, world["ana"])
        assert ana is not None
        ana.snoozed_until = date(2026, 11, 24)
    await service.tick()
    assert await _reminders(sessions) == []
    clock.now = _at(date(2026, 11, 25))
    await service.tick()
    [first] = await _reminders(sessions)
    assert first.key.endswith(":2026-11-25")
    # Withdrawn (as a closure day declared after it was planned would): planned again the next working day.
    async with sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == first.id).values(status=OutboxStatus.CANCELLED))
    clock.now = _at(date(2026, 11, 26))
    await service.tick()
    again = (await _reminders(sessions))[-1]
    assert again.key.endswith(":2026-11-26") and again.status is OutboxStatus.PENDING
    assert ("7", True) in await _steps(sessions)
    clock.now = _at(date(2026, 11, 27))
    await service.tick()
    assert len(await _reminders(sessions)) == 2


async def test_the_reminders_buttons_open_the_actions_update(
    sessions: async_sessionmaker[AsyncSession], due: dict[str, int], clock: FakeClock, bot: ConversationEngine, gateway: FakeGateway,
) -> None:
    await ReminderService(sessions, Policy(), clock).tick()
    [sent] = await _reminders(sessions)
    update_button, no_change_button = OutgoingMessage.from_dict(sent.message).buttons[0]
    assert (update_button.label, no_change_button.label) == ("A-1: update", "A-1: no change")
    assert await chat(bot, gateway, ANA.presses(update_button.action)) == ["action.ask_status"]
    assert await chat(bot, gateway, ANA.says("/cancel")) == ["update.cancelled"]
    assert await chat(bot, gateway, ANA.presses(no_change_button.action)) == ["action.ask_first_status"]
