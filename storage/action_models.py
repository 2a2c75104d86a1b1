"""The implementation plan's tables (issue 16): actions (the measures a State
takes on its recommendations), their links, their append-only history, and
the national plans ("frameworks") they can belong to.

Kept apart from storage.models so the plan's parts (actions, indicators,
pledges) can grow side by side; storage.models imports this module at its
end, so Base.metadata, the migrations' comparison and every mapper see these
tables wherever the registry's models are loaded.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# The two enums live with the others, so the CLI's --help offers them without the models.
from storage.enums import ActionState, Channel, FrameworkKind, ImplementationStatus
from storage.models import Base, Timestamped, str_enum
from storage.types import Money, UTCDateTime, utcnow


class Framework(Base):
    """A national human-rights action plan, a development plan or another
    plan, with its own chapters."""

    __tablename__ = "frameworks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[FrameworkKind] = mapped_column(str_enum(FrameworkKind, "framework_kind"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FrameworkChapter(Base):
    """A chapter (or axis, or pillar) of a framework; its code is the plan's own ("2.3")."""

    __tablename__ = "framework_chapters"
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"))
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))


class Action(Base, Timestamped):
    """A measure the State takes on one or more recommendations or linked
    groups. Its status is the latest of its updates (action_updates), kept
    here too so listings and reminders need no scan of the history."""

    __tablename__ = "actions"
    __table_args__ = (
        CheckConstraint("start_date IS NULL OR target_date IS NULL OR target_date >= start_date", name="action_dates"),
        CheckConstraint("budget_amount IS NULL OR budget_amount >= 0", name="action_budget"),
        Index("ix_actions_responsible_institution_id", "responsible_institution_id"),
        Index("ix_actions_state_target_date", "state", "target_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "A-12": what people type and read; the template's natural key.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    responsible_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    status: Mapped[ImplementationStatus] = mapped_column(
        str_enum(ImplementationStatus, "implementation_status"), default=ImplementationStatus.NOT_STARTED
    )
    start_date: Mapped[date | None] = mapped_column(Date)
    target_date: Mapped[date | None] = mapped_column(Date)
    budget_amount: Mapped[Decimal | None] = mapped_column(Money)
    # ISO 4217 ("UYU", "EUR").
    budget_currency: Mapped[str | None] = mapped_column(String(3))
    budget_source: Mapped[str | None] = mapped_column(String(300))
    # The secretariat's word that the budget stays out of public outputs.
    budget_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("focal_points.id"))
    state: Mapped[ActionState] = mapped_column(str_enum(ActionState, "action_state"), default=ActionState.ACCEPTED)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    # Why a proposal was rejected, told to the focal point who proposed it.
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))


class ActionRecommendation(Base):
    __tablename__ = "action_recommendations"

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"), primary_key=True, index=True)


class ActionLinkGroup(Base):
    __tablename__ = "action_link_groups"

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), primary_key=True)
    link_group_id: Mapped[int] = mapped_column(ForeignKey("link_groups.id"), primary_key=True, index=True)


class ActionInstitution(Base):
    """A contributing institution; the responsible one is on the action."""

    __tablename__ = "action_institutions"

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True, index=True)


class ActionSdgTarget(Base):
    """One of the 2030 Agenda's 169 targets ("5.2", "16.a"), as storage.sdgs reads them."""

    __tablename__ = "action_sdg_targets"

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), primary_key=True)
    target: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)


class ActionChapter(Base):
    __tablename__ = "action_chapters"

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("framework_chapters.id"), primary_key=True, index=True)


class ActionUpdate(Base):
    """One report of progress on an action, as status_updates is for a
    recommendation. Never updated or deleted (triggers, and storage.audit in
    the ORM); a correction is a new row pointing at the one it corrects."""

    __tablename__ = "action_updates"
    __table_args__ = (
        Index("ix_action_updates_action_id_id", "action_id", "id"),
        CheckConstraint(
            "NOT (author_focal_point_id IS NOT NULL AND author_secretariat_user_id IS NOT NULL)",
            name="one_author",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    # The author's institution; none for the secretariat's own record.
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    status: Mapped[ImplementationStatus] = mapped_column(str_enum(ImplementationStatus, "implementation_status"))
    # What was done.
    narrative: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(Text)
    next_step_due_on: Mapped[date | None] = mapped_column(Date)
    author_focal_point_id: Mapped[int | None] = mapped_column(ForeignKey("focal_points.id"))
    author_secretariat_user_id: Mapped[int | None] = mapped_column(ForeignKey("secretariat_users.id"))
    author_label: Mapped[str] = mapped_column(String(200))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("action_updates.id"))
    # From the platform's delivery id: a redelivered message stores nothing new.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActionReminderStep(Base):
    """One reminder of an action's target date taken for a focal point
    ("7" days before, "overdue-1"), as reminder_steps is for deadlines: the
    unique key makes a second tick or a second process add nothing."""

    __tablename__ = "action_reminder_steps"
    __table_args__ = (UniqueConstraint("focal_point_id", "action_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    focal_point_id: Mapped[int] = mapped_column(ForeignKey("focal_points.id"))
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
