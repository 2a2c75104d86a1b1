"""Which importer a file is for, told from its content: the template by its
sheet names or a CSV's columns, a UHRI export and a UPR Info export by the
columns their header holds. None when the header fits none of them (or
more than one), so the person is asked instead of guessed for."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from storage.enums import ImportSource
from storage.importers import template, uhri, uprinfo
from storage.importers.errors import UnreadableFile
from storage.importers.limits import DEFAULT_LIMITS, ImportLimits
from storage.importers.readers import _reading_xlsx, detect_encoding, open_workbook, suffix_of

# Exports sometimes put a title line or two above the header.
_HEADER_SEARCH_ROWS = 10


def detect_source(path: Path, limits: ImportLimits = DEFAULT_LIMITS) -> ImportSource | None:
    """The importer for ``path`` (a .csv or .xlsx), or None when it cannot be
    told. An unreadable or hostile file raises as the import itself would
    (UnreadableFile, LimitExceeded), with the same guards."""
    if suffix_of(path) == ".csv":
        return _judge([_csv_header(path, limits)])
    workbook = open_workbook(path, limits)
    try:
        titles = {ws.title.strip().lower() for ws in workbook.worksheets}
        if titles & set(template.ORDER):
            return ImportSource.TEMPLATE
        if not workbook.worksheets:
            raise UnreadableFile(f"{path}: the workbook has no sheet")
        first = workbook.worksheets[0]
        with _reading_xlsx(path, first.title):
            head = [_cells(row) for row in first.iter_rows(min_row=1, max_row=_HEADER_SEARCH_ROWS, values_only=True)]
        return _judge(head)
    finally:
        workbook.close()


def _cells(row: tuple[Any, ...]) -> list[str]:
    return [str(c).strip() if c is not None else "" for c in row]


def _csv_header(path: Path, limits: ImportLimits) -> list[str]:
    encoding = detect_encoding(path)
    # The header line only, bounded: a file with no line break is not read whole.
    with path.open("rb") as raw:
        head = raw.read(64 * (limits.max_cell_chars + 3))
    text = head.decode(encoding, errors="replace")
    try:
        return _cells(tuple(next(csv.reader(io.StringIO(text, newline="")), [])))
    except csv.Error as exc:
        raise UnreadableFile(f"{path}: cannot read as CSV ({encoding}): {exc}") from None


def _judge(rows: list[list[str]]) -> ImportSource | None:
    for headers in rows:
        found = set()
        if set(uhri.REQUIRED) <= set(uhri.normalise_headers(headers)):
            found.add(ImportSource.UHRI)
        if set(uprinfo.REQUIRED) <= set(uprinfo.normalise_headers(headers)):
            found.add(ImportSource.UPRINFO)
        if template.sheet_for_headers(headers) is not None:
            found.add(ImportSource.TEMPLATE)
        if len(found) == 1:
            return found.pop()
        if found:
            return None
    return None
