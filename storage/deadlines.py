"""Deadlines: report due dates, follow-up replies, internal input dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.enums import DeadlineKind
from storage.errors import InvalidValue, NotFound
from storage.models import Deadline, Mechanism, deadline_recommendations
from storage.selection import Selector, select_ids

KIND_TITLES = {
    DeadlineKind.TREATY_REPORT: "periodic report",
    DeadlineKind.LIST_OF_ISSUES_REPLY: "reply to the list of issues",
    DeadlineKind.FOLLOW_UP_INFORMATION: "follow-up information",
    DeadlineKind.UPR_MIDTERM: "UPR mid-term report",
    DeadlineKind.UPR_NATIONAL_REPORT: "UPR national report",
    DeadlineKind.INTERNAL_INPUT: "internal input deadline",
    DeadlineKind.INFORMATION_REQUEST: "information request",
}


@dataclass(frozen=True)
class DeadlineData:
    kind: DeadlineKind
    due_on: date
    title: str | None = None
    mechanism_code: str | None = None
    parent_id: int | None = None
    notes: str | None = None


async def add_deadline(session: AsyncSession, data: DeadlineData, selector: Selector | None = None) -> Deadline:
    mechanism = None
    if data.mechanism_code:
        mechanism = await session.scalar(select(Mechanism).where(Mechanism.code.ilike(data.mechanism_code)))
        if mechanism is None:
            raise NotFound(f"no mechanism {data.mechanism_code!r} (UPR, CEDAW, CRC, ...)")
    if data.kind in (DeadlineKind.UPR_MIDTERM, DeadlineKind.UPR_NATIONAL_REPORT) and mechanism and mechanism.code != "UPR":
        raise InvalidValue(f"a {data.kind.value} deadline belongs to the UPR, not {mechanism.code}")
    parent = None
    if data.parent_id is not None:
        parent = await session.get(Deadline, data.parent_id)
        if parent is None:
            raise NotFound(f"no deadline with id {data.parent_id}")
        if data.due_on > parent.due_on:
            raise InvalidValue(f"an input deadline ({data.due_on}) after the deadline it serves ({parent.due_on})")
    title = (data.title or "").strip() or deadline_title(data.kind, mechanism.code if mechanism else None)
    if len(title) > 300:
        raise InvalidValue(f"a title is at most 300 characters, got {len(title)}")
    deadline = Deadline(
        kind=data.kind,
        title=title,
        due_on=data.due_on,
        mechanism_id=mechanism.id if mechanism else None,
        parent_id=parent.id if parent else None,
        notes=data.notes,
    )
    session.add(deadline)
    await session.flush()
    if selector is not None and not selector.is_empty():
        ids = await select_ids(session, selector)
        await session.execute(
            deadline_recommendations.insert(), [{"deadline_id": deadline.id, "recommendation_id": i} for i in ids]
        )
    return deadline


def deadline_title(kind: DeadlineKind, mechanism_code: str | None) -> str:
    """'CEDAW follow-up information'; 'UPR mid-term report', not 'UPR UPR ...'."""
    title = KIND_TITLES[kind]
    if mechanism_code is None or title.startswith(mechanism_code):
        return title[0].upper() + title[1:]
    return f"{mechanism_code} {title}"


async def list_deadlines(
    session: AsyncSession,
    *,
    kind: DeadlineKind | None = None,
    due_from: date | None = None,
    due_to: date | None = None,
    mechanism: str | None = None,
) -> list[tuple[Deadline, int]]:
    """Deadlines by due date, each with how many recommendations it covers."""
    counts = (
        select(deadline_recommendations.c.deadline_id, func.count().label("n"))
        .group_by(deadline_recommendations.c.deadline_id)
        .subquery()
    )
    statement = (
        select(Deadline, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.deadline_id == Deadline.id)
        .options(selectinload(Deadline.mechanism))
        .order_by(Deadline.due_on, Deadline.id)
    )
    if kind:
        statement = statement.where(Deadline.kind == kind)
    if due_from:
        statement = statement.where(Deadline.due_on >= due_from)
    if due_to:
        statement = statement.where(Deadline.due_on <= due_to)
    if mechanism:
        statement = statement.join(Mechanism, Mechanism.id == Deadline.mechanism_id).where(
            Mechanism.code.ilike(mechanism)
        )
    return [(d, n) for d, n in await session.execute(statement)]
