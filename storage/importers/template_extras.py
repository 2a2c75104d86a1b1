"""What the template says beyond the recommendations themselves, recorded
once the writer has stored its rows, in the import's own transaction: the
follow-up selection (FollowUpSelection, source import) and the priority
inputs (PriorityInput: budget implications, national priority, and the
priority column as an override with the reason "set in the template").

A blank cell leaves what the registry holds; a value equal to it writes
nothing, so a re-import is idempotent (no row, no audit entry). A value the
recommendation cannot take (follow-up for a UPR recommendation) is a row
error naming the row and the column, and the whole import is refused.
Each change is an ORM write, audited with the importing actor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import current_actor
from storage.enums import FollowUpSource, ImportSource, MechanismKind, RecommendationKind
from storage.follow_up import FOLLOW_UP_KINDS
from storage.importers.errors import RowError
from storage.importers.record import SecretariatInputs
from storage.models import FollowUpSelection, Mechanism, PriorityInput, Recommendation, RecommendationSource
from storage.priorities import refresh as refresh_priorities
from storage.types import utcnow

TEMPLATE_REASON = "set in the template"
_CHUNK = 500


@dataclass(frozen=True)
class RowInputs:
    """One template row's inputs, with where it was, for its errors."""

    row: int
    sheet: str | None
    external_id: str
    inputs: SecretariatInputs | None


async def record_inputs(session: AsyncSession, rows: Sequence[RowInputs]) -> list[RowError]:
    """Record every row's inputs; the errors of those that cannot be, by row and column."""
    ids = await _ids(session, [r.external_id for r in rows])
    errors: list[RowError] = []
    wanted = [(r, ids[r.external_id]) for r in rows if r.inputs is not None and r.external_id in ids]
    selections = {
        s.recommendation_id: s
        for s in await _load(session, FollowUpSelection, [rec for _, (rec, _, _) in wanted])
    }
    priorities = {
        p.recommendation_id: p
        for p in await _load(session, PriorityInput, [rec for _, (rec, _, _) in wanted])
    }
    actor = current_actor()
    for row, (rec_id, mechanism_kind, kind) in wanted:
        inputs = row.inputs
        assert inputs is not None
        if inputs.follow_up is not None:
            if inputs.follow_up and (mechanism_kind is not MechanismKind.TREATY_BODY or kind not in FOLLOW_UP_KINDS):
                errors.append(RowError(row.row, "follow_up", _not_follow_up(mechanism_kind, kind), row.sheet))
            elif inputs.follow_up and rec_id not in selections:
                selections[rec_id] = FollowUpSelection(recommendation_id=rec_id, source=FollowUpSource.IMPORT, selected_by=actor)
                session.add(selections[rec_id])
            elif not inputs.follow_up and rec_id in selections:
                await session.delete(selections.pop(rec_id))
        _priority_inputs(session, priorities, rec_id, inputs, actor)
    await session.flush()
    # Every row of the file, not only those whose inputs changed: a new row
    # has no effective priority yet, and a changed one may have new tags
    # (affected persons) or text that the criteria read.
    await refresh_priorities(session, [rec for rec, _, _ in ids.values()])
    return errors


def _priority_inputs(
    session: AsyncSession, existing: dict[int, PriorityInput], rec_id: int, inputs: SecretariatInputs, actor: str,
) -> None:
    wanted: dict[str, object] = {}
    if inputs.budget_implications is not None:
        wanted["budget_implications"] = inputs.budget_implications
    if inputs.national_priority is not None:
        wanted["national_priority"] = inputs.national_priority
    if inputs.override is not None:
        wanted["override"], wanted["override_reason"] = inputs.override, TEMPLATE_REASON
    elif inputs.clear_override:
        wanted["override"], wanted["override_reason"] = None, None
    if not wanted:
        return
    row = existing.get(rec_id)
    if row is None:
        if all(v is None for v in wanted.values()):
            return
        row = existing[rec_id] = PriorityInput(recommendation_id=rec_id, updated_by=actor)
        session.add(row)
    elif all(getattr(row, k) == v for k, v in wanted.items()):
        return
    for key, value in wanted.items():
        setattr(row, key, value)
    row.updated_at, row.updated_by = utcnow(), actor


async def _ids(session: AsyncSession, external_ids: list[str]) -> dict[str, tuple[int, MechanismKind, RecommendationKind]]:
    """The template's ids to their recommendations: its own (source,
    external_id), or the template's id kept among its sources when the row
    was recognised as one another source gave (storage.recommendation_sources)."""
    found: dict[str, tuple[int, MechanismKind, RecommendationKind]] = {}
    unique = list(dict.fromkeys(external_ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        rows = await session.execute(
            select(Recommendation.external_id, Recommendation.id, Mechanism.kind, Recommendation.kind)
            .join(Mechanism, Mechanism.id == Recommendation.mechanism_id)
            .where(Recommendation.source == ImportSource.TEMPLATE, Recommendation.external_id.in_(chunk))
        )
        found.update({ext: (rec, mkind, kind) for ext, rec, mkind, kind in rows})
        if missing := [e for e in chunk if e not in found]:
            rows = await session.execute(
                select(RecommendationSource.external_id, Recommendation.id, Mechanism.kind, Recommendation.kind)
                .join(Recommendation, Recommendation.id == RecommendationSource.recommendation_id)
                .join(Mechanism, Mechanism.id == Recommendation.mechanism_id)
                .where(RecommendationSource.source == ImportSource.TEMPLATE, RecommendationSource.external_id.in_(missing))
            )
            found.update({ext: (rec, mkind, kind) for ext, rec, mkind, kind in rows})
    return found


async def _load(session: AsyncSession, model: type, ids: list[int]) -> list:  # type: ignore[type-arg]
    out = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        out.extend((await session.scalars(select(model).where(model.recommendation_id.in_(chunk)))).all())  # type: ignore[attr-defined]
    return out


def _not_follow_up(mechanism_kind: MechanismKind, kind: RecommendationKind) -> str:
    if mechanism_kind is MechanismKind.TREATY_BODY:
        what = f"a {kind.value.replace('_', ' ')}"
    elif mechanism_kind is MechanismKind.UPR:
        what = "a UPR recommendation"
    else:
        what = f"a {mechanism_kind.value.replace('_', ' ')}'s recommendation"
    return f"yes is only for a treaty body's concluding observations (follow-up procedure); this is {what}"
