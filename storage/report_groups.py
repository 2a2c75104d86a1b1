"""The report rows grouped by SDG goal or target, for the matrix and the
export: each group's rows together, groups in the UN's order (goal 1 to 17,
within a goal the goal as a whole, then 5.1 < 5.2 < 5.10 < 5.a), those with
no SDG last; a recommendation under several goals (targets) comes under
each, so the groups hold more rows than there are recommendations.

One statement, the usual one joined to each recommendation's groups and
ordered by them first (storage.report_rows): the database sorts, the rows
stream group after group, and a group's sheet is written whole before the
next begins, in flat memory, as the ungrouped matrix is. One query a
group instead would read every status update again a group, up to 187
times. A tag's group comes from storage.sdgs, read here once for the few
hundred SDG tags and given to the database as a CASE; a row comes under a
group only when its own SDGs name it, so a goal tagged alone and through a
target is under its targets only, as storage.sdgs.ordered keeps it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.choices import SDG_GROUPS
from storage.models import recommendation_tags
from storage.report_rows import ReportScope, stream_report_rows
from storage.sdgs import Sdg, goals_of, ordered, sdg_tags, sort_key


@dataclass(frozen=True)
class SdgGroup:
    """A goal (by goal), a target or a goal tagged as a whole (by target),
    or, with no goal, the recommendations with no SDG."""

    goal: int | None
    target: str | None = None

    def order(self) -> tuple[bool, tuple[int, int, int, str]]:
        return (self.goal is None, sort_key(Sdg(self.goal, self.target)) if self.goal is not None else (0, 0, 0, ""))

    def value(self, by: str) -> int | str | None:
        """The group as a column of the export holds it: the goal's number
        (5), or the target ("5.2"; "5" for the goal as a whole); None: no SDG."""
        if self.goal is None:
            return None
        return self.goal if by == "sdg-goal" else self.target or str(self.goal)


NO_SDG = SdgGroup(None)


def row_groups(sdgs: Sequence[Sdg], by: str) -> list[SdgGroup]:
    """The groups a recommendation with these SDGs is under, in order."""
    _check(by)
    if not sdgs:
        return [NO_SDG]
    if by == "sdg-goal":
        return [SdgGroup(goal) for goal in goals_of(sdgs)]
    return [SdgGroup(s.goal, s.target) for s in ordered(sdgs)]


async def stream_grouped_rows(
    session: AsyncSession, scope: ReportScope, as_of: datetime | None, by: str, validated_only: bool = False, *,
    sort: str = "default", explain: bool = False, files: bool = True,
) -> AsyncIterator[dict[str, Any]]:
    """The rows of ``scope``, group after group, each with ``sdg_group``,
    the group it is listed under (a fresh row each time it comes again);
    ``files``: as stream_report_rows's."""
    _check(by)
    known = await sdg_tags(session)
    group_of = {tag_id: SdgGroup(sdg.goal) if by == "sdg-goal" else SdgGroup(sdg.goal, sdg.target) for tag_id, sdg in known.items()}
    groups = sorted(set(group_of.values()), key=SdgGroup.order)
    pairs = None
    if known:
        number = {group: n for n, group in enumerate(groups)}
        key = case({tag_id: number[group] for tag_id, group in group_of.items()}, value=recommendation_tags.c.tag_id)
        # Distinct: two spellings of 5.2, or 5.2 and 5.3 by goal, are one group.
        pairs = (
            select(recommendation_tags.c.recommendation_id, key.label("group_key"))
            .where(recommendation_tags.c.tag_id.in_(list(known))).distinct().subquery()
        )
    async for row in stream_report_rows(session, scope, as_of, validated_only, sort=sort, explain=explain, groups=pairs, files=files):
        number_of = row.pop("group_key", None)
        group = NO_SDG if number_of is None else groups[number_of]
        # Tagged with the goal alone and with one of its targets: under the target only.
        if group in row_groups(row["sdgs"], by):
            row["sdg_group"] = group
            yield row


def _check(by: str) -> None:
    if by not in SDG_GROUPS:
        raise ValueError(f"rows group by {' or '.join(SDG_GROUPS)}, not {by!r}")
