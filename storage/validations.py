"""Validation: an institution's senior or validating focal point approves
its input before it counts as final, or returns it with a comment.

Only the latest update an institution gave on a recommendation is up for
validation; a new update needs a new look. Validations are append-only.

Nobody validates their own input. A validator's own update goes to the
institution's other validators; when it has none in office (or no validator
at all), the secretariat validates it (``pending_for_secretariat``, the
secretariat's /validations in chat). ``validate`` refuses a self-validation
itself, so the chat and any other caller hold the same rule.

A returned input is answered by the institution's next update of that
recommendation: ``answer_return`` records the link (validation_answers)
when the update is recorded (storage.status.record_update), whoever gives it
and from wherever, so the validator sees in /validate what the new input
answers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.enums import FocalPointRole, ValidationDecision
from storage.errors import InvalidValue, NotFound
from storage.idempotent import add_once, seen
from storage.models import FocalPoint, Institution, SecretariatUser, StatusUpdate, Validation, ValidationAnswer

VALIDATING_ROLES = (FocalPointRole.VALIDATOR, FocalPointRole.SENIOR)


class SelfValidation(InvalidValue):
    """A validator judging an input they gave themselves."""


def can_validate(person: FocalPoint) -> bool:
    return person.role in VALIDATING_ROLES


def _latest_per_institution(institution_id: int, as_of: datetime | None = None):  # type: ignore[no-untyped-def]
    newest = select(func.max(StatusUpdate.id)).where(StatusUpdate.institution_id == institution_id)
    if as_of is not None:
        newest = newest.where(StatusUpdate.created_at <= as_of)
    return newest.group_by(StatusUpdate.recommendation_id)


def _not_judged() -> Any:
    return StatusUpdate.id.not_in(select(Validation.status_update_id))


def _waiting(institution_id: int) -> list[Any]:
    """Conditions: the institution's latest input on its recommendation, not yet judged."""
    return [StatusUpdate.id.in_(_latest_per_institution(institution_id)), _not_judged()]


def _not_by(person: FocalPoint) -> Any:
    return or_(StatusUpdate.author_focal_point_id.is_(None), StatusUpdate.author_focal_point_id != person.id)


def _no_other_validator(day: date) -> Any:
    """Condition on an update: its institution has no validator in office
    on ``day`` other than the update's author, so the secretariat judges it."""
    other = aliased(FocalPoint)
    return ~exists().where(
        other.institution_id == StatusUpdate.institution_id,
        other.role.in_(VALIDATING_ROLES),
        other.active_from <= day,
        or_(other.active_to.is_(None), other.active_to >= day),
        or_(StatusUpdate.author_focal_point_id.is_(None), other.id != StatusUpdate.author_focal_point_id),
    )


async def pending(session: AsyncSession, institution_id: int, limit: int = 20, *, validator: FocalPoint | None = None) -> list[StatusUpdate]:
    """The institution's latest inputs that nobody has validated yet, oldest
    first; with ``validator``, without those they gave themselves."""
    statement = select(StatusUpdate).where(*_waiting(institution_id))
    if validator is not None:
        statement = statement.where(_not_by(validator))
    statement = statement.order_by(StatusUpdate.id).limit(limit)
    return list((await session.scalars(statement)).all())


def _for_secretariat(day: date) -> list[Any]:
    """Conditions: an institution's latest input on its recommendation, not
    yet judged, that no validator there other than its author can judge."""
    newest = (
        select(func.max(StatusUpdate.id)).where(StatusUpdate.institution_id.is_not(None))
        .group_by(StatusUpdate.recommendation_id, StatusUpdate.institution_id)
    )
    return [StatusUpdate.id.in_(newest), _not_judged(), _no_other_validator(day)]


async def pending_for_secretariat(session: AsyncSession, day: date, limit: int = 20) -> list[StatusUpdate]:
    """The inputs the secretariat is to validate on ``day``, oldest first."""
    statement = select(StatusUpdate).where(*_for_secretariat(day)).order_by(StatusUpdate.id).limit(limit)
    return list((await session.scalars(statement)).all())


async def awaits_secretariat(session: AsyncSession, update_id: int, day: date) -> bool:
    """Whether the secretariat may still judge this update on ``day``."""
    found = await session.scalar(select(StatusUpdate.id).where(StatusUpdate.id == update_id, *_for_secretariat(day)))
    return found is not None


async def is_pending(session: AsyncSession, institution_id: int, update_id: int) -> bool:
    """Whether this update is one the institution's validator may still judge."""
    found = await session.scalar(select(StatusUpdate.id).where(StatusUpdate.id == update_id, *_waiting(institution_id)))
    return found is not None


async def validate(
    session: AsyncSession,
    update_id: int,
    decision: ValidationDecision,
    validator: FocalPoint | SecretariatUser,
    at: datetime,
    *,
    comment: str | None = None,
    idempotency_key: str | None = None,
) -> Validation:
    """Record a decision on an update. A focal point validates their own
    institution's input but never their own; the secretariat validates only
    what no other validator of the institution can."""
    update = await session.get(StatusUpdate, update_id)
    if isinstance(validator, FocalPoint):
        if not can_validate(validator):
            raise InvalidValue(f"{validator.name} is a {validator.role.value} focal point; validation is for senior or validating ones")
        if update is None or update.institution_id != validator.institution_id:
            raise NotFound(f"no update {update_id} of {validator.name}'s institution")
    elif update is None or update.institution_id is None:
        raise NotFound(f"no update {update_id} of an institution")
    earlier = await seen(session, Validation, idempotency_key)
    if earlier is not None:
        return earlier
    if isinstance(validator, FocalPoint) and update.author_focal_point_id == validator.id:
        raise SelfValidation(
            f"{validator.name} gave update {update_id} themselves and cannot validate it: another validator of their "
            "institution does, or the secretariat when there is none"
        )
    if isinstance(validator, SecretariatUser) and not await awaits_secretariat(session, update_id, at.date()):
        institution = await session.get(Institution, update.institution_id)
        raise InvalidValue(
            f"update {update_id} of {institution.name if institution else 'an institution'} is not the secretariat's to validate: "
            "it was judged already, a newer update replaced it, or a validator of the institution other than its author judges it"
        )
    if decision is ValidationDecision.RETURNED and not (comment or "").strip():
        raise InvalidValue("returning an input needs a comment saying what to correct")
    row = Validation(
        status_update_id=update_id, decision=decision,
        validator_focal_point_id=validator.id if isinstance(validator, FocalPoint) else None,
        validator_label=validator.name, comment=(comment or "").strip() or None, idempotency_key=idempotency_key, created_at=at,
    )
    return await add_once(session, row, idempotency_key)


async def answer_return(session: AsyncSession, update: StatusUpdate) -> ValidationAnswer | None:
    """If the institution's previous update of this recommendation was
    returned (its latest decision) and not yet answered, ``update`` answers it."""
    if update.institution_id is None:
        return None
    previous = await session.scalar(
        select(func.max(StatusUpdate.id)).where(
            StatusUpdate.recommendation_id == update.recommendation_id, StatusUpdate.institution_id == update.institution_id,
            StatusUpdate.id < update.id,
        )
    )
    if previous is None:
        return None
    latest = await session.scalar(select(Validation).where(Validation.status_update_id == previous).order_by(Validation.id.desc()).limit(1))
    if latest is None or latest.decision is not ValidationDecision.RETURNED:
        return None
    if await session.get(ValidationAnswer, latest.id) is not None:
        return None
    answer = ValidationAnswer(validation_id=latest.id, status_update_id=update.id, created_at=update.created_at)
    try:
        # A savepoint: a second update racing to answer the same return loses, not the update.
        async with session.begin_nested():
            session.add(answer)
    except IntegrityError:
        return None
    return answer


async def returns_answered(session: AsyncSession, update_ids: list[int]) -> dict[int, Validation]:
    """For each of these updates that answers a returned input, that return."""
    if not update_ids:
        return {}
    rows = await session.execute(
        select(ValidationAnswer.status_update_id, Validation)
        .join(Validation, Validation.id == ValidationAnswer.validation_id)
        .where(ValidationAnswer.status_update_id.in_(update_ids))
    )
    return {update_id: validation for update_id, validation in rows}


async def answer_of(session: AsyncSession, validation_id: int) -> int | None:
    """The update that answered this returned input, if any yet."""
    return await session.scalar(select(ValidationAnswer.status_update_id).where(ValidationAnswer.validation_id == validation_id))


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
