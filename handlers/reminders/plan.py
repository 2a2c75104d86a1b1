"""The reminder plan: who is written to, on which local day, about what.

Pure: it reads a ``Snapshot`` of the registry and returns ``Planned``
messages; it never touches the database or a platform. The scheduler plans
each person's today from live data (so editing a deadline reschedules
without touching any job), and ``reminders preview`` runs the same function
day after day on a copy, as if every message went out and nobody answered.

The rules:
- A deadline's reminder steps are days before it (60, 30, 14, 7, 3, 1 by
  default, per kind in the configuration), then every 3 working days once
  overdue. A step whose day fell on a weekend, a holiday or a snooze goes out
  on the next working day; steps that piled up meanwhile are folded into the
  latest, so a person back from leave gets one reminder, not five.
- One digest a person a local day, listing every open item.
- A recommendation is open for a deadline while its institution has given
  no update on it since the reminders for that deadline began. An
  information request naming no recommendation is open for each institution
  asked until it answers.
- Escalation, per institution and deadline: after 2 delivered reminders, or
  once the deadline passed, or at the first step when the technical focal
  point cannot be reached at all, the alternate focal point is told; the next
  step (or 3 working days after the deadline) the senior one. With no
  alternate, the senior is told at the first escalation.
- Each secretariat user gets one overdue digest a working day when any
  input is overdue.
- Priority ([reminders] priorities, all three levels by default): reminders
  and escalations cover the open items at those levels. A linked group is
  one item, at its highest member's level (as the digest lists it); a
  recommendation whose level is not worked out yet is covered, so none
  falls silent for want of one; an information request is covered whole,
  its items being the ones the secretariat named. An item left out is not
  escalated either (nobody was reminded of it), but the secretariat's
  overdue digest still counts it: the setting spares the focal points, it
  hides nothing from the secretariat. An item raised to a covered level is
  reminded at the next working day, its missed steps folded into one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from handlers.chat_port import ChatAddress
from handlers.reminders.asking import by_role, day_messages, escalations, overdue_steps
from handlers.reminders.working_time import WorkingTime, parse_hours
from storage.calendars import NO_CLOSURES, Closures
from storage.deadlines import DeadlineName
from storage.enums import DeadlineKind, FocalPointRole, OutboxKind, Priority
from storage.network import answering
from storage.priority_order import rank_of

DEFAULT_STEPS = (60, 30, 14, 7, 3, 1)


@dataclass(frozen=True)
class Policy:
    steps_days: tuple[int, ...] = DEFAULT_STEPS
    steps_by_kind: dict[DeadlineKind, tuple[int, ...]] = field(default_factory=dict)
    overdue_every: int = 3
    # Overdue reminders stop after this many; the secretariat digest goes on.
    overdue_max: int = 10
    escalate_after: int = 2
    hours: tuple[time, time] = (time(9), time(17))
    working_days: frozenset[int] = frozenset(range(5))
    # [schedule] country and subdivision: the holidays of whoever has no
    # place of their own (secretariat users, focal points without one).
    country: str | None = None
    subdivision: str | None = None
    # [reminders] priorities: the levels reminders and escalations cover.
    priorities: frozenset[Priority] = frozenset(Priority)

    def steps(self, kind: DeadlineKind) -> tuple[int, ...]:
        return tuple(sorted(self.steps_by_kind.get(kind, self.steps_days), reverse=True))

    def working_time(
        self,
        timezone: str,
        snoozed_until: date | None = None,
        hours: str | None = None,
        country: str | None = None,
        subdivision: str | None = None,
        closures: Closures = NO_CLOSURES,
    ) -> WorkingTime:
        """A person's calendar: their time zone, their own hours if they set
        some, else the configured ones; the public holidays of their own
        country and subdivision, else the configured ones; and the
        secretariat's closure days that concern that place."""
        start, end = parse_hours(hours) if hours else self.hours
        place = (country, subdivision) if country else (self.country, self.subdivision)
        return WorkingTime(
            timezone, start, end, self.working_days, place[0], snoozed_until, closures.days_for(*place), subdivision=place[1],
        )

    def calendar_of(self, person: Recipient, closures: Closures = NO_CLOSURES, snoozes: bool = True) -> WorkingTime:
        """The calendar of a person of the plan."""
        snoozed = person.snoozed_until if snoozes else None
        return self.working_time(person.timezone, snoozed, person.hours, person.country, person.subdivision, closures)


@dataclass(frozen=True)
class Recipient:
    """A focal point or a secretariat user, and where to write to them."""

    kind: str  # "focal_point" or "secretariat"
    id: int
    name: str
    language: str
    timezone: str
    address: ChatAddress | None
    identity_id: int | None = None
    snoozed_until: date | None = None
    role: FocalPointRole | None = None
    institution_id: int | None = None
    # Their own working hours ("HH:MM-HH:MM"), when not the configured ones.
    hours: str | None = None
    # Whose public holidays they keep, when not the configured ones.
    country: str | None = None
    subdivision: str | None = None


@dataclass(frozen=True)
class DeadlineFacts:
    id: int
    name: DeadlineName
    kind: DeadlineKind
    due_on: date
    recommendations: frozenset[int]
    # An information request naming no recommendation: the institutions
    # asked, each open until it answers the request.
    asked: frozenset[int] = frozenset()
    # The information request this deadline is for, if any (naming
    # recommendations or not): its "no change" buttons answer it too.
    request_id: int | None = None


@dataclass
class Snapshot:
    focal_points: list[Recipient]
    secretariat: list[Recipient]
    institutions: dict[int, str]
    deadlines: list[DeadlineFacts]
    assigned: dict[int, frozenset[int]]
    # (institution, deadline, recommendation) with an update since reminders began.
    answered: set[tuple[int, int, int]] = field(default_factory=set)
    # (person, deadline, step) already planned or skipped.
    taken: set[tuple[int, int, str]] = field(default_factory=set)
    # (institution, deadline) -> the reminder steps delivered to its focal points.
    delivered: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    # (institution, deadline, level) -> the local day that escalation went out.
    escalated: dict[tuple[int, int, int], date] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    labels: dict[int, str] = field(default_factory=dict)
    # (institution, deadline) of the requests above that the institution answered.
    request_answered: set[tuple[int, int]] = field(default_factory=set)
    # The secretariat's closure days (storage.calendars).
    closures: Closures = NO_CLOSURES
    # recommendation -> its linked group, and each group's title (or its
    # first member's first words): a digest names a group once.
    groups: dict[int, int] = field(default_factory=dict)
    group_titles: dict[int, str] = field(default_factory=dict)
    # Each recommendation's priority (storage.priorities): digests list high first.
    priorities: dict[int, Priority | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    deadline: DeadlineFacts
    step: str
    recommendations: tuple[int, ...]
    institution_id: int


@dataclass
class Planned:
    key: str
    kind: OutboxKind
    recipient: Recipient
    day: date
    send_at: datetime
    not_after: datetime
    items: list[Item] = field(default_factory=list)
    # (person, deadline, step): sent with this message / folded into it.
    taken: list[tuple[int, int, str]] = field(default_factory=list)
    skipped: list[tuple[int, int, str]] = field(default_factory=list)
    # Secretariat digest: (institution id, deadline, open recommendations).
    overdue: list[tuple[int, DeadlineFacts, int]] = field(default_factory=list)


def grouped(recommendations: Iterable[int], snapshot: Snapshot) -> list[tuple[int | None, tuple[int, ...]]]:
    """(group or None, its recommendations), by first id: a linked group's
    members together, once, as one item."""
    groups: dict[int, list[int]] = {}
    entries: list[tuple[int | None, tuple[int, ...]]] = []
    for rec in sorted(recommendations):
        group = snapshot.groups.get(rec)
        if group is None:
            entries.append((None, (rec,)))
        else:
            groups.setdefault(group, []).append(rec)
    entries += [(group, tuple(recs)) for group, recs in groups.items()]
    return sorted(entries, key=lambda e: e[1][0])


def level_of(recommendations: Iterable[int], snapshot: Snapshot) -> Priority | None:
    """An item's level: its highest member's; None while none has one."""
    return min((snapshot.priorities.get(r) for r in recommendations), key=rank_of, default=None)


def at_levels(recommendations: Iterable[int], snapshot: Snapshot, levels: Collection[Priority | None]) -> tuple[int, ...]:
    """Those of ``recommendations`` whose item (a linked group is one) is at
    one of ``levels``, by id."""
    return tuple(sorted(r for _, members in grouped(recommendations, snapshot) if level_of(members, snapshot) in levels for r in members))


def covered(deadline: DeadlineFacts, still_open: tuple[int, ...], snapshot: Snapshot, policy: Policy) -> tuple[int, ...]:
    """The open items reminders and escalations cover ([reminders]
    priorities; see the module's rules)."""
    if deadline.request_id is not None or policy.priorities >= frozenset(Priority):
        return still_open
    return at_levels(still_open, snapshot, {*policy.priorities, None})


def reminder_steps(deadline: DeadlineFacts, policy: Policy, calendar: WorkingTime, until: date) -> list[tuple[str, date]]:
    """(step name, day it falls due), in order, up to ``until``."""
    steps = [(str(days), deadline.due_on - timedelta(days=days)) for days in policy.steps(deadline.kind)]
    # Overdue from the first working day after the due day.
    steps += overdue_steps(calendar.add_working_days(deadline.due_on, 1), policy.overdue_every, policy.overdue_max, calendar, until)
    return [(name, on) for name, on in steps if on <= until]


def plan_day(day: date, snapshot: Snapshot, policy: Policy, include: Callable[[Recipient], bool] = lambda r: True) -> list[Planned]:
    """Everything that goes out on local day ``day`` to the people ``include`` lets through."""
    out: dict[str, Planned] = {}
    calendars: dict[tuple[str, date | None, str | None, str | None, str | None], WorkingTime] = {}

    def calendar(r: Recipient, snoozes: bool = True) -> WorkingTime:
        key = (r.timezone, r.snoozed_until if snoozes else None, r.hours, r.country, r.subdivision)
        if key not in calendars:
            calendars[key] = policy.calendar_of(r, snapshot.closures, snoozes)
        return calendars[key]

    planned_for = day_messages(day, snapshot.keys, include, calendar, Planned, out)

    def message(kind: OutboxKind, r: Recipient) -> Planned | None:
        # One digest a person a day: reminders and escalations share it.
        return planned_for("overdue" if kind is OutboxKind.OVERDUE_DIGEST else "digest", kind, r)

    by_institution = by_role(snapshot.focal_points)

    overdue_lines: list[tuple[int, DeadlineFacts, int]] = []
    asked = set().union(*(d.asked for d in snapshot.deadlines))
    for institution in sorted(set(snapshot.assigned) | asked):
        recommendations = snapshot.assigned.get(institution, frozenset())
        roles = by_institution.get(institution, {})
        primary = answering(roles)
        for deadline in snapshot.deadlines:
            if deadline.asked:
                if institution not in deadline.asked or (institution, deadline.id) in snapshot.request_answered:
                    continue
                still_open: tuple[int, ...] = ()
            else:
                still_open = tuple(sorted(
                    r for r in deadline.recommendations & recommendations if (institution, deadline.id, r) not in snapshot.answered
                ))
                if not still_open:
                    continue
            if day > deadline.due_on:
                overdue_lines.append((institution, deadline, len(still_open) or 1))
            if still_open:
                still_open = covered(deadline, still_open, snapshot, policy)
                if not still_open:
                    continue
            for person in primary:
                planned = message(OutboxKind.REMINDER, person)
                if planned is None:
                    continue
                due = [(n, on) for n, on in reminder_steps(deadline, policy, calendar(person, False), day) if (person.id, deadline.id, n) not in snapshot.taken]
                if not due:
                    continue
                step = due[-1][0]
                planned.items.append(Item(deadline, step, still_open, institution))
                planned.taken.append((person.id, deadline.id, step))
                planned.skipped.extend((person.id, deadline.id, n) for n, _ in due[:-1])
            _escalate(day, institution, deadline, still_open, roles, primary, snapshot, policy, calendar, message)

    if overdue_lines:
        for user in snapshot.secretariat:
            planned = message(OutboxKind.OVERDUE_DIGEST, user)
            if planned is not None:
                planned.overdue = overdue_lines
    return [p for p in out.values() if p.items or p.overdue]


def _escalate(
    day: date,
    institution: int,
    deadline: DeadlineFacts,
    still_open: tuple[int, ...],
    roles: dict[FocalPointRole, list[Recipient]],
    primary: list[Recipient],
    snapshot: Snapshot,
    policy: Policy,
    calendar: Callable[..., WorkingTime],
    message: Callable[[OutboxKind, Recipient], Planned | None],
) -> None:
    """Level 1 goes with the step after ``escalate_after`` delivered reminders
    (or once overdue), level 2 with the step after that (or 3 working days
    overdue), and only on a later day than level 1."""
    if not primary:
        return
    schedule = calendar(primary[0], False)
    steps = len(reminder_steps(deadline, policy, schedule, day))
    delivered = len(snapshot.delivered.get((institution, deadline.id), ()))
    first = snapshot.escalated.get((institution, deadline.id, 1))
    # A deadline's own: level 1 once it is overdue, level 2 ``overdue_every`` working days after.
    also = (day > deadline.due_on, day >= schedule.add_working_days(deadline.due_on, policy.overdue_every))
    for step, person in escalations(day, policy, roles, primary, steps, delivered, first, also):
        if (person.id, deadline.id, step) in snapshot.taken:
            continue
        planned = message(OutboxKind.ESCALATION, person)
        if planned is None:
            continue
        planned.items.append(Item(deadline, step, still_open, institution))
        planned.taken.append((person.id, deadline.id, step))


def apply(snapshot: Snapshot, planned: list[Planned]) -> None:
    """Record planned messages in the snapshot as if sent and not answered:
    what ``reminders preview`` assumes of each next day."""
    for p in planned:
        snapshot.keys.add(p.key)
        snapshot.taken.update(p.taken)
        snapshot.taken.update(p.skipped)
        for item in p.items:
            if item.step.startswith("escalate-"):
                snapshot.escalated.setdefault((item.institution_id, item.deadline.id, int(item.step[-1])), p.day)
            else:
                snapshot.delivered.setdefault((item.institution_id, item.deadline.id), set()).add(item.step)


def simulate(snapshot: Snapshot, policy: Policy, first: date, last: date) -> list[Planned]:
    """Every message the plan holds from ``first`` to ``last`` (local days),
    assuming each goes out and nobody answers."""
    planned: list[Planned] = []
    day = first
    while day <= last:
        today = plan_day(day, snapshot, policy)
        apply(snapshot, today)
        planned.extend(today)
        day += timedelta(days=1)
    return planned
