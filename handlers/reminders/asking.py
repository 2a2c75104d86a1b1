"""What the deadlines' plan (handlers.reminders.plan) and the implementation
plan's kinds (action_dates, indicator_dates, pledge_dates) decide the same
way: who answers for an institution, the overdue steps after a due day, the
escalation levels reached, and whose working window a tick opens.

What differs by kind (the steps before the due day, when the overdue steps
start, what else escalates) is passed in by each kind, and said there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypeVar

from handlers.reminders.working_time import WorkingTime
from storage.calendars import Closures
from storage.enums import FocalPointRole, OutboxKind

if TYPE_CHECKING:
    from handlers.reminders.plan import Policy, Recipient


def by_role(focal_points: Iterable[Recipient]) -> dict[int, dict[FocalPointRole, list[Recipient]]]:
    """institution -> role -> its focal points, in order (no role: technical)."""
    out: dict[int, dict[FocalPointRole, list[Recipient]]] = {}
    for fp in focal_points:
        out.setdefault(fp.institution_id or 0, {}).setdefault(fp.role or FocalPointRole.TECHNICAL, []).append(fp)
    return out


def overdue_steps(first: date, every: int, most: int, calendar: WorkingTime, until: date) -> list[tuple[str, date]]:
    """("overdue-1", ``first``), then one every ``every`` working days of
    ``calendar``, at most ``most`` of them, none after ``until``."""
    steps: list[tuple[str, date]] = []
    day = first
    for n in range(1, most + 1):
        if day > until:
            break
        steps.append((f"overdue-{n}", day))
        day = calendar.add_working_days(day, every)
    return steps


def escalations(
    day: date,
    policy: Policy,
    roles: dict[FocalPointRole, list[Recipient]],
    primary: list[Recipient],
    steps: int,
    delivered: int,
    first: date | None,
    also: tuple[bool, bool] = (False, False),
) -> list[tuple[str, Recipient]]:
    """(step, person) of the escalations due on ``day``, level 1 then level 2.

    Level 1 goes to the alternates (the seniors when there is none) with the
    step after ``escalate_after`` delivered messages, or at once when nobody
    of ``primary`` can be reached and a step has come; level 2 to the seniors
    with the step after that, only when there are alternates and a later day
    than level 1 went (``first``). ``steps``: how many steps have come;
    ``also``: a kind's own reasons to reach level 1 and level 2 besides."""
    primary_ids = {p.id for p in primary}
    alternates = [p for p in roles.get(FocalPointRole.ALTERNATE, []) if p.id not in primary_ids]
    seniors = [p for p in roles.get(FocalPointRole.SENIOR, []) if p.id not in primary_ids]
    # Nobody to remind (no chat account, or blocked the bot): escalate at the
    # first step rather than wait.
    unreachable = all(p.address is None for p in primary) and steps > 0

    def reached(level: int) -> bool:
        after = policy.escalate_after + level - 1
        stepped = delivered >= after and steps > after
        return stepped or (level == 1 and unreachable) or also[level - 1]

    levels: list[tuple[int, list[Recipient]]] = []
    if reached(1):
        levels.append((1, alternates or seniors))
    if alternates and first is not None and first < day and reached(2):
        levels.append((2, seniors))
    return [(f"escalate-{level}", person) for level, people in levels for person in people]


class _Message(Protocol):
    kind: OutboxKind


M = TypeVar("M", bound=_Message)


def day_messages(
    day: date,
    keys: set[str],
    include: Callable[[Recipient], bool],
    calendar: Callable[[Recipient], WorkingTime],
    new: Callable[[str, OutboxKind, Recipient, date, datetime, datetime], M],
    out: dict[str, M],
) -> Callable[[str, OutboxKind, Recipient], M | None]:
    """``message(prefix, kind, person)``: the one message of ``prefix`` a
    person has on local day ``day``, added to ``out`` (``new(key, kind,
    person, day, window start, window end)``) when first asked for; None when
    it went already (its key is in ``keys``), the person has no chat account
    or is left out (``include``), or ``day`` is not a working day of theirs.
    A message with a reminder in it is a reminder, whatever else it carries."""

    def message(prefix: str, kind: OutboxKind, r: Recipient) -> M | None:
        key = f"{prefix}:{r.kind}:{r.id}:{day.isoformat()}"
        if key in keys or r.address is None or not include(r):
            return None
        window = calendar(r).window(day)
        if window is None:
            return None
        if key not in out:
            out[key] = new(key, kind, r, day, window.start, window.end)
        elif kind is OutboxKind.REMINDER:
            out[key].kind = kind
        return out[key]

    return message


def opening(policy: Policy, closures: Closures, now: datetime, lead: timedelta, day: date) -> Callable[[Recipient], bool]:
    """Whether a person's local day at ``now`` is ``day`` and their working
    window of it is open, or opens within ``lead``: whom a tick plans for."""

    def include(r: Recipient) -> bool:
        calendar = policy.calendar_of(r, closures)
        if calendar.local_day(now) != day:
            return False
        window = calendar.window(day)
        return window is not None and window.start - lead <= now < window.end

    return include


def local_days(policy: Policy, people: Iterable[Recipient], now: datetime) -> list[date]:
    """The local days it is at ``now`` for ``people``, in order."""
    return sorted({policy.working_time(zone).local_day(now) for zone in {r.timezone for r in people}})
