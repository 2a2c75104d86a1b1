"""/assign in chat: a summary of the change, then Confirm; the same storage
functions as `nmrf-bot assign` (audit, notices); unknown ids and codes named."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.engine import ConversationEngine
from storage.enums import SecretariatRole
from storage.models import Assignment, AuditEntry, Institution
from storage.secretariat import SecretariatUserData, add_secretariat_user, seed_secretariat_users
from tests.dialogue_harness import bot, chat, clock, gateway, tap
from tests.fakes import FakeGateway, Person
from tests.test_find import registry

__all__ = ["bot", "clock", "gateway", "registry"]

coordinator, viewer = Person("901"), Person("902")


@pytest.fixture
async def secretariat(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        await add_secretariat_user(session, SecretariatUserData(
            "Colin Reyes", "colin@mfa.example", "en", "UTC", telegram_user_id=901, role=SecretariatRole.COORDINATOR))
        await add_secretariat_user(session, SecretariatUserData(
            "Vera Lind", "vera@mfa.example", "en", "UTC", telegram_user_id=902, role=SecretariatRole.VIEWER))


async def _assigned(sessions: async_sessionmaker[AsyncSession]) -> set[tuple[int, str, str]]:
    async with sessions() as session:
        rows = await session.execute(select(Assignment.recommendation_id, Institution.code, Assignment.role).join(Institution))
        return {(r, c, role.value) for r, c, role in rows}


async def test_a_coordinator_assigns_after_a_summary_and_removes(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: None, registry: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    r1, r2, r3 = registry["R1"], registry["R2"], registry["R3"]
    before = await _assigned(sessions)
    await bot.handle(coordinator.says(f"/assign {r1}-{r3} moj"))
    [summary] = gateway.take()
    assert summary.key == "assign.confirm"
    assert summary.text == f"Assign #{r1}, #{r2}, #{r3} to MOJ (Ministry of Justice) as lead? New: 2; role changed: 0; already so: 1."
    assert await _assigned(sessions) == before  # nothing before Confirm
    assert await chat(bot, gateway, coordinator.says("yes"), tap("Confirm", coordinator)) == ["assign.press", "assign.assigned"]
    assert await _assigned(sessions) == {(r1, "MOJ", "lead"), (r2, "MOJ", "lead"), (r3, "MOJ", "lead")}

    await bot.handle(coordinator.says(f"/assign {r2} MOJ contributing"))
    [summary] = gateway.take()
    assert "role changed: 1" in summary.text
    assert await chat(bot, gateway, tap("Cancel", coordinator)) == ["update.cancelled"]

    await bot.handle(coordinator.says(f"/assign remove {r1},{registry['R4']} MOJ"))
    [summary] = gateway.take()
    assert summary.text == f"Take #{r1}, #{registry['R4']} back from MOJ (Ministry of Justice)? Removed: 1; not assigned to it: 1. Its updates stay in the history."
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["assign.removed"]
    assert await _assigned(sessions) == {(r2, "MOJ", "lead"), (r3, "MOJ", "lead")}
    async with sessions() as session:
        actors = (await session.scalars(select(AuditEntry.actor).where(AuditEntry.entity == "assignments", AuditEntry.action == "delete"))).all()
    assert len(actors) == 1 and actors[0].startswith("secretariat:")


async def test_unknown_ids_codes_and_words_are_named_and_change_nothing(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: None, registry: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = await _assigned(sessions)
    assert (await chat(
        bot, gateway, coordinator.says(f"/assign {registry['R1']},999 MOJ"), coordinator.says("/assign 1 NOPE"),
        coordinator.says("/assign x MOJ"), coordinator.says("/assign"), viewer.says("/assign 1 MOJ"),
    ))[:4] == ["assign.unknown_ids", "assign.unknown_institution", "assign.usage", "assign.usage"]
    await bot.handle(coordinator.says(f"/assign {registry['R1']},999 MOJ"))
    assert gateway.take()[0].text == "No recommendation has the number #999: nothing was changed."
    await bot.handle(viewer.says(f"/assign {registry['R1']} MOJ"))
    [refused] = gateway.take()
    assert refused.key != "assign.confirm" and "oordinator" in refused.text
    assert await _assigned(sessions) == before


async def test_a_coordinator_assigns_from_a_search_result_and_a_viewer_gets_no_such_buttons(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: None, registry: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    r1, r5 = registry["R1"], registry["R5"]
    await bot.handle(viewer.says("/find water"))
    [results] = gateway.take()
    assert not [b for row in results.buttons for b in row if b.action.startswith("fa:")]
    await bot.handle(coordinator.says("/find water"))
    [results] = gateway.take()
    labels = [b.label for row in results.buttons for b in row]
    assert f"Assign #{r1}…" in labels and "Assign all 3 above…" in labels
    before = await _assigned(sessions)
    # One result: the institution is asked, then the same summary and Confirm as /assign.
    assert await chat(bot, gateway, tap(f"Assign #{r5}…", coordinator)) == ["assign.ask_institution"]
    assert await chat(bot, gateway, coordinator.says("NOPE")) == ["assign.unknown_institution"]
    await bot.handle(coordinator.says("moj contributing"))
    [summary] = gateway.take()
    assert summary.key == "assign.confirm" and summary.text.startswith(f"Assign #{r5} to MOJ (Ministry of Justice) as contributing?")
    assert await _assigned(sessions) == before
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["assign.assigned"]
    assert (r5, "MOJ", "contributing") in await _assigned(sessions)
    # The whole page, taken back in one go.
    await bot.handle(coordinator.says("/find water"))
    gateway.take()
    assert await chat(bot, gateway, tap("Assign all 3 above…", coordinator), coordinator.says("remove MOJ")) == [
        "assign.ask_institution", "assign.confirm"]
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["assign.removed"]
    assert not {(r, c) for r, c, _ in await _assigned(sessions)} & {(r1, "MOJ"), (r5, "MOJ"), (registry["R2"], "MOJ")}
    # A viewer pressing a forwarded pick is refused naming the role.
    await bot.handle(viewer.presses(f"fa:{r1}"))
    [refusal] = gateway.take()
    assert refusal.key == "role.needed" and "coordinator role" in refusal.text
