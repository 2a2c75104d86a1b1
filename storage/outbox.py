"""The outbox: messages the bot owes people, from planned to sent.

pending --claim--> sending --sent--> sent
                      |----unreachable--> unreachable
                      |----failed------> pending (later, with backoff)
pending --withdraw--> cancelled

A claim is one UPDATE over a sub-select that takes each row once: on
PostgreSQL the sub-select locks with FOR UPDATE SKIP LOCKED, so two bot
processes never claim the same row; SQLite has one writer at a time. A row
still "sending" after its lease ran out belonged to a process that died:
it is claimed again. If that process had already called the platform for
it (``send_started_at``), it is flagged ``ambiguous``: the platform may or
may not have taken it before the crash. The sender then asks the platform
(Slack keeps the outbox key as message metadata; on Telegram the messages
after the last one recorded here, ``platform_message_id``, are forwarded to a
delivery check channel) and sends again only what did not arrive, or, where
nobody can tell, sends again and keeps the flag. Everything else goes out once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.enums import OutboxKind, OutboxStatus, Platform
from storage.models import ChatIdentity, OutboxMessage


@dataclass(frozen=True)
class NewMessage:
    key: str
    kind: OutboxKind
    platform: Platform
    workspace_id: str
    platform_user_id: str
    chat_id: str
    timezone: str
    message: dict[str, Any]
    due_at: datetime
    not_after: datetime | None = None
    identity_id: int | None = None
    focal_point_id: int | None = None
    secretariat_user_id: int | None = None
    # The reader's own working hours ("HH:MM-HH:MM"), when not the configured ones.
    working_hours: str | None = None


async def enqueue(session: AsyncSession, new: NewMessage) -> int | None:
    """Add a message unless one with its key exists; its id, or None."""
    return (await enqueue_many(session, [new])).get(new.key)


async def enqueue_many(session: AsyncSession, news: Sequence[NewMessage]) -> dict[str, int]:
    """Add the messages whose keys are new, in one statement; key -> id of
    each one added (a key planned before is absent)."""
    if not news:
        return {}
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        module.insert(OutboxMessage)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.key, OutboxMessage.id)
    )
    rows = [{**vars(n), "status": OutboxStatus.PENDING, "attempts": 0, "ambiguous": False} for n in news]
    added: dict[str, int] = {}
    # Chunks keep each statement within the backends' parameter limits.
    for start in range(0, len(rows), 500):
        result = await session.execute(statement, rows[start:start + 500])
        added.update({key: row_id for key, row_id in result})
    return added


def _in_turn() -> Any:
    """A turn's kept replies go out in their order: one is not claimed while
    an earlier one to the same chat waits (refused again, in its backoff) or
    is being sent. Every other kind is claimed as it comes."""
    earlier = aliased(OutboxMessage)
    waiting = select(earlier.id).where(
        earlier.kind == OutboxKind.CHAT_REPLY, earlier.platform == OutboxMessage.platform,
        earlier.workspace_id == OutboxMessage.workspace_id, earlier.chat_id == OutboxMessage.chat_id,
        earlier.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)), earlier.id < OutboxMessage.id,
    ).exists()
    return or_(OutboxMessage.kind != OutboxKind.CHAT_REPLY, ~waiting)


def _claimable(now: datetime) -> Any:
    return and_(
        or_(
            and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now),
            and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until < now),
        ),
        _in_turn(),
    )


async def anything_due(session: AsyncSession, now: datetime) -> bool:
    """A read, so an idle sender does not take SQLite's write lock each poll."""
    return (await session.scalar(select(OutboxMessage.id).where(_claimable(now)).limit(1))) is not None


async def claim(session: AsyncSession, worker: str, now: datetime, limit: int, lease: timedelta) -> list[OutboxMessage]:
    """Take up to ``limit`` due rows for ``worker``, oldest due first."""
    candidates = select(OutboxMessage.id).where(_claimable(now)).order_by(OutboxMessage.due_at, OutboxMessage.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE, evaluated once: PostgreSQL may run an IN (sub-select) again per
    # row, and with SKIP LOCKED each run finds other rows, claiming too many.
    picked = candidates.cte("picked")
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id == picked.c.id, _claimable(now))
        .values(
            # SET sees the row as it was: one found "sending" with its send
            # started was cut off while the platform had it.
            ambiguous=or_(
                OutboxMessage.ambiguous,
                and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.send_started_at.is_not(None)),
            ),
            interrupted_send_at=case(
                (and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.send_started_at.is_not(None)), OutboxMessage.send_started_at),
                else_=OutboxMessage.interrupted_send_at,
            ),
            send_started_at=None,
            status=OutboxStatus.SENDING,
            claimed_by=worker,
            lease_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    rows = list((await session.scalars(statement)).all())
    return sorted(rows, key=lambda r: (r.due_at, r.id))


async def _finish(session: AsyncSession, row_id: int, worker: str, **values: Any) -> bool:
    # On the session's connection, past the ORM's bulk UPDATE: two of these
    # a send, and the ORM's handling of them was about 7 % of the sending
    # process's samples in a 10,000 fan-out, for nothing (no object of the
    # session is touched, and the audit log reads flushes only).
    connection = await session.connection()
    result = await connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == worker, OutboxMessage.status == OutboxStatus.SENDING)
        .values(**values)
    )
    return result.rowcount == 1


async def mark_started(session: AsyncSession, row_id: int, worker: str, now: datetime) -> bool:
    return await _finish(session, row_id, worker, send_started_at=now)


async def mark_unstarted(session: AsyncSession, row_id: int, worker: str) -> bool:
    """The platform refused the send before any of it arrived (429): not
    begun after all, so a crash while it waits leaves nothing in doubt."""
    return await _finish(session, row_id, worker, send_started_at=None)


async def release_orphans(session: AsyncSession, host: str, alive: Callable[[int], bool], now: datetime) -> int:
    """Claims of processes on this host that are gone: claimable at once
    rather than at the end of their lease."""
    rows = (
        await session.execute(
            select(OutboxMessage.id, OutboxMessage.claimed_by).where(
                # Escaped: in "web_1", "_" would otherwise also match "web-1", another machine.
                OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_by.startswith(f"{host}:", autoescape=True)
            )
        )
    ).all()
    dead = [
        row_id for row_id, owner in rows
        if (parts := owner.rsplit(":", 1))[0] == host and parts[1].isdigit() and not alive(int(parts[1]))
    ]
    if dead:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(dead)).values(lease_until=now).execution_options(synchronize_session=False)
        )
    return len(dead)


async def mark_sent(
    session: AsyncSession, row_id: int, worker: str, now: datetime, platform_message_id: str | None = None, *, settled: bool = False,
) -> bool:
    """Sent. ``settled``: a send a crash cut off was found to have arrived,
    or not, so this row went out exactly once after all."""
    values: dict[str, Any] = {"status": OutboxStatus.SENT, "sent_at": now, "lease_until": None, "platform_message_id": platform_message_id}
    if settled:
        values["ambiguous"] = False
    return await _finish(session, row_id, worker, **values)


async def last_sent_before(session: AsyncSession, row: OutboxMessage) -> str | None:
    """The platform id of the last message the outbox sent to the same chat
    before ``row``'s interrupted send began (or, not knowing when, before the
    row was made): what ``row`` became, if it arrived, came after it."""
    began = row.interrupted_send_at or row.created_at
    return await session.scalar(
        select(OutboxMessage.platform_message_id)
        .where(
            OutboxMessage.platform == row.platform, OutboxMessage.chat_id == row.chat_id, OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at <= began, OutboxMessage.platform_message_id.is_not(None),
        )
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    )


async def mark_unreachable(session: AsyncSession, row: OutboxMessage, worker: str, now: datetime, reason: str) -> bool:
    """The platform refuses this person for good: stop, and remember it on
    their chat identity so nothing more is planned for it."""
    done = await _finish(session, row.id, worker, status=OutboxStatus.UNREACHABLE, last_error=reason[:2000], lease_until=None)
    if done and row.identity_id is not None:
        await session.execute(
            update(ChatIdentity)
            .where(ChatIdentity.id == row.identity_id, ChatIdentity.unreachable_since.is_(None))
            .values(unreachable_since=now, unreachable_reason=reason[:300])
            .execution_options(synchronize_session=False)
        )
    return done


async def unclaim(session: AsyncSession, row_ids: Sequence[int], worker: str) -> int:
    """Give back rows ``worker`` claimed and never began to send (claimed
    ahead, then told to stop): pending again as before the claim, the
    attempt not counted. A row found cut off keeps its ``ambiguous`` flag,
    so whoever claims it next still looks for it first. How many."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(row_ids)), OutboxMessage.claimed_by == worker,
            OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.send_started_at.is_(None),
        )
        .values(status=OutboxStatus.PENDING, claimed_by=None, lease_until=None, attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def release(session: AsyncSession, row_id: int, worker: str, due_at: datetime, error: str | None, not_after: datetime | None = None) -> bool:
    """Back to pending, to be tried again at ``due_at`` (a failed send, or a
    message that missed its reader's working window)."""
    values: dict[str, Any] = {"status": OutboxStatus.PENDING, "due_at": due_at, "lease_until": None, "claimed_by": None}
    if error is not None:
        values["last_error"] = error[:2000]
    if not_after is not None:
        values["not_after"] = not_after
    return await _finish(session, row_id, worker, **values)


async def rewindow(session: AsyncSession, focal_point_id: int, working_hours: str | None, windows: Callable[[datetime], tuple[datetime, datetime]], now: datetime) -> int:
    """A person changed their working hours: what is still pending for them
    goes out in their next window under the new hours."""
    rows = (await session.scalars(
        select(OutboxMessage).where(OutboxMessage.focal_point_id == focal_point_id, OutboxMessage.status == OutboxStatus.PENDING)
    )).all()
    for row in rows:
        start, end = windows(max(now, row.due_at))
        row.due_at, row.not_after, row.working_hours = max(now, start), end, working_hours
    await session.flush()
    return len(rows)


async def withdraw(session: AsyncSession, *, focal_point_id: int, kinds: Sequence[OutboxKind]) -> int:
    """Cancel what is still pending for a person (they snoozed)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.focal_point_id == focal_point_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.kind.in_(list(kinds)),
        )
        .values(status=OutboxStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
