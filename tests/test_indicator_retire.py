"""Retiring an indicator (issue 16): `nmrf-bot indicators retire CODE
--reason` through the real entry point, on every backend: it is asked no
more (open requests, the reminder tick), it stays in `indicators show` and in
the plan with its values, marked retired with the reason, and a plan as of a
day before shows it as it stood then; retiring twice is refused; migration
0029 adds and takes away its two columns."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import docx
import pytest
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handlers.chat_port import OutgoingMessage
from handlers.engine import ConversationEngine
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage.clock import running_on
from storage.database import create_engine, session_factory
from storage.indicator_models import IndicatorFrequency, IndicatorKind
from storage.indicators import IndicatorData, add_indicator, open_requests, retire_indicator
from storage.migrate import downgrade, upgrade
from storage.models import FocalPoint, OutboxMessage
from tests.cli_harness import Cli
from tests.dialogue_harness import ANA, bot, clock, gateway
from tests.fakes import FakeClock, FakeGateway

__all__ = ["bot", "clock", "gateway"]

I3 = (
    "indicators", "add", "I-3", "--kind", "outcome", "--definition", "Share of women among judges", "--unit", "%",
    "--frequency", "quarterly", "--institution", "MOJ", "--first-due", "2026-11-23", "--source", "Judiciary staff register",
    "--recommendations",
)


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    (tmp_path / "config.toml").write_text('[schedule]\ntimezone = "UTC"\n[reports]\npublic_requires_validation = false\n', encoding="utf-8")
    return Cli(capsys)


def _open(db_url: str, day: date) -> list[str]:
    async def read() -> list[str]:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                return [r.code for r in await open_requests(session, day)]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _document(path: Path) -> list[str]:
    document = docx.Document(str(path))
    return [c.text for table in document.tables for row in table.rows for c in row.cells]


def test_a_retired_indicator_is_asked_no_more_and_stays_in_the_plan_marked(cli: Cli, world: dict[str, int], db_url: str, tmp_path: Path) -> None:
    cli(*I3, str(world["mine"]))
    cli("indicators", "record", "I-3", "--value", "33.5", "--from", "2026-07-01", "--to", "2026-08-31")
    assert _open(db_url, date(2026, 11, 23)) == ["I-3"]
    cli.clock.advance(days=2)
    out, _ = cli("indicators", "retire", "I-3", "--reason", "The judiciary no longer  publishes it")
    assert out.strip() == "indicator I-3: retired on 2026-11-25 (The judiciary no longer publishes it); no value is asked of it any more"
    assert _open(db_url, date(2026, 11, 25)) == [] and _open(db_url, date(2027, 3, 1)) == []
    _, err = cli("indicators", "retire", "I-3", "--reason", "again", expect=1)
    assert err.strip() == "error: I-3 was retired on 2026-11-25 already (The judiciary no longer publishes it)"
    _, err = cli("indicators", "retire", "I-3", expect=2)
    assert "--reason" in err
    out, _ = cli("indicators", "show", "I-3")
    assert "  retired: 2026-11-25 (The judiciary no longer publishes it); no value is asked of it any more" in out.splitlines()
    assert "33.5" in out
    out, _ = cli("reminders", "preview", "--to", "2027-03-01")
    assert "I-3" not in out

    cli("report", "plan", "--out", "now.docx", "--language", "es")
    cli("report", "plan", "--out", "then.docx", "--as-of", "2026-11-24")
    now = next(c for c in _document(tmp_path / "now.docx") if c.startswith("I-3"))
    assert now == "I-3 (de resultado): Share of women among judges (retirado el 25 de noviembre de 2026: The judiciary no longer publishes it)"
    then = next(c for c in _document(tmp_path / "then.docx") if c.startswith("I-3"))
    assert then == "I-3 (outcome): Share of women among judges"
    # Its values stay: the latest is still the plan's.
    assert any("33,5" in c for c in _document(tmp_path / "now.docx"))


async def test_migration_0029_adds_and_takes_away_the_two_columns(engine: AsyncEngine) -> None:
    async def columns() -> set[str]:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("indicators")})

    assert {"retired_at", "retired_reason"} <= await columns()
    await downgrade(engine, "0028")
    assert not {"retired_at", "retired_reason"} & await columns()
    await upgrade(engine)
    assert {"retired_at", "retired_reason"} <= await columns()


async def test_an_old_requests_button_says_the_indicator_is_retired_in_the_readers_language(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], clock: FakeClock, bot: ConversationEngine, gateway: FakeGateway,
) -> None:
    with running_on(clock):
        async with sessions() as session, session.begin():
            await add_indicator(session, IndicatorData(
                "I-3", IndicatorKind.OUTCOME, "Women judges", "%", IndicatorFrequency.QUARTERLY, "MOJ", date(2026, 11, 23), data_source="register",
            ))
            ana = await session.get(FocalPoint, world["ana"])
            assert ana is not None
            ana.language = "es"
    assert await ReminderService(sessions, Policy(), clock).tick() == 1
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.key.like("indicators:%")))
    assert row is not None
    give = next(b for r in OutgoingMessage.from_dict(row.message).buttons for b in r if b.label == "Dar I-3")
    with running_on(clock):
        async with sessions() as session, session.begin():
            await retire_indicator(session, "I-3", "Ya no se publica")
    await bot.handle(ANA.presses(give.action))
    [told] = gateway.take()
    assert told.key == "indicator.retired" and told.text.startswith("I-3 ya no se mide: la secretaría lo retiró (Ya no se publica).")
    clock.advance(days=3)
    assert await ReminderService(sessions, Policy(), clock).tick() == 0
