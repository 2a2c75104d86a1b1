"""What the public may see of the history: with ``[reports]
public_requires_validation`` (the default), only input someone has
validated.

An institution's update counts publicly once its latest decision (as of the
moment) is an approval: a returned one, or one nobody has looked at yet, is
left out, and the institution's last validated update stands in its place.
The secretariat's own records (no institution: the command line, an import)
are not up for validation (storage.validations) and always count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from storage.enums import ValidationDecision
from storage.models import StatusUpdate, Validation


def counts_publicly(as_of: datetime | None = None) -> Any:
    """A condition on StatusUpdate: the update may be shown to the public."""
    decided = select(Validation.decision).where(Validation.status_update_id == StatusUpdate.id)
    if as_of is not None:
        decided = decided.where(Validation.created_at <= as_of)
    latest = decided.order_by(Validation.id.desc()).limit(1).correlate(StatusUpdate).scalar_subquery()
    return or_(StatusUpdate.institution_id.is_(None), latest == ValidationDecision.APPROVED)
