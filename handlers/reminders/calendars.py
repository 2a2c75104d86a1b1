"""A focal point's own calendar, read where one is needed outside the plan
(a request queued, hours changed, a notice or a hand-over planned): the same
place and closure days as the reminder plan gives them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.reminders.plan import Policy
from handlers.reminders.working_time import WorkingTime
from storage.calendars import Closures, load_closures
from storage.enums import OutboxKind, OutboxStatus
from storage.models import FocalPoint, OutboxMessage, ReminderStep


async def focal_point_calendar(
    session: AsyncSession, policy: Policy, person: FocalPoint, *, snoozes: bool = True, closures: Closures | None = None,
) -> WorkingTime:
    """Their time zone, hours, snooze (unless ``snoozes`` is false), the
    holidays of their country and subdivision and the closure days that
    concern them; ``closures`` saves a query when a caller has them."""
    if closures is None:
        closures = await load_closures(session)
    return policy.working_time(
        person.timezone, person.snoozed_until if snoozes else None, person.working_hours, person.country, person.subdivision, closures,
    )


# What the reminder plan makes: withdrawn rather than moved, so the plan
# folds it into the reader's next working day's one digest.
PLANNED_KINDS = (OutboxKind.REMINDER, OutboxKind.ESCALATION, OutboxKind.OVERDUE_DIGEST)


async def keep_off_closed_days(session: AsyncSession, policy: Policy, now: datetime) -> int:
    """After a closure is declared: what the outbox still holds for a day now
    closed to its reader (a request or a notice queued ahead, today's digest
    planned before the closure) does not go that day. A request, a notice or
    a hand-over moves to the start of their next working window; a reminder,
    escalation or overdue digest is withdrawn and its steps freed, so the
    plan gives them on the next working day, folded into that day's digest.
    How many messages moved or were withdrawn."""
    rows = (await session.execute(
        select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.timezone, OutboxMessage.working_hours, OutboxMessage.due_at, OutboxMessage.focal_point_id)
        # A chat reply waits for the platform only, never for a working day.
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.kind != OutboxKind.CHAT_REPLY)
    )).all()
    if not rows:
        return 0
    closures = await load_closures(session)
    ids = {row.focal_point_id for row in rows if row.focal_point_id is not None}
    places = {
        fp_id: (country, subdivision)
        for fp_id, country, subdivision in await session.execute(
            select(FocalPoint.id, FocalPoint.country, FocalPoint.subdivision).where(FocalPoint.id.in_(ids))
        )
    } if ids else {}
    changed = 0
    for row in rows:
        country, subdivision = places.get(row.focal_point_id, (None, None)) if row.focal_point_id is not None else (None, None)
        # Snoozes are the plan's business (it withdraws what a snooze covers).
        calendar = policy.working_time(row.timezone, None, row.working_hours, country, subdivision, closures)
        if calendar.is_working_day(calendar.local_day(row.due_at)):
            continue
        # Only while still pending: a sender that claimed it meanwhile keeps it.
        still_pending = update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.status == OutboxStatus.PENDING)
        if row.kind in PLANNED_KINDS:
            done = await session.execute(still_pending.values(status=OutboxStatus.CANCELLED).execution_options(synchronize_session=False))
            if done.rowcount:  # type: ignore[attr-defined]
                await session.execute(delete(ReminderStep).where(ReminderStep.outbox_id == row.id))
        else:
            window = calendar.next_window(max(now, row.due_at))
            done = await session.execute(
                still_pending.values(due_at=max(now, window.start), not_after=window.end).execution_options(synchronize_session=False)
            )
        changed += int(done.rowcount or 0)  # type: ignore[attr-defined]
    return changed
