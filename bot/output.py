"""Printing rows as a table, JSON or CSV.

JSON and CSV are written row by row as they arrive, so listing a quarter of
a million recommendations does not hold them in memory; a table has to see
every row to size its columns, and is meant for a person reading a screen.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import IO, Any

from bot.reports.cells import csv_safe
from messages import shorten

FORMATS = ("table", "json", "csv")
# In a table, long text is cut so rows stay short; JSON and CSV keep it whole.
TABLE_TRUNCATE = 60


# Most values are these, printed as they are: known at once, not after every
# isinstance below (a listing passes each of its 50,000 values here).
_AS_THEY_ARE = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    if type(value) in _AS_THEY_ARE:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "; ".join(str(_plain(v)) for v in value)
    return value


class RowWriter:
    def __init__(self, columns: Sequence[str], fmt: str, out: IO[str] | None = None) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        self.columns = list(columns)
        self.fmt = fmt
        self.out = out or sys.stdout
        self.count = 0
        self._table_rows: list[list[str]] = []
        if fmt == "csv":
            # Every text field quoted, as the export writes them: a reader that
            # honours quotes splits no value at whatever separator it picks.
            self._csv = csv.writer(self.out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
            # The header is our own column names: plain, as tools matching it expect.
            csv.writer(self.out, lineterminator="\n").writerow(self.columns)
        elif fmt == "json":
            self.out.write("[")

    def write(self, row: Mapping[str, Any]) -> None:
        values = [_plain(row.get(c)) for c in self.columns]
        if self.fmt == "csv":
            # What focal points typed reaches a spreadsheet: nothing in it may run.
            self._csv.writerow(["" if v is None else csv_safe(v) for v in values])
        elif self.fmt == "json":
            self.out.write(("\n  " if self.count == 0 else ",\n  ") + json.dumps(dict(zip(self.columns, values, strict=True)), ensure_ascii=False))
        else:
            self._table_rows.append([_cell(v) for v in values])
        self.count += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write("\n]\n" if self.count else "]\n")
        elif self.fmt == "table":
            # Imported here: every command's --help loads this module, few print a table.
            from rich.console import Console
            from rich.table import Table
            from rich.text import Text

            from bot import plain_table

            width = max(120, len(self.columns) * 16)
            console = Console(file=self.out, width=width, highlight=False)
            # Without colours (a file, a pipe, a pager) the same table, line for line,
            # in a fraction of rich's time. Either way a cell is its text, never markup.
            lines = plain_table.render(self.columns, self._table_rows, width) if console.color_system is None and console.encoding.startswith("utf") else None
            if lines is not None:
                self.out.write("".join(f"{line}\n" for line in lines))
            else:
                table = Table(*self.columns, show_lines=False, header_style="bold")
                for values in self._table_rows:
                    table.add_row(*(Text(value) for value in values))
                console.print(table)
        self.out.flush()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return shorten(text, TABLE_TRUNCATE)


def write_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, limit: int | None = None) -> int:
    writer = RowWriter(columns, fmt)
    for row in rows[:limit] if limit is not None else rows:
        writer.write(row)
    writer.close()
    return writer.count
