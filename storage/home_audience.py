"""Who else a turn's change concerns, for the pages platforms keep per
person (Slack's Home tab): an institution's answer changes what its other
focal points are waiting on, and what the secretariat sees outstanding.

A flush hook notes, in the session, the institutions whose status updates
or request answers were added; ``concerned_accounts`` then names the chat
accounts on a platform whose page shows them."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import event, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from storage.enums import Platform
from storage.models import ChatIdentity, FocalPoint, RequestAnswer, SecretariatUser, StatusUpdate
from storage.network import active_on

_KEY = "nmrf_changed_institutions"


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _ctx: UOWTransaction) -> None:
    changed: set[int] = session.info.setdefault(_KEY, set())
    for obj in session.new:
        if isinstance(obj, (StatusUpdate, RequestAnswer)) and obj.institution_id is not None:
            changed.add(obj.institution_id)


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
