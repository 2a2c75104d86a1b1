"""The implementation matrix: an .xlsx with a summary sheet and one sheet a
mechanism, one row a recommendation.

openpyxl makes the workbook, in write-only mode; the rows of the mechanism
sheets stream to temporary files as SpreadsheetML (bot/reports/xlsx_rows),
so a UHRI-sized registry is written without holding it in memory and in
about twice the time it takes to read it. Every sheet has its header frozen
and filters on. Headers, statuses and validation are in the reader's
language, times in their time zone, named in the header. A text that would
read as a formula is stored as text with Excel's quote prefix, so it stays
text even when edited.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.reports.cells import cell_text, dangerous
from bot.reports.xlsx_rows import CellStyles, SheetRows, splice
from messages import DEFAULT_LANGUAGE, t
from storage.enums import ImplementationStatus
from storage.status import InstitutionInput

# (column, width); each header is the catalog's matrix.col.<column>.
MATRIX_COLUMNS: tuple[tuple[str, int], ...] = (
    ("id", 8),
    ("cluster", 22),
    ("mechanism", 12),
    ("country", 14),
    ("cycle", 7),
    ("document", 22),
    ("paragraph", 10),
    ("text", 70),
    ("lead", 14),
    ("institutions", 18),
    ("status", 20),
    ("inputs", 40),
    ("narrative", 60),
    ("evidence", 40),
    ("next_step", 40),
    ("next_step_due_on", 12),
    ("last_update_at", 18),
    ("last_update_by", 20),
    ("validation", 12),
)
STATUSES = [s.value for s in ImplementationStatus]
_COLUMN = {column: i for i, (column, _) in enumerate(MATRIX_COLUMNS)}
_STATUS, _VALIDATION, _UPDATED, _INPUTS = _COLUMN["status"], _COLUMN["validation"], _COLUMN["last_update_at"], _COLUMN["inputs"]
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def sheet_name(mechanism: str, taken: set[str]) -> str:
    """Excel allows 31 characters and none of []:*?/\\; names must differ."""
    base = _SHEET_NAME.sub(" ", mechanism).strip()[:31] or "Mechanism"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


class MatrixWriter:
    """In the reader's language, with times in the reader's time zone (Excel
    has none: the zone is named in the header)."""

    def __init__(
        self, as_of: datetime | None, generated_at: datetime, language: str = DEFAULT_LANGUAGE, timezone: str = "UTC", scratch: Path | None = None
    ) -> None:
        self.book = Workbook(write_only=True)
        self.scratch = scratch
        self.summary = self.book.create_sheet("Summary")
        self.styles = CellStyles(self.summary)
        self.as_of, self.generated_at = as_of, generated_at
        self.language, self.zone = language, ZoneInfo(timezone)
        self._sheets: dict[str, tuple[WriteOnlyWorksheet, SheetRows]] = {}
        self._rows: SheetRows | None = None
        self._mechanism: str | None = None
        self._names: set[str] = {"summary"}
        self.counts: dict[str, Counter[str]] = {}
        # Per mechanism: recommendations with any update ("no change" included).
        self.answered: Counter[str] = Counter()
        self._bold = Font(bold=True)
        say = self.say
        self._headers = [say(f"matrix.col.{column}", zone=timezone) for column, _ in MATRIX_COLUMNS]
        self._statuses = {status: _capital(say(f"status.{status}")) for status in STATUSES}
        self._validations = {v: say(f"matrix.validation.{v}") for v in ("pending", "approved", "returned")}

    def say(self, key: str, **values: object) -> str:
        return t(key, self.language, **values)

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def _cell(self, sheet: WriteOnlyWorksheet, value: Any, bold: bool = False) -> Any:
        """A cell of the small parts openpyxl writes itself: headers, the summary."""
        if isinstance(value, str):
            value = cell_text(value)
        if not bold and not dangerous(value):
            return value
        cell = WriteOnlyCell(sheet, value=value)
        if dangerous(value):
            cell.data_type = "s"
            cell.quotePrefix = True
        if bold:
            cell.font = self._bold
        return cell

    def _open_sheet(self, mechanism: str) -> SheetRows:
        sheet = self.book.create_sheet(sheet_name(mechanism, self._names))
        sheet.freeze_panes = "A2"
        for i, (_, width) in enumerate(MATRIX_COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        rows = SheetRows(self.styles, len(MATRIX_COLUMNS), first_row=2, folder=self.scratch)
        self._sheets[sheet.title] = (sheet, rows)
        self._rows, self._mechanism = rows, mechanism
        return rows

    def add(self, row: dict[str, Any]) -> None:
        mechanism = str(row["mechanism"])
        rows = self._rows if mechanism == self._mechanism and self._rows is not None else self._open_sheet(mechanism)
        values = [row.get(column) for column, _ in MATRIX_COLUMNS]
        values[_STATUS] = self._statuses.get(values[_STATUS], values[_STATUS])
        values[_VALIDATION] = self._validations.get(values[_VALIDATION], values[_VALIDATION])
        values[_INPUTS] = self.inputs(values[_INPUTS] or [], row.get("input_validations") or {})
        if values[_UPDATED] is not None:
            values[_UPDATED] = self._local(values[_UPDATED])
        rows.append(values)
        self.counts.setdefault(mechanism, Counter())[row["status"]] += 1
        self.answered[mechanism] += row.get("last_update_at") is not None

    def inputs(self, inputs: list[InstitutionInput], validations: dict[str, str] | None = None) -> str:
        """Beside the overall status, each institution's own, marked validated,
        returned or waiting: "MOE: Partially implemented (2026-03-02) [Approved]; MIDES: no answer"."""
        validations = validations or {}

        def given(i: InstitutionInput) -> str:
            line = self.say("report.input_line", institution=i.code, status=self._statuses.get(str(i.status), str(i.status)), date=f"{self._local(i.at):%Y-%m-%d}")  # type: ignore[arg-type]
            mark = validations.get(i.code)
            return self.say("matrix.input_marked", input=line, validation=self._validations.get(mark, mark)) if mark else line

        return "; ".join(
            given(i) if i.status is not None and i.at is not None else self.say("report.input_none", institution=i.code)
            for i in inputs
        )

    def _write_summary(self) -> None:
        s, say = self.summary, self.say
        s.freeze_panes = "A5"
        zone = str(self.zone)
        as_of = f"{self._local(self.as_of):%Y-%m-%d %H:%M} {zone}" if self.as_of else say("matrix.now")
        s.append([self._cell(s, say("matrix.title"), bold=True)])
        s.append([say("matrix.as_of"), as_of, say("matrix.generated"), f"{self._local(self.generated_at):%Y-%m-%d %H:%M} {zone}"])
        s.append([])
        header = [say("matrix.col.mechanism"), *self._statuses.values(), say("matrix.total"), say("matrix.updated_share")]
        s.append([self._cell(s, h, bold=True) for h in header])
        totals: Counter[str] = Counter()
        for mechanism, counts in self.counts.items():
            total = sum(counts.values())
            totals.update(counts)
            s.append([self._cell(s, mechanism), *(counts.get(st, 0) for st in STATUSES), total, _share(self.answered[mechanism], total)])
        all_total = sum(totals.values())
        s.append([self._cell(s, say("matrix.all"), bold=True), *(totals.get(st, 0) for st in STATUSES), all_total, _share(sum(self.answered.values()), all_total)])
        s.auto_filter.ref = f"A4:{get_column_letter(len(header))}{4 + len(self.counts)}"

    def finish(self, path: Path) -> None:
        """Write the workbook to ``path``, whole or not at all."""
        last = get_column_letter(len(MATRIX_COLUMNS))
        for sheet, rows in self._sheets.values():
            # Only now: a sheet openpyxl has begun streaming must be saved, even when the rows failed.
            sheet.append([self._cell(sheet, header, bold=True) for header in self._headers])
            sheet.auto_filter.ref = f"A1:{last}{rows.last_row}"
        self._write_summary()
        saved = path.with_name(f".{path.name}.openpyxl")
        spliced = path.with_name(f".{path.name}.part")
        try:
            self.book.save(saved)
            splice(saved, spliced, {title: rows for title, (_, rows) in self._sheets.items()})
            os.replace(spliced, path)
        finally:
            saved.unlink(missing_ok=True)
            spliced.unlink(missing_ok=True)
            self.close()

    def close(self) -> None:
        for _, rows in self._sheets.values():
            rows.close()


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _share(answered: int, total: int) -> float:
    return round(answered / total, 3) if total else 0.0


async def write_matrix(
    rows: AsyncIterator[dict[str, Any]], path: Path, as_of: datetime | None, generated_at: datetime,
    *, language: str = DEFAULT_LANGUAGE, timezone: str = "UTC",
) -> int:
    writer = MatrixWriter(as_of, generated_at, language, timezone, scratch=path.parent)
    n = 0
    try:
        async for row in rows:
            writer.add(row)
            n += 1
    except BaseException:
        writer.close()
        raise
    writer.finish(path)
    return n
