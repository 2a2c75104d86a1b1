"""An action's target date, an indicator's value or a pledge round's ask of
an institution with nobody in office is told to the secretariat, once,
through the real reminder tick (issue 16 review, F7): not again on the next
tick, the next day or after a restart (a new ReminderService), on every
backend; in the reader's language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import OutgoingMessage
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage import pledges as store
from storage.actions import ActionData, create_action
from storage.clock import running_on
from storage.indicator_models import IndicatorFrequency, IndicatorKind
from storage.indicators import IndicatorData, add_indicator
from storage.models import OutboxMessage, SecretariatUser
from storage.secretariat import SecretariatUserData, seed_secretariat_users
from tests.fakes import FakeClock

POLICY = Policy()


async def _notices(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("nobody:%")).order_by(OutboxMessage.key))).all())


async def _secretariat(sessions: async_sessionmaker[AsyncSession], language: str = "en") -> None:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("María González", "maria@cancilleria.example", language, "America/Montevideo", telegram_user_id=900)])


async def test_an_action_of_an_institution_with_nobody_in_office_is_told_to_the_secretariat_once(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    clock = FakeClock()
    await _secretariat(sessions)
    async with sessions() as session, session.begin():
        # The Ministry of Women has no focal point at all.
        action = await create_action(
            session, ActionData("Open two shelters", "MOW", recommendations=(world["not_mine"],), target_date=date(2026, 11, 30)), actor="cli", now=clock.now,
        )
        # The Ministry of Justice's action goes to Ana as before, not to the secretariat.
        await create_action(session, ActionData("Train 300 judges", "MOJ", recommendations=(world["mine"],), target_date=date(2026, 11, 30)), actor="cli", now=clock.now)
    await ReminderService(sessions, POLICY, clock).tick()
    [notice] = await _notices(sessions)
    async with sessions() as session:
        maria = await session.scalar(select(SecretariatUser.id))
    assert notice.key == f"nobody:action:{action.id}:2026-11-30:secretariat:{maria}"
    assert notice.secretariat_user_id == maria and notice.focal_point_id is None
    text = OutgoingMessage.from_dict(notice.message).text
    assert "Ministry of Women" in text and action.code in text and "Open two shelters" in text and "30 November 2026" in text

    async with sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).values(status="sent"))
    await ReminderService(sessions, POLICY, clock).tick()
    clock.now = datetime(2026, 11, 24, 13, tzinfo=UTC)
    await ReminderService(sessions, POLICY, clock).tick()
    clock.now = datetime(2026, 12, 2, 13, tzinfo=UTC)  # overdue now
    await ReminderService(sessions, POLICY, clock).tick()
    assert len(await _notices(sessions)) == 1


async def test_an_indicator_and_a_pledge_round_with_nobody_to_ask_are_told_in_the_readers_language(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    clock = FakeClock()
    await _secretariat(sessions, "es")
    with running_on(clock):
        async with sessions() as session, session.begin():
            await add_indicator(session, IndicatorData(
                "I-9", IndicatorKind.OUTCOME, "Women in shelters", "women", IndicatorFrequency.QUARTERLY, "MOW", date(2026, 11, 23),
                baseline_value=Decimal(1), baseline_date=date(2024, 12, 31),
            ))
            await store.open_round(session, 2027, date(2027, 1, 29), date(2027, 12, 1), today=clock.now.date(), actor="cli", now=clock.now, institutions=("MOW", "MOJ"))
    await ReminderService(sessions, POLICY, clock).tick()
    notices = await _notices(sessions)
    assert [n.key.split(":")[1] for n in notices] == ["indicator", "pledge"]
    indicator, pledge = (OutgoingMessage.from_dict(n.message).text for n in notices)
    assert "Ministry of Women" in indicator and "I-9" in indicator and "23 de noviembre de 2026" in indicator
    assert "Ministry of Women" in pledge and "2027" in pledge and "29 de enero de 2027" in pledge
    assert "Nobody" not in indicator + pledge
    # Ana (the Ministry of Justice) is asked for its pledges; nobody tells the secretariat about it.
    assert not any("Ministry of Justice" in OutgoingMessage.from_dict(n.message).text for n in notices)
    clock.now = datetime(2026, 11, 25, 13, tzinfo=UTC)
    await ReminderService(sessions, POLICY, clock).tick()
    assert len(await _notices(sessions)) == 2
