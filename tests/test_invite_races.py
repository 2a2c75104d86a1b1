"""Two links of one focal point at the same moment, on PostgreSQL where
transactions truly overlap: an e-mail match and an invite code from another
account, or two invites at once. Exactly one account ends up linked, and the
other is refused, never answered with an internal error."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import ChatAddress, IncomingMessage
from handlers.engine import ConversationEngine
from storage.conversations import create_invite
from storage.enums import Platform
from storage.models import ChatIdentity, ConversationState, Invite, InviteUse, OutboxMessage
from tests.fakes import FakeClock, FakeGateway

ROUNDS = 12


async def _fresh(sessions: async_sessionmaker[AsyncSession], focal_point: int, clock: FakeClock, invites: int) -> list[str]:
    async with sessions() as session, session.begin():
        for model in (OutboxMessage, ConversationState, ChatIdentity, InviteUse, Invite):
            await session.execute(delete(model))
        return [await create_invite(session, focal_point, clock()) for _ in range(invites)]


async def _accounts(sessions: async_sessionmaker[AsyncSession], focal_point: int, platform: Platform) -> list[str]:
    async with sessions() as session:
        return sorted((await session.scalars(
            select(ChatIdentity.platform_user_id).where(ChatIdentity.focal_point_id == focal_point, ChatIdentity.platform == platform)
        )).all())


async def test_an_email_match_and_another_accounts_code_at_once_link_one_account(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], backend: str) -> None:
    clock, ana = FakeClock(), world["ana"]
    for n in range(ROUNDS):
        (code,) = await _fresh(sessions, ana, clock, 1)
        gateway = FakeGateway()
        engine = ConversationEngine(sessions, gateway, clock)
        by_email = IncomingMessage(ChatAddress(Platform.SLACK, "U0ANA", "D0ANA", "T1"), f"a{n}", text="hello", email="ana@justicia.example")
        by_code = IncomingMessage(ChatAddress(Platform.SLACK, "U0EVE", "D0EVE", "T1"), f"e{n}", text=f"/start {code}", email="eve@elsewhere.example")
        await asyncio.gather(*(engine.handle(m) for m in ((by_email, by_code) if n % 2 else (by_code, by_email))))
        linked = await _accounts(sessions, ana, Platform.SLACK)
        assert len(linked) == 1, (n, linked)
        assert "error.internal" not in [m.key for m in gateway.take()]


async def test_two_invites_redeemed_at_once_link_one_account(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    clock, ana = FakeClock(), world["ana"]
    for n in range(ROUNDS):
        first, second = await _fresh(sessions, ana, clock, 2)
        gateway = FakeGateway()
        engine = ConversationEngine(sessions, gateway, clock)
        one = IncomingMessage(ChatAddress(Platform.TELEGRAM, "7001", "7001"), f"x{n}", text=f"/start {first}")
        other = IncomingMessage(ChatAddress(Platform.TELEGRAM, "7002", "7002"), f"y{n}", text=f"/start {second}")
        await asyncio.gather(engine.handle(one), engine.handle(other))
        linked = await _accounts(sessions, ana, Platform.TELEGRAM)
        assert len(linked) == 1, (n, linked)
        assert "error.internal" not in [m.key for m in gateway.take()]
