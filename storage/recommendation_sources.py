"""A recommendation by any of its sources' ids.

A recommendation keeps every source's id in recommendation_sources (a UPR
recommendation published by UHRI and UPR Info has both); its own
``recommendations.(source, external_id)`` is the first. Whatever looks a
recommendation up by an external id (a re-import, the template's
assignments, ``--external-id``) goes through here, so the second source's id
finds it as well as the first. The recommendation's own columns are read
too, for a recommendation made without the import (tests, benchmarks).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ImportSource, TagKind
from storage.errors import Conflict, NotFound
from storage.models import Recommendation, RecommendationSource, Tag, recommendation_tags
from storage.recommendation_match import Candidate, normalise_state, source_row

# Keep IN lists well under SQLite's variable limit.
_IN_CHUNK = 500


def with_external_id(external_ids: Collection[str]) -> ColumnElement[bool]:
    """Recommendations that any source knows by one of ``external_ids``."""
    return or_(
        Recommendation.external_id.in_(external_ids),
        Recommendation.id.in_(
            select(RecommendationSource.recommendation_id).where(RecommendationSource.external_id.in_(external_ids))
        ),
    )


async def ids_for_external_id(session: AsyncSession, external_id: str) -> list[int]:
    """The recommendations known by ``external_id`` to some source: one, or
    several when different sources use the same id for different ones."""
    statement = select(Recommendation.id).where(with_external_id([external_id])).order_by(Recommendation.id)
    return list((await session.scalars(statement)).all())


async def ids_for_references(session: AsyncSession, refs: tuple[str, ...]) -> tuple[int, ...]:
    """The recommendations a template's cells name, in order, each once: "#N"
    for the registry's own number, else an id some source knows. One that
    no source knows, or that names recommendations of different sources, is
    refused (field ``recommendations``)."""
    ids: list[int] = []
    for ref in refs:
        if ref.startswith("#") and ref[1:].isdigit():
            ids.append(int(ref[1:]))
            continue
        found = await ids_for_external_id(session, ref)
        if not found:
            raise NotFound(f"no recommendation with id {ref!r} (the template's id, a UHRI annotation id, a UPR Info key, or #N)", field="recommendations")
        if len(found) > 1:
            raise Conflict(f"{ref!r} names {len(found)} recommendations from different sources: write #N for the one meant", field="recommendations")
        ids.append(found[0])
    return tuple(dict.fromkeys(ids))


async def known_external_ids(session: AsyncSession, external_ids: Collection[str]) -> set[str]:
    """Which of ``external_ids`` some source knows."""
    found: set[str] = set()
    wanted = list(external_ids)
    for chunk in _chunks(wanted):
        found.update(
            (await session.scalars(select(RecommendationSource.external_id).where(RecommendationSource.external_id.in_(chunk)))).all()
        )
        found.update(
            (await session.scalars(select(Recommendation.external_id).where(Recommendation.external_id.in_(chunk)))).all()
        )
    return found


async def known_rows(
    session: AsyncSession, source: ImportSource, external_ids: list[str]
) -> dict[str, tuple[int, str, bool]]:
    """For each of ``source``'s ids already stored: (recommendation id, the
    content hash of that source's row, whether recommendation_sources holds
    it). False for a recommendation made without the import, whose row is
    missing until the import writes it."""
    table = RecommendationSource.__table__
    found: dict[str, tuple[int, str, bool]] = {}
    for chunk in _chunks(external_ids):
        rows = await session.execute(
            select(table.c.external_id, table.c.recommendation_id, table.c.content_hash).where(
                table.c.source == source, table.c.external_id.in_(chunk)
            )
        )
        found.update({ext: (rec_id, digest, True) for ext, rec_id, digest in rows})
    rest = [e for e in external_ids if e not in found]
    recs = Recommendation.__table__
    for chunk in _chunks(rest):
        rows = await session.execute(
            select(recs.c.external_id, recs.c.id, recs.c.content_hash).where(
                recs.c.source == source, recs.c.external_id.in_(chunk)
            )
        )
        found.update({ext: (rec_id, digest, False) for ext, rec_id, digest in rows})
    return found


async def sources_of(session: AsyncSession, recommendation_ids: Iterable[int]) -> dict[int, set[ImportSource]]:
    """Every source each recommendation came from (its own among them)."""
    ids = list(dict.fromkeys(recommendation_ids))
    found: dict[int, set[ImportSource]] = {rec_id: set() for rec_id in ids}
    table = RecommendationSource.__table__
    recs = Recommendation.__table__
    for chunk in _chunks(ids):
        for rec_id, source in await session.execute(
            select(table.c.recommendation_id, table.c.source).where(table.c.recommendation_id.in_(chunk))
        ):
            found[rec_id].add(ImportSource(source))
        for rec_id, source in await session.execute(select(recs.c.id, recs.c.source).where(recs.c.id.in_(chunk))):
            found[rec_id].add(ImportSource(source))
    return found


async def candidates_by_key(session: AsyncSession, keys: Collection[str]) -> dict[str, list[Candidate]]:
    """The recommendations stored under each match key, with their sources,
    recommending States and UPR Info rows, oldest first."""
    recs = Recommendation.__table__
    by_id: dict[int, tuple[str, Candidate]] = {}
    for chunk in _chunks(list(keys)):
        for rec_id, key, source, external_id in await session.execute(
            select(recs.c.id, recs.c.match_key, recs.c.source, recs.c.external_id).where(recs.c.match_key.in_(chunk))
        ):
            own = (ImportSource(source), external_id)
            by_id[rec_id] = (key, Candidate(rec_id, set(), set(), order=(0, rec_id), own=own))
    if not by_id:
        return {}
    for rec_id, sources in (await sources_of(session, by_id)).items():
        by_id[rec_id][1].sources.update(sources)
    table = RecommendationSource.__table__
    for chunk in _chunks(list(by_id)):
        rows = await session.execute(
            select(recommendation_tags.c.recommendation_id, Tag.value)
            .join(Tag, Tag.id == recommendation_tags.c.tag_id)
            .where(Tag.kind == TagKind.RECOMMENDING_STATE, recommendation_tags.c.recommendation_id.in_(chunk))
        )
        for rec_id, value in rows:
            if state := normalise_state(value):
                by_id[rec_id][1].states.add(state)
        rows = await session.execute(
            select(table.c.recommendation_id, table.c.external_id, table.c.content_hash, table.c.row_tags)
            .where(table.c.recommendation_id.in_(chunk), table.c.source == ImportSource.UPRINFO)
            .order_by(table.c.id)
        )
        for rec_id, external_id, digest, tags in rows:
            by_id[rec_id][1].rows.append(source_row(external_id, digest, tags))
    found: dict[str, list[Candidate]] = {}
    for rec_id in sorted(by_id):
        key, candidate = by_id[rec_id]
        if ImportSource.UHRI in candidate.sources:
            candidate.paragraph = set(candidate.states)
        found.setdefault(key, []).append(candidate)
    return found


async def source_row_counts(session: AsyncSession, recommendation_ids: Iterable[int]) -> dict[int, int]:
    """How many source rows each recommendation holds (one: it is that row's
    alone; more: UHRI's paragraph, UPR Info's rows of several States)."""
    ids = list(dict.fromkeys(recommendation_ids))
    found = dict.fromkeys(ids, 0)
    table = RecommendationSource.__table__
    for chunk in _chunks(ids):
        for rec_id, n in await session.execute(
            select(table.c.recommendation_id, func.count())
            .where(table.c.recommendation_id.in_(chunk))
            .group_by(table.c.recommendation_id)
        ):
            found[rec_id] = int(n)
    return found


def _chunks(items: list[Any], size: int = _IN_CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
