"""The implementation plan's indicators (issue 16): what is measured, by
whom and how often, and the values given for it, append-only.

Kept apart from storage.models, as storage.action_models is; storage.models
imports this module at its end, so Base.metadata, the migrations'
comparison and every mapper see these tables wherever the models load.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# The two enums live with the others, so the CLI's --help offers them without the models.
from storage.enums import Channel, IndicatorFrequency, IndicatorKind
from storage.models import Base, Timestamped, str_enum
from storage.types import UTCDateTime, utcnow


# Each frequency in months: due dates and the periods they ask about.
FREQUENCY_MONTHS = {
    IndicatorFrequency.MONTHLY: 1, IndicatorFrequency.QUARTERLY: 3, IndicatorFrequency.HALF_YEARLY: 6, IndicatorFrequency.YEARLY: 12,
}

# Decimal places an indicator's value keeps.
SCALE = 6
_QUANTUM = Decimal(1).scaleb(-SCALE)


class Measure(TypeDecorator[Decimal]):
    """A measured value (a count, a rate, a share), read back as a Decimal
    on every backend, without trailing zeros: 12.5, not 12.500000.

    SQLite has no decimal type: SQLAlchemy's Numeric there warns and keeps a
    float. Bound as that float and read back to six places, a value of at
    most 15 significant digits (storage.indicators refuses more) reads the
    same on both backends.
    """

    impl = Numeric(24, SCALE, asdecimal=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, (Decimal, int)):
            raise TypeError(f"expected a Decimal, got {type(value).__name__}")
        return Decimal(value).quantize(_QUANTUM)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return plain(Decimal(str(value)))


def plain(value: Decimal) -> Decimal:
    """To six places, without trailing zeros or an exponent: 1000, not 1E+3."""
    return Decimal(format(value.quantize(_QUANTUM).normalize(), "f"))


class Indicator(Base, Timestamped):
    """Something measured to follow the implementation of actions or
    recommendations, reported by one institution at a fixed frequency: its
    focal point is asked for each value from ``first_due`` on."""

    __tablename__ = "indicators"
    __table_args__ = (
        CheckConstraint("plausible_min IS NULL OR plausible_max IS NULL OR plausible_max >= plausible_min", name="plausible_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "I-3": what people type and read; the template's natural key.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[IndicatorKind] = mapped_column(str_enum(IndicatorKind, "indicator_kind"))
    definition: Mapped[str] = mapped_column(Text)
    # "%", "cases", "per 100,000 live births".
    unit: Mapped[str] = mapped_column(String(100))
    baseline_value: Mapped[Decimal | None] = mapped_column(Measure)
    baseline_date: Mapped[date | None] = mapped_column(Date)
    target_value: Mapped[Decimal | None] = mapped_column(Measure)
    target_date: Mapped[date | None] = mapped_column(Date)
    data_source: Mapped[str | None] = mapped_column(String(300))
    # "sex; age; department": how the value is broken down, if at all.
    disaggregation: Mapped[str | None] = mapped_column(String(300))
    frequency: Mapped[IndicatorFrequency] = mapped_column(str_enum(IndicatorFrequency, "indicator_frequency"))
    # Who reports it: its focal points are asked at each due date.
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    # Set by the secretariat: a value outside is asked again, with the reason.
    plausible_min: Mapped[Decimal | None] = mapped_column(Measure)
    plausible_max: Mapped[Decimal | None] = mapped_column(Measure)
    # The first due date; the next ones follow every ``frequency``.
    first_due: Mapped[date] = mapped_column(Date)
    # Retired by the secretariat: asked no more, kept in the history and the
    # reports, marked retired from then on (migration 0029).
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_reason: Mapped[str | None] = mapped_column(Text)


class IndicatorAction(Base):
    __tablename__ = "indicator_actions"

    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), primary_key=True, index=True)


class IndicatorRecommendation(Base):
    __tablename__ = "indicator_recommendations"

    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"), primary_key=True, index=True)


class IndicatorValue(Base):
    """One value given for an indicator. Never updated or deleted (triggers,
    and storage.audit in the ORM): a corrected figure is a new row for the
    same period, and the latest given for a period is the one that counts."""

    __tablename__ = "indicator_values"
    __table_args__ = (
        Index("ix_indicator_values_indicator_id_id", "indicator_id", "id"),
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint(
            "NOT (focal_point_id IS NOT NULL AND secretariat_user_id IS NOT NULL)",
            name="one_reporter",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"))
    value: Mapped[Decimal] = mapped_column(Measure)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # The due date whose request this answers, when it answers one.
    due_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)
    # The institution it was given for (the indicator's, then).
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    # Who reported it: a focal point, or a secretariat user (neither: the command line).
    focal_point_id: Mapped[int | None] = mapped_column(ForeignKey("focal_points.id"))
    secretariat_user_id: Mapped[int | None] = mapped_column(ForeignKey("secretariat_users.id"))
    # Who, in words, even when it came from the command line.
    reporter_label: Mapped[str] = mapped_column(String(200))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    # From the platform's delivery id: a redelivered message stores nothing new.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IndicatorReminderStep(Base):
    """One step of an indicator's request taken for a focal point and a due
    date: the request itself ("due"), a reminder ("overdue-2"), an
    escalation ("escalate-1"), or a step folded into a later one (no outbox
    row), as reminder_steps is for deadlines."""

    __tablename__ = "indicator_reminder_steps"
    # Named: the convention's name would pass PostgreSQL's 63 characters.
    __table_args__ = (UniqueConstraint("focal_point_id", "indicator_id", "due_on", "step", name="uq_indicator_reminder_steps_step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    focal_point_id: Mapped[int] = mapped_column(ForeignKey("focal_points.id"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(32))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
