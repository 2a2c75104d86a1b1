"""Who else a turn's change concerns, for the pages platforms keep per
person (Slack's Home tab): an institution's answer changes what its other
focal points are waiting on, and what the secretariat sees outstanding.

A flush hook notes, in the session, the institutions whose status updates
or request answers were added; ``concerned_accounts`` then names the chat
accounts on a platform whose page shows them.

The same hooks note whether the session wrote anything beyond a turn's own
bookkeeping (``wrote_beyond_bookkeeping``): a turn that only read (help, a
list, a recommendation opened) changes no page, and the engine leaves the
writer's page as it was rather than rebuild it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import event, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from storage.enums import Platform
from storage.models import AuditEntry, ChatIdentity, ConversationState, FocalPoint, ProcessedDelivery, RequestAnswer, SecretariatUser, StatusUpdate
from storage.network import active_on

_KEY = "nmrf_changed_institutions"
_WROTE = "nmrf_wrote_beyond_bookkeeping"
# What every turn writes for its own sake and no page shows: that the
# delivery was handled, where the conversation stands, and the audit trail.
BOOKKEEPING_TABLES = frozenset({ProcessedDelivery.__tablename__, ConversationState.__tablename__, AuditEntry.__tablename__})
# Of an account's row, what a turn writes without changing whose it is: that it answers again.
_BOOKKEEPING_COLUMNS = {ChatIdentity.__tablename__: frozenset({"unreachable_since", "unreachable_reason"})}
# The execution option of a statement that writes only bookkeeping a table
# does not tell by its name (storage.conversations.mark_reachable).
BOOKKEEPING = {"nmrf_bookkeeping": True}


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _ctx: UOWTransaction) -> None:
    changed: set[int] = session.info.setdefault(_KEY, set())
    for obj in session.new:
        if isinstance(obj, (StatusUpdate, RequestAnswer)) and obj.institution_id is not None:
            changed.add(obj.institution_id)
    if not session.info.get(_WROTE) and (
        any(_beyond_bookkeeping(obj, False) for obj in (*session.new, *session.deleted))
        or any(_beyond_bookkeeping(obj, True) for obj in session.dirty)
    ):
        session.info[_WROTE] = True


def _beyond_bookkeeping(obj: object, dirty: bool) -> bool:
    table = getattr(obj, "__tablename__", None)
    if table in BOOKKEEPING_TABLES:
        return False
    if not dirty:
        return True
    # Dirty is "an attribute was set": only a value that changed is a write.
    changed = {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}
    return bool(changed - _BOOKKEEPING_COLUMNS.get(table or "", frozenset()))


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    """A write that is not a flush (an INSERT, UPDATE or DELETE statement run through the session)."""
    if state.is_select or state.session.info.get(_WROTE):
        return
    if not (state.is_insert or state.is_update or state.is_delete) or state.execution_options.get("nmrf_bookkeeping"):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in BOOKKEEPING_TABLES:
        state.session.info[_WROTE] = True


def wrote_beyond_bookkeeping(session: AsyncSession) -> bool:
    """Whether this session wrote anything but a turn's bookkeeping (the
    delivery's record, the conversation's state, the audit trail, the
    account's reachability): what a person's page shows may have changed."""
    return bool(session.sync_session.info.get(_WROTE))


def changed_institutions(session: AsyncSession) -> set[int]:
    """The institutions whose answers this session's flushes added."""
    return set(session.sync_session.info.get(_KEY, set()))


async def concerned_accounts(
    session: AsyncSession, institutions: set[int], today: date
) -> list[tuple[Platform, str, str, str | None]]:
    """(platform, workspace, user, chat) of each chat account of the
    institutions' focal points in office and of the active secretariat users."""
    if not institutions:
        return []
    focal_points = select(FocalPoint.id).where(FocalPoint.institution_id.in_(institutions), active_on(today))
    secretariat = select(SecretariatUser.id).where(SecretariatUser.active.is_(True))
    rows: Any = await session.execute(
        select(ChatIdentity.platform, ChatIdentity.workspace_id, ChatIdentity.platform_user_id, ChatIdentity.chat_id)
        .where(or_(ChatIdentity.focal_point_id.in_(focal_points), ChatIdentity.secretariat_user_id.in_(secretariat)))
        .order_by(ChatIdentity.id)
    )
    return [(Platform(p), w, u, c) for p, w, u, c in rows]
