"""One-time invites for secretariat users: an admin adds someone in chat or
on the command line and hands them a code; the first chat account that sends
it (/start CODE on Telegram, "start CODE" in a Slack DM) becomes theirs.

A code is spent once in all, whichever platform: of two accounts sending it
at once, the one whose UPDATE claims the unused row gets in, the other is
refused. Only the code's hash is stored."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.conversations import INVITE_LIFETIME, invite_code_hash
from storage.enums import Platform
from storage.errors import Conflict
from storage.models import ChatIdentity, SecretariatInvite, SecretariatUser

async def revoke_secretariat_invites(session: AsyncSession, user_id: int, now: datetime) -> int:
    """End every unspent code of the user (a leaked one is made useless by
    asking for a new one, or by removing the user); how many were ended."""
    ended = await session.execute(
        update(SecretariatInvite)
        .where(SecretariatInvite.secretariat_user_id == user_id, SecretariatInvite.used_at.is_(None), SecretariatInvite.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return ended.rowcount or 0


async def create_secretariat_invite(session: AsyncSession, user: SecretariatUser, now: datetime) -> str:
    """A fresh code for an active user; any earlier unspent code of theirs
    ends, so only the latest one handed out can link an account."""
    if not user.active:
        raise Conflict(f"{user.email} is removed from the secretariat: restore them before inviting them")
    await revoke_secretariat_invites(session, user.id, now)
    code = secrets.token_urlsafe(12)
    session.add(SecretariatInvite(code_hash=invite_code_hash(code), secretariat_user_id=user.id, created_at=now, expires_at=now + INVITE_LIFETIME))
    await session.flush()
    return code


async def redeem_secretariat_invite(
    session: AsyncSession, code: str, platform: Platform, workspace_id: str, user_id: str, chat_id: str, now: datetime
) -> SecretariatUser | None:
    """The secretariat user the code links this account to, or None when the
    code is unknown, expired, spent, or its user removed. The account becomes
    their one account on this platform (an older one there is replaced)."""
    invite = await session.scalar(select(SecretariatInvite).where(SecretariatInvite.code_hash == invite_code_hash(code)))
    if invite is None or invite.expires_at <= now or invite.used_at is not None or invite.revoked_at is not None:
        return None
    user = await session.get(SecretariatUser, invite.secretariat_user_id)
    if user is None or not user.active:
        return None
    claimed = await session.execute(
        update(SecretariatInvite)
        .where(SecretariatInvite.id == invite.id, SecretariatInvite.used_at.is_(None), SecretariatInvite.revoked_at.is_(None))
        .values(used_at=now, used_platform=platform)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    await session.refresh(invite)
    existing = list(await session.scalars(
        select(ChatIdentity).where(ChatIdentity.secretariat_user_id == user.id, ChatIdentity.platform == platform)
    ))
    for old in existing:
        await session.delete(old)
    await session.flush()
    # The account may be an ended focal point's or a removed user's (the
    # engine only redeems for accounts nobody active holds): it changes hands.
    mine = await session.scalar(select(ChatIdentity).where(
        ChatIdentity.platform == platform, ChatIdentity.workspace_id == workspace_id, ChatIdentity.platform_user_id == user_id,
    ))
    if mine is None:
        session.add(ChatIdentity(platform=platform, workspace_id=workspace_id, platform_user_id=user_id, chat_id=chat_id,
                                 secretariat_user_id=user.id))
    else:
        mine.focal_point_id, mine.secretariat_user_id, mine.chat_id = None, user.id, chat_id
    await session.flush()
    return user
