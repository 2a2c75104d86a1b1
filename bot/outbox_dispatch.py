"""Sending what the outbox holds: claimed in batches, each at the platform's
rate, each marked sent in its own transaction as soon as the platform took it.

Nothing is dropped: a network failure or a platform still refusing after
the transport's own retries sends the row back to pending with a backoff; a
person the platform refuses for good (blocked the bot, left the workspace)
is marked unreachable and the secretariat is told, once. A message that
missed its reader's working window waits for the next one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.supervision import LoopHealth, poll
from handlers.chat_port import ChatAddress, ChatGateway, DeliveryFailed, DeliveryProbe, OutgoingMessage, RecipientUnreachable
from bot.ratelimit import SendLimits
from handlers.reminders.working_time import WorkingTime, parse_hours
from storage.audit import acts_as
from storage.database import writing
from storage import outbox
from storage.calendars import load_closures
from storage.models import FocalPoint, OutboxMessage

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# After a failed send: 1, 2, 4 ... minutes, at most an hour.
MAX_BACKOFF = timedelta(hours=1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutboxDispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: ChatGateway,
        clock: Clock,
        working_time: Callable[[str], WorkingTime],
        *,
        limits: SendLimits | None = None,
        worker: str | None = None,
        batch: int | None = None,
        concurrency: int = 4,
        lease: timedelta = timedelta(minutes=15),
        on_unreachable: Callable[[OutboxMessage, str], object] | None = None,
    ) -> None:
        self.sessions = sessions
        self.gateway = gateway
        self.clock = clock
        self.working_time = working_time
        self.limits = limits or SendLimits()
        self.worker = worker or worker_name()
        # Few rows claimed at a time: what a crash leaves claimed waits least.
        self.batch = batch or concurrency * 2
        self.concurrency = concurrency
        self.lease = lease
        self.on_unreachable = on_unreachable
        # Batches being claimed or sent, by any caller of run_once (the
        # running loop, a drain): drain waits for them, since what another
        # caller claimed is no longer "due" and yet not sent.
        self._in_flight = 0
        self._settled = asyncio.Event()
        self._settled.set()

    async def run_once(self) -> int:
        """Claim one batch and send it; how many were claimed."""
        self._in_flight += 1
        self._settled.clear()
        try:
            return await self._claim_and_send()
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._settled.set()

    @acts_as("system:outbox")
    async def _claim_and_send(self) -> int:
        async with self.sessions() as session:
            if not await outbox.anything_due(session, self.clock()):
                return 0
        async with writing(self.sessions) as session:
            rows = await outbox.claim(session, self.worker, self.clock(), self.batch, self.lease)
        if not rows:
            return 0
        gate = asyncio.Semaphore(self.concurrency)

        async def one(row: OutboxMessage) -> None:
            async with gate:
                await self._send(row)

        await asyncio.gather(*(one(row) for row in rows))
        return len(rows)

    async def drain(self) -> int:
        """Send until nothing is due and nothing this dispatcher claimed is
        still on its way; the number this call claimed."""
        total = 0
        while True:
            claimed = await self.run_once()
            total += claimed
            if claimed:
                continue
            if self._in_flight:
                # The running loop's batch: once it is sent (or sent back
                # to pending), look again.
                await self._settled.wait()
                continue
            return total

    @acts_as("system:outbox")
    async def recover(self) -> int:
        """At start: free what dead processes on this host had claimed."""
        host = self.worker.rsplit(":", 1)[0]
        async with writing(self.sessions) as session:
            freed = await outbox.release_orphans(session, host, _alive, self.clock())
        if freed:
            log.warning("outbox: %s messages claimed by a process that died are taken up again", freed)
        return freed

    async def run_forever(self, stop: asyncio.Event, idle: float = 1.0, health: LoopHealth | None = None) -> None:
        """Send until ``stop``. No error ends it: the database or a platform
        gone, or a bug, is logged once and tried again with a growing wait;
        what was claimed and not sent is claimed again when its lease ends."""
        recovered = False

        async def once() -> int:
            nonlocal recovered
            if not recovered:
                await self.recover()
                recovered = True
            return await self.run_once()

        await poll(health or LoopHealth("outbox", log, self.clock), stop, once, idle)

    async def _reader_calendar(self, row: OutboxMessage) -> WorkingTime:
        """The reader's calendar: the configured one in their time zone and
        hours, with their own country's holidays and the closure days."""
        calendar = self.working_time(row.timezone)
        if row.working_hours:
            start, end = parse_hours(row.working_hours)
            calendar = dataclasses.replace(calendar, start=start, end=end)
        async with self.sessions() as session:
            closures = await load_closures(session)
            person = await session.get(FocalPoint, row.focal_point_id) if row.focal_point_id is not None else None
        if person is not None and person.country:
            calendar = dataclasses.replace(calendar, country=person.country, subdivision=person.subdivision)
        return dataclasses.replace(calendar, extra_closed=closures.days_for(calendar.country, calendar.subdivision))

    async def _send(self, row: OutboxMessage) -> None:
        now = self.clock()
        if row.not_after is not None and now >= row.not_after:
            # Too late today: never in the reader's night, weekend, holiday or closure day.
            calendar = await self._reader_calendar(row)
            window = calendar.next_window(now)
            await self._finish(outbox.release, row.id, self.worker, window.start, None, window.end)
            return
        address = ChatAddress(row.platform, row.platform_user_id, row.chat_id, row.workspace_id)
        arrived: bool | None = None
        if row.ambiguous:
            arrived = await self._delivered(address, row)
            if arrived:
                log.info("outbox %s (%s) had reached the platform before the crash; not sent again", row.id, row.key)
                await self._finish(outbox.mark_sent, row.id, self.worker, self.clock(), None, settled=True)
                return
            if arrived is None:
                log.warning("outbox %s (%s) was cut off mid-send by a crash and the platform cannot say if it arrived; sending it again", row.id, row.key)
        try:
            await self.limits.acquire(row.platform, row.chat_id)
            if not await self._finish(outbox.mark_started, row.id, self.worker, self.clock()):
                return  # no longer ours: the lease ran out and another process took it
            receipt = await self.gateway.send(address, replace(OutgoingMessage.from_dict(row.message), outbox_key=row.key))
        except RecipientUnreachable as exc:
            log.info("outbox %s: %s", row.id, exc)
            if await self._finish(outbox.mark_unreachable, row, self.worker, self.clock(), exc.reason) and self.on_unreachable:
                await _maybe_await(self.on_unreachable(row, exc.reason))
            return
        except (DeliveryFailed, OSError, asyncio.TimeoutError) as exc:
            backoff = min(timedelta(minutes=2 ** max(row.attempts - 1, 0)), MAX_BACKOFF)
            log.warning("outbox %s: not sent (%s); again in %s", row.id, exc, backoff)
            await self._finish(outbox.release, row.id, self.worker, self.clock() + backoff, str(exc))
            return
        last_id = receipt.message_ids[-1] if receipt is not None and receipt.message_ids else None
        # Checked and found missing before this send: it went out once.
        await self._finish(outbox.mark_sent, row.id, self.worker, self.clock(), last_id, settled=arrived is False)
        # What was delivered (a request, a new assignment, a reminder) shows on their Home.
        refresh = getattr(self.gateway, "refresh_home", None)
        if refresh is not None:
            refresh(address)

    async def _delivered(self, address: ChatAddress, row: OutboxMessage) -> bool | None:
        check = getattr(self.gateway, "delivered", None)
        if check is None:
            return None
        try:
            async with self.sessions() as session:
                after = await outbox.last_sent_before(session, row)
            probe = DeliveryProbe(row.key, OutgoingMessage.from_dict(row.message), after)
            return await check(address, probe)
        except Exception as exc:  # noqa: BLE001 - unknown is the safe answer: send
            log.info("outbox: could not ask the platform about %s: %s", row.key, exc)
            return None

    async def _finish(self, step: Callable[..., object], *args: object, **kwargs: object) -> bool:
        """Record the outcome, retrying a busy database: the send happened,
        and losing the record of it would send it twice."""
        for attempt in range(1, 8):
            try:
                async with writing(self.sessions) as session:
                    return bool(await step(session, *args, **kwargs))  # type: ignore[misc]
            except (OperationalError, InterfaceError):
                if attempt == 7:
                    raise
                await asyncio.sleep(0.05 * 2**attempt)
        return False


async def _maybe_await(value: object) -> None:
    if asyncio.iscoroutine(value):
        await value
