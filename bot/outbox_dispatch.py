"""Sending what the outbox holds: claimed in batches, the next one while this
one goes out, several sends on their way at once, each in its slot of the
platform's rate, each marked sent in its own transaction as soon as the
platform took it.

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
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.supervision import LoopHealth, poll
from handlers.chat_port import ChatAddress, ChatGateway, DeliveryFailed, DeliveryProbe, OutgoingMessage, RateLimited, RecipientUnreachable
from bot.ratelimit import SendLimits
from handlers.reminders.working_time import WorkingTime, parse_hours
from storage.audit import acts_as
from storage.database import writing
from storage import outbox
from storage.calendars import load_closures
from storage.enums import OutboxKind
from storage.models import FocalPoint, OutboxMessage

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# After a failed send: 1, 2, 4 ... minutes, at most an hour.
MAX_BACKOFF = timedelta(hours=1)
MAX_REPLY_BACKOFF = timedelta(minutes=2)
# A message the platform refused this many times in a row (429) waits like a failed send.
MAX_REFUSALS = 8
# Waits the given seconds; False when the sender is to stop instead.
Pause = Callable[[float], Awaitable[bool]]


def _backoff(row: OutboxMessage) -> timedelta:
    """How long a failed send waits: 1, 2, 4 ... minutes, at most an hour; a
    kept chat reply, which someone is waiting for, 10, 20, 40 ... seconds, at
    most two minutes, so it follows soon after the platform is back."""
    if row.kind is OutboxKind.CHAT_REPLY:
        return min(timedelta(seconds=10 * 2 ** max(row.attempts - 1, 0)), MAX_REPLY_BACKOFF)
    return min(timedelta(minutes=2 ** max(row.attempts - 1, 0)), MAX_BACKOFF)


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
        # About a second of sending claimed at a time, the next batch while
        # this one goes out: few rows for a crash to leave claimed (a restart
        # frees them at once) and few claims between the sends.
        self.batch = batch or concurrency * 8
        # Sends begun and not yet recorded: all a crash can leave in doubt.
        self.concurrency = concurrency
        self.lease = lease
        self.on_unreachable = on_unreachable
        # Every claim and every outcome: one writer, several to a transaction.
        self._writes = GroupWriter(sessions)
        # Batches being claimed or sent, by any caller of run_once (the
        # running loop, a drain): drain waits for them, since what another
        # caller claimed is no longer "due" and yet not sent.
        self._in_flight = 0
        self._settled = asyncio.Event()
        self._settled.set()
        # The running loop's stop: no new send begins once it is set.
        self._stop: asyncio.Event | None = None
        # Claims in progress that found a full batch, so more waiting behind it.
        self._backlogs = 0

    @property
    def sending_backlog(self) -> bool:
        """Whether more is due than one batch, and being sent: a fan-out."""
        return self._backlogs > 0

    async def run_once(self) -> int:
        """Send what is due, until nothing due is left or the loop is told to
        stop; how many rows were claimed."""
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
        """A pipeline: the next batch is claimed while this one is sent, and
        up to ``concurrency`` sends are on their way at once, each waiting
        for its own slot of the platform's rate. Sent one after the other, a
        fan-out loses the rate to every round trip and commit between two
        sends, and to every claim between two batches."""
        async with self.sessions() as session:
            if not await outbox.anything_due(session, self.clock()):
                return 0
        claimed: deque[OutboxMessage] = deque(await self._claim())
        total = len(claimed)
        more = len(claimed) == self.batch
        # A full first batch: more waiting behind it, sent in this call.
        backlog = more
        self._backlogs += backlog
        ahead: asyncio.Task[list[OutboxMessage]] | None = None
        gate = asyncio.Semaphore(self.concurrency)
        sending: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []

        async def pause(seconds: float) -> bool:
            # Out of the gate meanwhile: the other sends keep the pace.
            gate.release()
            try:
                await asyncio.sleep(seconds)
            finally:
                await gate.acquire()
            return not (failures or self._stopping())

        async def one(row: OutboxMessage) -> None:
            held = True

            def recording() -> None:
                # The record of this send is queued: the next send's start is
                # queued after it, so it commits in the same transaction or a
                # later one, and no more than ``concurrency`` are ever in doubt.
                nonlocal held
                held = False
                gate.release()

            try:
                await self._send(row, pause, recording)
            except Exception as exc:  # noqa: BLE001 - raised below, once the other sends have ended
                failures.append(exc)
            finally:
                if held:
                    gate.release()

        try:
            while claimed:
                if more and ahead is None and len(claimed) <= max(self.batch // 2, 1):
                    ahead = asyncio.create_task(self._claim())
                await gate.acquire()
                if failures or self._stopping():
                    gate.release()
                    break
                task = asyncio.create_task(one(claimed.popleft()))
                sending.add(task)
                task.add_done_callback(sending.discard)
                if not claimed and ahead is not None:
                    rows, ahead = await ahead, None
                    claimed.extend(rows)
                    total += len(rows)
                    more = len(rows) == self.batch
        finally:
            try:
                if ahead is not None:
                    try:
                        claimed.extend(await ahead)
                    except Exception as exc:  # noqa: BLE001 - nothing was claimed by it
                        failures.append(exc)
                if sending:
                    await asyncio.gather(*sending, return_exceptions=True)
                if claimed:
                    # Stopped, or a send failed: what is claimed and not begun
                    # goes back as it was (else its lease frees it).
                    await self._finish(outbox.unclaim, [row.id for row in claimed], self.worker)
            finally:
                self._backlogs -= backlog
        if failures:
            raise failures[0]
        return total

    async def _claim(self) -> list[OutboxMessage]:
        rows: list[OutboxMessage] = await self._writes.run(outbox.claim, self.worker, self.clock(), self.batch, self.lease)
        return rows

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

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

        self._stop = stop
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

    async def _send(self, row: OutboxMessage, pause: Pause, recording: Callable[[], None] = lambda: None) -> None:
        """Send one claimed row and record how it went. ``pause`` waits out a
        429 away from the sends in flight (False: stop instead); ``recording``
        is called once the platform took it and its record is queued."""
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
        message = replace(OutgoingMessage.from_dict(row.message), outbox_key=row.key, paced=True)
        refused = 0
        failure: Exception
        while True:
            try:
                await self.limits.acquire_chat(row.platform, row.chat_id)
                if not await self._finish(outbox.mark_started, row.id, self.worker, self.clock()):
                    return  # no longer ours: the lease ran out and another process took it
                # The commit before the platform's slot, not inside it: its time
                # varies, and varied between slot and send it would bunch sends
                # at the platform into more than it allows in one second.
                await self.limits.acquire_platform(row.platform)
                receipt = await self.gateway.send(address, message)
                break
            except RateLimited as exc:
                refused += 1
                if refused >= MAX_REFUSALS:
                    failure = exc
                else:
                    # Refused before any of it arrived: not begun after all, so
                    # the wait holds no send in doubt, and the next try takes a
                    # slot of the pace like any other send.
                    await self._finish(outbox.mark_unstarted, row.id, self.worker)
                    if await pause(exc.retry_after):
                        continue
                    await self._finish(outbox.unclaim, [row.id], self.worker)
                    return
            except RecipientUnreachable as exc:
                log.info("outbox %s: %s", row.id, exc)
                if await self._finish(outbox.mark_unreachable, row, self.worker, self.clock(), exc.reason) and self.on_unreachable:
                    await _maybe_await(self.on_unreachable(row, exc.reason))
                return
            except (DeliveryFailed, OSError, asyncio.TimeoutError) as exc:
                failure = exc
            backoff = _backoff(row)
            log.warning("outbox %s: not sent (%s); again in %s", row.id, failure, backoff)
            await self._finish(outbox.release, row.id, self.worker, self.clock() + backoff, str(failure))
            return
        last_id = receipt.message_ids[-1] if receipt is not None and receipt.message_ids else None
        # Checked and found missing before this send: it went out once.
        record = self._writes.queue(outbox.mark_sent, row.id, self.worker, self.clock(), last_id, settled=arrived is False)
        recording()
        await record
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

    async def _finish(self, step: Callable[..., Awaitable[object]], *args: object, **kwargs: object) -> bool:
        """Record the outcome, retrying a busy database: the send happened,
        and losing the record of it would send it twice."""
        return bool(await self._writes.run(step, *args, **kwargs))


class GroupWriter:
    """Writes steps (``step(session, *args)``) in as few transactions as the
    database allows: each step queued while a transaction runs goes into the
    next one, and one task writes them all. So the process never contends
    with itself for SQLite's write lock, whose busy handler sleeps up to
    100 ms at a time, and a fan-out commits once for several sends rather
    than twice for each. A step's result comes back to its caller after the
    commit that holds it; a busy database is tried again, a step that fails
    on its own is written alone so it takes none of the others down."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], attempts: int = 7) -> None:
        self.sessions = sessions
        self.attempts = attempts
        self._queue: list[_Queued] = []
        self._task: asyncio.Task[None] | None = None
        # Transactions written and steps in them, for the tests.
        self.transactions = 0
        self.steps = 0

    async def run(self, step: Callable[..., Awaitable[Any]], *args: object, **kwargs: object) -> Any:
        return await self.queue(step, *args, **kwargs)

    def queue(self, step: Callable[..., Awaitable[Any]], *args: object, **kwargs: object) -> asyncio.Future[Any]:
        """Queue ``step`` now; the future has its result once committed.
        Steps commit in the order queued."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append(_Queued(step, args, kwargs, future))
        if self._task is None:
            # Made in the caller's context: the audit names whoever queued first.
            self._task = loop.create_task(self._write())
        return future

    async def _write(self) -> None:
        try:
            # A few turns of the loop first: the steps that the one just
            # queued sets going (the next send's start, once a send is
            # recorded) join its transaction.
            for _ in range(3):
                await asyncio.sleep(0)
            while self._queue:
                batch, self._queue = self._queue, []
                await self._write_batch(batch)
        except BaseException as exc:
            left, self._queue = self._queue, []
            _fail(left, exc)
            raise
        finally:
            self._task = None

    async def _write_batch(self, batch: list[_Queued]) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                async with writing(self.sessions) as session:
                    results = [await q.step(session, *q.args, **q.kwargs) for q in batch]
            except (OperationalError, InterfaceError) as exc:
                if attempt == self.attempts:
                    _fail(batch, exc)
                    return
                await asyncio.sleep(0.05 * 2**attempt)
                continue
            except Exception as exc:  # noqa: BLE001 - the step's own fault, told to its caller
                if len(batch) == 1:
                    _fail(batch, exc)
                    return
                for queued in batch:
                    await self._write_batch([queued])
                return
            except BaseException as exc:
                _fail(batch, exc)
                raise
            self.transactions += 1
            self.steps += len(batch)
            for queued, result in zip(batch, results, strict=True):
                if not queued.future.done():
                    queued.future.set_result(result)
            return


@dataclass
class _Queued:
    step: Callable[..., Awaitable[Any]]
    args: tuple[object, ...]
    kwargs: dict[str, object]
    future: asyncio.Future[Any]


def _fail(batch: list[_Queued], exc: BaseException) -> None:
    for queued in batch:
        if queued.future.done():
            continue
        if isinstance(exc, asyncio.CancelledError):
            queued.future.cancel()
        else:
            queued.future.set_exception(exc)


async def _maybe_await(value: object) -> None:
    if asyncio.iscoroutine(value):
        await value
