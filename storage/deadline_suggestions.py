"""``deadlines suggest``: the calendar rules applied to what was imported.

For each treaty body's concluding observations (a document with a date):
the follow-up information and the next periodic report. For each UPR
review with a date: the mid-term report and the next national report. Each
report gets an internal input deadline for the ministries ahead of it.
Nothing is written until the secretariat accepts a suggestion; one already
in the registry (same kind, mechanism and date) is shown as such.

The follow-up information deadline covers the paragraphs the committee
selected for its follow-up procedure (storage.follow_up), and only those:
its basis names them. Concluding observations with no selection recorded get
no follow-up suggestion at all (``missing_selections`` names them), because
a deadline over every paragraph would have the ministries chased for what the
committee did not ask about; the periodic report is suggested as before.
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
from storage.follow_up import FOLLOW_UP_KINDS, describe_paragraphs, follow_up_deadlines, get_document
from storage.models import Deadline, Document, FollowUpSelection, Mechanism, Recommendation, Review, deadline_recommendations
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
    # A follow-up deadline's documents, for `followup apply-deadline`.
    documents: tuple[str, ...] = ()
    # The deadline already in the registry covers other recommendations than
    # these (a follow-up deadline made before its selection): its id.
    repoint: int | None = None


@dataclass(frozen=True)
class MissingSelection:
    """Concluding observations whose follow-up deadline waits for their selection."""

    mechanism: str
    country: str
    documents: tuple[str, ...]
    due_on: date


@dataclass(frozen=True)
class _TreatyDocument:
    mechanism: str
    published: date
    country: str
    rec_ids: tuple[int, ...]
    documents: tuple[str, ...]
    # The selected paragraphs: (recommendation id, paragraph).
    selected: tuple[tuple[int, str | None], ...]


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
    for doc in await _treaty_documents(session, country):
        if doc.selected:
            due = rules.follow_up(doc.mechanism, doc.published)
            covers = describe_paragraphs([p for _, p in doc.selected], [i for i, p in doc.selected if not p])
            due = rules.Due(due.on, f"{due.basis}; covers {covers} of {', '.join(doc.documents)}")
            follow_up = _suggestion(DeadlineKind.FOLLOW_UP_INFORMATION, due, doc.mechanism, doc.country, tuple(i for i, _ in doc.selected))
            follow_up.documents = doc.documents
            found.append(follow_up)
        periodic = rules.next_periodic_report(doc.mechanism, doc.published)
        if periodic is not None:
            found.append(_suggestion(DeadlineKind.TREATY_REPORT, periodic, doc.mechanism, doc.country, doc.rec_ids))
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
        existing = await _existing(session, suggestion)
        suggestion.exists = existing is not None
        if existing is not None and existing.withdrawn_at is None and suggestion.kind is DeadlineKind.FOLLOW_UP_INFORMATION:
            covered = set((await session.scalars(
                select(deadline_recommendations.c.recommendation_id).where(deadline_recommendations.c.deadline_id == existing.id)
            )).all())
            if covered != set(suggestion.recommendation_ids):
                suggestion.repoint = existing.id
    return numbered


async def missing_selections(session: AsyncSession, today: date, *, country: str | None = None) -> list[MissingSelection]:
    """Concluding observations still to come due for follow-up that have no
    selection recorded: their follow-up deadline is not suggested until they do."""
    out = []
    for doc in await _treaty_documents(session, country):
        due = rules.follow_up(doc.mechanism, doc.published).on
        if not doc.selected and due >= today:
            out.append(MissingSelection(doc.mechanism, doc.country, doc.documents, due))
    return sorted(out, key=lambda m: (m.due_on, m.mechanism, m.documents))


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
            covers = s.basis.partition("; covers ")[2]
            s.due_on, s.basis = on, "date stated by the committee (given by the secretariat)" + (f"; covers {covers}" if covers else "")
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


async def _treaty_documents(session: AsyncSession, country: str | None) -> list[_TreatyDocument]:
    """Each committee's concluding observations of a date for a State: their
    recommendations, document symbols and follow-up selection."""
    statement = (
        select(
            Mechanism.code, Document.published_on, Recommendation.country, Recommendation.id, Document.symbol,
            Recommendation.paragraph, Recommendation.kind, FollowUpSelection.recommendation_id,
        )
        .join(Document, Document.id == Recommendation.document_id)
        .join(Mechanism, Mechanism.id == Recommendation.mechanism_id)
        .outerjoin(FollowUpSelection, FollowUpSelection.recommendation_id == Recommendation.id)
        .where(Mechanism.kind == MechanismKind.TREATY_BODY, Document.published_on.is_not(None))
        .order_by(Recommendation.id)
    )
    if country:
        statement = statement.where(func.lower(Recommendation.country) == country.lower())
    grouped: dict[tuple[str, date, str], list[int]] = defaultdict(list)
    symbols: dict[tuple[str, date, str], dict[str, None]] = defaultdict(dict)
    selected: dict[tuple[str, date, str], list[tuple[int, str | None]]] = defaultdict(list)
    for code, published, ctry, rec_id, symbol, paragraph, kind, chosen in await session.execute(statement):
        if code.upper() in rules.TREATY_PERIODICITY:
            key = (code.upper(), published, ctry)
            grouped[key].append(rec_id)
            symbols[key][symbol] = None
            if chosen is not None and kind in FOLLOW_UP_KINDS:
                selected[key].append((rec_id, paragraph))
    return [
        _TreatyDocument(code, published, ctry, tuple(ids), tuple(symbols[(code, published, ctry)]), tuple(selected[(code, published, ctry)]))
        for (code, published, ctry), ids in grouped.items()
    ]


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
    if s.kind is DeadlineKind.FOLLOW_UP_INFORMATION and s.documents:
        # The lookup `followup apply-deadline` makes, so the deadline named here is the one it re-points.
        for symbol in s.documents:
            document, mechanism = await get_document(session, symbol)
            if found := await follow_up_deadlines(session, document, mechanism):
                return found[0]
    statement = (
        select(Deadline)
        .join(Mechanism, Mechanism.id == Deadline.mechanism_id)
        .where(Deadline.kind == s.kind, Deadline.due_on == s.due_on, Mechanism.code == s.mechanism)
    )
    if s.kind is DeadlineKind.FOLLOW_UP_INFORMATION and s.documents:
        # Only a withdrawn one is left to find: it still keeps --accept from making it again.
        statement = statement.where(Deadline.withdrawn_at.is_not(None))
    return await session.scalar(statement.limit(1))
