"""Correcting a deadline: a new date or title, withdrawn, its report submitted.

The chat (handlers.deadlines_chat) and the CLI (``deadlines edit|delete|
submitted``) call these same functions; each is an ORM change, so the audit
log records it under whoever acts (``cli:<user>``, ``secretariat:ID``).

Deleting withdraws: the row stays, marked ``withdrawn_at`` / ``withdrawn_by``,
and drops out of every list and of the reminder plan. A hard delete would
leave the reminders already sent, the information requests and the audit
entries naming a deadline nobody can look up, and history must stay
explainable ("why was I reminded of this on 3 March?").

What follows a change (the reminders re-planned, the focal points told) is
the handlers' business: handlers.deadline_replan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import current_actor
from storage.enums import DeadlineKind
from storage.errors import InvalidValue, NotFound
from storage.models import Assignment, Deadline, FocalPoint, InformationRequest, deadline_recommendations
from storage.network import active_on

# What goes to a mechanism, and so can be "submitted": not an internal input
# date, nor the reply date of an information request.
REPORT_KINDS = frozenset(DeadlineKind) - {DeadlineKind.INTERNAL_INPUT, DeadlineKind.INFORMATION_REQUEST}


@dataclass(frozen=True)
class DeadlineChange:
    """What changed, for re-planning and for telling the people concerned."""

    deadline_id: int
    old_due: date
    new_due: date | None  # None: withdrawn
    title_changed: bool = False

    @property
    def moved(self) -> bool:
        return self.new_due is not None and self.new_due != self.old_due


def live() -> object:
    """The deadlines not withdrawn, for a query's WHERE."""
    return Deadline.withdrawn_at.is_(None)


async def live_deadline(session: AsyncSession, deadline_id: int) -> Deadline:
    deadline = await session.get(Deadline, deadline_id)
    if deadline is None:
        raise NotFound(f"no deadline with id {deadline_id}", key="refusal.deadlines.unknown", values={"id": deadline_id})
    if deadline.withdrawn_at is not None:
        raise InvalidValue(
            f"deadline {deadline_id} was withdrawn on {deadline.withdrawn_at.date().isoformat()}",
            key="refusal.deadlines.withdrawn", values={"id": deadline_id, "date": deadline.withdrawn_at.date()},
        )
    return deadline


async def _live_children(session: AsyncSession, deadline_id: int) -> list[Deadline]:
    return list((await session.scalars(
        select(Deadline).where(Deadline.parent_id == deadline_id, live()).order_by(Deadline.due_on, Deadline.id)
    )).all())


async def edit_deadline(
    session: AsyncSession, deadline_id: int, *, due_on: date | None = None, title: str | None = None,
) -> DeadlineChange:
    """A new due date and/or title. An input deadline stays on or before the
    report it serves, and a report on or after its input deadlines."""
    deadline = await live_deadline(session, deadline_id)
    if due_on is None and title is None:
        raise InvalidValue("nothing to change: give a new due date or a title", key="refusal.deadlines.nothing_to_change")
    old_due = deadline.due_on
    if due_on is not None and due_on != deadline.due_on:
        if deadline.parent_id is not None:
            parent = await session.get(Deadline, deadline.parent_id)
            if parent is not None and due_on > parent.due_on:
                raise InvalidValue(
                    f"an input deadline ({due_on}) after the deadline it serves ({parent.due_on}, deadline {parent.id})",
                    key="refusal.deadlines.input_after_report", values={"due": due_on, "report_due": parent.due_on, "report": parent.id},
                )
        late = [c for c in await _live_children(session, deadline.id) if c.due_on > due_on]
        if late:
            raise InvalidValue(
                f"the input deadline {late[0].id} is due {late[0].due_on}, after {due_on}: move it first",
                key="refusal.deadlines.input_later", values={"input": late[0].id, "input_due": late[0].due_on, "due": due_on},
            )
        deadline.due_on = due_on
    title_changed = False
    if title is not None:
        cleaned = title.strip() or None
        if cleaned and len(cleaned) > 300:
            raise InvalidValue(
                f"a title is at most 300 characters, got {len(cleaned)}", key="refusal.deadlines.long_title", values={"count": 300, "length": len(cleaned)}
            )
        title_changed = cleaned != deadline.title
        deadline.title = cleaned
    await session.flush()
    return DeadlineChange(deadline.id, old_due, deadline.due_on, title_changed)


async def withdraw_deadline(session: AsyncSession, deadline_id: int, now: datetime) -> DeadlineChange:
    """Withdraw (the "delete"): see the module's docstring for why the row stays."""
    deadline = await live_deadline(session, deadline_id)
    request = await session.scalar(select(InformationRequest.id).where(InformationRequest.deadline_id == deadline.id))
    if request is not None:
        raise InvalidValue(
            f"deadline {deadline.id} is the reply date of information request {request}: it goes with the request",
            key="refusal.deadlines.request_reply", values={"id": deadline.id, "request": request},
        )
    children = await _live_children(session, deadline.id)
    if children:
        ids = ", ".join(str(c.id) for c in children)
        raise InvalidValue(
            f"deadline {deadline.id} is served by the input deadlines {ids}: withdraw them first",
            key="refusal.deadlines.has_inputs", values={"id": deadline.id, "inputs": ids},
        )
    deadline.withdrawn_at = now
    deadline.withdrawn_by = current_actor()[:200]
    await session.flush()
    return DeadlineChange(deadline.id, deadline.due_on, None)


async def mark_submitted(session: AsyncSession, deadline_id: int, on: date, today: date) -> Deadline:
    """The report went to the mechanism on ``on``: its reminders stop (and its
    input deadlines' with it); on time when ``on`` is not after the due date."""
    deadline = await live_deadline(session, deadline_id)
    if deadline.kind not in REPORT_KINDS:
        raise InvalidValue(
            f"deadline {deadline.id} is an {deadline.kind.value.replace('_', ' ')} deadline, not a report: only a report is submitted",
            key="refusal.deadlines.not_a_report", values={"id": deadline.id},
        )
    if deadline.submitted_on is not None:
        raise InvalidValue(
            f"deadline {deadline.id} was already marked submitted on {deadline.submitted_on}",
            key="refusal.deadlines.already_submitted", values={"id": deadline.id, "date": deadline.submitted_on},
        )
    if on > today:
        raise InvalidValue(
            f"a report cannot be submitted in the future ({on}; today is {today})",
            key="refusal.deadlines.submitted_in_future", values={"date": on, "today": today},
        )
    deadline.submitted_on = on
    deadline.submitted_by = current_actor()[:200]
    await session.flush()
    return deadline


async def stopped_deadline_ids(session: AsyncSession, deadline_id: int) -> list[int]:
    """The deadline and its input deadlines: whose reminders a submission stops."""
    children = (await session.scalars(select(Deadline.id).where(Deadline.parent_id == deadline_id))).all()
    return [deadline_id, *children]


async def concerned_focal_points(session: AsyncSession, deadline_id: int, today: date) -> list[FocalPoint]:
    """The focal points in office of the institutions assigned to the
    deadline's recommendations (for a report served by input deadlines, to
    theirs too): who is told that it moved or was withdrawn."""
    ids = await stopped_deadline_ids(session, deadline_id)
    recommendations = select(deadline_recommendations.c.recommendation_id).where(deadline_recommendations.c.deadline_id.in_(ids))
    institutions = select(Assignment.institution_id).where(Assignment.recommendation_id.in_(recommendations))
    return list((await session.scalars(
        select(FocalPoint).where(FocalPoint.institution_id.in_(institutions), active_on(today)).order_by(FocalPoint.id)
    )).all())
