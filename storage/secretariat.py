"""Secretariat users and their roles, kept in the database.

The configuration's ``[secretariat]`` list only seeds the first admins: on a
database with no active admin its users are created (or reactivated) as
admins; once one exists, users are managed with ``nmrf-bot secretariat`` and
from chat by an admin, and the list is not read again. Nobody can leave the
secretariat without an active admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.enums import Platform, SecretariatRole
from storage.errors import Conflict, NotFound
from storage.clock import utcnow
from storage.models import ChatIdentity, SecretariatUser
from storage.secretariat_invites import revoke_secretariat_invites
from storage.validation import check_email, check_language, check_timezone


@dataclass(frozen=True)
class SecretariatUserData:
    name: str
    email: str
    language: str
    timezone: str
    telegram_user_id: int | None = None
    slack_user_id: str | None = None
    role: SecretariatRole = SecretariatRole.ADMIN


@dataclass(frozen=True)
class Seeded:
    created: int = 0
    reactivated: int = 0
    # The database already had an active admin: the configuration was not applied.
    skipped: bool = False

    def __str__(self) -> str:
        if self.skipped:
            return "the database has an active admin: [secretariat] in the configuration was not applied (use nmrf-bot secretariat add|edit)"
        return f"{self.created} created, {self.reactivated} reactivated as admin"


async def active_admins(session: AsyncSession) -> int:
    return await session.scalar(
        select(func.count()).select_from(SecretariatUser).where(SecretariatUser.active.is_(True), SecretariatUser.role == SecretariatRole.ADMIN)
    ) or 0


async def _lock_active_admins(session: AsyncSession) -> list[int]:
    """The active admins, their rows locked until the transaction ends: two
    admins demoting each other at once on PostgreSQL would each count two and
    leave none; with the lock the second waits, then counts again (PostgreSQL
    re-reads the rows it waited for). SQLite runs one writer at a time."""
    return list(await session.scalars(
        select(SecretariatUser.id)
        .where(SecretariatUser.active.is_(True), SecretariatUser.role == SecretariatRole.ADMIN)
        .order_by(SecretariatUser.id)
        .with_for_update()
    ))


async def seed_secretariat_users(session: AsyncSession, users: list[SecretariatUserData]) -> Seeded:
    """Seed the first admins from the configuration, only while the database
    has no active admin (a fresh install, or every admin removed by hand in
    the database). Their chat accounts are linked as given."""
    if await active_admins(session) or not users:
        return Seeded(skipped=bool(users))
    existing = {u.email: u for u in await session.scalars(select(SecretariatUser))}
    created = reactivated = 0
    for data in users:
        email = check_email(data.email)
        user = existing.get(email)
        if user is None:
            user = SecretariatUser(email=email, name=data.name, language=check_language(data.language),
                                   timezone=check_timezone(data.timezone), role=SecretariatRole(data.role), active=True)
            session.add(user)
            await session.flush()
            existing[email] = user
            created += 1
        else:
            user.active = True
            user.role = SecretariatRole(data.role)
            reactivated += 1
        await _ensure_identity(session, user, Platform.TELEGRAM, data.telegram_user_id)
        await _ensure_identity(session, user, Platform.SLACK, data.slack_user_id)
    await session.flush()
    return Seeded(created=created, reactivated=reactivated)


async def add_secretariat_user(session: AsyncSession, data: SecretariatUserData) -> SecretariatUser:
    """A new secretariat user; Conflict when the e-mail is someone's already
    (an inactive user is brought back with ``edit --active``)."""
    email = check_email(data.email)
    if await session.scalar(select(SecretariatUser).where(SecretariatUser.email == email)) is not None:
        raise Conflict(
            f"a secretariat user with e-mail {email} exists already; change it with 'secretariat edit {email}'",
            field="email", key="refusal.secretariat.email_taken", values={"email": email},
        )
    name = data.name.strip()
    if not name:
        raise Conflict("a secretariat user needs a name", field="name", key="refusal.secretariat.no_name")
    user = SecretariatUser(email=email, name=name, language=check_language(data.language),
                           timezone=check_timezone(data.timezone), role=SecretariatRole(data.role), active=True)
    session.add(user)
    await session.flush()
    await _ensure_identity(session, user, Platform.TELEGRAM, data.telegram_user_id)
    await _ensure_identity(session, user, Platform.SLACK, data.slack_user_id)
    await session.flush()
    return user


async def find_secretariat_user(session: AsyncSession, who: str) -> SecretariatUser:
    """By e-mail or by id."""
    who = who.strip()
    if who.isdigit():
        user = await session.get(SecretariatUser, int(who))
    else:
        user = await session.scalar(select(SecretariatUser).where(SecretariatUser.email == who.lower()))
    if user is None:
        raise NotFound(
            f"no secretariat user {who!r} (give an e-mail or an id from 'secretariat list')",
            key="refusal.secretariat.unknown_user", values={"who": who.strip()[:80]},
        )
    return user


async def edit_secretariat_user(
    session: AsyncSession,
    who: str,
    *,
    name: str | None = None,
    role: SecretariatRole | None = None,
    language: str | None = None,
    timezone: str | None = None,
    active: bool | None = None,
    telegram_user_id: int | None = None,
    slack_user_id: str | None = None,
    now: datetime | None = None,
) -> SecretariatUser:
    """Change what is given. Refused (Conflict) when it would leave no active admin."""
    user = await find_secretariat_user(session, who)
    loses_admin = user.active and user.role == SecretariatRole.ADMIN and (
        (role is not None and role != SecretariatRole.ADMIN) or active is False
    )
    if loses_admin and len(await _lock_active_admins(session)) <= 1:
        raise Conflict(
            f"{user.email} is the last active admin: make someone else admin first", key="refusal.secretariat.last_admin", values={"email": user.email}
        )
    if name is not None:
        if not name.strip():
            raise Conflict("a secretariat user needs a name", field="name", key="refusal.secretariat.no_name")
        user.name = name.strip()
    if role is not None:
        user.role = SecretariatRole(role)
    if language is not None:
        user.language = check_language(language)
    if timezone is not None:
        user.timezone = check_timezone(timezone)
    if active is not None:
        if not active and user.active:
            # Their codes not yet used must not let anyone in when they are restored.
            await revoke_secretariat_invites(session, user.id, now or utcnow())
        user.active = active
    await _ensure_identity(session, user, Platform.TELEGRAM, telegram_user_id)
    await _ensure_identity(session, user, Platform.SLACK, slack_user_id)
    await session.flush()
    return user


async def remove_secretariat_user(session: AsyncSession, who: str, now: datetime | None = None) -> SecretariatUser:
    """Deactivated, not deleted: what they did stays attributed to them."""
    return await edit_secretariat_user(session, who, active=False, now=now)


async def list_secretariat_users(session: AsyncSession, *, include_inactive: bool = True) -> list[SecretariatUser]:
    query = select(SecretariatUser).options(selectinload(SecretariatUser.identities)).order_by(SecretariatUser.name, SecretariatUser.id)
    if not include_inactive:
        query = query.where(SecretariatUser.active.is_(True))
    return list(await session.scalars(query))


async def telegram_chats(session: AsyncSession) -> dict[int, SecretariatRole]:
    """Each active secretariat user's Telegram chat (a private chat's id is
    the user's) and their role."""
    rows = await session.execute(
        select(ChatIdentity.platform_user_id, SecretariatUser.role)
        .join(SecretariatUser, ChatIdentity.secretariat_user_id == SecretariatUser.id)
        .where(ChatIdentity.platform == Platform.TELEGRAM, SecretariatUser.active.is_(True))
    )
    return {int(user_id): SecretariatRole(role) for user_id, role in rows if str(user_id).lstrip("-").isdigit()}


async def telegram_chat_languages(session: AsyncSession) -> dict[int, str]:
    """Each active secretariat user's Telegram chat and their language."""
    rows = await session.execute(
        select(ChatIdentity.platform_user_id, SecretariatUser.language)
        .join(SecretariatUser, ChatIdentity.secretariat_user_id == SecretariatUser.id)
        .where(ChatIdentity.platform == Platform.TELEGRAM, SecretariatUser.active.is_(True))
    )
    return {int(user_id): language for user_id, language in rows if str(user_id).lstrip("-").isdigit()}


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
    elif found.secretariat_user_id != user.id:
        owner = f"focal point {found.focal_point_id}" if found.focal_point_id is not None else f"secretariat user {found.secretariat_user_id}"
        raise Conflict(
            f"{platform.value} account {platform_user_id} is {owner}'s already",
            key="refusal.secretariat.account_taken", values={"platform": platform.value.capitalize(), "account": str(platform_user_id)},
        )
