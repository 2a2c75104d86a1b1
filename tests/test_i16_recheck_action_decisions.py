"""Issue 16 re-check: the proposer told the secretariat's decision
(handlers.action_decisions) only while in office. Its docstring says a
proposer who left is not told; the code only asked for a reachable chat
account, so a focal point whose term had ended got "accepted: your
institution answers for it" with an Update button for an institution they
no longer answer for. Also: a decision taken twice is refused and tells
nobody a second time."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import actions
from storage.actions import ActionData
from storage.database import create_engine, session_factory
from storage.models import FocalPoint, OutboxMessage
from storage.network import end_focal_point
from tests.cli_harness import Cli
from tests.fakes import FakeClock


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


async def _propose(sessions: async_sessionmaker[AsyncSession], ana_id: int, recommendation: int, title: str) -> str:
    async with sessions() as session, session.begin():
        ana = await session.get(FocalPoint, ana_id)
        action = await actions.create_action(
            session, ActionData(title=title, responsible="MOJ", recommendations=(recommendation,)), actor="telegram:111", now=FakeClock().now, proposed_by=ana,
        )
        return action.code


def _notices(db_url: str) -> list[str]:
    async def read() -> list[str]:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                return list((await session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.like("action-decided:%")))).all())
        finally:
            await engine.dispose()

    return asyncio.run(read())


async def test_a_proposer_whose_term_ended_is_not_told_the_decision(
    cli: Cli, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], db_url: str,
) -> None:
    first = await _propose(sessions, world["ana"], world["mine"], "Open a shelter in Salto")
    second = await _propose(sessions, world["ana"], world["mine"], "A hotline")
    async with sessions() as session, session.begin():
        await end_focal_point(session, "ana@justicia.example", date(2026, 11, 20))
    await asyncio.to_thread(cli, "actions", "accept", first)
    await asyncio.to_thread(cli, "actions", "reject", second, "--reason", "Exists already")
    assert await asyncio.to_thread(_notices, db_url) == []


async def test_a_decision_taken_again_is_refused_and_tells_nobody_twice(
    cli: Cli, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], db_url: str,
) -> None:
    code = await _propose(sessions, world["ana"], world["mine"], "Open a shelter in Salto")
    await asyncio.to_thread(cli, "actions", "accept", code)
    _, err = await asyncio.to_thread(cli, "actions", "reject", code, "--reason", "Changed our mind", expect=1)
    assert "is accepted, not proposed" in err
    _, err = await asyncio.to_thread(cli, "actions", "accept", code, expect=1)
    assert await asyncio.to_thread(_notices, db_url) == [f"action-decided:{(await _id(sessions, code))}"]


async def _id(sessions: async_sessionmaker[AsyncSession], code: str) -> int:
    async with sessions() as session:
        return (await actions.get_action(session, code)).id


async def test_two_decisions_taken_at_once_keep_the_first_and_refuse_the_second(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    """A coordinator's Confirm in chat and `actions reject` on the command
    line at the same moment: on PostgreSQL both read 'proposed' and both
    wrote, the last one's state kept while the proposer was told the first
    (the notice's key taken). The action's row is now locked for the decision."""
    from storage.action_models import ActionState
    from storage.database import writing
    from storage.errors import Conflict

    code = await _propose(sessions, world["ana"], world["mine"], "Open a shelter in Salto")
    hold = asyncio.Event()

    async def decide(accept: bool, wait: asyncio.Event | None = None) -> None:
        async with writing(sessions) as session:
            await actions.decide(session, code, accept, actor="cli:maria" if accept else "secretariat:2", now=FakeClock().now, note=None if accept else "No")
            if wait is not None:
                await wait.wait()

    first = asyncio.create_task(decide(True, hold))
    await asyncio.sleep(0.3)
    second = asyncio.create_task(decide(False))
    await asyncio.sleep(0.5)
    hold.set()
    await first
    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(second, 20)
    assert refused.value.key == "refusal.actions.already_accepted"
    async with sessions() as session:
        assert (await actions.get_action(session, code)).state is ActionState.ACCEPTED
