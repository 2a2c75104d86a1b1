"""Review of the kept replies (handlers/kept_replies.py): a turn's reply the
platform would not take waits in the outbox as a chat reply. It must go out
as soon as the platform takes messages again, whatever the day, and a reply
the platform refuses for what it is (too long, malformed) is not one that
waiting will get through."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox_dispatch import OutboxDispatcher
from handlers import kept_replies
from handlers.chat_port import ChatAddress, DeliveryFailed, DeliveryRefused, OutgoingMessage
from handlers.reminders.calendars import keep_off_closed_days
from handlers.reminders.plan import Policy
from handlers.reminders.working_time import WorkingTime
from storage.enums import OutboxKind, OutboxStatus, Platform
from storage.models import OutboxMessage
from tests.chat_harness import unlimited
from tests.fakes import FakeClock

ANA = ChatAddress(Platform.TELEGRAM, "111", "111")
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


async def _kept(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.CHAT_REPLY).order_by(OutboxMessage.id)
        )).all())


async def test_a_kept_reply_is_not_put_off_to_the_next_working_day_when_a_closure_is_declared(sessions: async_sessionmaker[AsyncSession]) -> None:
    # Ana wrote on a Saturday while Telegram was down: her reply waits in the outbox.
    assert await kept_replies.keep(sessions, SATURDAY, ANA, "delivery:1", [OutgoingMessage("help", "I help you report")], 0) == 1
    # Meanwhile the secretariat declares a closure: what the outbox holds for a closed day moves off it...
    async with sessions() as session, session.begin():
        await keep_off_closed_days(session, Policy(), SATURDAY)
    # ...but a reply is not a reminder: it goes when Telegram is back, not on Monday morning.
    (row,) = await _kept(sessions)
    assert (row.due_at.replace(tzinfo=UTC), row.not_after) == (SATURDAY, None)


class Refusing:
    """Slack refusing the message itself (msg_too_long): no retry changes that."""

    def __init__(self) -> None:
        self.tries = 0

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> None:
        self.tries += 1
        raise DeliveryRefused("slack: msg_too_long")


async def test_a_reply_the_platform_refuses_for_what_it_is_is_not_kept_to_be_refused_every_hour(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture,
) -> None:
    slack = ChatAddress(Platform.SLACK, "U1", "D1", "T1")
    gateway = Refusing()
    with caplog.at_level(logging.WARNING):
        await kept_replies.send_or_keep(gateway.send, sessions, FakeClock(), slack, "delivery:Ev1", [OutgoingMessage("long", "x" * 10)])
    assert await _kept(sessions) == []
    # Said as the bug it is, as before the outbox kept replies.
    assert any(r.levelno == logging.ERROR and "msg_too_long" in r.getMessage() for r in caplog.records), caplog.text
    # A refusal is a DeliveryFailed still, for every caller that catches those.
    assert issubclass(DeliveryRefused, DeliveryFailed)


async def test_the_slack_transport_says_a_malformed_message_is_refused_and_an_outage_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    from slack_sdk.errors import SlackApiError

    from bot.transports.slack import SlackTransport

    class Answer(dict):  # type: ignore[type-arg]
        pass

    async def post(error: str) -> None:
        raise SlackApiError("refused", Answer(ok=False, error=error))

    transport = SlackTransport.__new__(SlackTransport)
    outcomes = {}
    for error in ("msg_too_long", "invalid_blocks", "service_unavailable", "internal_error"):
        class Client:
            async def chat_postMessage(self, **_: object) -> None:  # noqa: N802 - Slack's name
                await post(error)  # noqa: B023 - called within the loop's turn
        transport.client = Client()  # type: ignore[assignment]
        try:
            await transport.send(ChatAddress(Platform.SLACK, "U1", "D1", "T1"), OutgoingMessage("k", "text"))
        except DeliveryFailed as exc:
            outcomes[error] = isinstance(exc, DeliveryRefused)
    assert outcomes == {"msg_too_long": True, "invalid_blocks": True, "service_unavailable": False, "internal_error": False}


class Flapping:
    """The platform back for the second reply while the first is refused."""

    def __init__(self) -> None:
        self.arrived: list[str] = []
        self.refused_once: set[str] = set()

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> None:
        if message.key == "first" and message.key not in self.refused_once:
            self.refused_once.add(message.key)
            raise DeliveryFailed("gave up after 6 attempts: 502")
        self.arrived.append(message.key)


async def test_a_turns_kept_replies_arrive_in_their_order_when_the_platform_flaps(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    replies = [OutgoingMessage("first", "1"), OutgoingMessage("second", "2")]
    await kept_replies.keep(sessions, clock(), ANA, "delivery:7", replies, 0)
    gateway = Flapping()
    sender = OutboxDispatcher(sessions, gateway, clock, lambda tz: WorkingTime(tz), limits=unlimited())  # type: ignore[arg-type]
    clock.advance(seconds=5)
    await sender.run_once()
    assert gateway.arrived == [], "the second went while the first waited"
    # The first's backoff is seconds, not minutes: someone waits for it.
    clock.advance(seconds=11)
    await sender.run_once()
    assert gateway.arrived == ["first"]
    # The second is claimable once the first is sent (the loop polls each second).
    await sender.run_once()
    assert [row.status for row in await _kept(sessions)] == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert gateway.arrived == ["first", "second"]
