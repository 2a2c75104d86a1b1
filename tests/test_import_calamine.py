"""A UN export read by calamine gives the rows the guarded openpyxl read gives
(issue 18), and the quick survey leaves every file it cannot vouch for to it."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from storage.importers import readers
from storage.importers.limits import DEFAULT_LIMITS, ImportLimits
from storage.importers.xlsx_guard import vouch_for_calamine

REQUIRED = {"Text", "OHCHR Annotation Id"}


def _workbook(path: Path, rows: list[list[object]], title: str = "Export") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def _rows(sheet: readers.Sheet) -> list[tuple[int, dict[str, object]]]:
    return [(row.number, row.values) for row in sheet.rows]


def _both(path: Path, limits: ImportLimits = DEFAULT_LIMITS) -> tuple[readers.Sheet, readers.Sheet]:
    fast = readers.read_first_worksheet(path, REQUIRED, limits=limits)
    workbook = readers.open_workbook(path, limits)
    slow = readers.read_worksheet(path, workbook.worksheets[0], REQUIRED, limits=limits)
    return fast, slow


def test_calamine_reads_the_rows_openpyxl_reads(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "export.xlsx",
        [
            ["UHRI export, 2026"],
            [],
            [None, "Text", "OHCHR Annotation Id", "Document Publication Date", "Sdgs", "Count", "Share", "Flag"],
            [None, "119.1 Ratify  ", "a1", date(2021, 3, 4), "- 1.1 Target\n- 5.2 Target", 7, 2.5, True],
            [],
            [None, "119.2 Adopt", "a2", datetime(2021, 3, 4, 10, 30), None, 0, -1.25, False],
            [None, "Ünïcode ’quotes’ 😀", "a3", 44000, "", 12345678901, 1e-9, None],
        ],
    )
    assert vouch_for_calamine(path, DEFAULT_LIMITS)
    fast, slow = _both(path)
    assert (fast.name, fast.headers, fast.header_row) == (slow.name, slow.headers, slow.header_row)
    assert _rows(fast) == _rows(slow)
    assert [n for n, _ in _rows(readers.read_first_worksheet(path, REQUIRED))] == [4, 6, 7]


def test_a_cell_past_the_limit_is_the_same_row_error(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "long.xlsx", [["Text", "OHCHR Annotation Id"], ["x" * 50, "a1"], ["short", "a2"]])
    # Within what the survey checks (bytes between cells) only when the bound is
    # past the cell: a bound below it is the guard's to refuse.
    limits = ImportLimits(max_cell_chars=200)
    fast, slow = _both(path, limits)
    assert _rows(fast) == _rows(slow)
    assert not vouch_for_calamine(path, ImportLimits(max_cell_chars=40))


def _rewrite(path: Path, part: str, change: object) -> None:
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts[part] = change(parts[part])  # type: ignore[operator]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


@pytest.mark.parametrize(
    ("part", "change"),
    [
        # A cell past column Z: calamine's rectangle would grow with its column.
        ("xl/worksheets/sheet1.xml", lambda b: b.replace(b'r="B2"', b'r="XFD2"')),
        # A row numbered far past the rows there are: the rectangle with its number.
        ("xl/worksheets/sheet1.xml", lambda b: b.replace(b'<row r="2"', b'<row r="400000"').replace(b'r="A2"', b'r="A400000"').replace(b'r="B2"', b'r="B400000"')),
        # A cell without its reference, a prefixed tag, a DTD.
        ("xl/worksheets/sheet1.xml", lambda b: b.replace(b'<c r="A2"', b"<c")),
        ("xl/worksheets/sheet1.xml", lambda b: b.replace(b"<sheetData>", b'<sheetData><x:ext xmlns:x="urn:x"/>')),
        ("xl/worksheets/sheet1.xml", lambda b: b.replace(b"<worksheet", b"<!DOCTYPE worksheet><worksheet", 1)),
        # A style number that is none, which openpyxl refuses.
        ("xl/styles.xml", lambda b: b.replace(b'fontId="0"', b'fontId="x"', 1)),
    ],
    ids=["wide", "far row", "no reference", "prefixed", "dtd", "style"],
)
def test_what_the_survey_cannot_vouch_for_is_left_to_the_guard(tmp_path: Path, part: str, change: object) -> None:
    path = _workbook(tmp_path / "export.xlsx", [["Text", "OHCHR Annotation Id"], ["119.1 Ratify", "a1"]])
    assert vouch_for_calamine(path, DEFAULT_LIMITS)
    _rewrite(path, part, change)
    assert not vouch_for_calamine(path, DEFAULT_LIMITS)


def _pieces_by_split(unit: bytes, most: int, regions: list[bytes]) -> tuple[bool, int, int]:
    """The survey's runs as region.split(unit) first found them: (vouched, count, current)."""
    current = count = 0
    for region in regions:
        pieces = region.split(unit)
        current += len(pieces[0])
        if len(pieces) > 1:
            count += len(pieces) - 1
            longest = max(current, max(map(len, pieces[1:-1]), default=0))
            current = len(pieces[-1])
            if longest > most:
                return False, count, current
        if current > most:
            return False, count, current
    return True, count, current


def test_the_surveys_runs_between_openings_are_the_splits() -> None:
    import random

    from storage.importers.xlsx_guard import _NotVouched, _Pieces

    rng = random.Random(18)
    unit, most = b'<c r="', 40
    outcomes = set()
    for _ in range(3000):
        parts = [unit if rng.random() < 0.3 else b"x" * rng.choice([0, 1, 5, 20, 39, 40, 41, 80]) for _ in range(rng.randint(0, 12))]
        blob = b"".join(parts)
        cuts = sorted(rng.sample(range(len(blob) + 1), k=min(len(blob) + 1, rng.randint(0, 3))))
        regions = [blob[a:b] for a, b in zip([0, *cuts], [*cuts, len(blob)], strict=True)]
        expected = _pieces_by_split(unit, most, regions)
        pieces = _Pieces(unit, most)
        try:
            for region in regions:
                pieces.feed(region)
        except _NotVouched:
            assert not expected[0], (regions, expected)
            outcomes.add(False)
            continue
        assert expected == (True, pieces.count, pieces.current), regions
        outcomes.add(True)
    assert outcomes == {True, False}
