"""Faults the bot must ride out with nothing lost and nothing twice. Each
test records its counts (sent, duplicated, lost) with ``fault_report``, which
``python bench/run_all.py`` collects into its table."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import HandlingDeferred
from handlers.engine import ConversationEngine
from storage.conversations import link_identity
from storage.database import create_engine, session_factory
from storage.enums import FocalPointRole, Platform
from storage.models import StatusUpdate
from storage.network import FocalPointData, add_focal_point
from tests.factories import answered_before
from tests.fakes import FakeClock, FakeGateway, Person

PEOPLE = 24


@pytest.mark.fault
async def test_sqlite_concurrent_writers_lose_nothing(
    db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], fault_report: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    """Two bot processes' engines on one SQLite file, each handling a burst of
    people at once, while a third writer (an import, say) keeps taking the
    write lock: every answer is stored once. A press whose lock outlasted every
    retry (on a loaded machine) is deferred and delivered again, as the platform
    would, never answered with "try again" and dropped."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer lock is what this is about")
    async with sessions() as session, session.begin():
        for n in range(PEOPLE):
            person = await add_focal_point(session, FocalPointData(
                f"Person {n}", "MOJ", FocalPointRole.TECHNICAL, "en", "America/Montevideo", date(2025, 1, 1), f"p{n}@justicia.example",
            ))
            await link_identity(session, person.id, Platform.TELEGRAM, "", str(5000 + n), str(5000 + n))
    # An earlier answer each, so that every press stores its "no change".
    await answered_before(sessions, "MOJ", *world["mine_all"])
    path = db_url.split("///", 1)[1]
    stop = threading.Event()
    # Each lock waited out is a debug line; an outage would be a warning.
    caplog.set_level(logging.DEBUG, logger="handlers.engine")

    def importer() -> None:
        other = sqlite3.connect(path, timeout=30, isolation_level=None)
        other.execute("CREATE TABLE IF NOT EXISTS scratch (n INTEGER)")
        while not stop.is_set():
            # Short transactions committing all the time: each commit can
            # fall between a transaction's first read and its first write.
            # Batches of 20 ms holding the write lock, a moment apart, as an import's are.
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO scratch VALUES (1)")
            time.sleep(0.02)
            other.execute("COMMIT")
            time.sleep(0.005)
    thread = threading.Thread(target=importer)
    thread.start()
    gateways = [FakeGateway(), FakeGateway()]
    # A short lock wait, so that what a writer does once it waited too long shows in seconds.
    engines = [create_engine(db_url, sqlite_busy_ms=200), create_engine(db_url, sqlite_busy_ms=200)]
    try:
        bots = [ConversationEngine(session_factory(e), g, FakeClock()) for e, g in zip(engines, gateways, strict=True)]
        deferred = Counter[str]()

        async def press(n: int) -> None:
            # As the platform does: a delivery the engine deferred (the lock
            # held past every retry, on a loaded machine) comes again.
            message = Person(str(5000 + n)).presses(f"same:{world['mine_all'][n % 3]}")
            while True:
                try:
                    await bots[n % 2].handle(message)
                    return
                except HandlingDeferred:
                    deferred[message.delivery_id] += 1
                    await asyncio.sleep(0.1)

        await asyncio.gather(*(press(n) for n in range(PEOPLE)))
    finally:
        stop.set()
        thread.join()
        for e in engines:
            await e.dispose()
    replies = Counter(m.key for g in gateways for m in g.take())
    async with sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(StatusUpdate)) - len(world["mine_all"])
    locked = sum("database busy" in r.getMessage() for r in caplog.records)
    fault_report.update(
        sent=PEOPLE, stored=stored, duplicated=max(0, stored - PEOPLE), lost=max(0, PEOPLE - stored),
        told_to_wait=replies["error.deferred"], deferred=sum(deferred.values()), database_locked=locked,
    )
    # The fault happened: writers found the database locked, and retried.
    assert locked > 0
    # Each person told once at most that their press waits, then answered once.
    assert replies["update.no_change_saved"] == PEOPLE and set(replies) <= {"update.no_change_saved", "error.deferred"}, replies
    assert stored == PEOPLE


@pytest.mark.fault
async def test_dropped_connections_lose_nothing_and_repeat_nothing(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], fault_report: dict[str, object]
) -> None:
    """A quarter of the connections to Telegram are cut before Telegram reads
    them, for sends and for long polling alike: a 60-message fan-out and a
    conversation both come through, each message once."""
    from datetime import datetime, timezone

    from bot.standins.telegram import TelegramStandIn
    from bot.transports.retry import RetryPolicy
    from handlers.reminders.working_time import WorkingTime
    from storage import outbox
    from storage.enums import OutboxKind
    from tests.chat_harness import TELEGRAM_TOKEN, TelegramPerson, live_telegram

    standin = TelegramStandIn(TELEGRAM_TOKEN, drop_fraction=0.25)
    now = datetime(2026, 11, 23, 13, tzinfo=timezone.utc)
    clock = FakeClock(now)
    users = range(7001, 7061)
    async with sessions() as session, session.begin():
        for user in users:
            await outbox.enqueue(session, outbox.NewMessage(
                key=f"drop:{user}", kind=OutboxKind.REMINDER, platform=Platform.TELEGRAM, workspace_id="", platform_user_id=str(user),
                chat_id=str(user), timezone="Europe/Lisbon", message={"key": "x", "text": f"reminder for {user}", "language": "en"}, due_at=now,
            ))
    retry = RetryPolicy(attempts=12, first_backoff=0.02, max_backoff=0.2)
    # /mine lists the first item first: the institution answered it before, so "No change" is one tap.
    await answered_before(sessions, "MOJ", world["mine_all"][0])
    async with live_telegram(sessions, clock, [*users, 111], standin=standin, retry=retry) as bot:
        sent = await bot.dispatcher(sessions, clock, lambda tz: WorkingTime(tz)).drain()
        ana = TelegramPerson(standin, 111)
        items = (await ana.says("/mine", expect=4))[1:]
        opened = await ana.presses("Open", on=items[0])
        (saved,) = await ana.presses("No change", on=opened[0])
        assert saved.text.startswith("Noted: no change")
    delivered = Counter(m.text for m in standin.sent if m.text.startswith("reminder for"))
    async with sessions() as session:
        updates = await session.scalar(select(func.count()).select_from(StatusUpdate)) - 1  # the earlier answer
    fault_report.update(
        sent=len(users), delivered=len(delivered), duplicated=sum(n - 1 for n in delivered.values()),
        lost=len(users) - len(delivered), connections_dropped=standin.dropped, updates_stored=updates,
    )
    assert standin.dropped > 10
    assert sent == len(users) and len(delivered) == len(users) and set(delivered.values()) == {1}
    assert updates == 1
