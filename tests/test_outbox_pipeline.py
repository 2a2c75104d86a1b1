"""The dispatcher's pipeline: claimed ahead, several sends on their way at
once and never more in doubt than allowed, a 429 taken back to the pace, a
stop that gives back what was claimed and not begun, and the records
written several to a transaction."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.gateway import PlatformRouter
from bot.outbox_dispatch import GroupWriter, OutboxDispatcher
from bot.standins.telegram import TelegramStandIn
from bot.transports.retry import RetryPolicy
from bot.transports.telegram import TelegramTransport
from handlers.chat_port import ChatAddress, OutgoingMessage, RateLimited, Sent
from handlers.reminders.working_time import WorkingTime
from storage import outbox
from storage.enums import OutboxKind, OutboxStatus, Platform
from storage.models import OutboxMessage
from tests.chat_harness import TELEGRAM_TOKEN, unlimited
from tests.fakes import FakeClock

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)


def message(n: int) -> outbox.NewMessage:
    return outbox.NewMessage(
        key=f"m:{n}", kind=OutboxKind.REMINDER, platform=Platform.TELEGRAM, workspace_id="", platform_user_id=str(1000 + n),
        chat_id=str(1000 + n), timezone="UTC", message={"key": "x", "text": f"reminder m:{n}", "language": "en"}, due_at=NOW,
    )


async def queue(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    async with sessions() as session, session.begin():
        await outbox.enqueue_many(session, [message(n) for n in range(count)])


async def in_doubt(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Rows whose send began and is not recorded: what a crash now would leave unsure."""
    async with sessions() as session:
        return int(await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.send_started_at.is_not(None))
        ) or 0)


class Recording:
    """A gateway that takes a while to answer and notes, at each send, how
    many sends are on their way and how many rows are in doubt."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], refuse: Callable[[str, int], float | None] = lambda _t, _n: None) -> None:
        self.sessions = sessions
        self.refuse = refuse
        self.delivered: list[str] = []
        self.tries: Counter[str] = Counter()
        self.on_the_way = 0
        self.most_on_the_way = 0
        self.most_in_doubt = 0
        self.paced: set[bool] = set()
        self.hook: Callable[[str], Awaitable[None]] | None = None

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> Sent:
        self.paced.add(message.paced)
        self.tries[message.text] += 1
        self.on_the_way += 1
        self.most_on_the_way = max(self.most_on_the_way, self.on_the_way)
        try:
            self.most_in_doubt = max(self.most_in_doubt, await in_doubt(self.sessions))
            wait = self.refuse(message.text, self.tries[message.text])
            if wait is not None:
                raise RateLimited(wait, f"429, retry after {wait:g}s")
            await asyncio.sleep(0.02)
            if self.hook is not None:
                await self.hook(message.text)
            self.delivered.append(message.text)
            return Sent((str(len(self.delivered)),))
        finally:
            self.on_the_way -= 1


def dispatcher(sessions: async_sessionmaker[AsyncSession], gateway: object, **options: object) -> OutboxDispatcher:
    return OutboxDispatcher(sessions, gateway, FakeClock(NOW), lambda tz: WorkingTime(tz), limits=unlimited(), **options)  # type: ignore[arg-type]


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[str, tuple[OutboxStatus, str | None, int]]:
    async with sessions() as session:
        return {r.key: (r.status, r.claimed_by, r.attempts) for r in await session.scalars(select(OutboxMessage))}


async def test_a_fan_out_goes_several_at_once_claimed_ahead_and_never_more_in_doubt_than_allowed(sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch) -> None:
    await queue(sessions, 30)
    gateway = Recording(sessions)
    send = dispatcher(sessions, gateway, concurrency=3, batch=4)
    claims: list[int] = []
    claim = outbox.claim

    async def counted(*args: object, **kwargs: object) -> list[OutboxMessage]:
        rows = await claim(*args, **kwargs)  # type: ignore[arg-type]
        # Claimed while sends of the batch before were still on their way.
        claims.append(gateway.on_the_way)
        return rows

    monkeypatch.setattr(outbox, "claim", counted)
    assert await send.drain() == 30
    assert sorted(gateway.delivered) == sorted(f"reminder m:{n}" for n in range(30))
    assert gateway.most_on_the_way == 3
    assert 1 < gateway.most_in_doubt <= 3
    assert any(on_the_way > 0 for on_the_way in claims), claims
    assert gateway.paced == {True}
    assert {status for status, _, _ in (await statuses(sessions)).values()} == {OutboxStatus.SENT}
    # A send's record and the next one's start share a transaction.
    assert send._writes.transactions < send._writes.steps


async def test_a_429_is_sent_again_in_a_later_slot_while_the_others_go_on(sessions: async_sessionmaker[AsyncSession]) -> None:
    await queue(sessions, 6)

    def refuse(text: str, tries: int) -> float | None:
        return 0.3 if text in ("reminder m:0", "reminder m:1") and tries == 1 else None

    gateway = Recording(sessions, refuse)
    waiting: dict[str, tuple[OutboxStatus, object]] = {}

    async def look(text: str) -> None:
        if text == "reminder m:5":
            async with sessions() as session:
                row = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == "m:0"))
                assert row is not None
                waiting["m:0"] = (row.status, row.send_started_at)

    gateway.hook = look
    assert await dispatcher(sessions, gateway, concurrency=4).drain() == 6
    assert Counter(gateway.delivered) == Counter(f"reminder m:{n}" for n in range(6))
    # The refused two waited out of the way: the others were delivered first.
    assert set(gateway.delivered[:4]) == {f"reminder m:{n}" for n in range(2, 6)}
    # While it waited, the refused one was claimed and not in doubt.
    assert waiting["m:0"] == (OutboxStatus.SENDING, None)
    # Refused is not failed: no backoff, one attempt.
    assert {key: attempts for key, (_, _, attempts) in (await statuses(sessions)).items()} == {f"m:{n}": 1 for n in range(6)}


async def test_a_message_refused_every_time_waits_like_a_failed_send(sessions: async_sessionmaker[AsyncSession]) -> None:
    await queue(sessions, 2)
    gateway = Recording(sessions, lambda text, _tries: 0.0 if text == "reminder m:0" else None)
    await dispatcher(sessions, gateway).drain()
    assert gateway.delivered == ["reminder m:1"]
    assert gateway.tries["reminder m:0"] == 8
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == "m:0"))
    assert row is not None and row.status == OutboxStatus.PENDING and row.due_at.replace(tzinfo=timezone.utc) > NOW
    assert row.last_error == "429, retry after 0s"


async def test_a_stop_gives_back_what_was_claimed_ahead_and_the_rest_goes_out_once_later(sessions: async_sessionmaker[AsyncSession]) -> None:
    await queue(sessions, 40)
    gateway = Recording(sessions)
    stop = asyncio.Event()

    async def stop_at_the_third(text: str) -> None:
        if len(gateway.delivered) == 2:
            stop.set()

    gateway.hook = stop_at_the_third
    send = dispatcher(sessions, gateway, concurrency=2, batch=10)
    await asyncio.wait_for(send.run_forever(stop, idle=0.01), 30)
    first = list(gateway.delivered)
    assert 3 <= len(first) < 40
    left = await statuses(sessions)
    # Nothing is left claimed: not sent is pending as before, its attempt not counted.
    assert {(status, owner, attempts) for status, owner, attempts in left.values() if status != OutboxStatus.SENT} == {(OutboxStatus.PENDING, None, 0)}
    assert sum(status == OutboxStatus.SENT for status, _, _ in left.values()) == len(first)
    gateway.hook = None
    assert await dispatcher(sessions, gateway).drain() == 40 - len(first)
    assert Counter(gateway.delivered) == Counter(f"reminder m:{n}" for n in range(40))


async def test_unclaim_gives_back_only_what_this_worker_claimed_and_never_began(sessions: async_sessionmaker[AsyncSession]) -> None:
    await queue(sessions, 3)
    async with sessions() as session, session.begin():
        began, waiting, other = await outbox.claim(session, "host:1", NOW, 3, timedelta(minutes=15))
        await outbox.mark_started(session, began.id, "host:1", NOW)
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == other.id).values(claimed_by="host:2"))
    async with sessions() as session, session.begin():
        assert await outbox.unclaim(session, [began.id, waiting.id, other.id], "host:1") == 1
    left = await statuses(sessions)
    assert left[waiting.key] == (OutboxStatus.PENDING, None, 0)
    assert left[began.key] == (OutboxStatus.SENDING, "host:1", 1)
    assert left[other.key] == (OutboxStatus.SENDING, "host:2", 1)


async def test_the_group_writer_commits_what_was_queued_together_and_one_faulty_step_takes_no_other_down(sessions: async_sessionmaker[AsyncSession]) -> None:
    await queue(sessions, 2)
    writes = GroupWriter(sessions)

    async def status_of(session: AsyncSession, key: str, status: OutboxStatus) -> str:
        await session.execute(update(OutboxMessage).where(OutboxMessage.key == key).values(status=status))
        return key

    async def faulty(_session: AsyncSession) -> None:
        raise ValueError("a bug in one step")

    first = writes.queue(status_of, "m:0", OutboxStatus.CANCELLED)
    broken = writes.queue(faulty)
    second = writes.queue(status_of, "m:1", OutboxStatus.CANCELLED)
    assert await first == "m:0" and await second == "m:1"
    with pytest.raises(ValueError, match="a bug in one step"):
        await broken
    assert {status for status, _, _ in (await statuses(sessions)).values()} == {OutboxStatus.CANCELLED}
    together = GroupWriter(sessions)
    done = await asyncio.gather(*(together.run(status_of, f"m:{n}", OutboxStatus.PENDING) for n in range(2)))
    assert done == ["m:0", "m:1"] and (together.transactions, together.steps) == (1, 2)


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[TelegramStandIn, TelegramTransport]]:
    standin = TelegramStandIn(TELEGRAM_TOKEN, max_per_chat_per_second=1)
    await standin.start()

    async def nobody_writes(_message: object) -> None:
        raise AssertionError

    transport = TelegramTransport(TELEGRAM_TOKEN, nobody_writes, base_url=standin.base_url, retry=RetryPolicy(attempts=4, first_backoff=0.05))
    await transport.application.initialize()
    yield standin, transport
    await transport.application.shutdown()
    await standin.stop()


async def test_telegram_gives_a_paced_429_back_and_waits_out_one_after_part_of_the_message_arrived(telegram: tuple[TelegramStandIn, TelegramTransport]) -> None:
    standin, transport = telegram
    standin.add_user(2001, "Ana").started = True
    address = ChatAddress(Platform.TELEGRAM, "2001", "2001")
    standin.throttle("sendMessage", 1, retry_after=7)
    with pytest.raises(RateLimited) as refused:
        await transport.send(address, OutgoingMessage("x", "short", paced=True))
    assert refused.value.retry_after == 7 and standin.sent == []
    # A text of two messages: the second, a second too soon for the chat, is
    # refused after the first arrived; given back, the first would go twice.
    long = "word " * 1000
    sent = await transport.send(address, OutgoingMessage("x", long, paced=True))
    assert len(sent.message_ids) == 2 and len(standin.sent) == 2 and standin.refused >= 1
    router = PlatformRouter()
    router.register(transport)
    # Not paced (a reply in a turn): the 429 is waited out as before.
    standin.throttle("sendMessage", 1, retry_after=1)
    await router.send(address, OutgoingMessage("x", "reply"))
    assert standin.sent[-1].text == "reply"


async def test_a_fan_out_of_more_than_a_batch_is_a_backlog_while_it_is_sent_and_one_batch_is_not(sessions: async_sessionmaker[AsyncSession]) -> None:
    await queue(sessions, 10)
    gateway = Recording(sessions)
    send = dispatcher(sessions, gateway, concurrency=2, batch=4)
    seen: list[bool] = []

    async def note(_text: str) -> None:
        seen.append(send.sending_backlog)

    gateway.hook = note
    assert await send.drain() == 10
    # The planner gives way to it meanwhile (bot.app.PLAN_GIVES_WAY).
    assert set(seen) == {True} and not send.sending_backlog
    await queue(sessions, 13)  # keys m:0 ... m:9 are taken: three new, less than a batch
    seen.clear()
    assert await send.drain() == 3
    assert seen == [False, False, False]
