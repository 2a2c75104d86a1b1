"""Information requests: the secretariat asks, focal points answer.

A request goes to the technical focal points (or, failing one, the
alternate, then the senior) of the institutions it targets: all of them,
some by code, or those answering for a cluster, a theme, a mechanism or a
list of recommendations. Each request gets an ``information_request``
deadline, so the reminder plan reminds and escalates non-responders like
any other deadline: per recommendation where it names some, else per
institution until the institution has answered.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.deadlines import DeadlineData, add_deadline
from storage.enums import DeadlineKind, FocalPointRole, ImplementationStatus
from storage.errors import InvalidValue, NotFound
from storage.idempotent import add_once
from storage.models import (
    Assignment,
    FocalPoint,
    InformationRequest,
    Institution,
    Mechanism,
    Recommendation,
    ReminderStep,
    RequestAnswer,
    RequestRecipient,
    StatusUpdate,
    request_recommendations,
)
from storage.network import active_on, answering
from storage.selection import Selector, select_ids
from storage.validation import institution_code

TARGET_KINDS = ("all", "institutions", "cluster", "theme", "mechanism", "recommendations")
MAX_TEXT = 4000


@dataclass(frozen=True)
class Target:
    kind: str = "all"
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in TARGET_KINDS:
            raise InvalidValue(
                f"a request goes to {', '.join(TARGET_KINDS)}, not {self.kind!r}",
                key="refusal.requests.bad_target_kind", values={"kinds": ", ".join(TARGET_KINDS), "kind": self.kind[:40]},
            )
        if self.kind != "all" and not self.values:
            raise InvalidValue(f"a request to a {self.kind} needs at least one", key="refusal.requests.target_empty")


async def _recommendations(session: AsyncSession, target: Target) -> list[int]:
    if target.kind in ("all", "institutions"):
        return []
    if target.kind == "recommendations":
        ids = tuple(int(v) for v in target.values)
        selector = Selector(ids=ids)
    elif target.kind == "cluster":
        selector = Selector(cluster=target.values[0])
    elif target.kind == "theme":
        selector = Selector(theme=target.values[0])
    else:
        # A mechanism alone selects nothing through Selector: take its recommendations.
        return list((await session.scalars(
            select(Recommendation.id).join(Mechanism).where(Mechanism.code.in_([v.upper() for v in target.values])).order_by(Recommendation.id)
        )).all())
    return await select_ids(session, selector)


@dataclass(frozen=True)
class Audience:
    """Who a target reaches: the recommendations it names, the institutions
    asked, and the people who answer for each."""

    recommendations: list[int]
    institutions: list[Institution]
    people: dict[int, list[FocalPoint]]

    @property
    def recipients(self) -> list[tuple[FocalPoint, Institution]]:
        return [(person, institution) for institution in self.institutions for person in self.people.get(institution.id, [])]


async def audience(session: AsyncSession, target: Target, today: date) -> Audience:
    """Resolve a target, without writing anything: what a secretariat user
    is shown before confirming a request, and what create_request sends to."""
    recs = await _recommendations(session, target)
    if target.kind != "all" and target.kind != "institutions" and not recs:
        raise NotFound(
            f"no recommendation matches the {target.kind} {', '.join(target.values)!r}",
            key="refusal.requests.no_match", values={"values": ", ".join(target.values)[:80]},
        )
    if target.kind == "institutions":
        codes = [institution_code(v) for v in target.values]
        institutions = list((await session.scalars(select(Institution).where(Institution.code.in_(codes)).order_by(Institution.code))).all())
        missing = set(codes) - {i.code for i in institutions}
        if missing:
            raise NotFound(
                f"no institution with code {', '.join(sorted(missing))}", key="refusal.requests.unknown_institutions", values={"codes": ", ".join(sorted(missing))}
            )
    elif target.kind == "all":
        institutions = list((await session.scalars(select(Institution).where(Institution.active.is_(True)).order_by(Institution.code))).all())
    else:
        institutions = list((await session.scalars(
            select(Institution).where(Institution.id.in_(select(Assignment.institution_id).where(Assignment.recommendation_id.in_(recs)))).order_by(Institution.code)
        )).all())
    return Audience(recs, institutions, await _asked(session, [i.id for i in institutions], today))


def check_request(text: str, due_on: date, today: date) -> str:
    """The request's text, trimmed, or InvalidValue saying what is wrong."""
    text = text.strip()
    if not text:
        raise InvalidValue("a request needs a text", key="refusal.requests.no_text")
    if len(text) > MAX_TEXT:
        raise InvalidValue(
            f"a request is at most {MAX_TEXT} characters, got {len(text)}", key="refusal.requests.long_text", values={"count": MAX_TEXT, "length": len(text)}
        )
    if due_on < today:
        raise InvalidValue(f"the answer date {due_on} is in the past", key="refusal.requests.past_due", values={"date": due_on})
    return text


async def create_request(
    session: AsyncSession,
    text: str,
    due_on: date,
    target: Target,
    *,
    created_by: str,
    today: date,
    secretariat_user_id: int | None = None,
) -> tuple[InformationRequest, list[tuple[FocalPoint, Institution]]]:
    """The request and who it goes to (a focal point per institution, or more
    where an institution has several technical ones)."""
    text = check_request(text, due_on, today)
    asked = await audience(session, target, today)
    recs = asked.recommendations
    # The deadline the reminder plan follows: per recommendation where the
    # request names some, else per institution asked until it answers.
    deadline = await add_deadline(
        session, DeadlineData(DeadlineKind.INFORMATION_REQUEST, due_on, _short(text)), Selector(ids=tuple(recs)) if recs else None
    )
    request = InformationRequest(
        text=text, due_on=due_on, target={"kind": target.kind, "values": list(target.values)}, created_by=created_by,
        secretariat_user_id=secretariat_user_id, deadline_id=deadline.id,
    )
    session.add(request)
    await session.flush()
    if recs:
        await session.execute(request_recommendations.insert(), [{"request_id": request.id, "recommendation_id": r} for r in recs])
    recipients = asked.recipients
    for person, institution in recipients:
        session.add(RequestRecipient(request_id=request.id, focal_point_id=person.id, institution_id=institution.id))
    await session.flush()
    return request, recipients


async def _asked(session: AsyncSession, institution_ids: list[int], today: date) -> dict[int, list[FocalPoint]]:
    by_role: dict[int, dict[FocalPointRole, list[FocalPoint]]] = defaultdict(lambda: defaultdict(list))
    for person in await session.scalars(
        select(FocalPoint).where(FocalPoint.institution_id.in_(institution_ids), active_on(today)).order_by(FocalPoint.id)
    ):
        by_role[person.institution_id][person.role].append(person)
    return {institution: asked for institution, roles in by_role.items() if (asked := answering(roles))}


async def record_answer(
    session: AsyncSession, request_id: int, person: FocalPoint, at: datetime, *, text: str | None = None,
    status_update_id: int | None = None, idempotency_key: str | None = None,
) -> RequestAnswer:
    request = await session.get(InformationRequest, request_id)
    if request is None:
        raise NotFound(f"no request {request_id}", key="refusal.requests.unknown_request", values={"id": request_id})
    answer = RequestAnswer(
        request_id=request_id, institution_id=person.institution_id, focal_point_id=person.id, text=text,
        status_update_id=status_update_id, idempotency_key=idempotency_key, created_at=at,
    )
    return await add_once(session, answer, idempotency_key)


@dataclass(frozen=True)
class RequestSummary:
    id: int
    due_on: date
    target: str
    text: str
    # Institutions asked, and of those the ones that answered.
    asked: int
    answered: int


async def recent_requests(session: AsyncSession, limit: int | None = None) -> list[RequestSummary]:
    """Requests newest first (all when no limit), with their answer counts."""
    query = select(InformationRequest).order_by(InformationRequest.id.desc())
    requests = list((await session.scalars(query.limit(limit) if limit else query)).all())
    ids = [r.id for r in requests]
    asked = dict((await session.execute(
        select(RequestRecipient.request_id, func.count(func.distinct(RequestRecipient.institution_id)))
        .where(RequestRecipient.request_id.in_(ids)).group_by(RequestRecipient.request_id)
    )).all())
    answered = dict((await session.execute(
        select(RequestAnswer.request_id, func.count(func.distinct(RequestAnswer.institution_id)))
        .where(RequestAnswer.request_id.in_(ids)).group_by(RequestAnswer.request_id)
    )).all())
    return [RequestSummary(r.id, r.due_on, r.target["kind"], r.text, asked.get(r.id, 0), answered.get(r.id, 0)) for r in requests]


async def get_request(session: AsyncSession, request_id: int) -> InformationRequest:
    request = await session.get(InformationRequest, request_id)
    if request is None:
        raise NotFound(f"no request {request_id} (see: nmrf-bot requests list)", key="refusal.requests.unknown_request", values={"id": request_id})
    return request


@dataclass
class InstitutionProgress:
    code: str
    name: str
    asked: list[str] = field(default_factory=list)
    answered_at: datetime | None = None
    answers: int = 0
    # Those the reminder machinery told because nobody answered (alternate, senior).
    escalated_to: list[str] = field(default_factory=list)

    @property
    def escalated(self) -> bool:
        return bool(self.escalated_to)


async def track(session: AsyncSession, request_id: int) -> tuple[InformationRequest, list[InstitutionProgress]]:
    """Per institution asked: who, whether and when it answered, to whom it was escalated."""
    request = await get_request(session, request_id)
    rows: dict[int, InstitutionProgress] = {}
    for institution, person in await session.execute(
        select(Institution, FocalPoint).join(RequestRecipient, RequestRecipient.institution_id == Institution.id)
        .join(FocalPoint, FocalPoint.id == RequestRecipient.focal_point_id)
        .where(RequestRecipient.request_id == request_id).order_by(Institution.code, FocalPoint.name)
    ):
        rows.setdefault(institution.id, InstitutionProgress(institution.code, institution.name)).asked.append(person.name)
    for answer in await session.scalars(select(RequestAnswer).where(RequestAnswer.request_id == request_id).order_by(RequestAnswer.id)):
        line = rows.get(answer.institution_id)
        if line is not None:
            line.answers += 1
            line.answered_at = line.answered_at or answer.created_at
    if request.deadline_id is not None:
        told = await session.execute(
            select(FocalPoint.institution_id, FocalPoint.name).join(ReminderStep, ReminderStep.focal_point_id == FocalPoint.id)
            .where(ReminderStep.deadline_id == request.deadline_id, ReminderStep.step.like("escalate-%"), ReminderStep.outbox_id.is_not(None))
            .distinct().order_by(FocalPoint.name)
        )
        for institution_id, name in told:
            if institution_id in rows:
                rows[institution_id].escalated_to.append(name)
    return request, sorted(rows.values(), key=lambda r: r.code)



@dataclass(frozen=True)
class GivenAnswer:
    """One answer, as given: typed words, or an update on a recommendation the request named."""

    institution: str
    person: str | None
    at: datetime
    text: str | None = None
    recommendation_id: int | None = None
    status: ImplementationStatus | None = None
    narrative: str | None = None


async def answers_to(session: AsyncSession, request_id: int) -> tuple[InformationRequest, list[GivenAnswer]]:
    """Every answer to a request, by institution, then in the order given."""
    request = await get_request(session, request_id)
    rows = await session.execute(
        select(RequestAnswer, Institution.code, FocalPoint.name, StatusUpdate.recommendation_id, StatusUpdate.status, StatusUpdate.narrative)
        .join(Institution, Institution.id == RequestAnswer.institution_id)
        .outerjoin(FocalPoint, FocalPoint.id == RequestAnswer.focal_point_id)
        .outerjoin(StatusUpdate, StatusUpdate.id == RequestAnswer.status_update_id)
        .where(RequestAnswer.request_id == request_id)
        .order_by(Institution.code, RequestAnswer.created_at, RequestAnswer.id)
    )
    return request, [
        GivenAnswer(code, person, answer.created_at, answer.text, recommendation, status, narrative)
        for answer, code, person, recommendation, status, narrative in rows
    ]

def _short(text: str, limit: int = 160) -> str:
    """A request's words as its deadline's title: its first line, cut at a word."""
    line = text.strip().splitlines()[0]
    if len(line) <= limit and line == text.strip():
        return line
    cut = line[:limit].rsplit(" ", 1)[0] if len(line) > limit else line
    return cut.rstrip(" ,;:") + "…"
