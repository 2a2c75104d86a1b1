"""Build import files the way their real producers write them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.importers.template import write_workbook as write_template_workbook
from storage.importers.uhri import COLUMNS as UHRI_COLUMNS
from storage.enums import Channel, ImplementationStatus
from storage.models import Institution
from storage.status import UpdateData, record_update

# Serial numbers as UHRI writes them (days since 1899-12-30; the second has a time part).
SERIAL_2020_03_06 = 43896
SERIAL_2026_04_12_NOON = 46124.4996282407


def uhri_row(**overrides: Any) -> dict[str, Any]:
    """One UHRI export row; every value carries UHRI's '- ' bullet."""
    row: dict[str, Any] = {
        "Text": "119.4 Consider ratifying the Optional Protocol to the Convention against Torture",
        "Countries Concerned": "- Uruguay",
        "Reccomending Body": "- UPR",
        "Document Symbol": "- A/HRC/43/15",
        "Themes": "- Torture and other cruel, inhuman or degrading treatment\n- Acceptance of international norms",
        "Affected Persons": "- Persons deprived of their liberty",
        "Sdgs": "- 16.3 - Promote the rule of law\n- 16.a - Strengthen relevant national institutions",
        "Document Publication Date": SERIAL_2020_03_06,
        "Date of publication on UHRI": SERIAL_2026_04_12_NOON,
        "UPR Reccomending States": "- Denmark\n- Chile",
        "UPR Position": "- Supported",
        "UPR Session": "- 35 Session",
        "Type": "- Recommendations",
        "OHCHR Annotation Id": "0b1e7a6e-1f0c-4c43-9a57-1d5c2f7e9a01",
        "Regions Concerned": "- Latin America and the Caribbean",
        "Recommending Regions": "- Western European and other States\n- Latin America and the Caribbean",
    }
    row.update(overrides)
    return row


def cedaw_row(**overrides: Any) -> dict[str, Any]:
    row = uhri_row(
        **{
            "Text": "Rural women 49. The Committee recommends that the State party ensure rural women's access to land",
            "Countries Concerned": "- Iraq",
            "Reccomending Body": "- CEDAW",
            "Document Symbol": "- CEDAW/C/IRQ/CO/8",
            "Themes": "- Equality & non-discrimination\n- Land & property rights",
            "Affected Persons": "- Persons living in rural areas\n- Women & girls",
            "Sdgs": "- 1.4 - Equal rights to economic resources",
            "UPR Reccomending States": "",
            "UPR Position": "",
            "UPR Session": "",
            "Type": "- Concerns/Observations",
            "OHCHR Annotation Id": "b4288060-6633-478d-9a9a-df1978d336c3",
            "Regions Concerned": "- Asia-Pacific",
            "Recommending Regions": "",
        }
    )
    row.update(overrides)
    return row


def write_uhri_xlsx(
    path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str] = UHRI_COLUMNS, title_row: str | None = None
) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Export"
    if title_row:
        sheet.append([title_row])
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row.get(c) for c in columns])
    workbook.save(path)
    return path


def write_workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """Sheets given as header row followed by data rows."""
    write_template_workbook(path, sheets)
    return path


def network_sheets() -> dict[str, list[list[Any]]]:
    """A small, valid network in the template's shape."""
    return {
        "institutions": [
            ["code", "name", "kind", "parent"],
            ["MOJ", "Ministry of Justice", "ministry", None],
            ["PRISONS", "National Prison Service", "agency", "MOJ"],
            ["MOW", "Ministry of Women and Social Development", "ministry", None],
        ],
        "focal_points": [
            ["email", "name", "institution", "role", "language", "timezone", "active_from", "active_to"],
            ["ana.perez@justicia.example", "Ana Pérez", "MOJ", "technical", "es", "America/Montevideo", "2025-01-15", None],
            ["jorge.silva@justicia.example", "Jorge Silva", "MOJ", "senior", "es", "America/Montevideo", None, None],
            ["claire.martin@femmes.example", "Claire Martin", "MOW", "technical", "fr", "Europe/Paris", None, None],
        ],
        "recommendations": [
            ["id", "text", "mechanism", "country", "paragraph", "document_symbol", "upr_session", "upr_position", "themes", "cluster", "priority"],
            ["R-1", "Consider ratifying the Optional Protocol to the Convention against Torture", "UPR", "Uruguay", "119.4", "A/HRC/43/15", 35, "supported", "Torture; Detention", "Detention and justice", "high"],
            ["R-2", "Adopt a comprehensive law on violence against women", "UPR", "Uruguay", "119.30", "A/HRC/43/15", 35, "supported", "Women's rights", "Gender equality", None],
            ["C-1", "The Committee recommends that the State party ensure rural women's access to land", "cedaw", "Uruguay", "49", "CEDAW/C/URY/CO/10", None, None, "Land & property rights", "Gender equality", "medium"],
        ],
        "assignments": [
            ["recommendation", "institution", "role"],
            ["R-1", "MOJ", "lead"],
            ["R-1", "PRISONS", "contributing"],
            ["R-2", "MOW", None],
            ["C-1", "MOW", "lead"],
        ],
    }


# When answered_before's answers were given: long before any test's clock.
EARLIER = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


async def answered_before(sessions: async_sessionmaker[AsyncSession], institution: str, *recommendations: int, status: ImplementationStatus = ImplementationStatus.IN_PROGRESS) -> None:
    """An earlier answer of ``institution`` on each recommendation (at
    EARLIER), so that "No change" has something to repeat (an institution
    that never answered is asked for its status instead)."""
    async with sessions() as session, session.begin():
        found = await session.scalar(select(Institution).where(Institution.code == institution))
        assert found is not None
        for rec in recommendations:
            await record_update(session, UpdateData(rec, status, "secretariat (earlier answer)", Channel.CLI, institution_id=found.id), at=EARLIER)
