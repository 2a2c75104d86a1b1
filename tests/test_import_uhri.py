"""UHRI "Export to Excel": its 16 columns, bullets, serial dates, misspellings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from storage.enums import ImportSource, MechanismKind, RecommendationKind, TagKind, UprPosition
from storage.importers.errors import ImportRejected
from storage.importers.run import import_file
from storage.importers.uhri import COLUMNS
from storage.models import Document, Mechanism, Recommendation, Tag
from tests.factories import cedaw_row, uhri_row, write_uhri_xlsx


async def load(sessions: async_sessionmaker[AsyncSession], external_id: str) -> Recommendation:
    async with sessions() as session:
        rec = await session.scalar(
            select(Recommendation)
            .where(Recommendation.external_id == external_id)
            .options(
                selectinload(Recommendation.tags),
                selectinload(Recommendation.mechanism),
                selectinload(Recommendation.document),
                selectinload(Recommendation.review),
            )
        )
        assert rec is not None
        return rec


def tags(rec: Recommendation, kind: TagKind) -> set[str]:
    return {t.value for t in rec.tags if t.kind == kind}


def test_the_sixteen_columns_as_uhri_spells_them() -> None:
    assert len(COLUMNS) == 16
    assert "Reccomending Body" in COLUMNS and "UPR Reccomending States" in COLUMNS


async def test_upr_row(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    path = write_uhri_xlsx(tmp_path / "export.xlsx", [uhri_row()])
    report = await import_file(sessions, ImportSource.UHRI, path)
    assert report.total("created") == 1
    rec = await load(sessions, "0b1e7a6e-1f0c-4c43-9a57-1d5c2f7e9a01")
    assert rec.source is ImportSource.UHRI
    assert (rec.country, rec.mechanism.code, rec.kind) == ("Uruguay", "UPR", RecommendationKind.RECOMMENDATION)
    assert rec.paragraph == "119.4"
    assert rec.upr_position is UprPosition.SUPPORTED
    assert rec.review is not None and (rec.review.session, rec.review.cycle) == (35, 3)
    assert rec.document is not None and (rec.document.symbol, rec.document.published_on) == ("A/HRC/43/15", date(2020, 3, 6))
    assert rec.published_on == date(2026, 4, 12)
    assert tags(rec, TagKind.RECOMMENDING_STATE) == {"Denmark", "Chile"}
    assert tags(rec, TagKind.SDG) == {"16.3 - Promote the rule of law", "16.a - Strengthen relevant national institutions"}
    assert tags(rec, TagKind.THEME) == {
        "Torture and other cruel, inhuman or degrading treatment", "Acceptance of international norms",
    }
    assert tags(rec, TagKind.AFFECTED_PERSONS) == {"Persons deprived of their liberty"}
    assert tags(rec, TagKind.RECOMMENDING_REGION) == {"Western European and other States", "Latin America and the Caribbean"}
    assert tags(rec, TagKind.COUNTRY_CONCERNED) == {"Uruguay"}


async def test_treaty_body_observation(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "e.xlsx", [cedaw_row()]))
    rec = await load(sessions, "b4288060-6633-478d-9a9a-df1978d336c3")
    assert (rec.mechanism.code, rec.mechanism.kind) == ("CEDAW", MechanismKind.TREATY_BODY)
    assert rec.kind is RecommendationKind.CONCERN_OBSERVATION
    assert (rec.upr_position, rec.review) == (None, None)
    assert rec.paragraph == "49"
    assert rec.document is not None and rec.document.symbol == "CEDAW/C/IRQ/CO/8"
    assert tags(rec, TagKind.AFFECTED_PERSONS) == {"Persons living in rural areas", "Women & girls"}


async def test_special_procedure_mandate_is_its_own_mechanism(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    row = cedaw_row(
        **{
            "Reccomending Body": "- SR Torture\n- Special Procedures",
            "Document Symbol": "- A/HRC/40/59/Add.1",
            "OHCHR Annotation Id": "5c6f1a50-0000-4000-8000-000000000001",
        }
    )
    await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "e.xlsx", [row]))
    rec = await load(sessions, "5c6f1a50-0000-4000-8000-000000000001")
    assert (rec.mechanism.code, rec.mechanism.kind) == ("SR Torture", MechanismKind.SPECIAL_PROCEDURE)


async def test_dates_as_date_cells_or_text_and_corrected_headers(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    columns = [c.replace("Reccomending", "Recommending") for c in COLUMNS]
    row = {k.replace("Reccomending", "Recommending"): v for k, v in uhri_row(**{"Document Publication Date": date(2020, 3, 6), "Date of publication on UHRI": "2026-04-12"}).items()}
    path = write_uhri_xlsx(tmp_path / "e.xlsx", [row], columns=columns, title_row="Universal Human Rights Index - search results")
    await import_file(sessions, ImportSource.UHRI, path)
    rec = await load(sessions, "0b1e7a6e-1f0c-4c43-9a57-1d5c2f7e9a01")
    assert rec.document is not None and rec.document.published_on == date(2020, 3, 6)
    assert rec.published_on == date(2026, 4, 12)
    assert tags(rec, TagKind.RECOMMENDING_STATE) == {"Denmark", "Chile"}


async def test_reimport_unchanged_then_a_changed_row_updates_in_place(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    first = write_uhri_xlsx(tmp_path / "a.xlsx", [uhri_row(), cedaw_row()])
    await import_file(sessions, ImportSource.UHRI, first)
    again = await import_file(sessions, ImportSource.UHRI, first)
    assert (again.total("created"), again.total("updated"), again.total("unchanged")) == (0, 0, 2)
    before = await load(sessions, "0b1e7a6e-1f0c-4c43-9a57-1d5c2f7e9a01")

    changed = write_uhri_xlsx(tmp_path / "b.xlsx", [uhri_row(**{"UPR Position": "- Noted", "Themes": "- Detention"}), cedaw_row()])
    report = await import_file(sessions, ImportSource.UHRI, changed)
    assert (report.total("created"), report.total("updated"), report.total("unchanged")) == (0, 1, 1)
    after = await load(sessions, "0b1e7a6e-1f0c-4c43-9a57-1d5c2f7e9a01")
    assert after.id == before.id
    assert after.upr_position is UprPosition.NOTED
    assert tags(after, TagKind.THEME) == {"Detention"}
    assert after.updated_at > before.updated_at
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Recommendation)) == 2
        assert await session.scalar(select(func.count()).select_from(Document)) == 2


async def test_every_bad_row_is_listed_and_nothing_is_written(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    rows = [
        uhri_row(),
        uhri_row(**{"OHCHR Annotation Id": "0b1e7a6e-1f0c-4c43-9a57-1d5c2f7e9a01"}),  # duplicate of row 2
        cedaw_row(**{"Type": "- Positive aspects", "Document Publication Date": "March 2020"}),
        cedaw_row(**{"OHCHR Annotation Id": "", "Countries Concerned": "", "OHCHR Annotation Id ": None}),
        cedaw_row(**{"OHCHR Annotation Id": "x-1", "UPR Session": "- Forty Session", "UPR Position": "- Maybe"}),
        cedaw_row(**{"OHCHR Annotation Id": "x-2", "Document Symbol": "- " + "A/" * 150}),
    ]
    with pytest.raises(ImportRejected) as caught:
        await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "bad.xlsx", rows))
    found = [(e.row, e.column) for e in caught.value.errors]
    assert found == [
        (3, "OHCHR Annotation Id"),
        (4, "Document Publication Date"),
        (4, "Type"),
        (5, "Countries Concerned"),
        (5, "OHCHR Annotation Id"),
        (6, "UPR Position"),
        (6, "UPR Session"),
        (7, "Document Symbol"),
    ]
    assert "is also on row 2" in caught.value.details()[0]
    assert all(e.sheet == "Export" for e in caught.value.errors)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Recommendation)) == 0
        assert await session.scalar(select(func.count()).select_from(Tag)) == 0
        assert await session.scalar(select(func.count()).select_from(Mechanism).where(Mechanism.code == "SR Torture")) == 0


async def test_wrong_file_type_is_explained(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    path = write_uhri_xlsx(tmp_path / "e.xlsx", [{"To": "Uruguay"}], columns=["To", "Text", "From", "Response", "Session"])
    with pytest.raises(ImportRejected) as caught:
        await import_file(sessions, ImportSource.UHRI, path)
    assert {e.column for e in caught.value.errors} == {"Countries Concerned", "Reccomending Body", "OHCHR Annotation Id", "Type"}
    assert "is this a UHRI export?" in caught.value.details()[0]
