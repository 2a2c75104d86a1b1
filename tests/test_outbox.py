"""The outbox and its dispatcher, against the Telegram stand-in over real HTTP."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import Button, ChatAddress, OutgoingMessage
from bot.gateway import PlatformRouter
from bot.outbox_dispatch import OutboxDispatcher
from bot.standins.telegram import TelegramStandIn
from bot.transports.retry import RetryPolicy
from bot.transports.telegram import TelegramTransport
from handlers.reminders.working_time import WorkingTime
from storage import outbox
from storage.enums import OutboxKind, OutboxStatus, Platform
from storage.models import ChatIdentity, OutboxMessage
from tests.chat_harness import TELEGRAM_TOKEN, unlimited
from tests.fakes import FakeClock

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)  # a Monday, 13:00 in Lisbon


def message(key: str, user: int, due: datetime = NOW, not_after: datetime | None = None, identity: int | None = None) -> outbox.NewMessage:
    return outbox.NewMessage(
        key=key, kind=OutboxKind.REMINDER, platform=Platform.TELEGRAM, workspace_id="", platform_user_id=str(user),
        chat_id=str(user), timezone="Europe/Lisbon", message={"key": "x", "text": f"reminder {key}", "language": "en", "buttons": [[{"label": "Open", "action": "rec:1"}]]},
        due_at=due, not_after=not_after, identity_id=identity,
    )


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[TelegramStandIn, TelegramTransport]]:
    standin = TelegramStandIn(TELEGRAM_TOKEN)
    await standin.start()

    async def nobody_writes(_message: object) -> None:
        raise AssertionError

    transport = TelegramTransport(TELEGRAM_TOKEN, nobody_writes, base_url=standin.base_url, retry=RetryPolicy(attempts=8, first_backoff=0.05))
    await transport.application.initialize()
    yield standin, transport
    await transport.application.shutdown()
    await standin.stop()


def dispatcher(sessions: async_sessionmaker[AsyncSession], transport: TelegramTransport, clock: FakeClock, **kwargs: object) -> OutboxDispatcher:
    router = PlatformRouter()
    router.register(transport)
    return OutboxDispatcher(
        sessions, router, clock, lambda tz: WorkingTime(tz),
        limits=unlimited(), **kwargs,  # type: ignore[arg-type]
    )


async def test_enqueue_is_idempotent_on_the_key(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        first = await outbox.enqueue(session, message("digest:1:2026-11-23", 1))
        again = await outbox.enqueue(session, message("digest:1:2026-11-23", 1))
    assert first is not None and again is None


@pytest.mark.fault
async def test_a_429_storm_ends_with_every_message_delivered_once(sessions: async_sessionmaker[AsyncSession], telegram: tuple[TelegramStandIn, TelegramTransport], fault_report: dict[str, object]) -> None:
    standin, transport = telegram
    standin.refuse_fraction = 0.2
    users = range(1001, 1031)
    for user in users:
        standin.add_user(user, f"user {user}").started = True
    async with sessions() as session, session.begin():
        for user in users:
            for n in range(3):
                await outbox.enqueue(session, message(f"m:{user}:{n}", user))
    clock = FakeClock(NOW)
    assert await dispatcher(sessions, transport, clock).drain() == 90
    assert standin.refused > 5
    delivered = Counter(m.text for m in standin.sent)
    fault_report.update(sent=90, duplicated=sum(n - 1 for n in delivered.values()), lost=90 - len(delivered), refused_429=standin.refused)
    assert len(delivered) == 90 and set(delivered.values()) == {1}
    async with sessions() as session:
        statuses = Counter((await session.scalars(select(OutboxMessage.status))).all())
    assert statuses == {OutboxStatus.SENT: 90}


async def test_a_blocked_person_is_marked_unreachable_once(sessions: async_sessionmaker[AsyncSession], telegram: tuple[TelegramStandIn, TelegramTransport], world: dict[str, int]) -> None:
    standin, transport = telegram
    standin.add_user(111, "Ana").started = True
    standin.block(111)
    async with sessions() as session, session.begin():
        identity = await session.scalar(select(ChatIdentity.id).where(ChatIdentity.platform_user_id == "111"))
        await outbox.enqueue(session, message("m:1", 111, identity=identity))
        await outbox.enqueue(session, message("m:2", 111, identity=identity))
    told: list[str] = []

    async def tell(row: OutboxMessage, reason: str) -> None:
        told.append(f"{row.key}: {reason}")

    await dispatcher(sessions, transport, FakeClock(NOW), on_unreachable=tell).drain()
    async with sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        ident = await session.get(ChatIdentity, identity)
    assert [r.status for r in rows] == [OutboxStatus.UNREACHABLE] * 2
    assert ident is not None and ident.unreachable_since == NOW and "blocked" in (ident.unreachable_reason or "")
    assert len(told) == 2 and "blocked" in told[0]
    # Each was tried once: a refusal for good is not retried.
    assert standin.calls.count("sendmessage") == 2


async def test_a_message_that_missed_its_window_waits_for_the_next(sessions: async_sessionmaker[AsyncSession], telegram: tuple[TelegramStandIn, TelegramTransport]) -> None:
    standin, transport = telegram
    standin.add_user(1001, "Late").started = True
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=timezone.utc)  # after 17:00 in Lisbon
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, message("m:late", 1001, due=datetime(2026, 11, 27, 9, tzinfo=timezone.utc), not_after=datetime(2026, 11, 27, 17, tzinfo=timezone.utc)))
    clock = FakeClock(friday_evening)
    send = dispatcher(sessions, transport, clock)
    await send.drain()
    assert standin.sent == []
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and (row.status, row.due_at, row.not_after) == (OutboxStatus.PENDING, datetime(2026, 11, 30, 9, tzinfo=timezone.utc), datetime(2026, 11, 30, 17, tzinfo=timezone.utc))
    clock.now = datetime(2026, 11, 30, 9, 1, tzinfo=timezone.utc)
    await send.drain()
    assert [m.text for m in standin.sent] == ["reminder m:late"]


async def test_a_network_failure_is_retried_later_not_dropped(sessions: async_sessionmaker[AsyncSession], telegram: tuple[TelegramStandIn, TelegramTransport]) -> None:
    standin, transport = telegram
    standin.add_user(1001, "Ana").started = True
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, message("m:1", 1001))
    clock = FakeClock(NOW)
    await standin.stop()  # the platform is unreachable
    send = dispatcher(sessions, transport, clock)
    transport._retry = RetryPolicy(attempts=2, first_backoff=0.01)
    assert await send.drain() == 1
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.status is OutboxStatus.PENDING and row.due_at == NOW + timedelta(minutes=1) and row.last_error
    await standin.start(port=standin.port)
    clock.advance(minutes=2)
    await send.drain()
    assert [m.text for m in standin.sent] == ["reminder m:1"]


async def test_a_claim_cut_off_by_a_crash_is_taken_again_and_flagged_only_if_its_send_began(sessions: async_sessionmaker[AsyncSession]) -> None:
    lease = timedelta(minutes=15)
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, message("m:started", 1))
        await outbox.enqueue(session, message("m:waiting", 2))
        started, waiting = await outbox.claim(session, "host:1", NOW, 10, lease)
        assert await outbox.mark_started(session, started.id, "host:1", NOW)
    async with sessions() as session, session.begin():
        assert await outbox.claim(session, "host:2", NOW + timedelta(minutes=14), 10, lease) == []
        again = {r.key: r for r in await outbox.claim(session, "host:2", NOW + timedelta(minutes=16), 10, lease)}
    assert (again["m:started"].ambiguous, again["m:waiting"].ambiguous) == (True, False)
    assert again["m:started"].attempts == 2 and again["m:started"].send_started_at is None
    async with sessions() as session, session.begin():
        # The crashed worker can no longer record anything for them.
        assert not await outbox.mark_sent(session, again["m:started"].id, "host:1", NOW)
        assert await outbox.mark_sent(session, again["m:started"].id, "host:2", NOW)


async def test_claims_of_a_dead_process_on_this_host_are_freed_at_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        for n in range(3):
            await outbox.enqueue(session, message(f"m:{n}", n))
        await outbox.claim(session, "host-a:111", NOW, 2, timedelta(minutes=15))
        await outbox.claim(session, "host-b:222", NOW, 1, timedelta(minutes=15))
    async with sessions() as session, session.begin():
        # "host_b" is another machine's name: its "_" is no wildcard for host-b's claims.
        assert await outbox.release_orphans(session, "host_b", lambda pid: False, NOW) == 0
        assert await outbox.release_orphans(session, "host-a", lambda pid: False, NOW) == 2
        assert await outbox.release_orphans(session, "host-a", lambda pid: True, NOW) == 0  # all alive: nothing freed
    async with sessions() as session, session.begin():
        taken = await outbox.claim(session, "host-a:333", NOW + timedelta(seconds=1), 10, timedelta(minutes=15))
    assert sorted(r.key for r in taken) == ["m:0", "m:1"]  # host-b's claim waits for its lease


async def test_a_telegram_send_cut_off_by_a_crash_is_looked_for_before_it_is_sent_again(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Telegram cannot be asked whether a message arrived; with a delivery
    check channel the bot forwards the chat's messages after the last one it
    knows arrived, finds its own, and does not send it again."""
    standin = TelegramStandIn(TELEGRAM_TOKEN)
    standin.add_channel(-1001234567890, "checks")
    await standin.start()
    transport = TelegramTransport(TELEGRAM_TOKEN, lambda _m: asyncio.sleep(0), base_url=standin.base_url, delivery_check_chat_id=-1001234567890)
    await transport.application.initialize()
    try:
        for user in (1001, 1002):
            standin.add_user(user, f"user {user}").started = True
        clock = FakeClock(NOW)
        # An earlier reminder to 1001 arrived and was recorded; the person wrote since.
        async with sessions() as session, session.begin():
            await outbox.enqueue(session, message("m:earlier", 1001))
        await dispatcher(sessions, transport, clock).drain()
        standin.user_sends(1001, "hello")
        lease = timedelta(minutes=15)
        async with sessions() as session, session.begin():
            await outbox.enqueue(session, message("m:arrived", 1001))
            await outbox.enqueue(session, message("m:lost", 1002))
            for row in await outbox.claim(session, "dead:1", NOW, 10, lease):
                await outbox.mark_started(session, row.id, "dead:1", NOW)
        # The dead process's send of one reached Telegram; of the other, not.
        address = ChatAddress(Platform.TELEGRAM, "1001", "1001")
        await transport.send(address, OutgoingMessage("x", "reminder m:arrived", ((Button("Open", "rec:1"),),)))
        before = Counter(m.text for m in standin.sent)
        clock.now = NOW + lease + timedelta(minutes=1)
        assert await dispatcher(sessions, transport, clock).drain() == 2
    finally:
        await transport.application.shutdown()
        await standin.stop()
    after = Counter(m.text for m in standin.sent)
    assert after["reminder m:arrived"] == before["reminder m:arrived"] == 1
    assert after["reminder m:lost"] == 1
    assert "forwardmessage" in standin.calls and not standin.channel_posts[-1001234567890]
    async with sessions() as session:
        rows = {r.key: r for r in await session.scalars(select(OutboxMessage))}
    assert {k: r.status for k, r in rows.items()} == {k: OutboxStatus.SENT for k in ("m:earlier", "m:arrived", "m:lost")}
    # Both were settled by looking: neither can have arrived twice.
    assert (rows["m:arrived"].ambiguous, rows["m:lost"].ambiguous) == (False, False)
    assert rows["m:earlier"].platform_message_id == "1"


async def test_a_message_that_missed_its_window_waits_for_the_readers_own_hours(sessions: async_sessionmaker[AsyncSession], telegram: tuple[TelegramStandIn, TelegramTransport]) -> None:
    standin, transport = telegram
    standin.add_user(1001, "Late").started = True
    # Lisbon, working 07:00-11:00: at 13:00 the window is gone; the next is tomorrow 07:00.
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, replace(message("m:late", 1001, not_after=NOW - timedelta(hours=2)), working_hours="07:00-11:00"))
    clock = FakeClock(NOW)
    await dispatcher(sessions, transport, clock).drain()
    assert standin.sent == []
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and (row.due_at, row.not_after) == (datetime(2026, 11, 24, 7, tzinfo=timezone.utc), datetime(2026, 11, 24, 11, tzinfo=timezone.utc))


class HeldGateway:
    """Sends only once released: a platform slow to answer."""

    def __init__(self, inner: PlatformRouter) -> None:
        self.inner = inner
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> object:
        self.started.set()
        await self.release.wait()
        return await self.inner.send(address, message)


async def test_drain_waits_for_what_the_running_loop_is_still_sending(sessions: async_sessionmaker[AsyncSession], telegram: tuple[TelegramStandIn, TelegramTransport]) -> None:
    # The demo drains while the app's own loop runs: the loop had claimed the
    # reminder, drain found nothing due and returned, and the person pressed a
    # button on a message that had not arrived yet.
    standin, transport = telegram
    standin.add_user(1001, "Ana").started = True
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, message("m:1", 1001))
    router = PlatformRouter()
    router.register(transport)
    held = HeldGateway(router)
    send = OutboxDispatcher(sessions, held, FakeClock(NOW), lambda tz: WorkingTime(tz), limits=unlimited())  # type: ignore[arg-type]
    stop = asyncio.Event()
    loop = asyncio.create_task(send.run_forever(stop, idle=0.01))
    await asyncio.wait_for(held.started.wait(), 10)
    drained = asyncio.create_task(send.drain())
    await asyncio.sleep(0.2)
    assert not drained.done(), "drain returned while the loop was still sending"
    held.release.set()
    await asyncio.wait_for(drained, 10)
    assert [m.text for m in standin.sent] == ["reminder m:1"]
    stop.set()
    await loop
