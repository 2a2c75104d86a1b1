"""Compiled outputs, opened with the libraries a reader would use."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import errno
import io
import json
import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.reports.matrix import sheet_name
from storage.enums import Channel, EvidenceKind, ImplementationStatus as S, ImportSource
from storage.importers.run import import_file
from storage.models import FocalPoint
from storage.status import EvidenceData, UpdateData, record_update
from tests.chat_harness import TRICKY
from tests.disk_harness import fill, run_cli, tiny_tmpfs
from tests.factories import cedaw_row, write_uhri_xlsx
from tests.fakes import FakeClock

EARLY = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
LATE = datetime(2026, 9, 1, 12, tzinfo=timezone.utc)


@pytest.fixture
async def registry(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], tmp_path: Path) -> dict[str, int]:
    """The world's six UPR recommendations, plus a CEDAW one; two updates on one, at two dates."""
    await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "cedaw.xlsx", [cedaw_row()]))
    rec = world["mine"]
    async with sessions() as session, session.begin():
        moj = (await session.get(FocalPoint, world["ana"])).institution_id  # type: ignore[union-attr]
        await record_update(session, UpdateData(rec, S.IN_PROGRESS, "Ana Pérez", Channel.TELEGRAM, institution_id=moj, narrative="Bill drafted."), at=EARLY)
        await record_update(
            session,
            UpdateData(
                rec, S.FULLY_IMPLEMENTED, "Ana Pérez", Channel.TELEGRAM, institution_id=moj, narrative=TRICKY, next_step="-1 more decree",
                evidence=[EvidenceData(EvidenceKind.LINK, url="https://www.impo.com.uy/bases/leyes/19580-2017"), EvidenceData(EvidenceKind.FILE, file_name="informe.pdf")],
            ),
            at=LATE,
        )
    return world


async def run(*args: str) -> None:
    """The real command line, in a thread: it runs an event loop of its own,
    on a clock the test holds (Monday 23 November 2026, 13:00 UTC)."""

    def call() -> None:
        try:
            main(list(args), clock=FakeClock())
        except SystemExit as exc:
            assert not exc.code, exc.code

    await asyncio.to_thread(call)


def matrix_row(path: Path, recommendation_id: int, sheet: str = "UPR") -> dict[str, object]:
    """One recommendation's row of a matrix, by header."""
    rows = openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True)
    header = next(rows)
    return next(dict(zip(header, r, strict=True)) for r in rows if r[0] == recommendation_id)  # type: ignore[arg-type]


def summary_total(summary: list[list[object]], word: str) -> list[object]:
    """The summary sheet's line for all mechanisms (the SDG goal table follows it)."""
    (line,) = [row for row in summary if row and row[0] == word]
    return line


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
    header = [c.value for c in upr[1]]
    # Filters on every column, the SDG goal columns at the end included.
    assert upr.freeze_panes == "A2" and upr.auto_filter.ref == f"A1:{get_column_letter(len(header))}7" and len(header) > 19
    assert header[:3] == ["ID", "Cluster", "Mechanism"] and "Latest narrative" in header and "Evidence" in header
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in upr.iter_rows(min_row=2, values_only=True)}
    first = rows[registry["mine"]]
    assert (first["Status"], first["Lead institution"], first["By"]) == ("Fully implemented", "MOJ", "Ana Pérez")
    assert first["Evidence"] == "https://www.impo.com.uy/bases/leyes/19580-2017; informe.pdf"
    assert first["Last update (UTC)"] == LATE.replace(tzinfo=None)
    assert rows[registry["not_mine"]]["Status"] == "Not started" and rows[registry["not_mine"]]["Lead institution"] == "MOW"
    # Given but not yet looked at by the ministry's validator; nothing given, nothing to validate.
    assert (first["Validated"], rows[registry["not_mine"]]["Validated"]) == ("Pending", None)
    # What Ana typed is there as she typed it, and it is text, not a formula.
    narrative = upr.cell(row=2 + list(rows).index(registry["mine"]), column=header.index("Latest narrative") + 1)
    assert narrative.value == TRICKY and narrative.data_type == "s"
    next_step = upr.cell(row=narrative.row, column=header.index("Next step") + 1)
    assert next_step.value == "-1 more decree" and next_step.data_type == "s" and next_step.quotePrefix
    summary = [list(r) for r in book["Summary"].iter_rows(values_only=True)]
    everything = summary_total(summary, "All")
    assert summary[3][0] == "Mechanism" and summary[3 + 3][0] == "All"
    # Six not started, one fully implemented; one in seven updated.
    assert everything[1:] == [6, 0, 0, 1, 0, 7, round(1 / 7, 3)]


async def test_the_matrix_in_the_secretariats_language_and_time_zone(registry: dict[str, int], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text('[schedule]\ntimezone = "America/Montevideo"\n', encoding="utf-8")
    out = tmp_path / "matrice.xlsx"
    await run("report", "matrix", "--out", str(out), "--language", "fr", "--as-of", "2026-09-01")
    book = openpyxl.load_workbook(out)
    assert [c.value for c in book["UPR"][1]][:3] == ["ID", "Groupe thématique", "Mécanisme"]
    row = matrix_row(out, registry["mine"])
    # 12:00 UTC is 09:00 in Montevideo, and the header says which clock.
    assert row["Dernière mise à jour (America/Montevideo)"] == datetime(2026, 9, 1, 9)
    assert (row["Statut"], row["Validation"]) == ("Pleinement mise en œuvre", "En attente")
    # The summary sheet is named in the reader's language too.
    assert book.sheetnames[0] == "Synthèse"
    summary = [list(r) for r in book["Synthèse"].iter_rows(values_only=True)]
    assert summary[0][0] == "Matrice de mise en œuvre"
    # The end of 1 September where the secretariat is.
    assert summary[1][:2] == ["Historique au", "2026-09-01 23:59 America/Montevideo"]
    assert summary[3][:2] == ["Mécanisme", "Non commencée"] and summary_total(summary, "Ensemble")


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
    # It starts with '<', but "&amp; =HYPERLINK(" splits at the semicolon in a French Excel.
    assert mine["narrative"] == TRICKY.replace("&amp; =", "&amp; '=")
    assert mine["next_step"] == "'-1 more decree"
    assert mine["last_update_at"].startswith("2026-09-01T12:00:00")


async def test_the_draft_report(registry: dict[str, int], sessions: async_sessionmaker[AsyncSession], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import docx

    from storage.clusters import add_cluster, put_in_cluster
    from storage.selection import Selector

    async with sessions() as session, session.begin():
        await add_cluster(session, "Gender-based violence")
        await put_in_cluster(session, "Gender-based violence", Selector(ids=(registry["mine"], registry["not_mine"])))
        # A second institution's input on the same recommendation, given before the as-of date.
        from storage.models import Institution
        from sqlalchemy import select

        mow = await session.scalar(select(Institution.id).where(Institution.code == "MOW"))
        await record_update(session, UpdateData(registry["mine"], S.IN_PROGRESS, "Rosa Díaz", Channel.SLACK, institution_id=mow, narrative="Shelters opened in 3 departments."), at=EARLY)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "draft.docx"
    await run("report", "draft", "--mechanism", "UPR", "--cycle", "2", "--out", str(out), "--language", "fr")
    doc = docx.Document(str(out))
    paragraphs = [(p.style.name, p.text) for p in doc.paragraphs]
    headings = [text for style, text in paragraphs if style.startswith("Heading") or style == "Title"]
    assert headings[0] == "Projet : UPR, cycle 2"
    assert headings[1] == "Gender-based violence" and headings[-2] == "Recommandations encore sans contribution"
    # Then the annex of evidence files: the one given here by name only.
    assert headings[-1] == "Annexe : fichiers fournis comme preuves"
    assert paragraphs[-1][0] == "List Bullet" and "informe.pdf" in paragraphs[-1][1] and "seul son nom a été enregistré" in paragraphs[-1][1]
    texts = [text for _, text in paragraphs]
    # The Ministry of Justice's latest input (September) and the Ministry of Women's, each with its source.
    assert "Ministry of Justice : pleinement mise en œuvre" in texts and "Ministry of Women : en cours" in texts
    assert TRICKY in texts and "Shelters opened in 3 departments." in texts
    assert any(t.startswith("Source : Rosa Díaz, Slack, 1 mars 2026") for t in texts)
    # Neither ministry has validated yet: both inputs say so.
    assert sum(t.endswith("Pas encore validée par l'institution.") for t in texts) == 2
    missing = [text for style, text in paragraphs[:-1] if style == "List Bullet"]
    # The fixture's cycle 2 holds five recommendations; four have no input.
    assert len(missing) == 4 and all(t.endswith("aucune contribution") for t in missing)
    # As of February, nobody had answered: every recommendation is listed as missing.
    await run("report", "draft", "--mechanism", "UPR", "--out", str(out), "--as-of", "2026-02-28")
    doc = docx.Document(str(out))
    assert len([p for p in doc.paragraphs if p.style.name == "List Bullet"]) == 6


async def test_progress_overdue_and_missing_summaries(registry: dict[str, int], sessions: async_sessionmaker[AsyncSession], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage.deadlines import DeadlineData, add_deadline
    from storage.enums import DeadlineKind
    from storage.selection import Selector

    async with sessions() as session, session.begin():
        # The ministry's three recommendations, due 30 June. Its reminders began
        # 60 days before (1 May): Ana's September update answers one, her
        # March update had come too early to count.
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 6, 30), "Inputs"), Selector(ids=tuple(registry["mine_all"])))
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)

    async def summary(*args: str) -> list[dict[str, object]]:
        def call() -> str:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                try:
                    main(["report", "summary", *args, "--format", "json"], clock=FakeClock())
                except SystemExit as exc:
                    assert not exc.code
            return buffer.getvalue()

        return json.loads(await asyncio.to_thread(call))

    progress = {r["group"]: r for r in await summary("progress")}
    assert (progress["MOJ"]["fully_implemented"], progress["MOJ"]["not_started"], progress["MOJ"]["response_rate"]) == (1, 2, 0.333)
    assert (progress["MOW"]["total"], progress["MOW"]["missing"]) == (3, 3)
    assert {r["group"]: r["overdue"] for r in await summary("overdue")} == {"MOJ": 2}
    assert {r["group"]: r["missing"] for r in await summary("missing")} == {"MOJ": 2, "MOW": 3, "—": 1}
    # As it stood in May, before the deadline: nothing overdue.
    assert await summary("overdue", "--as-of", "2026-05-31") == []
    by_cluster = await summary("progress", "--by", "cluster")
    assert [r["group"] for r in by_cluster] == ["—"] and by_cluster[0]["total"] == 7


async def test_validated_input_is_final_in_the_draft_and_the_matrix(registry: dict[str, int], sessions: async_sessionmaker[AsyncSession], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import docx

    from storage.enums import FocalPointRole, ValidationDecision
    from storage.models import StatusUpdate
    from storage.network import FocalPointData, add_focal_point
    from storage.validations import validate
    from sqlalchemy import func, select

    async with sessions() as session, session.begin():
        bruno = await add_focal_point(session, FocalPointData("Bruno Silva", "MOJ", FocalPointRole.SENIOR, "en", "UTC", date(2025, 1, 1), "bruno@j.example"))
        latest = await session.scalar(select(func.max(StatusUpdate.id)))
        await validate(session, latest, ValidationDecision.APPROVED, bruno, LATE + timedelta(days=1))  # type: ignore[arg-type]
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "draft.docx"
    await run("report", "draft", "--mechanism", "UPR", "--out", str(out))
    texts = [p.text for p in docx.Document(str(out)).paragraphs]
    assert not any("not yet validated" in t.lower() for t in texts)
    # As of the day before the validation, the same input was not yet final.
    await run("report", "draft", "--mechanism", "UPR", "--out", str(out), "--as-of", "2026-09-01")
    texts = [p.text for p in docx.Document(str(out)).paragraphs]
    assert any(t.endswith("Not yet validated by the institution.") for t in texts)
    matrix = tmp_path / "m.xlsx"
    await run("report", "matrix", "--out", str(matrix))
    assert matrix_row(matrix, registry["mine"])["Validated"] == "Approved"


async def test_control_characters_and_huge_texts_do_not_stop_a_report(registry: dict[str, int], sessions: async_sessionmaker[AsyncSession], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A form feed pasted from a PDF, or 40,000 characters, once made the
    matrix and the draft fail for everyone (XML 1.0 cannot hold them)."""
    import docx

    pasted = "Ley N° 19.580\x0cart. 4\x00\x1b done"
    async with sessions() as session, session.begin():
        moj = (await session.get(FocalPoint, registry["ana"])).institution_id  # type: ignore[union-attr]
        await record_update(session, UpdateData(registry["mine"], S.IN_PROGRESS, "Ana\x07 Pérez", Channel.TELEGRAM, institution_id=moj, narrative=pasted, next_step="x" * 40_000), at=LATE + timedelta(days=1))
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    matrix = tmp_path / "m.xlsx"
    await run("report", "matrix", "--out", str(matrix))
    row = matrix_row(matrix, registry["mine"])
    # NUL, which PostgreSQL cannot store, was kept as U+FFFD on both backends.
    assert (row["Latest narrative"], row["By"]) == ("Ley N° 19.580 art. 4\ufffd  done", "Ana  Pérez")
    next_step = str(row["Next step"])
    assert len(next_step) == 32_767 and next_step.endswith(" […]")
    draft = tmp_path / "d.docx"
    await run("report", "draft", "--mechanism", "UPR", "--out", str(draft))
    texts = [p.text for p in docx.Document(str(draft)).paragraphs]
    assert "Ley N° 19.580 art. 4\ufffd  done" in texts and any("Ana  Pérez" in t for t in texts)
    # The history keeps what was given.
    out = tmp_path / "all.json"
    await run("report", "export", "--format", "json", "--out", str(out))
    assert next(r for r in json.loads(out.read_text(encoding="utf-8")) if r["id"] == registry["mine"])["narrative"] == pasted.replace("\x00", "\ufffd")


async def test_a_matrix_that_fails_midway_leaves_nothing_behind(tmp_path: Path) -> None:
    from bot.reports.matrix import write_matrix

    async def rows_then_failure() -> Any:
        yield {"id": 1, "mechanism": "UPR", "status": "in_progress", "text": "One"}
        raise ConnectionError("database went away")

    out = tmp_path / "matrix.xlsx"
    out.write_bytes(b"the previous matrix")
    with pytest.raises(ConnectionError):
        await write_matrix(rows_then_failure(), out, None, LATE)
    assert out.read_bytes() == b"the previous matrix"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["matrix.xlsx"]
    # And a whole one replaces it.
    async def rows() -> Any:
        yield {"id": 1, "mechanism": "UPR", "status": "in_progress", "text": "One"}

    assert await write_matrix(rows(), out, None, LATE) == 1
    assert openpyxl.load_workbook(out)["UPR"]["H2"].value == "One"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["matrix.xlsx"]


# What a spreadsheet would run if it opened the CSV: Excel splits on the comma, or,
# in a French or Spanish locale, on the semicolon; on tab or bar when asked.
FORMULAS = ["x;=1+1", "a,=1", " =1", "\t=1", "@SUM(A1)", "-2+3", "=1+2\";=1+2", "ok|+cmd", "a\n=1", "x; \"=1\""]
HARMLESS = ["Plain text, as typed.", "Ley N° 19.580 (2017)", "a-b", "e-mail: ana@justicia.example", ""]


def runnable_cells(csv_text: str) -> list[str]:
    """Every cell that would be read as a formula, under every separator a
    spreadsheet may split on, quotes honoured only where they open a cell."""
    found = []
    for separator in (",", ";", "\t", "|"):
        for row in csv.reader(io.StringIO(csv_text, newline=""), delimiter=separator):
            for cell in row:
                start = cell.lstrip(" ")
                if start[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(start):
                    found.append(f"{separator!r}: {cell!r}")
    return found


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_csv_cells_that_could_run_are_made_inert_whatever_the_separator() -> None:
    from bot.reports.cells import csv_safe

    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    # The row starts with an id, as the export's rows do.
    writer.writerow([7, -3, 2.5, *FORMULAS, *HARMLESS, None])
    text = out.getvalue()
    assert runnable_cells(text), "the check must see the formulas as they are"
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_NONNUMERIC).writerow([csv_safe(v) for v in [7, -3, 2.5, *FORMULAS, *HARMLESS, None]])
    assert runnable_cells(out.getvalue()) == []
    # A number stays a number, plain text stays as typed.
    assert csv_safe(-3) == -3 and csv_safe(2.5) == 2.5 and csv_safe(None) is None
    assert [csv_safe(v) for v in HARMLESS] == HARMLESS
    assert csv_safe("@SUM(A1)") == "'@SUM(A1)" and csv_safe("-2+3") == "'-2+3" and csv_safe(" =1") == " '=1"
    assert csv_safe("x;=1+1") == "x;'=1+1" and csv_safe("a,=1") == "a,'=1" and csv_safe("\t=1") == "'\t'=1"


async def test_csv_export_is_inert_in_every_locale(registry: dict[str, int], sessions: async_sessionmaker[AsyncSession], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with sessions() as session, session.begin():
        moj = (await session.get(FocalPoint, registry["ana"])).institution_id  # type: ignore[union-attr]
        for n, text in enumerate(FORMULAS):
            await record_update(
                session, UpdateData(registry["mine_all"][n % 3], S.IN_PROGRESS, "Ana Pérez", Channel.TELEGRAM, institution_id=moj, narrative=text, next_step=text),
                at=LATE + timedelta(days=n + 1),
            )
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "all.csv"
    await run("report", "export", "--format", "csv", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert runnable_cells(text) == []
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}
    assert rows[str(registry["mine"])]["narrative"] == "x; \"'=1\""  # its latest, made inert where it could split
    # Numbers are written as numbers, unquoted: a spreadsheet sums them.
    assert any(line.startswith(f"{registry['mine']},") for line in text.splitlines())


REPORTS = [
    (["report", "matrix"], "matrix.xlsx"),
    (["report", "draft", "--mechanism", "UPR"], "draft.docx"),
    (["report", "progress"], "progress.html"),
    (["report", "export", "--format", "csv"], "all.csv"),
    (["report", "export", "--format", "json"], "all.json"),
]


async def failing(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The real command line, expected to fail: what it printed on stderr."""

    def call() -> int:
        try:
            main(list(args), clock=FakeClock())
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    code = await asyncio.to_thread(call)
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    return err


async def test_out_through_a_symlink_writes_its_target_and_keeps_the_link(
    registry: dict[str, int], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real.csv").write_text("the previous export", encoding="utf-8")
    Path("link.csv").symlink_to("real.csv")
    await run("report", "export", "--format", "csv", "--out", "link.csv")
    out, _ = capsys.readouterr()
    assert Path("link.csv").is_symlink() and os.readlink("link.csv") == "real.csv"
    assert (tmp_path / "real.csv").read_text(encoding="utf-8").startswith('"id","external_id"')
    assert out.startswith(f"wrote {tmp_path / 'real.csv'} (through the link link.csv) (") and out.count("\n") == 1, out
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".csv") == ["link.csv", "real.csv"]


async def test_out_onto_a_fifo_is_refused_and_left_a_fifo(
    registry: dict[str, int], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """A FIFO stands for any file that is not a regular one (a device, above all): never a real device here."""
    import stat

    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "out"
    folder.mkdir()
    for args, name in REPORTS:
        fifo, link = folder / name, folder / f"link-{name}"
        os.mkfifo(fifo)
        link.symlink_to(name)
        err = await failing(capsys, *args, "--out", str(fifo))
        assert err == f"error: {fifo} is a FIFO, not a file: a report is written only to a regular file; nothing was written\n", err
        err = await failing(capsys, *args, "--out", str(link))
        assert err.startswith(f"error: {link} (a link to {fifo}) is a FIFO, not a file") and err.count("\n") == 1, err
        assert stat.S_ISFIFO(fifo.lstat().st_mode) and link.is_symlink()
    assert sorted(p.name for p in folder.iterdir()) == sorted([name for _, name in REPORTS] + [f"link-{name}" for _, name in REPORTS])


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    with tiny_tmpfs(tmp_path) as folder:
        yield folder


async def test_a_report_on_a_full_disk_says_so_and_leaves_the_previous_file_whole(
    registry: dict[str, int], db_url: str, full_disk: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(full_disk.parent)
    for _, name in REPORTS:
        (full_disk / name).write_text("the previous report", encoding="utf-8")
    fill(full_disk)
    before = sorted(p.name for p in full_disk.iterdir())
    for args, name in REPORTS:
        for out in (full_disk / name, full_disk / f"new-{name}"):
            err = await failing(capsys, *args, "--out", str(out))
            assert err == f"error: no space left on device writing {out}\n", args
        assert (full_disk / name).read_text(encoding="utf-8") == "the previous report"
        # No 0-byte file, no partial one, no scratch file left behind.
        assert sorted(p.name for p in full_disk.iterdir()) == before, args


@pytest.mark.parametrize("leave", [0, 8192])
def test_a_draft_on_a_full_disk_is_one_line_in_a_process_of_its_own(
    registry: dict[str, int], db_url: str, full_disk: Path, leave: int
) -> None:
    """python-docx leaves its ZipFile open when a write fails; closed at exit, it
    failed again and Python printed 'Exception ignored in: ZipFile.__del__'."""
    fill(full_disk, leave)
    out = full_disk / "d.docx"
    done = run_cli("report", "draft", "--mechanism", "UPR", "--out", str(out), cwd=full_disk.parent, db_url=db_url)
    assert (done.returncode, done.stderr) == (1, f"error: no space left on device writing {out}\n")
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]


async def test_a_report_that_fails_while_written_leaves_nothing_half_made(
    registry: dict[str, int], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """The same without root: each writer writes some, then the disk is full."""
    import importlib
    import inspect

    def fails_midway(real: Any) -> Any:
        def half(args: tuple[Any, ...]) -> None:
            path = next(a for a in args if isinstance(a, Path))
            path.write_bytes(b"half a report")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        async def async_writer(*args: Any, **_kwargs: Any) -> Any:
            half(args)

        def writer(*args: Any, **_kwargs: Any) -> Any:
            half(args)

        return async_writer if inspect.iscoroutinefunction(real) else writer

    # Each writer where bot.reports.build imports it from, when the report is made.
    for kind in ("matrix", "draft", "progress_page", "export"):
        module = importlib.import_module(f"bot.reports.{kind}")
        monkeypatch.setattr(module, f"write_{kind}", fails_midway(getattr(module, f"write_{kind}")))
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "out"
    folder.mkdir()
    for args, name in REPORTS:
        (folder / name).write_text("the previous report", encoding="utf-8")
        for out in (folder / name, folder / f"new-{name}"):
            err = await failing(capsys, *args, "--out", str(out))
            assert err == f"error: no space left on device writing {out}\n", args
        assert (folder / name).read_text(encoding="utf-8") == "the previous report"
    assert sorted(p.name for p in folder.iterdir()) == sorted(name for _, name in REPORTS)
