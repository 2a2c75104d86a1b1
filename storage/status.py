"""Status updates: every report kept, each institution's status and the
recommendation's overall status derived from them.

Each institution answers for itself: its status on a recommendation is its
own latest update (``institution_status``); another institution's update of
a shared recommendation is never its answer.

The overall status of a recommendation follows one rule, written here once
(``overall_update_ids``) and used by every list, report and summary:

    the overall status is the latest update of the lead institution or the
    secretariat's own latest record (an update with no institution: the
    command line, an import), whichever is newer; while neither exists, the
    newest update of any other (contributing) institution; with no update
    at all, "not started".

"Latest" and "newer" are by the order updates were recorded (their id). A
correction (``corrects_id``) is an update like any other: being newer, it
wins. The lead is the institution that leads the recommendation now. "As of"
a moment, only updates given up to then are seen.

`recommendations list` builds the same SQL without the ORM
(storage.recommendation_list); tests/test_recommendation_list.py fails when
the two differ, so a change here is made there too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from storage.enums import AssignmentRole, Channel, EvidenceKind, ImplementationStatus
from storage.errors import InvalidValue, NotFound
from storage import evidence_files
from storage.idempotent import add_once
from storage.models import Assignment, Evidence, FocalPoint, Institution, Recommendation, StatusUpdate
from storage.public_input import counts_publicly
from storage.types import utcnow
from storage.validations import answer_return


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
    # One answer given for a whole linked group (storage.linked_items).
    link_group_id: int | None = None


async def record_update(session: AsyncSession, data: UpdateData, at: datetime | None = None) -> StatusUpdate:
    """Append one update. With an ``idempotency_key`` seen before, return the
    stored update instead of adding a second one (a redelivered message).
    A focal point's update is always its institution's (migration 0010 did
    the same for the updates recorded before)."""
    earlier = await _by_key(session, data.idempotency_key) if data.idempotency_key else None
    if earlier is not None:
        return earlier
    if await session.get(Recommendation, data.recommendation_id) is None:
        raise NotFound(f"no recommendation with id {data.recommendation_id}")
    if data.corrects_id is not None:
        corrected = await session.get(StatusUpdate, data.corrects_id)
        if corrected is None or corrected.recommendation_id != data.recommendation_id:
            raise InvalidValue(f"update {data.corrects_id} is not an update of recommendation {data.recommendation_id}")
    institution_id = data.institution_id
    if institution_id is None and data.author_focal_point_id is not None:
        # A focal point answers for their institution, never as the secretariat.
        author = await session.get(FocalPoint, data.author_focal_point_id)
        if author is None:
            raise NotFound(f"no focal point with id {data.author_focal_point_id}")
        institution_id = author.institution_id
    update = StatusUpdate(
        recommendation_id=data.recommendation_id,
        institution_id=institution_id,
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
        link_group_id=data.link_group_id,
        created_at=at or utcnow(),
        evidence=[Evidence(**vars(e)) for e in data.evidence],
    )
    stored = await add_once(session, update, data.idempotency_key)
    if stored is not update:
        # Two deliveries raced past the check above; the first one's, with its evidence.
        return await _by_key(session, data.idempotency_key) or stored  # type: ignore[arg-type]
    # Its files, to be downloaded and kept, in this same transaction.
    await evidence_files.take_in(session, update, update.evidence, update.created_at)
    # The institution's next update after a return answers it, from any channel.
    await answer_return(session, update)
    return update


async def _by_key(session: AsyncSession, key: str) -> StatusUpdate | None:
    return await session.scalar(
        select(StatusUpdate).where(StatusUpdate.idempotency_key == key).options(selectinload(StatusUpdate.evidence))
    )


def overall_update_ids(as_of: datetime | None = None, validated_only: bool = False) -> Select[tuple[int, int]]:
    """(recommendation_id, id of the update that gives its overall status), by
    the rule in this module's docstring; optionally as history stood at
    ``as_of``, and with ``validated_only`` among the updates the public may
    see (storage.public_input). One grouped query over every recommendation:
    narrow it with ``.where(StatusUpdate.recommendation_id ...)``."""
    lead = aliased(Assignment)
    counts = or_(StatusUpdate.institution_id.is_(None), lead.id.is_not(None))
    statement = select(
        StatusUpdate.recommendation_id,
        func.coalesce(func.max(case((counts, StatusUpdate.id))), func.max(StatusUpdate.id)).label("update_id"),
    ).outerjoin(
        lead,
        and_(
            lead.recommendation_id == StatusUpdate.recommendation_id,
            lead.institution_id == StatusUpdate.institution_id,
            lead.role == AssignmentRole.LEAD,
        ),
    )
    if as_of is not None:
        statement = statement.where(StatusUpdate.created_at <= as_of)
    if validated_only:
        statement = statement.where(counts_publicly(as_of))
    return statement.group_by(StatusUpdate.recommendation_id)


def institution_latest_ids(as_of: datetime | None = None, validated_only: bool = False) -> Select[tuple[int, int | None, int]]:
    """(recommendation_id, institution_id, id of that institution's latest update);
    the secretariat's own records (no institution) are one more group, with
    institution_id NULL. Optionally as history stood at ``as_of``, and with
    ``validated_only`` its latest the public may see. A correction is an
    update like any other: the newest (highest id) wins."""
    statement = select(
        StatusUpdate.recommendation_id, StatusUpdate.institution_id, func.max(StatusUpdate.id).label("update_id")
    )
    if as_of is not None:
        statement = statement.where(StatusUpdate.created_at <= as_of)
    if validated_only:
        statement = statement.where(counts_publicly(as_of))
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


@dataclass(frozen=True)
class InstitutionInput:
    """One institution's part in a recommendation: its role (None: not
    assigned, yet it answered) and its own latest update (None: never)."""

    code: str
    role: AssignmentRole | None
    status: ImplementationStatus | None = None
    at: datetime | None = None
    update_id: int | None = None


CHUNK = 2000
# Who is assigned to each recommendation: (institution code, role), when the caller has it already.
Assigned = Mapping[int, Sequence[tuple[str, AssignmentRole]]]


async def institution_inputs(
    session: AsyncSession, recommendation_ids: Sequence[int], as_of: datetime | None = None, assigned: Assigned | None = None,
    validated_only: bool = False,
) -> dict[int, list[InstitutionInput]]:
    """For each recommendation, each institution's own latest update (with
    ``validated_only``, its latest validated one): the assigned ones (lead
    first, then by code), answered or not, then any other institution that
    answered. One query a chunk of recommendations (two without ``assigned``)."""
    out: dict[int, list[InstitutionInput]] = {}
    for start in range(0, len(recommendation_ids), CHUNK):
        chunk = list(recommendation_ids[start:start + CHUNK])
        if assigned is None:
            rows = await session.execute(
                select(Assignment.recommendation_id, Institution.code, Assignment.role)
                .join(Institution, Institution.id == Assignment.institution_id)
                .where(Assignment.recommendation_id.in_(chunk))
            )
            given: dict[int, list[tuple[str, AssignmentRole]]] = {}
            for rec, code, role in rows:
                given.setdefault(rec, []).append((code, role))
        roles_of = assigned if assigned is not None else given
        # The ids written into the statement (whole numbers only): PostgreSQL then plans each chunk
        # for its own ids, a third faster than with 2000 parameters of a statement it keeps.
        ids = bindparam("ids", [int(i) for i in chunk], expanding=True, literal_execute=True)
        latest = institution_latest_ids(as_of, validated_only).where(
            StatusUpdate.recommendation_id.in_(ids), StatusUpdate.institution_id.is_not(None)
        ).subquery()
        answered = select(
            StatusUpdate.recommendation_id, Institution.code, StatusUpdate.status, StatusUpdate.created_at, StatusUpdate.id,
        ).join(latest, latest.c.update_id == StatusUpdate.id).join(Institution, Institution.id == StatusUpdate.institution_id)
        answers: dict[int, dict[str, tuple[ImplementationStatus, datetime, int]]] = {}
        for rec, code, status, at, update_id in await session.execute(answered):
            answers.setdefault(rec, {})[code] = (status, at, update_id)
        for rec in dict.fromkeys(chunk):
            # Each input made once, from its role and its answer: a recommendation has one or two.
            roles = dict(roles_of.get(rec, ()))
            given_by = answers.get(rec, {})
            found = [InstitutionInput(code, role, *given_by.get(code, ())) for code, role in roles.items()]
            found += [InstitutionInput(code, None, *answer) for code, answer in given_by.items() if code not in roles]
            if len(found) > 1:
                found.sort(key=_input_order)
            if found:
                out[rec] = found
    return out


def _input_order(p: InstitutionInput) -> tuple[bool, bool, str]:
    """Lead first, then the other assigned, then those who answered unasked; each by code."""
    return (p.role is None, p.role is not AssignmentRole.LEAD, p.code)


async def current_status(
    session: AsyncSession, recommendation_id: int, as_of: datetime | None = None
) -> ImplementationStatus:
    """The overall status, by the rule in this module's docstring."""
    latest = overall_update_ids(as_of).where(StatusUpdate.recommendation_id == recommendation_id).subquery()
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
