"""``report evidence``: every file sent as evidence for the recommendations
in scope, as history stood at a moment, in one .zip, with a manifest.

Each file kept by the bot is in the archive once (a correction or a "no
change" repeats it), as ``<recommendation id>/<day sent>_<its name>``, and
``manifest.csv`` lists every file given, kept or not: the recommendation,
who sent it and when, its state, SHA-256 and size, where it is in the
archive or why it is not (refused, failed, still being fetched, only its
name recorded, or gone from the store). Files are read from the store a
piece at a time and compressed as they come.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.cells import csv_safe
from storage.enums import EvidenceFileState
from storage.evidence_files import files_of_updates
from storage.models import Recommendation, Review, StatusUpdate
from storage.report_rows import ReportScope
from storage.selection import conditions

MANIFEST_COLUMNS = (
    "recommendation_id", "file_name", "sent_by", "sent_at", "state", "sha256", "size_bytes", "mime_type", "in_zip", "note",
)
_UNSAFE = re.compile(r"[^\w.()+-]+")
CHUNK = 1024 * 1024


def _safe(name: str) -> str:
    """A file name that stays one file name in any archive tool."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "file"
    return cleaned[:120]


async def write_evidence_zip(
    session: AsyncSession, scope: ReportScope, as_of: datetime | None, store: Path, out: Path, timezone: str,
) -> tuple[int, int]:
    """(files in the archive, files listed in the manifest)."""
    recs = select(Recommendation.id).outerjoin(Review, Review.id == Recommendation.review_id).where(
        *conditions(country=scope.country, mechanism=scope.mechanism)
    )
    if scope.cycle is not None:
        recs = recs.where(Review.cycle == scope.cycle)
    updates = select(StatusUpdate.id).where(StatusUpdate.recommendation_id.in_(recs)).order_by(StatusUpdate.id)
    if as_of is not None:
        updates = updates.where(StatusUpdate.created_at <= as_of)
    update_ids = list((await session.scalars(updates)).all())
    files = await files_of_updates(session, update_ids)
    zone = ZoneInfo(timezone)
    manifest = io.StringIO()
    writer = csv.writer(manifest, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(MANIFEST_COLUMNS)
    seen: set[object] = set()
    names: set[str] = set()
    archived = listed = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for update_id in update_ids:
            for kept in files.get(update_id, []):
                identity = kept.file_id if kept.file_id is not None else ("evidence", kept.evidence_id)
                if identity in seen:
                    continue
                seen.add(identity)
                listed += 1
                day = kept.sent_at.astimezone(zone).date().isoformat()
                in_zip, note = "", ""
                if kept.state is EvidenceFileState.STORED and kept.path:
                    source = store / kept.path
                    if source.is_file():
                        in_zip = _unique(f"{kept.recommendation_id}/{day}_{_safe(kept.file_name)}", names)
                        with source.open("rb") as data, archive.open(in_zip, "w") as entry:
                            while piece := data.read(CHUNK):
                                entry.write(piece)
                        archived += 1
                    else:
                        note = f"missing from the evidence store ({kept.path})"
                elif kept.state is None:
                    note = "only its name was recorded"
                else:
                    note = kept.last_error or ""
                writer.writerow([csv_safe(v) for v in (
                    kept.recommendation_id, kept.file_name, kept.sender, kept.sent_at.astimezone(zone).isoformat(),
                    kept.state.value if kept.state else "untracked", kept.sha256 or "", kept.size_bytes if kept.size_bytes is not None else "",
                    kept.mime_type or "", in_zip, note,
                )])
        archive.writestr("manifest.csv", manifest.getvalue())
    return archived, listed


def _unique(name: str, taken: set[str]) -> str:
    """Two files of the same name and day for one recommendation: the second is name-2."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        stem, dot, suffix = name.rpartition(".")
        candidate = f"{stem}-{number}.{suffix}" if dot and "/" not in suffix else f"{name}-{number}"
    taken.add(candidate)
    return candidate
