"""UHRI then UPR Info, or UPR Info then UHRI: one registry either way.

tests/fixtures/uhri_grouped.csv and uprinfo_grouped.csv hold the same UPR
recommendations as each source publishes them (texts of the Working Group
reports A/HRC/12/12, A/HRC/14/8, A/HRC/28/8 and A/HRC/28/15; UPR Info's rows
as its export has them). UHRI has one row per paragraph with every State
that made it; UPR Info one row per recommending State:

- Uruguay, session 5: one paragraph of five States (UPR Info: five rows), and
  Djibouti's longer words on a paragraph of their own;
- Slovenia, session 20: the same words as two paragraphs, Tunisia's and then
  Argentina, Belgium and France's; Sierra Leone's row has no UHRI paragraph;
- Fiji, session 20: one paragraph of three States;
- Fiji, session 7: Chile's paragraph, then Chile and Slovenia's of the same
  words (UPR Info: Chile's row twice, and Slovenia's);
- a pledge (UPR Info only) and a CEDAW observation (UHRI only).
"""

from __future__ import annotations

import asyncio
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.database import create_engine, session_factory
from storage.enums import ImportSource, TagKind
from storage.importers.run import import_file
from storage.models import Recommendation, RecommendationSource, Tag, recommendation_tags
from tests.cli_harness import Cli
from tests.conftest import FIXTURES, _reset_postgres
from tests.factories import write_uhri_xlsx
from tests.test_import_dedupe import uruguay_row, write_uprinfo

UHRI = FIXTURES / "uhri_grouped.csv"
UPRINFO = FIXTURES / "uprinfo_grouped.csv"

# One recommendation as the registry holds it: its sources' ids, its recommending States, all its tags.
Entry = tuple[tuple[tuple[str, str], ...], tuple[str, ...], tuple[tuple[str, str], ...]]


def registry(url: str) -> list[Entry]:
    async def read() -> list[Entry]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                rec_ids = (await session.scalars(select(Recommendation.id))).all()
                found: dict[int, tuple[set[tuple[str, str]], set[tuple[str, str]]]] = {r: (set(), set()) for r in rec_ids}
                for rec_id, source, external_id in await session.execute(
                    select(RecommendationSource.recommendation_id, RecommendationSource.source, RecommendationSource.external_id)
                ):
                    found[rec_id][0].add((source.value, external_id))
                for rec_id, kind, value in await session.execute(
                    select(recommendation_tags.c.recommendation_id, Tag.kind, Tag.value).join(Tag)
                ):
                    found[rec_id][1].add((kind.value, value))
        finally:
            await engine.dispose()
        return sorted(
            (
                tuple(sorted(ids)),
                tuple(sorted(v for k, v in tags if k == TagKind.RECOMMENDING_STATE.value)),
                tuple(sorted(tags)),
            )
            for ids, tags in found.values()
        )

    return asyncio.run(read())


def empty_again(url: str, sqlite_template: Path) -> None:
    """The test's database as the fixture gave it: migrated, nothing imported."""
    asyncio.run(emptied(url, sqlite_template))


async def emptied(url: str, sqlite_template: Path) -> None:
    if url.startswith("sqlite"):
        shutil.copy(sqlite_template, url.removeprefix("sqlite:///"))
    else:
        await _reset_postgres(url)


def import_in_order(cli: Cli, uhri_first: bool) -> list[str]:
    files = [("uhri", UHRI), ("uprinfo", UPRINFO)]
    if not uhri_first:
        files.reverse()
    return [cli("import", source, str(path), "--no-progress")[0] for source, path in files]


def states_by_uhri_id(entries: list[Entry]) -> dict[str, tuple[tuple[str, ...], int]]:
    """Each UHRI row's recommending States, and how many UPR Info rows are on its recommendation."""
    found = {}
    for ids, states, _ in entries:
        for source, external_id in ids:
            if source == "uhri":
                found[external_id] = (states, sum(1 for s, _ in ids if s == "uprinfo"))
    return found


def test_both_orders_give_one_registry(
    db_url: str, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    cli = Cli(capsys)
    import_in_order(cli, uhri_first=True)
    uhri_first = registry(db_url)
    # Re-importing either file, in either order, changes nothing.
    again = import_in_order(cli, uhri_first=False)
    assert [line.split(": ", 1)[1] for line in again] == [
        "recommendations: 18 rows: 0 created, 0 updated, 18 unchanged\n",
        "recommendations: 8 rows: 0 created, 0 updated, 8 unchanged\n",
    ]
    assert registry(db_url) == uhri_first

    empty_again(db_url, sqlite_template)
    assert import_in_order(cli, uhri_first=False) == [
        "uprinfo_grouped.csv: recommendations: 18 rows: 7 created, 0 updated, 0 unchanged, "
        "11 kept with another State's row of the same recommendation\n",
        # Tunisia's paragraph takes Slovenia's five rows and lets four go, to
        # the next paragraph, which lets Sierra Leone's go; Chile's paragraph
        # lets Slovenia's row go to Chile's second row, which the last paragraph takes.
        "uhri_grouped.csv: recommendations: 8 rows: 1 created, 0 updated, 0 unchanged, 7 already known from "
        "another source, 5 UPR Info rows moved off a paragraph that does not name their State\n",
    ]
    uprinfo_first = registry(db_url)
    import_in_order(cli, uhri_first=True)
    assert registry(db_url) == uprinfo_first

    assert uprinfo_first == uhri_first
    # 8 UHRI rows and 18 UPR Info rows: 10 recommendations, every row's id on one of them.
    assert len(uhri_first) == 10
    assert sorted(i for ids, _, _ in uhri_first for i in ids) == sorted(
        {i for ids, _, _ in uhri_first for i in ids}
    )
    assert sum(len(ids) for ids, _, _ in uhri_first) == 26
    paragraphs = states_by_uhri_id(uhri_first)
    assert paragraphs == {
        "c5a1e2f0-0005-4000-8000-000000000012": (("Azerbaijan", "France", "Nigeria", "Pakistan", "Republic of Korea"), 5),
        "c5a1e2f0-0005-4000-8000-000000000013": (("Djibouti",), 1),
        "c5a1e2f0-0020-4000-8000-000000011510": (("Tunisia",), 1),
        "c5a1e2f0-0020-4000-8000-000000011509": (("Argentina", "Belgium", "France"), 3),
        "c5a1e2f0-0020-4000-8000-000000009801": (("Estonia", "Montenegro", "Uruguay"), 3),
        "c5a1e2f0-0007-4000-8000-000000006903": (("Chile",), 1),
        "c5a1e2f0-0007-4000-8000-000000006902": (("Chile", "Slovenia"), 2),
        "c5a1e2f0-cedaw-4000-8000-000000000014": ((), 0),
    }
    alone = [(states, tags) for ids, states, tags in uhri_first if all(s == "uprinfo" for s, _ in ids)]
    # Sierra Leone's row, which no paragraph names, and the pledge.
    assert sorted(states for states, _ in alone) == [("Sierra Leone",), ("Uruguay",)]
    # Its tags are its own row's, not those of the rows it was imported beside.
    [sierra_leone] = [tags for states, tags in alone if states == ("Sierra Leone",)]
    assert ("recommending_region", "Africa") in sierra_leone
    assert ("recommending_region", "WEOG") not in sierra_leone
    tunisia = next(tags for ids, _, tags in uhri_first if ("uhri", "c5a1e2f0-0020-4000-8000-000000011510") in ids)
    assert ("recommending_state", "Argentina") not in tunisia
    assert ("recommending_organisation", "AU") in tunisia


def test_one_upr_info_file_alone_folds_a_paragraph_split_by_state(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without UHRI, rows that differ only by recommending State are one
    recommendation with every State; a State's second row of the same words
    (its id ends '#2') is another."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    cli = Cli(capsys)
    out, _ = cli("import", "uprinfo", str(UPRINFO), "--no-progress")
    assert out == "uprinfo_grouped.csv: recommendations: 18 rows: 7 created, 0 updated, 0 unchanged, 11 kept with another State's row of the same recommendation\n"
    entries = registry(db_url)
    assert sorted(states for _, states, _ in entries) == [
        ("Argentina", "Belgium", "France", "Sierra Leone", "Tunisia"),
        ("Azerbaijan", "France", "Nigeria", "Pakistan", "Republic of Korea"),
        ("Chile",),
        ("Chile", "Slovenia"),
        ("Djibouti",),
        ("Estonia", "Montenegro", "Uruguay"),
        ("Uruguay",),
    ]
    [chile_again] = [ids for ids, states, _ in entries if states == ("Chile",)]
    assert [i.endswith("#2") for _, i in chile_again] == [True]


WORDS = "Ratify the Optional Protocol to the Convention against Torture"
POOL = ("Chile", "France", "Ghana", "Peru")


async def _grouping(url: str, files: list[tuple[ImportSource, Path]]) -> list[tuple[Any, ...]]:
    """Import ``files`` in order, then again (which must change nothing);
    each recommendation as its rows (a State's second row of the very same
    words, 'key#2', counted as its first) and its tags."""
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        for source, path in files:
            await import_file(sessions, source, path)
        async with sessions() as session:
            snapshot = sorted(tuple(r) for r in await session.execute(select(RecommendationSource.__table__)))
        for source, path in files:
            again = await import_file(sessions, source, path)
            assert again.total("unchanged") == again.rows
        async with sessions() as session:
            assert sorted(tuple(r) for r in await session.execute(select(RecommendationSource.__table__))) == snapshot
            found: dict[int, list[Any]] = {}
            for rec_id, source, external_id in await session.execute(
                select(RecommendationSource.recommendation_id, RecommendationSource.source, RecommendationSource.external_id)
            ):
                found.setdefault(rec_id, [[], []])[0].append((source.value, external_id.split("#")[0]))
            for rec_id, kind, value in await session.execute(
                select(recommendation_tags.c.recommendation_id, Tag.kind, Tag.value).join(Tag)
            ):
                found[rec_id][1].append((kind.value, value))
    finally:
        await engine.dispose()
    return sorted((tuple(sorted(rows)), tuple(sorted(tags))) for rows, tags in found.values())


async def test_any_paragraphs_and_rows_give_one_registry_in_either_order(
    db_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    """Random reviews of one text: UHRI paragraphs naming one to three
    States, UPR Info rows of any of them, a State's row sometimes twice.
    Which of a State's identical rows ('#2') sits where may differ; the
    recommendations, their States, tags and the other rows may not."""
    # Fewer on PostgreSQL, whose reset between imports is slower.
    for case in range(24 if db_url.startswith("sqlite") else 10):
        rnd = random.Random(case)
        paragraphs = [rnd.sample(POOL, rnd.randint(1, 3)) for _ in range(rnd.randint(1, 3))]
        states = [rnd.choice(POOL) for _ in range(rnd.randint(1, 6))]
        uhri = write_uhri_xlsx(tmp_path / "uhri.xlsx", [
            uruguay_row(f"p{n}", f"121.{n} {WORDS} ({', '.join(named)});", named) for n, named in enumerate(paragraphs)
        ])
        uprinfo = write_uprinfo(tmp_path / "uprinfo.csv", [{"Text": WORDS, "From": s, "From-Rgrp": s[:3]} for s in states])
        await emptied(db_url, sqlite_template)
        uhri_first = await _grouping(db_url, [(ImportSource.UHRI, uhri), (ImportSource.UPRINFO, uprinfo)])
        await emptied(db_url, sqlite_template)
        uprinfo_first = await _grouping(db_url, [(ImportSource.UPRINFO, uprinfo), (ImportSource.UHRI, uhri)])
        assert uprinfo_first == uhri_first, (paragraphs, states)
        assert sum(len(rows) for rows, _ in uhri_first) == len(paragraphs) + len(states)
