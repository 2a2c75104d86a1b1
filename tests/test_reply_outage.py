"""A reply the platform would not take, even after the transport's retries,
is not lost: the real `nmrf-bot run` keeps it in the outbox and sends it,
once, when the platform takes messages again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.standins.telegram import TelegramStandIn
from storage.enums import OutboxKind, OutboxStatus
from storage.models import OutboxMessage
from tests.chat_harness import TELEGRAM_TOKEN, TelegramPerson
from tests.test_outages import BotProcess, wait_for

# The transport tries a send six times (0.5 + 1 + 2 + 4 + 8 s apart) before it gives up.
TRANSPORT_ATTEMPTS = 6


@pytest.mark.fault
async def test_a_reply_refused_through_all_retries_is_sent_once_when_telegram_takes_messages_again(
    tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    telegram = TelegramStandIn(TELEGRAM_TOKEN)
    await telegram.start()
    bot = BotProcess(tmp_path, db_url, telegram_url=telegram.base_url, slack=None)
    ana = TelegramPerson(telegram, 111)
    telegram.add_user(ana.user_id, "Ana").started = True
    try:
        await bot.start()
        await bot.wait_health(200)
        # Telegram's front answers 502 to every send of the reply, one more time than the transport tries.
        telegram.fail("sendMessage", "Bad Gateway", times=TRANSPORT_ATTEMPTS + 1, code=502)
        telegram.user_sends(ana.user_id, "/help")
        await wait_for(lambda: _kept(sessions), timeout=60, what="the reply kept in the outbox")
        assert telegram.messages_to(ana.user_id) == []
        (reply,) = await telegram.wait_for_messages(ana.user_id, 1, timeout=200)
        assert reply.text.startswith("I help you report"), reply.text
        await asyncio.sleep(2)  # a second copy would show by now
        assert len(telegram.messages_to(ana.user_id)) == 1
        async with sessions() as session:
            rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.CHAT_REPLY))).all()
        assert [row.status for row in rows] == [OutboxStatus.SENT]
    finally:
        code = await bot.stop()
        await telegram.stop()
    assert code == 0, bot.log
    assert not any(" ERROR " in line for line in bot.lines), bot.log
    assert any("kept to send when telegram takes messages again" in line for line in bot.lines), bot.log


async def _kept(sessions: async_sessionmaker[AsyncSession]) -> bool:
    async with sessions() as session:
        return (await session.scalar(select(OutboxMessage.id).where(OutboxMessage.kind == OutboxKind.CHAT_REPLY))) is not None
