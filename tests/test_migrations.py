"""The migrations build exactly the models, on every backend, and can be re-run."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.models import Base, Mechanism
from storage.reference import MECHANISMS


def _not_search_index(name: str | None, type_: str, parent_names: Any) -> bool:
    # Migration 0014's full-text search lives outside the models: SQLite's FTS5
    # table (and its shadow tables) and PostgreSQL's expression index.
    return not (name or "").startswith(("recommendations_fts", "ix_recommendations_text_search"))


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": _not_search_index})
    return compare_metadata(context, Base.metadata)


async def test_database_is_at_head_with_every_table(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_upgrade_is_idempotent_and_seeds_mechanisms_once(engine: AsyncEngine) -> None:
    await upgrade(engine)
    await upgrade(engine)
    async with engine.connect() as conn:
        codes = (await conn.execute(select(Mechanism.code))).scalars().all()
    assert sorted(codes) == sorted(m.code for m in MECHANISMS)
    assert {"UPR", "CERD", "CCPR", "CESCR", "CEDAW", "CAT", "CRC", "CMW", "CRPD", "CED"} <= set(codes)


async def test_downgrade_to_empty_then_upgrade_again(engine: AsyncEngine) -> None:
    await downgrade(engine, "base")
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert not (set(Base.metadata.tables) & tables)
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()


@pytest.mark.parametrize("table", ["status_updates", "evidence", "audit_log", "validations"])
async def test_history_tables_refuse_update_and_delete_in_sql(engine: AsyncEngine, table: str) -> None:
    """Even raw SQL, bypassing the ORM, cannot rewrite history."""
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO institutions (code, name, kind, active, created_at, updated_at) VALUES ('MOJ', 'Justice', 'ministry', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        await conn.execute(text(
            "INSERT INTO recommendations (source, external_id, text, country, kind, mechanism_id, content_hash, created_at, updated_at) "
            "VALUES ('template', 'R1', 't', 'Uruguay', 'recommendation', 1, 'h', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))
        await conn.execute(text(
            "INSERT INTO status_updates (recommendation_id, status, author_label, channel, created_at) "
            "VALUES (1, 'in_progress', 'test', 'cli', CURRENT_TIMESTAMP)"
        ))
        await conn.execute(text("INSERT INTO evidence (status_update_id, kind, url) VALUES (1, 'link', 'https://x.example')"))
        await conn.execute(text("INSERT INTO audit_log (at, actor, action, entity) VALUES (CURRENT_TIMESTAMP, 'test', 'insert', 'x')"))
        await conn.execute(text("INSERT INTO validations (status_update_id, decision, validator_label, created_at) VALUES (1, 'approved', 'test', CURRENT_TIMESTAMP)"))
    async with engine.connect() as conn:
        before = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
    column = {
        "status_updates": "status = 'fully_implemented'", "evidence": "url = 'https://y.example'",
        "audit_log": "actor = 'someone else'", "validations": "decision = 'returned'",
    }[table]
    for statement in (f"UPDATE {table} SET {column}", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    async with engine.connect() as conn:
        assert (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar() == before


async def test_sqlite_files_use_wal_and_enforce_foreign_keys(engine: AsyncEngine, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite connection settings")
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    with pytest.raises(DBAPIError, match="FOREIGN KEY"):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO focal_points (name, institution_id, role, language, timezone, active_from, created_at, updated_at) VALUES ('x', 999, 'technical', 'en', 'UTC', '2026-01-01', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))



async def test_0007_stops_storing_made_names_in_english_and_back(engine: AsyncEngine) -> None:
    given = {
        1: ("follow_up_information", "CEDAW", "CEDAW follow-up information (Uruguay)", None),
        2: ("internal_input", None, "Inputs for the CEDAW follow-up information (Uruguay)", 1),
        3: ("information_request", None, "Request: ¿Qué se hizo sobre la trata de personas?", None),
        4: ("upr_midterm", "UPR", "UPR mid-term report", None),
        5: ("treaty_report", "CEDAW", "Our own words (Uruguay)", None),
        6: ("follow_up_information", "CCPR", "CCPR follow-up information", None),
    }
    await downgrade(engine, "0006")
    async with engine.begin() as conn:
        for id_, (kind, code, title, parent) in given.items():
            await conn.execute(
                text(
                    "INSERT INTO deadlines (id, kind, title, due_on, mechanism_id, parent_id, created_at, updated_at) "
                    "VALUES (:id, :kind, :title, '2027-01-01', (SELECT id FROM mechanisms WHERE code = :code), :parent, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": id_, "kind": kind, "title": title, "code": code, "parent": parent},
            )
    await upgrade(engine, "0007")
    async with engine.connect() as conn:
        after = {r[0]: (r[1], r[2]) for r in await conn.execute(text("SELECT id, title, country FROM deadlines"))}
        assert after == {
            1: (None, "Uruguay"), 2: (None, None), 3: ("¿Qué se hizo sobre la trata de personas?", None),
            4: (None, None), 5: ("Our own words (Uruguay)", None), 6: (None, None),
        }
    await downgrade(engine, "0006")
    async with engine.connect() as conn:
        back = {r[0]: r[1] for r in await conn.execute(text("SELECT id, title FROM deadlines"))}
    assert back == {id_: title for id_, (_, _, title, _) in given.items()}
    await upgrade(engine)


async def test_0010_gives_a_focal_points_update_its_institution_and_loses_nothing(engine: AsyncEngine) -> None:
    """History from before 0010: a focal point's update recorded without its
    institution gets its author's; the secretariat's own record keeps none;
    every row, evidence included, is still there; the triggers still hold."""
    await downgrade(engine, "0009")
    async with engine.begin() as conn:
        for code in ("MOE", "MIDES"):
            await conn.execute(text(
                "INSERT INTO institutions (code, name, kind, active, created_at, updated_at) "
                f"VALUES ('{code}', '{code}', 'ministry', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ))
        await conn.execute(text(
            "INSERT INTO focal_points (name, institution_id, role, language, timezone, active_from, created_at, updated_at) "
            "VALUES ('Ana', 2, 'technical', 'es', 'UTC', '2026-01-01', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))
        await conn.execute(text(
            "INSERT INTO recommendations (source, external_id, text, country, kind, mechanism_id, content_hash, created_at, updated_at) "
            "VALUES ('template', 'R1', 't', 'Uruguay', 'recommendation', 1, 'h', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))
        for institution, author, status in (("NULL", "1", "in_progress"), ("1", "NULL", "partially_implemented"), ("NULL", "NULL", "fully_implemented")):
            await conn.execute(text(
                "INSERT INTO status_updates (recommendation_id, institution_id, author_focal_point_id, status, narrative, author_label, channel, created_at) "
                f"VALUES (1, {institution}, {author}, '{status}', 'said {status}', 'someone', 'telegram', CURRENT_TIMESTAMP)"
            ))
        await conn.execute(text("INSERT INTO evidence (status_update_id, kind, url) VALUES (1, 'link', 'https://x.example')"))

    async def rows() -> list[tuple[Any, ...]]:
        async with engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(text(
                "SELECT id, institution_id, author_focal_point_id, status, narrative, author_label, channel, created_at FROM status_updates ORDER BY id"
            ))]

    before = await rows()
    await upgrade(engine)
    after = await rows()
    # Ana's update is MIDES's (her institution); MOE's stays MOE's; the secretariat's record stays its own.
    assert [r[1] for r in after] == [2, 1, None]
    assert [r[:1] + r[2:] for r in after] == [r[:1] + r[2:] for r in before]
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM evidence WHERE status_update_id = 1"))).scalar() == 1
        audited = [tuple(r) for r in await conn.execute(text("SELECT entity, entity_id FROM audit_log WHERE actor = 'migration 0010'"))]
    assert audited == [("status_updates", "1")]
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE status_updates SET status = 'not_started'"))
    # Downgrade puts back exactly what it changed; upgrading again does it again.
    await downgrade(engine, "0009")
    assert await rows() == before
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM status_updates"))
    await upgrade(engine)
    assert [r[1] for r in await rows()] == [2, 1, None]


async def test_0020_keeps_status_updates_append_only_both_ways(engine: AsyncEngine) -> None:
    """0020 adds status_updates.link_group_id without rebuilding the table,
    which on SQLite would drop the triggers that keep history; its downgrade
    drops the column the same way."""
    async def refuses_update() -> None:
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE status_updates SET status = 'not_started'"))

    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO recommendations (source, external_id, text, country, kind, mechanism_id, content_hash, created_at, updated_at) "
            "VALUES ('template', 'R1', 't', 'Uruguay', 'recommendation', 1, 'h', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))
        await conn.execute(text("INSERT INTO link_groups (created_at, created_by) VALUES (CURRENT_TIMESTAMP, 'test')"))
        await conn.execute(text(
            "INSERT INTO status_updates (recommendation_id, status, author_label, channel, created_at, link_group_id) "
            "VALUES (1, 'in_progress', 'test', 'cli', CURRENT_TIMESTAMP, 1)"
        ))
    await refuses_update()
    await downgrade(engine, "0019")
    async with engine.connect() as conn:
        columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("status_updates")})
    assert "link_group_id" not in columns
    await refuses_update()
    await upgrade(engine)
    await refuses_update()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM status_updates"))).scalar() == 1
