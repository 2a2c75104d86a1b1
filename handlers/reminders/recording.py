"""Writing a tick's plan: its messages into the outbox and the reminder steps
they take, as the deadlines' tick (handlers.reminders.service) and the
implementation plan's (action_dates, indicator_dates, pledge_dates) do.

What each kind keeps of a step (its table and columns) stays in its module;
this holds only what is the same for all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.chat_port import OutgoingMessage
from handlers.reminders.plan import Recipient
from storage import outbox
from storage.enums import OutboxKind, OutboxStatus
from storage.models import OutboxMessage

# Rows a statement inserts at the most.
CHUNK = 1000
# How far back the outbox keys a plan must not reuse are read.
KEYS_BACK = timedelta(days=3)


def new_message(key: str, kind: OutboxKind, reader: Recipient, message: OutgoingMessage, send_at: datetime, not_after: datetime) -> outbox.NewMessage:
    """The outbox row of a planned message to ``reader``, a focal point or a secretariat user."""
    assert reader.address is not None
    return outbox.NewMessage(
        key=key, kind=kind, platform=reader.address.platform, workspace_id=reader.address.workspace_id,
        platform_user_id=reader.address.user_id, chat_id=reader.address.chat_id, timezone=reader.timezone,
        message=message.to_dict(), due_at=send_at, not_after=not_after, identity_id=reader.identity_id,
        focal_point_id=reader.id if reader.kind == "focal_point" else None,
        secretariat_user_id=reader.id if reader.kind == "secretariat" else None, working_hours=reader.hours,
    )


def step_rows(planned: Iterable[Any], added: dict[str, int], columns: tuple[str, ...], now: datetime) -> list[dict[str, Any]]:
    """The step rows of the planned messages the outbox took (``added``: key
    -> outbox id), each step tuple named by ``columns``: a taken step with its
    message; a folded one (``skipped``) with none, never sent, never asked again."""
    rows: list[dict[str, Any]] = []
    for p in planned:
        outbox_id = added.get(p.key)
        if outbox_id is None:
            continue
        for steps, kept in ((p.taken, outbox_id), (p.skipped, None)):
            rows += [{**dict(zip(columns, step, strict=True)), "outbox_id": kept, "created_at": now} for step in steps]
    return rows


async def retake_withdrawn(session: AsyncSession, model: Any, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    """A step whose message was withdrawn is taken again by its new row: the
    old row (the same ``columns``, a cancelled message) goes, else the insert
    would skip and leave the step untaken, asked again every day and never
    counted as delivered."""
    withdrawn = select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.CANCELLED)
    for row in rows:
        await session.execute(delete(model).where(*(getattr(model, c) == row[c] for c in columns), model.outbox_id.in_(withdrawn)))


async def insert_steps(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the step rows; one another tick or process took already is left as it is."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = module.insert(model).on_conflict_do_nothing()
    for start in range(0, len(rows), CHUNK):
        await session.execute(statement, rows[start:start + CHUNK])


async def recent_keys(session: AsyncSession, now: datetime, pattern: str) -> set[str]:
    """The outbox keys like ``pattern`` of the messages due in the last days: a plan does not add them again."""
    return set((await session.scalars(select(OutboxMessage.key).where(OutboxMessage.due_at >= now - KEYS_BACK, OutboxMessage.key.like(pattern)))).all())
