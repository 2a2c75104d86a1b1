"""The demo network, built through the real template importer.

The network (ministries, focal points, people) is fictional. The five
recommendation texts are quoted as made to Uruguay in its second UPR cycle
(Working Group session 18, 2014; A/HRC/26/7; the recommending States are
named). They are in the Working Group's report, A/HRC/26/7 of 4 April
2014, section II.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.deadline_names import deadline_name
from storage.deadlines import DeadlineData, add_deadline, deadline_names
from storage.enums import DeadlineKind, ImportSource
from storage.importers.run import ImportOptions, ImportReport, import_file
from storage.importers.template import write_workbook
from storage.selection import Selector

TIMEZONE = "America/Montevideo"

SHEETS: dict[str, list[list[object]]] = {
    "institutions": [
        ["code", "name", "kind", "parent"],
        ["MRREE", "Ministry of Foreign Affairs (NMRF secretariat)", "ministry", None],
        ["MEC", "Ministry of Education and Culture", "ministry", None],
        ["MIDES", "Ministry of Social Development", "ministry", None],
        ["INMUJERES", "National Institute for Women", "agency", "MIDES"],
        ["MI", "Ministry of the Interior", "ministry", None],
        ["INR", "National Rehabilitation Institute (prisons)", "agency", "MI"],
    ],
    "focal_points": [
        ["email", "name", "institution", "role", "language", "timezone"],
        ["lucia.fernandez@mides.example", "Lucía Fernández", "MIDES", "technical", "es", TIMEZONE],
        ["pablo.rodriguez@mides.example", "Pablo Rodríguez", "MIDES", "senior", "es", TIMEZONE],
        ["sofia.acosta@inmujeres.example", "Sofía Acosta", "INMUJERES", "technical", "es", TIMEZONE],
        ["martin.silva@mi.example", "Martín Silva", "MI", "technical", "es", TIMEZONE],
        ["ana.pereira@mi.example", "Ana Pereira", "MI", "alternate", "en", TIMEZONE],
        ["jean.dupont@mec.example", "Jean Dupont", "MEC", "technical", "fr", "Europe/Paris"],
    ],
    "recommendations": [
        ["id", "text", "mechanism", "country", "upr_session", "upr_position", "recommending_states", "themes", "cluster", "priority", "document_symbol", "document_date"],
        ["URY-2-001", "Strengthen its efforts to address domestic violence through appropriate public awareness campaigns and by ensuring that women are made aware of their rights", "UPR", "Uruguay", 18, "supported", "Canada", "Women's rights; Human rights education and training", "Gender-based violence", "high", "A/HRC/26/7", "2014-04-04"],
        ["URY-2-002", "Continue efforts to improve detention conditions, particularly through the fight against prison overcrowding", "UPR", "Uruguay", 18, "supported", "France", "Detention", "Detention and justice", "high", "A/HRC/26/7", "2014-04-04"],
        ["URY-2-003", "Continue making progress in the efforts needed to have a National Human Rights Institution in conformity with the Paris Principles", "UPR", "Uruguay", 18, "supported", "Venezuela (Bolivarian Republic of)", "NHRI", None, "medium", "A/HRC/26/7", "2014-04-04"],
        ["URY-2-004", "Expedite process for preparation and adoption of national action plan in areas of health and education for equal access to children of African descent", "UPR", "Uruguay", 18, "supported", "Pakistan", "Right to education; Right to health; Rights of the Child", None, "medium", "A/HRC/26/7", "2014-04-04"],
        ["URY-2-005", "Continue paying particular attention to the conditions of vulnerable groups, such as persons with disabilities and indigenous peoples, in particular Afro-descendants", "UPR", "Uruguay", 18, "supported", "Somalia", "Disabilities; Indigenous peoples; Minorities", None, None, "A/HRC/26/7", "2014-04-04"],
    ],
    "assignments": [
        ["recommendation", "institution", "role"],
        ["URY-2-001", "INMUJERES", "lead"],
        ["URY-2-001", "MI", "contributing"],
        ["URY-2-002", "MI", "lead"],
        ["URY-2-002", "INR", "contributing"],
        ["URY-2-003", "MRREE", "lead"],
        ["URY-2-004", "MEC", "lead"],
        ["URY-2-004", "MIDES", "contributing"],
        ["URY-2-005", "MIDES", "lead"],
    ],
}


async def load_demo(sessions: async_sessionmaker[AsyncSession], today: date, input_days: int = 60) -> tuple[ImportReport, list[str]]:
    """Import the demo network and add the deadlines a secretariat would set:
    the UPR mid-term report, and the ministries' inputs ``input_days`` ahead."""
    with tempfile.TemporaryDirectory() as folder:
        workbook = Path(folder) / "demo-network.xlsx"
        write_workbook(workbook, SHEETS)
        report = await import_file(
            sessions, ImportSource.TEMPLATE, workbook, ImportOptions(default_timezone=TIMEZONE, today=today)
        )
    midterm_due = today + timedelta(days=120)
    every_recommendation = Selector(external_ids=tuple(str(row[0]) for row in SHEETS["recommendations"][1:]))
    async with sessions() as session, session.begin():
        midterm = await add_deadline(
            session, DeadlineData(DeadlineKind.UPR_MIDTERM, midterm_due, mechanism_code="UPR", country="Uruguay"), every_recommendation
        )
        # No title: each reader gets "Inputs for the UPR mid-term report (Uruguay)" in their language.
        inputs = await add_deadline(
            session, DeadlineData(DeadlineKind.INTERNAL_INPUT, today + timedelta(days=input_days), parent_id=midterm.id), every_recommendation
        )
        names = await deadline_names(session, [midterm.id, inputs.id])
    return report, [f"{deadline_name(names[d.id], 'en')}: due {d.due_on}" for d in (midterm, inputs)]
