"""Secretariat users, declared in the configuration and mirrored in the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Platform
from storage.models import ChatIdentity, SecretariatUser
from storage.network import Change, apply_changes
from storage.validation import check_email


@dataclass(frozen=True)
class SecretariatUserData:
    name: str
    email: str
    language: str
    timezone: str
    telegram_user_id: int | None = None
    slack_user_id: str | None = None


async def sync_secretariat_users(session: AsyncSession, users: list[SecretariatUserData]) -> dict[Change | str, int]:
    """Make the table match the configuration: add, update, and deactivate
    users no longer listed (deactivated, not deleted: their actions stay attributed)."""
    counts: dict[Change | str, int] = {Change.CREATED: 0, Change.UPDATED: 0, Change.UNCHANGED: 0, "deactivated": 0}
    listed = set()
    existing = {u.email: u for u in await session.scalars(select(SecretariatUser))}
    for data in users:
        email = check_email(data.email)
        listed.add(email)
        user = existing.get(email)
        wanted = {"name": data.name, "language": data.language, "timezone": data.timezone, "active": True}
        if user is None:
            user = SecretariatUser(email=email, **wanted)
            session.add(user)
            await session.flush()
            counts[Change.CREATED] += 1
        else:
            counts[apply_changes(user, wanted)] += 1
        await _ensure_identity(session, user, Platform.TELEGRAM, data.telegram_user_id)
        await _ensure_identity(session, user, Platform.SLACK, data.slack_user_id)
    for email, user in existing.items():
        if email not in listed and user.active:
            user.active = False
            counts["deactivated"] += 1
    await session.flush()
    return counts


async def _ensure_identity(
    session: AsyncSession, user: SecretariatUser, platform: Platform, platform_user_id: int | str | None
) -> None:
    if platform_user_id is None:
        return
    found = await session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.platform == platform, ChatIdentity.platform_user_id == str(platform_user_id)
        )
    )
    if found is None:
        session.add(ChatIdentity(platform=platform, platform_user_id=str(platform_user_id), secretariat_user_id=user.id))
