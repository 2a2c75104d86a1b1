"""/find's storage and CLI: the database's own full-text search, ranked, paged and filtered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.assignments import assign
from storage.enums import AssignmentRole, ImportSource, InstitutionKind, RecommendationKind
from storage.errors import InvalidValue
from storage.migrate import downgrade, upgrade
from storage.models import Mechanism, Recommendation
from storage.network import InstitutionData, add_institution
from storage.recommendations import RecommendationFilter
from storage.search import search_recommendations
from storage.selection import Selector
from handlers import find_chat
from handlers.engine import ConversationEngine
from storage.enums import SecretariatRole
from storage.secretariat import SecretariatUserData, add_secretariat_user, seed_secretariat_users
from tests.cli_harness import Cli
from tests.dialogue_harness import bot, chat, clock, gateway, tap
from tests.fakes import FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

TEXTS = {
    "R1": ("UPR", "Guarantee access to safe drinking water and sanitation in rural areas"),
    "R2": ("CRC", "Ensure that water and sanitation reach every school; water quality to be monitored"),
    "R3": ("CRC", "Protect los niños y niñas from violence in institutional care"),
    "R4": ("UPR", "Ratify the Optional Protocol to the Convention against Torture"),
    "R5": ("CEDAW", "Prevent violence against women, including access to water points at night"),
}


async def _add(session: AsyncSession, external_id: str, code: str, body: str) -> int:
    mechanism_id = (await session.execute(select(Mechanism.id).where(Mechanism.code == code))).scalar_one()
    rec = Recommendation(
        source=ImportSource.TEMPLATE, external_id=external_id, text=body, country="Uruguay",
        kind=RecommendationKind.RECOMMENDATION, mechanism_id=mechanism_id, content_hash=external_id,
    )
    session.add(rec)
    await session.flush()
    return rec.id


@pytest.fixture
async def registry(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session, session.begin():
        ids = {key: await _add(session, key, code, body) for key, (code, body) in TEXTS.items()}
        await add_institution(session, InstitutionData("MOJ", "Ministry of Justice", InstitutionKind.MINISTRY))
        await assign(session, "MOJ", Selector(ids=[ids["R2"]]), AssignmentRole.LEAD)
    return ids


async def _find(sessions: async_sessionmaker[AsyncSession], query: str, **kwargs: object) -> list[int]:
    async with sessions() as session:
        page = await search_recommendations(session, query, **kwargs)  # type: ignore[arg-type]
    return [row["id"] for row in page.rows]


async def test_every_word_must_appear_and_the_best_match_comes_first(
    sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]
) -> None:
    # R2 says "water" twice in a text of similar length: it ranks above R1 and R5.
    found = await _find(sessions, "water")
    assert set(found) == {registry["R1"], registry["R2"], registry["R5"]}
    assert found[0] == registry["R2"]
    assert set(await _find(sessions, "water sanitation")) == {registry["R1"], registry["R2"]}
    assert await _find(sessions, "WATER Violence") == [registry["R5"]]
    assert await _find(sessions, "nowhere") == []


async def test_accents_are_folded_both_ways(sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]) -> None:
    assert await _find(sessions, "ninos") == [registry["R3"]]
    assert await _find(sessions, "NIÑAS") == [registry["R3"]]
    assert await _find(sessions, "vïolence institutional") == [registry["R3"]]


@pytest.mark.parametrize(
    "query",
    ['"water', 'water"', "wat*", "-water", "water OR", "OR", "(water", "water)", "NEAR(water", "water AND NOT", "a:b", "^water", "'; DROP TABLE x; --", "water & | !"],
)
async def test_query_syntax_is_never_read_and_never_fails(
    sessions: async_sessionmaker[AsyncSession], registry: dict[str, int], query: str
) -> None:
    found = await _find(sessions, query)
    assert isinstance(found, list)


async def test_a_query_of_only_punctuation_is_a_specific_error(
    sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]
) -> None:
    for query in ("", "*", '"()"', " - "):
        with pytest.raises(InvalidValue, match="at least one word"):
            await _find(sessions, query)


async def test_filters_and_pages(sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]) -> None:
    assert await _find(sessions, "water", filters=RecommendationFilter(mechanism="CRC")) == [registry["R2"]]
    assert await _find(sessions, "water", filters=RecommendationFilter(institution="MOJ")) == [registry["R2"]]
    assert set(await _find(sessions, "water", unassigned=True)) == {registry["R1"], registry["R5"]}
    async with sessions() as session:
        first = await search_recommendations(session, "water", limit=2)
        second = await search_recommendations(session, "water", offset=2, limit=2)
    assert first.total == second.total == 3
    assert first.has_next and not first.has_previous
    assert len(second.rows) == 1 and second.has_previous and not second.has_next
    assert {r["id"] for r in first.rows + second.rows} == {registry["R1"], registry["R2"], registry["R5"]}


async def test_changed_and_deleted_texts_are_reindexed(sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(Recommendation).where(Recommendation.id == registry["R4"]).values(text="Provide clean water in prisons"))
        new_id = await _add(session, "R6", "CAT", "Water for detainees")
    assert set(await _find(sessions, "water prisons")) == {registry["R4"]}
    assert await _find(sessions, "torture") == []
    assert new_id in await _find(sessions, "detainees")


async def test_the_migration_indexes_existing_rows_and_downgrades_with_rows(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]
) -> None:
    await downgrade(engine, "0013")
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE recommendations SET text = 'Aguas limpias para todos' WHERE external_id = 'R1'"))
        count = (await conn.execute(text("SELECT count(*) FROM recommendations"))).scalar()
    assert count == len(TEXTS)
    await upgrade(engine)
    assert await _find(sessions, "aguas") == [registry["R1"]]
    assert set(await _find(sessions, "water")) == {registry["R2"], registry["R5"]}


async def test_postgresql_answers_from_the_index(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], registry: dict[str, int], backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL's expression index (SQLite reads its FTS5 table by construction)")
    from sqlalchemy.dialects import postgresql

    from storage.search import search_statement

    statement = search_statement("postgresql", ["water"], RecommendationFilter(), False)
    sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in await conn.execute(text("EXPLAIN " + sql.replace("%%", "%"))))
    assert "ix_recommendations_text_search" in plan


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


def test_the_cli_finds_with_the_same_function(cli: Cli, registry: dict[str, int]) -> None:
    out, _ = cli("recommendations", "find", "water", "--mechanism", "CRC", "--format", "json")
    assert [row["id"] for row in json.loads(out)] == [registry["R2"]]
    out, _ = cli("recommendations", "find", "niños", "--format", "csv")
    assert out.splitlines()[0].startswith("id,") and len(out.splitlines()) == 2
    out, _ = cli("recommendations", "find", "water", "--unassigned", "--format", "json")
    assert {row["id"] for row in json.loads(out)} == {registry["R1"], registry["R5"]}
    _, err = cli("recommendations", "find", "(*)", expect=1)
    assert "at least one word" in err


# --- in chat: /find for every secretariat role ---------------------------------

viewer = Person("902")


@pytest.fixture
async def secretariat(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        await add_secretariat_user(session, SecretariatUserData(
            "Vera Lind", "vera@mfa.example", "en", "UTC", telegram_user_id=902, role=SecretariatRole.VIEWER))


async def test_a_viewer_finds_pages_and_filters_in_chat(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: None, registry: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(find_chat, "PAGE", 2)
    await bot.handle(viewer.says("/find water"))
    [first] = gateway.take()
    assert first.key == "find.results"
    lines = first.text.splitlines()
    assert lines[0] == "3 recommendations found, best match first (1–2):"
    assert lines[1].startswith(f"• #{registry['R2']} CRC: Ensure that water") and lines[1].endswith("(not started; MOJ)")
    assert [b.label for row in first.buttons for b in row] == ["Next ›"]
    assert await chat(bot, gateway, tap("Next ›", viewer)) == ["find.results"]
    [second] = gateway.history[-1:]
    assert second[1].text.splitlines()[0] == "3 recommendations found, best match first (3–3):"
    assert [b.label for row in second[1].buttons for b in row] == ["‹ Previous"]
    await bot.handle(viewer.says("/find water mechanism:crc"))
    [only] = gateway.take()
    assert only.text.splitlines()[1:] == [f"• #{registry['R2']} CRC: " + TEXTS["R2"][1] + " (not started; MOJ)"]
    await bot.handle(viewer.says("/find niños unassigned"))
    [accent] = gateway.take()
    assert accent.text.splitlines()[1].endswith("(not started; not assigned)")
    # No word, an unknown filter value, no match: each its own answer.
    assert await chat(bot, gateway, viewer.says("/find (*)"), viewer.says("/find water status:done"), viewer.says("/find zzz")) == [
        "find.usage", "find.bad_filter", "find.none"]


async def test_a_focal_point_is_refused_find(bot: ConversationEngine, gateway: FakeGateway, registry: dict[str, int]) -> None:
    await bot.handle(Person("555").says("/find water"))
    [reply] = gateway.take()
    assert reply.key != "find.results"
