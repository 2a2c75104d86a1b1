"""Assigning recommendations to institutions, clustering them, and deadlines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.assignments import assign
from storage.clusters import add_cluster, list_clusters, put_in_cluster
from storage.deadlines import DeadlineData, add_deadline, list_deadlines
from storage.enums import AssignmentRole, DeadlineKind, ImportSource, InstitutionKind
from storage.errors import Conflict, InvalidValue, NotFound
from storage.importers.run import import_file
from storage.models import Assignment, Institution, Recommendation
from storage.network import InstitutionData, add_institution
from storage.selection import Selector
from tests.conftest import FIXTURES


@pytest.fixture
async def registry(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """The small UPR Info fixture (6 recommendations) and three institutions."""
    await import_file(sessions, ImportSource.UPRINFO, FIXTURES / "uprinfo_small.csv")
    async with sessions() as session, session.begin():
        for code, name in (("MOJ", "Ministry of Justice"), ("MOW", "Ministry of Women"), ("MFA", "Ministry of Foreign Affairs")):
            await add_institution(session, InstitutionData(code, name, InstitutionKind.MINISTRY))
        ids = (await session.scalars(select(Recommendation.id).order_by(Recommendation.id))).all()
    return {f"r{n}": rec_id for n, rec_id in enumerate(ids, start=1)}


async def assignments(sessions: async_sessionmaker[AsyncSession]) -> set[tuple[int, str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Assignment.recommendation_id, Institution.code, Assignment.role).join(Institution)
        )
        return {(r, c, role.value) for r, c, role in rows}


async def test_assign_by_ids_by_theme_and_narrowed_by_country(sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        by_ids = await assign(session, "MOJ", Selector(ids=(registry["r2"],)))
        by_theme = await assign(session, "MOJ", Selector(theme="justice", country="Uruguay"), AssignmentRole.CONTRIBUTING)
    assert (by_ids.created, by_theme.created) == (1, 1)
    assert await assignments(sessions) == {(registry["r2"], "MOJ", "lead"), (registry["r1"], "MOJ", "contributing")}


async def test_one_lead_per_recommendation(sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]) -> None:
    r1 = registry["r1"]
    async with sessions() as session, session.begin():
        await assign(session, "MOW", Selector(ids=(r1,)))
    with pytest.raises(Conflict, match=rf"{r1} \(MOW\)"):
        async with sessions() as session, session.begin():
            await assign(session, "MOJ", Selector(ids=(r1,)))
    async with sessions() as session, session.begin():
        await assign(session, "MOJ", Selector(ids=(r1,)), AssignmentRole.CONTRIBUTING)
    async with sessions() as session, session.begin():
        result = await assign(session, "MOJ", Selector(ids=(r1,)), replace_lead=True)
    assert (result.role_changed, result.leads_replaced) == (1, 1)
    assert await assignments(sessions) == {(r1, "MOJ", "lead"), (r1, "MOW", "contributing")}


async def test_reassigning_is_idempotent(sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]) -> None:
    selector = Selector(ids=(registry["r1"], registry["r3"]))
    async with sessions() as session, session.begin():
        await assign(session, "MFA", selector)
    async with sessions() as session, session.begin():
        again = await assign(session, "MFA", selector)
    assert (again.created, again.unchanged) == (0, 2)


@pytest.mark.parametrize(
    ("selector", "error", "message"),
    [
        (Selector(ids=(1, 99999)), NotFound, "no recommendation with id 99999"),
        (Selector(external_ids=("nope",)), NotFound, "external id nope"),
        (Selector(theme="No such theme"), NotFound, "no recommendation matches"),
        (Selector(), InvalidValue, "say which recommendations"),
    ],
)
async def test_bad_selection_assigns_nothing(
    sessions: async_sessionmaker[AsyncSession], registry: dict[str, int], selector: Selector, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        async with sessions() as session, session.begin():
            await assign(session, "MOJ", selector)
    assert await assignments(sessions) == set()


async def test_unknown_institution(sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]) -> None:
    with pytest.raises(NotFound, match="no institution with code 'MOH'"):
        async with sessions() as session, session.begin():
            await assign(session, "moh", Selector(ids=(registry["r1"],)))


async def test_clusters_then_assign_by_cluster(sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        await add_cluster(session, "Justice and detention")
        moved = await put_in_cluster(session, "justice and detention", Selector(ids=(registry["r2"], registry["r6"])))
        result = await assign(session, "MOJ", Selector(cluster="Justice and detention"))
        listed = {c.name: n for c, n in await list_clusters(session)}
    assert moved == 2 and result.created == 2
    assert listed == {"Justice and detention": 2}
    with pytest.raises(Conflict):
        async with sessions() as session, session.begin():
            await add_cluster(session, "JUSTICE AND DETENTION")


async def test_deadlines_linked_to_recommendations_and_listed_by_date(sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        midterm = await add_deadline(
            session, DeadlineData(DeadlineKind.UPR_MIDTERM, date(2027, 3, 31), mechanism_code="upr"), Selector(country="Uruguay", mechanism="UPR", theme="Detention")
        )
        await add_deadline(
            session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 12, 15), parent_id=midterm.id, title="Ministries' inputs")
        )
    async with sessions() as session:
        listed = [(d.title or d.kind.value, d.due_on, n) for d, n in await list_deadlines(session)]
        only_upr = [d.title or d.kind.value for d, _ in await list_deadlines(session, mechanism="UPR")]
        later = [d.title or d.kind.value for d, _ in await list_deadlines(session, due_from=date(2027, 1, 1))]
    assert listed == [("Ministries' inputs", date(2026, 12, 15), 0), ("upr_midterm", date(2027, 3, 31), 1)]
    assert only_upr == ["upr_midterm"]
    assert later == ["upr_midterm"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (DeadlineData(DeadlineKind.UPR_MIDTERM, date(2027, 1, 1), mechanism_code="CEDAW"), "belongs to the UPR"),
        (DeadlineData(DeadlineKind.TREATY_REPORT, date(2027, 1, 1), mechanism_code="XYZ"), "no mechanism 'XYZ'"),
        (DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2027, 1, 1), parent_id=12345), "no deadline with id 12345"),
        (DeadlineData(DeadlineKind.TREATY_REPORT, date(2027, 1, 1), title="x" * 301), "a title is at most 300 characters, got 301"),
        (DeadlineData(DeadlineKind.TREATY_REPORT, date(2027, 1, 1), country="y" * 201), "a State's name is at most 200 characters, got 201"),
    ],
)
async def test_bad_deadlines_are_refused(sessions: async_sessionmaker[AsyncSession], data: DeadlineData, message: str) -> None:
    with pytest.raises((InvalidValue, NotFound), match=message):
        async with sessions() as session, session.begin():
            await add_deadline(session, data)


async def test_input_deadline_after_its_report_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        report = await add_deadline(session, DeadlineData(DeadlineKind.TREATY_REPORT, date(2027, 6, 1), mechanism_code="CRC"))
    with pytest.raises(InvalidValue, match="after the deadline it serves"):
        async with sessions() as session, session.begin():
            await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2027, 7, 1), parent_id=report.id))


def test_fixture_is_present() -> None:
    assert Path(FIXTURES / "uprinfo_small.csv").exists()


async def test_deadlines_are_named_in_each_readers_language(sessions: async_sessionmaker[AsyncSession]) -> None:
    """A name made from kind, mechanism and State is stored in no language;
    a title the secretariat typed is shown as typed."""
    from handlers.deadline_names import deadline_name
    from storage.deadlines import deadline_names

    async with sessions() as session, session.begin():
        follow_up = await add_deadline(session, DeadlineData(DeadlineKind.FOLLOW_UP_INFORMATION, date(2027, 1, 1), mechanism_code="cedaw", country="Uruguay"))
        inputs = await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 12, 1), parent_id=follow_up.id))
        midterm = await add_deadline(session, DeadlineData(DeadlineKind.UPR_MIDTERM, date(2027, 1, 1), mechanism_code="UPR"))
        plain = await add_deadline(session, DeadlineData(DeadlineKind.INFORMATION_REQUEST, date(2027, 1, 1)))
        typed = await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 12, 1), title="  Cierre interno  ", parent_id=follow_up.id))
        names = await deadline_names(session, [follow_up.id, inputs.id, midterm.id, plain.id, typed.id, 999])
    assert (follow_up.title, follow_up.country, typed.title) == (None, "Uruguay", "Cierre interno")
    assert 999 not in names

    def said(language: str) -> list[str]:
        return [deadline_name(names[d.id], language) for d in (follow_up, inputs, midterm, plain, typed)]

    assert said("en") == [
        "CEDAW follow-up information (Uruguay)", "Inputs for the CEDAW follow-up information (Uruguay)", "UPR mid-term report", "Information request", "Cierre interno",
    ]
    assert said("fr") == [
        "Informations de suivi pour le CEDAW (Uruguay)", "Contributions pour : Informations de suivi pour le CEDAW (Uruguay)",
        "Rapport à mi-parcours de l'EPU", "Demande d'information", "Cierre interno",
    ]
    assert said("es")[:3] == [
        "Información de seguimiento para el CEDAW (Uruguay)", "Aportes para: Información de seguimiento para el CEDAW (Uruguay)", "Informe de mitad de período del EPU",
    ]


async def test_names_with_pattern_characters_match_only_themselves(sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]) -> None:
    """%, _ and a backslash are characters of a name, not LIKE patterns."""
    from storage.clusters import get_cluster
    from storage.selection import select_ids

    async with sessions() as session, session.begin():
        await add_cluster(session, "Art. 12-13")
        await add_cluster(session, "Art. 12_13")  # once a "duplicate" of the first
        await add_cluster(session, "100% funded")
        await add_cluster(session, r"C:\data")
        await put_in_cluster(session, r"c:\DATA", Selector(ids=(1,)))
        await put_in_cluster(session, "art. 12_13", Selector(ids=(2,)))
    async with sessions() as session:
        assert (await get_cluster(session, "ART. 12_13")).name == "Art. 12_13"
        with pytest.raises(NotFound):
            await get_cluster(session, "100")
        with pytest.raises(NotFound):
            await get_cluster(session, "1%")
        assert await select_ids(session, Selector(cluster=r"C:\data")) == [1]
        assert await select_ids(session, Selector(cluster="Art. 12_13")) == [2]
        with pytest.raises(NotFound):  # "12_13" does not stand for "12-13"
            await select_ids(session, Selector(cluster="Art. 12-13"))
