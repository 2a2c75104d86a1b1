"""/snooze: a focal point away from the office pauses their reminders."""

from __future__ import annotations

from datetime import date, timedelta

from handlers.turn import Turn
from messages import DATE_EXAMPLE, local_date
from storage.enums import OutboxKind
from storage.outbox import withdraw

# A snooze is a holiday, not a resignation: at most this far ahead.
LONGEST = timedelta(days=120)


async def snooze(turn: Turn, argument: str) -> None:
    """``/snooze 2026-12-15``, ``/snooze off``, or the digest's button (``snooze:7``)."""
    argument = argument.strip().lower()
    today = turn.local_day(turn.now)
    if argument in ("off", "0"):
        turn.focal_point.snoozed_until = None
        turn.say("snooze.off")
        return
    if argument.isdigit():
        until = today + timedelta(days=int(argument) - 1)
    else:
        try:
            until = date.fromisoformat(argument)
        except ValueError:
            turn.say("snooze.usage", example=DATE_EXAMPLE)
            return
    if until < today or until - today > LONGEST:
        turn.say("snooze.usage", example=DATE_EXAMPLE)
        return
    turn.focal_point.snoozed_until = until
    # What was planned for the coming days is withdrawn; steps missed while
    # away fold into one reminder on return.
    await withdraw(turn.session, focal_point_id=turn.focal_point.id, kinds=(OutboxKind.REMINDER, OutboxKind.ESCALATION))
    turn.say("snooze.set", date=local_date(until, turn.language))
