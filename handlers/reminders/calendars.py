"""A focal point's own calendar, read where one is needed outside the plan
(a request queued, hours changed, a notice or a hand-over planned): the same
place and closure days as the reminder plan gives them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.reminders.plan import Policy
from handlers.reminders.working_time import WorkingTime
from storage.calendars import Closures, load_closures
from storage.models import FocalPoint


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
