"""The scheduler's planner tick gives way to a fan-out: while the outbox
sends a backlog it does not plan again for up to PLAN_GIVES_WAY (half the
planner's ten-minute lead), since what it plans would queue behind the
backlog, and planning 10,000 people took the processor time the sends
needed. Run through the job the scheduler really holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import PLAN_GIVES_WAY, BotApp
from bot.config import Config
from bot.outbox_dispatch import OutboxDispatcher
from tests.chat_harness import TELEGRAM_TOKEN
from tests.fakes import FakeClock


async def test_the_planner_gives_way_to_a_backlog_for_at_most_half_its_lead(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch,
) -> None:
    planned = 0
    backlog = False

    async def plan(_self: BotApp) -> int:
        nonlocal planned
        planned += 1
        return 0

    monkeypatch.setattr(BotApp, "plan", plan)
    monkeypatch.setattr(OutboxDispatcher, "sending_backlog", property(lambda _self: backlog))
    clock = FakeClock()
    app = BotApp(Config.model_validate({"telegram": {"token": TELEGRAM_TOKEN}}), sessions, clock)
    job = app.scheduler.get_job("plan_reminders")
    assert job is not None
    await job.func()
    assert planned == 1
    backlog = True
    for _ in range(4):
        clock.advance(minutes=1)
        await job.func()
    assert planned == 1
    clock.advance(minutes=1)
    await job.func()
    assert planned == 2 and PLAN_GIVES_WAY <= timedelta(minutes=5)
    # Sent: every minute again.
    backlog = False
    clock.advance(minutes=1)
    await job.func()
    clock.advance(minutes=1)
    await job.func()
    assert planned == 4
