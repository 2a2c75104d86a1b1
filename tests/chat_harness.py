"""Driving a simulated person on a stand-in platform, one turn at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.gateway import PlatformRouter
from bot.outbox_dispatch import OutboxDispatcher
from bot.ratelimit import SendLimits
from bot.standins.people import SlackPerson, TelegramPerson
from bot.standins.telegram import TelegramStandIn
from bot.transports.telegram import TelegramTransport
from handlers.engine import ConversationEngine
from handlers.reminders.working_time import WorkingTime
from storage.enums import Platform
from tests.fakes import FakeClock

__all__ = ["ASSIGNED", "LONG_ANSWER", "LiveTelegram", "SlackPerson", "TELEGRAM_TOKEN", "TRICKY", "TelegramPerson", "live_telegram", "unlimited"]

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
# What a person may type that a careless bot would format, decode or run.
TRICKY = "<b>bold</b> *bold* `code` &amp; =HYPERLINK(\"http://evil.example\",\"x\")"
LONG_ANSWER = (TRICKY + " The ministry trained 1,200 police officers in 2026. " * 80)[:5000]
# The world fixture assigns three recommendations to Ana's ministry.
ASSIGNED = 3

def unlimited() -> SendLimits:
    """Limits that never hold a send back: these tests are not about pacing.
    A new one each time, since a limiter belongs to one event loop."""
    return SendLimits(per_platform={Platform.TELEGRAM: 1000.0}, per_chat={Platform.TELEGRAM: 1000.0})


@dataclass
class LiveTelegram:
    """The engine behind the real Telegram adapter, polling a stand-in."""

    standin: TelegramStandIn
    router: PlatformRouter
    engine: ConversationEngine
    transport: TelegramTransport

    def dispatcher(self, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, working_time: Callable[[str], WorkingTime], **options: Any) -> OutboxDispatcher:
        return OutboxDispatcher(sessions, self.router, clock, working_time, limits=unlimited(), **options)


@asynccontextmanager
async def live_telegram(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, users: Iterable[int] = (), *,
    standin: TelegramStandIn | None = None, engine_options: dict[str, Any] | None = None, **transport_options: Any,
) -> AsyncIterator[LiveTelegram]:
    """A started stand-in (``users`` have opened the bot) and the adapter
    polling it; both stopped afterwards."""
    standin = standin or TelegramStandIn(TELEGRAM_TOKEN)
    await standin.start()
    for user in users:
        standin.add_user(user, str(user)).started = True
    router = PlatformRouter()
    engine = ConversationEngine(sessions, router, clock, **(engine_options or {}))
    transport = TelegramTransport(TELEGRAM_TOKEN, engine.handle, base_url=standin.base_url, poll_timeout=1, **transport_options)
    router.register(transport)
    await transport.start()
    try:
        yield LiveTelegram(standin, router, engine, transport)
    finally:
        await transport.stop()
        await standin.stop()
