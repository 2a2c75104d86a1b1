"""Turning the plan into outbox rows, as each person's working day begins.

``tick`` runs every minute (the scheduler) and plans, for every person whose
window opens within ``lead`` or is open now, what their today holds. It is
idempotent: the outbox key (one per person, kind and local day) and the
unique reminder steps make a second tick, or a second bot process, add
nothing. Planning close to the send keeps what was answered overnight out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.reminders import action_dates, indicator_dates, pledge_dates
from handlers.reminders.asking import local_days, opening
from handlers.reminders.compose import compose, unreachable_notice
from handlers.reminders.plan import Planned, Policy, Recipient, Snapshot, plan_day
from handlers.reminders.recording import insert_steps, new_message, step_rows
from handlers.reminders.snapshot import load_secretariat, load_snapshot
from storage.audit import acts_as
from storage.calendars import load_closures
from storage.database import writing
from storage import outbox
from storage.enums import OutboxKind
from storage.models import FocalPoint, Institution, OutboxMessage, ReminderStep

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Planned messages composed and added to the outbox at a time.
RECORD_CHUNK = 50


class ReminderService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], policy: Policy, clock: Clock, lead: timedelta = timedelta(minutes=10)) -> None:
        self.sessions = sessions
        self.policy = policy
        self.clock = clock
        self.lead = lead

    @acts_as("system:reminders")
    async def tick(self) -> int:
        """Plan what is due to go out today to people whose window is (about to be) open."""
        now = self.clock()
        async with self.sessions() as session:
            snapshot = await load_snapshot(session, self.policy, now)
        planned: list[Planned] = []
        for day in local_days(self.policy, snapshot.focal_points + snapshot.secretariat, now):
            planned.extend(plan_day(day, snapshot, self.policy, self._opening(now, day, snapshot)))
        async with writing(self.sessions) as session:
            added = await self._record(session, planned, snapshot, now)
        # Indicators' due dates: their own requests, reminded and escalated alike.
        added += await indicator_dates.tick(self.sessions, self.policy, now, self.lead)
        # Actions' target dates (issue 16).
        added += await action_dates.tick(self.sessions, self.policy, now, self.lead)
        # Pledge rounds: the asking and the year-end report-back (issue 16).
        added += await pledge_dates.tick(self.sessions, self.policy, now, self.lead)
        if added:
            log.info("reminders: %s messages planned", added)
        return added

    def _opening(self, now: datetime, day: date, snapshot: Snapshot) -> Callable[[Recipient], bool]:
        return opening(self.policy, snapshot.closures, now, self.lead, day)

    async def _record(self, session: AsyncSession, planned: list[Planned], snapshot: Snapshot, now: datetime) -> int:
        """The messages and the steps they take, in one transaction; what an
        earlier tick or another process planned already is left as it is.
        Composed and added ``RECORD_CHUNK`` at a time, in the same
        transaction: a national day's digests (300 of a hundred
        recommendations each), held at once with their statement's
        parameters, were most of the bot's peak memory."""
        count = 0
        for start in range(0, len(planned), RECORD_CHUNK):
            chunk = planned[start:start + RECORD_CHUNK]
            news = [new_message(p.key, p.kind, p.recipient, compose(p, snapshot), p.send_at, p.not_after) for p in chunk]
            added = await outbox.enqueue_many(session, news)
            rows = step_rows(chunk, added, ("focal_point_id", "deadline_id", "step"), now)
            if rows:
                # No retake_withdrawn here, unlike the implementation plan's kinds:
                # a deadline's step stays taken when its message is withdrawn
                # (snapshot.load_snapshot counts it), so it is never planned again.
                await insert_steps(session, ReminderStep, rows)
            count += len(added)
        return count

    @acts_as("system:outbox")
    async def notify_unreachable(self, row: OutboxMessage, reason: str) -> None:
        """Tell each secretariat user, once, that a focal point is out of reach."""
        if row.focal_point_id is None:
            return
        now = self.clock()
        async with writing(self.sessions) as session:
            person = await session.get(FocalPoint, row.focal_point_id)
            institution = await session.scalar(select(Institution.name).where(Institution.id == person.institution_id)) if person else None
            closures = await load_closures(session)
            for user in await load_secretariat(session):
                if user.address is None or person is None:
                    continue
                window = self.policy.calendar_of(user, closures).next_window(now)
                notice = unreachable_notice(user.language, person.name, institution or "?", row.platform.value, reason)
                await outbox.enqueue(
                    session,
                    outbox.NewMessage(
                        key=f"unreachable:{row.identity_id or row.focal_point_id}:{user.id}:{now.date().isoformat()}",
                        kind=OutboxKind.UNREACHABLE_NOTICE, platform=user.address.platform, workspace_id=user.address.workspace_id,
                        platform_user_id=user.address.user_id, chat_id=user.address.chat_id, timezone=user.timezone,
                        message=notice.to_dict(), due_at=max(now, window.start), not_after=window.end,
                        identity_id=user.identity_id, secretariat_user_id=user.id,
                    ),
                )

