"""Each institution's latest input on each recommendation, as of a moment:
what a draft report quotes, with its source; and the recommendation's
priority with its criteria (storage.priorities) and its SDGs (storage.sdgs),
each read a chunk of recommendations at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Channel, ImplementationStatus, Priority, ValidationDecision
from storage.evidence_files import KeptFile, files_of_updates
from storage.models import Assignment, Cluster, Document, Evidence, Institution, Recommendation, Review, StatusUpdate
from storage.paragraph_order import paragraph_order
from storage.priorities import PriorityView
from storage.priority_history import priority_column, views_as_of
from storage.report_rows import ReportScope, scope_conditions, sdg_tags_of
from storage.sdgs import Sdg, sdgs_of
from storage.status import overall_update_ids
from storage.validations import decisions


@dataclass
class Input:
    institution: str
    status: ImplementationStatus
    narrative: str | None
    evidence: list[str]
    next_step: str | None
    next_step_due_on: date | None
    author: str
    channel: Channel
    at: datetime
    # The institution validator's latest decision, as of the moment (None: not yet).
    validation: ValidationDecision | None = None
    comment: str | None = None
    # Its files, with where the bot keeps each (storage.evidence_files): the draft's annex.
    files: list[KeptFile] = field(default_factory=list)


@dataclass
class RecommendationInputs:
    id: int
    cluster: str | None
    paragraph: str | None
    document: str | None
    text: str
    institutions: list[str]
    inputs: list[Input] = field(default_factory=list)
    # The overall status, by the rule stated in storage/status.py.
    status: ImplementationStatus = ImplementationStatus.NOT_STARTED
    # The effective priority and its criteria at the draft's moment (storage.priority_history).
    priority: Priority | None = None
    priority_view: PriorityView | None = None
    sdgs: list[Sdg] = field(default_factory=list)


async def stream_inputs(session: AsyncSession, scope: ReportScope, as_of: datetime | None) -> AsyncIterator[RecommendationInputs]:
    """Recommendations by cluster, then paragraph, each with its inputs."""
    recs = (
        select(Recommendation.id, Cluster.name, Recommendation.paragraph, Document.symbol, Recommendation.text, priority_column(as_of))
        .outerjoin(Cluster, Cluster.id == Recommendation.cluster_id)
        .outerjoin(Document, Document.id == Recommendation.document_id)
        .outerjoin(Review, Review.id == Recommendation.review_id)
        .where(*scope_conditions(scope, await sdg_tags_of(session, scope), as_of))
        .order_by(Cluster.name.is_(None), Cluster.name, paragraph_order(Recommendation.paragraph), Recommendation.id)
    )
    rows = (await session.execute(recs)).all()
    ids = [r[0] for r in rows]
    tagged = await sdgs_of(session, ids)
    views = await views_as_of(session, ids, as_of)
    assigned: dict[int, list[str]] = {}
    latest: dict[int, list[StatusUpdate]] = {}
    overall: dict[int, ImplementationStatus] = {}
    names = {i: n for i, n in await session.execute(select(Institution.id, Institution.name))}
    for start in range(0, len(ids), 2000):
        chunk = ids[start:start + 2000]
        for rec, name in await session.execute(
            select(Assignment.recommendation_id, Institution.name).join(Institution).where(Assignment.recommendation_id.in_(chunk)).order_by(Assignment.role, Institution.name)
        ):
            assigned.setdefault(rec, []).append(name)
        newest = select(func.max(StatusUpdate.id)).where(StatusUpdate.recommendation_id.in_(chunk), StatusUpdate.institution_id.is_not(None))
        if as_of is not None:
            newest = newest.where(StatusUpdate.created_at <= as_of)
        newest = newest.group_by(StatusUpdate.recommendation_id, StatusUpdate.institution_id)
        for update in await session.scalars(select(StatusUpdate).where(StatusUpdate.id.in_(newest)).order_by(StatusUpdate.id)):
            latest.setdefault(update.recommendation_id, []).append(update)
        chosen = overall_update_ids(as_of).where(StatusUpdate.recommendation_id.in_(chunk)).subquery()
        for rec, status in await session.execute(
            select(StatusUpdate.recommendation_id, StatusUpdate.status).join(chosen, chosen.c.update_id == StatusUpdate.id)
        ):
            overall[rec] = status
    evidence: dict[int, list[str]] = {}
    update_ids = [u.id for updates in latest.values() for u in updates]
    judged = await decisions(session, update_ids, as_of)
    for start in range(0, len(update_ids), 2000):
        for update_id, url, name in await session.execute(
            select(Evidence.status_update_id, Evidence.url, Evidence.file_name).where(Evidence.status_update_id.in_(update_ids[start:start + 2000])).order_by(Evidence.id)
        ):
            evidence.setdefault(update_id, []).append(url or name or "")
    files = await files_of_updates(session, update_ids)
    for rec_id, cluster, paragraph, document, text, priority in rows:
        item = RecommendationInputs(
            rec_id, cluster, paragraph, document, text, assigned.get(rec_id, []), status=overall.get(rec_id, ImplementationStatus.NOT_STARTED),
            priority=priority, priority_view=views.get(rec_id), sdgs=tagged.get(rec_id, []),
        )
        for u in latest.get(rec_id, []):
            decision, comment = judged.get(u.id, (None, None))
            item.inputs.append(Input(
                names.get(u.institution_id or 0, "?"), u.status, u.narrative, evidence.get(u.id, []), u.next_step,
                u.next_step_due_on, u.author_label, u.channel, u.created_at, decision, comment, files.get(u.id, []),
            ))
        yield item
