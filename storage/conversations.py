"""What the conversation engine keeps: states, handled deliveries, identities, invites."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Select, and_, bindparam, delete, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from storage.audit import audit_record
from storage.clock import utcnow
from storage.enums import OutboxStatus, Platform
from storage.home_audience import BOOKKEEPING
from storage.idempotent import insert_if_new
from storage.models import (
    ChatIdentity, ConversationState, FocalPoint, Invite, InviteUse, OutboxMessage, ProcessedDelivery, SecretariatUser,
)
from storage.network import active_on

INVITE_LIFETIME = timedelta(days=14)
# Telegram keeps an unconfirmed update for 24 hours and Slack retries for
# minutes: a delivery record older than this can never meet its redelivery.
DELIVERY_MEMORY = timedelta(days=7)


@dataclass
class State:
    """A named step of a conversation and what has been gathered so far."""

    name: str = "idle"
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


async def load_state(session: AsyncSession, platform: Platform, workspace_id: str, user_id: str) -> State:
    row = await _state_row(session, platform, workspace_id, user_id)
    if row is None:
        return State()
    return State(row.state, dict(row.data or {}), row.updated_at)


async def lock_state(session: AsyncSession, platform: Platform, workspace_id: str, user_id: str) -> State:
    """The state as committed now, its row locked until the transaction ends
    (PostgreSQL; SQLite's writer holds the database already): for work done
    outside a turn that saves a state only if the person's conversation is
    still where it was when the work began."""
    row = await session.scalar(
        select(ConversationState)
        .where(
            ConversationState.platform == platform,
            ConversationState.workspace_id == workspace_id,
            ConversationState.platform_user_id == user_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        return State()
    return State(row.state, dict(row.data or {}), row.updated_at)


async def save_state(
    session: AsyncSession, platform: Platform, workspace_id: str, user_id: str, state: State, now: datetime
) -> None:
    row = await _state_row(session, platform, workspace_id, user_id)
    if row is None:
        row = ConversationState(platform=platform, workspace_id=workspace_id, platform_user_id=user_id)
        session.add(row)
        _turn_rows(session)[("state", platform, workspace_id, user_id)] = row
    elif row.state == state.name == "idle" and not row.data and not state.data:
        # Idle before and after (help, a list, an item opened): when an idle
        # state was saved is read nowhere (only a dialogue's time runs out,
        # abandoned_dialogues), so the turn need not write it again.
        return
    row.state, row.data, row.updated_at = state.name, dict(state.data), now
    await session.flush()


async def _state_row(
    session: AsyncSession, platform: Platform, workspace_id: str, user_id: str
) -> ConversationState | None:
    rows = _turn_rows(session)
    key = ("state", platform, workspace_id, user_id)
    row = rows.get(key)
    if row is _NO_STATE:
        return None
    if row is not None and not (insp := inspect(row)).deleted and not insp.detached:
        return row  # type: ignore[no-any-return]
    row = await session.scalar(_state_statement(), {"platform": platform, "workspace_id": workspace_id, "user_id": user_id})
    if row is not None:
        rows[key] = row
    return row


# A turn's own statements, built once: building one (its clauses, its
# coercions, the joined load) cost about as much processor time as running
# it, every turn. A statement holds its parameters' names, not their values.
@functools.cache
def _state_statement() -> Select[Any]:
    return select(ConversationState).where(
        ConversationState.platform == bindparam("platform"),
        ConversationState.workspace_id == bindparam("workspace_id"),
        ConversationState.platform_user_id == bindparam("user_id"),
    )


# Read with the account: it has no state yet (its first turn).
_NO_STATE = object()


@functools.cache
def _focal_point_statement() -> Select[Any]:
    return (
        # The account's conversation state in the same statement: the turn reads it next.
        select(FocalPoint, ChatIdentity.unreachable_since, ConversationState)
        .join(ChatIdentity, ChatIdentity.focal_point_id == FocalPoint.id)
        .outerjoin(ConversationState, and_(
            ConversationState.platform == ChatIdentity.platform,
            ConversationState.workspace_id == ChatIdentity.workspace_id,
            ConversationState.platform_user_id == ChatIdentity.platform_user_id,
        ))
        .where(
            ChatIdentity.platform == bindparam("platform"),
            ChatIdentity.workspace_id == bindparam("workspace_id"),
            ChatIdentity.platform_user_id == bindparam("user_id"),
            active_on(bindparam("today", type_=Date)),  # type: ignore[arg-type]
        )
        # In the same statement: every turn reads the institution.
        .options(joinedload(FocalPoint.institution))
    )


def _turn_rows(session: AsyncSession) -> dict[tuple[Any, ...], Any]:
    """What this transaction already read of a turn's own rows: a turn loads
    its state and saves it, finds its account and marks it reachable, and
    each statement through aiosqlite is a dozen hops to its thread and back.
    Kept with the transaction, so a later one reads afresh."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get("nmrf_turn_rows")
    if held is None or held[0] is not transaction:
        held = session.info["nmrf_turn_rows"] = (transaction, {})
    return held[1]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class AbandonedDialogue:
    state_id: int
    platform: Platform
    workspace_id: str
    user_id: str
    chat_id: str
    language: str
    recommendation_id: int | None


async def abandoned_dialogues(session: AsyncSession, idle_since: datetime) -> list[AbandonedDialogue]:
    """Status-update dialogues nobody has touched since ``idle_since``."""
    rows = await session.execute(
        select(ConversationState, ChatIdentity.chat_id, FocalPoint.language)
        .join(
            ChatIdentity,
            and_(
                ChatIdentity.platform == ConversationState.platform,
                ChatIdentity.workspace_id == ConversationState.workspace_id,
                ChatIdentity.platform_user_id == ConversationState.platform_user_id,
            ),
        )
        .join(FocalPoint, FocalPoint.id == ChatIdentity.focal_point_id)
        .where(ConversationState.state.like("update.%"), ConversationState.updated_at < idle_since)
        .order_by(ConversationState.id)
    )
    return [
        AbandonedDialogue(
            state.id, state.platform, state.workspace_id, state.platform_user_id, chat_id or state.platform_user_id,
            language, (state.data or {}).get("rec"),
        )
        for state, chat_id, language in rows
    ]


async def close_abandoned(session: AsyncSession, state_id: int, idle_since: datetime, now: datetime) -> bool:
    """Return the dialogue to idle if it is still abandoned. False when the
    person answered meanwhile or another bot process closed it first: the
    condition in the UPDATE makes exactly one closer win."""
    result = await session.execute(
        update(ConversationState)
        .where(
            ConversationState.id == state_id,
            ConversationState.state.like("update.%"),
            ConversationState.updated_at < idle_since,
        )
        .values(state="idle", data={}, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def first_delivery(session: AsyncSession, platform: Platform, delivery_id: str, now: datetime) -> bool:
    """Record a delivery; False when it was recorded before (a redelivery).

    Recorded in the caller's transaction, with whatever the delivery caused:
    if handling fails, the record goes too and a redelivery is handled afresh.
    """
    return await insert_if_new(session, ProcessedDelivery, ProcessedDelivery.delivery_id, platform=platform, delivery_id=delivery_id, processed_at=now)


async def forget_old_deliveries(session: AsyncSession, now: datetime) -> int:
    """Drop delivery records no platform can redeliver any more; the count."""
    result = await session.execute(
        delete(ProcessedDelivery).where(ProcessedDelivery.processed_at < now - DELIVERY_MEMORY)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def focal_point_for(
    session: AsyncSession, platform: Platform, workspace_id: str, user_id: str, today: date
) -> FocalPoint | None:
    """The focal point in office behind a chat account, if any."""
    found = (await session.execute(
        _focal_point_statement(), {"platform": platform, "workspace_id": workspace_id, "user_id": user_id, "today": today}
    )).first()
    if found is None:
        return None
    rows = _turn_rows(session)
    # mark_reachable need not write for an account known reachable.
    rows[("reachable", platform, workspace_id, user_id)] = found[1] is None
    rows[("state", platform, workspace_id, user_id)] = _NO_STATE if found[2] is None else found[2]
    return found[0]  # type: ignore[no-any-return]


async def mark_reachable(session: AsyncSession, platform: Platform, workspace_id: str, user_id: str) -> None:
    if _turn_rows(session).get(("reachable", platform, workspace_id, user_id)):
        return
    await session.execute(
        update(ChatIdentity)
        .where(
            ChatIdentity.platform == platform,
            ChatIdentity.workspace_id == workspace_id,
            ChatIdentity.platform_user_id == user_id,
            ChatIdentity.unreachable_since.is_not(None),
        )
        .values(unreachable_since=None, unreachable_reason=None)
        .execution_options(synchronize_session=False, **BOOKKEEPING)
    )


async def secretariat_user_for(session: AsyncSession, platform: Platform, workspace_id: str, user_id: str) -> SecretariatUser | None:
    """The active secretariat user behind a chat account. An identity from the
    configuration has no Slack workspace yet: the first message fills it in."""
    identity = await session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.platform == platform,
            ChatIdentity.platform_user_id == user_id,
            ChatIdentity.secretariat_user_id.is_not(None),
            ChatIdentity.workspace_id.in_([workspace_id, ""]),
        ).order_by(ChatIdentity.workspace_id.desc())
    )
    if identity is None:
        return None
    if identity.workspace_id != workspace_id:
        identity.workspace_id = workspace_id
    user = await session.get(SecretariatUser, identity.secretariat_user_id)
    return user if user is not None and user.active else None


async def focal_point_by_email(session: AsyncSession, email: str, today: date) -> FocalPoint | None:
    """The focal point in office with this e-mail: Slack tells a member's
    verified workspace e-mail, which matches them without an invite."""
    return await session.scalar(
        select(FocalPoint)
        .where(FocalPoint.email == email.strip().lower(), active_on(today))
        .options(selectinload(FocalPoint.institution))
    )


def invite_code_hash(code: str) -> str:
    """What is stored of an invite code (focal points' and secretariat users')."""
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


async def create_invite(session: AsyncSession, focal_point_id: int, now: datetime) -> str:
    """A fresh one-time code; only its hash is stored."""
    code = secrets.token_urlsafe(12)
    session.add(Invite(code_hash=invite_code_hash(code), focal_point_id=focal_point_id, created_at=now, expires_at=now + INVITE_LIFETIME))
    await session.flush()
    return code


@dataclass(frozen=True)
class FormerAccount:
    """A chat account a focal point's access was moved away from."""

    platform: Platform
    workspace_id: str
    user_id: str
    chat_id: str


async def usable_invite(session: AsyncSession, code: str, platform: Platform, now: datetime) -> tuple[Invite, FocalPoint] | None:
    """The invite behind a code and its focal point, if it may still link an
    account on this platform: known, not expired, not spent there yet."""
    invite = await session.scalar(select(Invite).where(Invite.code_hash == invite_code_hash(code)))
    if invite is None or invite.expires_at <= now:
        return None
    spent = await session.scalar(select(InviteUse.invite_id).where(InviteUse.invite_id == invite.id, InviteUse.platform == platform))
    if spent is not None:
        return None
    focal_point = await session.scalar(
        select(FocalPoint).where(FocalPoint.id == invite.focal_point_id).options(selectinload(FocalPoint.institution))
    )
    return (invite, focal_point) if focal_point is not None else None


async def redeem_invite(
    session: AsyncSession, invite: Invite, platform: Platform, workspace_id: str, user_id: str, chat_id: str, now: datetime
) -> list[FormerAccount] | None:
    """Spend the invite on this platform and link the account to its focal
    point, in place of any account it had there (a new invite is the
    secretariat's say-so); the accounts replaced. None when another account
    spent the invite first: the use is claimed before anything is linked, so
    of two at once exactly one gets in."""
    await lock_links_of(session, invite.focal_point_id)
    if not await _spend(session, invite.id, platform, now):
        return None
    return await link_identity(session, invite.focal_point_id, platform, workspace_id, user_id, chat_id, now=now)


async def lock_links_of(session: AsyncSession, focal_point_id: int) -> None:
    """Take the focal point's row lock before looking at or changing its
    accounts. On PostgreSQL two transactions linking one focal point at once
    (an e-mail match and another account's code, two invites) each saw none
    of the other's rows, and both linked; with the lock the second waits, then
    sees what the first committed. Taken first, in one order, so they cannot
    deadlock either. SQLite already runs one writer at a time."""
    await session.execute(select(FocalPoint.id).where(FocalPoint.id == focal_point_id).with_for_update())


async def linked_elsewhere(session: AsyncSession, focal_point_id: int, platform: Platform, workspace_id: str, user_id: str) -> bool:
    """Whether the focal point already has another account on this platform.
    Holds the focal point's link lock until the transaction ends, so a link
    made meanwhile is seen (see lock_links_of)."""
    await lock_links_of(session, focal_point_id)
    other = await session.scalar(
        select(ChatIdentity.id).where(
            ChatIdentity.focal_point_id == focal_point_id,
            ChatIdentity.platform == platform,
            ~and_(ChatIdentity.workspace_id == workspace_id, ChatIdentity.platform_user_id == user_id),
        ).limit(1)
    )
    return other is not None


async def link_identity(
    session: AsyncSession, focal_point_id: int, platform: Platform, workspace_id: str, user_id: str, chat_id: str,
    *, now: datetime | None = None,
) -> list[FormerAccount]:
    """Make this account the focal point's one account on the platform; the
    accounts it replaces, whose pending messages now go to it. Every invite
    of the focal point not yet spent on this platform is spent by the link,
    so only an invite made after it can move the access again."""
    now = now or utcnow()
    await lock_links_of(session, focal_point_id)
    mine = await session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.platform == platform,
            ChatIdentity.workspace_id == workspace_id,
            ChatIdentity.platform_user_id == user_id,
        )
    )
    others = [
        o for o in (await session.scalars(
            select(ChatIdentity).where(ChatIdentity.focal_point_id == focal_point_id, ChatIdentity.platform == platform).order_by(ChatIdentity.id)
        )).all()
        if o is not mine
    ]
    former = [FormerAccount(platform, o.workspace_id, o.platform_user_id, o.chat_id or o.platform_user_id) for o in others]
    if mine is None and others:
        # The old row takes the new account: what refers to it follows.
        mine, others = others[0], others[1:]
        mine.workspace_id, mine.platform_user_id = workspace_id, user_id
        mine.unreachable_since = mine.unreachable_reason = None
    elif mine is None:
        mine = ChatIdentity(platform=platform, workspace_id=workspace_id, platform_user_id=user_id, focal_point_id=focal_point_id)
        session.add(mine)
    mine.focal_point_id, mine.secretariat_user_id, mine.chat_id = focal_point_id, None, chat_id
    await session.flush()
    replaced = [o.id for o in others]
    moved = [mine.id, *replaced] if former else replaced
    if moved:
        # Reminders and requests not yet sent would reach the old account.
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.identity_id.in_(moved), OutboxMessage.status == OutboxStatus.PENDING)
            .values(identity_id=mine.id, workspace_id=workspace_id, platform_user_id=user_id, chat_id=chat_id)
            .execution_options(synchronize_session=False)
        )
    if replaced:
        # What was sent to the rows that go stays, no longer tied to them.
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.identity_id.in_(replaced)).values(identity_id=None)
            .execution_options(synchronize_session=False)
        )
    for row in others:
        await session.delete(row)
    for account in former:
        await session.execute(
            delete(ConversationState).where(
                ConversationState.platform == platform,
                ConversationState.workspace_id == account.workspace_id,
                ConversationState.platform_user_id == account.user_id,
            )
        )
    await _spend_pending(session, focal_point_id, platform, now)
    await session.flush()
    return former


async def _spend(session: AsyncSession, invite_id: int, platform: Platform, now: datetime) -> bool:
    if not await insert_if_new(session, InviteUse, InviteUse.invite_id, invite_id=invite_id, platform=platform, used_at=now):
        return False
    await audit_record(session, action="insert", entity=InviteUse.__tablename__, entity_id=f"{invite_id},{platform.value}", changes={"used_at": now})
    return True


async def _spend_pending(session: AsyncSession, focal_point_id: int, platform: Platform, now: datetime) -> None:
    spent_here = select(InviteUse.invite_id).where(InviteUse.invite_id == Invite.id, InviteUse.platform == platform)
    pending = (await session.scalars(
        select(Invite.id).where(Invite.focal_point_id == focal_point_id, ~spent_here.exists()).order_by(Invite.id)
    )).all()
    for invite_id in pending:
        await _spend(session, invite_id, platform, now)
