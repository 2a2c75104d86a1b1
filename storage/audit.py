"""Every change through the ORM leaves an audit entry; history tables refuse edits.

The actor is carried in a context variable, so a CLI command, a chat handler
or the scheduler says once who is acting and every write below it is
attributed without threading the name through each call.
"""

from __future__ import annotations

import contextlib
import enum
import functools
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import event, inspect, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from storage.errors import AppendOnlyViolation
from storage.models import (
    APPEND_ONLY_TABLES,
    AuditEntry,
    Base,
    ConversationState,
    ImportRun,
    OutboxMessage,
    ProcessedDelivery,
    ReminderStep,
)
from storage.types import utcnow

P = ParamSpec("P")
R = TypeVar("R")

_actor: ContextVar[str] = ContextVar("nmrf_audit_actor", default="system")

# Rows that are their own history need no second copy in the audit log, and
# the chat machinery (where a person is in a dialogue, which deliveries were
# seen) changes on every message without changing the registry.
_NOT_AUDITED = set(APPEND_ONLY_TABLES) | {
    ImportRun.__tablename__,
    ConversationState.__tablename__,
    ProcessedDelivery.__tablename__,
    OutboxMessage.__tablename__,
    ReminderStep.__tablename__,
}


def current_actor() -> str:
    return _actor.get()


def chat_actor(
    platform: str, workspace_id: str, user_id: str, *, focal_point_id: int | None = None, secretariat_user_id: int | None = None,
) -> str:
    """Who acts in a chat: the account (``telegram:111``, ``slack:T1/U1``) and,
    once known, whose it is, since an account can later pass to someone else."""
    account = f"{platform}:{workspace_id}/{user_id}" if workspace_id else f"{platform}:{user_id}"
    if focal_point_id is not None:
        return f"{account} focal_point:{focal_point_id}"
    if secretariat_user_id is not None:
        return f"{account} secretariat:{secretariat_user_id}"
    return account


def acts_as(actor: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """For work the bot starts on its own (a scheduled job, the outbox): it
    acts as ``actor`` whoever started the process, e.g. `nmrf-bot run` as
    cli:root, whose context every task it creates would otherwise inherit."""

    def wrap(work: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(work)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with acting_as(actor):
                return await work(*args, **kwargs)

        return run

    return wrap


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class AuditedSession(Session):
    """The sync session under every AsyncSession of the registry."""


@event.listens_for(AuditedSession, "before_flush")
def _refuse_history_edits(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in APPEND_ONLY_TABLES and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyViolation(f"{table} is append-only: add a new row instead")


@event.listens_for(AuditedSession, "after_flush")
def _write_audit_entries(session: Session, _ctx: UOWTransaction) -> None:
    actor, at = current_actor(), utcnow()
    rows: list[dict[str, Any]] = []
    for action, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if not isinstance(obj, Base) or obj.__tablename__ in _NOT_AUDITED:
                continue
            changes = _changes(obj, action)
            if action == "update" and not changes:
                continue
            rows.append(
                {
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "entity": obj.__tablename__,
                    "entity_id": _identity(obj),
                    "changes": changes,
                }
            )
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def _identity(obj: Base) -> str | None:
    state = inspect(obj)
    # A row just inserted has its key but not yet its identity (that comes
    # after the flush): read the key itself, or every insert is anonymous.
    key = state.identity or state.mapper.primary_key_from_instance(obj)
    if not key or all(part is None for part in key):
        return None
    return ",".join(str(part) for part in key)


def _changes(obj: Base, action: str) -> dict[str, Any]:
    state = inspect(obj)
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if action == "update":
            if hist.has_changes():
                old = hist.deleted[0] if hist.deleted else None
                new = hist.added[0] if hist.added else None
                out[attr.key] = [jsonable(old), jsonable(new)]
        else:
            out[attr.key] = jsonable(getattr(obj, attr.key))
    return out


async def audit_record(
    session: AsyncSession, *, action: str, entity: str, entity_id: str | None, changes: dict[str, Any]
) -> None:
    """Write one audit entry for a change made outside the ORM (bulk imports)."""
    await session.execute(
        insert(AuditEntry),
        [
            {
                "at": utcnow(),
                "actor": current_actor(),
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "changes": {k: jsonable(v) for k, v in changes.items()},
            }
        ],
    )
