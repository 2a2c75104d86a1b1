"""``deadlines suggest``: the calendar rules applied to what was imported.

For each treaty body's concluding observations (a document with a date):
the follow-up information and the next periodic report. For each UPR
review with a date: the mid-term report and the next national report. Each
report gets an internal input deadline for the ministries ahead of it.
Nothing is written until the secretariat accepts a suggestion; one already
in the registry (same kind, mechanism and date) is shown as such.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import deadline_rules as rules
from storage.deadlines import DeadlineData, add_deadline
from storage.enums import DeadlineKind, MechanismKind
from storage.models import Deadline, Document, Mechanism, Recommendation, Review
from storage.selection import Selector


@dataclass
class Suggestion:
    number: int
    kind: DeadlineKind
    due_on: date
    mechanism: str
    country: str
    basis: str
    recommendation_ids: tuple[int, ...]
    # The suggestion (by number) this input deadline serves.
    serves: int | None = None
    exists: bool = False
    inputs: list[Suggestion] = field(default_factory=list)


async def suggest(
    session: AsyncSession,
    today: date,
    *,
    country: str | None = None,
    input_lead: relativedelta = rules.DEFAULT_INPUT_LEAD,
    upr_reviews: dict[str, date] | None = None,
) -> list[Suggestion]:
    """Every deadline the rules give from today on, numbered for --accept."""
    found: list[Suggestion] = []
    for mechanism, doc_date, ctry, rec_ids in await _treaty_documents(session, country):
        found.append(_suggestion(DeadlineKind.FOLLOW_UP_INFORMATION, rules.follow_up(mechanism, doc_date), mechanism, ctry, rec_ids))
        periodic = rules.next_periodic_report(mechanism, doc_date)
        if periodic is not None:
            found.append(_suggestion(DeadlineKind.TREATY_REPORT, periodic, mechanism, ctry, rec_ids))
    for ctry, review_date, rec_ids in await _upr_reviews(session, country, upr_reviews or {}):
        dates = rules.upr_dates(review_date)
        found.append(_suggestion(DeadlineKind.UPR_MIDTERM, dates["midterm"], "UPR", ctry, rec_ids))
        found.append(_suggestion(DeadlineKind.UPR_NATIONAL_REPORT, dates["national_report"], "UPR", ctry, rec_ids))
    found = [s for s in found if s.due_on >= today]
    found.sort(key=lambda s: (s.due_on, s.mechanism, s.kind.value))
    numbered: list[Suggestion] = []
    for report in found:
        report.number = len(numbered) + 1
        numbered.append(report)
        due = rules.internal_input(report.due_on, input_lead)
        if due >= today:
            inputs = Suggestion(
                len(numbered) + 1, DeadlineKind.INTERNAL_INPUT, due, report.mechanism, report.country,
                f"inputs due {_describe(input_lead)} before the report", report.recommendation_ids, serves=report.number,
            )
            report.inputs.append(inputs)
            numbered.append(inputs)
    for suggestion in numbered:
        suggestion.exists = await _exists(session, suggestion)
    return numbered


async def accept(
    session: AsyncSession, suggestions: list[Suggestion], numbers: set[int], stated: dict[int, date] | None = None
) -> list[Deadline]:
    """Create the chosen suggestions (an input deadline brings its report along,
    which it must point at); those already in the registry are skipped. A
    date in ``stated`` (the committee's own) replaces the rule's for that one,
    and its input deadline keeps its distance from it."""
    stated = stated or {}
    by_number = {s.number: s for s in suggestions}
    for number, on in stated.items():
        if number in by_number:
            s = by_number[number]
            shift = on - s.due_on
            s.due_on, s.basis = on, "date stated by the committee (given by the secretariat)"
            for inputs in s.inputs:
                inputs.due_on += shift
    unknown = (numbers | set(stated)) - set(by_number)
    if unknown:
        raise ValueError(f"no suggestion numbered {', '.join(map(str, sorted(unknown)))}")
    wanted = set(numbers) | {by_number[n].serves for n in numbers if by_number[n].serves}
    created: dict[int, Deadline] = {}
    for number in sorted(wanted, key=lambda n: by_number[n].serves is not None):
        s = by_number[number]
        if s.exists:
            continue
        parent = created.get(s.serves) if s.serves else None
        if s.serves and parent is None:
            parent = await _existing(session, by_number[s.serves])
        # No title: named from kind, mechanism and State in each reader's language.
        data = DeadlineData(s.kind, s.due_on, None, s.mechanism, parent.id if parent else None, s.basis, country=s.country)
        created[number] = await add_deadline(session, data, Selector(ids=s.recommendation_ids))
    return list(created.values())


def _suggestion(kind: DeadlineKind, due: rules.Due, mechanism: str, country: str, ids: tuple[int, ...]) -> Suggestion:
    return Suggestion(0, kind, due.on, mechanism, country, due.basis, ids)


def _describe(lead: relativedelta) -> str:
    parts = [f"{v} {n}" for n, v in (("years", lead.years), ("months", lead.months), ("days", lead.days)) if v]
    return ", ".join(parts) or "0 days"


async def _treaty_documents(session: AsyncSession, country: str | None) -> list[tuple[str, date, str, tuple[int, ...]]]:
    """(committee, date of the concluding observations, State, recommendation ids)."""
    statement = (
        select(Mechanism.code, Document.published_on, Recommendation.country, Recommendation.id)
        .join(Document, Document.id == Recommendation.document_id)
        .join(Mechanism, Mechanism.id == Recommendation.mechanism_id)
        .where(Mechanism.kind == MechanismKind.TREATY_BODY, Document.published_on.is_not(None))
        .order_by(Recommendation.id)
    )
    if country:
        statement = statement.where(func.lower(Recommendation.country) == country.lower())
    grouped: dict[tuple[str, date, str], list[int]] = defaultdict(list)
    for code, published, ctry, rec_id in await session.execute(statement):
        if code.upper() in rules.TREATY_PERIODICITY:
            grouped[(code.upper(), published, ctry)].append(rec_id)
    return [(code, published, ctry, tuple(ids)) for (code, published, ctry), ids in grouped.items()]


async def _upr_reviews(session: AsyncSession, country: str | None, given: dict[str, date]) -> list[tuple[str, date, tuple[int, ...]]]:
    """The latest UPR review of each State with a date: the review's own, one
    given on the command line, or the date of its Working Group report."""
    statement = (
        select(Recommendation.country, Review.cycle, Review.review_date, func.min(Document.published_on))
        .join(Review, Review.id == Recommendation.review_id)
        .join(Mechanism, Mechanism.id == Review.mechanism_id)
        .outerjoin(Document, Document.id == Recommendation.document_id)
        .where(Mechanism.kind == MechanismKind.UPR)
        .group_by(Recommendation.country, Review.cycle, Review.review_date)
    )
    if country:
        statement = statement.where(func.lower(Recommendation.country) == country.lower())
    latest: dict[str, tuple[int, date | None]] = {}
    for ctry, cycle, review_date, doc_date in await session.execute(statement):
        when = given.get(ctry.lower()) or review_date or doc_date
        if ctry not in latest or (cycle or 0) > latest[ctry][0]:
            latest[ctry] = (cycle or 0, when)
    out = []
    for ctry, (cycle, when) in sorted(latest.items()):
        if when is None:
            continue
        ids = await session.scalars(
            select(Recommendation.id)
            .join(Review, Review.id == Recommendation.review_id)
            .where(Recommendation.country == ctry, Review.cycle == cycle if cycle else Review.cycle.is_(None))
            .order_by(Recommendation.id)
        )
        out.append((ctry, when, tuple(ids)))
    return out


async def _existing(session: AsyncSession, s: Suggestion) -> Deadline | None:
    return await session.scalar(
        select(Deadline)
        .join(Mechanism, Mechanism.id == Deadline.mechanism_id)
        .where(Deadline.kind == s.kind, Deadline.due_on == s.due_on, Mechanism.code == s.mechanism)
        .limit(1)
    )


async def _exists(session: AsyncSession, s: Suggestion) -> bool:
    return await _existing(session, s) is not None
