"""Migration 0024 (issue 16's actions and frameworks) on every backend: it
builds the tables and takes them away again, and action_updates keeps its
history even against raw SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import current_revision, downgrade, head_revision, upgrade

ACTION_TABLES = {
    "frameworks", "framework_chapters", "actions", "action_recommendations", "action_link_groups",
    "action_institutions", "action_sdg_targets", "action_chapters", "action_updates", "action_reminder_steps",
}


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))


async def _one_action(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO institutions (code, name, kind, active, created_at, updated_at) "
            "VALUES ('MOJ', 'Justice', 'ministry', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))
        await conn.execute(text(
            "INSERT INTO actions (code, title, responsible_institution_id, status, budget_internal, state, created_by, created_at, updated_at) "
            "VALUES ('A-1', 'Train judges', 1, 'not_started', false, 'accepted', 'test', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))
        await conn.execute(text(
            "INSERT INTO action_updates (action_id, institution_id, status, narrative, author_label, channel, created_at) "
            "VALUES (1, 1, 'in_progress', 'two courses held', 'test', 'cli', CURRENT_TIMESTAMP)"
        ))


async def test_0024_builds_the_action_tables_and_takes_them_away(engine: AsyncEngine) -> None:
    assert ACTION_TABLES <= await _tables(engine)
    await downgrade(engine, "0023")
    assert await current_revision(engine) == "0023"
    assert not (ACTION_TABLES & await _tables(engine))
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()
    assert ACTION_TABLES <= await _tables(engine)
    # The triggers came back with the table.
    await _one_action(engine)
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM action_updates"))


@pytest.mark.parametrize("statement", ["UPDATE action_updates SET status = 'fully_implemented'", "DELETE FROM action_updates"])
async def test_action_updates_refuse_update_and_delete_in_sql(engine: AsyncEngine, statement: str) -> None:
    await _one_action(engine)
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT status FROM action_updates"))).scalars().all() == ["in_progress"]


async def test_an_action_cannot_end_before_it_starts_nor_cost_less_than_nothing(engine: AsyncEngine) -> None:
    await _one_action(engine)
    for change in ("start_date = '2027-05-01', target_date = '2027-04-30'", "budget_amount = -1"):
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text(f"UPDATE actions SET {change}"))
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE actions SET start_date = '2027-01-01', target_date = '2027-01-01', budget_amount = 1500.25"))
        assert (await conn.execute(text("SELECT budget_amount FROM actions"))).scalar() == pytest.approx(1500.25)
