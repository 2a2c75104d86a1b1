"""Reminders put straight into the outbox, as the planner would leave them, for
tests that count what a real bot process then sends to the Telegram stand-in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.standins.telegram import TelegramStandIn
from storage import outbox
from storage.enums import OutboxKind, Platform
from storage.types import utcnow


async def queue_due_reminders(sessions: async_sessionmaker[AsyncSession], standin: TelegramStandIn, reminders: Iterable[tuple[int, str, str, str]]) -> None:
    """For each (Telegram user, their name, outbox key, text): the user has
    opened the bot, and a reminder with that text is due since a minute ago."""
    now = utcnow()
    async with sessions() as session, session.begin():
        for user, name, key, text in reminders:
            standin.add_user(user, name).started = True
            await outbox.enqueue(session, outbox.NewMessage(
                key=key, kind=OutboxKind.REMINDER, platform=Platform.TELEGRAM,
                workspace_id="", platform_user_id=str(user), chat_id=str(user), timezone="UTC",
                message={"key": "reminder.digest", "text": text, "language": "en", "buttons": []},
                due_at=now - timedelta(minutes=1),
            ))
