"""`nmrf-bot recommendations list` in SQLAlchemy Core, without the ORM.

A listing is one statement whose rows are printed as they come. Through the
ORM it paid for loading every model (sixty mapped classes, a quarter of a
second), configuring their mappers (a tenth) and the ORM's handling of each
row, most of the command's time on a national registry. Here the same
statement is written over the tables by name (sqlalchemy.table/column: no
types, no metadata, no mapper), and its rows hold the stored values
('not_started', 'lead') where the ORM gives the enums: printed, they read the
same (bot.output prints an enum as its value).

storage.recommendations.list_statement stays the statement the chat's lists
and /find build on (they join it to the ORM's entities);
tests/test_recommendation_list.py compiles both for every filter on SQLite
and PostgreSQL and requires the same SQL, so the listing and the chat's
lists cannot drift apart, the overall status rule (storage/status.py) included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, column, func, literal, or_, select, table

from storage.enums import AssignmentRole, ImplementationStatus, Priority, RecommendationKind, TagKind, UprPosition
from storage.matching import same_name
from storage.validation import institution_code

COLUMNS = (
    "id",
    "external_id",
    "country",
    "mechanism",
    "cycle",
    "document",
    "paragraph",
    "kind",
    "position",
    "status",
    "priority",
    "lead",
    "institutions",
    "cluster",
    "themes",
    "recommending_states",
    "text",
)

# What fits a screen; JSON and CSV carry every column.
TABLE_COLUMNS = ("id", "country", "mechanism", "cycle", "paragraph", "position", "status", "priority", "lead", "themes", "text")


@dataclass(frozen=True)
class RecommendationFilter:
    country: str | None = None
    mechanism: str | None = None
    theme: str | None = None
    institution: str | None = None
    status: ImplementationStatus | None = None
    position: UprPosition | None = None
    kind: RecommendationKind | None = None
    cluster: str | None = None
    cycle: int | None = None
    deadline_id: int | None = None
    # The institution whose own answers ``status`` reads (a focal point's
    # list), with an ``own_status`` column; else the overall status.
    answering: int | None = None
    # The effective priority (storage.priorities); ``by_priority`` sorts
    # high, medium, low, none (storage.priority_order), then by id.
    priority: Priority | None = None
    by_priority: bool = False


# The columns the listing reads, by the names storage.models gives them.
recommendations = table(
    "recommendations",
    *map(column, ("id", "external_id", "country", "mechanism_id", "review_id", "document_id", "cluster_id", "paragraph", "kind", "upr_position", "priority", "text")),
)
mechanisms = table("mechanisms", column("id"), column("code"))
reviews = table("reviews", column("id"), column("cycle"))
documents = table("documents", column("id"), column("symbol"))
clusters = table("clusters", column("id"), column("name"))
status_updates = table("status_updates", column("id"), column("recommendation_id"), column("institution_id"), column("status"))
assignments = table("assignments", column("id"), column("recommendation_id"), column("institution_id"), column("role"))
institutions = table("institutions", column("id"), column("code"))
tags = table("tags", column("id"), column("kind"), column("value"))
recommendation_tags = table("recommendation_tags", column("recommendation_id"), column("tag_id"))
deadline_recommendations = table("deadline_recommendations", column("deadline_id"), column("recommendation_id"))


def _tags_of(kind: TagKind) -> Any:
    return (
        select(func.aggregate_strings(tags.c.value, "; "))
        .select_from(recommendation_tags)
        .join(tags, tags.c.id == recommendation_tags.c.tag_id)
        .where(recommendation_tags.c.recommendation_id == recommendations.c.id, tags.c.kind == kind.value)
        .scalar_subquery()
    )


def _institutions_of(role: AssignmentRole | None) -> Any:
    statement = (
        select(func.aggregate_strings(institutions.c.code, "; "))
        .select_from(assignments)
        .join(institutions, institutions.c.id == assignments.c.institution_id)
        .where(assignments.c.recommendation_id == recommendations.c.id)
    )
    if role is not None:
        statement = statement.where(assignments.c.role == role.value)
    return statement.scalar_subquery()


def _overall_update_ids() -> Any:
    """storage.status.overall_update_ids() (the rule is stated there), as history stands."""
    lead = assignments.alias()
    counts = or_(status_updates.c.institution_id.is_(None), lead.c.id.is_not(None))
    return (
        select(
            status_updates.c.recommendation_id,
            func.coalesce(func.max(case((counts, status_updates.c.id))), func.max(status_updates.c.id)).label("update_id"),
        )
        .outerjoin(
            lead,
            and_(
                lead.c.recommendation_id == status_updates.c.recommendation_id,
                lead.c.institution_id == status_updates.c.institution_id,
                lead.c.role == AssignmentRole.LEAD.value,
            ),
        )
        .group_by(status_updates.c.recommendation_id)
    )


def _priority_rank() -> Any:
    """storage.priority_order.priority_rank: high, medium, low, then none."""
    target = recommendations.c.priority
    return case(
        (target == Priority.HIGH.value, 0), (target == Priority.MEDIUM.value, 1), (target == Priority.LOW.value, 2), else_=3
    )


def _conditions(f: RecommendationFilter) -> list[Any]:
    """storage.selection.conditions, on recommendations alone."""
    found: list[Any] = []
    r = recommendations.c
    if f.country:
        found.append(same_name(r.country, f.country))
    if f.mechanism:
        found.append(r.mechanism_id.in_(select(mechanisms.c.id).where(same_name(mechanisms.c.code, f.mechanism))))
    if f.theme:
        found.append(
            r.id.in_(
                select(recommendation_tags.c.recommendation_id)
                .join(tags, tags.c.id == recommendation_tags.c.tag_id)
                .where(tags.c.kind == TagKind.THEME.value, same_name(tags.c.value, f.theme))
            )
        )
    if f.cluster:
        found.append(r.cluster_id.in_(select(clusters.c.id).where(same_name(clusters.c.name, f.cluster))))
    return found


def list_statement(filters: RecommendationFilter, limit: int | None = None) -> Select[Any]:
    """The SQL of storage.recommendations.list_statement(filters, limit)."""
    r = recommendations.c
    latest = _overall_update_ids().subquery()
    statement = (
        select(
            r.id,
            r.external_id,
            r.country,
            mechanisms.c.code.label("mechanism"),
            reviews.c.cycle.label("cycle"),
            documents.c.symbol.label("document"),
            r.paragraph,
            r.kind,
            r.upr_position.label("position"),
            func.coalesce(status_updates.c.status, literal(ImplementationStatus.NOT_STARTED.value)).label("status"),
            r.priority,
            _institutions_of(AssignmentRole.LEAD).label("lead"),
            _institutions_of(None).label("institutions"),
            clusters.c.name.label("cluster"),
            _tags_of(TagKind.THEME).label("themes"),
            _tags_of(TagKind.RECOMMENDING_STATE).label("recommending_states"),
            r.text,
        )
        .select_from(recommendations)
        .join(mechanisms, mechanisms.c.id == r.mechanism_id)
        .outerjoin(reviews, reviews.c.id == r.review_id)
        .outerjoin(documents, documents.c.id == r.document_id)
        .outerjoin(clusters, clusters.c.id == r.cluster_id)
        .outerjoin(latest, latest.c.recommendation_id == r.id)
        .outerjoin(status_updates, status_updates.c.id == latest.c.update_id)
    ).order_by(*((_priority_rank(),) if filters.by_priority else ()), r.id)
    f = filters
    if f.priority is not None:
        statement = statement.where(r.priority == f.priority.value)
    statement = statement.where(*_conditions(f))
    if f.institution:
        statement = statement.where(
            r.id.in_(
                select(assignments.c.recommendation_id)
                .join(institutions, institutions.c.id == assignments.c.institution_id)
                .where(institutions.c.code == institution_code(f.institution))
            )
        )
    status_of: Any = status_updates
    if f.answering is not None:
        # That institution's own latest answer, beside the overall status.
        own_latest = (
            select(status_updates.c.recommendation_id, func.max(status_updates.c.id).label("update_id"))
            .where(status_updates.c.institution_id == f.answering)
            .group_by(status_updates.c.recommendation_id)
            .subquery()
        )
        status_of = status_updates.alias()
        statement = (
            statement.outerjoin(own_latest, own_latest.c.recommendation_id == r.id)
            .outerjoin(status_of, status_of.c.id == own_latest.c.update_id)
            .add_columns(status_of.c.status.label("own_status"))
        )
    if f.status:
        if f.status == ImplementationStatus.NOT_STARTED:
            statement = statement.where(
                or_(status_of.c.id.is_(None), status_of.c.status == ImplementationStatus.NOT_STARTED.value)
            )
        else:
            statement = statement.where(status_of.c.status == f.status.value)
    if f.position:
        statement = statement.where(r.upr_position == f.position.value)
    if f.kind:
        statement = statement.where(r.kind == f.kind.value)
    if f.cycle is not None:
        statement = statement.where(reviews.c.cycle == f.cycle)
    if f.deadline_id is not None:
        statement = statement.where(
            r.id.in_(
                select(deadline_recommendations.c.recommendation_id).where(
                    deadline_recommendations.c.deadline_id == f.deadline_id
                )
            )
        )
    if limit is not None:
        statement = statement.limit(limit)
    return statement
