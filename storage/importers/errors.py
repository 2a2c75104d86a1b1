"""What a rejected import reports: every bad row, with its column and reason."""

from __future__ import annotations

from dataclasses import dataclass

from storage.errors import RegistryError


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


class ImportRejected(RegistryError):
    """Nothing was imported; ``errors`` lists every problem found."""

    def __init__(self, path: str, errors: list[RowError]) -> None:
        self.path = path
        self.errors = errors
        rows = len({(e.sheet, e.row) for e in errors})
        noun = "row" if rows == 1 else "rows"
        super().__init__(f"{path}: {rows} bad {noun}, nothing imported")

    def details(self) -> list[str]:
        return [str(e) for e in self.errors]


class UnreadableFile(RegistryError):
    """The file is not what the importer reads at all (missing, not CSV/XLSX, no header)."""
