"""Write recommendation records in batches: insert new, update changed, skip
unchanged, and join a UPR recommendation another source already gave.

Core statements in batches rather than ORM objects: a full UHRI export is a
quarter of a million rows, and the ORM's per-object bookkeeping would make
memory grow with the file. The import as a whole is audited by one entry
(see storage.importers.run), not one per row.

A row is, in this order:
1. known: its (source, external_id) is in recommendation_sources (or is a
   recommendation's own). Unchanged since (same content hash) it writes
   nothing; changed, it updates its recommendation.
2. the same UPR recommendation as one a row already gave (same match key,
   chosen by storage.recommendation_match): it is kept as that
   recommendation, its id added to recommendation_sources, its tags
   (recommending States, themes, SDGs, UPR Info issues and actions...)
   added to the recommendation's. Counted as ``merged`` when another source
   gave it, ``folded`` when it is another State's UPR Info row of the same
   words. A UHRI paragraph taking UPR Info rows lets those of States it does
   not name go (``moved``): to another paragraph naming their State, to UPR
   Info rows alone, or to a recommendation made for them as a copy of the
   import's columns of the one they leave; each row takes its own tags
   (recommendation_sources.row_tags) and the one it leaves loses those that
   none of what stays gives. A recommendation is always known by one of its
   own rows: one whose own UPR Info row leaves takes the first it keeps.
3. else a new recommendation.

Which fields win on a recommendation that two sources gave: the tags are
the union of both. Of the columns, UHRI's paragraph number, document
(symbol, date) and UHRI publication date win, being read from the UN
document itself (UPR Info has no paragraph or symbol); UPR Info's response
(upr_position) wins, because UPR Info follows the State's responses as the
addendum publishes them (a pending recommendation's later answer). Every
other column (text, State, kind, mechanism, review...) stays as the
recommendation's own row (its first source's) wrote it, and is only updated
by that row's re-import; the other rows fill what it left empty. So the text a
focal point has been answering never changes under them because a second
source spells it differently.

A shared recommendation's tags are only ever added to on a re-import: a tag
one row stops giving stays (a UPR Info row's own tags are kept, in
row_tags, only to move the row between recommendations). recommendations.priority is never
written here: it is the effective priority (storage.priorities), and the
template's priority column is an override handled with the priority inputs.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, case, delete, func, literal, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ImportSource, TagKind
from storage.importers.record import RecommendationRecord
from storage.models import (
    Cluster,
    Document,
    Mechanism,
    Recommendation,
    RecommendationSource,
    Review,
    Tag,
    recommendation_tags,
)
from storage.recommendation_match import (
    Candidate,
    SourceRow,
    TagPair,
    choose_for_uhri,
    choose_for_uprinfo,
    match_key,
    rows_not_named,
    source_row,
    states_of,
)
from storage.recommendation_sources import candidates_by_key, known_rows, source_row_counts
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
    # Rows kept as a recommendation another source had given.
    merged: int = 0
    # UPR Info rows kept as the recommendation of another State's row of the
    # same words (UPR Info's one row per recommending State of a paragraph).
    folded: int = 0
    # UPR Info rows that left a recommendation when a UHRI paragraph not
    # naming their State took it (rows of this file's, none of them).
    moved: int = 0


# On a recommendation two sources gave, the source whose value wins (see the
# module docstring); a column not named here is its first source's.
_OWNER = {
    "paragraph": ImportSource.UHRI,
    "document_id": ImportSource.UHRI,
    "published_on": ImportSource.UHRI,
    "upr_position": ImportSource.UPRINFO,
    # The secretariat's own grouping: only its template gives one.
    "cluster_id": ImportSource.TEMPLATE,
}
# The identity and bookkeeping columns a second source never writes.
_NOT_SHARED = {"source", "external_id", "content_hash", "match_key"}
# What a recommendation made for UPR Info rows that left a paragraph takes
# from the one they leave: the import's columns (no secretariat's cluster,
# grade or priority, which were the other recommendation's).
_COPIED = ("text", "paragraph", "country", "kind", "mechanism_id", "document_id", "review_id", "upr_position", "published_on", "match_key")

# (recommendation id, record, content hash); a new one's (record, content hash, match key).
_Row = tuple[int, RecommendationRecord, str]
_New = tuple[RecommendationRecord, str, str | None]


@dataclass
class _Plan:
    """What a batch's unknown rows do, decided in file order before any is
    written, each row seeing what the ones before it did."""

    # New recommendations from rows: the candidate others may join (None
    # for a row no other source gives), the row, its hash, its match key.
    created: list[tuple[Candidate | None, RecommendationRecord, str, str | None]] = field(default_factory=list)
    # New recommendations for UPR Info rows that left a paragraph: (new, the one they left).
    copies: list[tuple[Candidate, Candidate]] = field(default_factory=list)
    # Rows kept as a recommendation already there or made by the batch, and
    # whether another source had given it (else UPR Info rows of one paragraph).
    joined: list[tuple[Candidate, RecommendationRecord, str, bool]] = field(default_factory=list)
    # Recommendations whose UPR Info rows moved, with the rows they had first.
    reshaped: dict[int, tuple[Candidate, set[str]]] = field(default_factory=dict)
    # The tags of the paragraph that took each reshaped recommendation.
    paragraph_tags: dict[int, set[TagPair]] = field(default_factory=dict)
    rows: dict[str, SourceRow] = field(default_factory=dict)
    made: int = 0

    def new_candidate(self, source: ImportSource, states: set[str], own: str) -> Candidate:
        self.made += 1
        return Candidate(None, {source}, set(states), order=(1, self.made), own=(source, own))

    def reshape(self, candidate: Candidate) -> None:
        """Remember ``candidate``'s rows before the first of them moves."""
        self.reshaped.setdefault(id(candidate), (candidate, {r.external_id for r in candidate.rows}))
        self.rows.update((r.external_id, r) for r in candidate.rows)


class RecommendationWriter:
    def __init__(self, session: AsyncSession, batch_size: int = BATCH_SIZE) -> None:
        self.session = session
        self.batch_size = batch_size
        self.counts = WriteCounts()
        # Every recommendation this import created, changed or joined: their
        # priorities are worked out again once the file is written.
        self.touched: list[int] = []
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
        by_source: dict[ImportSource, list[RecommendationRecord]] = {}
        for record in batch:
            by_source.setdefault(record.source, []).append(record)
        for source, records in by_source.items():
            known = await known_rows(self.session, source, [r.external_id for r in records])
            unknown: list[tuple[RecommendationRecord, str]] = []
            changed: list[_Row] = []
            unlisted: list[_Row] = []
            # Unchanged rows whose cells' digest was not the one stored (rows
            # imported before it was kept, or a file read differently).
            restamped: list[RecommendationRecord] = []
            for record in records:
                digest = record.content_hash()
                found = known.get(record.external_id)
                if found is None:
                    unknown.append((record, digest))
                    continue
                rec_id, old_digest, listed = found
                if not listed:
                    unlisted.append((rec_id, record, digest))
                if old_digest != digest:
                    changed.append((rec_id, record, digest))
                else:
                    self.counts.unchanged += 1
                    if listed and record.row_digest is not None:
                        restamped.append(record)
            if restamped:
                await self._store_row_digests(source, restamped)
            plan = await self._plan(source, unknown)
            if plan.created or plan.joined or changed or unlisted:
                await self._write(source, plan, changed, unlisted)

    async def _plan(self, source: ImportSource, unknown: list[tuple[RecommendationRecord, str]]) -> _Plan:
        """Where each unknown row goes (storage.recommendation_match): a new
        recommendation, or one its key already has or the batch made. A UHRI
        paragraph taking UPR Info rows sends the rows of States it does not
        name where they would have gone had it come first."""
        plan = _Plan()
        keys = [_match_key(record) for record, _ in unknown]
        wanted = {k for k in keys if k is not None}
        candidates = await candidates_by_key(self.session, wanted) if wanted else {}
        for (record, digest), key in zip(unknown, keys, strict=True):
            if record.joins is not None:
                # A template row naming a recommendation another source gave
                # (storage.importers.template_existing).
                plan.joined.append((Candidate(record.joins, {source}, set()), record, digest, True))
                continue
            if key is None:
                plan.created.append((None, record, digest, None))
                continue
            under_key = candidates.setdefault(key, [])
            states = states_of(v for k, v in record.tags if k is TagKind.RECOMMENDING_STATE)
            if source is ImportSource.UPRINFO:
                row = source_row(record.external_id, digest, _row_tags(record))
                chosen = choose_for_uprinfo(row.state or "", under_key)
            else:
                chosen = choose_for_uhri(states, under_key)
            if chosen is None:
                made = plan.new_candidate(source, states, record.external_id)
                if source is ImportSource.UPRINFO:
                    made.rows.append(row)
                else:
                    made.paragraph = set(states)
                under_key.append(made)
                plan.created.append((made, record, digest, key))
                continue
            plan.joined.append((chosen, record, digest, chosen.paragraph is not None or source is not ImportSource.UPRINFO))
            chosen.sources.add(source)
            chosen.states |= states
            if source is ImportSource.UPRINFO:
                chosen.rows.append(row)
                continue
            chosen.paragraph = set(states)
            leaving = rows_not_named(chosen, states)
            if leaving:
                self._send_away(plan, chosen, leaving, under_key, record)
        return plan

    def _send_away(
        self, plan: _Plan, left: Candidate, leaving: list[SourceRow], under_key: list[Candidate], paragraph: RecommendationRecord
    ) -> None:
        plan.reshape(left)
        plan.paragraph_tags.setdefault(id(left), set()).update((k.value, v) for k, v in paragraph.tags)
        gone = {r.external_id for r in leaving}
        left.rows = [r for r in left.rows if r.external_id not in gone]
        kept = {r.state for r in left.rows if r.state} | (left.paragraph or set())
        left.states -= {r.state for r in leaving if r.state} - kept
        for row in leaving:
            target = choose_for_uprinfo(row.state or "", under_key)
            if target is None:
                target = plan.new_candidate(ImportSource.UPRINFO, set(), row.external_id)
                plan.reshaped[id(target)] = (target, set())
                under_key.append(target)
                plan.copies.append((target, left))
            plan.reshape(target)
            plan.rows[row.external_id] = row
            target.rows.append(row)
            if row.state:
                target.states.add(row.state)

    async def _write(self, source: ImportSource, plan: _Plan, changed: list[_Row], unlisted: list[_Row]) -> None:
        table = Recommendation.__table__
        records = [r for _, r, _, _ in plan.created] + [r for _, r, _ in changed] + [r for _, r, _, _ in plan.joined]
        await self._resolve(records)
        now = utcnow()
        tag_rows: list[dict[str, int]] = []
        added_tags: list[dict[str, int]] = []
        source_rows = [_source_row(rec_id, r, digest, now) for rec_id, r, digest in unlisted]
        # Before any copy takes the (source, id) that a recommendation gives up.
        await self._switch_identities(plan)
        if plan.created:
            params = [
                {**self._columns(r, digest), "match_key": key, "created_at": now, "updated_at": now}
                for _, r, digest, key in plan.created
            ]
            # One executemany, then the ids by their (source, external_id):
            # RETURNING in parameter order made SQLAlchemy send SQLite one
            # INSERT a row (two thirds of a first import's time).
            await self.session.execute(table.insert(), params)
            by_external_id: dict[str, int] = {}
            for chunk in _chunks([r.external_id for _, r, _, _ in plan.created]):
                found = await self.session.execute(
                    select(table.c.external_id, table.c.id).where(table.c.source == source, table.c.external_id.in_(chunk))
                )
                by_external_id.update((row[0], row[1]) for row in found)
            new_ids = []
            for (candidate, record, _, _) in plan.created:
                rec_id = by_external_id[record.external_id]
                if candidate is not None:
                    candidate.recommendation_id = rec_id
                tag_rows.extend(self._tag_links(rec_id, record))
                new_ids.append(rec_id)
            # Each row's source row, with its own tags (a UPR Info row's, so its
            # State's paragraph can take it later) and its cells' digest (a UHRI row's).
            await self.session.execute(
                RecommendationSource.__table__.insert(),
                [_source_row(rec_id, record, digest, now) for rec_id, (_, record, digest, _) in zip(new_ids, plan.created, strict=True)],
            )
            self.counts.created += len(plan.created)
            self.touched.extend(new_ids)
        await self._copy(plan, now)
        added_tags.extend(await self._move_rows(plan))
        if source_rows:
            await self.session.execute(RecommendationSource.__table__.insert(), source_rows)
        if changed:
            counts = await source_row_counts(self.session, [rec_id for rec_id, _, _ in changed])
            # A recommendation of this row alone takes it as it is; one of
            # several rows (another source's, other States') is shared.
            own = [row for row in changed if counts[row[0]] <= 1]
            shared = [row for row in changed if counts[row[0]] > 1]
            if own:
                await self._update_own(own, now)
                for chunk in _chunks([rec_id for rec_id, _, _ in own]):
                    await self.session.execute(
                        delete(recommendation_tags).where(recommendation_tags.c.recommendation_id.in_(chunk))
                    )
                for rec_id, record, _ in own:
                    tag_rows.extend(self._tag_links(rec_id, record))
            if shared:
                await self._update_shared(source, shared, now)
                for rec_id, record, _ in shared:
                    added_tags.extend(self._tag_links(rec_id, record))
            await self._store_digests(source, changed)
            self.counts.updated += len(changed)
            self.touched.extend(rec_id for rec_id, _, _ in changed)
        if plan.joined:
            joined: list[_Row] = []
            for candidate, record, digest, other_source in plan.joined:
                assert candidate.recommendation_id is not None
                joined.append((candidate.recommendation_id, record, digest))
                if other_source:
                    self.counts.merged += 1
                else:
                    self.counts.folded += 1
            await self.session.execute(
                RecommendationSource.__table__.insert(),
                [_source_row(rec_id, record, digest, now) for rec_id, record, digest in joined],
            )
            await self._update_shared(source, joined, now)
            for rec_id, record, _ in joined:
                added_tags.extend(self._tag_links(rec_id, record))
            self.touched.extend(rec_id for rec_id, _, _ in joined)
        if tag_rows:
            await self.session.execute(recommendation_tags.insert(), tag_rows)
        if added_tags:
            # A shared recommendation keeps the tags it has and gains the rest.
            await self.session.execute(_insert_ignore(self.session, recommendation_tags), added_tags)

    async def _switch_identities(self, plan: _Plan) -> None:
        """A stored recommendation whose own UPR Info row left it is known
        by the first row it keeps: its (source, external_id) is always one
        of its rows'."""
        table = Recommendation.__table__
        params = []
        for candidate, _ in plan.reshaped.values():
            if candidate.recommendation_id is None or candidate.own is None or not candidate.rows:
                continue
            own_source, own_id = candidate.own
            if own_source is ImportSource.UPRINFO and own_id not in {r.external_id for r in candidate.rows}:
                first = candidate.rows[0]
                params.append({"b_id": candidate.recommendation_id, "b_external_id": first.external_id, "b_content_hash": first.content_hash})
                candidate.own = (ImportSource.UPRINFO, first.external_id)
        if params:
            statement = (
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(external_id=bindparam("b_external_id"), content_hash=bindparam("b_content_hash"))
            )
            await self.session.execute(statement, params, execution_options={"synchronize_session": False})

    async def _copy(self, plan: _Plan, now: Any) -> None:
        """The recommendations of UPR Info rows that left a paragraph and had
        nowhere else to go: the import's columns of the one they left, known
        by the first row they hold."""
        table = Recommendation.__table__
        for made, left in plan.copies:
            assert left.recommendation_id is not None
            if not made.rows:
                continue
            first = made.rows[0]
            made.own = (ImportSource.UPRINFO, first.external_id)
            copied = select(
                *(table.c[c] for c in _COPIED),
                literal(ImportSource.UPRINFO.value).label("source"),
                literal(first.external_id).label("external_id"),
                literal(first.content_hash).label("content_hash"),
                literal(now, type_=table.c.created_at.type).label("created_at"),
                literal(now, type_=table.c.updated_at.type).label("updated_at"),
            ).where(table.c.id == left.recommendation_id)
            columns = [*_COPIED, "source", "external_id", "content_hash", "created_at", "updated_at"]
            made.recommendation_id = await self.session.scalar(
                table.insert().from_select(columns, copied).returning(table.c.id)
            )
            self.touched.append(made.recommendation_id)

    async def _move_rows(self, plan: _Plan) -> list[dict[str, int]]:
        """Each moved UPR Info row to the recommendation it ends on, with its
        own tags; the one it left loses the tags none of its remaining rows
        nor its paragraph gives. The links to add are returned."""
        if not plan.reshaped:
            return []
        sources = RecommendationSource.__table__
        moves: list[dict[str, Any]] = []
        gained: list[tuple[int, set[TagPair]]] = []
        lost: list[tuple[int, set[TagPair]]] = []
        for key, (candidate, before) in plan.reshaped.items():
            assert candidate.recommendation_id is not None
            after = {r.external_id for r in candidate.rows}
            arrived = [r for r in candidate.rows if r.external_id not in before]
            moves += [{"b_id": candidate.recommendation_id, "b_external_id": r.external_id} for r in arrived]
            gained.append((candidate.recommendation_id, {t for r in arrived for t in r.tags or ()}))
            departed = [plan.rows[e] for e in before - after]
            if departed:
                remaining = [r.tags for r in candidate.rows]
                kept = set(plan.paragraph_tags.get(key, set())).union(*(t for t in remaining if t is not None))
                gone = {t for r in departed for t in r.tags or ()} - kept
                if any(t is None for t in remaining):
                    # A remaining row's own tags are not known (imported
                    # before 0026): only the States that left go.
                    gone = {t for t in gone if t[0] == TagKind.RECOMMENDING_STATE.value}
                lost.append((candidate.recommendation_id, gone))
            self.touched.append(candidate.recommendation_id)
        self.counts.moved += len(moves)
        if moves:
            statement = (
                update(sources)
                .where(sources.c.source == ImportSource.UPRINFO.value, sources.c.external_id == bindparam("b_external_id"))
                .values(recommendation_id=bindparam("b_id"))
            )
            await self.session.execute(statement, moves, execution_options={"synchronize_session": False})
        wanted = {(TagKind(k), v) for _, tags in gained + lost for k, v in tags}
        await self._ensure("tag", Tag.__table__, ("kind", "value"), {pair: {"kind": pair[0], "value": pair[1]} for pair in wanted})
        tag_ids = self._ids["tag"]
        for rec_id, tags in lost:
            ids = [tag_ids[(TagKind(k), v)] for k, v in tags]
            for chunk in _chunks(ids):
                await self.session.execute(
                    delete(recommendation_tags).where(
                        recommendation_tags.c.recommendation_id == rec_id, recommendation_tags.c.tag_id.in_(chunk)
                    )
                )
        return [
            {"recommendation_id": rec_id, "tag_id": tag_ids[(TagKind(k), v)]}
            for rec_id, tags in gained
            for k, v in sorted(tags)
        ]

    async def _update_own(self, rows: list[_Row], now: Any) -> None:
        """A recommendation only this source gave takes the row as it is."""
        table = Recommendation.__table__
        columns = [*self._columns(rows[0][1], rows[0][2]), "match_key"]
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in columns} | {"updated_at": now})
        )
        params = [
            {
                "b_id": rec_id,
                **{f"b_{k}": v for k, v in self._columns(record, digest).items()},
                "b_match_key": _match_key(record),
            }
            for rec_id, record, digest in rows
        ]
        await self.session.execute(statement, params, execution_options={"synchronize_session": False})

    async def _update_shared(self, source: ImportSource, rows: list[_Row], now: Any) -> None:
        """A recommendation another source gave too: ``source`` writes the
        columns it owns (when it has a value), the columns of which it is
        the first source, and fills the others where empty."""
        table = Recommendation.__table__
        values: dict[str, Any] = {}
        own_row = (table.c.source == source.value) & (table.c.external_id == bindparam("b_external_id"))
        for name in self._columns(rows[0][1], rows[0][2]):
            if name in _NOT_SHARED:
                continue
            column, value = table.c[name], bindparam(f"b_{name}")
            owner = _OWNER.get(name)
            if owner is source:
                values[name] = func.coalesce(value, column)
            elif owner is not None:
                values[name] = func.coalesce(column, value)
            else:
                # The recommendation's own row: its first source's, one of
                # several UPR Info rows when UPR Info came first.
                values[name] = case((own_row, value), else_=func.coalesce(column, value))
        # The recommendation's own hash is its first source's row's.
        values["content_hash"] = case((own_row, bindparam("b_content_hash")), else_=table.c.content_hash)
        statement = update(table).where(table.c.id == bindparam("b_id")).values(values | {"updated_at": now})
        params = [
            {"b_id": rec_id, **{f"b_{k}": v for k, v in self._columns(record, digest).items()}}
            for rec_id, record, digest in rows
        ]
        await self.session.execute(statement, params, execution_options={"synchronize_session": False})

    async def _store_digests(self, source: ImportSource, rows: list[_Row]) -> None:
        table = RecommendationSource.__table__
        statement = (
            update(table)
            .where(table.c.source == source.value, table.c.external_id == bindparam("b_external_id"))
            .values(
                content_hash=bindparam("b_content_hash"),
                row_tags=bindparam("b_row_tags", type_=table.c.row_tags.type),
                row_digest=bindparam("b_row_digest"),
            )
        )
        await self.session.execute(
            statement,
            [
                {
                    "b_external_id": record.external_id,
                    "b_content_hash": digest,
                    "b_row_tags": _row_tags(record),
                    "b_row_digest": record.row_digest,
                }
                for _, record, digest in rows
            ],
            execution_options={"synchronize_session": False},
        )

    async def _store_row_digests(self, source: ImportSource, records: list[RecommendationRecord]) -> None:
        table = RecommendationSource.__table__
        statement = (
            update(table)
            .where(table.c.source == source.value, table.c.external_id == bindparam("b_external_id"))
            .values(row_digest=bindparam("b_row_digest"))
        )
        await self.session.execute(
            statement,
            [{"b_external_id": r.external_id, "b_row_digest": r.row_digest} for r in records],
            execution_options={"synchronize_session": False},
        )

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


def _match_key(record: RecommendationRecord) -> str | None:
    return match_key(record.source, record.mechanism_code, record.country, record.upr_session, record.text)


def _source_row(rec_id: int, record: RecommendationRecord, digest: str, now: Any) -> dict[str, Any]:
    return {
        "recommendation_id": rec_id,
        "source": record.source,
        "external_id": record.external_id,
        "content_hash": digest,
        "added_at": now,
        "row_tags": _row_tags(record),
        "row_digest": record.row_digest,
    }


def _row_tags(record: RecommendationRecord) -> list[list[str]] | None:
    """A UPR Info row's own tags, as recommendation_sources keeps them; None
    for the other sources, whose rows never move between recommendations."""
    if record.source is not ImportSource.UPRINFO:
        return None
    return [[kind.value, value] for kind, value in sorted(set(record.tags))]


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
