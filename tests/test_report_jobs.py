"""A report ordered in chat whose database goes away after the turn
committed: the job waits for it (1, 2, 4 ... s), says so once in the log
and once when the report is made, then sends it. Other failures are said at
once; a wait too long, or a stop meanwhile, ends in the failure message.

The outage is real: the report's database is reached through a TCP proxy
that is closed (PostgreSQL), or at a path whose folder is not there
(SQLite: a network share gone), and comes back at the job's third wait.
The waits are the job's injected sleep, so no test waits a minute."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.reports.build import ReportBuilder
from handlers.chat_port import ChatAddress, OutgoingMessage
from handlers.engine import ConversationEngine
from handlers.report_jobs import ReportRetry
from handlers.report_orders import ReportFile, ReportOrder
from storage.database import create_engine, session_factory
from storage.secretariat import SecretariatUserData, seed_secretariat_users
from tests.fakes import FakeClock, FakeGateway, Person
from tests.tcp_proxy import TcpProxy

maria = Person("900")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 13, tzinfo=timezone.utc))


@pytest.fixture
async def secretariat(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [
            SecretariatUserData("María González", "maria@cancilleria.example", "es", "America/Montevideo", telegram_user_id=900),
        ])


@dataclass
class Outage:
    """The report's own way to the database, cut until ``restore`` runs."""

    sessions: async_sessionmaker[AsyncSession]
    restore: Callable[[], Awaitable[None]]


@pytest.fixture
async def outage(db_url: str, tmp_path: Path) -> AsyncIterator[Outage]:
    if db_url.startswith("postgresql"):
        url = make_url(db_url)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        proxy.port = await proxy.open()
        await proxy.close()
        engine = create_engine(url.set(port=proxy.port))

        async def restore() -> None:
            await proxy.open()

        yield Outage(session_factory(engine), restore)
        await engine.dispose()
        await proxy.close()
    else:
        real = Path(make_url(db_url).database or "")
        share = tmp_path / "share"

        async def restore() -> None:
            share.symlink_to(real.parent, target_is_directory=True)

        engine = create_engine(f"sqlite:///{share / real.name}", sqlite_busy_ms=100)
        yield Outage(session_factory(engine), restore)
        await engine.dispose()


@dataclass
class Waits:
    """The job's sleep: records each wait, lets the database back at the ``back_at``-th."""

    back_at: int | None
    restore: Callable[[], Awaitable[None]] | None = None
    seen: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float, stopping: asyncio.Event) -> None:
        self.seen.append(seconds)
        if len(self.seen) == self.back_at and self.restore is not None:
            await self.restore()


class Keeping(FakeGateway):
    """Keeps a copy of each file, since the engine removes it once sent."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> None:
        if message.document is not None:
            self.files[message.document.name] = Path(message.document.path).read_bytes()
        await super().send(address, message)


def report_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "handlers.report_jobs"]


async def test_a_report_waits_out_the_database_then_is_sent(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, secretariat: None, outage: Outage, caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = Keeping()
    waits = Waits(back_at=3, restore=outage.restore)
    engine = ConversationEngine(sessions, gateway, clock, reports=ReportBuilder(outage.sessions, clock), report_sleep=waits)
    with caplog.at_level(logging.INFO):
        # The turn commits on the engine's database; the report's is gone.
        await engine.handle(maria.says("/report matrix"))
        while engine._jobs:
            await asyncio.gather(*list(engine._jobs))
    assert [m.key for m in gateway.take()] == ["report.preparing", "report.ready"]
    assert waits.seen == [1.0, 2.0, 4.0]
    sheet = openpyxl.load_workbook(io.BytesIO(gateway.files["implementation-matrix-2026-11-23.xlsx"]))
    assert sheet.worksheets[0].max_row > 1
    lines = report_lines(caplog)
    assert len(lines) == 2, lines
    assert "report matrix for telegram:900: the database is unavailable" in lines[0]
    assert "made after the database came back (3 failed tries, 7 s)" in lines[1]
    assert "Traceback" not in caplog.text and not any(r.levelno >= logging.ERROR for r in caplog.records)


async def test_a_database_gone_past_the_patience_is_the_failure_message(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, secretariat: None, outage: Outage, caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = FakeGateway()
    waits = Waits(back_at=None)
    engine = ConversationEngine(
        sessions, gateway, clock, reports=ReportBuilder(outage.sessions, clock),
        report_retry=ReportRetry(first_wait=1, longest_wait=4, patience=20), report_sleep=waits,
    )
    with caplog.at_level(logging.INFO):
        await engine.handle(maria.says("/report matrix"))
        while engine._jobs:
            await asyncio.gather(*list(engine._jobs))
    assert [m.key for m in gateway.take()] == ["report.preparing", "report.failed"]
    # 1 + 2 + 4 + 4 + 4 + 4 = 19 s waited; 4 more would pass the 20 s.
    assert waits.seen == [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    lines = report_lines(caplog)
    assert len(lines) == 2 and "out of reach for 19 s (7 tries)" in lines[1], lines
    assert "Traceback" not in caplog.text


async def test_a_stop_while_a_report_waits_tells_the_person_at_once(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, secretariat: None, outage: Outage, caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = FakeGateway()
    # The real sleep, with the default one-minute waits: only the stop can end them soon.
    engine = ConversationEngine(sessions, gateway, clock, reports=ReportBuilder(outage.sessions, clock))
    await engine.handle(maria.says("/report matrix"))
    for _ in range(200):
        if gateway.sent and engine._jobs:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # the first try has failed and the job waits
    await asyncio.wait_for(engine.drain(), 10)
    assert [m.key for m in gateway.take()] == ["report.preparing", "report.failed"]
    assert "not made, the bot is stopping while the database is out of reach" in caplog.text


async def test_a_failure_that_is_not_the_database_is_said_at_once(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, secretariat: None, caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        calls = 0

        async def __call__(self, order: ReportOrder, directory: Path) -> ReportFile:
            self.calls += 1
            raise ValueError("a bug in the matrix")

    gateway, broken, waits = FakeGateway(), Broken(), Waits(back_at=None)
    engine = ConversationEngine(sessions, gateway, clock, reports=broken, report_sleep=waits)
    await engine.handle(maria.says("/report matrix"))
    await engine.drain()
    assert [m.key for m in gateway.take()] == ["report.preparing", "report.failed"]
    assert (broken.calls, waits.seen) == (1, [])
    assert "report matrix for telegram:900 failed" in caplog.text


def test_the_waits_grow_to_a_minute() -> None:
    retry = ReportRetry()
    assert [retry.wait(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
