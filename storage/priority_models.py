"""The history of each recommendation's priority (issue 15): one row per
change of its level or of what the level rests on, append-only, so a report
"as of" a past day, and `priorities show --as-of`, read the priority as it
was then rather than today's.

Kept apart from storage.models, as storage.action_models is; storage.models
imports this module at its end, so Base.metadata, the migrations'
comparison and every mapper see the table wherever the models load.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.enums import Priority
from storage.models import Base, str_enum
from storage.types import UTCDateTime, utcnow


class PriorityChange(Base):
    """A recommendation's effective priority from ``at`` on, with who made
    the change and why: ``cause`` is "override" (with ``override_reason``),
    "inputs" (the secretariat's word on a criterion), "data" (what the
    criteria read changed: a follow-up selection, a linked group, tags, the
    rules) or "migration" (the level found when history began). ``criteria``
    holds each criterion as storage.priorities.PriorityView has it, so the
    reasons can be told as they stood."""

    __tablename__ = "priority_changes"
    __table_args__ = (Index("ix_priority_changes_recommendation", "recommendation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    cause: Mapped[str] = mapped_column(String(32))
    priority: Mapped[Priority | None] = mapped_column(str_enum(Priority, "priority_change_level"))
    computed: Mapped[Priority | None] = mapped_column(str_enum(Priority, "priority_change_computed"))
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    override_reason: Mapped[str | None] = mapped_column(Text)
    criteria: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
