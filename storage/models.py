"""The registry's tables.

Read top to bottom: where recommendations come from (mechanisms, reviews,
documents), the recommendations and their tags, who answers for them
(institutions, focal points, assignments), when (deadlines), what was done
(status updates, append-only), and the bookkeeping (audit log, import runs).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.enums import (
    AssignmentRole,
    BudgetImplications,
    Channel,
    DeadlineKind,
    EvidenceFileState,
    EvidenceKind,
    FocalPointRole,
    FollowUpSource,
    ImplementationStatus,
    ImportSource,
    InstitutionKind,
    LinkDecision,
    MechanismKind,
    OutboxKind,
    OutboxStatus,
    Platform,
    Priority,
    RecommendationKind,
    SecretariatRole,
    TagKind,
    UprPosition,
    ValidationDecision,
)
from storage.types import UTCDateTime, utcnow

# Alembic needs deterministic constraint names to alter them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def str_enum(enum_cls: type[StrEnum], name: str) -> Enum:
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# --- where recommendations come from -------------------------------------


class Mechanism(Base):
    """A body that issues recommendations: UPR, a treaty body, a special procedure."""

    __tablename__ = "mechanisms"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[MechanismKind] = mapped_column(str_enum(MechanismKind, "mechanism_kind"))
    treaty: Mapped[str | None] = mapped_column(String(200))


class Review(Base):
    """One review of one State by one mechanism, e.g. the UPR's third cycle."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("mechanism_id", "country", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mechanism_id: Mapped[int] = mapped_column(ForeignKey("mechanisms.id"))
    country: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(200))
    cycle: Mapped[int | None] = mapped_column(Integer)
    session: Mapped[int | None] = mapped_column(Integer)
    review_date: Mapped[date | None] = mapped_column(Date)

    mechanism: Mapped[Mechanism] = relationship()


class Document(Base):
    """A UN document that carries recommendations, e.g. ``CEDAW/C/IRQ/CO/8``."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str] = mapped_column(String(200), unique=True)
    mechanism_id: Mapped[int | None] = mapped_column(ForeignKey("mechanisms.id"))
    published_on: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str | None] = mapped_column(String(500))


# --- recommendations -------------------------------------------------------


class Cluster(Base, Timestamped):
    """The secretariat's thematic grouping of recommendations."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[Priority | None] = mapped_column(str_enum(Priority, "priority"))


class Tag(Base):
    """One value of a multi-valued attribute: a theme, an SDG target, a recommending State."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TagKind] = mapped_column(str_enum(TagKind, "tag_kind"))
    value: Mapped[str] = mapped_column(String(500))


recommendation_tags = Table(
    "recommendation_tags",
    Base.metadata,
    Column("recommendation_id", ForeignKey("recommendations.id"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True, index=True),
)


class Recommendation(Base, Timestamped):
    __tablename__ = "recommendations"
    __table_args__ = (
        # The natural key: a UHRI annotation id, a UPR Info content key, or
        # the secretariat's own id in the template. Re-imports upsert on it.
        UniqueConstraint("source", "external_id"),
        Index("ix_recommendations_country", "country"),
        Index("ix_recommendations_mechanism_id", "mechanism_id"),
        Index("ix_recommendations_cluster_id", "cluster_id"),
        Index("ix_recommendations_external_id", "external_id"),
        Index("ix_recommendations_match_key", "match_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[ImportSource] = mapped_column(str_enum(ImportSource, "import_source"))
    external_id: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    paragraph: Mapped[str | None] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(200))
    kind: Mapped[RecommendationKind] = mapped_column(
        str_enum(RecommendationKind, "recommendation_kind")
    )
    mechanism_id: Mapped[int] = mapped_column(ForeignKey("mechanisms.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    upr_position: Mapped[UprPosition | None] = mapped_column(str_enum(UprPosition, "upr_position"))
    # Committees grade follow-up replies A-E with sub-grades (B1, B2...); kept open.
    follow_up_grade: Mapped[str | None] = mapped_column(String(8))
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"))
    priority: Mapped[Priority | None] = mapped_column(str_enum(Priority, "priority"))
    published_on: Mapped[date | None] = mapped_column(Date)
    # Hash of everything imported for this row: an unchanged re-import writes nothing.
    content_hash: Mapped[str] = mapped_column(String(64))
    # What a UHRI row and a UPR Info row of one UPR recommendation share
    # (storage.recommendation_match); NULL for all else.
    match_key: Mapped[str | None] = mapped_column(String(64))

    mechanism: Mapped[Mechanism] = relationship()
    document: Mapped[Document | None] = relationship()
    review: Mapped[Review | None] = relationship()
    cluster: Mapped[Cluster | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=recommendation_tags)


class RecommendationSource(Base):
    """Every source a recommendation came from, with that source's own id:
    a UPR recommendation published by UHRI and by UPR Info is one
    recommendation with (at least) two. The recommendation's own
    (source, external_id) is the first of them."""

    __tablename__ = "recommendation_sources"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"), index=True)
    source: Mapped[ImportSource] = mapped_column(str_enum(ImportSource, "import_source"))
    external_id: Mapped[str] = mapped_column(String(200))
    # This source's row as last imported: its re-import with no change writes nothing.
    content_hash: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A UPR Info row's own tags, [[kind, value], ...] (its recommending State
    # among them): the recommendation holds several States' rows, and a UHRI
    # paragraph naming only some takes those (storage.importers.writer).
    # NULL for other sources and for rows imported before migration 0026.
    row_tags: Mapped[list[list[str]] | None] = mapped_column(JSON)
    # A UHRI row's cells as last read (storage.importers.unchanged): the same
    # cells again are the same recommendation, known without parsing them.
    # NULL for other sources and for rows imported before migration 0031.
    row_digest: Mapped[str | None] = mapped_column(String(32))



# --- one issue, one answer (issue 15) ----------------------------------------


class LinkGroup(Base):
    """Recommendations that ask for the same thing, from any mechanisms,
    confirmed by the secretariat: answered once, counted once as recurring."""

    __tablename__ = "link_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The secretariat's own name for the issue; none until it gives one.
    title: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class LinkGroupMember(Base):
    """A recommendation is in at most one group: the primary key says so."""

    __tablename__ = "link_group_members"

    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("link_groups.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by: Mapped[str] = mapped_column(String(200))


class LinkSuggestion(Base):
    """A group proposed by `links suggest`, kept so it can be confirmed or
    dismissed later, from the command line or a chat button, by its number."""

    __tablename__ = "link_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The recommendation ids, ascending, as a JSON list.
    member_ids: Mapped[list[int]] = mapped_column(JSON)
    # How alike the members are, 0-1, for ordering and for the reader.
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision: Mapped[LinkDecision | None] = mapped_column(str_enum(LinkDecision, "link_decision"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    # The group a confirmation made.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("link_groups.id"))


class PriorityInput(Base):
    """What only the secretariat can say about a recommendation's priority
    (the Guide's criteria 3 and 4) and its override. The other criteria are
    read from the data (storage.priorities); recommendations.priority holds
    the result."""

    __tablename__ = "priority_inputs"

    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"), primary_key=True)
    budget_implications: Mapped[BudgetImplications | None] = mapped_column(
        str_enum(BudgetImplications, "budget_implications")
    )
    national_priority: Mapped[bool | None] = mapped_column(Boolean)
    # The secretariat's word on the criteria read from the data (urgency,
    # recurrence, marginalised groups): NULL follows the data.
    urgency: Mapped[bool | None] = mapped_column(Boolean)
    recurrence: Mapped[bool | None] = mapped_column(Boolean)
    marginalised: Mapped[bool | None] = mapped_column(Boolean)
    override: Mapped[Priority | None] = mapped_column(str_enum(Priority, "priority_override"))
    override_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))


class FollowUpSelection(Base):
    """A concluding observation's paragraph the committee selected for its
    follow-up procedure: the follow-up information deadline covers these."""

    __tablename__ = "follow_up_selections"

    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"), primary_key=True)
    source: Mapped[FollowUpSource] = mapped_column(str_enum(FollowUpSource, "follow_up_source"))
    selected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    selected_by: Mapped[str] = mapped_column(String(200))


# --- who answers for them --------------------------------------------------


class Institution(Base, Timestamped):
    """A ministry, agency, parliament, court or office that implements recommendations."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[InstitutionKind] = mapped_column(str_enum(InstitutionKind, "institution_kind"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Institution | None] = relationship(remote_side="Institution.id")


class FocalPoint(Base, Timestamped):
    """A person who answers for an institution.

    A replaced focal point is closed (``active_to``) rather than deleted, so
    the updates they gave keep their author.
    """

    __tablename__ = "focal_points"
    __table_args__ = (
        CheckConstraint("active_to IS NULL OR active_to >= active_from", name="active_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    role: Mapped[FocalPointRole] = mapped_column(str_enum(FocalPointRole, "focal_point_role"))
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    active_from: Mapped[date] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    # Set in chat ("snooze until", out of office): no reminder up to this day.
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    # "HH:MM-HH:MM" in their own time zone, when not [schedule] hours.
    working_hours: Mapped[str | None] = mapped_column(String(11))
    # Whose public holidays they keep (ISO 3166-1 alpha-2, and the holidays
    # package's subdivision code such as "BY"); None: [schedule] country.
    country: Mapped[str | None] = mapped_column(String(2))
    subdivision: Mapped[str | None] = mapped_column(String(32))

    institution: Mapped[Institution] = relationship()
    identities: Mapped[list[ChatIdentity]] = relationship(back_populates="focal_point")


class SecretariatUser(Base, Timestamped):
    __tablename__ = "secretariat_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    role: Mapped[SecretariatRole] = mapped_column(str_enum(SecretariatRole, "secretariat_role"), default=SecretariatRole.VIEWER)

    identities: Mapped[list[ChatIdentity]] = relationship(back_populates="secretariat_user")


class ChatIdentity(Base):
    """Who a person is on one chat platform, e.g. a Telegram user id or a Slack member id."""

    __tablename__ = "chat_identities"
    __table_args__ = (
        UniqueConstraint("platform", "workspace_id", "platform_user_id"),
        CheckConstraint(
            "(focal_point_id IS NULL) <> (secretariat_user_id IS NULL)", name="one_owner"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, "platform"))
    # The Slack team id; empty for Telegram, which has no workspaces.
    workspace_id: Mapped[str] = mapped_column(String(64), default="")
    platform_user_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    focal_point_id: Mapped[int | None] = mapped_column(ForeignKey("focal_points.id"), index=True)
    secretariat_user_id: Mapped[int | None] = mapped_column(ForeignKey("secretariat_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The platform refused to deliver (blocked the bot, left the workspace):
    # no more sends until the person writes again.
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unreachable_reason: Mapped[str | None] = mapped_column(String(300))

    focal_point: Mapped[FocalPoint | None] = relationship(back_populates="identities")
    secretariat_user: Mapped[SecretariatUser | None] = relationship(back_populates="identities")


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("recommendation_id", "institution_id"),
        # At most one lead institution per recommendation.
        Index(
            "uq_assignments_one_lead",
            "recommendation_id",
            unique=True,
            sqlite_where=text("role = 'lead'"),
            postgresql_where=text("role = 'lead'"),
        ),
        Index("ix_assignments_institution_id", "institution_id"),
        # The assignment notices look at what was assigned lately.
        Index("ix_assignments_assigned_at", "assigned_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    role: Mapped[AssignmentRole] = mapped_column(str_enum(AssignmentRole, "assignment_role"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_by: Mapped[str] = mapped_column(String(200))

    recommendation: Mapped[Recommendation] = relationship()
    institution: Mapped[Institution] = relationship()


# --- when ------------------------------------------------------------------

deadline_recommendations = Table(
    "deadline_recommendations",
    Base.metadata,
    Column("deadline_id", ForeignKey("deadlines.id"), primary_key=True),
    Column("recommendation_id", ForeignKey("recommendations.id"), primary_key=True, index=True),
)


class Deadline(Base, Timestamped):
    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DeadlineKind] = mapped_column(str_enum(DeadlineKind, "deadline_kind"))
    # What the secretariat called it; none when the kind, mechanism and
    # country name it, so each reader gets the name in their own language.
    title: Mapped[str | None] = mapped_column(String(300))
    country: Mapped[str | None] = mapped_column(String(200))
    # A calendar date in the State's own calendar: deadlines are days, not instants.
    due_on: Mapped[date] = mapped_column(Date, index=True)
    mechanism_id: Mapped[int | None] = mapped_column(ForeignKey("mechanisms.id"))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    # An internal input deadline points at the report deadline it serves.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    # The report went to the mechanism on this day (the State's calendar): its
    # reminders stop, and the day tells on time from late. Who said so.
    submitted_on: Mapped[date | None] = mapped_column(Date)
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    # Withdrawn rather than deleted (storage.deadline_changes): sent reminders,
    # requests and the audit log still name it, so it stays, out of every list.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))

    mechanism: Mapped[Mechanism | None] = relationship()
    parent: Mapped[Deadline | None] = relationship(remote_side="Deadline.id")
    recommendations: Mapped[list[Recommendation]] = relationship(
        secondary=deadline_recommendations
    )


# --- what was done (append-only) -------------------------------------------


class StatusUpdate(Base):
    """One report of progress. Never updated or deleted (enforced by triggers).

    Each institution's status, and the recommendation's overall status, are
    derived by query (the rule is in storage/status.py); a correction is a
    new row pointing at the one it corrects.
    """

    __tablename__ = "status_updates"
    __table_args__ = (
        Index("ix_status_updates_recommendation_id_id", "recommendation_id", "id"),
        # Each institution's latest update of each recommendation (storage.status), from the index alone.
        Index("ix_status_updates_recommendation_institution_id", "recommendation_id", "institution_id", "id"),
        CheckConstraint(
            "NOT (author_focal_point_id IS NOT NULL AND author_secretariat_user_id IS NOT NULL)",
            name="one_author",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"), index=True)
    status: Mapped[ImplementationStatus] = mapped_column(
        str_enum(ImplementationStatus, "implementation_status")
    )
    narrative: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(Text)
    next_step_due_on: Mapped[date | None] = mapped_column(Date)
    author_focal_point_id: Mapped[int | None] = mapped_column(ForeignKey("focal_points.id"))
    author_secretariat_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("secretariat_users.id")
    )
    # Who, in words, even when the author is a command line or an import.
    author_label: Mapped[str] = mapped_column(String(200))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("status_updates.id"))
    # Set from the platform's delivery id so a redelivered message stores nothing new.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Given once for a whole linked group (storage.links): the same answer is
    # stored on each of its recommendations, each row naming the group.
    link_group_id: Mapped[int | None] = mapped_column(ForeignKey("link_groups.id"), index=True)

    evidence: Mapped[list[Evidence]] = relationship(back_populates="status_update")


class Evidence(Base):
    """A link or a file given with a status update; append-only like the update."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    status_update_id: Mapped[int] = mapped_column(ForeignKey("status_updates.id"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind, "evidence_kind"))
    url: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(500))
    mime_type: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    platform_file_id: Mapped[str | None] = mapped_column(String(300))

    status_update: Mapped[StatusUpdate] = relationship(back_populates="evidence")


class Validation(Base):
    """An institution's validator approving (or returning) one of its
    updates. Append-only: a second look is a new row; the latest counts."""

    __tablename__ = "validations"
    __table_args__ = (Index("ix_validations_status_update_id_id", "status_update_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status_update_id: Mapped[int] = mapped_column(ForeignKey("status_updates.id"))
    decision: Mapped[ValidationDecision] = mapped_column(str_enum(ValidationDecision, "validation_decision"))
    validator_focal_point_id: Mapped[int | None] = mapped_column(ForeignKey("focal_points.id"))
    validator_label: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    # From the delivery that pressed the button: a redelivery adds nothing.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ValidationAnswer(Base):
    """The update that answers a returned input: the institution's next
    update of that recommendation after the return (storage.validations).
    Append-only, like the validation and the update it links."""

    __tablename__ = "validation_answers"

    validation_id: Mapped[int] = mapped_column(ForeignKey("validations.id"), primary_key=True)
    status_update_id: Mapped[int] = mapped_column(ForeignKey("status_updates.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- information requests from the secretariat --------------------------------

request_recommendations = Table(
    "request_recommendations",
    Base.metadata,
    Column("request_id", ForeignKey("information_requests.id"), primary_key=True),
    Column("recommendation_id", ForeignKey("recommendations.id"), primary_key=True),
)


class InformationRequest(Base):
    """A question the secretariat broadcasts to some or all focal points."""

    __tablename__ = "information_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    # How the recipients were chosen: {"kind": "all" | "institutions" | ..., "values": [...]}.
    target: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    secretariat_user_id: Mapped[int | None] = mapped_column(ForeignKey("secretariat_users.id"))
    # When it names recommendations: the deadline that brings reminders and escalation.
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recommendations: Mapped[list[Recommendation]] = relationship(secondary=request_recommendations)


class RequestRecipient(Base):
    __tablename__ = "request_recipients"
    __table_args__ = (UniqueConstraint("request_id", "focal_point_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("information_requests.id"), index=True)
    focal_point_id: Mapped[int] = mapped_column(ForeignKey("focal_points.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))


class RequestAnswer(Base):
    """An answer to a request: typed text, or a status update given for it."""

    __tablename__ = "request_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("information_requests.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    focal_point_id: Mapped[int | None] = mapped_column(ForeignKey("focal_points.id"))
    text: Mapped[str | None] = mapped_column(Text)
    status_update_id: Mapped[int | None] = mapped_column(ForeignKey("status_updates.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- bookkeeping -------------------------------------------------------------


class AuditEntry(Base):
    """One change to the registry: who, when, what. Append-only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ImportRun(Base):
    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[ImportSource] = mapped_column(str_enum(ImportSource, "import_source"))
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)



# --- conversations (the chat side) -------------------------------------------


class ConversationState(Base):
    """Where one person is in a conversation with the bot, kept in the
    database so that a restart mid-conversation resumes where they were."""

    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, "platform"))
    workspace_id: Mapped[str] = mapped_column(String(64), default="")
    platform_user_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set from the engine's clock, never from the wall clock: the timeout of
    # an abandoned conversation must follow the time the tests drive.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessedDelivery(Base):
    """A platform delivery already handled: a redelivery of the same id
    (Telegram update_id, Slack event_id) is acknowledged and ignored."""

    __tablename__ = "processed_deliveries"

    platform: Mapped[Platform] = mapped_column(str_enum(Platform, "platform"), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class PendingDelivery(Base):
    """A delivery acknowledged before its handling ended, kept until it is
    handled (storage.pending): Slack's 3 seconds may run out first."""

    __tablename__ = "pending_deliveries"

    platform: Mapped[Platform] = mapped_column(str_enum(Platform, "platform"), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Invite(Base):
    """A one-time code that links a chat account to a focal point."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only a hash is stored: a leaked database must not hand out accounts.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    focal_point_id: Mapped[int] = mapped_column(ForeignKey("focal_points.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SecretariatInvite(Base):
    """A one-time code that links one chat account to a secretariat user:
    spent by the first account that sends it, on whichever platform."""

    __tablename__ = "secretariat_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    secretariat_user_id: Mapped[int] = mapped_column(ForeignKey("secretariat_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_platform: Mapped[Platform | None] = mapped_column(str_enum(Platform, "platform"))
    # Ended unspent: a newer code was made, or the user was removed.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InviteUse(Base):
    """An invite spent on one platform. One code serves Telegram and Slack,
    and each platform's first account linked for the focal point spends it
    there, whether it came with the code or was matched by e-mail."""

    __tablename__ = "invite_uses"

    invite_id: Mapped[int] = mapped_column(ForeignKey("invites.id"), primary_key=True)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, "platform"), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- reminders ------------------------------------------------------------------


class OutboxMessage(Base):
    """A message the bot owes someone, kept until the platform took it.

    The unique ``key`` makes planning idempotent (one digest per person per
    day); the status and the lease make sending exactly-once between bot
    processes and resumable after a crash.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OutboxKind] = mapped_column(str_enum(OutboxKind, "outbox_kind"))
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, "platform"))
    workspace_id: Mapped[str] = mapped_column(String(64), default="")
    platform_user_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("chat_identities.id"))
    focal_point_id: Mapped[int | None] = mapped_column(ForeignKey("focal_points.id"), index=True)
    secretariat_user_id: Mapped[int | None] = mapped_column(ForeignKey("secretariat_users.id"))
    # {"key", "text", "language", "buttons": [[{"label", "action"}]]}, rendered
    # when planned, in the reader's language.
    message: Mapped[dict[str, Any]] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The end of the reader's working window: later, it waits for the next one.
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    # The reader's own working hours, when not the configured ones.
    working_hours: Mapped[str | None] = mapped_column(String(11))
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, "outbox_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Committed just before the platform is called: a crash after it leaves
    # the one case nobody can settle (did the platform take it?).
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The platform's id of what was sent (Telegram message_id, Slack ts; the
    # last one when the text went as several): where a delivery check after a
    # crash starts looking.
    platform_message_id: Mapped[str | None] = mapped_column(String(64))
    # When the send a crash cut off had begun (kept when the row is claimed
    # again): messages the outbox had sent to that chat by then came before it.
    interrupted_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Found mid-send after a crash and sent again without the platform able to
    # say whether the first send arrived: it may have arrived twice.
    ambiguous: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AssignmentNotice(Base):
    """An assignment a focal point was told of, and the outbox message that
    told them (handlers.assignment_notices): each one is told once."""

    __tablename__ = "assignment_notices"

    focal_point_id: Mapped[int] = mapped_column(ForeignKey("focal_points.id"), primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), primary_key=True)
    # The local working day of the notice: one notice a person a day.
    day: Mapped[date] = mapped_column(Date)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderStep(Base):
    """One step of the reminder plan taken for a person and a deadline: a
    reminder ("30" days before, "overdue-2"), an escalation ("escalate-1"),
    or a step skipped because a later one superseded it (no outbox row)."""

    __tablename__ = "reminder_steps"
    __table_args__ = (UniqueConstraint("focal_point_id", "deadline_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    focal_point_id: Mapped[int] = mapped_column(ForeignKey("focal_points.id"))
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvidenceFile(Base):
    """A file sent as evidence, as the bot keeps it (storage.evidence_files):
    one row per file on its platform, however many updates carry it (a
    correction or a "no change" repeats the evidence). Who sent it is on the
    update of ``evidence_id``, the first that carried it."""

    __tablename__ = "evidence_files"
    __table_args__ = (
        UniqueConstraint("platform", "platform_file_id"),
        Index("ix_evidence_files_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, "platform"))
    platform_file_id: Mapped[str] = mapped_column(String(300))
    state: Mapped[EvidenceFileState] = mapped_column(str_enum(EvidenceFileState, "evidence_file_state"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Once stored: where in the store (relative), its SHA-256, size and type as downloaded.
    path: Mapped[str | None] = mapped_column(String(300))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(200))
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Refused or failed: when the person who sent it was told.
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClosureDay(Base, Timestamped):
    """Days the secretariat declared closed, beside the statutory holidays
    (Uruguay's Tourism Week): no reminder lands on them. Scoped to a country,
    or a country's subdivision, or (neither) everyone."""

    __tablename__ = "closure_days"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="closure_range"),
        CheckConstraint("subdivision IS NULL OR country IS NOT NULL", name="closure_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date] = mapped_column(Date)
    country: Mapped[str | None] = mapped_column(String(2))
    subdivision: Mapped[str | None] = mapped_column(String(32))


# Tables whose rows are history: the migration adds triggers that refuse
# UPDATE and DELETE on them, and storage.audit refuses them in the ORM.
APPEND_ONLY_TABLES: tuple[str, ...] = (
    "status_updates", "evidence", "audit_log", "validations", "request_answers", "validation_answers",
    "action_updates", "indicator_values", "pledge_outcomes", "priority_changes",
)

# The implementation plan's tables (issue 16) live in their own module; loaded
# here so every user of Base.metadata (the migrations, their comparison with
# the models, the mappers) has them. Last, since it needs Base and str_enum.
from storage import action_models as action_models  # noqa: E402
from storage import indicator_models as indicator_models  # noqa: E402
from storage import pledge_models as pledge_models  # noqa: E402
from storage import priority_models as priority_models  # noqa: E402
