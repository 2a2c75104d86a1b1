"""`nmrf-bot actions` and `nmrf-bot frameworks` through the real entry point,
on every backend: add, list, show, edit, update, accept and reject, each
bad input one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import actions
from storage.actions import ActionData
from storage.models import FocalPoint
from tests.cli_harness import Cli
from tests.fakes import FakeClock


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


def test_the_secretariat_adds_lists_shows_edits_and_updates_an_action(cli: Cli, world: dict[str, int]) -> None:
    one, two, _ = world["mine_all"]
    cli("frameworks", "add", "pndh", "--title", "Plan nacional de derechos humanos", "--kind", "human_rights_plan")
    out, _ = cli("frameworks", "chapter", "PNDH", "2.3", "--title", "Violencia de género")
    assert out.strip() == "chapter PNDH:2.3 added: Violencia de género"
    out, _ = cli(
        "actions", "add", "--title", "Train 300 judges", "--responsible", "moj", "--recommendations", f"{one},{two}",
        "--contributing", "MOW", "--start-date", "2027-01-01", "--target-date", "2027-06-30", "--budget", "150,000.50",
        "--currency", "uyu", "--budget-source", "National budget", "--sdg", "16.3,5.2", "--chapter", "PNDH:2.3", "--budget-internal",
    )
    assert out.strip() == f"A-1 added: 'Train 300 judges', MOJ responsible, serving #{one}, #{two}"
    out, _ = cli("actions", "list", "--format", "json")
    [row] = json.loads(out)
    assert row == {
        "code": "A-1", "title": "Train 300 judges", "state": "accepted", "status": "not_started", "responsible": "MOJ",
        "contributing": "MOW", "start_date": "2027-01-01", "target_date": "2027-06-30", "budget": "150000.50", "currency": "UYU",
        "budget_internal": True, "recommendations": f"#{one}; #{two}", "link_groups": "", "sdg_targets": "5.2; 16.3", "chapters": "PNDH:2.3",
    }
    out, _ = cli("actions", "update", "a-1", "--status", "in_progress", "--done", "First course held", "--next-step", "Second course")
    assert out.startswith("A-1 is now in_progress (update ")
    out, _ = cli("actions", "show", "A-1")
    assert "A-1: Train 300 judges\n  state: accepted; status: in_progress" in out
    assert "  budget: 150,000.50 UYU, from National budget (internal: not in public outputs)" in out
    assert "  chapter: PNDH:2.3 Violencia de género (Plan nacional de derechos humanos)" in out
    assert "in_progress by cli:" in out and "(secretariat): First course held" in out
    out, _ = cli("actions", "edit", "A-1", "--title", "Train 400 judges", "--clear", "budget", "--target-date", "2027-09-30")
    assert out.strip() == "A-1 changed"
    out, _ = cli("actions", "edit", "A-1", "--title", "Train 400 judges")
    assert out.strip() == "A-1 unchanged: it already reads so"
    out, _ = cli("actions", "list", "--format", "csv", "--status", "in_progress")
    assert out.splitlines()[0] == ",".join(("code", "title", "state", "status", "responsible", "contributing", "start_date", "target_date", "budget", "currency", "budget_internal", "recommendations", "link_groups", "sdg_targets", "chapters"))
    assert '"A-1","Train 400 judges"' in out and "150000" not in out
    out, _ = cli("actions", "list", "--overdue")
    assert "A-1" not in out
    cli.clock.now = cli.clock.now.replace(year=2027, month=10)
    out, err = cli("actions", "list", "--overdue")
    assert "A-1" in out and "1 action(s)" in err
    out, _ = cli("actions", "show", "A-1", "--format", "json")
    [history] = json.loads(out)
    assert (history["status"], history["done"], history["next_step"], history["institution"]) == ("in_progress", "First course held", "Second course", "secretariat")


@pytest.mark.parametrize(("args", "expected"), [
    (("--responsible", "NOPE"), "error: no institution with code 'NOPE'"),
    (("--responsible", "MOJ"), "error: an action serves at least one recommendation or linked group"),
    (("--responsible", "MOJ", "--ids", "99999"), "error: no recommendation #99999 in the registry"),
    (("--responsible", "MOJ", "--ids", "{mine}", "--budget", "10"), "error: a budget amount needs its currency"),
    (("--responsible", "MOJ", "--ids", "{mine}", "--sdg", "5.9"), "error: '5.9' is not one of the 169 SDG targets: goal 5 has 5.1 to 5.6 and 5.a to 5.c"),
    (("--responsible", "MOJ", "--ids", "{mine}", "--chapter", "PNDH"), "expected a chapter as FRAMEWORK:CHAPTER"),
    (("--responsible", "MOJ", "--ids", "{mine}", "--budget", "ten"), "expected an amount such as 150000"),
    (("--responsible", "MOJ", "--ids", "{mine}", "--start-date", "2027-05-01", "--target-date", "2027-01-01"), "error: the target date 2027-01-01 is before the start date 2027-05-01"),
])
def test_a_bad_action_is_one_clear_line_and_nothing_is_stored(cli: Cli, world: dict[str, int], args: tuple[str, ...], expected: str) -> None:
    given = [a.format(mine=world["mine"]) for a in args]
    # A value click reads itself (an amount, a chapter) is a usage error, status 2.
    _, err = cli("actions", "add", "--title", "Train judges", *given, expect=2 if {"ten", "PNDH"} & set(given) else 1)
    assert expected in err
    out, err = cli("actions", "list")
    assert "0 action(s)" in err


@pytest.fixture
async def proposed(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> list[str]:
    """Two actions Ana proposed in chat."""
    codes = []
    async with sessions() as session, session.begin():
        ana = await session.get(FocalPoint, world["ana"])
        for title in ("Open a shelter in Salto", "A hotline"):
            action = await actions.create_action(
                session, ActionData(title=title, responsible="MOJ", recommendations=(world["mine"],)), actor="telegram:111", now=FakeClock().now, proposed_by=ana,
            )
            codes.append(action.code)
    return codes


def test_proposals_are_listed_accepted_and_rejected_with_a_reason(cli: Cli, proposed: list[str]) -> None:
    first, second = proposed
    out, _ = cli("actions", "list", "--state", "proposed", "--format", "json")
    assert [r["code"] for r in json.loads(out)] == [first, second]
    _, err = cli("actions", "update", first, "--status", "in_progress", expect=1)
    assert err.strip() == f"error: {first} is proposed: only an accepted action takes updates"
    out, _ = cli("actions", "accept", first)
    assert out.strip() == f"{first} accepted"
    _, err = cli("actions", "reject", second, "--reason", " ", expect=2)
    assert "say why the action is rejected" in err
    out, _ = cli("actions", "reject", second, "--reason", "The hotline exists already (A-3)")
    assert out.strip() == f"{second} rejected"
    _, err = cli("actions", "accept", second, expect=1)
    assert err.strip() == f"error: {second} is rejected, not proposed: there is nothing to decide"
    out, _ = cli("actions", "show", second)
    assert "state: rejected" in out and "decision: The hotline exists already (A-3)" in out
    out, _ = cli("actions", "list", "--format", "json")
    assert [r["code"] for r in json.loads(out)] == [first]
    out, _ = cli("audit", "list", "--table", "actions", "--action", "update", "--format", "json")
    decided = json.loads(out)
    assert sorted(e["changes"]["state"][1] for e in decided) == ["accepted", "rejected"]
    assert all(e["actor"].startswith("cli") for e in decided)
    _, err = cli("actions", "show", "A-99", expect=1)
    assert err.strip() == "error: no action A-99 (see: nmrf-bot actions list)"


def test_a_rejection_on_the_command_line_is_told_to_the_proposer(cli: Cli, proposed: list[str], db_url: str) -> None:
    import asyncio

    from sqlalchemy import select

    from handlers.chat_port import OutgoingMessage
    from storage.database import create_engine, session_factory
    from storage.models import OutboxMessage

    first, second = proposed
    cli("actions", "reject", second, "--reason", "The hotline exists already")

    async def notices() -> list[OutboxMessage]:
        engine = create_engine(db_url)
        async with session_factory(engine)() as session:
            found = list((await session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("action-decided:%")))).all())
        await engine.dispose()
        return found

    [row] = asyncio.run(notices())
    notice = OutgoingMessage.from_dict(row.message)
    assert notice.key == "action.proposal_rejected_notice" and row.kind.value == "validation_returned"
    assert notice.text == (
        f"The secretariat did not accept your proposal {second} “A hotline”: The hotline exists already. /actions lists your institution's actions."
    )
    # Told once: a second decision is refused, and plans nothing more.
    cli("actions", "accept", second, expect=1)
    assert len(asyncio.run(notices())) == 1
