"""The implementation plan's reminders in ``reminders preview`` (issue 16):
an action's target date, an indicator's due dates and a pledge round's
asking, each planned day by day from ``first`` to ``last`` by the same
``plan_day`` their ticks use, as if every message went out and nobody
answered, as the deadlines' preview does (handlers.reminders.plan.simulate).

Each day reads what is asked that day (an indicator's due date that has
come, an action whose target date is near, a round's phase), and carries
what the days before planned: the steps taken, the requests delivered,
the escalations sent, the outbox keys. Nothing is sent or stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.reminders import action_dates, indicator_dates, pledge_dates
from handlers.reminders.plan import Policy, Recipient
from storage.enums import OutboxKind


@dataclass(frozen=True)
class PreviewRow:
    """One line of the preview: who, when, which step of what."""

    recipient: Recipient
    send_at: datetime
    kind: OutboxKind
    institution: str | None
    step: str
    # What it is about, in the command line's words: "action A-1", "indicator I-3", "pledges 2027".
    about: str
    due_on: date | None
    items: str


def _moment(day: date) -> datetime:
    # Midday UTC: the loads read "today" as its UTC date, and a day ahead for the zones east of it.
    return datetime.combine(day, time(12), tzinfo=UTC)


def _carry(loaded: Any, simulated: Any | None) -> Any:
    """The day's snapshot with what the days before planned added to what the database holds."""
    if simulated is None:
        return loaded
    loaded.taken |= simulated.taken
    loaded.keys |= simulated.keys
    for name in ("delivered", "escalated"):
        if hasattr(loaded, name):
            mine, before = getattr(loaded, name), getattr(simulated, name)
            for key, value in before.items():
                if isinstance(value, set):
                    mine.setdefault(key, set()).update(value)
                else:
                    mine[key] = min(value, mine.get(key, value))
    return loaded


def _apply(snapshot: Any, planned: list[Any], delivered: Callable[[Any, Any], tuple[Any, ...]] | None, escalated: Callable[[Any, Any, int], tuple[Any, ...]] | None) -> None:
    """Record the day's messages in the snapshot as if sent and not answered."""
    for p in planned:
        snapshot.keys.add(p.key)
        snapshot.taken.update(p.taken)
        snapshot.taken.update(p.skipped)
        if delivered is None or escalated is None:
            continue
        for item in p.items:
            if item.step.startswith("escalate-"):
                snapshot.escalated.setdefault(escalated(item, p, int(item.step.rsplit("-", 1)[1])), p.day)
            else:
                snapshot.delivered.setdefault(delivered(item, p), set()).add(item.step)


@dataclass(frozen=True)
class Kind:
    """One kind of the implementation plan's messages, as the preview plans it."""

    load: Callable[[AsyncSession, datetime], Awaitable[Any]]
    plan_day: Callable[[date, Any, Policy], list[Any]]
    # The snapshot's keys of an item (and the planned message carrying it):
    # of its delivered requests, and of its escalations at a level. None: the
    # kind counts neither (an action's target date is never escalated).
    delivered: Callable[[Any, Any], tuple[Any, ...]] | None
    escalated: Callable[[Any, Any, int], tuple[Any, ...]] | None
    # A planned message's lines of the preview, read with the day's snapshot.
    rows: Callable[[Any, Any], list[PreviewRow]]


def _action_rows(p: action_dates.PlannedReminder, snapshot: action_dates.ActionSnapshot) -> list[PreviewRow]:
    return [
        PreviewRow(
            p.recipient, p.send_at, OutboxKind.REMINDER, snapshot.institutions.get(action.institution_id), step,
            f"action {action.code}", action.target_date, action.code,
        )
        for action, step in p.items
    ]


def _indicator_rows(p: indicator_dates.PlannedAsk, snapshot: indicator_dates.IndicatorSnapshot) -> list[PreviewRow]:
    rows = []
    for item in p.items:
        r = item.request
        rows.append(PreviewRow(
            p.recipient, p.send_at, p.kind if not item.step.startswith("escalate-") else OutboxKind.ESCALATION,
            snapshot.institutions.get(r.institution_id), item.step, f"indicator {r.code}", r.due_on,
            f"{r.period[0].isoformat()}..{r.period[1].isoformat()}",
        ))
    if p.late:
        rows.append(PreviewRow(
            p.recipient, p.send_at, OutboxKind.OVERDUE_DIGEST, None, "overdue", "indicators", None,
            ", ".join(dict.fromkeys(r.code for r in p.late)) + " late",
        ))
    return rows


def _pledge_rows(p: pledge_dates.PlannedAsk, snapshot: pledge_dates.PledgeSnapshot) -> list[PreviewRow]:
    rows = []
    for item in p.items:
        a = item.asked
        about = f"pledges {a.year}" if a.phase == "pledge" else f"pledges {a.year} report-back"
        shown = ", ".join(code for _, code, _ in a.awaited) if a.phase == "report" else f"{a.drafts} draft(s)"
        rows.append(PreviewRow(
            p.recipient, p.send_at, OutboxKind.ESCALATION if item.step.startswith("escalate-") else OutboxKind.REMINDER,
            snapshot.institutions.get(a.institution_id), item.step, about, a.due, shown,
        ))
    return rows


# In the order each day plans them.
KINDS = (
    Kind(action_dates.load, action_dates.plan_day, None, None, _action_rows),
    Kind(
        indicator_dates.load, indicator_dates.plan_day,
        lambda item, p: (item.request.institution_id, item.request.indicator_id, item.request.due_on),
        lambda item, p, level: (item.request.institution_id, item.request.indicator_id, item.request.due_on, level),
        _indicator_rows,
    ),
    Kind(
        pledge_dates.load, pledge_dates.plan_day,
        lambda item, p: (item.asked.institution_id, item.asked.round_id, item.asked.phase),
        lambda item, p, level: (item.asked.institution_id, item.asked.round_id, item.asked.phase, level),
        _pledge_rows,
    ),
)


async def plan_rows(session: AsyncSession, policy: Policy, first: date, last: date) -> list[PreviewRow]:
    """Every action, indicator and pledge message the plan holds from ``first`` to ``last`` (local days)."""
    rows: list[PreviewRow] = []
    # Each kind's snapshot, carried from day to day.
    snapshots: list[Any | None] = [None] * len(KINDS)
    day = first
    while day <= last:
        now = _moment(day)
        for n, kind in enumerate(KINDS):
            snapshot = snapshots[n] = _carry(await kind.load(session, now), snapshots[n])
            planned = kind.plan_day(day, snapshot, policy)
            _apply(snapshot, planned, kind.delivered, kind.escalated)
            for p in planned:
                rows.extend(kind.rows(p, snapshot))
        day += timedelta(days=1)
    return sorted(rows, key=lambda r: (r.send_at, r.recipient.name, r.about))
