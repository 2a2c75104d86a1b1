"""Files sent as evidence, kept by the bot: from sent to stored.

pending --download--> stored
   |  \\---failed try--> pending (again at next_attempt_at, with a backoff)
   |---over the limit--> refused (the person is told)
   \\---gone, or every try failed--> failed (the person is told)

A file is one row per platform file, however many updates carry it (a
correction or a "no change" repeats the evidence of the update before): it
is taken in (``take_in``) in the transaction that records the first update
carrying it, so no path that stores file evidence can leave one behind. Who
sent it is on that update. Nothing is dropped: a file not stored stays
listed, with its state and the last error, in every report of evidence.

Several bot processes may fetch: ``claim`` takes a due row by moving its
next attempt past a lease, in one conditional UPDATE, so one process has it;
if that process dies, the row is due again when the lease ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Channel, EvidenceFileState, EvidenceKind, Platform
from storage.idempotent import insert_if_new
from storage.models import ChatIdentity, Evidence, EvidenceFile, FocalPoint, StatusUpdate

# What a download may take before another process may try the file again.
LEASE = timedelta(minutes=10)
# A file still failing after this many tries is failed for good (about a
# day and a half of tries with the backoff below).
MAX_ATTEMPTS = 12
# After a failed try: 1, 2, 4 ... minutes, at most six hours.
LONGEST_BACKOFF = timedelta(hours=6)
ERROR_CHARS = 500


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), LONGEST_BACKOFF)


async def take_in(session: AsyncSession, update: StatusUpdate, evidence: Sequence[Evidence], now: datetime) -> int:
    """A row, pending, for each file of a chat update's ``evidence`` not
    taken in before; how many are new. Called by storage.status.record_update."""
    if update.channel not in (Channel.TELEGRAM, Channel.SLACK):
        return 0
    added = 0
    for item in evidence:
        if item.kind is not EvidenceKind.FILE or not item.platform_file_id:
            continue
        added += await insert_if_new(
            session, EvidenceFile, EvidenceFile.id,
            evidence_id=item.id, platform=Platform(update.channel.value), platform_file_id=item.platform_file_id,
            state=EvidenceFileState.PENDING, attempts=0, next_attempt_at=now, created_at=now,
        )
    return added


@dataclass(frozen=True)
class FileToFetch:
    """A claimed file and what its download needs."""

    id: int
    platform: Platform
    platform_file_id: str
    file_name: str
    # What the platform said when it was sent.
    declared_mime: str | None
    declared_size: int | None
    attempts: int


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return (EvidenceFile.state == EvidenceFileState.PENDING) & or_(
        EvidenceFile.next_attempt_at.is_(None), EvidenceFile.next_attempt_at <= now
    )


async def claim(
    session: AsyncSession, now: datetime, limit: int = 8, lease: timedelta = LEASE, platforms: Sequence[Platform] = tuple(Platform),
) -> list[FileToFetch]:
    """Up to ``limit`` due files from ``platforms`` (those this process can
    reach), each now this caller's for ``lease``; the try is counted."""
    rows = (
        await session.execute(
            select(EvidenceFile, Evidence.file_name, Evidence.mime_type, Evidence.size_bytes)
            .join(Evidence, Evidence.id == EvidenceFile.evidence_id)
            .where(_due(now), EvidenceFile.platform.in_(tuple(platforms)))
            .order_by(EvidenceFile.next_attempt_at, EvidenceFile.id)
            .limit(limit)
        )
    ).all()
    claimed: list[FileToFetch] = []
    for row, name, mime, size in rows:
        taken = await session.execute(
            update(EvidenceFile)
            .where(EvidenceFile.id == row.id, _due(now), EvidenceFile.attempts == row.attempts)
            .values(next_attempt_at=now + lease, attempts=row.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(FileToFetch(row.id, row.platform, row.platform_file_id, name or "file", mime, size, row.attempts + 1))
    return claimed


async def anything_due(session: AsyncSession, now: datetime) -> bool:
    return await session.scalar(select(EvidenceFile.id).where(_due(now)).limit(1)) is not None


async def mark_stored(
    session: AsyncSession, file_id: int, *, path: str, sha256: str, size_bytes: int, mime_type: str | None, now: datetime
) -> None:
    await _set(session, file_id, state=EvidenceFileState.STORED, path=path, sha256=sha256, size_bytes=size_bytes,
               mime_type=mime_type, stored_at=now, next_attempt_at=None, last_error=None)


async def mark_retry(
    session: AsyncSession, file_id: int, error: str, attempts: int, now: datetime, max_attempts: int = MAX_ATTEMPTS,
) -> EvidenceFileState:
    """A failed try: again later, or, after ``max_attempts``, failed for good."""
    if attempts >= max_attempts:
        await mark_final(session, file_id, EvidenceFileState.FAILED, error)
        return EvidenceFileState.FAILED
    await _set(session, file_id, next_attempt_at=now + backoff(attempts), last_error=error[:ERROR_CHARS])
    return EvidenceFileState.PENDING


async def mark_final(session: AsyncSession, file_id: int, state: EvidenceFileState, error: str) -> None:
    """Refused (too large) or failed for good: no more tries; the person is told."""
    await _set(session, file_id, state=state, next_attempt_at=None, last_error=error[:ERROR_CHARS])


async def _set(session: AsyncSession, file_id: int, **values: object) -> None:
    await session.execute(update(EvidenceFile).where(EvidenceFile.id == file_id).values(**values).execution_options(synchronize_session=False))


@dataclass(frozen=True)
class Notice:
    """A refused or failed file whose sender is still to be told."""

    file_id: int
    state: EvidenceFileState
    file_name: str
    recommendation_id: int
    platform: Platform
    language: str
    # Where to tell them; None when the sender has no chat on that platform any more.
    user_id: str | None
    chat_id: str | None
    workspace_id: str


async def to_tell(session: AsyncSession, limit: int = 50) -> list[Notice]:
    rows = (
        await session.execute(
            select(EvidenceFile.id, EvidenceFile.state, EvidenceFile.platform, Evidence.file_name, StatusUpdate.recommendation_id,
                   FocalPoint.language, FocalPoint.id)
            .join(Evidence, Evidence.id == EvidenceFile.evidence_id)
            .join(StatusUpdate, StatusUpdate.id == Evidence.status_update_id)
            .outerjoin(FocalPoint, FocalPoint.id == StatusUpdate.author_focal_point_id)
            .where(EvidenceFile.state.in_((EvidenceFileState.REFUSED, EvidenceFileState.FAILED)), EvidenceFile.told_at.is_(None))
            .order_by(EvidenceFile.id)
            .limit(limit)
        )
    ).all()
    notices = []
    for file_id, state, platform, name, rec, language, focal_point_id in rows:
        identity = None
        if focal_point_id is not None:
            identity = await session.scalar(
                select(ChatIdentity).where(ChatIdentity.focal_point_id == focal_point_id, ChatIdentity.platform == platform)
                .order_by(ChatIdentity.id.desc()).limit(1)
            )
        notices.append(Notice(
            file_id, state, name or "file", rec, platform, language or "en",
            identity.platform_user_id if identity else None, identity.chat_id if identity else None,
            identity.workspace_id if identity else "",
        ))
    return notices


async def mark_told(session: AsyncSession, file_id: int, now: datetime) -> None:
    await _set(session, file_id, told_at=now)


# --- for the reports ----------------------------------------------------------


@dataclass(frozen=True)
class KeptFile:
    """A file of an update, as the reports show it."""

    evidence_id: int
    status_update_id: int
    recommendation_id: int
    # The evidence_files row: the same file repeated by later updates has the same one.
    file_id: int | None
    file_name: str
    # None: only its name was recorded (not sent through a chat), nothing to fetch.
    state: EvidenceFileState | None
    path: str | None
    sha256: str | None
    size_bytes: int | None
    mime_type: str | None
    last_error: str | None
    sender: str
    sent_at: datetime


async def files_of_updates(session: AsyncSession, update_ids: Sequence[int]) -> dict[int, list[KeptFile]]:
    """Each update's files with how the bot keeps them, by update id, in the
    order they were given."""
    out: dict[int, list[KeptFile]] = {}
    ids = list(dict.fromkeys(update_ids))
    for start in range(0, len(ids), 2000):
        chunk = ids[start:start + 2000]
        rows = (
            await session.execute(
                select(Evidence, StatusUpdate.recommendation_id, StatusUpdate.channel, StatusUpdate.author_label, StatusUpdate.created_at)
                .join(StatusUpdate, StatusUpdate.id == Evidence.status_update_id)
                .where(Evidence.status_update_id.in_(chunk), Evidence.kind == EvidenceKind.FILE)
                .order_by(Evidence.id)
            )
        ).all()
        wanted = {(channel.value, e.platform_file_id) for e, _, channel, _, _ in rows if e.platform_file_id}
        kept = await _kept(session, wanted)
        for e, rec, channel, author, at in rows:
            found = kept.get((channel.value, e.platform_file_id or ""))
            out.setdefault(e.status_update_id, []).append(KeptFile(
                e.id, e.status_update_id, rec, found.id if found else None, e.file_name or "file",
                found.state if found else None,
                found.path if found else None, found.sha256 if found else None,
                found.size_bytes if found else e.size_bytes, found.mime_type if found else e.mime_type,
                found.last_error if found else None, author, at,
            ))
    return out


async def _kept(session: AsyncSession, wanted: set[tuple[str, str | None]]) -> dict[tuple[str, str], EvidenceFile]:
    by_id: dict[tuple[str, str], EvidenceFile] = {}
    file_ids = sorted({file_id for _, file_id in wanted if file_id})
    for start in range(0, len(file_ids), 2000):
        for row in await session.scalars(select(EvidenceFile).where(EvidenceFile.platform_file_id.in_(file_ids[start:start + 2000]))):
            by_id[(row.platform.value, row.platform_file_id)] = row
    return by_id
