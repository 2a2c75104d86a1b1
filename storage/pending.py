"""Deliveries acknowledged to the platform before their handling ended.

Slack wants its ack within 3 seconds; handling can take longer (a busy
database, a slow platform). Such a delivery is kept here, durably, before it
is acknowledged, and dropped once handled, so a crash in between loses
nothing: it is handled at the next start. processed_deliveries makes that
second handling a no-op if the first had committed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Platform
from storage.idempotent import insert_if_new
from storage.models import PendingDelivery


async def keep(session: AsyncSession, platform: Platform, delivery_id: str, body: dict[str, Any], now: datetime) -> None:
    """Keep a delivery to be handled; keeping it twice (a retry) keeps it once."""
    await insert_if_new(session, PendingDelivery, PendingDelivery.delivery_id, platform=platform, delivery_id=delivery_id, body=body, received_at=now)


async def done(session: AsyncSession, platform: Platform, delivery_id: str) -> None:
    await session.execute(delete(PendingDelivery).where(PendingDelivery.platform == platform, PendingDelivery.delivery_id == delivery_id))


async def waiting(session: AsyncSession, platform: Platform) -> list[PendingDelivery]:
    """The deliveries kept and not yet handled, oldest first."""
    query = select(PendingDelivery).where(PendingDelivery.platform == platform).order_by(PendingDelivery.received_at)
    return list(await session.scalars(query))
