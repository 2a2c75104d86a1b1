"""What one imported file may cost at most ([imports] in the configuration)."""

from __future__ import annotations

from dataclasses import dataclass

# Excel's own limits: a cell holds 32,767 characters, a sheet 16,384 columns.
EXCEL_CELL_CHARS = 32_767
EXCEL_COLUMNS = 16_384


@dataclass(frozen=True)
class ImportLimits:
    # Longer is refused, naming the cell; Excel itself stores no more.
    max_cell_chars: int = EXCEL_CELL_CHARS
    # Rows of one sheet or CSV file, its header included: about twice UHRI's
    # whole export (~270,000), far above any national registry.
    max_rows: int = 500_000
    # The parts of an .xlsx once unpacked, together: a zip bomb is refused
    # from its directory, before anything is inflated.
    max_unpacked_mb: int = 2_048
    # The shared-strings table as Python holds it, all of it at once (openpyxl
    # reads it whole before the first row): UHRI's whole export, ~150 million
    # characters at 2 bytes each (one ’ in a string is enough), takes ~330 MB.
    max_strings_mb: int = 512

    @property
    def max_unpacked_bytes(self) -> int:
        return self.max_unpacked_mb * 1024 * 1024

    @property
    def max_strings_bytes(self) -> int:
        return self.max_strings_mb * 1024 * 1024


DEFAULT_LIMITS = ImportLimits()
