"""The rows every compiled output is made of: one per recommendation, with
its state as the history stood at a moment ("as of"), streamed.

Status, narrative, evidence and next step come from the update that gives
the overall status (the rule is stated once, in storage/status.py), among
those given up to that moment; an update given later is not seen, so a
report for a past date reads as it would have then. ``inputs`` lists each
institution's own latest update beside it (storage.status.InstitutionInput),
fetched a chunk of rows at a time, as is ``evidence_files``: the files of
that update, each with where the bot keeps it (storage.evidence_files), and
``sdgs``: its SDG goals and targets (storage.sdgs), read in bulk, never a
row at a time. ``priority`` is the effective priority at that moment
(storage.priority_history: recommendations.priority now, the kept history
for a past day), and so are its reasons, its filter and its sort. Rows of a
document follow its paragraphs' natural order (storage.paragraph_order).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Subquery, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.choices import REPORT_SORTS as SORTS
from storage.enums import AssignmentRole, Priority, TagKind
from storage.evidence_files import KeptFile, files_of_updates
from storage.models import Cluster, Document, Evidence, Mechanism, Recommendation, Review, StatusUpdate, Validation
from storage.paragraph_order import paragraph_order
from storage.priority_history import priority_column, views_as_of
from storage.priority_order import priority_rank
from storage.recommendations import institutions_of, status_column, tags_of, with_latest_update
from storage.sdgs import SdgFilter, goals_of, matching_tag_ids, sdgs_of, tagged_with, targets_text
from storage.sdgs import sdg_tags as all_sdg_tags
from storage.selection import conditions
from storage.status import CHUNK, institution_inputs
from storage.validations import decisions

REPORT_COLUMNS = (
    "id", "external_id", "country", "mechanism", "cycle", "document", "paragraph", "cluster", "themes", "text",
    "lead", "institutions", "status", "inputs", "narrative", "evidence", "evidence_files", "next_step", "next_step_due_on",
    "last_update_at", "last_update_by", "last_update_channel", "validation", "priority", "sdg_goals", "sdg_targets",
)


@dataclass(frozen=True)
class ReportScope:
    country: str | None = None
    mechanism: str | None = None
    cycle: int | None = None
    # Only what is tagged with this SDG goal or target (storage.sdgs).
    sdg: SdgFilter | None = None
    # Only this effective priority (at the report's moment: storage.priority_history).
    priority: Priority | None = None


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


def scope_conditions(scope: ReportScope, sdg_tags: Sequence[int] | None = None, as_of: datetime | None = None) -> list[Any]:
    """The scope as conditions on recommendations (and their review, for the
    cycle); ``sdg_tags``: the tags ``scope.sdg`` names (storage.sdgs.matching_tag_ids);
    ``as_of``: the priority is the one of that moment."""
    found: list[Any] = list(conditions(country=scope.country, mechanism=scope.mechanism))
    if scope.cycle is not None:
        found.append(Review.cycle == scope.cycle)
    if scope.sdg is not None:
        if sdg_tags is None:
            raise ValueError("an SDG scope needs its tags: storage.sdgs.matching_tag_ids")
        found.append(tagged_with(sdg_tags))
    if scope.priority is not None:
        found.append(priority_column(as_of) == scope.priority)
    return found


def scope_ids(scope: ReportScope, sdg_tags: Sequence[int] | None = None, as_of: datetime | None = None) -> Select[tuple[int]] | None:
    """The ids of the recommendations in scope, as a SELECT to put in
    another; None for the whole registry (no condition to put)."""
    found = scope_conditions(scope, sdg_tags, as_of)
    if not found:
        return None
    return select(Recommendation.id).outerjoin(Review, Review.id == Recommendation.review_id).where(*found)


async def sdg_tags_of(session: AsyncSession, scope: ReportScope) -> list[int] | None:
    return None if scope.sdg is None else await matching_tag_ids(session, scope.sdg)


def report_statement(
    scope: ReportScope, as_of: datetime | None, validated_only: bool = False, *, sdg_tags: Sequence[int] | None = None, sort: str = "default",
    groups: Subquery | None = None,
) -> Select[Any]:
    """The rows' SELECT; ``sort="priority"``: high first within each mechanism
    (each is a sheet of the matrix), then as by default. ``groups``: pairs
    (recommendation_id, group_key) to list each row under, as many times
    as it has groups, in group_key's order (``sort="priority"``: high first
    within each group), those with none last, as the ``group_key`` column
    (storage.report_groups)."""
    if sort not in SORTS:
        raise ValueError(f"reports sort by {' or '.join(SORTS)}, not {sort!r}")
    priority = priority_column(as_of)
    first = [priority_rank(priority)] if sort == "priority" else []
    paragraph = paragraph_order(Recommendation.paragraph)
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
                priority.label("priority"),
            ),
            as_of,
            validated_only,
        )
        .where(*scope_conditions(scope, sdg_tags, as_of))
    )
    if groups is None:
        return statement.order_by(
            Mechanism.code, *first, Cluster.name.is_(None), Cluster.name, Document.symbol, paragraph, Recommendation.id,
        )
    statement = statement.outerjoin(groups, groups.c.recommendation_id == Recommendation.id).add_columns(groups.c.group_key)
    # NULLs sort first on SQLite and last on PostgreSQL: said outright, last.
    # A group's rows span mechanisms: high first within the group, then as by default.
    return statement.order_by(
        groups.c.group_key.is_(None), groups.c.group_key, *first, Mechanism.code, Cluster.name.is_(None), Cluster.name, Document.symbol,
        paragraph, Recommendation.id,
    )


async def stream_report_rows(
    session: AsyncSession, scope: ReportScope, as_of: datetime | None = None, validated_only: bool = False, *, sort: str = "default",
    explain: bool = False, groups: Subquery | None = None, files: bool = True,
) -> AsyncIterator[dict[str, Any]]:
    """The rows; with ``validated_only``, as the public may see them: each
    status and input from validated updates only (storage.public_input);
    with ``explain``, each with ``priority_view``, its criteria at that
    moment (storage.priority_history.views_as_of, a chunk at a time); ``groups``: as
    report_statement's, each row a fresh dict however often it comes;
    ``files``: each with its ``evidence_files`` (the matrix, which lists
    evidence by its own column, asks without: a query a chunk spared)."""
    statement = report_statement(scope, as_of, validated_only, sdg_tags=await sdg_tags_of(session, scope), sort=sort, groups=groups)
    known = await all_sdg_tags(session)
    result = await session.stream(statement.execution_options(yield_per=CHUNK))
    async for rows in result.partitions(CHUNK):
        # A row made a dict from its names, once a chunk: a third of the cost of its mapping's.
        names = rows[0]._fields if rows else ()
        batch = [_row(dict(zip(names, row, strict=True))) for row in rows]
        # Grouped, a recommendation may come several times in a chunk: asked about once.
        chunk = list(dict.fromkeys(int(r["id"]) for r in batch))
        tagged = await sdgs_of(session, chunk, known)
        views = await views_as_of(session, chunk, as_of, existing=True) if explain else {}
        inputs = await institution_inputs(
            session, chunk, as_of, assigned={int(r["id"]): _assigned(r) for r in batch}, validated_only=validated_only,
        )
        answers = [i.update_id for given in inputs.values() for i in given if i.update_id is not None]
        kept = await files_of_updates(session, [int(r["update_id"]) for r in batch if r["update_id"] is not None] + answers) if files else {}
        judged = await decisions(session, answers, as_of)
        for out in batch:
            rid = int(out["id"])
            given = out["inputs"] = inputs.get(rid, [])
            sdgs = out["sdgs"] = tagged.get(rid, [])
            out["sdg_goals"] = "; ".join(str(goal) for goal in goals_of(sdgs)) if sdgs else ""
            out["sdg_targets"] = targets_text(sdgs)
            if explain:
                out["priority_view"] = views.get(rid)
            # Each institution's own input: validated, returned or waiting (storage.validations).
            out["input_validations"] = {
                i.code: str(judged[i.update_id][0]) if i.update_id in judged else "pending"
                for i in given if i.update_id is not None
            }
            if files:
                out["evidence_files"] = _files_of(out, kept)
            yield out


def _files_of(out: dict[str, Any], kept: dict[int, list[KeptFile]]) -> list[KeptFile]:
    """The files of the update giving the status and of each institution's
    own latest answer, each file once, as the bot keeps them (storage.evidence_files)."""
    ids = [out["update_id"]] + [i.update_id for i in out["inputs"]]
    seen: set[tuple[str, int]] = set()
    found: list[KeptFile] = []
    for update_id in dict.fromkeys(u for u in ids if u is not None):
        for file in kept.get(update_id, []):
            key = ("file", file.file_id) if file.file_id is not None else ("evidence", file.evidence_id)
            if key not in seen:
                seen.add(key)
                found.append(file)
    return found


def _assigned(row: dict[str, Any]) -> list[tuple[str, AssignmentRole]]:
    """The row's institutions, as its own columns already give them (codes never hold "; ")."""
    codes = [code for code in str(row["institutions"] or "").split("; ") if code]
    return [(code, AssignmentRole.LEAD if code == row["lead"] else AssignmentRole.CONTRIBUTING) for code in codes]


def _row(out: dict[str, Any]) -> dict[str, Any]:
    out["status"] = str(out["status"])
    out["priority"] = str(out["priority"]) if out["priority"] is not None else None
    if out["last_update_channel"] is not None:
        out["last_update_channel"] = str(out["last_update_channel"])
    # An update nobody has looked at yet is "pending"; no update, nothing.
    out["validation"] = str(out["validation"]) if out["validation"] else ("pending" if out["last_update_at"] else None)
    return out
