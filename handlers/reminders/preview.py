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

from collections.abc import Callable
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


async def plan_rows(session: AsyncSession, policy: Policy, first: date, last: date) -> list[PreviewRow]:
    """Every action, indicator and pledge message the plan holds from ``first`` to ``last`` (local days)."""
    rows: list[PreviewRow] = []
    actions: action_dates.ActionSnapshot | None = None
    indicators: indicator_dates.IndicatorSnapshot | None = None
    pledges: pledge_dates.PledgeSnapshot | None = None
    day = first
    while day <= last:
        now = _moment(day)

        actions = _carry(await action_dates.load(session, now), actions)
        assert actions is not None
        planned_actions = action_dates.plan_day(day, actions, policy)
        _apply(actions, planned_actions, None, None)
        for p in planned_actions:
            for action, step in p.items:
                rows.append(PreviewRow(
                    p.recipient, p.send_at, OutboxKind.REMINDER, actions.institutions.get(action.institution_id), step,
                    f"action {action.code}", action.target_date, action.code,
                ))

        indicators = _carry(await indicator_dates.load(session, now), indicators)
        assert indicators is not None
        planned_asks = indicator_dates.plan_day(day, indicators, policy)
        _apply(
            indicators, planned_asks,
            lambda item, p: (item.request.institution_id, item.request.indicator_id, item.request.due_on),
            lambda item, p, level: (item.request.institution_id, item.request.indicator_id, item.request.due_on, level),
        )
        for p in planned_asks:
            for item in p.items:
                r = item.request
                rows.append(PreviewRow(
                    p.recipient, p.send_at, p.kind if not item.step.startswith("escalate-") else OutboxKind.ESCALATION,
                    indicators.institutions.get(r.institution_id), item.step, f"indicator {r.code}", r.due_on,
                    f"{r.period[0].isoformat()}..{r.period[1].isoformat()}",
                ))
            if p.late:
                rows.append(PreviewRow(
                    p.recipient, p.send_at, OutboxKind.OVERDUE_DIGEST, None, "overdue", "indicators", None,
                    ", ".join(dict.fromkeys(r.code for r in p.late)) + " late",
                ))

        pledges = _carry(await pledge_dates.load(session, now), pledges)
        assert pledges is not None
        planned_pledges = pledge_dates.plan_day(day, pledges, policy)
        _apply(
            pledges, planned_pledges,
            lambda item, p: (item.asked.institution_id, item.asked.round_id, item.asked.phase),
            lambda item, p, level: (item.asked.institution_id, item.asked.round_id, item.asked.phase, level),
        )
        for p in planned_pledges:
            for item in p.items:
                a = item.asked
                about = f"pledges {a.year}" if a.phase == "pledge" else f"pledges {a.year} report-back"
                shown = ", ".join(code for _, code, _ in a.awaited) if a.phase == "report" else f"{a.drafts} draft(s)"
                rows.append(PreviewRow(
                    p.recipient, p.send_at, OutboxKind.ESCALATION if item.step.startswith("escalate-") else OutboxKind.REMINDER,
                    pledges.institutions.get(a.institution_id), item.step, about, a.due, shown,
                ))
        day += timedelta(days=1)
    return sorted(rows, key=lambda r: (r.send_at, r.recipient.name, r.about))
