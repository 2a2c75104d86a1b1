"""Reports submitted on time: each report deadline due by a day, told apart
by the day its report was marked submitted (storage.deadline_changes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.deadline_changes import REPORT_KINDS, live
from storage.models import Deadline


@dataclass(frozen=True)
class Timeliness:
    on_time: int = 0
    late: int = 0
    # Past their date and not submitted (yet).
    not_submitted: int = 0

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.not_submitted


async def report_timeliness(session: AsyncSession, day: date) -> Timeliness:
    """The reports due before ``day`` or submitted by it, as they stood on
    ``day``: submitted on or before their date, after it, or not at all. A
    report submitted early counts before its date comes."""
    rows = (await session.execute(
        select(Deadline.due_on, Deadline.submitted_on).where(
            live(), Deadline.kind.in_(sorted(REPORT_KINDS)),
            or_(Deadline.due_on < day, Deadline.submitted_on <= day),
        )
    )).all()
    on_time = late = missing = 0
    for due_on, submitted_on in rows:
        if submitted_on is None or submitted_on > day:
            missing += 1
        elif submitted_on <= due_on:
            on_time += 1
        else:
            late += 1
    return Timeliness(on_time, late, missing)
