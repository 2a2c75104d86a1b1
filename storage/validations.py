"""Validation: an institution's senior or validating focal point approves its
input before it counts as final, or returns it with a comment.

Only the latest update an institution gave on a recommendation is up for
validation; a new update needs a new look. Validations are append-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import FocalPointRole, ValidationDecision
from storage.errors import InvalidValue, NotFound
from storage.idempotent import add_once, seen
from storage.models import FocalPoint, StatusUpdate, Validation

VALIDATING_ROLES = (FocalPointRole.VALIDATOR, FocalPointRole.SENIOR)


def can_validate(person: FocalPoint) -> bool:
    return person.role in VALIDATING_ROLES


def _latest_per_institution(institution_id: int, as_of: datetime | None = None):  # type: ignore[no-untyped-def]
    newest = select(func.max(StatusUpdate.id)).where(StatusUpdate.institution_id == institution_id)
    if as_of is not None:
        newest = newest.where(StatusUpdate.created_at <= as_of)
    return newest.group_by(StatusUpdate.recommendation_id)


def _waiting(institution_id: int) -> list[Any]:
    """Conditions: the institution's latest input on its recommendation, not yet judged."""
    return [
        StatusUpdate.id.in_(_latest_per_institution(institution_id)),
        StatusUpdate.id.not_in(select(Validation.status_update_id)),
    ]


async def pending(session: AsyncSession, institution_id: int, limit: int = 20) -> list[StatusUpdate]:
    """The institution's latest inputs that nobody has validated yet, oldest first."""
    statement = select(StatusUpdate).where(*_waiting(institution_id)).order_by(StatusUpdate.id).limit(limit)
    return list((await session.scalars(statement)).all())


async def is_pending(session: AsyncSession, institution_id: int, update_id: int) -> bool:
    """Whether this update is one the institution's validator may still judge."""
    found = await session.scalar(select(StatusUpdate.id).where(StatusUpdate.id == update_id, *_waiting(institution_id)))
    return found is not None


async def validate(
    session: AsyncSession,
    update_id: int,
    decision: ValidationDecision,
    validator: FocalPoint,
    at: datetime,
    *,
    comment: str | None = None,
    idempotency_key: str | None = None,
) -> Validation:
    if not can_validate(validator):
        raise InvalidValue(f"{validator.name} is a {validator.role.value} focal point; validation is for senior or validating ones")
    update = await session.get(StatusUpdate, update_id)
    if update is None or update.institution_id != validator.institution_id:
        raise NotFound(f"no update {update_id} of {validator.name}'s institution")
    earlier = await seen(session, Validation, idempotency_key)
    if earlier is not None:
        return earlier
    if decision is ValidationDecision.RETURNED and not (comment or "").strip():
        raise InvalidValue("returning an input needs a comment saying what to correct")
    row = Validation(
        status_update_id=update_id, decision=decision, validator_focal_point_id=validator.id,
        validator_label=validator.name, comment=(comment or "").strip() or None, idempotency_key=idempotency_key, created_at=at,
    )
    return await add_once(session, row, idempotency_key)


async def decisions(
    session: AsyncSession, update_ids: list[int], as_of: datetime | None = None
) -> dict[int, tuple[ValidationDecision, str | None]]:
    """The latest decision on each of these updates, with its comment
    (absent: not yet validated), as it stood at ``as_of``."""
    found: dict[int, tuple[ValidationDecision, str | None]] = {}
    for start in range(0, len(update_ids), 2000):
        chunk = update_ids[start:start + 2000]
        newest = select(func.max(Validation.id)).where(Validation.status_update_id.in_(chunk))
        if as_of is not None:
            newest = newest.where(Validation.created_at <= as_of)
        newest = newest.group_by(Validation.status_update_id)
        for update_id, decision, comment in await session.execute(
            select(Validation.status_update_id, Validation.decision, Validation.comment).where(Validation.id.in_(newest))
        ):
            found[update_id] = (decision, comment)
    return found
