"""An indicator's due dates, asked, reminded and escalated like any deadline
(issue 16; the values themselves: storage.indicators).

At each due date the answering focal points of the institution that reports
the indicator (storage.network.answering) are asked for its value, at the
start of their working day, with a button per indicator that opens the
dialogue (handlers.indicator_values_chat). Unanswered, it is asked again
every ``overdue_every`` working days, at most ``overdue_max`` times; after
``escalate_after`` delivered requests the alternate focal point is told
(the senior one when there is no alternate), then, a later day, the senior
one, each with the same buttons; if nobody there can be reached, at the
first step. Each secretariat user gets one digest a working day of the
values late (unanswered past the first reminder), by institution.

The plan follows the deadlines' (handlers.reminders.plan): a step that
falls on a day off goes the next working day, steps missed meanwhile (a
snooze, a closure) fold into one, and one message a person a local day
carries every indicator asked of them. The messages are reminders and
escalations in the outbox's terms, so a snooze or a closure day withdraws
them as it withdraws the deadlines' (a withdrawn request is asked again); a
value given, for its due date or for a period reaching its end, stops them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import Button, OutgoingMessage
from handlers.reminders import nobody_asked
from handlers.reminders.asking import by_role, day_messages, escalations, local_days, opening, overdue_steps
from handlers.reminders.compose import sayer
from handlers.reminders.plan import Policy, Recipient
from handlers.reminders.recording import insert_steps, new_message, recent_keys, retake_withdrawn, step_rows
from handlers.reminders.snapshot import focal_recipient, load_secretariat, reachable_identities
from handlers.reminders.working_time import WorkingTime
from messages import local_date, shorten
from messages.numbers import local_period
from storage import outbox
from storage.calendars import NO_CLOSURES, Closures, load_closures
from storage.database import writing
from storage.enums import FocalPointRole, OutboxKind, OutboxStatus
from storage.indicator_models import IndicatorReminderStep
from storage.indicators import DueRequest, open_requests
from storage.models import FocalPoint, Institution, OutboxMessage
from storage.network import active_on, answering

# A definition in a request: its first words; the dialogue shows it whole.
DEFINITION_SHOWN = 90
# Indicators with their own button in one message (Telegram's keyboard, Slack's blocks).
MAX_ITEMS = 20

# (person, indicator, due date, step)
Step = tuple[int, int, date, str]


@dataclass
class IndicatorSnapshot:
    focal_points: list[Recipient]
    secretariat: list[Recipient]
    institutions: dict[int, str]
    requests: list[DueRequest]
    # Steps planned (and not withdrawn) or folded.
    taken: set[Step] = field(default_factory=set)
    # (institution, indicator, due date) -> the requests delivered to its focal points.
    delivered: dict[tuple[int, int, date], set[str]] = field(default_factory=dict)
    # (institution, indicator, due date, level) -> the local day that escalation went.
    escalated: dict[tuple[int, int, date, int], date] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    closures: Closures = NO_CLOSURES


@dataclass(frozen=True)
class Item:
    request: DueRequest
    step: str


@dataclass
class PlannedAsk:
    key: str
    kind: OutboxKind
    recipient: Recipient
    day: date
    send_at: datetime
    not_after: datetime
    items: list[Item] = field(default_factory=list)
    taken: list[Step] = field(default_factory=list)
    skipped: list[Step] = field(default_factory=list)
    # Secretariat digest: the requests late, and whose.
    late: list[DueRequest] = field(default_factory=list)


def request_steps(due_on: date, policy: Policy, calendar: WorkingTime, until: date) -> list[tuple[str, date]]:
    """(step, day it falls due) up to ``until``: the request on the due date,
    then a reminder every ``overdue_every`` working days."""
    steps = [("due", due_on)]
    # Overdue from ``overdue_every`` working days after the due date.
    steps += overdue_steps(calendar.add_working_days(due_on, policy.overdue_every), policy.overdue_every, policy.overdue_max, calendar, until)
    return [(name, on) for name, on in steps if on <= until]


def plan_day(day: date, snapshot: IndicatorSnapshot, policy: Policy, include: Callable[[Recipient], bool] = lambda r: True) -> list[PlannedAsk]:
    """What goes out on local day ``day`` about indicators, to the people ``include`` lets through."""
    out: dict[str, PlannedAsk] = {}

    def calendar(r: Recipient, snoozes: bool = True) -> WorkingTime:
        return policy.calendar_of(r, snapshot.closures, snoozes)

    planned_for = day_messages(day, snapshot.keys, include, calendar, PlannedAsk, out)

    def message(kind: OutboxKind, r: Recipient) -> PlannedAsk | None:
        # The late digest is a message of its own; requests and escalations share one.
        return planned_for("indicators-late" if kind is OutboxKind.OVERDUE_DIGEST else "indicators", kind, r)

    by_institution = by_role(snapshot.focal_points)

    late: list[DueRequest] = []
    for request in snapshot.requests:
        roles = by_institution.get(request.institution_id, {})
        primary = answering(roles)
        for person in primary:
            planned = message(OutboxKind.REMINDER, person)
            if planned is None:
                continue
            due = [(n, on) for n, on in request_steps(request.due_on, policy, calendar(person, False), day) if _step(person, request, n) not in snapshot.taken]
            if not due:
                continue
            planned.items.append(Item(request, due[-1][0]))
            planned.taken.append(_step(person, request, due[-1][0]))
            planned.skipped.extend(_step(person, request, n) for n, _ in due[:-1])
        _escalate(day, request, roles, primary, snapshot, policy, calendar, message)
        schedule = calendar(primary[0], False) if primary else None
        if schedule is not None and day >= schedule.add_working_days(request.due_on, policy.overdue_every):
            late.append(request)
        elif schedule is None and day > request.due_on:
            # Nobody answers for it at all: late at once, for the secretariat to see.
            late.append(request)
    if late:
        for user in snapshot.secretariat:
            planned = message(OutboxKind.OVERDUE_DIGEST, user)
            if planned is not None:
                planned.late = late
    return [p for p in out.values() if p.items or p.late]


def _step(person: Recipient, request: DueRequest, step: str) -> Step:
    return (person.id, request.indicator_id, request.due_on, step)


def _escalate(
    day: date,
    request: DueRequest,
    roles: dict[FocalPointRole, list[Recipient]],
    primary: list[Recipient],
    snapshot: IndicatorSnapshot,
    policy: Policy,
    calendar: Callable[..., WorkingTime],
    message: Callable[[OutboxKind, Recipient], PlannedAsk | None],
) -> None:
    """Level 1 with the step after ``escalate_after`` delivered requests, level
    2 with the step after that, a later day than level 1."""
    if not primary:
        return
    steps = len(request_steps(request.due_on, policy, calendar(primary[0], False), day))
    delivered = len(snapshot.delivered.get((request.institution_id, request.indicator_id, request.due_on), ()))
    first = snapshot.escalated.get((request.institution_id, request.indicator_id, request.due_on, 1))
    for step, person in escalations(day, policy, roles, primary, steps, delivered, first):
        if _step(person, request, step) in snapshot.taken:
            continue
        planned = message(OutboxKind.ESCALATION, person)
        if planned is None:
            continue
        planned.items.append(Item(request, step))
        planned.taken.append(_step(person, request, step))


def compose(planned: PlannedAsk, snapshot: IndicatorSnapshot) -> OutgoingMessage:
    """The words of a planned message, in its reader's language."""
    reader = planned.recipient
    lang = reader.language
    say = sayer(reader)

    def line(request: DueRequest) -> str:
        values = {
            "code": request.code, "definition": shorten(" ".join(request.definition.split()), DEFINITION_SHOWN), "unit": request.unit,
            "period": local_period(*request.period, lang), "date": local_date(request.due_on, lang),
        }
        return say("indicator.request_overdue" if request.due_on < planned.day else "indicator.request_line", **values)

    if planned.kind is OutboxKind.OVERDUE_DIGEST:
        lines = [say("indicator.late_header")] + [
            say("indicator.late_line", institution=snapshot.institutions.get(r.institution_id, "?"), code=r.code, date=local_date(r.due_on, lang))
            for r in planned.late
        ]
        return OutgoingMessage("indicator.late_digest", "\n".join(lines), language=lang)

    asked = [i for i in planned.items if not i.step.startswith("escalate-")]
    escalated = [i for i in planned.items if i.step.startswith("escalate-")]
    lines: list[str] = []
    rows: list[tuple[Button, ...]] = []
    buttons: list[Button] = []

    def section(header: str, items: list[Item]) -> None:
        lines.extend([header, ""])
        for item in items:
            lines.append(line(item.request))
            action = f"ind:{item.request.indicator_id}:{item.request.due_on.isoformat()}"
            if len(buttons) < MAX_ITEMS and action not in {b.action for b in buttons}:
                buttons.append(Button(say("button.give_value", code=item.request.code), action))
        lines.append("")

    if asked:
        section(say("indicator.request_header", institution=snapshot.institutions.get(asked[0].request.institution_id, "?")), asked)
    for institution in dict.fromkeys(i.request.institution_id for i in escalated):
        items = [i for i in escalated if i.request.institution_id == institution]
        reminded = [p.name for p in snapshot.focal_points if p.institution_id == institution and p.id != reader.id and p.role is FocalPointRole.TECHNICAL]
        sent = max(len(snapshot.delivered.get((institution, i.request.indicator_id, i.request.due_on), ())) for i in items)
        section(say("indicator.escalation_header", institution=snapshot.institutions.get(institution, "?"), names=", ".join(reminded) or "—", count=sent), items)
    lines.append(say("indicator.request_footer"))
    rows += [tuple(buttons[i:i + 2]) for i in range(0, len(buttons), 2)]
    if asked:
        rows.append((Button(say("button.snooze_week"), "snooze:7"),))
    key = "indicator.request" if asked else "indicator.escalation"
    return OutgoingMessage(key, "\n".join(lines).strip(), tuple(rows), language=lang)


async def load(session: AsyncSession, now: datetime) -> IndicatorSnapshot:
    """The registry as the plan needs it: who answers, what is asked, what was sent."""
    today = now.date()
    # A day ahead: the due date of someone east of UTC may already have come.
    requests = await open_requests(session, today + timedelta(days=1))
    if not requests:
        # Nothing asked: the network is not read (a tick a minute, and with
        # 10,000 focal points that read held up the outbox's sends for seconds).
        return IndicatorSnapshot([], [], {}, [])
    focal_identity, _ = await reachable_identities(session)
    focal_points = [
        focal_recipient(fp, focal_identity)
        for fp in await session.scalars(select(FocalPoint).where(active_on(today)).order_by(FocalPoint.id))
    ]
    snapshot = IndicatorSnapshot(
        focal_points, await load_secretariat(session),
        {i: name for i, name in await session.execute(select(Institution.id, Institution.name))}, requests,
        closures=await load_closures(session),
    )
    if requests:
        zones = {fp.id: fp.timezone for fp in focal_points}
        institution_of = {fp.id: fp.institution_id for fp in focal_points}
        rows = await session.execute(
            select(IndicatorReminderStep.focal_point_id, IndicatorReminderStep.indicator_id, IndicatorReminderStep.due_on,
                   IndicatorReminderStep.step, IndicatorReminderStep.outbox_id, OutboxMessage.status, OutboxMessage.due_at)
            .outerjoin(OutboxMessage, OutboxMessage.id == IndicatorReminderStep.outbox_id)
            .where(IndicatorReminderStep.indicator_id.in_({r.indicator_id for r in requests}))
        )
        for person, indicator_id, due_on, step, outbox_id, status, due_at in rows:
            if outbox_id is not None and status == OutboxStatus.CANCELLED:
                # Withdrawn (a snooze, a closure day): asked again at the next working day.
                continue
            snapshot.taken.add((person, indicator_id, due_on, step))
            institution = institution_of.get(person)
            if institution is None or status is None:
                continue
            if step.startswith("escalate-"):
                local = due_at.astimezone(ZoneInfo(zones[person])).date()
                key = (institution, indicator_id, due_on, int(step.rsplit("-", 1)[1]))
                snapshot.escalated[key] = min(local, snapshot.escalated.get(key, date.max))
            elif status == OutboxStatus.SENT:
                snapshot.delivered.setdefault((institution, indicator_id, due_on), set()).add(step)
    snapshot.keys = await recent_keys(session, now, "indicators%")
    return snapshot


async def tick(sessions: async_sessionmaker[AsyncSession], policy: Policy, now: datetime, lead: timedelta) -> int:
    """Plan today's indicator messages of the people whose working window is
    open (or opens within ``lead``), as ReminderService.tick does the
    deadlines'; how many messages were added."""
    async with sessions() as session:
        snapshot = await load(session, now)
    if not snapshot.requests:
        return 0

    planned: list[PlannedAsk] = []
    # The secretariat's days too: the late digest goes to them.
    for day in local_days(policy, snapshot.focal_points + snapshot.secretariat, now):
        planned.extend(plan_day(day, snapshot, policy, opening(policy, snapshot.closures, now, lead, day)))
    added = await nobody_asked.tell(sessions, policy, now, lead, unasked(snapshot))
    async with writing(sessions) as session:
        return added + await record(session, planned, snapshot, now)


def unasked(snapshot: IndicatorSnapshot) -> list[nobody_asked.Unasked]:
    """The requests whose institution has nobody in office, or nobody there
    (escalations included) with a chat account: the secretariat is told,
    beside the late digest, which only counts them late."""
    people: dict[int, list[Recipient]] = {}
    for fp in snapshot.focal_points:
        people.setdefault(fp.institution_id or 0, []).append(fp)
    return [
        nobody_asked.Unasked(
            "indicator", f"indicator:{r.indicator_id}:{r.due_on.isoformat()}", snapshot.institutions.get(r.institution_id, "?"),
            r.due_on, r.due_on, code=r.code, title=" ".join(r.definition.split()),
        )
        for r in snapshot.requests
        if nobody_asked.nobody_reachable(people.get(r.institution_id, []))
    ]


async def record(session: AsyncSession, planned: list[PlannedAsk], snapshot: IndicatorSnapshot, now: datetime) -> int:
    """The messages and the steps they take, in one transaction; what another
    tick or process planned already is left as it is."""
    news = [new_message(p.key, p.kind, p.recipient, compose(p, snapshot), p.send_at, p.not_after) for p in planned]
    added = await outbox.enqueue_many(session, news)
    rows = step_rows(planned, added, ("focal_point_id", "indicator_id", "due_on", "step"), now)
    if rows:
        await retake_withdrawn(session, IndicatorReminderStep, rows, ("focal_point_id", "indicator_id", "due_on", "step"))
        await insert_steps(session, IndicatorReminderStep, rows)
    return len(added)
