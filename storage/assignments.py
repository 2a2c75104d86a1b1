"""Which institution answers for which recommendation: one lead, any contributors."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import current_actor
from storage.enums import AssignmentRole, OutboxStatus
from storage.errors import Conflict
from storage.models import Assignment, AssignmentNotice, Institution, OutboxMessage
from storage.network import get_institution
from storage.selection import Selector, select_ids
from storage.types import utcnow

_SHOWN = 10


@dataclass
class AssignResult:
    created: int = 0
    role_changed: int = 0
    unchanged: int = 0
    leads_replaced: int = 0


async def assign(
    session: AsyncSession,
    institution_code: str,
    selector: Selector,
    role: AssignmentRole = AssignmentRole.LEAD,
    *,
    replace_lead: bool = False,
) -> AssignResult:
    """Assign the selected recommendations to an institution.

    A recommendation has at most one lead. Making an institution lead where
    another one leads is refused, unless ``replace_lead``, which turns the
    former lead into a contributor (it keeps its history and its voice).
    """
    institution = await get_institution(session, institution_code)
    ids = await select_ids(session, selector)
    result = AssignResult()
    existing: dict[int, Assignment] = {}
    other_leads: dict[int, Assignment] = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        rows = await session.scalars(select(Assignment).where(Assignment.recommendation_id.in_(chunk)))
        for a in rows:
            if a.institution_id == institution.id:
                existing[a.recommendation_id] = a
            elif a.role == AssignmentRole.LEAD:
                other_leads[a.recommendation_id] = a

    if role == AssignmentRole.LEAD and other_leads and not replace_lead:
        codes = {
            i.id: i.code
            for i in await session.scalars(
                select(Institution).where(Institution.id.in_({a.institution_id for a in other_leads.values()}))
            )
        }
        listed = ", ".join(
            f"{rec_id} ({codes[a.institution_id]})" for rec_id, a in sorted(other_leads.items())[:_SHOWN]
        )
        more = f" and {len(other_leads) - _SHOWN} more" if len(other_leads) > _SHOWN else ""
        beyond = f" (+{len(other_leads) - _SHOWN})" if len(other_leads) > _SHOWN else ""
        raise Conflict(
            f"{len(other_leads)} recommendation(s) already have a lead institution: {listed}{more}; "
            "assign as contributing, or replace the lead (--replace-lead)",
            field="role", key="refusal.assign.lead_taken", values={"count": len(other_leads), "leads": listed + beyond},
        )

    if role == AssignmentRole.LEAD and replace_lead:
        for a in other_leads.values():
            a.role = AssignmentRole.CONTRIBUTING
            result.leads_replaced += 1
        # Demotions must reach the database before the new lead does, or the
        # one-lead index sees two leads for a moment.
        await session.flush()

    actor, now = current_actor(), utcnow()
    for rec_id in ids:
        current = existing.get(rec_id)
        if current is None:
            session.add(
                Assignment(
                    recommendation_id=rec_id, institution_id=institution.id, role=role, assigned_at=now, assigned_by=actor
                )
            )
            result.created += 1
        elif current.role != role:
            current.role = role
            result.role_changed += 1
        else:
            result.unchanged += 1
    await session.flush()
    return result


@dataclass
class UnassignResult:
    removed: int = 0
    not_assigned: int = 0
    notices_withdrawn: int = 0


async def unassign(session: AsyncSession, institution_code: str, selector: Selector) -> UnassignResult:
    """Remove the institution's assignments of the selected recommendations.

    The history stays: each removal is an audit entry (the ORM delete goes
    through storage.audit with the actor), and the institution's updates are
    untouched. An assignment notice not yet sent that names a removed
    assignment must not go out: it is withdrawn from the outbox, and every
    assignment it told is forgotten as told, so the planner tells what is still
    assigned in a new notice (storage.assignment_notices.untold_since).
    """
    institution = await get_institution(session, institution_code)
    ids = await select_ids(session, selector)
    result = UnassignResult()
    found: list[Assignment] = []
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        found.extend(
            await session.scalars(
                select(Assignment).where(Assignment.recommendation_id.in_(chunk), Assignment.institution_id == institution.id)
            )
        )
    result.not_assigned = len(ids) - len(found)
    removed_ids = [a.id for a in found]
    for chunk_start in range(0, len(removed_ids), 500):
        chunk = removed_ids[chunk_start : chunk_start + 500]
        pending = (
            await session.scalars(
                select(OutboxMessage.id)
                .join(AssignmentNotice, AssignmentNotice.outbox_id == OutboxMessage.id)
                .where(AssignmentNotice.assignment_id.in_(chunk), OutboxMessage.status == OutboxStatus.PENDING)
                .distinct()
            )
        ).all()
        if pending:
            # The unsent message is deleted, not only cancelled: its key
            # (assigned:FP:DAY) is then free, so the planner tells that same
            # day what is still assigned (or the next one, past its hour).
            await session.execute(delete(AssignmentNotice).where(AssignmentNotice.outbox_id.in_(pending)))
            withdrawn = await session.execute(
                delete(OutboxMessage).where(OutboxMessage.id.in_(pending), OutboxMessage.status == OutboxStatus.PENDING)
            )
            result.notices_withdrawn += withdrawn.rowcount or 0
        # Notices already sent keep no hold on a removed assignment.
        await session.execute(delete(AssignmentNotice).where(AssignmentNotice.assignment_id.in_(chunk)))
    for a in found:
        await session.delete(a)
    result.removed = len(found)
    await session.flush()
    return result
