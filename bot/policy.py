"""The reminder policy as the configuration sets it: what `nmrf-bot run` plans
with, and what the commands that preview or replan reminders use, without
loading the chat platforms and report writers that bot.app brings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.reminders.plan import Policy
from handlers.reminders.working_time import weekday_numbers
from storage.enums import DeadlineKind, Priority

if TYPE_CHECKING:
    from bot.config import Config


def reminder_policy(config: Config) -> Policy:
    r, schedule = config.reminders, config.schedule
    return Policy(
        steps_days=tuple(r.steps_days),
        steps_by_kind={DeadlineKind(kind): tuple(k.steps_days) for kind, k in r.kinds.items()},
        overdue_every=r.overdue_every_working_days,
        overdue_max=r.overdue_max,
        escalate_after=r.escalate_after,
        hours=schedule.window,
        working_days=weekday_numbers(list(schedule.working_days)),
        country=schedule.country,
        subdivision=schedule.subdivision,
        priorities=frozenset(Priority(level) for level in r.priorities),
    )
