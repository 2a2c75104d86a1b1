"""The line /mine adds under its header about the implementation plan
(issue 16): how many actions the reader's institution answers for or
contributes to (what /actions lists) and how many indicator values are asked
of it and not yet given, or nothing when there are neither."""

from __future__ import annotations

from handlers.turn import Turn
from storage.actions import count_of_institution
from storage.indicators import open_requests_of


async def plan_line(turn: Turn) -> str | None:
    institution = turn.focal_point.institution_id
    actions = await count_of_institution(turn.session, institution)
    # Due by the reader's own day, as the requests reach them.
    awaited = len(await open_requests_of(turn.session, institution, turn.local_day(turn.now)))
    if not actions and not awaited:
        return None
    return turn.text(
        "mine.plan", plan_actions=turn.text("mine.plan_actions", count=actions), plan_requests=turn.text("mine.plan_requests", count=awaited),
    )
