"""Deadlines: report due dates, follow-up replies, internal input dates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.enums import DeadlineKind
from storage.errors import InvalidValue, NotFound
from storage.matching import same_name
from storage.models import Deadline, InformationRequest, Mechanism, deadline_recommendations
from storage.selection import Selector, select_ids


@dataclass(frozen=True)
class DeadlineData:
    kind: DeadlineKind
    due_on: date
    title: str | None = None
    mechanism_code: str | None = None
    parent_id: int | None = None
    notes: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class DeadlineName:
    """What a deadline is called, kept apart from any language: the
    secretariat's own title, or its kind, mechanism and State (an input
    deadline with no title is named after the report it serves)."""

    kind: DeadlineKind
    title: str | None = None
    mechanism: str | None = None
    country: str | None = None
    serves: DeadlineName | None = None
    request_id: int | None = None

    @classmethod
    def of(cls, deadline: Deadline, request_id: int | None = None, *, served: bool = False) -> DeadlineName:
        """Needs ``mechanism`` and ``parent`` (with its mechanism) loaded: see NAME_OPTIONS."""
        parent = None if served or deadline.title is not None else deadline.parent
        return cls(
            deadline.kind, deadline.title, deadline.mechanism.code if deadline.mechanism else None, deadline.country,
            cls.of(parent, served=True) if parent is not None else None, request_id,
        )


# Loader options for DeadlineName.of, for a query of Deadline rows.
NAME_OPTIONS = (selectinload(Deadline.mechanism), selectinload(Deadline.parent).selectinload(Deadline.mechanism))


async def request_numbers(session: AsyncSession, deadline_ids: Iterable[int]) -> dict[int, int]:
    """Deadline id to the number of the information request it follows."""
    wanted = set(deadline_ids)
    if not wanted:
        return {}
    rows = await session.execute(select(InformationRequest.deadline_id, InformationRequest.id).where(InformationRequest.deadline_id.in_(wanted)))
    return {deadline_id: request_id for deadline_id, request_id in rows if deadline_id is not None}


async def deadline_names(session: AsyncSession, ids: Iterable[int]) -> dict[int, DeadlineName]:
    """Each deadline's name, a request's deadline with its request's number."""
    wanted = set(ids)
    if not wanted:
        return {}
    requests = await request_numbers(session, wanted)
    found = await session.scalars(select(Deadline).where(Deadline.id.in_(wanted)).options(*NAME_OPTIONS))
    return {d.id: DeadlineName.of(d, requests.get(d.id)) for d in found}


async def add_deadline(session: AsyncSession, data: DeadlineData, selector: Selector | None = None) -> Deadline:
    mechanism = None
    if data.mechanism_code:
        mechanism = await session.scalar(select(Mechanism).where(same_name(Mechanism.code, data.mechanism_code)))
        if mechanism is None:
            raise NotFound(
                f"no mechanism {data.mechanism_code!r} (UPR, CEDAW, CRC, ...)",
                key="refusal.deadlines.unknown_mechanism", values={"mechanism": data.mechanism_code.strip()[:40]},
            )
    if data.kind in (DeadlineKind.UPR_MIDTERM, DeadlineKind.UPR_NATIONAL_REPORT) and mechanism and mechanism.code != "UPR":
        raise InvalidValue(
            f"a {data.kind.value} deadline belongs to the UPR, not {mechanism.code}", key="refusal.deadlines.upr_only", values={"mechanism": mechanism.code}
        )
    parent = None
    if data.parent_id is not None:
        parent = await session.get(Deadline, data.parent_id)
        if parent is None:
            raise NotFound(f"no deadline with id {data.parent_id}", key="refusal.deadlines.unknown", values={"id": data.parent_id})
        if data.due_on > parent.due_on:
            raise InvalidValue(
                f"an input deadline ({data.due_on}) after the deadline it serves ({parent.due_on})",
                key="refusal.deadlines.input_after_report", values={"due": data.due_on, "report_due": parent.due_on, "report": parent.id},
            )
    title = (data.title or "").strip() or None
    if title and len(title) > 300:
        raise InvalidValue(f"a title is at most 300 characters, got {len(title)}", key="refusal.deadlines.long_title", values={"count": 300, "length": len(title)})
    country = (data.country or "").strip() or None
    if country and len(country) > 200:
        raise InvalidValue(
            f"a State's name is at most 200 characters, got {len(country)}", key="refusal.deadlines.long_country", values={"count": 200, "length": len(country)}
        )
    deadline = Deadline(
        kind=data.kind,
        title=title,
        country=country,
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
        .options(*NAME_OPTIONS)
        # A withdrawn deadline is kept for the history (storage.deadline_changes), out of every list.
        .where(Deadline.withdrawn_at.is_(None))
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
            same_name(Mechanism.code, mechanism)
        )
    return [(d, n) for d, n in await session.execute(statement)]
