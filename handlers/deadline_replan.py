"""After a deadline changed: its reminders re-planned, the focal points told.

The reminder plan (handlers.reminders.plan) reads deadlines live, so a new
date needs no job moved; what must change is what the outbox and the steps
taken already hold for the old date:
- a reminder, escalation or overdue digest still pending that carries the
  deadline is cancelled and the steps it took are freed, so the plan folds
  what it carried of other deadlines into the reader's next working day's
  digest, as a closure day does (handlers.reminders.calendars);
- for a new date, the deadline's steps start again from it (escalation too:
  the reminders delivered for the old date no longer count towards it): the
  steps of the new date that already fell due are recorded as skipped,
  because the notice of the change tells the person today, and a reminder
  beside it would say the same thing twice;
- a withdrawn deadline or a submitted report is no longer planned at all
  (handlers.reminders.snapshot leaves it out).

Each focal point of the institutions concerned is told once, in their
language and working hours. A notice not sent yet when the deadline changes
again is replaced by one from the date they last heard of (or by none, when
it is back on that date).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.chat_port import OutgoingMessage
from handlers.deadline_names import deadline_name
from handlers.reminders.calendars import PLANNED_KINDS, focal_point_calendar
from handlers.reminders.plan import DeadlineFacts, Policy, reminder_steps
from handlers.reminders.snapshot import address_of, reachable_identity_of
from messages import local_date, t
from storage import outbox
from storage.calendars import load_closures
from storage.deadline_changes import DeadlineChange, concerned_focal_points, stopped_deadline_ids
from storage.deadlines import deadline_names
from storage.enums import OutboxKind, OutboxStatus
from storage.models import Deadline, FocalPoint, OutboxMessage, ReminderStep

MOVED = "deadline.changed.moved"
WITHDRAWN = "deadline.changed.withdrawn"


async def cancel_pending_reminders(session: AsyncSession, deadline_ids: list[int]) -> int:
    """Withdraw the planned messages still pending that carry these
    deadlines, freeing every step they took; how many."""
    carrying = select(ReminderStep.outbox_id).where(ReminderStep.deadline_id.in_(deadline_ids), ReminderStep.outbox_id.is_not(None))
    cancelled = (await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(carrying), OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.kind.in_(PLANNED_KINDS))
        .values(status=OutboxStatus.CANCELLED)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )).scalars().all()
    if cancelled:
        await session.execute(delete(ReminderStep).where(ReminderStep.outbox_id.in_(list(cancelled))))
    return len(cancelled)


async def _restart_steps(session: AsyncSession, policy: Policy, deadline: Deadline, people: list[FocalPoint], now: datetime) -> None:
    """The deadline's steps begin again from its new date, those already due skipped."""
    await session.execute(delete(ReminderStep).where(ReminderStep.deadline_id == deadline.id))
    names = await deadline_names(session, [deadline.id])
    facts = DeadlineFacts(deadline.id, names[deadline.id], deadline.kind, deadline.due_on, frozenset())
    closures = await load_closures(session)
    rows = []
    for person in people:
        calendar = await focal_point_calendar(session, policy, person, snoozes=False, closures=closures)
        for step, _ in reminder_steps(facts, policy, calendar, calendar.local_day(now)):
            rows.append({"focal_point_id": person.id, "deadline_id": deadline.id, "step": step, "outbox_id": None, "created_at": now})
    if rows:
        module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        await session.execute(module.insert(ReminderStep).on_conflict_do_nothing(), rows)


def notice_message(change: DeadlineChange, name: str, was: date, language: str) -> OutgoingMessage:
    if change.new_due is None:
        return OutgoingMessage(WITHDRAWN, t(WITHDRAWN, language, name=name, due=local_date(was, language)), language=language)
    text = t(MOVED, language, name=name, was=local_date(was, language), due=local_date(change.new_due, language))
    return OutgoingMessage(MOVED, text, language=language)


def _key_prefix(deadline_id: int, person_id: int) -> str:
    return f"deadline-changed:{deadline_id}:{person_id}:"


async def _tell(session: AsyncSession, policy: Policy, change: DeadlineChange, people: list[FocalPoint], now: datetime) -> int:
    """Queue the notice for each person the bot can write to; how many."""
    name = (await deadline_names(session, [change.deadline_id]))[change.deadline_id]
    closures = await load_closures(session)
    told = 0
    for person in people:
        prefix = _key_prefix(change.deadline_id, person.id)
        # A notice of an earlier change they have not had yet: replaced, and
        # the new one starts from the date they last heard of.
        earlier = (await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.kind == OutboxKind.DEADLINE_CHANGED, OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.focal_point_id == person.id, OutboxMessage.key.startswith(prefix, autoescape=True),
            )
            .values(status=OutboxStatus.CANCELLED)
            .returning(OutboxMessage.key)
            .execution_options(synchronize_session=False)
        )).scalars().all()
        was = min((date.fromisoformat(k[len(prefix):].split(":")[0]) for k in earlier), default=change.old_due)
        if change.new_due is not None and change.new_due == was:
            continue
        identity = await reachable_identity_of(session, person.id)
        address = address_of(identity)
        if identity is None or address is None:
            continue
        window = (await focal_point_calendar(session, policy, person, closures=closures)).next_window(now)
        # Numbered: the same change made again (moved there, back, and there
        # again) is a new notice, not the cancelled one's key.
        made = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.key.startswith(prefix, autoescape=True))
        )
        added = await outbox.enqueue(session, outbox.NewMessage(
            key=f"{prefix}{was.isoformat()}:{made}", kind=OutboxKind.DEADLINE_CHANGED,
            platform=address.platform, workspace_id=address.workspace_id, platform_user_id=address.user_id, chat_id=address.chat_id,
            timezone=person.timezone, message=notice_message(change, deadline_name(name, person.language), was, person.language).to_dict(),
            due_at=max(now, window.start), not_after=window.end, identity_id=identity.id, focal_point_id=person.id,
            working_hours=person.working_hours,
        ))
        told += added is not None
    return told


async def after_change(session: AsyncSession, policy: Policy, change: DeadlineChange, now: datetime) -> int:
    """Re-plan and tell, in the caller's transaction; how many people are told."""
    if not change.moved and change.new_due is not None:
        return 0  # only the title changed: the plan names it afresh each day
    await cancel_pending_reminders(session, [change.deadline_id])
    people = await concerned_focal_points(session, change.deadline_id, now.date())
    if change.moved:
        deadline = await session.get(Deadline, change.deadline_id)
        assert deadline is not None
        await _restart_steps(session, policy, deadline, people, now)
    return await _tell(session, policy, change, people, now)


async def after_submitted(session: AsyncSession, deadline_id: int) -> int:
    """A submitted report: what is pending for it and its inputs is
    withdrawn (the plan skips them from now on); how many messages."""
    return await cancel_pending_reminders(session, await stopped_deadline_ids(session, deadline_id))
