"""A re-import's unchanged UHRI rows, known before they are parsed.

A UHRI export is re-imported as it grows (a quarter of a million rows), and
almost every row comes back as it was. Parsing a row and hashing its record
(storage.importers.record.content_hash) was most of such a re-import. So
each UHRI row's cells as read are digested too, and the digest kept with
its row in recommendation_sources.row_digest: a row whose cells digest the
same as last time is the same record, counted unchanged without being
parsed. Any other row (new, edited, imported before migration 0031, read
from another kind of file, or read by a changed parser) takes the full path
and has its digest recorded.

What makes the shortcut safe: the digest covers every column the parser
reads, each cell's type as well as its text (``repr``), and the parser's
READ_VERSION, and a digest is only ever stored by an import that committed
(imports are all-or-nothing), so the row it stands for was parsed without
error into the record whose content hash is stored beside it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ImportSource
from storage.importers.readers import SourceRow
from storage.models import RecommendationSource

BATCH_SIZE = 1000
# Well under SQLite's variable limit.
_IN_CHUNK = 500


def row_digest(values: dict[str, Any], columns: Sequence[str], version: str) -> str:
    """The row's cells in ``columns``, in that order, as read; ``version``
    is the parser's, so a parser that reads a cell differently reads every
    row again."""
    # One repr of the tuple: each cell's type and text, quoted, so no cell's
    # text can pass for a boundary between two cells.
    blob = repr((version, *map(values.get, columns)))
    return hashlib.blake2b(blob.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


# A row, its key (as the parser reads it), its digest, and whether its
# source row was stored with that digest.
SiftedRow = tuple[SourceRow, str, str, bool]


class UnchangedRows:
    """Rows taken a batch at a time, given back in file order, each with its
    key, its digest and whether its source row was stored with the same digest."""

    def __init__(
        self,
        session: AsyncSession,
        source: ImportSource,
        columns: Sequence[str],
        version: str,
        key_of: Callable[[dict[str, Any]], str],
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.session = session
        self.source = source
        self.columns = tuple(columns)
        self.version = version
        self.key_of = key_of
        self.batch_size = batch_size
        self._held: list[tuple[SourceRow, str, str]] = []

    async def push(self, row: SourceRow) -> list[SiftedRow]:
        """Hold ``row``; when the batch is full, every held row, sifted."""
        self._held.append((row, self.key_of(row.values), row_digest(row.values, self.columns, self.version)))
        if len(self._held) < self.batch_size:
            return []
        return await self.drain()

    async def drain(self) -> list[SiftedRow]:
        held, self._held = self._held, []
        if not held:
            return []
        stored = await self._stored_digests([key for _, key, _ in held if key])
        return [(row, key, digest, bool(key) and stored.get(key) == digest) for row, key, digest in held]

    async def _stored_digests(self, keys: list[str]) -> dict[str, str | None]:
        table = RecommendationSource.__table__
        found: dict[str, str | None] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _IN_CHUNK):
            rows = await self.session.execute(
                select(table.c.external_id, table.c.row_digest).where(
                    table.c.source == self.source, table.c.external_id.in_(unique[start : start + _IN_CHUNK])
                )
            )
            found.update((external_id, digest) for external_id, digest in rows)
        return found
