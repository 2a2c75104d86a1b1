"""Priorities as they stood at a moment (issue 15): read from
priority_changes (storage.priority_models), which storage.priorities.refresh
appends to whenever a level or what it rests on changes, so a report "as
of" a past day, and `priorities show --as-of`, tell the priority of then.

A recommendation with no history at all (the registry was written before
history began, or a test's row) has had its priority since ever: it reads
as recommendations.priority, as before. One with history only after the
moment had no priority yet."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.enums import Priority
from storage.models import Recommendation
from storage.priorities import Code, Criterion, PriorityView, explain_many, latest_changes
from storage.priority_models import PriorityChange

_CHUNK = 2000


def priority_column(as_of: datetime | None) -> ColumnElement[Priority | None]:
    """The effective priority at ``as_of`` as SQL, for SELECT, WHERE and
    ORDER BY (storage.priority_order.priority_rank); None: now."""
    if as_of is None:
        return Recommendation.priority
    kept = (
        select(PriorityChange.priority)
        .where(PriorityChange.recommendation_id == Recommendation.id, PriorityChange.at <= as_of)
        .order_by(PriorityChange.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    never = ~exists().where(PriorityChange.recommendation_id == Recommendation.id)
    return case((never, Recommendation.priority), else_=kept)


def view_of(change: PriorityChange) -> PriorityView:
    """A kept row as the view storage.priorities.explain gives (the reasons
    as they stood; none for a row kept when history began, cause "migration")."""
    criteria = [
        Criterion(Code(c["code"]), c.get("met"), str(c.get("source")), dict(c.get("detail") or {})) for c in change.criteria or []
    ]
    return PriorityView(
        recommendation_id=change.recommendation_id, level=change.priority, criteria=criteria,
        overridden=change.overridden, override_reason=change.override_reason, computed=change.computed,
    )


async def views_as_of(
    session: AsyncSession, recommendation_ids: Iterable[int], as_of: datetime | None, *, existing: bool = False,
) -> dict[int, PriorityView]:
    """Each recommendation's priority and reasons at ``as_of`` (None: now,
    worked out from the data); left out: one that had no priority yet;
    ``existing``: the ids were just read (storage.priorities.explain_many)."""
    ids = sorted(set(recommendation_ids))
    if as_of is None:
        return await explain_many(session, ids, existing=existing)
    views: dict[int, PriorityView] = {}
    for start in range(0, len(ids), _CHUNK):
        part = ids[start:start + _CHUNK]
        kept = await latest_changes(session, part, as_of)
        views.update({rid: view_of(change) for rid, change in kept.items()})
        missing = [rid for rid in part if rid not in kept]
        if missing:
            with_history = set((await session.scalars(
                select(PriorityChange.recommendation_id).where(PriorityChange.recommendation_id.in_(missing)).distinct()
            )).all())
            views.update(await explain_many(session, [rid for rid in missing if rid not in with_history], existing=existing))
    return views


async def change_as_of(session: AsyncSession, recommendation_id: int, as_of: datetime) -> PriorityChange | None:
    """The change in force at ``as_of``: who made it, when and why."""
    return (await latest_changes(session, [recommendation_id], as_of)).get(recommendation_id)


async def history(session: AsyncSession, recommendation_id: int) -> list[PriorityChange]:
    """Every kept change of the recommendation's priority, oldest first."""
    return list((await session.scalars(
        select(PriorityChange).where(PriorityChange.recommendation_id == recommendation_id).order_by(PriorityChange.id)
    )).all())
