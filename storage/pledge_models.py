"""Yearly pledges and their report-back (issue 16): a round the secretariat
opens for a year, the pledges each institution asked makes in it, and what
became of each one at the year's end, append-only.

Kept apart from storage.models, as storage.action_models is; storage.models
imports this module at its end, so Base.metadata, the migrations'
comparison and every mapper see these tables wherever the models load.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

# The enums live with the others, so the CLI's --help offers them without the models.
from storage.enums import Channel, PledgeOutcomeKind, PledgeState
from storage.models import Base, Timestamped, str_enum
from storage.types import UTCDateTime, utcnow


class PledgeRound(Base, Timestamped):
    """One year's round: institutions are asked for their pledges from the
    day it opens until ``ask_by`` (and reminded after it), and asked back
    what became of each from ``report_back_on``."""

    __tablename__ = "pledge_rounds"
    __table_args__ = (CheckConstraint("report_back_on > ask_by", name="round_dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    ask_by: Mapped[date] = mapped_column(Date)
    report_back_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by: Mapped[str] = mapped_column(String(200))
    # Closed: nobody is asked anything more, and nothing more is taken.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))


class PledgeRoundInstitution(Base):
    """An institution the round asks, fixed when it opens (so "who has not
    pledged" has a denominator), and its word that it pledges nothing."""

    __tablename__ = "pledge_round_institutions"

    round_id: Mapped[int] = mapped_column(ForeignKey("pledge_rounds.id"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True, index=True)
    # "No pledge this year", said by one of its focal points: no more asking.
    no_pledge_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    no_pledge_by: Mapped[str | None] = mapped_column(String(200))


class Pledge(Base, Timestamped):
    """What one institution undertakes for the year, in its own words, and
    the recommendations and actions it serves. A draft until the institution
    confirms it; withdrawn rather than deleted."""

    __tablename__ = "pledges"
    __table_args__ = (Index("ix_pledges_round_id_institution_id", "round_id", "institution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "P-12": what people type and read.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("pledge_rounds.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[PledgeState] = mapped_column(str_enum(PledgeState, "pledge_state"), default=PledgeState.DRAFT)
    author_focal_point_id: Mapped[int | None] = mapped_column(ForeignKey("focal_points.id"))
    # Who, in words, even when it came from the command line.
    author_label: Mapped[str] = mapped_column(String(200))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
    # From the platform's delivery id: a redelivered message stores nothing new.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class PledgeRecommendation(Base):
    __tablename__ = "pledge_recommendations"

    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"), primary_key=True, index=True)


class PledgeAction(Base):
    __tablename__ = "pledge_actions"

    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), primary_key=True, index=True)


class PledgeOutcome(Base):
    """What became of a pledge, told at the report-back: done, partly or not,
    with a short account. Never updated or deleted (triggers, and
    storage.audit in the ORM): told again, it is a new row, and the latest
    is the one that counts."""

    __tablename__ = "pledge_outcomes"
    __table_args__ = (
        Index("ix_pledge_outcomes_pledge_id_id", "pledge_id", "id"),
        CheckConstraint("NOT (author_focal_point_id IS NOT NULL AND author_secretariat_user_id IS NOT NULL)", name="one_author"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"))
    outcome: Mapped[PledgeOutcomeKind] = mapped_column(str_enum(PledgeOutcomeKind, "pledge_outcome"))
    account: Mapped[str] = mapped_column(Text)
    author_focal_point_id: Mapped[int | None] = mapped_column(ForeignKey("focal_points.id"))
    author_secretariat_user_id: Mapped[int | None] = mapped_column(ForeignKey("secretariat_users.id"))
    author_label: Mapped[str] = mapped_column(String(200))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PledgeReminderStep(Base):
    """One step of a round's asking taken for a focal point: in the
    "pledge" phase the ask itself, a reminder before ``ask_by`` or after it,
    an escalation; in the "report" phase the same for the report-back; or a
    step folded into a later one (no outbox row), as reminder_steps is for
    deadlines: the unique key makes a second tick or process add nothing."""

    __tablename__ = "pledge_reminder_steps"
    __table_args__ = (UniqueConstraint("focal_point_id", "round_id", "phase", "step", name="uq_pledge_reminder_steps_step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    focal_point_id: Mapped[int] = mapped_column(ForeignKey("focal_points.id"))
    round_id: Mapped[int] = mapped_column(ForeignKey("pledge_rounds.id"), index=True)
    # The institution asked (the focal point's, then): escalations count per institution.
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    phase: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(32))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
