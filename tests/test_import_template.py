"""The project's own template: the network, the secretariat's recommendations, assignments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from storage.enums import FocalPointRole, ImportSource, Priority
from storage.importers.errors import ImportRejected, UnreadableFile
from storage.importers.run import ImportOptions, import_file
from storage.importers.template import ORDER, SHEETS, write_blank_template
from storage.models import Assignment, Cluster, FocalPoint, Institution, Recommendation
from tests.disk_harness import fill, run_cli, tiny_tmpfs
from tests.factories import network_sheets, write_workbook

OPTIONS = ImportOptions(default_timezone="America/Montevideo", today=date(2026, 11, 22))


async def counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Institution, FocalPoint, Recommendation, Assignment, Cluster)
        }


async def test_whole_network_in_one_workbook(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "network.xlsx", network_sheets())
    report = await import_file(sessions, ImportSource.TEMPLATE, path, OPTIONS)
    assert {t: c.created for t, c in report.tables.items()} == {
        "institutions": 3, "focal_points": 3, "recommendations": 3, "assignments": 4,
    }
    assert await counts(sessions) == {
        "institutions": 3, "focal_points": 3, "recommendations": 3, "assignments": 4, "clusters": 2,
    }
    async with sessions() as session:
        prisons = await session.scalar(select(Institution).where(Institution.code == "PRISONS").options(selectinload(Institution.parent)))
        jorge = await session.scalar(select(FocalPoint).where(FocalPoint.email == "jorge.silva@justicia.example"))
        c1 = await session.scalar(
            select(Recommendation).where(Recommendation.external_id == "C-1").options(selectinload(Recommendation.mechanism), selectinload(Recommendation.cluster))
        )
    assert prisons is not None and prisons.parent is not None and prisons.parent.code == "MOJ"
    assert jorge is not None and (jorge.role, jorge.language, jorge.active_from) == (FocalPointRole.SENIOR, "es", date(2026, 11, 22))
    assert c1 is not None and (c1.mechanism.code, c1.paragraph, c1.priority) == ("CEDAW", "49", Priority.MEDIUM)
    assert c1.cluster is not None and c1.cluster.name == "Gender equality"


async def test_reimport_changes_nothing_and_an_edit_updates(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    sheets = network_sheets()
    path = write_workbook(tmp_path / "network.xlsx", sheets)
    await import_file(sessions, ImportSource.TEMPLATE, path, OPTIONS)
    again = await import_file(sessions, ImportSource.TEMPLATE, path, OPTIONS)
    assert again.total("created") == again.total("updated") == 0
    assert again.total("unchanged") == 13

    sheets["focal_points"][3][5] = "Europe/Brussels"  # Claire moves
    sheets["assignments"][3][2] = "contributing"  # MOW no longer leads R-2
    edited = await import_file(sessions, ImportSource.TEMPLATE, write_workbook(tmp_path / "v2.xlsx", sheets), OPTIONS)
    assert {t: c.updated for t, c in edited.tables.items() if c.updated} == {"focal_points": 1, "assignments": 1}
    assert await counts(sessions) == {
        "institutions": 3, "focal_points": 3, "recommendations": 3, "assignments": 4, "clusters": 2,
    }


async def test_one_bad_row_anywhere_imports_nothing(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    sheets = network_sheets()
    sheets["institutions"].append(["MOH", "Ministry of Health", "hospital", None])
    sheets["institutions"].append(["CHILD", "Child Protection Unit", "agency", "MINSOC"])
    sheets["focal_points"].append(["dup@x.example", "Dup", "NOPE", "boss", "de", "Mars/Olympus", "2026-13-01", None])
    sheets["recommendations"].append(["R-1", "Same id again", "UPR", "Uruguay", None, None, None, None, None, None, None])
    sheets["assignments"].append(["R-404", "MOJ", "lead"])
    sheets["assignments"].append(["R-2", "MOJ", "lead"])  # MOW already leads R-2
    path = write_workbook(tmp_path / "bad.xlsx", sheets)
    with pytest.raises(ImportRejected) as caught:
        await import_file(sessions, ImportSource.TEMPLATE, path, OPTIONS)
    found = [(e.sheet, e.row, e.column) for e in caught.value.errors]
    assert found == [
        ("institutions", 5, "kind"),
        ("institutions", 6, "parent"),
        ("focal_points", 5, "active_from"),
        ("focal_points", 5, "language"),
        ("focal_points", 5, "role"),
        ("focal_points", 5, "timezone"),
        ("recommendations", 5, "id"),
        ("assignments", 6, "recommendation"),
        ("assignments", 7, "role"),
    ]
    details = "\n".join(caught.value.details())
    assert "no institution with code 'MINSOC' (see: nmrf-bot institutions list) (list a parent before its children)" in details
    assert "already have a lead institution" in details
    assert await counts(sessions) == {"institutions": 0, "focal_points": 0, "recommendations": 0, "assignments": 0, "clusters": 0}


async def test_one_table_per_csv_recognised_by_its_columns(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    (tmp_path / "institutions.csv").write_text("code,name,kind\nMOJ,Ministry of Justice,ministry\n", encoding="utf-8")
    (tmp_path / "people.csv").write_text(
        "name,email,institution,role\nAna Pérez,ana@justicia.example,MOJ,technical\n", encoding="utf-8"
    )
    first = await import_file(sessions, ImportSource.TEMPLATE, tmp_path / "institutions.csv", OPTIONS)
    second = await import_file(sessions, ImportSource.TEMPLATE, tmp_path / "people.csv", OPTIONS)
    assert list(first.tables) == ["institutions"] and list(second.tables) == ["focal_points"]
    async with sessions() as session:
        ana = await session.scalar(select(FocalPoint))
    assert ana is not None and (ana.timezone, ana.language) == ("America/Montevideo", "en")


async def test_csv_matching_no_table(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("code,name,kind,colour\nMOJ,Justice,ministry,blue\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="the columns match no template table"):
        await import_file(sessions, ImportSource.TEMPLATE, tmp_path / "x.csv", OPTIONS)


async def test_unknown_sheet_and_unknown_column(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    sheets = network_sheets()
    with pytest.raises(UnreadableFile, match="unknown sheet"):
        await import_file(sessions, ImportSource.TEMPLATE, write_workbook(tmp_path / "a.xlsx", {**sheets, "ministries": [["code"]]}), OPTIONS)
    sheets["institutions"][0].append("budget")
    with pytest.raises(ImportRejected) as caught:
        await import_file(sessions, ImportSource.TEMPLATE, write_workbook(tmp_path / "b.xlsx", sheets), OPTIONS)
    assert [(e.sheet, e.column) for e in caught.value.errors] == [("institutions", "budget")]


async def test_blank_template_lists_every_column_and_imports_as_empty(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_blank_template(path)
    workbook = load_workbook(path, read_only=True)
    assert workbook.sheetnames == ["README", *ORDER]
    for sheet in ORDER:
        header = next(workbook[sheet].iter_rows(max_row=1, values_only=True))
        assert list(header) == [c.name for c in SHEETS[sheet]]
    guide = {(r[0], r[1]) for r in workbook["README"].iter_rows(min_row=2, values_only=True)}
    assert guide == {(sheet, c.name) for sheet in ORDER for c in SHEETS[sheet]}
    report = await import_file(sessions, ImportSource.TEMPLATE, path, OPTIONS)
    assert report.rows == 0


class RecordingProgress:
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def start(self, label: str, total: int | None) -> None:
        self.events.append(("start", total))

    def update(self, position: int) -> None:
        self.events.append(("update", position))

    def finish(self) -> None:
        self.events.append(("finish", None))


async def test_progress_is_reported_through_a_large_file(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("id,text,mechanism,country\n" + "".join(f"R-{n},Text {n},UPR,Uruguay\n" for n in range(1500)), encoding="utf-8")
    progress = RecordingProgress()
    await import_file(sessions, ImportSource.TEMPLATE, path, OPTIONS, progress)
    size = path.stat().st_size
    positions = [p for kind, p in progress.events if kind == "update"]
    assert progress.events[0] == ("start", size) and progress.events[-1] == ("finish", None)
    assert len(positions) >= 6 and positions == sorted(positions) and positions[-1] == size


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    with tiny_tmpfs(tmp_path) as folder:
        yield folder


@pytest.mark.parametrize("leave", [0, 8192])
def test_write_template_on_a_full_disk_is_one_line_and_leaves_no_file(full_disk: Path, leave: int) -> None:
    """With 8 kB free, openpyxl had left an 8 kB corrupt template; the error named no
    file, and its ZipFile, closed at exit, printed an 'Exception ignored' traceback."""
    (full_disk / "old.xlsx").write_bytes(b"the previous template")
    fill(full_disk, leave)
    for name in ("t.xlsx", "old.xlsx"):
        out = full_disk / name
        done = run_cli("import", "write-template", str(out), cwd=full_disk.parent)
        assert (done.returncode, done.stdout, done.stderr) == (1, "", f"error: no space left on device writing {out}\n")
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler", "old.xlsx"]
    assert (full_disk / "old.xlsx").read_bytes() == b"the previous template"


def test_write_template_goes_through_a_symlink_and_never_onto_a_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Renamed into place, a template would replace a FIFO or a symlink; it
    is written to the link's target, and a FIFO is refused in one line."""
    import os

    from bot.cli import main
    from tests.fakes import FakeClock

    real, link, fifo = tmp_path / "real.xlsx", tmp_path / "link.xlsx", tmp_path / "pipe.xlsx"
    real.write_bytes(b"old")
    link.symlink_to(real)
    os.mkfifo(fifo)
    main(["import", "write-template", str(link)], clock=FakeClock())
    assert link.is_symlink() and load_workbook(real).sheetnames[0]
    with pytest.raises(SystemExit) as exited:
        main(["import", "write-template", str(fifo)], clock=FakeClock())
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err == f"error: {fifo} is a FIFO, not a file: the template is written only to a regular file; nothing was written\n", err
    assert fifo.is_fifo()
