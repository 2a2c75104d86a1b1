"""The template's `indicators` sheet, on every backend: indicators imported
with the network and the actions they name, re-imported without a change, a
blank cell keeping what the registry holds, and a bad file refused whole
with an error per bad cell."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import ImportSource
from storage.importers.errors import ImportRejected
from storage.importers.run import ImportOptions, import_file
from storage.importers.template import sheet_for_headers
from storage.indicators import list_indicators
from storage.models import AuditEntry, Recommendation
from tests.factories import network_sheets, write_workbook

OPTIONS = ImportOptions(default_timezone="America/Montevideo", today=date(2026, 11, 22))
HEADER = [
    "code", "kind", "definition", "unit", "frequency", "institution", "first_due", "baseline_value", "baseline_date", "target_value",
    "target_date", "data_source", "disaggregation", "plausible_min", "plausible_max", "actions", "recommendations",
]
ACTIONS = [["code", "title", "responsible", "recommendations"], ["A-1", "Train 300 prison officers", "PRISONS", "R-1"]]
GOOD = [
    ["I-1", "process", "Prison officers trained on the Istanbul Protocol", "officers", "half_yearly", "PRISONS", "2027-07-15",
     0, "2026-06-30", 300, "2027-12-31", "Training register", "sex", 0, 1000, "A-1", "R-1"],
    ["i-2", "outcome", "Share of women among judges", "%", "yearly", "MOJ", "2027-01-15", "31.5", "2024-12-31", "45", "2030-12-31",
     None, None, None, 100, None, "R-2; C-1"],
]


def _sheets(*rows: list[Any]) -> dict[str, list[list[Any]]]:
    sheets = network_sheets()
    sheets["actions"] = ACTIONS
    sheets["indicators"] = [HEADER, *rows]
    return sheets


async def _by_code(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    async with sessions() as session:
        return {r.indicator.code: r for r in await list_indicators(session)}


async def test_indicators_come_with_the_network_and_actions_they_name_and_a_reimport_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
) -> None:
    path = write_workbook(tmp_path / "plan.xlsx", _sheets(*GOOD))
    report = await import_file(sessions, ImportSource.TEMPLATE, path, OPTIONS)
    assert vars(report.tables["indicators"]) == vars(report.tables["indicators"]) | {"rows": 2, "created": 2}
    found = await _by_code(sessions)
    async with sessions() as session:
        ids = {r.external_id: r.id for r in (await session.scalars(select(Recommendation)))}
    one, two = found["I-1"], found["I-2"]
    assert (one.institution, one.actions, one.recommendations) == ("PRISONS", ("A-1",), (ids["R-1"],))
    assert (one.indicator.baseline_value, one.indicator.plausible_max, one.indicator.disaggregation) == (Decimal(0), Decimal(1000), "sex")
    assert (two.indicator.baseline_value, two.indicator.target_value, two.indicator.plausible_min) == (Decimal("31.5"), Decimal(45), None)
    assert two.recommendations == tuple(sorted((ids["R-2"], ids["C-1"])))
    async with sessions() as session:
        audited = (await session.scalars(select(AuditEntry.entity_id).where(AuditEntry.entity == "indicators"))).all()
    assert len(audited) == 2

    again = await import_file(sessions, ImportSource.TEMPLATE, path, OPTIONS)
    assert (again.tables["indicators"].created, again.tables["indicators"].updated, again.tables["indicators"].unchanged) == (0, 0, 2)
    # Blank cells keep what is there; a value given changes it.
    changed = [["I-2", "outcome", "Share of women among judges", "%", "yearly", "MOJ", "2027-01-15", None, None, "50", "2030-12-31",
                None, None, None, None, None, None]]
    write_workbook(path, _sheets(*changed))
    third = await import_file(sessions, ImportSource.TEMPLATE, path, OPTIONS)
    assert third.tables["indicators"].updated == 1
    two = (await _by_code(sessions))["I-2"]
    assert (two.indicator.baseline_value, two.indicator.target_value, two.indicator.plausible_max, len(two.recommendations)) == (Decimal("31.5"), Decimal(50), Decimal(100), 2)


async def test_a_bad_sheet_is_refused_whole_with_each_bad_cell_named(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    bad = [
        ["I-1", "impact", "x", "%", "weekly", "MOJ", "soon", "1,5", None, None, None, None, None, None, None, None, None],
        ["I-2", "outcome", "Women judges", "%", "yearly", "MOJ", "2027-01-15", "31.5", None, None, None, None, None, 50, 10, "A-9", "R-404"],
        ["I-2", "outcome", "Women judges", "%", "yearly", "MOJ", "2027-01-15", None, None, None, None, None, None, None, None, None, None],
    ]
    path = write_workbook(tmp_path / "plan.xlsx", _sheets(GOOD[0], *bad))
    with pytest.raises(ImportRejected) as refused:
        await import_file(sessions, ImportSource.TEMPLATE, path, OPTIONS)
    errors = [(e.row, e.column) for e in refused.value.errors if e.sheet == "indicators"]
    assert (3, "kind") in errors and (3, "frequency") in errors and (3, "first_due") in errors and (3, "baseline_value") in errors
    assert (4, "baseline_date") in errors  # a baseline needs its date, checked before the range and links
    assert (5, "code") in errors
    assert await _by_code(sessions) == {}


def test_a_csv_of_indicators_is_recognised_by_its_columns() -> None:
    assert sheet_for_headers(HEADER) == "indicators"
    assert sheet_for_headers(HEADER[:7]) == "indicators"


async def test_every_check_and_name_a_row_fails_is_told_at_once(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    # Issue 16 review: a reversed range, a target before the baseline, an unknown institution, action or
    # recommendation came one a try, and none of them while a cell was unreadable.
    bad = [
        ["I-2", "outcome", "Women judges", "%", "weekly", "NOPE", "2027-01-15", "31.5", "2024-12-31", 45, "2020-12-31",
         None, None, 50, 10, "A-9", "R-404; #999"],
    ]
    with pytest.raises(ImportRejected) as refused:
        await import_file(sessions, ImportSource.TEMPLATE, write_workbook(tmp_path / "plan.xlsx", _sheets(*bad)), OPTIONS)
    told = {(e.column, e.reason) for e in refused.value.errors if e.sheet == "indicators"}
    assert {column for column, _ in told} == {"frequency", "institution", "target_date", "plausible_max", "actions", "recommendations"}
    assert ("target_date", "the target date 2020-12-31 is not after the baseline date 2024-12-31") in told
    assert ("plausible_max", "the plausible range's maximum 10 is below its minimum 50") in told
    assert ("institution", "no institution with code 'NOPE' (see: nmrf-bot institutions list)") in told
    assert ("actions", "no action with code 'A-9' (see: nmrf-bot actions list)") in told
    assert len([c for c, _ in told if c == "recommendations"]) == 2
