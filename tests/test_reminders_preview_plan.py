"""`reminders preview` shows the implementation plan's reminders too
(issue 16 review): an action's target date, an indicator's due dates and a
pledge round's asking, planned day by day as their ticks plan them, as if
each went out and nobody answered; where before it listed only deadlines."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.database import create_engine, session_factory
from storage.models import OutboxMessage
from tests.cli_harness import Cli


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


def _outbox_rows() -> int:
    async def count() -> int:
        engine = create_engine(os.environ["NMRF_DATABASE_URL"])
        async with session_factory(engine)() as session:
            found = await session.scalar(select(func.count()).select_from(OutboxMessage))
        await engine.dispose()
        return int(found or 0)

    return asyncio.run(count())


def test_the_preview_holds_the_actions_indicators_and_pledges_reminders(cli: Cli, world: dict[str, int]) -> None:
    one = world["mine"]
    # Monday 23 November 2026: A-1 due Friday 18 December, I-3 monthly from Tuesday 1 December, the 2027 round opened today.
    cli("actions", "add", "--title", "Train 300 judges", "--responsible", "MOJ", "--recommendations", str(one), "--target-date", "2026-12-18")
    cli("indicators", "add", "I-3", "--kind", "process", "--definition", "Legal aid cases", "--unit", "cases", "--frequency", "monthly",
        "--institution", "MOJ", "--first-due", "2026-12-01")
    cli("pledges", "open", "2027", "--ask-by", "2027-01-29", "--report-back", "2027-12-01")
    before = _outbox_rows()
    out, _ = cli("reminders", "preview", "--from", "2026-11-24", "--to", "2026-12-22", "--format", "json")
    rows = json.loads(out)
    ana = [(r["utc_time"], r["deadline"], r["step"], r["due_on"], r["items"]) for r in rows if r["recipient"] == "Ana Pérez"]
    assert ana == [
        # The 30-day reminder fell on 18 November, before the action was added: it goes on the first day.
        ("2026-11-24 12:00", "action A-1", "30", "2026-12-18", "A-1"),
        ("2026-11-24 12:00", "pledges 2027", "ask", "2027-01-29", "0 draft(s)"),
        ("2026-12-01 12:00", "indicator I-3", "due", "2026-12-01", "2026-11-01..2026-11-30"),
        ("2026-12-04 12:00", "indicator I-3", "overdue-1", "2026-12-01", "2026-11-01..2026-11-30"),
        ("2026-12-09 12:00", "indicator I-3", "overdue-2", "2026-12-01", "2026-11-01..2026-11-30"),
        ("2026-12-11 12:00", "action A-1", "7", "2026-12-18", "A-1"),
        ("2026-12-14 12:00", "indicator I-3", "overdue-3", "2026-12-01", "2026-11-01..2026-11-30"),
        ("2026-12-17 12:00", "action A-1", "1", "2026-12-18", "A-1"),
        ("2026-12-17 12:00", "indicator I-3", "overdue-4", "2026-12-01", "2026-11-01..2026-11-30"),
        ("2026-12-21 12:00", "action A-1", "overdue-1", "2026-12-18", "A-1"),
        ("2026-12-22 12:00", "indicator I-3", "overdue-5", "2026-12-01", "2026-11-01..2026-11-30"),
    ]
    assert {r["institution"] for r in rows if r["recipient"] == "Ana Pérez"} == {"Ministry of Justice"}
    # A preview: nothing is sent or stored.
    assert _outbox_rows() == before
    # A priority chosen keeps to the deadlines' reminders about recommendations of it.
    out, _ = cli("reminders", "preview", "--from", "2026-11-24", "--to", "2026-12-22", "--priority", "high", "--format", "json")
    assert json.loads(out) == []
