"""The engine on a fake platform, as the dialogue tests drive it. Fixtures:
a module imports them by name (and lists them in its __all__) to use them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import IncomingMessage
from handlers.engine import ConversationEngine
from tests.fakes import FakeClock, FakeGateway, Person


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def bot(sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock) -> ConversationEngine:
    return ConversationEngine(sessions, gateway, clock)


# Ana, the Ministry of Justice's focal point of the world fixture, on Telegram.
ANA = Person("111")


def tap(label: str, person: Person = ANA, delivery_id: str | None = None) -> Callable[[FakeGateway], IncomingMessage]:
    """Press ``label`` on the latest message that has it, when its turn comes."""
    return lambda gateway: person.presses(gateway.action(label, person.user_id), delivery_id)


async def chat(engine: ConversationEngine, gateway: FakeGateway, *messages: object) -> list[str]:
    """Hand each message (or press, made when its turn comes) to the engine; the keys of the replies."""
    for message in messages:
        if callable(message):
            message = message(gateway)
        await engine.handle(message)  # type: ignore[arg-type]
    return [m.key for m in gateway.take()]
