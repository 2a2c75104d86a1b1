"""The matrix's fast rows read back, with openpyxl, as openpyxl's own would."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from bot.reports.cells import CELL_LIMIT, CUT_MARK, cell_text, dangerous, xml_text
from bot.reports.xlsx_rows import MAX_ROWS, CellStyles, SheetFull, SheetRows, SplicedRowsError, splice

ROWS: list[list[Any]] = [
    ["plain", "a & b < c > d", 'quotes " and \'', "  padded  ", "line\nbreak", "crlf\r\nkept", "tab\tinside"],
    ["=HYPERLINK(\"http://evil.example\")", "+1", "-2 more", "@SUM(A1)", "\tlead tab", "\rlead cr", "ok"],
    [1, -2, 3.25, 12345678901234, 1e-7, 2**53, True],
    [Decimal("12.50"), float("nan"), -0.5, None, None, None, None],
    [datetime(2026, 3, 29, 1, 30), date(2026, 10, 25), time(13, 45), None, "after a gap", False, 0],
    ["Ley N° 19.580", "ضمان حقوق المرأة", "男女平等", "emoji 🇺🇾 ✓", "", None, "x" * 100],
]


def _openpyxl_cell(sheet: Any, value: Any) -> Any:
    """How the matrix wrote every cell before: openpyxl's own objects."""
    if not dangerous(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type, cell.quotePrefix = "s", True
    return cell


def write_both(tmp_path: Path, rows: list[list[Any]]) -> tuple[Path, Path]:
    reference = tmp_path / "openpyxl.xlsx"
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Data")
    sheet.append(["header"])
    for row in rows:
        sheet.append([_openpyxl_cell(sheet, v) for v in row])
    book.save(reference)

    ours = tmp_path / "spliced.xlsx"
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Data")
    sheet.append(["header"])
    fast = SheetRows(CellStyles(sheet), 7)
    for row in rows:
        fast.append(row)
    book.save(tmp_path / "saved.xlsx")
    splice(tmp_path / "saved.xlsx", ours, {"Data": fast})
    fast.close()
    return reference, ours


def cells(path: Path) -> list[list[tuple[Any, str | None, str, bool]]]:
    """Value, type, format and quote prefix of each cell; an empty cell's
    type is left out (openpyxl writes a bare element for "", this no element)."""
    sheet = openpyxl.load_workbook(path)["Data"]
    return [
        [(c.value, c.data_type if c.value is not None else None, c.number_format, bool(c.quotePrefix)) for c in row]
        for row in sheet.iter_rows()
    ]


def test_rows_read_back_as_openpyxls_own(tmp_path: Path) -> None:
    reference, ours = write_both(tmp_path, ROWS)
    assert cells(ours) == cells(reference)
    got = cells(ours)
    # And they are what was given, not merely equal to each other.
    assert [v for v, *_ in got[1]] == ROWS[0]
    assert got[2][0][3] and got[2][0][1] == "s"  # a formula stays text
    assert got[5][0] == (datetime(2026, 3, 29, 1, 30), "d", "yyyy-mm-dd h:mm:ss", False)
    assert got[5][1][0] == datetime(2026, 10, 25) and got[5][1][2] == "yyyy-mm-dd"
    assert got[3][6][0] is True and got[3][5][0] == 2**53
    assert got[6][4][0] is None  # an empty string is no cell, as openpyxl writes it
    assert got[4][0][0] == 12.5 and got[4][1][0] is None  # NaN: an empty cell, as openpyxl writes it


def test_the_package_keeps_openpyxls_parts(tmp_path: Path) -> None:
    _, ours = write_both(tmp_path, ROWS)
    with zipfile.ZipFile(ours) as package, zipfile.ZipFile(tmp_path / "saved.xlsx") as saved:
        assert package.namelist() == saved.namelist()
        assert package.testzip() is None
        for name in saved.namelist():
            if name != "xl/worksheets/sheet1.xml":
                assert package.read(name) == saved.read(name), name


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",))), min_size=1, max_size=7))
def test_any_text_reads_back_as_typed_or_made_xml_safe(tmp_path: Path, texts: list[str]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Data")
    fast = SheetRows(CellStyles(sheet), 7, first_row=1)
    fast.append(texts)
    book.save(tmp_path / "saved.xlsx")
    splice(tmp_path / "saved.xlsx", tmp_path / "out.xlsx", {"Data": fast})
    fast.close()
    row = next(openpyxl.load_workbook(tmp_path / "out.xlsx")["Data"].iter_rows(values_only=True), ())
    expected = [cell_text(t) or None for t in texts]
    assert list(row) + [None] * (len(texts) - len(row)) == expected


def test_control_characters_become_spaces_and_long_texts_are_cut() -> None:
    assert xml_text("Ley\x0cN° 19.580\x00\x1b") == "Ley N° 19.580  "
    assert xml_text("tab\tnew\nline\r") == "tab\tnew\nline\r"
    long = "é" * (CELL_LIMIT + 10)
    cut = cell_text(long)
    assert len(cut) == CELL_LIMIT and cut.endswith(CUT_MARK)
    # Excel counts UTF-16 units: an emoji is two.
    flags = "🇺" * CELL_LIMIT
    cut = cell_text(flags)
    assert len(cut.encode("utf-16-le")) // 2 <= CELL_LIMIT and cut.endswith(CUT_MARK)
    assert cell_text("🇺" * (CELL_LIMIT // 2)) == "🇺" * (CELL_LIMIT // 2)


def test_a_sheet_the_workbook_does_not_have_is_refused(tmp_path: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Data")
    fast = SheetRows(CellStyles(sheet), 2)
    fast.append(["x"])
    book.save(tmp_path / "saved.xlsx")
    with pytest.raises(SplicedRowsError, match="no sheet named \\['Other'\\]"):
        splice(tmp_path / "saved.xlsx", tmp_path / "out.xlsx", {"Other": fast})
    with pytest.raises(ValueError, match="3 values for 2 columns"):
        fast.append(["a", "b", "c"])
    with pytest.raises(TypeError, match="time zones"):
        fast.append([datetime(2026, 1, 1, tzinfo=timezone.utc)])
    fast.close()
    # The last row Excel can open is the last one written.
    full = SheetRows(CellStyles(sheet), 1, first_row=MAX_ROWS)
    full.append(["last"])
    with pytest.raises(SheetFull, match="at most 1,048,576 rows"):
        full.append(["one too many"])
    full.close()


@pytest.mark.parametrize("empty", ["<sheetData></sheetData>", "<sheetData/>", "<sheetData />"])
def test_an_empty_sheet_gets_its_rows(tmp_path: Path, empty: str) -> None:
    """A sheet with no rows of its own, however the writer closed its sheetData."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Data")
    fast = SheetRows(CellStyles(sheet), 1, first_row=1)
    fast.append(["only row"])
    book.save(tmp_path / "openpyxl.xlsx")
    with zipfile.ZipFile(tmp_path / "openpyxl.xlsx") as saved, zipfile.ZipFile(tmp_path / "saved.xlsx", "w") as package:
        for name in saved.namelist():
            data = saved.read(name)
            if name == "xl/worksheets/sheet1.xml":
                assert b"<sheetData></sheetData>" in data
                data = data.replace(b"<sheetData></sheetData>", empty.encode())
            package.writestr(name, data)
    splice(tmp_path / "saved.xlsx", tmp_path / "out.xlsx", {"Data": fast})
    fast.close()
    assert [r for r in openpyxl.load_workbook(tmp_path / "out.xlsx")["Data"].iter_rows(values_only=True)] == [("only row",)]


def test_a_text_met_again_is_written_as_the_first_time(tmp_path: Path) -> None:
    # Texts recur down a sheet (statuses, institutions): each is kept written once and reused; the
    # reused cell must be in its own row and column, safe and escaped as the first, and as openpyxl's.
    again = [list(reversed(row)) for row in ROWS] + ROWS + ROWS
    reference, ours = write_both(tmp_path, again)
    got = cells(ours)
    assert got == cells(reference)
    assert [v for v, *_ in got[len(ROWS) + 1]] == ROWS[0] == [v for v, *_ in got[2 * len(ROWS) + 1]]
    assert got[len(ROWS) + 2][0][3] and got[2 * len(ROWS) + 2][0][3]  # a formula stays text, each time


def test_a_large_report_collects_less_and_gives_the_thresholds_back() -> None:
    import gc

    from bot.reports.fewer_collections import YOUNG, fewer_collections

    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] >= YOUNG
        with fewer_collections():  # two reports at once: the first to end leaves them raised
            pass
        assert gc.get_threshold()[0] >= YOUNG
    assert gc.get_threshold() == before
