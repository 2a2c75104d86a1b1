"""The registry as the reminder plan needs it, read in a few bulk queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.chat_port import ChatAddress
from handlers.reminders.plan import DeadlineFacts, Policy, Recipient, Snapshot
from storage.calendars import load_closures
from storage.deadlines import NAME_OPTIONS, DeadlineName, request_numbers
from storage.enums import FocalPointRole, OutboxStatus, Platform, Priority
from storage.models import (
    Assignment,
    ChatIdentity,
    Deadline,
    FocalPoint,
    Institution,
    Mechanism,
    OutboxMessage,
    Recommendation,
    ReminderStep,
    RequestAnswer,
    RequestRecipient,
    SecretariatUser,
    StatusUpdate,
    deadline_recommendations,
)
from storage.linked_items import group_names, groups_of
from storage.network import active_on

# Overdue deadlines stay in the plan this long (the overdue reminders end
# sooner; the secretariat digest goes on).
OVERDUE_HORIZON = timedelta(days=180)


class Identity(NamedTuple):
    """What the plans need of a chat identity: its id and where to write.
    Read as plain rows: the planner reads every person's each minute, and
    as 10,000 ORM objects a read held the outbox's sends up for about half a
    second of processor time."""

    id: int
    platform: Platform
    platform_user_id: str
    chat_id: str | None
    workspace_id: str
    focal_point_id: int | None
    secretariat_user_id: int | None


class CalendarFacts(Protocol):
    """What a person's calendar is made of: a FocalPoint, or a row of CALENDAR_FACTS."""

    @property
    def timezone(self) -> str: ...
    @property
    def snoozed_until(self) -> date | None: ...
    @property
    def working_hours(self) -> str | None: ...
    @property
    def country(self) -> str | None: ...
    @property
    def subdivision(self) -> str | None: ...


class FocalFacts(CalendarFacts, Protocol):
    """What a plan reads of a focal point: a FocalPoint, or a row of FOCAL_FACTS."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def role(self) -> FocalPointRole: ...
    @property
    def institution_id(self) -> int: ...


# The columns of CalendarFacts and of FocalFacts, read as rows rather than
# ORM objects (see Identity).
CALENDAR_FACTS = (FocalPoint.timezone, FocalPoint.snoozed_until, FocalPoint.working_hours, FocalPoint.country, FocalPoint.subdivision)
FOCAL_FACTS = (FocalPoint.id, FocalPoint.name, FocalPoint.language, FocalPoint.role, FocalPoint.institution_id, *CALENDAR_FACTS)


def address_of(identity: ChatIdentity | Identity | None) -> ChatAddress | None:
    if identity is None:
        return None
    return ChatAddress(identity.platform, identity.platform_user_id, identity.chat_id or identity.platform_user_id, identity.workspace_id)


def focal_recipient(fp: FocalFacts, identities: dict[int, Identity]) -> Recipient:
    """A focal point as the plans see it, written to at its reachable identity (``reachable_identities``)."""
    return Recipient(
        "focal_point", fp.id, fp.name, fp.language, fp.timezone, address_of(identities.get(fp.id)),
        identity_id=identities[fp.id].id if fp.id in identities else None,
        snoozed_until=fp.snoozed_until, role=fp.role, institution_id=fp.institution_id, hours=fp.working_hours,
        country=fp.country, subdivision=fp.subdivision,
    )


async def reachable_identity_of(session: AsyncSession, focal_point_id: int) -> ChatIdentity | None:
    """The focal point's newest identity the platform has not refused: where a notice for them goes."""
    return await session.scalar(
        select(ChatIdentity)
        .where(ChatIdentity.focal_point_id == focal_point_id, ChatIdentity.unreachable_since.is_(None))
        .order_by(ChatIdentity.created_at.desc(), ChatIdentity.id.desc()).limit(1)
    )


async def reachable_identities(session: AsyncSession) -> tuple[dict[int, Identity], dict[int, Identity]]:
    """The newest reachable identity of each focal point and secretariat user."""
    focal: dict[int, Identity] = {}
    secretariat: dict[int, Identity] = {}
    rows = await session.execute(
        select(*(getattr(ChatIdentity, name) for name in Identity._fields))
        .where(ChatIdentity.unreachable_since.is_(None)).order_by(ChatIdentity.created_at, ChatIdentity.id)
    )
    for identity in map(Identity._make, rows):
        if identity.focal_point_id is not None:
            focal[identity.focal_point_id] = identity
        elif identity.secretariat_user_id is not None:
            secretariat[identity.secretariat_user_id] = identity
    return focal, secretariat


async def _secretariat(session: AsyncSession, identities: dict[int, Identity]) -> list[Recipient]:
    return [
        Recipient(
            "secretariat", user.id, user.name, user.language, user.timezone, address_of(identities.get(user.id)),
            identity_id=identities[user.id].id if user.id in identities else None,
        )
        for user in await session.scalars(select(SecretariatUser).where(SecretariatUser.active.is_(True)).order_by(SecretariatUser.id))
    ]


async def load_secretariat(session: AsyncSession) -> list[Recipient]:
    """The active secretariat users and where to write to them, alone."""
    _, identities = await reachable_identities(session)
    return await _secretariat(session, identities)


async def _requests_without_recommendations(
    session: AsyncSession, request_of: dict[int, int]
) -> tuple[dict[int, set[int]], set[tuple[int, int]]]:
    """For the information requests whose deadlines name no recommendation
    (deadline -> request): deadline -> institutions asked; (institution,
    deadline) that answered."""
    asked: dict[int, set[int]] = defaultdict(set)
    answered: set[tuple[int, int]] = set()
    if request_of:
        deadline_of = {r: d for d, r in request_of.items()}
        for request_id, institution in await session.execute(
            select(RequestRecipient.request_id, RequestRecipient.institution_id).where(RequestRecipient.request_id.in_(deadline_of))
        ):
            asked[deadline_of[request_id]].add(institution)
        for request_id, institution in await session.execute(
            select(RequestAnswer.request_id, RequestAnswer.institution_id).where(RequestAnswer.request_id.in_(deadline_of)).distinct()
        ):
            answered.add((institution, deadline_of[request_id]))
    return asked, answered


async def load_snapshot(session: AsyncSession, policy: Policy, now: datetime) -> Snapshot:
    today = now.date()
    focal_identity, secretariat_identity = await reachable_identities(session)
    focal_points = [
        focal_recipient(fp, focal_identity)
        for fp in await session.execute(select(*FOCAL_FACTS).where(active_on(today)).order_by(FocalPoint.id))
    ]
    secretariat = await _secretariat(session, secretariat_identity)
    institutions: dict[int, str] = {i: name for i, name in await session.execute(select(Institution.id, Institution.name))}

    # A report served by input deadlines is reminded through them. Nothing
    # is reminded of a withdrawn deadline, nor of a submitted report or its inputs.
    parents = select(Deadline.parent_id).where(Deadline.parent_id.is_not(None), Deadline.withdrawn_at.is_(None))
    submitted = select(Deadline.id).where(Deadline.submitted_on.is_not(None))
    deadlines_rows = (
        await session.scalars(
            select(Deadline).where(
                Deadline.due_on >= today - OVERDUE_HORIZON, Deadline.id.not_in(parents),
                Deadline.withdrawn_at.is_(None), Deadline.submitted_on.is_(None),
                or_(Deadline.parent_id.is_(None), Deadline.parent_id.not_in(submitted)),
            )
            .options(*NAME_OPTIONS).order_by(Deadline.due_on, Deadline.id)
        )
    ).all()
    links: dict[int, set[int]] = defaultdict(set)
    if deadlines_rows:
        for deadline_id, rec_id in await session.execute(
            select(deadline_recommendations.c.deadline_id, deadline_recommendations.c.recommendation_id).where(
                deadline_recommendations.c.deadline_id.in_([d.id for d in deadlines_rows])
            )
        ):
            links[deadline_id].add(rec_id)
    requests = await request_numbers(session, [d.id for d in deadlines_rows])
    request_of = {d: r for d, r in requests.items() if not links[d]}
    asked, request_answered = await _requests_without_recommendations(session, request_of)
    live = [d for d in deadlines_rows if links[d.id] or asked.get(d.id)]
    deadlines = [
        DeadlineFacts(
            d.id, DeadlineName.of(d, requests.get(d.id)), d.kind, d.due_on, frozenset(links[d.id]), frozenset(asked.get(d.id, ())), requests.get(d.id)
        )
        for d in live
    ]
    recs = set().union(*(d.recommendations for d in deadlines)) if deadlines else set()

    assigned: dict[int, set[int]] = defaultdict(set)
    labels: dict[int, str] = {}
    priorities: dict[int, Priority | None] = {}
    latest: dict[tuple[int, int], datetime] = {}
    if recs:
        rec_list = sorted(recs)
        for chunk in (rec_list[i:i + 5000] for i in range(0, len(rec_list), 5000)):
            for institution, rec in await session.execute(select(Assignment.institution_id, Assignment.recommendation_id).where(Assignment.recommendation_id.in_(chunk))):
                assigned[institution].add(rec)
            for rec, code, paragraph, priority in await session.execute(
                select(Recommendation.id, Mechanism.code, Recommendation.paragraph, Recommendation.priority)
                .join(Mechanism).where(Recommendation.id.in_(chunk))
            ):
                labels[rec] = f"{code} {paragraph or ''}".strip()
                priorities[rec] = priority
            for institution, rec, at in await session.execute(
                select(StatusUpdate.institution_id, StatusUpdate.recommendation_id, func.max(StatusUpdate.created_at))
                .where(StatusUpdate.recommendation_id.in_(chunk), StatusUpdate.institution_id.is_not(None))
                .group_by(StatusUpdate.institution_id, StatusUpdate.recommendation_id)
            ):
                latest[(institution, rec)] = at
    answered: set[tuple[int, int, int]] = set()
    for d in deadlines:
        # Updates count from when this deadline's reminders begin.
        since = datetime.combine(d.due_on - timedelta(days=max(policy.steps(d.kind), default=0)), datetime.min.time(), tzinfo=timezone.utc)
        for institution, rec_ids in assigned.items():
            for rec in d.recommendations & rec_ids:
                at = latest.get((institution, rec))
                if at is not None and at >= since:
                    answered.add((institution, d.id, rec))

    groups = await groups_of(session, recs)
    # One name a group, as everywhere (storage.linked_items.group_names).
    names = await group_names(session, groups.values())
    snapshot = Snapshot(
        focal_points, secretariat, institutions, deadlines, {i: frozenset(r) for i, r in assigned.items()}, answered,
        labels=labels, request_answered=request_answered, closures=await load_closures(session),
        groups=groups, group_titles=names, priorities=priorities,
    )
    zones = {fp.id: fp.timezone for fp in focal_points}
    institution_of = {fp.id: fp.institution_id for fp in focal_points}
    if deadlines:
        steps = await session.execute(
            select(ReminderStep.focal_point_id, ReminderStep.deadline_id, ReminderStep.step, OutboxMessage.status, OutboxMessage.due_at)
            .outerjoin(OutboxMessage, OutboxMessage.id == ReminderStep.outbox_id)
            .where(ReminderStep.deadline_id.in_([d.id for d in deadlines]))
        )
        for person, deadline_id, step, status, due_at in steps:
            snapshot.taken.add((person, deadline_id, step))
            institution = institution_of.get(person)
            if institution is None or status is None:
                continue
            if step.startswith("escalate-") and status != OutboxStatus.CANCELLED:
                local = due_at.astimezone(ZoneInfo(zones[person])).date()
                key = (institution, deadline_id, int(step.rsplit("-", 1)[1]))
                snapshot.escalated[key] = min(local, snapshot.escalated.get(key, date.max))
            elif status == OutboxStatus.SENT:
                snapshot.delivered.setdefault((institution, deadline_id), set()).add(step)
    snapshot.keys = set(
        (await session.scalars(select(OutboxMessage.key).where(OutboxMessage.due_at >= now - timedelta(days=3)))).all()
    )
    return snapshot
