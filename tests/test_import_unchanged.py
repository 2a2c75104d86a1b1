"""A UHRI re-import knows its unchanged rows by their cells' digest, without
parsing them (storage.importers.unchanged), and changes nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import ImportSource
from storage.importers import uhri
from storage.importers.errors import ImportRejected
from storage.importers.run import import_file
from storage.importers.unchanged import row_digest
from storage.models import Recommendation, RecommendationSource
from tests.factories import cedaw_row, uhri_row, write_uhri_xlsx

IDS = ("0b1e7a6e-1f0c-4c43-9a57-1d5c2f7e9a01", "b4288060-6633-478d-9a9a-df1978d336c3", "c0ffee00-0000-4000-8000-000000000003")


def rows(**changes: Any) -> list[dict[str, Any]]:
    third = cedaw_row(**{"OHCHR Annotation Id": f"- {IDS[2]}", "Text": "50. Adopt a national action plan on women, peace and security"})
    return [uhri_row(), cedaw_row(**changes), third]


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The annotation ids of the rows parse_row was given, in order."""
    seen: list[str] = []
    real = uhri.parse_row

    def counting(row: Any) -> Any:
        seen.append(uhri.annotation_id_of(row.values))
        return real(row)

    monkeypatch.setattr(uhri, "parse_row", counting)
    return seen


async def digests(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str | None]:
    async with sessions() as session:
        found = await session.execute(select(RecommendationSource.external_id, RecommendationSource.row_digest))
        return dict(found.all())


def counts(report: Any) -> tuple[int, int, int]:
    return report.total("created"), report.total("updated"), report.total("unchanged")


async def test_a_reimport_parses_no_unchanged_row(sessions: async_sessionmaker[AsyncSession], tmp_path: Path, parsed: list[str]) -> None:
    path = write_uhri_xlsx(tmp_path / "a.xlsx", rows())
    assert counts(await import_file(sessions, ImportSource.UHRI, path)) == (3, 0, 0)
    assert parsed == list(IDS)
    stored = await digests(sessions)
    assert set(stored) == set(IDS) and all(d is not None and len(d) == 32 for d in stored.values())

    parsed.clear()
    assert counts(await import_file(sessions, ImportSource.UHRI, path)) == (0, 0, 3)
    assert parsed == []

    edited = write_uhri_xlsx(tmp_path / "b.xlsx", rows(**{"Themes": "- Women's rights"}))
    assert counts(await import_file(sessions, ImportSource.UHRI, edited)) == (0, 1, 2)
    assert parsed == [IDS[1]]
    after = await digests(sessions)
    assert after[IDS[1]] != stored[IDS[1]] and after[IDS[0]] == stored[IDS[0]]

    parsed.clear()
    assert counts(await import_file(sessions, ImportSource.UHRI, edited)) == (0, 0, 3)
    assert parsed == []
    # Back to the first file: the edited row is read, and changes back.
    assert counts(await import_file(sessions, ImportSource.UHRI, path)) == (0, 1, 2)
    assert parsed == [IDS[1]]


async def test_rows_imported_before_their_digest_was_kept_are_parsed_once(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, parsed: list[str]
) -> None:
    path = write_uhri_xlsx(tmp_path / "a.xlsx", rows())
    await import_file(sessions, ImportSource.UHRI, path)
    async with sessions() as session, session.begin():
        # As migration 0031 leaves every row imported before it.
        await session.execute(update(RecommendationSource).values(row_digest=None))
    parsed.clear()
    assert counts(await import_file(sessions, ImportSource.UHRI, path)) == (0, 0, 3)
    assert parsed == list(IDS)
    assert all(d is not None for d in (await digests(sessions)).values())
    parsed.clear()
    assert counts(await import_file(sessions, ImportSource.UHRI, path)) == (0, 0, 3)
    assert parsed == []


async def test_a_new_read_version_reads_every_row_again(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, parsed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_uhri_xlsx(tmp_path / "a.xlsx", rows())
    await import_file(sessions, ImportSource.UHRI, path)
    before = await digests(sessions)
    monkeypatch.setattr(uhri, "READ_VERSION", uhri.READ_VERSION + "-next")
    parsed.clear()
    assert counts(await import_file(sessions, ImportSource.UHRI, path)) == (0, 0, 3)
    assert parsed == list(IDS)
    after = await digests(sessions)
    assert all(after[i] != before[i] for i in IDS)


async def test_an_unchanged_row_given_twice_is_still_refused(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, parsed: list[str]
) -> None:
    await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "a.xlsx", rows()))
    twice = write_uhri_xlsx(tmp_path / "b.xlsx", [*rows(), uhri_row()])
    with pytest.raises(ImportRejected) as refused:
        await import_file(sessions, ImportSource.UHRI, twice)
    [error] = refused.value.errors
    assert (error.row, error.column) == (5, "OHCHR Annotation Id")
    assert f"{IDS[0]!r} is also on row 2" in error.reason
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Recommendation)) == 3


async def test_an_unchanged_row_after_a_bad_one_keeps_the_file_refused(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "a.xlsx", rows()))
    bad = [uhri_row(**{"Type": "- Pledge"}), *rows()[1:]]
    with pytest.raises(ImportRejected) as refused:
        await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "b.xlsx", bad))
    assert [(e.row, e.column) for e in refused.value.errors] == [(2, "Type")]


def test_the_digest_reads_each_cell_with_its_type_and_only_the_parsers_columns() -> None:
    columns = ("Text", "Type")
    base = row_digest({"Text": "49. Adopt", "Type": "- Recommendations"}, columns, "1")
    assert row_digest({"Text": "49. Adopt", "Type": "- Recommendations", "Other": 1}, columns, "1") == base
    assert row_digest({"Type": "- Recommendations", "Text": "49. Adopt"}, columns, "1") == base
    assert row_digest({"Text": "49. Adopt ", "Type": "- Recommendations"}, columns, "1") != base
    assert row_digest({"Text": "49. Adopt", "Type": "- Recommendations"}, columns, "2") != base
    assert row_digest({"Text": 1.0}, ("Text",), "1") != row_digest({"Text": "1.0"}, ("Text",), "1")
    assert row_digest({"Text": None}, ("Text",), "1") != row_digest({"Text": ""}, ("Text",), "1")
    # Cells that cross a separator do not make another row's digest.
    assert row_digest({"Text": "a\x1f'b'", "Type": None}, columns, "1") != row_digest({"Text": "a", "Type": "b"}, columns, "1")
