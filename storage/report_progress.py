"""The figures of the progress page: counts by status per cluster (overall
status, by the rule in storage/status.py) and per institution (each by its
own answers), response rate per institution (its own answers only), updates
over time, and by SDG goal (overall status; a recommendation under several
goals counts under each). As of a moment. With them, the implementation
plan's actions serving those recommendations and the indicators measuring
them (storage.report_plan), for the charts of each indicator and of the
actions by status."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ImplementationStatus
from storage.models import Assignment, Institution, StatusUpdate
from storage.public_input import counts_publicly
from storage.report_plan import PlanFigures, plan_figures
from storage.report_rows import ReportScope, stream_report_rows
from storage.sdgs import goals_of


@dataclass
class Progress:
    total: int = 0
    # Recommendations with any update ("no change" included).
    answered: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_cluster: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_institution: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # SDG goal (1-17) -> counts by overall status; a recommendation under each of its goals.
    by_goal: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # institution -> (assigned, answered)
    response: dict[str, tuple[int, int]] = field(default_factory=dict)
    # "YYYY-MM" -> updates given that month
    updates_by_month: Counter[str] = field(default_factory=Counter)
    # The plan's actions and indicators for these recommendations, internal budgets kept.
    plan: PlanFigures = field(default_factory=PlanFigures)


async def progress(
    session: AsyncSession, scope: ReportScope, as_of: datetime | None, unclustered: str, validated_only: bool = False,
) -> tuple[Progress, list[dict[str, object]]]:
    """The figures, and the rows they come from (for the page's table); with
    ``validated_only``, from the updates the public may see only
    (storage.public_input): statuses, answers and updates over time alike."""
    figures = Progress()
    rows = []
    async for row in stream_report_rows(session, scope, as_of, validated_only):
        status = str(row["status"])
        figures.total += 1
        figures.answered += row["last_update_at"] is not None
        figures.by_status[status] += 1
        figures.by_cluster[str(row["cluster"] or unclustered)][status] += 1
        for goal in goals_of(row["sdgs"]):
            figures.by_goal[goal][status] += 1
        # Each institution by its own answer on what is assigned to it: another
        # institution's update of a shared recommendation is not its answer.
        assigned_to = [i for i in row["inputs"] if i.role is not None]
        for part in assigned_to:
            figures.by_institution[part.code][str(part.status or ImplementationStatus.NOT_STARTED)] += 1
        if not assigned_to:
            figures.by_institution["—"][status] += 1
        rows.append(row)
    ids = [int(r["id"]) for r in rows]  # type: ignore[call-overload]
    assigned: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        for code, n in await session.execute(
            select(Institution.code, func.count()).join(Assignment, Assignment.institution_id == Institution.id)
            .where(Assignment.recommendation_id.in_(chunk)).group_by(Institution.code)
        ):
            assigned[code] += n
        done = (
            select(Institution.code, func.count(distinct(StatusUpdate.recommendation_id)))
            .join(StatusUpdate, StatusUpdate.institution_id == Institution.id)
            .join(Assignment, (Assignment.institution_id == Institution.id) & (Assignment.recommendation_id == StatusUpdate.recommendation_id))
            .where(StatusUpdate.recommendation_id.in_(chunk))
            .group_by(Institution.code)
        )
        if as_of is not None:
            done = done.where(StatusUpdate.created_at <= as_of)
        if validated_only:
            done = done.where(counts_publicly(as_of))
        for code, n in await session.execute(done):
            answered[code] += n
        months = select(StatusUpdate.created_at).where(StatusUpdate.recommendation_id.in_(chunk))
        if as_of is not None:
            months = months.where(StatusUpdate.created_at <= as_of)
        if validated_only:
            months = months.where(counts_publicly(as_of))
        for (at,) in await session.execute(months):
            figures.updates_by_month[at.strftime("%Y-%m")] += 1
    figures.response = {code: (assigned[code], answered.get(code, 0)) for code in sorted(assigned)}
    figures.plan = await plan_figures(session, ids, as_of)
    return figures, rows
