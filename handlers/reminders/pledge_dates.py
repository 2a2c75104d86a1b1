"""A pledge round's asking, reminded and escalated like any deadline (issue
16; the pledges themselves: storage.pledges).

Two phases, each asked of the answering focal points of every institution
the round is asking (storage.pledges.asking, storage.network.answering):

- pledging: from the day the round opens, "give your pledges", at the start
  of their working day; again 7 days and 1 day before ``ask_by``; after it,
  every ``overdue_every`` working days, at most ``overdue_max`` times, while
  the institution has a draft, or neither a confirmed pledge nor its word
  that it pledges nothing;
- report-back: from ``report_back_on``, "what became of each pledge", with
  a Done / Partly / Not button per confirmed pledge; then every
  ``overdue_every`` working days while one is not reported back on.

Once a phase is past its due day and ``escalate_after`` messages of it were
delivered, the alternate focal point is told (the senior one when there is
no alternate), then, a later day, the senior one, each with the same
buttons; if nobody there can be reached, at the first step. The plan follows
the deadlines' (handlers.reminders.plan): a step that falls on a day off
goes the next working day, steps missed meanwhile (a snooze, a closure)
fold into one, and one message a person a local day carries every round
asking them. The messages are reminders and escalations in the outbox's
terms, so a snooze or a closure day withdraws them (a withdrawn step is
asked again); closing the round stops them.
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
from handlers.reminders.snapshot import focal_recipient, reachable_identities
from handlers.reminders.working_time import WorkingTime
from messages import local_date, shorten
from storage import outbox
from storage.calendars import NO_CLOSURES, Closures, load_closures
from storage.database import writing
from storage.enums import FocalPointRole, OutboxKind, OutboxStatus, PledgeOutcomeKind
from storage.models import FocalPoint, Institution, OutboxMessage
from storage.network import active_on, answering
from storage.pledge_models import PledgeReminderStep
from storage.pledges import Asked, asking

# Reminders before the day pledges are asked by.
BEFORE = (7, 1)
# Pledges with their own Done / Partly / Not buttons in one message.
MAX_PLEDGES = 8
PLEDGE_SHOWN = 120
KEY_PREFIX = "pledges"

# (person, round, phase, step)
Step = tuple[int, int, str, str]


@dataclass
class PledgeSnapshot:
    focal_points: list[Recipient]
    institutions: dict[int, str]
    asked: list[Asked]
    taken: set[Step] = field(default_factory=set)
    # (institution, round, phase) -> the steps delivered to its focal points.
    delivered: dict[tuple[int, int, str], set[str]] = field(default_factory=dict)
    # (institution, round, phase, level) -> the local day that escalation went.
    escalated: dict[tuple[int, int, str, int], date] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    closures: Closures = NO_CLOSURES


@dataclass(frozen=True)
class Item:
    asked: Asked
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


def ask_steps(asked: Asked, policy: Policy, calendar: WorkingTime, until: date) -> list[tuple[str, date]]:
    """(step, day it falls due) up to ``until``, in order: the ask, the
    reminders before the due day (pledging only), then one every
    ``overdue_every`` working days after it."""
    steps = [("ask", asked.starts)]
    if asked.phase == "pledge":
        steps += [(f"before-{n}", asked.due - timedelta(days=n)) for n in BEFORE if asked.due - timedelta(days=n) > asked.starts]
    # Overdue from ``overdue_every`` working days after the due day.
    steps += overdue_steps(calendar.add_working_days(asked.due, policy.overdue_every), policy.overdue_every, policy.overdue_max, calendar, until)
    return [(name, on) for name, on in steps if on <= until]


def _step(person: Recipient, asked: Asked, step: str) -> Step:
    return (person.id, asked.round_id, asked.phase, step)


def plan_day(day: date, snapshot: PledgeSnapshot, policy: Policy, include: Callable[[Recipient], bool] = lambda r: True) -> list[PlannedAsk]:
    """What goes out on local day ``day`` about pledge rounds, to the people ``include`` lets through."""
    out: dict[str, PlannedAsk] = {}

    def calendar(r: Recipient, snoozes: bool = True) -> WorkingTime:
        return policy.calendar_of(r, snapshot.closures, snoozes)

    planned_for = day_messages(day, snapshot.keys, include, calendar, PlannedAsk, out)

    def message(kind: OutboxKind, r: Recipient) -> PlannedAsk | None:
        # Asks and escalations of every round share one message.
        return planned_for(KEY_PREFIX, kind, r)

    by_institution = by_role(snapshot.focal_points)

    for asked in snapshot.asked:
        roles = by_institution.get(asked.institution_id, {})
        primary = answering(roles)
        for person in primary:
            planned = message(OutboxKind.REMINDER, person)
            if planned is None:
                continue
            due = [(n, on) for n, on in ask_steps(asked, policy, calendar(person, False), day) if _step(person, asked, n) not in snapshot.taken]
            if not due:
                continue
            planned.items.append(Item(asked, due[-1][0]))
            planned.taken.append(_step(person, asked, due[-1][0]))
            planned.skipped.extend(_step(person, asked, n) for n, _ in due[:-1])
        _escalate(day, asked, roles, primary, snapshot, policy, calendar, message)
    return [p for p in out.values() if p.items]


def _escalate(
    day: date,
    asked: Asked,
    roles: dict[FocalPointRole, list[Recipient]],
    primary: list[Recipient],
    snapshot: PledgeSnapshot,
    policy: Policy,
    calendar: Callable[..., WorkingTime],
    message: Callable[[OutboxKind, Recipient], PlannedAsk | None],
) -> None:
    """Past the due day only: level 1 once ``escalate_after`` messages were
    delivered, level 2 with the step after that, a later day than level 1."""
    if not primary or day <= asked.due:
        return
    steps = len(ask_steps(asked, policy, calendar(primary[0], False), day))
    delivered = len(snapshot.delivered.get((asked.institution_id, asked.round_id, asked.phase), ()))
    first = snapshot.escalated.get((asked.institution_id, asked.round_id, asked.phase, 1))
    for step, person in escalations(day, policy, roles, primary, steps, delivered, first):
        if _step(person, asked, step) in snapshot.taken:
            continue
        planned = message(OutboxKind.ESCALATION, person)
        if planned is None:
            continue
        planned.items.append(Item(asked, step))
        planned.taken.append(_step(person, asked, step))


def compose(planned: PlannedAsk, snapshot: PledgeSnapshot) -> OutgoingMessage:
    """The words of a planned message, in its reader's language."""
    reader = planned.recipient
    lang = reader.language
    say = sayer(reader)

    lines: list[str] = []
    rows: list[tuple[Button, ...]] = []

    def section(item: Item) -> None:
        asked = item.asked
        institution = snapshot.institutions.get(asked.institution_id, "?")
        if item.step.startswith("escalate-"):
            names = [p.name for p in snapshot.focal_points if p.institution_id == asked.institution_id and p.id != reader.id and p.role is FocalPointRole.TECHNICAL]
            sent = len(snapshot.delivered.get((asked.institution_id, asked.round_id, asked.phase), ()))
            lines.append(say(f"pledge.escalation_{asked.phase}", institution=institution, year=asked.year, names=", ".join(names) or "—", count=max(sent, 1)))
        if asked.phase == "pledge":
            if not item.step.startswith("escalate-"):
                late = planned.day > asked.due
                lines.append(say("pledge.ask_overdue" if late else "pledge.ask_header", institution=institution, year=asked.year, date=local_date(asked.due, lang)))
            if asked.drafts:
                lines.append(say("pledge.ask_drafts", count=asked.drafts))
            lines.append("")
            rows.append((Button(say("button.give_pledges", year=asked.year), f"kpl:{asked.round_id}"),))
            return
        if not item.step.startswith("escalate-"):
            lines.append(say("pledge.report_header", institution=institution, year=asked.year))
        lines.append("")
        for pledge_id, code, text in asked.awaited[:MAX_PLEDGES]:
            lines.append(say("pledge.report_line", code=code, text=shorten(" ".join(text.split()), PLEDGE_SHOWN)))
            rows.append(tuple(
                Button(say(f"button.pledge_{kind.name.lower()}", code=code), f"kout:{pledge_id}:{kind.value}") for kind in PledgeOutcomeKind
            ))
        if len(asked.awaited) > MAX_PLEDGES:
            lines.append(say("pledge.report_more", count=len(asked.awaited) - MAX_PLEDGES))
            rows.append((Button(say("button.give_pledges", year=asked.year), f"kpl:{asked.round_id}"),))
        lines.append("")

    ordered = sorted(planned.items, key=lambda i: (i.step.startswith("escalate-"), i.asked.year, i.asked.institution_id))
    for item in ordered:
        section(item)
    asks = any(not i.step.startswith("escalate-") for i in planned.items)
    lines.append(say("pledge.reminder_footer"))
    if asks:
        rows.append((Button(say("button.snooze_week"), "snooze:7"),))
    key = "pledge.reminder" if asks else "pledge.escalation"
    return OutgoingMessage(key, "\n".join(lines).strip(), tuple(rows), language=lang)


async def load(session: AsyncSession, now: datetime) -> PledgeSnapshot:
    """The registry as the plan needs it: who answers, what is asked, what was sent."""
    today = now.date()
    # A day ahead: the day of someone east of UTC may already have come.
    asked = await asking(session, today + timedelta(days=1))
    if not asked:
        return PledgeSnapshot([], {}, [])
    institutions = {a.institution_id for a in asked}
    focal_identity, _ = await reachable_identities(session)
    focal_points = [
        focal_recipient(fp, focal_identity)
        for fp in await session.scalars(select(FocalPoint).where(active_on(today), FocalPoint.institution_id.in_(institutions)).order_by(FocalPoint.id))
    ]
    snapshot = PledgeSnapshot(
        focal_points, {i: name for i, name in await session.execute(select(Institution.id, Institution.name).where(Institution.id.in_(institutions)))},
        asked, closures=await load_closures(session),
    )
    zones = {fp.id: fp.timezone for fp in focal_points}
    rows = await session.execute(
        select(PledgeReminderStep.focal_point_id, PledgeReminderStep.round_id, PledgeReminderStep.institution_id, PledgeReminderStep.phase,
               PledgeReminderStep.step, PledgeReminderStep.outbox_id, OutboxMessage.status, OutboxMessage.due_at)
        .outerjoin(OutboxMessage, OutboxMessage.id == PledgeReminderStep.outbox_id)
        .where(PledgeReminderStep.round_id.in_({a.round_id for a in asked}))
    )
    for person, round_id, institution, phase, step, outbox_id, status, due_at in rows:
        if outbox_id is not None and status == OutboxStatus.CANCELLED:
            # Withdrawn (a snooze, a closure day): asked again at the next working day.
            continue
        snapshot.taken.add((person, round_id, phase, step))
        if status is None:
            continue
        if step.startswith("escalate-"):
            local = due_at.astimezone(ZoneInfo(zones.get(person, "UTC"))).date()
            key = (institution, round_id, phase, int(step.rsplit("-", 1)[1]))
            snapshot.escalated[key] = min(local, snapshot.escalated.get(key, date.max))
        elif status == OutboxStatus.SENT:
            snapshot.delivered.setdefault((institution, round_id, phase), set()).add(step)
    snapshot.keys = await recent_keys(session, now, f"{KEY_PREFIX}:%")
    return snapshot


async def tick(sessions: async_sessionmaker[AsyncSession], policy: Policy, now: datetime, lead: timedelta) -> int:
    """Plan today's pledge messages of the people whose working window is
    open (or opens within ``lead``), as ReminderService.tick does the
    deadlines'; how many messages were added."""
    async with sessions() as session:
        snapshot = await load(session, now)
    if not snapshot.asked:
        return 0

    planned: list[PlannedAsk] = []
    for day in local_days(policy, snapshot.focal_points, now):
        planned.extend(plan_day(day, snapshot, policy, opening(policy, snapshot.closures, now, lead, day)))
    added = await nobody_asked.tell(sessions, policy, now, lead, unasked(snapshot))
    if not planned:
        return added
    async with writing(sessions) as session:
        return added + await record(session, planned, snapshot, now)


def unasked(snapshot: PledgeSnapshot) -> list[nobody_asked.Unasked]:
    """The institutions a round asks that have nobody in office, or nobody
    there (escalations included) with a chat account: the secretariat is told."""
    people: dict[int, list[Recipient]] = {}
    for fp in snapshot.focal_points:
        people.setdefault(fp.institution_id or 0, []).append(fp)
    return [
        nobody_asked.Unasked(
            "pledge" if a.phase == "pledge" else "pledge_report", f"pledge:{a.round_id}:{a.phase}:{a.institution_id}",
            snapshot.institutions.get(a.institution_id, "?"), a.starts, a.due, year=a.year,
        )
        for a in snapshot.asked
        if nobody_asked.nobody_reachable(people.get(a.institution_id, []))
    ]


async def record(session: AsyncSession, planned: list[PlannedAsk], snapshot: PledgeSnapshot, now: datetime) -> int:
    """The messages and the steps they take, in one transaction; what another
    tick or process planned already is left as it is."""
    news = [new_message(p.key, p.kind, p.recipient, compose(p, snapshot), p.send_at, p.not_after) for p in planned]
    added = await outbox.enqueue_many(session, news)
    institution_of = {fp.id: fp.institution_id for fp in snapshot.focal_points}
    rows = step_rows(planned, added, ("focal_point_id", "round_id", "phase", "step"), now)
    for row in rows:
        # A pledge step keeps the institution it was asked of.
        row["institution_id"] = institution_of[row["focal_point_id"]]
    if rows:
        await retake_withdrawn(session, PledgeReminderStep, rows, ("focal_point_id", "round_id", "phase", "step"))
        await insert_steps(session, PledgeReminderStep, rows)
    return len(added)
