"""One UPR recommendation from UHRI and from UPR Info is one recommendation
with both identifiers and both sources' tags, whichever file comes first."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.enums import ImportSource, TagKind, UprPosition
from storage.importers.errors import ImportRejected
from storage.importers.run import ImportReport, import_file
from storage.importers.uprinfo import COLUMNS as UPRINFO_COLUMNS
from storage.importers.uprinfo import natural_key
from storage.migrate import downgrade, upgrade
from storage.models import Document, Recommendation, RecommendationSource, Tag, recommendation_tags
from storage.recommendation_match import match_key, normalise_state, normalise_text
from storage.selection import Selector, select_ids
from tests.conftest import FIXTURES, SHARED_DATA
from tests.factories import uhri_row, write_uhri_xlsx, write_workbook

SMALL = FIXTURES / "uprinfo_small.csv"
VIOLENCE = (
    "Continue its efforts to combat domestic violence, in particular through the adoption of the draft "
    "comprehensive law on violence against women"
)
ILO = "Ratify the ILO Convention No. 169 concerning Indigenous and Tribal Peoples in Independent Countries"
BOLIVIA = "Bolivia (Plurinational State of)"
VIOLENCE_ID = "5d0c1f0e-0000-4000-8000-000000000001"
ILO_ID = "5d0c1f0e-0000-4000-8000-000000000002"


def uruguay_row(annotation_id: str, text_: str, states: list[str], **overrides: Any) -> dict[str, Any]:
    """A UHRI row of Uruguay's second-cycle review (session 18), as UHRI writes UPR paragraphs."""
    return uhri_row(
        **{
            "Text": text_,
            "OHCHR Annotation Id": annotation_id,
            "Countries Concerned": "- Uruguay",
            "Document Symbol": "- A/HRC/26/7",
            "UPR Session": "- 18 Session",
            "UPR Reccomending States": "\n".join(f"- {s}" for s in states),
            "Themes": "- Domestic violence",
            "Sdgs": "- 5.2 - Eliminate violence against women and girls",
            **overrides,
        }
    )


def uhri_file(tmp_path: Path, name: str = "uhri.xlsx") -> Path:
    """The two Uruguay recommendations of uprinfo_small.csv as UHRI has them:
    paragraph number first, the State after, case and punctuation of its own,
    UHRI's 'Source of position' after; UHRI says the ILO one was supported,
    UPR Info that it was noted."""
    return write_uhri_xlsx(
        tmp_path / name,
        [
            uruguay_row(VIOLENCE_ID, f"121.12 {VIOLENCE} (Spain);", ["Spain"]),
            uruguay_row(
                ILO_ID,
                "121.40 Ratify the ILO convention no 169 concerning indigenous and tribal peoples "
                f"in independent countries ({BOLIVIA});\nSource of position: A/HRC/26/7/Add.1",
                [BOLIVIA],
                **{"UPR Position": "- Supported", "Themes": "- Indigenous peoples", "Sdgs": ""},
            ),
        ],
    )


def write_uprinfo(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(UPRINFO_COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow({"Response": "Accepted", "Session": "18", "To": "Uruguay", **row})
    return path


async def import_both(sessions: async_sessionmaker[AsyncSession], tmp_path: Path, uhri_first: bool) -> list[ImportReport]:
    files = [(ImportSource.UHRI, uhri_file(tmp_path)), (ImportSource.UPRINFO, SMALL)]
    if not uhri_first:
        files.reverse()
    return [await import_file(sessions, source, path) for source, path in files]


async def sources_by_recommendation(sessions: async_sessionmaker[AsyncSession]) -> dict[int, set[tuple[str, str]]]:
    async with sessions() as session:
        rows = await session.execute(select(RecommendationSource.recommendation_id, RecommendationSource.source, RecommendationSource.external_id))
    found: dict[int, set[tuple[str, str]]] = {}
    for rec_id, source, external_id in rows:
        found.setdefault(rec_id, set()).add((source.value, external_id))
    return found


async def recommendation_of(sessions: async_sessionmaker[AsyncSession], source: ImportSource, external_id: str) -> int:
    async with sessions() as session:
        rec_id = await session.scalar(
            select(RecommendationSource.recommendation_id).where(
                RecommendationSource.source == source, RecommendationSource.external_id == external_id
            )
        )
    assert rec_id is not None, external_id
    return rec_id


async def tags_of(sessions: async_sessionmaker[AsyncSession], rec_id: int) -> set[tuple[TagKind, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Tag.kind, Tag.value).join(recommendation_tags).where(recommendation_tags.c.recommendation_id == rec_id)
        )
    return {(kind, value) for kind, value in rows}


async def count(sessions: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        recs = (await session.execute(select(Recommendation.__table__).order_by(Recommendation.id))).all()
        links = (await session.execute(select(recommendation_tags).order_by("recommendation_id", "tag_id"))).all()
        sources = (await session.execute(select(RecommendationSource.__table__).order_by(RecommendationSource.id))).all()
    return [tuple(r) for r in recs + links + sources]


VIOLENCE_KEY = natural_key("Uruguay", 18, "Spain", VIOLENCE)
ILO_KEY = natural_key("Uruguay", 18, BOLIVIA, ILO)


def test_normalisation_rules() -> None:
    assert normalise_text(f"121.40 {ILO.upper()} ({BOLIVIA});\nSource of position: A/HRC/26/7/Add.1") == normalise_text(ILO + ".")
    assert normalise_text("Ensure the “rule of law” – now (Chile) (Peru).") == normalise_text('ensure the "Rule of Law" - now')
    assert normalise_text("Fortalecer la Institución") == normalise_text("fortalecer la institucion")
    # Words still count: a different word is a different text.
    assert normalise_text("Ratify the ICRMW") != normalise_text("Consider ratifying the ICRMW")
    assert normalise_state("Iran (Islamic Republic of)") == normalise_state("Iran")
    assert normalise_state("Korea (Republic of)") != normalise_state("Korea (Democratic People's Republic of)")
    assert normalise_state("Bosnia & Herzegovina") == normalise_state("Bosnia and Herzegovina")
    assert match_key(ImportSource.UHRI, "CEDAW", "Uruguay", None, ILO) is None
    assert match_key(ImportSource.TEMPLATE, "UPR", "Uruguay", 18, ILO) is None
    assert match_key(ImportSource.UHRI, "UPR", "Uruguay", 18, "(Chile)") is None
    assert match_key(ImportSource.UHRI, "UPR", "Uruguay", 18, ILO) == match_key(ImportSource.UPRINFO, "UPR", "Uruguay", 18, ILO.lower())
    assert match_key(ImportSource.UHRI, "UPR", "Uruguay", 18, ILO) != match_key(ImportSource.UPRINFO, "UPR", "Uruguay", 19, ILO)
    assert match_key(ImportSource.UHRI, "UPR", "Uruguay", 18, ILO) != match_key(ImportSource.UPRINFO, "UPR", "Paraguay", 18, ILO)


@pytest.mark.parametrize("uhri_first", [True, False], ids=["uhri_first", "uprinfo_first"])
async def test_both_sources_make_one_recommendation_with_both_ids_and_tags(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, uhri_first: bool
) -> None:
    first, second = await import_both(sessions, tmp_path, uhri_first)
    assert first.total("merged") == 0
    assert second.total("merged") == 2
    assert second.total("created") == (4 if uhri_first else 0)
    # 6 UPR Info rows and 2 UHRI rows, two of them the same recommendations.
    assert await count(sessions, Recommendation) == 6
    violence = await recommendation_of(sessions, ImportSource.UHRI, VIOLENCE_ID)
    ilo = await recommendation_of(sessions, ImportSource.UHRI, ILO_ID)
    assert violence != ilo
    sources = await sources_by_recommendation(sessions)
    assert sources[violence] == {("uhri", VIOLENCE_ID), ("uprinfo", VIOLENCE_KEY)}
    assert sources[ilo] == {("uhri", ILO_ID), ("uprinfo", ILO_KEY)}
    assert sum(len(s) for s in sources.values()) == 8
    assert await tags_of(sessions, violence) >= {
        (TagKind.THEME, "Domestic violence"),  # UHRI's
        (TagKind.THEME, "Women's rights"),  # UPR Info's issues
        (TagKind.THEME, "Justice"),
        (TagKind.SDG, "5.2 - Eliminate violence against women and girls"),
        (TagKind.UPRINFO_ACTION, "4"),
        (TagKind.RECOMMENDING_STATE, "Spain"),
        (TagKind.COUNTRY_CONCERNED, "Uruguay"),
    }
    async with sessions() as session:
        rec = await session.get(Recommendation, ilo)
        assert rec is not None
        document = await session.get(Document, rec.document_id) if rec.document_id else None
        own_source = rec.source
    # UHRI's paragraph and symbol, UPR Info's response, in either order.
    assert (rec.paragraph, document and document.symbol) == ("121.40", "A/HRC/26/7")
    assert rec.upr_position is UprPosition.NOTED
    # The text is its first source's: never rewritten under a focal point.
    assert own_source is (ImportSource.UHRI if uhri_first else ImportSource.UPRINFO)
    assert rec.text.startswith("121.40 Ratify the ILO convention") if uhri_first else rec.text == ILO


@pytest.mark.parametrize("uhri_first", [True, False], ids=["uhri_first", "uprinfo_first"])
async def test_reimporting_either_file_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, uhri_first: bool
) -> None:
    await import_both(sessions, tmp_path, uhri_first)
    before = await snapshot(sessions)
    again = await import_both(sessions, tmp_path, uhri_first)
    assert [(r.total("unchanged"), r.total("created"), r.total("merged"), r.total("updated")) for r in again] == (
        [(2, 0, 0, 0), (6, 0, 0, 0)] if uhri_first else [(6, 0, 0, 0), (2, 0, 0, 0)]
    )
    assert await snapshot(sessions) == before


async def test_a_changed_second_source_row_updates_only_what_it_owns(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """UHRI first; UPR Info then answers differently and adds an issue: the
    response and the tag change, UHRI's text stays, nothing is duplicated."""
    await import_both(sessions, tmp_path, uhri_first=True)
    changed = write_uprinfo(tmp_path / "changed.csv", [
        {"Text": VIOLENCE, "From": "Spain", "Response": "Noted", "Action": "4", "Issue": "Women's rights,Justice,Detention"},
    ])
    report = await import_file(sessions, ImportSource.UPRINFO, changed)
    assert (report.total("updated"), report.total("created"), report.total("merged")) == (1, 0, 0)
    violence = await recommendation_of(sessions, ImportSource.UHRI, VIOLENCE_ID)
    async with sessions() as session:
        rec = await session.get(Recommendation, violence)
    assert rec is not None and rec.upr_position is UprPosition.NOTED
    assert rec.text == f"121.12 {VIOLENCE} (Spain);"
    assert (TagKind.THEME, "Detention") in await tags_of(sessions, violence)
    assert (TagKind.SDG, "5.2 - Eliminate violence against women and girls") in await tags_of(sessions, violence)
    assert await count(sessions, Recommendation) == 6


async def test_another_session_or_state_is_another_recommendation(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_file(sessions, ImportSource.UPRINFO, SMALL)
    path = write_uhri_xlsx(tmp_path / "others.xlsx", [
        uruguay_row("a-19", f"{VIOLENCE} (Spain)", ["Spain"], **{"UPR Session": "- 19 Session"}),
        uruguay_row("a-py", f"{VIOLENCE} (Spain)", ["Spain"], **{"Countries Concerned": "- Paraguay"}),
        # Same words, same review, but another State made it: another paragraph.
        uruguay_row("a-fr", f"{VIOLENCE} (France)", ["France"]),
    ])
    report = await import_file(sessions, ImportSource.UHRI, path)
    assert (report.total("created"), report.total("merged")) == (3, 0)
    assert await count(sessions, Recommendation) == 9


async def test_two_states_rows_of_the_same_words_are_one_until_uhri_gives_two_paragraphs(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """UPR Info: one row per recommending State. Two States' rows of the same
    words are one recommendation, as one paragraph naming both would be;
    when UHRI gives each State a paragraph of its own, each paragraph takes
    the row of its State, as it would have had UHRI come first."""
    words = "Ratify the International Convention for the Protection of All Persons from Enforced Disappearance"
    path = write_uprinfo(tmp_path / "twice.csv", [{"Text": words, "From": "Argentina"}, {"Text": words, "From": "France"}])
    report = await import_file(sessions, ImportSource.UPRINFO, path)
    assert (report.total("created"), report.total("folded")) == (1, 1)
    france_row = natural_key("Uruguay", 18, "France", words)
    argentina_row = natural_key("Uruguay", 18, "Argentina", words)
    assert await recommendation_of(sessions, ImportSource.UPRINFO, france_row) == await recommendation_of(
        sessions, ImportSource.UPRINFO, argentina_row
    )
    twice = write_uhri_xlsx(tmp_path / "twice.xlsx", [
        uruguay_row("p-fr", f"120.3 {words} (France);", ["France"]),
        uruguay_row("p-ar", f"120.2 {words} (Argentina);", ["Argentina"]),
    ])
    report = await import_file(sessions, ImportSource.UHRI, twice)
    assert (report.total("created"), report.total("merged"), report.total("moved")) == (0, 2, 1)
    france = await recommendation_of(sessions, ImportSource.UHRI, "p-fr")
    argentina = await recommendation_of(sessions, ImportSource.UHRI, "p-ar")
    assert france == await recommendation_of(sessions, ImportSource.UPRINFO, france_row)
    assert argentina == await recommendation_of(sessions, ImportSource.UPRINFO, argentina_row)
    assert {v for k, v in await tags_of(sessions, france) if k is TagKind.RECOMMENDING_STATE} == {"France"}
    assert {v for k, v in await tags_of(sessions, argentina) if k is TagKind.RECOMMENDING_STATE} == {"Argentina"}
    async with sessions() as session:
        # Each recommendation is known by one of its own rows.
        owns = {
            rec_id: (src, ext)
            for rec_id, src, ext in await session.execute(
                select(Recommendation.id, Recommendation.source, Recommendation.external_id)
            )
        }
    assert owns[france] == (ImportSource.UPRINFO, france_row)
    assert owns[argentina] == (ImportSource.UPRINFO, argentina_row)
    assert await count(sessions, Recommendation) == 2
    # And within UHRI itself, the same words in two paragraphs are two.
    same = write_uhri_xlsx(tmp_path / "same.xlsx", [
        uruguay_row("q-1", "Abolish the death penalty (Chile)", ["Chile"]),
        uruguay_row("q-2", "Abolish the death penalty (Chile)", ["Chile"]),
    ])
    assert (await import_file(sessions, ImportSource.UHRI, same)).total("created") == 2


async def test_one_uhri_paragraph_of_several_states_is_their_uprinfo_rows(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """A cycle-1 report groups States on one paragraph; UPR Info splits it
    into a row each. Imported after UHRI, every row joins the paragraph."""
    words = "Establish a national human rights institution in accordance with the Paris Principles."
    grouped = write_uhri_xlsx(tmp_path / "grouped.xlsx", [
        uruguay_row("g-1", f"{words} (Azerbaijan, France, Nigeria)", ["Azerbaijan", "France", "Nigeria"]),
    ])
    await import_file(sessions, ImportSource.UHRI, grouped)
    split = write_uprinfo(tmp_path / "split.csv", [{"Text": words, "From": s} for s in ("Azerbaijan", "France", "Nigeria")])
    report = await import_file(sessions, ImportSource.UPRINFO, split)
    assert (report.total("created"), report.total("merged")) == (0, 3)
    rec_id = await recommendation_of(sessions, ImportSource.UHRI, "g-1")
    assert len((await sources_by_recommendation(sessions))[rec_id]) == 4
    assert await count(sessions, Recommendation) == 1


async def test_a_paragraph_after_uprinfo_takes_the_rows_of_the_states_it_names(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """The other order: UPR Info's three rows are one recommendation; UHRI's
    paragraph names two of the States, so it takes their rows and the third
    State's row is a recommendation of its own, with its own tags, as it
    would have been had UHRI come first."""
    words = "Establish a national human rights institution in accordance with the Paris Principles."
    split = write_uprinfo(tmp_path / "split.csv", [
        {"Text": words, "From": state, "From-Rgrp": region}
        for state, region in (("Azerbaijan", "EEG"), ("France", "WEOG"), ("Nigeria", "Africa"))
    ])
    assert (await import_file(sessions, ImportSource.UPRINFO, split)).total("created") == 1
    grouped = write_uhri_xlsx(tmp_path / "grouped.xlsx", [
        uruguay_row("g-1", f"{words} (France, Nigeria)", ["France", "Nigeria"]),
    ])
    report = await import_file(sessions, ImportSource.UHRI, grouped)
    assert (report.total("created"), report.total("merged"), report.total("moved")) == (0, 1, 1)
    paragraph = await recommendation_of(sessions, ImportSource.UHRI, "g-1")
    azerbaijan_row = natural_key("Uruguay", 18, "Azerbaijan", words)
    azerbaijan = await recommendation_of(sessions, ImportSource.UPRINFO, azerbaijan_row)
    sources = await sources_by_recommendation(sessions)
    assert sources[paragraph] == {
        ("uhri", "g-1"),
        ("uprinfo", natural_key("Uruguay", 18, "France", words)),
        ("uprinfo", natural_key("Uruguay", 18, "Nigeria", words)),
    }
    assert sources[azerbaijan] == {("uprinfo", azerbaijan_row)}
    paragraph_tags, azerbaijan_tags = await tags_of(sessions, paragraph), await tags_of(sessions, azerbaijan)
    assert (TagKind.RECOMMENDING_STATE, "Azerbaijan") not in paragraph_tags
    assert (TagKind.RECOMMENDING_REGION, "EEG") not in paragraph_tags
    assert {(TagKind.RECOMMENDING_STATE, "Azerbaijan"), (TagKind.RECOMMENDING_REGION, "EEG")} <= azerbaijan_tags
    assert (TagKind.RECOMMENDING_STATE, "France") not in azerbaijan_tags
    assert await count(sessions, Recommendation) == 2
    # Nothing moves again.
    before = await snapshot(sessions)
    assert (await import_file(sessions, ImportSource.UHRI, grouped)).total("unchanged") == 1
    assert (await import_file(sessions, ImportSource.UPRINFO, split)).total("unchanged") == 3
    assert await snapshot(sessions) == before


async def test_a_bad_later_row_leaves_nothing_merged(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    await import_file(sessions, ImportSource.UPRINFO, SMALL)
    before = await snapshot(sessions)
    path = write_uhri_xlsx(tmp_path / "bad.xlsx", [
        uruguay_row(VIOLENCE_ID, f"121.12 {VIOLENCE} (Spain);", ["Spain"]),
        uruguay_row("broken", "", ["Chile"]),
    ])
    with pytest.raises(ImportRejected) as rejected:
        await import_file(sessions, ImportSource.UHRI, path)
    assert [(e.row, e.column) for e in rejected.value.errors] == [(3, "Text")]
    assert await snapshot(sessions) == before


async def test_a_second_sources_id_finds_the_recommendation(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """--external-id selectors and the template's assignments take either id."""
    await import_both(sessions, tmp_path, uhri_first=True)
    ilo = await recommendation_of(sessions, ImportSource.UHRI, ILO_ID)
    async with sessions() as session:
        assert await select_ids(session, Selector(external_ids=(ILO_KEY,))) == [ilo]
        assert await select_ids(session, Selector(external_ids=(ILO_ID, ILO_KEY))) == [ilo]
    path = write_workbook(tmp_path / "assign.xlsx", {
        "institutions": [["code", "name", "kind"], ["MOJ", "Ministry of Justice", "ministry"]],
        "assignments": [["recommendation", "institution"], [ILO_KEY, "MOJ"], [VIOLENCE_ID, "MOJ"]],
    })
    report = await import_file(sessions, ImportSource.TEMPLATE, path)
    assert report.tables["assignments"].created == 2
    async with sessions() as session:
        assigned = set((await session.scalars(text("SELECT recommendation_id FROM assignments"))).all())
    assert assigned == {ilo, await recommendation_of(sessions, ImportSource.UHRI, VIOLENCE_ID)}


async def test_0022_backfills_sources_and_keys_and_downgrades_in_place(engine: AsyncEngine, backend: str, tmp_path: Path) -> None:
    await downgrade(engine, "0021")
    async with engine.begin() as conn:
        columns_before = await conn.run_sync(lambda c: [col["name"] for col in inspect(c).get_columns("recommendations")])
        await conn.execute(text(
            "INSERT INTO reviews (id, mechanism_id, country, label, cycle, session) "
            "VALUES (1, (SELECT id FROM mechanisms WHERE code = 'UPR'), 'Uruguay', 'UPR cycle 2', 2, 18)"
        ))
        for id_, source, external_id, code, review, text_ in (
            (1, "uhri", VIOLENCE_ID, "UPR", 1, f"121.12 {VIOLENCE} (Spain);"),
            (2, "uprinfo", ILO_KEY, "UPR", 1, ILO),
            (3, "uhri", "cedaw-1", "CEDAW", None, "49. The Committee recommends"),
            (4, "template", "R1", "UPR", 1, VIOLENCE),
        ):
            await conn.execute(
                text(
                    "INSERT INTO recommendations (id, source, external_id, text, country, kind, mechanism_id, review_id, "
                    "content_hash, created_at, updated_at) VALUES (:id, :source, :ext, :text, 'Uruguay', 'recommendation', "
                    "(SELECT id FROM mechanisms WHERE code = :code), :review, :hash, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": id_, "source": source, "ext": external_id, "code": code, "review": review, "text": text_, "hash": f"h{id_}"},
            )
        if backend == "postgresql":
            # Ids given by hand: the sequences follow them.
            await conn.execute(text("SELECT setval('recommendations_id_seq', 4), setval('reviews_id_seq', 1)"))
        triggers = await _triggers(conn, backend)
    await upgrade(engine)
    async with engine.connect() as conn:
        sources = [tuple(r) for r in await conn.execute(text(
            "SELECT recommendation_id, source, external_id, content_hash FROM recommendation_sources ORDER BY recommendation_id"
        ))]
        keys = dict((await conn.execute(text("SELECT id, match_key FROM recommendations"))).all())
        # 0022 keeps every trigger there was (later revisions add their own).
        assert triggers <= await _triggers(conn, backend)
    assert sources == [(1, "uhri", VIOLENCE_ID, "h1"), (2, "uprinfo", ILO_KEY, "h2"), (3, "uhri", "cedaw-1", "h3"), (4, "template", "R1", "h4")]
    assert keys == {
        1: match_key(ImportSource.UHRI, "UPR", "Uruguay", 18, VIOLENCE),
        2: match_key(ImportSource.UPRINFO, "UPR", "Uruguay", 18, ILO),
        3: None,
        4: None,
    }
    # The backfilled keys are the importer's: UPR Info's row joins UHRI's recommendation.
    from storage.database import session_factory

    report = await import_file(session_factory(engine), ImportSource.UPRINFO, SMALL)
    assert report.total("merged") == 1
    await downgrade(engine, "0021")
    async with engine.connect() as conn:
        assert await conn.run_sync(lambda c: [col["name"] for col in inspect(c).get_columns("recommendations")]) == columns_before
        assert "recommendation_sources" not in await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert await _triggers(conn, backend) == triggers
        assert (await conn.execute(text("SELECT count(*) FROM recommendations"))).scalar() == 4 + 4  # UPR Info: one known (id 2), one merged (into id 1)
    await upgrade(engine)


async def _triggers(conn: Any, backend: str) -> set[str]:
    if backend == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    return set((await conn.execute(text(query))).scalars().all())


def test_the_cli_summary_counts_rows_known_from_another_source(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli_harness import Cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    cli = Cli(capsys)
    out, _ = cli("import", "uprinfo", str(SMALL), "--no-progress")
    assert out == "uprinfo_small.csv: recommendations: 6 rows: 6 created, 0 updated, 0 unchanged\n"
    out, _ = cli("import", "uhri", str(uhri_file(tmp_path)), "--no-progress")
    assert out == "uhri.xlsx: recommendations: 2 rows: 0 created, 0 updated, 0 unchanged, 2 already known from another source\n"
    out, _ = cli("import", "uhri", str(uhri_file(tmp_path)), "--no-progress")
    assert out == "uhri.xlsx: recommendations: 2 rows: 0 created, 0 updated, 2 unchanged\n"



REAL = SHARED_DATA / "uprinfo_db_export_sample_NZL_SVN_URY_FJI.csv"


def uhri_from_upr_info(path: Path) -> tuple[Path, int, int]:
    """The real UPR Info sample as UHRI would give it: one paragraph per
    recommendation of a review, naming every State UPR Info has a row for,
    with a paragraph number and the States after the text. Pledges are left
    out (UHRI has none). Returns the file, its rows and the pledges."""
    with REAL.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    pledges = 0
    for row in rows:
        if row["Response"] == "Voluntary Pledge":
            pledges += 1
            continue
        groups.setdefault((row["To"], row["Session"], normalise_text(row["Text"])), []).append(row)
    uhri_rows = []
    for n, ((to, session, _), members) in enumerate(groups.items(), start=1):
        states = list(dict.fromkeys(m["From"] for m in members))
        uhri_rows.append(uhri_row(**{
            "Text": f"{100 + n // 200}.{n % 200 + 1} {members[0]['Text']} ({', '.join(states)});",
            "OHCHR Annotation Id": f"real-{n}",
            "Countries Concerned": f"- {to}",
            "UPR Session": f"- {session} Session",
            "UPR Reccomending States": "\n".join(f"- {s}" for s in states),
        }))
    return write_uhri_xlsx(path, uhri_rows), len(uhri_rows), pledges


@pytest.mark.real_data
@pytest.mark.skipif(not REAL.exists(), reason="shared/data sample not present")
@pytest.mark.parametrize("uhri_first", [True, False], ids=["uhri_first", "uprinfo_first"])
async def test_the_real_upr_info_sample_and_its_uhri_paragraphs(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, uhri_first: bool
) -> None:
    path, paragraphs, pledges = uhri_from_upr_info(tmp_path / "real.xlsx")
    assert paragraphs < 1148 - pledges  # some paragraphs gather several States' rows
    files = [(ImportSource.UHRI, path), (ImportSource.UPRINFO, REAL)]
    if not uhri_first:
        files.reverse()
    first, second = [await import_file(sessions, source, p) for source, p in files]
    if uhri_first:
        # Every UPR Info row but the pledges is a paragraph's.
        assert (second.total("created"), second.total("merged")) == (pledges, 1148 - pledges)
    else:
        # UPR Info's rows of one paragraph were one recommendation already: each paragraph joins it.
        assert (first.total("created"), first.total("folded")) == (paragraphs + pledges, 1148 - paragraphs - pledges)
        assert (second.total("created"), second.total("merged"), second.total("moved")) == (0, paragraphs, 0)
    # Either way: a recommendation per paragraph and per pledge, with every row's id.
    assert await count(sessions, Recommendation) == paragraphs + pledges
    assert await count(sessions, RecommendationSource) == 1148 + paragraphs


async def test_a_recommendation_made_without_the_import_is_found_and_given_its_source_row(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """Benchmarks and tests write recommendations directly, with no
    recommendation_sources row: a re-import still finds them by their own
    (source, external_id), updates them and records the source."""
    path = uhri_file(tmp_path)
    await import_file(sessions, ImportSource.UHRI, path)
    async with sessions() as session, session.begin():
        await session.execute(text("DELETE FROM recommendation_sources"))
    report = await import_file(sessions, ImportSource.UHRI, path)
    assert (report.total("created"), report.total("unchanged")) == (0, 2)
    assert {s for found in (await sources_by_recommendation(sessions)).values() for s in found} == {
        ("uhri", VIOLENCE_ID), ("uhri", ILO_ID),
    }
    changed = write_uhri_xlsx(tmp_path / "changed.xlsx", [uruguay_row(VIOLENCE_ID, f"121.12 {VIOLENCE} (Spain).", ["Spain"])])
    async with sessions() as session, session.begin():
        await session.execute(text("DELETE FROM recommendation_sources"))
    report = await import_file(sessions, ImportSource.UHRI, changed)
    assert (report.total("created"), report.total("updated")) == (0, 1)
    assert await count(sessions, RecommendationSource) == 1
    assert await count(sessions, Recommendation) == 2
