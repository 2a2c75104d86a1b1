"""Reading recommendations back: filtered, with their derived status, streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import AssignmentRole, ImplementationStatus, TagKind
from storage.models import (
    Assignment,
    Cluster,
    Document,
    Institution,
    Mechanism,
    Recommendation,
    Review,
    StatusUpdate,
    Tag,
    deadline_recommendations,
    recommendation_tags,
)
from storage.priority_order import priority_rank
from storage.recommendation_list import COLUMNS as COLUMNS, TABLE_COLUMNS as TABLE_COLUMNS, RecommendationFilter as RecommendationFilter
from storage.selection import conditions
from storage.status import overall_update_ids
from storage.validation import institution_code


def tags_of(kind: TagKind) -> Any:
    return (
        select(func.aggregate_strings(Tag.value, "; "))
        .select_from(recommendation_tags)
        .join(Tag, Tag.id == recommendation_tags.c.tag_id)
        .where(recommendation_tags.c.recommendation_id == Recommendation.id, Tag.kind == kind)
        .scalar_subquery()
    )


def institutions_of(role: AssignmentRole | None) -> Any:
    statement = (
        select(func.aggregate_strings(Institution.code, "; "))
        .select_from(Assignment)
        .join(Institution, Institution.id == Assignment.institution_id)
        .where(Assignment.recommendation_id == Recommendation.id)
    )
    if role is not None:
        statement = statement.where(Assignment.role == role)
    return statement.scalar_subquery()


def status_column() -> Any:
    """The overall status (storage/status.py states the rule), "not started" with no update."""
    return func.coalesce(StatusUpdate.status, literal(ImplementationStatus.NOT_STARTED.value))


def with_latest_update(statement: Select[Any], as_of: datetime | None = None, validated_only: bool = False) -> Select[Any]:
    """Recommendations joined to their mechanism, review, document, cluster
    and the update that gives the overall status (storage/status.py's rule),
    as history stood at ``as_of`` (with ``validated_only``, among the updates
    the public may see: storage.public_input), for any columns."""
    latest = overall_update_ids(as_of, validated_only).subquery()
    return (
        statement.join(Mechanism, Mechanism.id == Recommendation.mechanism_id)
        .outerjoin(Review, Review.id == Recommendation.review_id)
        .outerjoin(Document, Document.id == Recommendation.document_id)
        .outerjoin(Cluster, Cluster.id == Recommendation.cluster_id)
        .outerjoin(latest, latest.c.recommendation_id == Recommendation.id)
        .outerjoin(StatusUpdate, StatusUpdate.id == latest.c.update_id)
    )


def list_statement(filters: RecommendationFilter, limit: int | None = None) -> Select[Any]:
    """The chat's lists and /find build on it; storage.recommendation_list
    writes its SQL without the ORM for `recommendations list`, and
    tests/test_recommendation_list.py requires the two to stay the same."""
    statement = with_latest_update(
        select(
            Recommendation.id,
            Recommendation.external_id,
            Recommendation.country,
            Mechanism.code.label("mechanism"),
            Review.cycle.label("cycle"),
            Document.symbol.label("document"),
            Recommendation.paragraph,
            Recommendation.kind,
            Recommendation.upr_position.label("position"),
            status_column().label("status"),
            Recommendation.priority,
            institutions_of(AssignmentRole.LEAD).label("lead"),
            institutions_of(None).label("institutions"),
            Cluster.name.label("cluster"),
            tags_of(TagKind.THEME).label("themes"),
            tags_of(TagKind.RECOMMENDING_STATE).label("recommending_states"),
            Recommendation.text,
        )
    ).order_by(*((priority_rank(),) if filters.by_priority else ()), Recommendation.id)
    f = filters
    if f.priority is not None:
        statement = statement.where(Recommendation.priority == f.priority)
    statement = statement.where(*conditions(country=f.country, mechanism=f.mechanism, theme=f.theme, cluster=f.cluster))
    if f.institution:
        statement = statement.where(
            Recommendation.id.in_(
                select(Assignment.recommendation_id)
                .join(Institution, Institution.id == Assignment.institution_id)
                .where(Institution.code == institution_code(f.institution))
            )
        )
    status_of: Any = StatusUpdate
    if f.answering is not None:
        # That institution's own latest answer, beside the overall status.
        own_latest = (
            select(StatusUpdate.recommendation_id, func.max(StatusUpdate.id).label("update_id"))
            .where(StatusUpdate.institution_id == f.answering)
            .group_by(StatusUpdate.recommendation_id)
            .subquery()
        )
        status_of = aliased(StatusUpdate)
        statement = (
            statement.outerjoin(own_latest, own_latest.c.recommendation_id == Recommendation.id)
            .outerjoin(status_of, status_of.id == own_latest.c.update_id)
            .add_columns(status_of.status.label("own_status"))
        )
    if f.status:
        if f.status == ImplementationStatus.NOT_STARTED:
            statement = statement.where(
                or_(status_of.id.is_(None), status_of.status == ImplementationStatus.NOT_STARTED)
            )
        else:
            statement = statement.where(status_of.status == f.status)
    if f.position:
        statement = statement.where(Recommendation.upr_position == f.position)
    if f.kind:
        statement = statement.where(Recommendation.kind == f.kind)
    if f.cycle is not None:
        statement = statement.where(Review.cycle == f.cycle)
    if f.deadline_id is not None:
        statement = statement.where(
            Recommendation.id.in_(
                select(deadline_recommendations.c.recommendation_id).where(
                    deadline_recommendations.c.deadline_id == f.deadline_id
                )
            )
        )
    if limit is not None:
        statement = statement.limit(limit)
    return statement


async def stream_recommendations(
    session: AsyncSession, filters: RecommendationFilter, limit: int | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Rows as dicts, fetched in pages so a full UHRI listing stays small in memory."""
    result = await session.stream(list_statement(filters, limit).execution_options(yield_per=1000))
    async for row in result:
        yield dict(row._mapping)
