"""UPR Info database export: encodings, natural keys, all-or-nothing, the real sample."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import ImportSource, RecommendationKind, TagKind, UprPosition
from storage.importers.errors import ImportRejected, UnreadableFile
from storage.importers.readers import detect_encoding
from storage.importers.run import import_file
from storage.models import ImportRun, Recommendation, Review, Tag, recommendation_tags
from tests.conftest import FIXTURES, SHARED_DATA

SMALL = FIXTURES / "uprinfo_small.csv"
REAL = SHARED_DATA / "uprinfo_db_export_sample_NZL_SVN_URY_FJI.csv"


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[object, ...]]:
    """Everything an import writes about recommendations, to compare two states."""
    async with sessions() as session:
        recs = (
            await session.execute(
                select(
                    Recommendation.id, Recommendation.external_id, Recommendation.text, Recommendation.country,
                    Recommendation.kind, Recommendation.upr_position, Recommendation.review_id,
                    Recommendation.content_hash, Recommendation.updated_at,
                ).order_by(Recommendation.id)
            )
        ).all()
        links = (await session.execute(select(recommendation_tags).order_by("recommendation_id", "tag_id"))).all()
    return [tuple(r) for r in recs] + [tuple(link) for link in links]


def mac_roman_cr_copy(source: Path, target: Path) -> Path:
    """What a classic UPR Info export looks like on disk."""
    text = source.read_text(encoding="utf-8").replace("\r\n", "\n").replace("\n", "\r")
    target.write_bytes(text.encode("mac_roman"))
    return target


async def test_small_export_imports_every_field(sessions: async_sessionmaker[AsyncSession]) -> None:
    report = await import_file(sessions, ImportSource.UPRINFO, SMALL)
    assert (report.rows, report.total("created")) == (6, 6)
    async with sessions() as session:
        rec = await session.scalar(select(Recommendation).where(Recommendation.text.like("Ratify the ILO Convention%")))
        assert rec is not None
        tags = {(t.kind, t.value) for t in await session.scalars(
            select(Tag).join(recommendation_tags).where(recommendation_tags.c.recommendation_id == rec.id)
        )}
        review = await session.get(Review, rec.review_id)
    assert (rec.country, rec.kind, rec.upr_position) == ("Uruguay", RecommendationKind.RECOMMENDATION, UprPosition.NOTED)
    assert review is not None and (review.cycle, review.session, review.label) == (2, 18, "UPR cycle 2")
    assert tags == {
        (TagKind.THEME, "International instruments"),
        (TagKind.THEME, "Indigenous peoples"),
        (TagKind.RECOMMENDING_STATE, "Bolivia (Plurinational State of)"),
        (TagKind.REGION_CONCERNED, "GRULAC"),
        (TagKind.RECOMMENDING_REGION, "GRULAC"),
        (TagKind.RECOMMENDING_ORGANISATION, "OAS"),
        (TagKind.RECOMMENDING_ORGANISATION, "OEI"),
        (TagKind.UPRINFO_ACTION, "5"),
    }
    async with sessions() as session:
        pledge = await session.scalar(select(Recommendation).where(Recommendation.kind == RecommendationKind.VOLUNTARY_PLEDGE))
    assert pledge is not None and pledge.upr_position is None


async def test_reimport_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    await import_file(sessions, ImportSource.UPRINFO, SMALL)
    before = await snapshot(sessions)
    again = await import_file(sessions, ImportSource.UPRINFO, SMALL)
    assert (again.total("created"), again.total("updated"), again.total("unchanged")) == (0, 0, 6)
    assert await snapshot(sessions) == before
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ImportRun)) == 2


async def test_mac_roman_with_cr_line_endings_imports_the_same(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    legacy = mac_roman_cr_copy(SMALL, tmp_path / "legacy.csv")
    assert b"\n" not in legacy.read_bytes()
    assert detect_encoding(legacy) == "mac_roman"
    await import_file(sessions, ImportSource.UPRINFO, SMALL)
    report = await import_file(sessions, ImportSource.UPRINFO, legacy)
    # Same natural keys, same content: the legacy file is the same data.
    assert (report.total("created"), report.total("unchanged")) == (0, 6)
    async with sessions() as session:
        texts = (await session.scalars(select(Recommendation.text))).all()
    assert any("Institución Nacional" in t for t in texts)
    assert any("“rule of law”" in t for t in texts)


def test_encoding_detection(tmp_path: Path) -> None:
    (tmp_path / "bom.csv").write_bytes("\ufeffTo,Text\n".encode("utf-8"))
    (tmp_path / "win.csv").write_bytes("To,Text\r\nCôte d’Ivoire,x\r\n".encode("cp1252"))
    assert detect_encoding(tmp_path / "bom.csv") == "utf-8-sig"
    assert detect_encoding(tmp_path / "win.csv") == "cp1252"
    assert detect_encoding(SMALL) == "utf-8"


async def test_a_recommendation_repeated_in_the_file_is_kept_twice_and_stably(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    lines = SMALL.read_text(encoding="utf-8").splitlines()
    doubled = tmp_path / "doubled.csv"
    doubled.write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    first = await import_file(sessions, ImportSource.UPRINFO, doubled)
    second = await import_file(sessions, ImportSource.UPRINFO, doubled)
    assert first.total("created") == 7
    assert second.total("unchanged") == 7
    async with sessions() as session:
        keys = (await session.scalars(select(Recommendation.external_id))).all()
    assert sum(k.endswith("#2") for k in keys) == 1


async def test_a_nul_in_a_cell_is_kept_on_every_backend(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    """PostgreSQL cannot store NUL: the whole import once failed there."""
    lines = SMALL.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("domestic violence", "domestic\x00 violence")
    nul = tmp_path / "nul.csv"
    nul.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert (await import_file(sessions, ImportSource.UPRINFO, nul)).total("created") == 6
    assert (await import_file(sessions, ImportSource.UPRINFO, nul)).total("unchanged") == 6
    async with sessions() as session:
        texts = (await session.scalars(select(Recommendation.text).where(Recommendation.text.contains("domestic")))).all()
    assert texts == ["Continue its efforts to combat domestic\ufffd violence, in particular through the adoption of the draft comprehensive law on violence against women"]


async def test_a_bad_file_imports_nothing_and_lists_every_bad_row(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "To,To-Rgrp,To-Org,Text,From,From-Rgrp,From-Org,Response,Action,Issue,Session\n"
        'Uruguay,GRULAC,,"Good row",Spain,WEOG,,Accepted,4,Justice,18\n'
        'Uruguay,GRULAC,,"",Spain,WEOG,,Accepted,4,Justice,18\n'
        'Uruguay,GRULAC,,"Bad response",Spain,WEOG,,Maybe,4,Justice,eighteen\n'
        'Uruguay,GRULAC,,"Bad action",Spain,WEOG,,Noted,9,Justice,18\n'
        'Uruguay,GRULAC,,"Good again",Chile,GRULAC,,Noted,2,Justice,18\n'
        'Uruguay,GRULAC,,"Shifted, unquoted",Spain,WEOG,,Noted,2,Justice,18,extra\n',
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as caught:
        await import_file(sessions, ImportSource.UPRINFO, bad)
    problems = [(e.row, e.column) for e in caught.value.errors]
    assert problems == [(3, "Text"), (4, "Response"), (4, "Session"), (5, "Action"), (7, "")]
    assert str(caught.value).endswith("4 bad rows, nothing imported")
    assert "row 4, column 'Response': expected 'Accepted', 'Noted' or 'Voluntary Pledge', got 'Maybe'" in caught.value.details()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Recommendation)) == 0
        assert await session.scalar(select(func.count()).select_from(ImportRun)) == 0


async def test_missing_columns_are_named(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("To,Text,From\nUruguay,x,Spain\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        await import_file(sessions, ImportSource.UPRINFO, wrong)
    assert [(e.row, e.column) for e in caught.value.errors] == [(1, "Response"), (1, "Session")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("empty.csv", b"", "the file is empty"),
        ("notes.txt", b"hello", "expected a .csv or .xlsx file"),
        ("fake.xlsx", b"not a zip", "fake.xlsx is not a readable .xlsx file: File is not a zip file"),
    ],
)
async def test_unreadable_files(sessions: async_sessionmaker[AsyncSession], tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        await import_file(sessions, ImportSource.UPRINFO, path)


@pytest.mark.real_data
@pytest.mark.skipif(not REAL.exists(), reason="shared/data sample not present")
async def test_real_upr_info_sample(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    report = await import_file(sessions, ImportSource.UPRINFO, REAL)
    # 36 rows are 12 paragraphs split by recommending State (2 to 6 rows
    # each, the same words and response): one recommendation each.
    assert (report.rows, report.total("created"), report.total("folded")) == (1148, 1124, 24)
    async with sessions() as session:
        rows = (await session.execute(select(Recommendation.country, Recommendation.kind, Recommendation.upr_position))).all()
        cycles = (await session.execute(select(Review.country, Review.cycle, Review.session))).all()
    assert len(rows) == 1124
    assert set(c for c, _, _ in rows) == {"New Zealand", "Slovenia", "Uruguay", "Fiji"}
    responses = Counter(
        "Voluntary Pledge" if kind is RecommendationKind.VOLUNTARY_PLEDGE else {UprPosition.SUPPORTED: "Accepted", UprPosition.NOTED: "Noted"}[pos]
        for _, kind, pos in rows
    )
    # Rows: 946 Accepted, 141 Noted, 61 Voluntary Pledge.
    assert responses == {"Accepted": 930, "Noted": 133, "Voluntary Pledge": 61}
    assert {(s, c) for _, c, s in cycles} == {(5, 1), (7, 1), (18, 2), (20, 2)}
    # The original is Mac Roman with CR line endings: it must read the same.
    legacy = mac_roman_cr_copy(REAL, tmp_path / "original.csv")
    again = await import_file(sessions, ImportSource.UPRINFO, legacy)
    assert (again.total("created"), again.total("updated"), again.total("unchanged")) == (0, 0, 1148)


async def test_an_import_is_audited_with_its_actor_file_and_counts(sessions: async_sessionmaker[AsyncSession]) -> None:
    from storage.audit import acting_as
    from storage.models import AuditEntry

    with acting_as("cli:ana"):
        await import_file(sessions, ImportSource.UPRINFO, SMALL)
    async with sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert entry is not None and entry.actor == "cli:ana"
    assert entry.changes is not None and entry.changes["file"] == "uprinfo_small.csv"
    assert entry.changes["tables"] == {
        "recommendations": {"rows": 6, "created": 6, "updated": 0, "unchanged": 0, "merged": 0, "folded": 0, "moved": 0}
    }
