"""What a turn wrote, as the engine reads it to decide whether the writer's
Home (Slack's Home tab) is rebuilt: a turn's own bookkeeping (the delivery
recorded, the conversation's state, the account answering again) is not a
change any page shows; any other write is, whether flushed from the ORM or
run as a statement of its own."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.conversations import State, first_delivery, mark_reachable, save_state
from storage.database import writing
from storage.enums import Platform
from storage.home_audience import wrote_beyond_bookkeeping
from storage.models import FocalPoint, ProcessedDelivery

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


async def test_a_turns_bookkeeping_is_not_a_change_and_every_other_write_is(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    async def bookkeeping(session: AsyncSession) -> None:
        await first_delivery(session, Platform.SLACK, f"Ev{id(session)}", NOW)
        await mark_reachable(session, Platform.SLACK, "T1", "U1")
        await save_state(session, Platform.SLACK, "T1", "U1", State("idle"), NOW)
        ana = await session.get(FocalPoint, world["ana"])
        assert ana is not None
        ana.language = ana.language  # set to what it was: written nowhere
        await session.flush()

    async with writing(sessions) as session:
        await bookkeeping(session)
        assert not wrote_beyond_bookkeeping(session)
    # A value changed through the ORM.
    async with writing(sessions) as session:
        await bookkeeping(session)
        ana = await session.get(FocalPoint, world["ana"])
        assert ana is not None
        ana.language = "fr"
        await session.flush()
        assert wrote_beyond_bookkeeping(session)
    # A statement of its own, an UPDATE or a DELETE.
    async with writing(sessions) as session:
        await bookkeeping(session)
        await session.execute(update(FocalPoint).where(FocalPoint.id == world["ana"]).values(language="es"))
        assert wrote_beyond_bookkeeping(session)
    async with writing(sessions) as session:
        # Of a bookkeeping table, a statement is bookkeeping too.
        await session.execute(delete(ProcessedDelivery).where(ProcessedDelivery.delivery_id == "none"))
        assert not wrote_beyond_bookkeeping(session)
        await session.execute(delete(FocalPoint).where(FocalPoint.id == -1))
        assert wrote_beyond_bookkeeping(session)
