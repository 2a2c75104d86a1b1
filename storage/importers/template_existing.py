"""A template row's recommendation when the registry already holds it.

The secretariat's template may name a recommendation that UHRI or UPR Info
gave: by that source's id, by its registry number (#N), or by its document
and paragraph (for the UPR, by State, session and text as
storage.recommendation_match compares them). Such a row joins that
recommendation as one more source (storage.importers.writer), so the
secretariat's columns reach it and no silent duplicate is made.

A column the sheet leaves out keeps what the registry holds: before the row
is written, its absent columns are filled from the stored recommendation,
so a short sheet (id, text, mechanism, country and one more) changes only
what it gives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ImportSource, TagKind
from storage.follow_up import normalise_paragraph
from storage.importers.errors import RowError
from storage.importers.record import RecommendationRecord, upr_cycle
from storage.models import Cluster, Document, Mechanism, Recommendation, Review, Tag, recommendation_tags
from storage.recommendation_match import normalise_state, upr_key
from storage.recommendation_sources import ids_for_external_id, known_external_ids, known_rows

_NUMBER = re.compile(r"#\s*(\d{1,12})")
# The template's tag columns, by the kind of tag they hold.
_TAG_COLUMNS = {
    "themes": TagKind.THEME,
    "sdgs": TagKind.SDG,
    "affected_persons": TagKind.AFFECTED_PERSONS,
    "recommending_states": TagKind.RECOMMENDING_STATE,
}


async def prepare(session: AsyncSession, rows: Sequence[tuple[RecommendationRecord, int, str | None]]) -> dict[int, list[RowError]]:
    """For each (record, row number, sheet): find the stored recommendation
    the record is (setting ``record.joins`` when it is another source's) and
    fill its absent columns from it. The errors of the rows whose record
    cannot be what it names, by row number. Looked up for all the rows at
    once: a template of thousands of rows costs a few queries, not a few a row."""
    records = [r for r, _, _ in rows]
    known = await known_rows(session, ImportSource.TEMPLATE, [r.external_id for r in records])
    fresh = [r for r in records if r.external_id not in known]
    named = await known_external_ids(session, [r.external_id for r in fresh])
    by_paragraph = await _by_paragraph(session, [r for r in fresh if r.external_id not in named])
    by_key = await _by_key(session, [r for r in fresh if r.external_id not in named])
    errors: dict[int, list[RowError]] = {}
    to_fill: list[tuple[RecommendationRecord, int]] = []
    for record, row, sheet in rows:
        if record.external_id in known:
            rec_id: int | None = known[record.external_id][0]
        else:
            found = await _named(session, record, record.external_id in named, by_paragraph, by_key)
            if isinstance(found, RowError):
                errors[row] = [RowError(row, found.column, found.reason, sheet)]
                continue
            rec_id = record.joins = found
            if rec_id is not None and (reason := await _mismatch(session, record, rec_id)):
                errors[row] = [RowError(row, "id", reason, sheet)]
                continue
        if rec_id is not None and record.absent:
            to_fill.append((record, rec_id))
    await _fill(session, to_fill)
    return errors


def _paragraph_of(record: RecommendationRecord) -> tuple[str, str] | None:
    if record.document_symbol and record.paragraph and "paragraph" not in record.absent:
        return record.document_symbol, normalise_paragraph(record.paragraph)
    return None


async def _by_paragraph(session: AsyncSession, records: list[RecommendationRecord]) -> dict[tuple[str, str], list[int]]:
    """The stored recommendations at each (document, paragraph) the records give."""
    wanted = {p for r in records if (p := _paragraph_of(r))}
    found: dict[tuple[str, str], list[int]] = {}
    for chunk in _chunks(sorted(wanted)):
        rows = await session.execute(
            select(Recommendation.id, Document.symbol, Recommendation.paragraph)
            .join(Document, Document.id == Recommendation.document_id)
            .where(
                Document.symbol.in_({s for s, _ in chunk}),
                # Narrowed in SQL (spaces, case), confirmed in Python (every blank).
                func.lower(func.replace(Recommendation.paragraph, " ", "")).in_({p for _, p in chunk}),
            )
            .order_by(Recommendation.id)
        )
        for rec_id, symbol, paragraph in rows:
            if (place := (symbol, normalise_paragraph(paragraph))) in wanted:
                found.setdefault(place, []).append(rec_id)
    return found


async def _by_key(session: AsyncSession, records: list[RecommendationRecord]) -> dict[str, int]:
    """The oldest stored recommendation under each UPR key the records give."""
    keys = {k for r in records if (k := upr_key(r.mechanism_code, r.country, r.upr_session, r.text))}
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(keys)):
        rows = await session.execute(select(Recommendation.match_key, Recommendation.id).where(Recommendation.match_key.in_(chunk)).order_by(Recommendation.id.desc()))
        found.update({key: rec_id for key, rec_id in rows})
    return found


async def _named(
    session: AsyncSession,
    record: RecommendationRecord,
    named: bool,
    by_paragraph: dict[tuple[str, str], list[int]],
    by_key: dict[str, int],
) -> int | RowError | None:
    if number := _NUMBER.fullmatch(record.external_id):
        rec_id = int(number[1])
        if await session.get(Recommendation, rec_id) is None:
            return RowError(0, "id", f"no recommendation #{rec_id} in the registry")
        return rec_id
    if named:
        ids = await ids_for_external_id(session, record.external_id)
        if len(ids) > 1:
            numbers = ", ".join(f"#{i}" for i in ids)
            return RowError(0, "id", f"{record.external_id!r} names {numbers} (different sources): give one as #N")
        if ids:
            return ids[0]
    if (place := _paragraph_of(record)) and (same := by_paragraph.get(place)):
        if len(same) > 1:
            numbers = ", ".join(f"#{i}" for i in same)
            return RowError(
                0,
                "paragraph",
                f"{record.document_symbol} paragraph {record.paragraph} is {numbers} already: name one in the id column as #N",
            )
        return same[0]
    key = upr_key(record.mechanism_code, record.country, record.upr_session, record.text)
    return by_key.get(key) if key else None


def _chunks(items: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _mismatch(session: AsyncSession, record: RecommendationRecord, rec_id: int) -> str | None:
    """Why the row cannot be #rec_id: another mechanism or State."""
    code, country = (await session.execute(select(Mechanism.code, Recommendation.country).join(Mechanism, Mechanism.id == Recommendation.mechanism_id).where(Recommendation.id == rec_id))).one()
    if code != record.mechanism_code:
        return f"names #{rec_id}, a {code} recommendation, but the mechanism column says {record.mechanism_code}"
    if normalise_state(country) != normalise_state(record.country):
        return f"names #{rec_id}, a recommendation to {country}, but the country column says {record.country}"
    return None


async def _fill(session: AsyncSession, records: list[tuple[RecommendationRecord, int]]) -> None:
    """Each record's absent columns as its stored recommendation holds them."""
    ids = sorted({rec_id for _, rec_id in records})
    stored: dict[int, tuple[Any, ...]] = {}
    tags: dict[int, list[tuple[TagKind, str]]] = {}
    for chunk in _chunks(ids):
        rows = await session.execute(
            select(Recommendation, Document.symbol, Document.published_on, Review.session, Cluster.name)
            .outerjoin(Document, Document.id == Recommendation.document_id)
            .outerjoin(Review, Review.id == Recommendation.review_id)
            .outerjoin(Cluster, Cluster.id == Recommendation.cluster_id)
            .where(Recommendation.id.in_(chunk))
        )
        stored.update({row[0].id: tuple(row) for row in rows})
        pairs = await session.execute(
            select(recommendation_tags.c.recommendation_id, Tag.kind, Tag.value)
            .join(Tag, Tag.id == recommendation_tags.c.tag_id)
            .where(recommendation_tags.c.recommendation_id.in_(chunk))
            .order_by(Tag.kind, Tag.value)
        )
        for rec_id, kind, value in pairs:
            tags.setdefault(rec_id, []).append((TagKind(kind), value))
    for record, rec_id in records:
        _fill_one(record, stored[rec_id], tags.get(rec_id, []))


def _fill_one(record: RecommendationRecord, stored_row: tuple[Any, ...], stored_tags: list[tuple[TagKind, str]]) -> None:
    stored, symbol, published_on, upr_session, cluster = stored_row
    absent = record.absent
    if "kind" in absent:
        record.kind = stored.kind
    if "paragraph" in absent:
        record.paragraph = stored.paragraph
    if "document_symbol" in absent:
        record.document_symbol = symbol
        if "document_date" in absent:
            record.document_date = published_on
    if "upr_session" in absent:
        record.upr_session = upr_session
        record.upr_cycle = upr_cycle(upr_session) if upr_session else None
    if "upr_position" in absent:
        record.upr_position = stored.upr_position
    if "follow_up_grade" in absent:
        record.follow_up_grade = stored.follow_up_grade
    if "cluster" in absent:
        record.cluster = cluster
    kinds = {kind for column, kind in _TAG_COLUMNS.items() if column in absent}
    if kinds:
        record.tags = [t for t in record.tags if t[0] not in kinds] + [t for t in stored_tags if t[0] in kinds]
