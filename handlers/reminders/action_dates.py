"""An action's target date, reminded like a deadline (issue 16; the actions
themselves: storage.actions).

The answering focal points of an action's responsible institution
(storage.network.answering) are reminded 30, 7 and 1 days before its target
date, then, while it is not finished, every ``overdue_every`` working days
after it, at most 3 times. A step that falls on a day off goes the next
working day, steps missed meanwhile (a snooze, a closure) fold into the
latest, and one message a person a local day carries every action due,
each with its Update and No change buttons (handlers.action_updates). The
messages are reminders in the outbox's terms, so a snooze or a closure day
withdraws them as it withdraws the deadlines'; a withdrawn step is planned
again. An action finished (fully implemented, not applicable), rejected or
given no target date is not reminded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.action_updates import update_button
from handlers.chat_port import Button, OutgoingMessage
from handlers.reminders import nobody_asked
from handlers.reminders.asking import by_role, local_days, opening, overdue_steps
from handlers.reminders.compose import sayer
from handlers.reminders.plan import Policy, Recipient
from handlers.reminders.recording import insert_steps, new_message, recent_keys, retake_withdrawn, step_rows
from handlers.reminders.snapshot import focal_recipient, reachable_identities
from handlers.reminders.working_time import WorkingTime
from messages import local_date, shorten
from storage import outbox
from storage.action_models import Action, ActionReminderStep, ActionState
from storage.actions import FINISHED
from storage.calendars import NO_CLOSURES, Closures, load_closures
from storage.database import writing
from storage.enums import ImplementationStatus, OutboxKind, OutboxStatus
from storage.models import FocalPoint, Institution, OutboxMessage
from storage.network import active_on, answering

BEFORE = (30, 7, 1)
OVERDUE_MAX = 3
# Overdue actions stay in the plan this long.
HORIZON = timedelta(days=120)
# Actions with their own buttons in one message.
MAX_BUTTONS = 10
TITLE_SHOWN = 90

# (person, action, step)
Step = tuple[int, int, str]


@dataclass(frozen=True)
class DueAction:
    id: int
    code: str
    title: str
    institution_id: int
    target_date: date
    status: ImplementationStatus


@dataclass
class ActionSnapshot:
    focal_points: list[Recipient]
    institutions: dict[int, str]
    actions: list[DueAction]
    # Steps planned (and not withdrawn) or folded.
    taken: set[Step] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    closures: Closures = NO_CLOSURES


@dataclass
class PlannedReminder:
    key: str
    recipient: Recipient
    day: date
    send_at: datetime
    not_after: datetime
    items: list[tuple[DueAction, str]] = field(default_factory=list)
    taken: list[Step] = field(default_factory=list)
    skipped: list[Step] = field(default_factory=list)


def steps(target: date, policy: Policy, calendar: WorkingTime, until: date) -> list[tuple[str, date]]:
    """(step, day it falls due) up to ``until``, in order."""
    out = [(str(days), target - timedelta(days=days)) for days in BEFORE]
    # Overdue from the first working day after the target date, at most OVERDUE_MAX times.
    out += overdue_steps(calendar.add_working_days(target, 1), policy.overdue_every, OVERDUE_MAX, calendar, until)
    return [(name, on) for name, on in out if on <= until]


def plan_day(day: date, snapshot: ActionSnapshot, policy: Policy, include: Callable[[Recipient], bool] = lambda r: True) -> list[PlannedReminder]:
    """What goes out on local day ``day`` about actions' target dates."""
    out: dict[str, PlannedReminder] = {}
    by_institution = by_role(snapshot.focal_points)
    for action in snapshot.actions:
        for person in answering(by_institution.get(action.institution_id, {})):
            key = f"actions:{person.id}:{day.isoformat()}"
            if key in snapshot.keys or person.address is None or not include(person):
                continue
            calendar = policy.calendar_of(person, snapshot.closures)
            window = calendar.window(day)
            if window is None:
                continue
            due = [name for name, _ in steps(action.target_date, policy, policy.calendar_of(person, snapshot.closures, False), day)
                   if (person.id, action.id, name) not in snapshot.taken]
            if not due:
                continue
            planned = out.setdefault(key, PlannedReminder(key, person, day, window.start, window.end))
            planned.items.append((action, due[-1]))
            planned.taken.append((person.id, action.id, due[-1]))
            planned.skipped.extend((person.id, action.id, name) for name in due[:-1])
    return list(out.values())


def compose(planned: PlannedReminder, snapshot: ActionSnapshot) -> OutgoingMessage:
    reader = planned.recipient
    lang = reader.language
    say = sayer(reader)

    def when(target: date) -> str:
        days = (target - planned.day).days
        if days > 0:
            return say("action.reminder_in_days", count=days)
        return say("action.reminder_today") if days == 0 else say("action.reminder_overdue", count=-days)

    institution = snapshot.institutions.get(planned.items[0][0].institution_id, "?")
    lines = [say("action.reminder_header", institution=institution, count=len(planned.items)), ""]
    rows: list[tuple[Button, ...]] = []
    for action, _ in sorted(planned.items, key=lambda item: (item[0].target_date, item[0].code)):
        lines.append(say(
            "action.reminder_line", code=action.code, title=shorten(action.title, TITLE_SHOWN), date=local_date(action.target_date, lang),
            when=when(action.target_date), status=say(f"status.{action.status.value}"),
        ))
        if len(rows) < MAX_BUTTONS:
            rows.append((update_button(say("action.button_update", code=action.code), action.id, action.code, action.title, lang),
                         Button(say("action.button_no_change", code=action.code), f"xsame:{action.id}")))
    lines += ["", say("action.reminder_footer")]
    rows.append((Button(say("button.snooze_week"), "snooze:7"),))
    return OutgoingMessage("action.reminder", "\n".join(lines), tuple(rows), language=lang)


async def load(session: AsyncSession, now: datetime) -> ActionSnapshot:
    today = now.date()
    found = (await session.scalars(
        select(Action).where(
            Action.state == ActionState.ACCEPTED, Action.target_date.is_not(None), Action.status.not_in(FINISHED),
            Action.target_date >= today - HORIZON, Action.target_date <= today + timedelta(days=max(BEFORE) + 1),
        )
    )).all()
    due = [DueAction(a.id, a.code, a.title, a.responsible_institution_id, a.target_date, a.status) for a in found if a.target_date]
    if not due:
        return ActionSnapshot([], {}, [])
    focal_identity, _ = await reachable_identities(session)
    institutions = {a.institution_id for a in due}
    focal_points = [
        focal_recipient(fp, focal_identity)
        for fp in await session.scalars(
            select(FocalPoint).where(active_on(today), FocalPoint.institution_id.in_(institutions)).order_by(FocalPoint.id)
        )
    ]
    snapshot = ActionSnapshot(
        focal_points, {i: name for i, name in await session.execute(select(Institution.id, Institution.name).where(Institution.id.in_(institutions)))},
        due, closures=await load_closures(session),
    )
    rows = await session.execute(
        select(ActionReminderStep.focal_point_id, ActionReminderStep.action_id, ActionReminderStep.step, ActionReminderStep.outbox_id, OutboxMessage.status)
        .outerjoin(OutboxMessage, OutboxMessage.id == ActionReminderStep.outbox_id)
        .where(ActionReminderStep.action_id.in_([a.id for a in due]))
    )
    for person, action_id, step, outbox_id, status in rows:
        if outbox_id is not None and status == OutboxStatus.CANCELLED:
            # Withdrawn (a snooze, a closure day): planned again at the next working day.
            continue
        snapshot.taken.add((person, action_id, step))
    snapshot.keys = await recent_keys(session, now, "actions:%")
    return snapshot


async def tick(sessions: async_sessionmaker[AsyncSession], policy: Policy, now: datetime, lead: timedelta) -> int:
    """Plan today's target-date reminders of the people whose working window
    is open (or opens within ``lead``); how many messages were added."""
    async with sessions() as session:
        snapshot = await load(session, now)
    if not snapshot.actions:
        return 0

    planned: list[PlannedReminder] = []
    for day in local_days(policy, snapshot.focal_points, now):
        planned.extend(plan_day(day, snapshot, policy, opening(policy, snapshot.closures, now, lead, day)))
    added = await nobody_asked.tell(sessions, policy, now, lead, unasked(snapshot))
    if not planned:
        return added
    async with writing(sessions) as session:
        return added + await record(session, planned, snapshot, now)


def unasked(snapshot: ActionSnapshot) -> list[nobody_asked.Unasked]:
    """The actions whose responsible institution has nobody in office to
    remind, or nobody there with a chat account: the secretariat is told."""
    by_institution = by_role(snapshot.focal_points)
    return [
        nobody_asked.Unasked(
            "action", f"action:{a.id}:{a.target_date.isoformat()}", snapshot.institutions.get(a.institution_id, "?"),
            a.target_date - timedelta(days=max(BEFORE)), a.target_date, code=a.code, title=a.title,
        )
        for a in snapshot.actions
        if nobody_asked.nobody_reachable(answering(by_institution.get(a.institution_id, {})))
    ]


async def record(session: AsyncSession, planned: list[PlannedReminder], snapshot: ActionSnapshot, now: datetime) -> int:
    """The messages and the steps they take, in one transaction; what another
    tick or process planned already is left as it is."""
    # Every message is a reminder: an action's target date is never escalated.
    news = [new_message(p.key, OutboxKind.REMINDER, p.recipient, compose(p, snapshot), p.send_at, p.not_after) for p in planned]
    added = await outbox.enqueue_many(session, news)
    rows = step_rows(planned, added, ("focal_point_id", "action_id", "step"), now)
    if rows:
        await retake_withdrawn(session, ActionReminderStep, rows, ("focal_point_id", "action_id", "step"))
        await insert_steps(session, ActionReminderStep, rows)
    return len(added)
