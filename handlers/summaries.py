"""The secretariat's three questions, per institution or per cluster:
how far along are we (progress), what is late (overdue), who has said
nothing at all (missing). Platform-neutral: the CLI prints them, the chat
will send them.

Per institution, each institution is counted by its own answers (its own
status, "missing" while it has not answered itself), per cluster, SDG goal
or SDG target by the overall status (the rule is stated in storage/status.py).
By SDG a recommendation counts under each of its goals (targets), so the
lines add up to more than the registry; one with none is under "—". A goal
tagged as a whole, with no target, is under its goal ("5") by target.

"Overdue" is the reminder plan's own notion: a recommendation under a
deadline that has passed, not answered by its institution since the
reminders for that deadline began. So a summary and a reminder never
disagree about what is late.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.reminders.plan import Policy
from handlers.reminders.snapshot import load_snapshot
from messages import DEFAULT_LANGUAGE
from storage.choices import SUMMARY_GROUPINGS as GROUPINGS
from storage.clock import utcnow
from storage.enums import ImplementationStatus
from storage.models import Institution
from storage.report_rows import ReportScope, stream_report_rows
from storage.sdgs import Sdg, goal_label, goals_of, sort_key

STATUSES = [s.value for s in ImplementationStatus]
NONE = "—"


@dataclass
class Line:
    group: str
    counts: Counter[str] = field(default_factory=Counter)
    overdue: int = 0
    missing: int = 0
    # Where the line goes: by name, but SDGs in the UN's order (SDG 2 before SDG 10).
    order: tuple[object, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def response_rate(self) -> float:
        """The share with any update: "no change" is an answer too."""
        return round((self.total - self.missing) / self.total, 3) if self.total else 0.0

    def as_row(self) -> dict[str, Any]:
        return {"group": self.group, **{s: self.counts.get(s, 0) for s in STATUSES}, "total": self.total,
                "response_rate": self.response_rate, "overdue": self.overdue, "missing": self.missing}


SUMMARY_COLUMNS = ("group", *STATUSES, "total", "response_rate", "overdue", "missing")


async def summarise(
    session: AsyncSession, by: str, policy: Policy, *, as_of: datetime | None = None, scope: ReportScope | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> list[Line]:
    """One line a group, ordered by name (SDGs by number), with every status
    counted; SDG goals named in ``language``."""
    if by not in GROUPINGS:
        raise ValueError(f"summaries are by {', '.join(GROUPINGS)}, not {by!r}")
    lines: dict[str, Line] = defaultdict(lambda: Line(""))
    # Each recommendation's groups other than institutions, for its overdue items.
    groups_of: dict[int, list[str]] = {}
    async for row in stream_report_rows(session, scope or ReportScope(), as_of):
        for group, status, answered, order in _groups(row, by, language):
            line = lines[group]
            line.group, line.order = group, order
            line.counts[status] += 1
            if not answered:
                line.missing += 1
        groups_of[int(row["id"])] = [group for group, *_ in _groups(row, by, language)] if by != "institution" else []
    now = as_of or utcnow()
    snapshot = await load_snapshot(session, policy, now)
    codes = {i: code for i, code in await session.execute(select(Institution.id, Institution.code))}
    for deadline in snapshot.deadlines:
        if deadline.due_on >= now.date():
            continue
        for institution, recs in snapshot.assigned.items():
            for rec in deadline.recommendations & recs:
                if (institution, deadline.id, rec) in snapshot.answered or rec not in groups_of:
                    continue
                for group in [codes.get(institution, "?")] if by == "institution" else groups_of[rec]:
                    if group in lines:
                        lines[group].overdue += 1
    return sorted(lines.values(), key=lambda line: (line.group == NONE, line.order, line.group))


def _groups(row: dict[str, Any], by: str, language: str = DEFAULT_LANGUAGE) -> list[tuple[str, str, bool, tuple[object, ...]]]:
    """(group, status, answered, order) for each group a row counts in. By
    cluster or SDG, the overall status (storage/status.py's rule) and whether
    anyone answered; by institution, each assigned institution's own status
    and whether it answered itself: another institution's update is not its answer."""
    status, answered = str(row["status"]), row["last_update_at"] is not None
    if by == "institution":
        own = [
            (i.code, str(i.status or ImplementationStatus.NOT_STARTED), i.status is not None, ())
            for i in row["inputs"] if i.role is not None
        ]
        if own:
            return own
    sdgs: list[Sdg] = row.get("sdgs") or []
    if by == "sdg-goal" and sdgs:
        return [(goal_label(goal, language), status, answered, (goal,)) for goal in goals_of(sdgs)]
    if by == "sdg-target" and sdgs:
        return [(sdg.target or str(sdg.goal), status, answered, sort_key(sdg)) for sdg in sdgs]
    group = str(row["cluster"] or NONE) if by == "cluster" else NONE
    return [(group, status, answered, ())]
