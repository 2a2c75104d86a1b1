"""Typed answers to information requests, for the draft report: each one
under the recommendations it is about, or under its request when it is
about none.

An answer is about the recommendations its text names ("#12", "#15"), else
those its request names; an answer given as a status update is already in
the draft as that update, so only typed words are read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FocalPoint, InformationRequest, Institution, RequestAnswer, request_recommendations

_NAMED = re.compile(r"#(\d{1,9})\b")


@dataclass(frozen=True)
class TypedAnswer:
    request_id: int
    request_text: str
    asked_at: datetime
    institution: str
    author: str | None
    at: datetime
    text: str


@dataclass
class TypedAnswers:
    # Recommendation id -> the answers about it, in the order given.
    by_recommendation: dict[int, list[TypedAnswer]] = field(default_factory=dict)
    # Answers about no recommendation, by request, in the order given.
    unnamed: list[TypedAnswer] = field(default_factory=list)


def named_in(text: str) -> list[int]:
    """The recommendations a typed answer names, as #12, in order, once each."""
    return list(dict.fromkeys(int(n) for n in _NAMED.findall(text)))


async def typed_answers(session: AsyncSession, as_of: datetime | None = None) -> TypedAnswers:
    """Every typed answer given up to ``as_of``, placed as the draft shows it."""
    statement = (
        select(RequestAnswer, InformationRequest.text, InformationRequest.created_at, Institution.name, FocalPoint.name)
        .join(InformationRequest, InformationRequest.id == RequestAnswer.request_id)
        .join(Institution, Institution.id == RequestAnswer.institution_id)
        .outerjoin(FocalPoint, FocalPoint.id == RequestAnswer.focal_point_id)
        .where(RequestAnswer.text.is_not(None), RequestAnswer.status_update_id.is_(None))
        .order_by(RequestAnswer.request_id, RequestAnswer.created_at, RequestAnswer.id)
    )
    if as_of is not None:
        statement = statement.where(RequestAnswer.created_at <= as_of)
    rows = (await session.execute(statement)).all()
    requested: dict[int, list[int]] = {}
    ids = sorted({answer.request_id for answer, *_ in rows})
    for start in range(0, len(ids), 2000):
        for request_id, rec in await session.execute(
            select(request_recommendations.c.request_id, request_recommendations.c.recommendation_id)
            .where(request_recommendations.c.request_id.in_(ids[start:start + 2000]))
            .order_by(request_recommendations.c.recommendation_id)
        ):
            requested.setdefault(request_id, []).append(rec)
    placed = TypedAnswers()
    for answer, request_text, asked_at, institution, author in rows:
        text = (answer.text or "").strip()
        if not text:
            continue
        given = TypedAnswer(answer.request_id, request_text, asked_at, institution, author, answer.created_at, text)
        about = named_in(text) or requested.get(answer.request_id, [])
        if not about:
            placed.unnamed.append(given)
        for rec in about:
            placed.by_recommendation.setdefault(rec, []).append(given)
    return placed
