"""What a rejected import reports: its bad rows, with their column and reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.errors import RegistryError

# A person reads a hundred errors; a hostile file can have a million, and
# neither the terminal nor the importer's memory should carry them all.
MAX_LISTED_ERRORS = 100


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str
    sheet: str | None = None

    def __str__(self) -> str:
        where = f"sheet {self.sheet!r}, " if self.sheet else ""
        column = f"column {self.column!r}" if self.column else "whole row"
        return f"{where}row {self.row}, {column}: {self.reason}"


class ErrorList:
    """The first ``keep`` errors in file order, and a count of all of them."""

    def __init__(self, keep: int = MAX_LISTED_ERRORS) -> None:
        self.keep = keep
        self.kept: list[RowError] = []
        self.total = 0
        self.rows = 0
        self._last_row: tuple[str | None, int] | None = None

    def __bool__(self) -> bool:
        return self.total > 0

    def add(self, error: RowError) -> None:
        self.total += 1
        # Rows arrive in file order, so a new (sheet, row) is a new bad row.
        if (error.sheet, error.row) != self._last_row:
            self._last_row = (error.sheet, error.row)
            self.rows += 1
        if len(self.kept) < self.keep:
            self.kept.append(error)

    def extend(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.add(error)


class ImportRejected(RegistryError):
    """Nothing was imported; ``errors`` lists the first problems found, ``more`` counts the rest."""

    def __init__(self, path: str, errors: list[RowError], *, more: int = 0, rows: int | None = None) -> None:
        self.path = path
        self.errors = errors[:MAX_LISTED_ERRORS]
        self.more = more + len(errors) - len(self.errors)
        rows = len({(e.sheet, e.row) for e in errors}) if rows is None else rows
        # Every bad row, the ones not listed too.
        self.rows = rows
        noun = "row" if rows == 1 else "rows"
        super().__init__(f"{path}: {rows:,} bad {noun}, nothing imported")

    def details(self) -> list[str]:
        lines = [str(e) for e in self.errors]
        if self.more:
            lines.append(f"and {self.more:,} more")
        return lines


class UnreadableFile(RegistryError):
    """The file is not what the importer reads at all (missing, not CSV/XLSX, no header, corrupt)."""


class LimitExceeded(RegistryError):
    """The file goes past a bound of [imports]: refused whole, before it costs more."""
