"""Status updates: every report kept, the current status derived from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.enums import Channel, EvidenceKind, ImplementationStatus
from storage.errors import InvalidValue, NotFound
from storage.idempotent import add_once
from storage.models import Evidence, Recommendation, StatusUpdate
from storage.types import utcnow


@dataclass(frozen=True)
class EvidenceData:
    kind: EvidenceKind
    url: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None
    platform_file_id: str | None = None


@dataclass(frozen=True)
class UpdateData:
    recommendation_id: int
    status: ImplementationStatus
    author_label: str
    channel: Channel
    institution_id: int | None = None
    narrative: str | None = None
    next_step: str | None = None
    next_step_due_on: date | None = None
    author_focal_point_id: int | None = None
    author_secretariat_user_id: int | None = None
    corrects_id: int | None = None
    idempotency_key: str | None = None
    evidence: Sequence[EvidenceData] = ()


async def record_update(session: AsyncSession, data: UpdateData, at: datetime | None = None) -> StatusUpdate:
    """Append one update. With an ``idempotency_key`` seen before, return the
    stored update instead of adding a second one (a redelivered message)."""
    earlier = await _by_key(session, data.idempotency_key) if data.idempotency_key else None
    if earlier is not None:
        return earlier
    if await session.get(Recommendation, data.recommendation_id) is None:
        raise NotFound(f"no recommendation with id {data.recommendation_id}")
    if data.corrects_id is not None:
        corrected = await session.get(StatusUpdate, data.corrects_id)
        if corrected is None or corrected.recommendation_id != data.recommendation_id:
            raise InvalidValue(f"update {data.corrects_id} is not an update of recommendation {data.recommendation_id}")
    update = StatusUpdate(
        recommendation_id=data.recommendation_id,
        institution_id=data.institution_id,
        status=data.status,
        narrative=data.narrative,
        next_step=data.next_step,
        next_step_due_on=data.next_step_due_on,
        author_focal_point_id=data.author_focal_point_id,
        author_secretariat_user_id=data.author_secretariat_user_id,
        author_label=data.author_label,
        channel=data.channel,
        corrects_id=data.corrects_id,
        idempotency_key=data.idempotency_key,
        created_at=at or utcnow(),
        evidence=[Evidence(**vars(e)) for e in data.evidence],
    )
    stored = await add_once(session, update, data.idempotency_key)
    if stored is not update:
        # Two deliveries raced past the check above; the first one's, with its evidence.
        return await _by_key(session, data.idempotency_key) or stored  # type: ignore[arg-type]
    return update


async def _by_key(session: AsyncSession, key: str) -> StatusUpdate | None:
    return await session.scalar(
        select(StatusUpdate).where(StatusUpdate.idempotency_key == key).options(selectinload(StatusUpdate.evidence))
    )


def latest_update_ids(as_of: datetime | None = None) -> Select[tuple[int, int]]:
    """(recommendation_id, id of its latest update), optionally as history stood at ``as_of``."""
    statement = select(StatusUpdate.recommendation_id, func.max(StatusUpdate.id).label("update_id"))
    if as_of is not None:
        statement = statement.where(StatusUpdate.created_at <= as_of)
    return statement.group_by(StatusUpdate.recommendation_id)


def institution_latest_ids(as_of: datetime | None = None) -> Select[tuple[int, int | None, int]]:
    """(recommendation_id, institution_id, id of that institution's latest update);
    the secretariat's own records (no institution) are one more group, with
    institution_id NULL. Optionally as history stood at ``as_of``. A correction
    is an update like any other: the newest (highest id) wins."""
    statement = select(
        StatusUpdate.recommendation_id, StatusUpdate.institution_id, func.max(StatusUpdate.id).label("update_id")
    )
    if as_of is not None:
        statement = statement.where(StatusUpdate.created_at <= as_of)
    return statement.group_by(StatusUpdate.recommendation_id, StatusUpdate.institution_id)


async def institution_status(
    session: AsyncSession, recommendation_id: int, institution_id: int, as_of: datetime | None = None
) -> StatusUpdate | None:
    """That institution's own latest update of the recommendation (as of a
    moment), or None while it has never answered. Another institution's
    update, or the secretariat's, is never returned."""
    statement = (
        select(StatusUpdate)
        .where(StatusUpdate.recommendation_id == recommendation_id, StatusUpdate.institution_id == institution_id)
        .options(selectinload(StatusUpdate.evidence))
        .order_by(StatusUpdate.id.desc())
        .limit(1)
    )
    if as_of is not None:
        statement = statement.where(StatusUpdate.created_at <= as_of)
    return await session.scalar(statement)


async def current_status(
    session: AsyncSession, recommendation_id: int, as_of: datetime | None = None
) -> ImplementationStatus:
    latest = latest_update_ids(as_of).where(StatusUpdate.recommendation_id == recommendation_id).subquery()
    status = await session.scalar(select(StatusUpdate.status).join(latest, latest.c.update_id == StatusUpdate.id))
    return status or ImplementationStatus.NOT_STARTED


async def history(session: AsyncSession, recommendation_id: int) -> list[StatusUpdate]:
    return list(
        (
            await session.scalars(
                select(StatusUpdate)
                .where(StatusUpdate.recommendation_id == recommendation_id)
                .options(selectinload(StatusUpdate.evidence))
                .order_by(StatusUpdate.id)
            )
        ).all()
    )
