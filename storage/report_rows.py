"""The rows every compiled output is made of: one per recommendation, with
its state as the history stood at a moment ("as of"), streamed.

Status, narrative, evidence and next step come from the update that gives
the overall status (the rule is stated once, in storage/status.py), among
those given up to that moment; an update given later is not seen, so a
report for a past date reads as it would have then. ``inputs`` lists each
institution's own latest update beside it (storage.status.InstitutionInput),
fetched a chunk of rows at a time, as is ``evidence_files``: the files of
that update, each with where the bot keeps it (storage.evidence_files).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import AssignmentRole, TagKind
from storage.evidence_files import files_of_updates
from storage.models import Cluster, Document, Evidence, Mechanism, Recommendation, Review, StatusUpdate, Validation
from storage.recommendations import institutions_of, status_column, tags_of, with_latest_update
from storage.selection import conditions
from storage.status import CHUNK, institution_inputs
from storage.validations import decisions

REPORT_COLUMNS = (
    "id", "external_id", "country", "mechanism", "cycle", "document", "paragraph", "cluster", "themes", "text",
    "lead", "institutions", "status", "inputs", "narrative", "evidence", "evidence_files", "next_step", "next_step_due_on",
    "last_update_at", "last_update_by", "last_update_channel", "validation",
)


@dataclass(frozen=True)
class ReportScope:
    country: str | None = None
    mechanism: str | None = None
    cycle: int | None = None


def _evidence(update_id: Any) -> Any:
    return (
        select(func.aggregate_strings(func.coalesce(Evidence.url, Evidence.file_name), "; "))
        .where(Evidence.status_update_id == update_id)
        .scalar_subquery()
    )


def _validation(update_id: Any, as_of: datetime | None) -> Any:
    """The latest decision on an update, as of the moment: approved, returned or none."""
    decided = select(Validation.decision).where(Validation.status_update_id == update_id)
    if as_of is not None:
        decided = decided.where(Validation.created_at <= as_of)
    return decided.order_by(Validation.id.desc()).limit(1).scalar_subquery()


def report_statement(scope: ReportScope, as_of: datetime | None, validated_only: bool = False) -> Select[Any]:
    statement = (
        with_latest_update(
            select(
                Recommendation.id,
                Recommendation.external_id,
                Recommendation.country,
                Mechanism.code.label("mechanism"),
                Review.cycle.label("cycle"),
                Document.symbol.label("document"),
                Recommendation.paragraph,
                Cluster.name.label("cluster"),
                tags_of(TagKind.THEME).label("themes"),
                Recommendation.text,
                institutions_of(AssignmentRole.LEAD).label("lead"),
                institutions_of(None).label("institutions"),
                status_column().label("status"),
                StatusUpdate.narrative,
                _evidence(StatusUpdate.id).label("evidence"),
                StatusUpdate.next_step,
                StatusUpdate.next_step_due_on,
                StatusUpdate.id.label("update_id"),
                StatusUpdate.created_at.label("last_update_at"),
                StatusUpdate.author_label.label("last_update_by"),
                StatusUpdate.channel.label("last_update_channel"),
                _validation(StatusUpdate.id, as_of).label("validation"),
            ),
            as_of,
            validated_only,
        )
        .where(*conditions(country=scope.country, mechanism=scope.mechanism))
        .order_by(Mechanism.code, Cluster.name.is_(None), Cluster.name, Document.symbol, Recommendation.paragraph, Recommendation.id)
    )
    if scope.cycle is not None:
        statement = statement.where(Review.cycle == scope.cycle)
    return statement


async def stream_report_rows(
    session: AsyncSession, scope: ReportScope, as_of: datetime | None = None, validated_only: bool = False,
) -> AsyncIterator[dict[str, Any]]:
    """The rows; with ``validated_only``, as the public may see them: each
    status and input from validated updates only (storage.public_input)."""
    result = await session.stream(report_statement(scope, as_of, validated_only).execution_options(yield_per=CHUNK))
    async for rows in result.partitions(CHUNK):
        batch = [_row(row) for row in rows]
        inputs = await institution_inputs(
            session, [int(r["id"]) for r in batch], as_of, assigned={int(r["id"]): _assigned(r) for r in batch}, validated_only=validated_only,
        )
        updates = [int(r["update_id"]) for r in batch if r["update_id"] is not None]
        updates += [i.update_id for given in inputs.values() for i in given if i.update_id is not None]
        files = await files_of_updates(session, updates)
        judged = await decisions(session, [i.update_id for given in inputs.values() for i in given if i.update_id is not None], as_of)
        for out in batch:
            out["inputs"] = inputs.get(int(out["id"]), [])
            # Each institution's own input: validated, returned or waiting (storage.validations).
            out["input_validations"] = {
                i.code: str(judged[i.update_id][0]) if i.update_id in judged else "pending"
                for i in out["inputs"] if i.update_id is not None
            }
            # The files of the update giving the status and of each
            # institution's own latest answer, each file once, as the bot
            # keeps them (storage.evidence_files).
            ids = [out["update_id"]] + [i.update_id for i in out["inputs"]]
            seen: set[tuple[str, int]] = set()
            out["evidence_files"] = []
            for update_id in dict.fromkeys(u for u in ids if u is not None):
                for kept in files.get(update_id, []):
                    key = ("file", kept.file_id) if kept.file_id is not None else ("evidence", kept.evidence_id)
                    if key not in seen:
                        seen.add(key)
                        out["evidence_files"].append(kept)
            yield out


def _assigned(row: dict[str, Any]) -> list[tuple[str, AssignmentRole]]:
    """The row's institutions, as its own columns already give them (codes never hold "; ")."""
    codes = [code for code in str(row["institutions"] or "").split("; ") if code]
    return [(code, AssignmentRole.LEAD if code == row["lead"] else AssignmentRole.CONTRIBUTING) for code in codes]


def _row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    out["status"] = str(out["status"])
    if out["last_update_channel"] is not None:
        out["last_update_channel"] = str(out["last_update_channel"])
    # An update nobody has looked at yet is "pending"; no update, nothing.
    out["validation"] = str(out["validation"]) if out["validation"] else ("pending" if out["last_update_at"] else None)
    return out
