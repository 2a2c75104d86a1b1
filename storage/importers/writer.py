"""Write recommendation records in batches: insert new, update changed, skip unchanged.

Core statements in batches rather than ORM objects: a full UHRI export is a
quarter of a million rows, and the ORM's per-object bookkeeping would make
memory grow with the file. The import as a whole is audited by one entry
(see storage.importers.run), not one per row.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.importers.record import RecommendationRecord
from storage.models import Cluster, Document, Mechanism, Recommendation, Review, Tag, recommendation_tags
from storage.reference import classify_mechanism
from storage.types import utcnow

BATCH_SIZE = 1000
# Keep IN lists and multi-row VALUES well under SQLite's variable limit.
_IN_CHUNK = 500


@dataclass
class WriteCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class RecommendationWriter:
    def __init__(self, session: AsyncSession, batch_size: int = BATCH_SIZE) -> None:
        self.session = session
        self.batch_size = batch_size
        self.counts = WriteCounts()
        self._batch: list[RecommendationRecord] = []
        self._ids: dict[str, dict[Hashable, int]] = {}

    async def add(self, record: RecommendationRecord) -> None:
        self._batch.append(record)
        if len(self._batch) >= self.batch_size:
            await self.flush()

    async def flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        table = Recommendation.__table__
        by_source: dict[Any, list[RecommendationRecord]] = {}
        for record in batch:
            by_source.setdefault(record.source, []).append(record)
        for source, records in by_source.items():
            existing: dict[str, tuple[int, str]] = {}
            for chunk in _chunks([r.external_id for r in records]):
                rows = await self.session.execute(
                    select(table.c.id, table.c.external_id, table.c.content_hash).where(
                        table.c.source == source, table.c.external_id.in_(chunk)
                    )
                )
                existing.update({ext: (rid, digest) for rid, ext, digest in rows})
            new, changed = [], []
            for record in records:
                digest = record.content_hash()
                found = existing.get(record.external_id)
                if found is None:
                    new.append((record, digest))
                elif found[1] != digest:
                    changed.append((found[0], record, digest))
                else:
                    self.counts.unchanged += 1
            if new or changed:
                await self._write(table, new, changed)

    async def _write(
        self,
        table: Table,
        new: list[tuple[RecommendationRecord, str]],
        changed: list[tuple[int, RecommendationRecord, str]],
    ) -> None:
        records = [r for r, _ in new] + [r for _, r, _ in changed]
        await self._resolve(records)
        now = utcnow()
        tag_rows: list[dict[str, int]] = []
        if new:
            params = [{**self._columns(r, digest), "created_at": now, "updated_at": now} for r, digest in new]
            result = await self.session.execute(
                table.insert().returning(table.c.id, sort_by_parameter_order=True), params
            )
            for (rec_id,), (record, _) in zip(result.all(), new, strict=True):
                tag_rows.extend(self._tag_links(rec_id, record))
            self.counts.created += len(new)
        if changed:
            columns = list(self._columns(changed[0][1], changed[0][2]))
            statement = (
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values({c: bindparam(f"b_{c}") for c in columns} | {"updated_at": now})
            )
            params = [
                {"b_id": rec_id, **{f"b_{k}": v for k, v in self._columns(record, digest).items()}}
                for rec_id, record, digest in changed
            ]
            await self.session.execute(statement, params, execution_options={"synchronize_session": False})
            ids = [rec_id for rec_id, _, _ in changed]
            for chunk in _chunks(ids):
                await self.session.execute(
                    delete(recommendation_tags).where(recommendation_tags.c.recommendation_id.in_(chunk))
                )
            for rec_id, record, _ in changed:
                tag_rows.extend(self._tag_links(rec_id, record))
            self.counts.updated += len(changed)
        if tag_rows:
            await self.session.execute(recommendation_tags.insert(), tag_rows)

    def _columns(self, record: RecommendationRecord, digest: str) -> dict[str, Any]:
        mechanism_id = self._ids["mechanism"][record.mechanism_code]
        return {
            "source": record.source,
            "external_id": record.external_id,
            "text": record.text,
            "paragraph": record.paragraph,
            "country": record.country,
            "kind": record.kind,
            "mechanism_id": mechanism_id,
            "document_id": self._ids["document"][record.document_symbol] if record.document_symbol else None,
            "review_id": self._ids["review"].get(_review_key(record, mechanism_id)),
            "upr_position": record.upr_position,
            "follow_up_grade": record.follow_up_grade,
            "cluster_id": self._ids["cluster"][record.cluster] if record.cluster else None,
            "priority": record.priority,
            "published_on": record.published_on,
            "content_hash": digest,
        }

    def _tag_links(self, rec_id: int, record: RecommendationRecord) -> list[dict[str, int]]:
        tag_ids = dict.fromkeys(self._ids["tag"][(k, v)] for k, v in record.tags)
        return [{"recommendation_id": rec_id, "tag_id": tag_id} for tag_id in tag_ids]

    async def _resolve(self, records: list[RecommendationRecord]) -> None:
        """Make sure every mechanism, document, review, cluster and tag the
        records name exists, and cache their ids."""
        mechanisms = {r.mechanism_code: r for r in records}
        await self._ensure(
            "mechanism",
            Mechanism.__table__,
            ("code",),
            {
                (code,): {"code": code, "name": code, "kind": classify_mechanism(code)}
                for code in mechanisms
            },
        )
        mech_ids = self._ids["mechanism"]
        await self._ensure(
            "document",
            Document.__table__,
            ("symbol",),
            {
                (r.document_symbol,): {
                    "symbol": r.document_symbol,
                    "mechanism_id": mech_ids[r.mechanism_code],
                    "published_on": r.document_date,
                }
                for r in records
                if r.document_symbol
            },
        )
        await self._ensure(
            "review",
            Review.__table__,
            ("mechanism_id", "country", "label"),
            {
                key: {
                    "mechanism_id": key[0],
                    "country": key[1],
                    "label": key[2],
                    "cycle": r.upr_cycle,
                    "session": r.upr_session,
                }
                for r in records
                if (key := _review_key(r, mech_ids[r.mechanism_code])) is not None
            },
        )
        await self._ensure(
            "cluster",
            Cluster.__table__,
            ("name",),
            {
                (r.cluster,): {"name": r.cluster, "created_at": utcnow(), "updated_at": utcnow()}
                for r in records
                if r.cluster
            },
        )
        await self._ensure(
            "tag",
            Tag.__table__,
            ("kind", "value"),
            {(k, v): {"kind": k, "value": v} for r in records for k, v in r.tags},
        )

    async def _ensure(
        self, name: str, table: Table, key_columns: tuple[str, ...], wanted: dict[tuple[Any, ...], dict[str, Any]]
    ) -> None:
        cache = self._ids.setdefault(name, {})
        single = len(key_columns) == 1

        def cache_key(key: tuple[Any, ...]) -> Hashable:
            return key[0] if single else key

        missing = [k for k in wanted if cache_key(k) not in cache]
        if not missing:
            return
        key_cols = [table.c[c] for c in key_columns]
        await self._load_ids(table, key_cols, missing, cache, single)
        to_insert = [wanted[k] for k in missing if cache_key(k) not in cache]
        if to_insert:
            # DO NOTHING on conflict: another process may have added the same
            # tag or document since we looked.
            await self.session.execute(_insert_ignore(self.session, table), to_insert)
            await self._load_ids(table, key_cols, [k for k in missing if cache_key(k) not in cache], cache, single)

    async def _load_ids(
        self, table: Table, key_cols: list[Any], keys: list[tuple[Any, ...]], cache: dict[Hashable, int], single: bool
    ) -> None:
        for chunk in _chunks(keys):
            if single:
                condition = key_cols[0].in_([k[0] for k in chunk])
            else:
                condition = tuple_(*key_cols).in_(chunk)
            rows = await self.session.execute(select(table.c.id, *key_cols).where(condition))
            for row_id, *key in rows:
                cache[key[0] if single else tuple(key)] = row_id


def _review_key(record: RecommendationRecord, mechanism_id: int) -> tuple[int, str, str] | None:
    if record.upr_cycle is None:
        return None
    return (mechanism_id, record.country, f"UPR cycle {record.upr_cycle}")


def _insert_ignore(session: AsyncSession, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


def _chunks(items: list[Any], size: int = _IN_CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
