"""One sort order for priorities, wherever a list is sorted by them: high,
medium, low, then what has none yet. recommendations.priority holds the
result of the Guide's criteria (storage.priorities)."""

from __future__ import annotations

from sqlalchemy import case
from sqlalchemy.sql.elements import ColumnElement

from storage.enums import Priority
from storage.models import Recommendation

RANK: dict[Priority | None, int] = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2, None: 3}


def priority_rank(column: ColumnElement[Priority | None] | None = None) -> ColumnElement[int]:
    """0 for high ... 3 for none, as SQL, for ORDER BY."""
    target = Recommendation.priority if column is None else column
    return case(
        (target == Priority.HIGH, 0), (target == Priority.MEDIUM, 1), (target == Priority.LOW, 2), else_=3
    )


def rank_of(priority: Priority | None) -> int:
    """The same order for rows already read."""
    return RANK[priority]
