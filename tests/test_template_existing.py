"""The template against what the registry already holds: a row naming a
recommendation UHRI gave (by its id, #N, document and paragraph, or the
UPR's State, session and text) updates it instead of making a duplicate; a
column the sheet leaves out keeps what is stored; a column given twice is
refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.database import create_engine, session_factory
from storage.enums import BudgetImplications, ImportSource, TagKind
from storage.models import (
    Cluster,
    FollowUpSelection,
    PriorityInput,
    Recommendation,
    RecommendationSource,
    Tag,
    recommendation_tags,
)
from tests.cli_harness import Cli
from tests.factories import write_workbook

UHRI = Path(__file__).parent / "fixtures" / "uhri_grouped.csv"
CEDAW_14 = "c5a1e2f0-cedaw-4000-8000-000000000014"


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


def _read(db_url: str, query: object) -> list[tuple[object, ...]]:
    async def go() -> list[tuple[object, ...]]:
        engine = create_engine(db_url)
        try:
            sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
            async with sessions() as session:
                return [tuple(r) for r in (await session.execute(query)).all()]  # type: ignore[call-overload]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _csv(path: Path, *lines: str) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _tags(db_url: str, rec_id: int, kind: TagKind) -> set[object]:
    rows = _read(
        db_url,
        select(Tag.value).join(recommendation_tags, recommendation_tags.c.tag_id == Tag.id).where(recommendation_tags.c.recommendation_id == rec_id, Tag.kind == kind),
    )
    return {v for (v,) in rows}


def _count(db_url: str) -> int:
    return int(_read(db_url, select(func.count()).select_from(Recommendation))[0][0])  # type: ignore[arg-type]


def _uhri(cli: Cli, db_url: str) -> int:
    cli("import", "uhri", str(UHRI), "--no-progress")
    [(rec_id,)] = _read(db_url, select(Recommendation.id).where(Recommendation.external_id == CEDAW_14))
    return int(rec_id)  # type: ignore[call-overload]


def test_a_row_with_uhris_id_updates_that_recommendation(cli: Cli, db_url: str, tmp_path: Path) -> None:
    rec_id = _uhri(cli, db_url)
    before = _count(db_url)
    path = _csv(
        tmp_path / "t.csv",
        "id,text,mechanism,country,kind,document_symbol,paragraph,budget_implications,follow_up",
        f"{CEDAW_14},x,CEDAW,Uruguay,concern_observation,CEDAW/C/URY/CO/8-9,14,none,yes",
    )
    out, _ = cli("import", "template", path, "--no-progress")
    assert "1 created" not in out and "0 created" in out
    assert _count(db_url) == before
    assert _read(db_url, select(Recommendation.id).where(Recommendation.external_id == CEDAW_14)) == [(rec_id,)]
    # UHRI's text stays: the focal point's recommendation does not change its words.
    [(text,)] = _read(db_url, select(Recommendation.text).where(Recommendation.id == rec_id))
    assert str(text).startswith("National human rights institution 14.")
    assert _read(db_url, select(FollowUpSelection.recommendation_id)) == [(rec_id,)]
    assert _read(db_url, select(PriorityInput.recommendation_id, PriorityInput.budget_implications)) == [(rec_id, BudgetImplications.NONE)]
    sources = _read(db_url, select(RecommendationSource.source).where(RecommendationSource.recommendation_id == rec_id))
    assert sorted(s for (s,) in sources) == [ImportSource.TEMPLATE, ImportSource.UHRI]
    out, _ = cli("import", "template", path, "--no-progress")
    assert "1 unchanged" in out and _count(db_url) == before


def test_a_row_by_number_or_by_document_and_paragraph_is_that_recommendation(cli: Cli, db_url: str, tmp_path: Path) -> None:
    rec_id = _uhri(cli, db_url)
    before = _count(db_url)
    cli(
        "import",
        "template",
        _csv(
            tmp_path / "t.csv",
            "id,text,mechanism,country,document_symbol,paragraph,themes,cluster",
            f"#{rec_id},x,CEDAW,Uruguay,CEDAW/C/URY/CO/8-9,14,,Institutions",
            "MY-14,x,CEDAW,Uruguay,CEDAW/C/URY/CO/8-9,14 ,Independent oversight,",
        ),
        "--no-progress",
    )
    assert _count(db_url) == before
    assert "Independent oversight" in _tags(db_url, rec_id, TagKind.THEME)
    [(cluster,)] = _read(db_url, select(Cluster.name).join(Recommendation).where(Recommendation.id == rec_id))
    assert cluster == "Institutions"


def test_a_upr_row_is_uhris_by_state_session_and_text(cli: Cli, db_url: str, tmp_path: Path) -> None:
    _uhri(cli, db_url)
    before = _count(db_url)
    [(rec_id,)] = _read(db_url, select(Recommendation.id).where(Recommendation.country == "Fiji", Recommendation.text.like("%Ratify ICCPR%")))
    path = _csv(tmp_path / "t.csv", "id,text,mechanism,country,upr_session,themes", "FJ-1,Ratify ICCPR.,UPR,Fiji,20,Treaty ratification")
    cli("import", "template", path, "--no-progress")
    assert _count(db_url) == before
    assert "Treaty ratification" in _tags(db_url, int(rec_id), TagKind.THEME)  # type: ignore[call-overload]


def test_a_row_naming_what_it_cannot_be_is_refused(cli: Cli, db_url: str, tmp_path: Path) -> None:
    rec_id = _uhri(cli, db_url)
    before = _count(db_url)
    path = _csv(tmp_path / "t.csv", "id,text,mechanism,country", f"#{rec_id},x,CCPR,Uruguay", "#99999,y,CEDAW,Uruguay")
    _, err = cli("import", "template", path, "--no-progress", expect=1)
    assert f"names #{rec_id}, a CEDAW recommendation, but the mechanism column says CCPR" in err
    assert "no recommendation #99999 in the registry" in err
    assert _count(db_url) == before


FULL = "id,text,mechanism,country,kind,paragraph,document_symbol,upr_session,upr_position,recommending_states,themes,sdgs,affected_persons,cluster"


def test_a_short_sheet_keeps_the_columns_it_leaves_out(cli: Cli, db_url: str, tmp_path: Path) -> None:
    full = _csv(
        tmp_path / "full.csv",
        FULL,
        "R-1,Consider ratifying OPCAT,UPR,Uruguay,recommendation,119.4,A/HRC/43/15,35,supported,France;Chile,Torture,16.a,Persons deprived of liberty,Detention",
    )
    cli("import", "template", full, "--no-progress")
    columns = (
        Recommendation.kind,
        Recommendation.paragraph,
        Recommendation.document_id,
        Recommendation.review_id,
        Recommendation.upr_position,
        Recommendation.cluster_id,
        Recommendation.priority,
    )
    [(rec_id,)] = _read(db_url, select(Recommendation.id))
    stored = _read(db_url, select(*columns))
    tags = {kind: _tags(db_url, int(rec_id), kind) for kind in TagKind}  # type: ignore[call-overload]
    assert tags[TagKind.RECOMMENDING_STATE] == {"France", "Chile"} and tags[TagKind.SDG] == {"16.a"}
    short = _csv(tmp_path / "short.csv", "id,text,mechanism,country,budget_implications", "R-1,Consider ratifying OPCAT,UPR,Uruguay,none")
    out, _ = cli("import", "template", short, "--no-progress")
    assert "1 unchanged" in out
    assert _read(db_url, select(*columns)) == stored
    assert {kind: _tags(db_url, int(rec_id), kind) for kind in TagKind} == tags  # type: ignore[call-overload]
    assert _read(db_url, select(PriorityInput.budget_implications)) == [(BudgetImplications.NONE,)]
    # A column given, even in a short sheet, still changes what it holds.
    cli("import", "template", _csv(tmp_path / "themes.csv", "id,text,mechanism,country,themes", "R-1,Consider ratifying OPCAT,UPR,Uruguay,Detention"), "--no-progress")
    assert _tags(db_url, int(rec_id), TagKind.THEME) == {"Detention"}  # type: ignore[call-overload]
    assert _tags(db_url, int(rec_id), TagKind.SDG) == {"16.a"}  # type: ignore[call-overload]


def test_a_column_given_twice_is_refused_by_name(cli: Cli, db_url: str, tmp_path: Path) -> None:
    csv_path = _csv(tmp_path / "t.csv", "id,text,mechanism,country,follow_up,Follow_up", "C-1,x,CEDAW,Uruguay,yes,no")
    _, err = cli("import", "template", csv_path, "--no-progress", expect=1)
    assert "column 'follow_up': this column is given twice" in err
    header = ["id", "text", "mechanism", "country", "themes", "themes"]
    xlsx = write_workbook(tmp_path / "t.xlsx", {"recommendations": [header, ["C-1", "x", "CEDAW", "Uruguay", "a", "b"]]})
    _, err = cli("import", "template", str(xlsx), "--no-progress", expect=1)
    assert "column 'themes': this column is given twice" in err
    assert _count(db_url) == 0
