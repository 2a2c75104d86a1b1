"""Issue 16 re-check (F7 attacked): the secretariat's notice that an
institution has nobody in office to ask is told once, and "once" survives a
closure day declared while it waits. keep_off_closed_days withdraws it like
a reminder (its kind is an escalation), and its key, which names no day, was
then taken for good: the secretariat was never told. Now the next working
day plans it again, once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.reminders.calendars import keep_off_closed_days
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage.actions import ActionData, create_action
from storage.calendars import ClosureData, add_closure
from storage.enums import OutboxStatus
from storage.models import OutboxMessage
from storage.secretariat import SecretariatUserData, seed_secretariat_users
from tests.fakes import FakeClock

POLICY = Policy()


async def _notices(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, OutboxStatus, datetime]]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.key, OutboxMessage.status, OutboxMessage.due_at).where(OutboxMessage.key.like("nobody:%")).order_by(OutboxMessage.id)
        )
        return [(k, s, d) for k, s, d in rows]


async def test_a_nobody_in_office_notice_withdrawn_for_a_closure_day_is_told_the_next_working_day_once(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    clock = FakeClock()  # Monday 23 November 2026, 10:00 in Montevideo
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("María González", "maria@cancilleria.example", "es", "America/Montevideo", telegram_user_id=900)])
        # The Ministry of Women has no focal point at all.
        await create_action(
            session, ActionData("Open two shelters", "MOW", recommendations=(world["not_mine"],), target_date=date(2026, 11, 30)), actor="cli", now=clock.now,
        )
    await ReminderService(sessions, POLICY, clock).tick()
    [(key, status, _)] = await _notices(sessions)
    assert status is OutboxStatus.PENDING
    # The office closes today, before the notice went out: it is withdrawn.
    async with sessions() as session, session.begin():
        await add_closure(session, ClosureData("Cierre", date(2026, 11, 23), None, None, None))
        assert await keep_off_closed_days(session, POLICY, clock.now) == 1
    await ReminderService(sessions, POLICY, clock).tick()
    assert [s for _, s, _ in await _notices(sessions)] == [OutboxStatus.CANCELLED]

    # The next working day the secretariat is told, once, by either of two processes.
    clock.now = datetime(2026, 11, 24, 13, tzinfo=UTC)
    await ReminderService(sessions, POLICY, clock).tick()
    await ReminderService(sessions, POLICY, clock).tick()
    [(again, status, due)] = [n for n in await _notices(sessions) if n[1] is not OutboxStatus.CANCELLED]
    assert again == key and status is OutboxStatus.PENDING and due.date() == date(2026, 11, 24)
