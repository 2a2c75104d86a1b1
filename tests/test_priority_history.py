"""A priority's history (issue 15 review): every change of a
recommendation's level, or of what it rests on, is kept append-only with
who, when and why (priority_changes, migration 0028), and reports as of a
past day and `priorities show --as-of` tell the priority of then; the
recurrence reason names a linked group as every list does. SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handlers.priority_reasons import why
from storage.clock import running_on
from storage.database import create_engine, session_factory
from storage.enums import BudgetImplications, Priority
from storage.errors import AppendOnlyViolation
from storage.migrate import downgrade, upgrade
from storage.models import LinkGroup, Recommendation
from storage.priorities import explain, override, refresh, set_inputs
from storage.priority_history import history, views_as_of
from storage.priority_models import PriorityChange
from storage.report_inputs import stream_inputs
from storage.report_rows import ReportScope, stream_report_rows
from tests.cli_harness import Cli
from tests.fakes import FakeClock
from tests.test_priorities import add_rec, group

MONDAY = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


def day(n: int) -> datetime:
    return MONDAY + timedelta(days=n)


async def test_the_recurrence_reason_names_the_group_by_its_title_or_first_member(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        upr, cedaw = await add_rec(session, "UPR", text="Criminalise marital rape"), await add_rec(session, "CEDAW")
        titled = await group(session, upr, cedaw)
        await session.execute(update(LinkGroup).where(LinkGroup.id == titled).values(title="Marital rape"))
        first, second = await add_rec(session, "UPR", text="Ratify the Optional Protocol"), await add_rec(session, "CRC")
        untitled = await group(session, first, second)
        named = why((await explain(session, cedaw)).criterion("recurrence"), "en")
        by_member = why((await explain(session, second)).criterion("recurrence"), "fr")
    assert named == "linked group “Marital rape”: CEDAW, UPR"
    assert f"#{titled}" not in named
    assert by_member.startswith("groupe lié « Ratify the Optional Protocol") and f"{untitled}" not in by_member


async def test_each_change_is_kept_with_who_when_and_why_and_a_refresh_that_changes_nothing_keeps_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    with running_on(clock):
        async with sessions() as session, session.begin():
            rid = await add_rec(session)
            await refresh(session, [rid])
        clock.now = day(1)
        async with sessions() as session, session.begin():
            await set_inputs(session, [rid], budget=BudgetImplications.NONE, actor="cli:ana", now=clock())
            await refresh(session, [rid])
        clock.now = day(3)
        async with sessions() as session, session.begin():
            await override(session, [rid], Priority.HIGH, "Parliament's pledge", actor="cli:ben", now=clock())
            kept = await history(session, rid)
    assert [(c.at, c.cause, c.priority, c.overridden) for c in kept] == [
        (MONDAY, "data", Priority.LOW, False),
        (day(1), "inputs", Priority.MEDIUM, False),
        (day(3), "override", Priority.HIGH, True),
    ]
    assert [c.actor for c in kept][1:] == ["cli:ana", "cli:ben"]
    assert kept[2].override_reason == "Parliament's pledge" and kept[2].computed == Priority.MEDIUM
    assert {c["code"]: c["met"] for c in kept[1].criteria}["quick_win"] is True
    # Append-only, in the ORM and in SQL.
    async with sessions() as session:
        with pytest.raises(AppendOnlyViolation):
            async with session.begin():
                row = await session.get(PriorityChange, kept[0].id)
                assert row is not None
                row.priority = Priority.HIGH
    async with sessions() as session:
        with pytest.raises(DBAPIError):
            async with session.begin():
                await session.execute(text("DELETE FROM priority_changes"))


async def _a_week(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """Two recommendations: low on Monday; on Thursday the first is made high."""
    clock = FakeClock()
    with running_on(clock):
        async with sessions() as session, session.begin():
            first, second = await add_rec(session), await add_rec(session)
            await refresh(session, [first, second])
        clock.now = day(3)
        async with sessions() as session, session.begin():
            await override(session, [first], Priority.HIGH, "Minister's pledge", actor="cli:ben", now=clock())
    return first, second


async def test_reports_as_of_a_past_day_tell_the_priority_of_then(sessions: async_sessionmaker[AsyncSession]) -> None:
    first, second = await _a_week(sessions)
    async with sessions() as session:
        then = {r["id"]: r async for r in stream_report_rows(session, ReportScope(), day(1), explain=True)}
        now = {r["id"]: r async for r in stream_report_rows(session, ReportScope(), None, explain=True)}
        high_then = [r["id"] async for r in stream_report_rows(session, ReportScope(priority=Priority.HIGH), day(1))]
        high_now = [r["id"] async for r in stream_report_rows(session, ReportScope(priority=Priority.HIGH), day(4))]
        drafted = {i.id: (i.priority, i.priority_view) async for i in stream_inputs(session, ReportScope(), day(1))}
        before = await views_as_of(session, [first], MONDAY - timedelta(days=1))
    assert then[first]["priority"] == "low" and then[first]["priority_view"].level == Priority.LOW
    assert not then[first]["priority_view"].overridden
    assert now[first]["priority"] == "high" and now[first]["priority_view"].override_reason == "Minister's pledge"
    assert high_then == [] and high_now == [first]
    assert drafted[first][0] == Priority.LOW and drafted[first][1] is not None and drafted[first][1].level == Priority.LOW
    # Before its first priority, it had none.
    assert before == {}


async def test_a_report_sorted_by_priority_as_of_a_day_sorts_by_the_priority_of_then(sessions: async_sessionmaker[AsyncSession]) -> None:
    first, second = await _a_week(sessions)
    async with sessions() as session, session.begin():
        # The second made high on Tuesday (before the first's Thursday).
        with running_on(lambda: day(1)):
            await override(session, [second], Priority.HIGH, "Budget law", actor="cli:ana", now=day(1))
    async with sessions() as session:
        wednesday = [r["id"] async for r in stream_report_rows(session, ReportScope(), day(2), sort="priority")]
        sunday = [r["id"] async for r in stream_report_rows(session, ReportScope(), MONDAY - timedelta(hours=1), sort="priority")]
    assert wednesday == [second, first]
    assert sunday == [first, second]


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


def test_cli_show_as_of_a_day_tells_the_priority_then_and_who_changed_it(cli: Cli, db_url: str) -> None:
    async def seed() -> tuple[int, int]:
        engine = create_engine(db_url)
        try:
            return await _a_week(session_factory(engine))
        finally:
            await engine.dispose()

    first, _ = asyncio.run(seed())
    out, _ = cli("priorities", "show", str(first), "--as-of", "2026-11-24")
    lines = out.splitlines()
    assert lines[0] == f"#{first} Priority: low (0 of 5 criteria met)"
    assert lines[1] == "  Since 23 November 2026, by system: the criteria’s data changed"
    out, _ = cli("priorities", "show", str(first), "--as-of", "2026-11-26", "--language", "es")
    lines = out.splitlines()
    assert lines[0].startswith(f"#{first} Prioridad: alta, fijada por la secretaría") and lines[0].endswith("Minister's pledge")
    assert lines[1] == "  Desde el 26 de noviembre de 2026, por cli:ben: la decisión de la secretaría por encima de los criterios"
    out, _ = cli("priorities", "show", str(first), "--as-of", "2026-11-20")
    assert out == f"#{first} No priority yet on 20 November 2026.\n"
    out, _ = cli("priorities", "show", str(first))
    assert out.splitlines()[0].startswith(f"#{first} Priority: high, set by the secretariat")


async def test_migration_0028_starts_each_history_with_the_priority_found(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        rid, never = await add_rec(session), await add_rec(session)
        # The migration dates each history from the row's last change: make
        # it a day of the test's week, not whatever day the suite runs on.
        await session.execute(update(Recommendation).where(Recommendation.id.in_([rid, never])).values(updated_at=day(1)))
    await downgrade(engine, "0027")
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE recommendations SET priority = 'medium' WHERE id = :id"), {"id": rid})
    await upgrade(engine)
    async with sessions() as session:
        kept = await history(session, rid)
        none_kept = await history(session, never)
        # A recommendation with no history at all reads as it is.
        views = await views_as_of(session, [rid, never], day(30))
    assert [(c.cause, c.priority, c.criteria, c.actor) for c in kept] == [("migration", Priority.MEDIUM, None, "migration 0028")]
    assert none_kept == []
    assert views[rid].level == Priority.MEDIUM and views[rid].criteria == []
    assert never in views


def test_cli_history_lists_every_change_oldest_first(cli: Cli, db_url: str) -> None:
    async def seed() -> tuple[int, int]:
        engine = create_engine(db_url)
        try:
            return await _a_week(session_factory(engine))
        finally:
            await engine.dispose()

    first, _ = asyncio.run(seed())
    out, _ = cli("priorities", "history", str(first))
    assert out.splitlines() == [
        "2026-11-23 13:00 Priority: low (0 of 5 criteria met)",
        "  Since 23 November 2026, by system: the criteria’s data changed",
        "2026-11-26 13:00 Priority: high, set by the secretariat over the criteria (low): Minister's pledge",
        "  Since 26 November 2026, by cli:ben: the secretariat’s override",
    ]
    out, _ = cli("priorities", "history", "999")
    assert out == "#999: -\n"
