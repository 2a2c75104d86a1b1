"""What the assignment notices and the hand-over read and record: recent
assignments and who was told of them, each item's deadline, an institution's
open items with their last update, and who succeeds whom.

The rule they serve is in handlers.assignment_notices.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.deadlines import DeadlineName, deadline_names
from storage.enums import AssignmentRole, ImplementationStatus
from storage.models import (
    Assignment,
    AssignmentNotice,
    ChatIdentity,
    Deadline,
    FocalPoint,
    Mechanism,
    Recommendation,
    StatusUpdate,
    deadline_recommendations,
)
from storage.network import active_on

_CHUNK = 500
# An item is open until its institution says it is done with it.
CLOSED = frozenset({ImplementationStatus.FULLY_IMPLEMENTED, ImplementationStatus.NOT_APPLICABLE})


@dataclass(frozen=True)
class Assigned:
    id: int
    recommendation_id: int
    institution_id: int
    role: AssignmentRole
    assigned_at: datetime


@dataclass(frozen=True)
class ItemDeadline:
    name: DeadlineName
    due_on: date


@dataclass(frozen=True)
class LastUpdate:
    status: ImplementationStatus
    at: datetime
    author: str
    narrative: str | None


@dataclass(frozen=True)
class OpenItem:
    recommendation_id: int
    role: AssignmentRole
    last: LastUpdate | None


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


async def untold_since(session: AsyncSession, focal_point_ids: Iterable[int], since: datetime) -> dict[int, list[Assigned]]:
    """For each of these people, what was assigned to their institution after
    ``since`` and after they joined, and not yet told to them, oldest first. The database leaves out
    what was told (the notices' primary key answers each probe), so a large
    import costs the planner nothing once it has been told."""
    told = select(AssignmentNotice.assignment_id).where(
        AssignmentNotice.focal_point_id == FocalPoint.id, AssignmentNotice.assignment_id == Assignment.id
    )
    # What was assigned before the bot could first write to them is not news
    # to them: it is in their list (and, for a successor, in their hand-over).
    joined = select(func.min(ChatIdentity.created_at)).where(ChatIdentity.focal_point_id == FocalPoint.id).scalar_subquery()
    found: dict[int, list[Assigned]] = defaultdict(list)
    for chunk in _chunks(sorted(set(focal_point_ids))):
        rows = await session.execute(
            select(FocalPoint.id, Assignment.id, Assignment.recommendation_id, Assignment.institution_id, Assignment.role, Assignment.assigned_at)
            .join(Assignment, Assignment.institution_id == FocalPoint.institution_id)
            .where(FocalPoint.id.in_(chunk), Assignment.assigned_at > since, Assignment.assigned_at > joined, ~told.exists())
            .order_by(Assignment.assigned_at, Assignment.id)
        )
        for person, *assignment in rows:
            found[person].append(Assigned(*assignment))
    return found


async def notice_days(session: AsyncSession, focal_point_ids: Iterable[int], since_day: date) -> dict[int, set[date]]:
    """The local days, from ``since_day``, each person was sent a notice on."""
    days: dict[int, set[date]] = defaultdict(set)
    for chunk in _chunks(sorted(set(focal_point_ids))):
        rows = await session.execute(
            select(AssignmentNotice.focal_point_id, AssignmentNotice.day).distinct()
            .where(AssignmentNotice.focal_point_id.in_(chunk), AssignmentNotice.day >= since_day)
        )
        for person, day in rows:
            days[person].add(day)
    return days


async def record_told(session: AsyncSession, focal_point_id: int, assignment_ids: Iterable[int], day: date, outbox_id: int, now: datetime) -> None:
    rows = [
        {"focal_point_id": focal_point_id, "assignment_id": a, "day": day, "outbox_id": outbox_id, "created_at": now}
        for a in assignment_ids
    ]
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = module.insert(AssignmentNotice).on_conflict_do_nothing()
    for start in range(0, len(rows), 1000):
        await session.execute(statement, rows[start:start + 1000])


async def labels(session: AsyncSession, recommendation_ids: Iterable[int]) -> dict[int, str]:
    """'UPR 118.5': the mechanism and paragraph, as the reminders show them."""
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(set(recommendation_ids))):
        rows = await session.execute(
            select(Recommendation.id, Mechanism.code, Recommendation.paragraph).join(Mechanism).where(Recommendation.id.in_(chunk))
        )
        found.update({rec: f"{code} {paragraph or ''}".strip() for rec, code, paragraph in rows})
    return found


async def item_deadlines(session: AsyncSession, recommendation_ids: Iterable[int], today: date) -> dict[int, ItemDeadline]:
    """Each item's deadline: the next one due, or if all have passed, the last one."""
    links: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for chunk in _chunks(sorted(set(recommendation_ids))):
        rows = await session.execute(
            select(deadline_recommendations.c.recommendation_id, Deadline.id, Deadline.due_on)
            .join(Deadline, Deadline.id == deadline_recommendations.c.deadline_id)
            .where(deadline_recommendations.c.recommendation_id.in_(chunk), Deadline.withdrawn_at.is_(None))
        )
        for rec, deadline_id, due_on in rows:
            links[rec].append((due_on, deadline_id))
    chosen: dict[int, tuple[date, int]] = {}
    for rec, dues in links.items():
        coming = sorted(d for d in dues if d[0] >= today)
        chosen[rec] = coming[0] if coming else max(dues)
    names = await deadline_names(session, {d for _, d in chosen.values()})
    return {rec: ItemDeadline(names[d], due) for rec, (due, d) in chosen.items() if d in names}


async def open_items(session: AsyncSession, institution_id: int) -> list[OpenItem]:
    """The institution's items it has not called done, each with the last
    update it gave (None: never answered), in id order."""
    assigned = dict(
        (await session.execute(
            select(Assignment.recommendation_id, Assignment.role).where(Assignment.institution_id == institution_id)
        )).all()
    )
    latest = (
        select(func.max(StatusUpdate.id).label("id"))
        .where(StatusUpdate.institution_id == institution_id)
        .group_by(StatusUpdate.recommendation_id)
        .subquery()
    )
    last: dict[int, LastUpdate] = {}
    for update in await session.scalars(select(StatusUpdate).join(latest, latest.c.id == StatusUpdate.id)):
        last[update.recommendation_id] = LastUpdate(update.status, update.created_at, update.author_label, update.narrative)
    return [
        OpenItem(rec, role, last.get(rec))
        for rec, role in sorted(assigned.items())
        if rec not in last or last[rec].status not in CLOSED
    ]


async def successors(session: AsyncSession, today: date, newcomer_days: int) -> list[tuple[FocalPoint, list[FocalPoint]]]:
    """Focal points in office who started within ``newcomer_days`` of today,
    each with the predecessors they succeed: another focal point of the same
    institution whose term is closed, and who either left before the newcomer
    began, or had their term closed before the newcomer was added (a
    hand-over with some overlap). Colleagues who were there already when a
    term was closed are nobody's successors."""
    recent = list((await session.scalars(
        select(FocalPoint).where(active_on(today), FocalPoint.active_from >= date.fromordinal(today.toordinal() - newcomer_days))
        .options(selectinload(FocalPoint.institution)).order_by(FocalPoint.id)
    )).all())
    if not recent:
        return []
    ended = list((await session.scalars(
        select(FocalPoint).where(FocalPoint.active_to.is_not(None), FocalPoint.institution_id.in_({p.institution_id for p in recent}))
        .order_by(FocalPoint.active_to, FocalPoint.id)
    )).all())
    found = []
    for person in recent:
        before = [
            p for p in ended
            if p.institution_id == person.institution_id and p.id != person.id and p.active_to is not None
            and (p.active_to < person.active_from or p.updated_at < person.created_at)
        ]
        if before:
            found.append((person, before))
    return found
