"""/hours: a focal point's own working hours, when reminders may come."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.reminders.calendars import focal_point_calendar
from handlers.reminders.plan import Policy
from handlers.turn import Turn
from storage.errors import InvalidValue
from storage.models import FocalPoint
from storage.outbox import rewindow
from storage.validation import check_working_hours


async def hours(turn: Turn, argument: str, policy: Policy) -> None:
    """``/hours`` shows them, ``/hours 08:00-14:00`` sets them, ``/hours default`` goes back to the NMRF's."""
    me = turn.focal_point
    argument = argument.strip().lower()
    if not argument:
        turn.say("hours.show", range=me.working_hours or _configured(policy), timezone=me.timezone)
        return
    if argument == "default":
        chosen = None
    else:
        try:
            chosen = check_working_hours(argument)
        except InvalidValue:
            turn.say("hours.usage")
            return
    await set_working_hours(turn.session, me, chosen, policy, turn.now)
    if chosen is None:
        turn.say("hours.default", range=_configured(policy), timezone=me.timezone)
    else:
        turn.say("hours.set", range=chosen, timezone=me.timezone)


async def set_working_hours(session: AsyncSession, person: FocalPoint, chosen: str | None, policy: Policy, now: datetime) -> int:
    """Give ``person`` their own hours (None: the configured ones) and move
    what is still pending for them into their next window; how many moved."""
    person.working_hours = chosen
    calendar = await focal_point_calendar(session, policy, person)

    def window(moment: datetime) -> tuple[datetime, datetime]:
        found = calendar.next_window(moment)
        return found.start, found.end

    return await rewindow(session, person.id, chosen, window, now)


def _configured(policy: Policy) -> str:
    start, end = policy.hours
    return f"{start:%H:%M}-{end:%H:%M}"
