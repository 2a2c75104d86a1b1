"""The engine on a fake platform, as the dialogue tests drive it. Fixtures:
a module imports them by name (and lists them in its __all__) to use them."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.engine import ConversationEngine
from tests.fakes import FakeClock, FakeGateway


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def bot(sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock) -> ConversationEngine:
    return ConversationEngine(sessions, gateway, clock)
