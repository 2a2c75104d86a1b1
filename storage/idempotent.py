"""Adding a row at most once per idempotency key (a platform's delivery id):
a redelivered message, or two deliveries racing, store one row."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


async def seen(session: AsyncSession, model: type[T], key: str | None) -> T | None:
    if not key:
        return None
    return await session.scalar(select(model).where(model.idempotency_key == key))  # type: ignore[attr-defined]


async def add_once(session: AsyncSession, row: T, key: str | None) -> T:
    """Add ``row``; if another row already holds ``key``, return that one.
    The unique key in the database decides between racing deliveries."""
    model = type(row)
    if not key:
        session.add(row)
        await session.flush()
        return row
    earlier = await seen(session, model, key)
    if earlier is not None:
        return earlier
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        earlier = await seen(session, model, key)
        if earlier is None:
            raise
        return earlier
    return row
