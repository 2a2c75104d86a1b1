"""Issue 16 re-check: a retired indicator still asked. The reminder tick
plans a person's indicator requests ahead of their window (and a message
that missed its window waits for the next); retiring one of them then left
that queued message in the outbox, and it went out asking for a value of
the retired indicator. Now retiring takes back the queued, unsent messages
that ask for it (as nmrf-bot assign --remove takes back an assignment
notice), so the same tick plans what is still asked, without it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import OutgoingMessage
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage.clock import running_on
from storage.enums import OutboxStatus
from storage.indicator_models import IndicatorFrequency, IndicatorKind
from storage.indicators import IndicatorData, add_indicator, retire_indicator
from storage.models import OutboxMessage
from tests.cli_harness import Cli
from tests.fakes import FakeClock


async def _asks(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[OutboxStatus, str]]:
    async with sessions() as session:
        rows = await session.execute(select(OutboxMessage.status, OutboxMessage.message).where(OutboxMessage.key.like("indicators:%")).order_by(OutboxMessage.id))
        return [(status, OutgoingMessage.from_dict(message).text) for status, message in rows]


async def test_retiring_an_indicator_takes_back_the_queued_request_and_the_rest_is_asked_without_it(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    clock = FakeClock()
    with running_on(clock):
        async with sessions() as session, session.begin():
            for code, definition in (("I-3", "Share of women among judges"), ("I-4", "Cases of free legal aid")):
                await add_indicator(session, IndicatorData(code, IndicatorKind.OUTCOME, definition, "%", IndicatorFrequency.QUARTERLY, "MOJ", date(2026, 11, 23), data_source="register"))
    assert await ReminderService(sessions, Policy(), clock).tick() == 1
    [(status, text)] = await _asks(sessions)
    assert status is OutboxStatus.PENDING and "I-3" in text and "I-4" in text
    with running_on(clock):
        async with sessions() as session, session.begin():
            await retire_indicator(session, "I-3", "The judiciary no longer publishes it")
    # Nothing queued asks for I-3 any more; Ana is asked for I-4 alone, once.
    assert not any("I-3" in text for status, text in await _asks(sessions) if status is OutboxStatus.PENDING)
    await ReminderService(sessions, Policy(), clock).tick()
    await ReminderService(sessions, Policy(), clock).tick()
    pending = [text for status, text in await _asks(sessions) if status is OutboxStatus.PENDING]
    assert len(pending) == 1 and "I-4" in pending[0] and "I-3" not in pending[0]


async def test_retiring_an_indicator_takes_back_the_secretariats_queued_notice_that_nobody_can_be_asked_for_it(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    from storage.secretariat import SecretariatUserData, seed_secretariat_users

    clock = FakeClock()
    with running_on(clock):
        async with sessions() as session, session.begin():
            await seed_secretariat_users(session, [SecretariatUserData("María González", "maria@cancilleria.example", "ar", "America/Montevideo", telegram_user_id=900)])
            # The Ministry of Women has nobody to ask.
            await add_indicator(session, IndicatorData("I-9", IndicatorKind.OUTCOME, "Women in shelters", "women", IndicatorFrequency.QUARTERLY, "MOW", date(2026, 11, 23), data_source="register"))
    await ReminderService(sessions, Policy(), clock).tick()

    async def nobody() -> list[OutboxStatus]:
        async with sessions() as session:
            return list((await session.scalars(select(OutboxMessage.status).where(OutboxMessage.key.like("nobody:indicator:%")))).all())

    assert await nobody() == [OutboxStatus.PENDING]
    with running_on(clock):
        async with sessions() as session, session.begin():
            await retire_indicator(session, "I-9", "Measured by the census now")
    assert await nobody() == []
    await ReminderService(sessions, Policy(), clock).tick()
    assert await nobody() == []


async def test_two_retirements_at_once_keep_the_first_reason_and_refuse_the_second(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    """On PostgreSQL both read 'not retired' and the second's reason and day
    replaced the first's; now the indicator's row is locked and read again."""
    import asyncio

    from storage.database import writing
    from storage.errors import InvalidValue
    from storage.indicators import get_indicator

    clock = FakeClock()
    with running_on(clock):
        async with sessions() as session, session.begin():
            await add_indicator(session, IndicatorData("I-3", IndicatorKind.OUTCOME, "Women judges", "%", IndicatorFrequency.QUARTERLY, "MOJ", date(2026, 11, 23), data_source="register"))
    hold = asyncio.Event()

    async def retire(reason: str, wait: asyncio.Event | None = None) -> None:
        with running_on(clock):
            async with writing(sessions) as session:
                await retire_indicator(session, "I-3", reason)
                if wait is not None:
                    await wait.wait()

    first = asyncio.create_task(retire("No longer published", hold))
    await asyncio.sleep(0.3)
    second = asyncio.create_task(retire("Replaced by I-4"))
    await asyncio.sleep(0.5)
    hold.set()
    await first
    with pytest.raises(InvalidValue) as refused:
        await asyncio.wait_for(second, 20)
    assert refused.value.key == "refusal.indicators.already_retired"
    async with sessions() as session:
        assert (await get_indicator(session, "I-3")).retired_reason == "No longer published"


def test_a_retired_indicator_is_listed_retired_with_nothing_due(
    db_url: str, world: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """`indicators list` gave a retired indicator a next due date and said
    nothing of its retirement; `indicators show` named a next due date above
    'no value is asked of it any more'."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    cli = Cli(capsys)
    cli("indicators", "add", "I-3", "--kind", "outcome", "--definition", "Women judges", "--unit", "%", "--frequency", "quarterly",
        "--institution", "MOJ", "--first-due", "2026-11-23", "--source", "register")
    cli("indicators", "add", "I-4", "--kind", "process", "--definition", "Legal aid cases", "--unit", "cases", "--frequency", "quarterly",
        "--institution", "MOJ", "--first-due", "2026-12-15", "--source", "register")
    cli("indicators", "retire", "I-3", "--reason", "No longer published")
    out, _ = cli("indicators", "list", "--format", "json")
    rows = {r["code"]: r for r in json.loads(out)}
    assert (rows["I-3"]["next_due"], rows["I-3"]["retired"]) == (None, "2026-11-23")
    assert (rows["I-4"]["next_due"], rows["I-4"]["retired"]) == ("2026-12-15", None)
    out, _ = cli("indicators", "show", "I-3")
    assert "next due" not in out and "  unit: %; reported by MOJ, quarterly from 2026-11-23; retired, nothing due" in out.splitlines()
