"""Adding a row at most once per idempotency key (a platform's delivery id):
a redelivered message, or two deliveries racing, store one row."""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


async def insert_if_new(session: AsyncSession, model: type[Any], returning: InstrumentedAttribute[Any], **values: Any) -> bool:
    """Insert the row unless its key is there already; True when it was new.
    One statement (INSERT ... ON CONFLICT DO NOTHING), so two processes
    racing on the same key cannot both win."""
    statement = _insert_statement(session.get_bind().dialect.name, model, returning.key, tuple(values))
    return (await session.execute(statement, values)).first() is not None


@functools.cache
def _insert_statement(dialect: str, model: type[Any], returning: str, columns: tuple[str, ...]) -> Any:
    # Built once a kind of row: every turn records its delivery this way, and
    # building the statement cost about as much processor time as running it.
    # On the table, not the mapped class: the ORM's bulk insert, which the
    # class would go through, has nothing to add to one row's INSERT.
    module = postgresql if dialect == "postgresql" else sqlite
    table = model.__table__
    return module.insert(table).values({name: bindparam(name) for name in columns}).on_conflict_do_nothing().returning(table.c[returning])


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
