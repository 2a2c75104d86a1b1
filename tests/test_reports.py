"""Compiled outputs, opened with the libraries a reader would use."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.reports.matrix import sheet_name
from storage.enums import Channel, EvidenceKind, ImplementationStatus as S, ImportSource
from storage.importers.run import import_file
from storage.status import EvidenceData, UpdateData, record_update
from tests.chat_harness import TRICKY
from tests.factories import cedaw_row, write_uhri_xlsx

EARLY = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
LATE = datetime(2026, 9, 1, 12, tzinfo=timezone.utc)


@pytest.fixture
async def registry(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], tmp_path: Path) -> dict[str, int]:
    """The world's six UPR recommendations, plus a CEDAW one; two updates on one, at two dates."""
    await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "cedaw.xlsx", [cedaw_row()]))
    rec = world["mine"]
    async with sessions() as session, session.begin():
        await record_update(session, UpdateData(rec, S.IN_PROGRESS, "Ana Pérez", Channel.TELEGRAM, narrative="Bill drafted."), at=EARLY)
        await record_update(
            session,
            UpdateData(
                rec, S.FULLY_IMPLEMENTED, "Ana Pérez", Channel.TELEGRAM, narrative=TRICKY, next_step="-1 more decree",
                evidence=[EvidenceData(EvidenceKind.LINK, url="https://www.impo.com.uy/bases/leyes/19580-2017"), EvidenceData(EvidenceKind.FILE, file_name="informe.pdf")],
            ),
            at=LATE,
        )
    return world


async def run(*args: str) -> None:
    """The real command line, in a thread: it runs an event loop of its own."""

    def call() -> None:
        try:
            main(list(args))
        except SystemExit as exc:
            assert not exc.code, exc.code

    await asyncio.to_thread(call)


def test_sheet_names_follow_excels_rules() -> None:
    taken: set[str] = set()
    assert sheet_name("SR on the rights of persons: [special] / torture?", taken) == "SR on the rights of persons   s"
    assert sheet_name("UPR", taken) == "UPR"
    assert sheet_name("upr", taken) == "upr (2)"


async def test_the_matrix(registry: dict[str, int], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "matrix.xlsx"
    await run("report", "matrix", "--out", str(out))
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Summary", "CEDAW", "UPR"]
    upr = book["UPR"]
    assert upr.freeze_panes == "A2" and upr.auto_filter.ref == "A1:Q7"
    header = [c.value for c in upr[1]]
    assert header[:3] == ["ID", "Cluster", "Mechanism"] and "Latest narrative" in header and "Evidence" in header
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in upr.iter_rows(min_row=2, values_only=True)}
    first = rows[registry["mine"]]
    assert (first["Status"], first["Lead institution"], first["By"]) == ("fully_implemented", "MOJ", "Ana Pérez")
    assert first["Evidence"] == "https://www.impo.com.uy/bases/leyes/19580-2017; informe.pdf"
    assert first["Last update (UTC)"] == LATE.replace(tzinfo=None)
    assert rows[registry["not_mine"]]["Status"] == "not_started" and rows[registry["not_mine"]]["Lead institution"] == "MOW"
    # What Ana typed is there as she typed it, and it is text, not a formula.
    narrative = upr.cell(row=2 + list(rows).index(registry["mine"]), column=header.index("Latest narrative") + 1)
    assert narrative.value == TRICKY and narrative.data_type == "s"
    next_step = upr.cell(row=narrative.row, column=header.index("Next step") + 1)
    assert next_step.value == "-1 more decree" and next_step.data_type == "s" and next_step.quotePrefix
    summary = [list(r) for r in book["Summary"].iter_rows(values_only=True)]
    assert summary[3][0] == "Mechanism" and summary[-1][0] == "All"
    # Six not started, one fully implemented; one in seven updated.
    assert summary[-1][1:] == [6, 0, 0, 1, 0, 7, round(1 / 7, 3)]


async def test_as_of_a_date_reads_the_history_as_it_stood(registry: dict[str, int], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    for day, expected in (("2026-02-28", (None, "not_started")), ("2026-03-01", ("Bill drafted.", "in_progress")), ("2026-09-01", (TRICKY, "fully_implemented"))):
        out = tmp_path / f"{day}.json"
        await run("report", "export", "--format", "json", "--out", str(out), "--as-of", day, "--mechanism", "UPR")
        rows = {r["id"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
        assert (rows[registry["mine"]]["narrative"], rows[registry["mine"]]["status"]) == expected, day
        assert len(rows) == 6


async def test_csv_export_neutralises_formulas(registry: dict[str, int], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "all.csv"
    await run("report", "export", "--format", "csv", "--out", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 7
    mine = next(r for r in rows if r["id"] == str(registry["mine"]))
    assert mine["narrative"] == TRICKY  # starts with '<': harmless, left as typed
    assert mine["next_step"] == "'-1 more decree"
    assert mine["last_update_at"].startswith("2026-09-01T12:00:00")
