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
    # Every other part openpyxl reads whole (workbook, styles, theme,
    # properties, relationships), unpacked, together: a real workbook's are a
    # few hundred KB; the theme alone is kept as bytes.
    max_parts_mb: int = 64
    # XML elements in those parts, together: openpyxl builds an object of
    # 0.4 KB (a font) to 1.3 KB (a cell format) for each, so 900,000 fonts in
    # a 64 KB file took 900 MB. A workbook bloated to Excel's 64,000 cell
    # formats has ~130,000 and takes 170 MB; this bound, 330 MB at most.
    max_parts_elements: int = 250_000

    @property
    def max_unpacked_bytes(self) -> int:
        return self.max_unpacked_mb * 1024 * 1024

    @property
    def max_strings_bytes(self) -> int:
        return self.max_strings_mb * 1024 * 1024

    @property
    def max_parts_bytes(self) -> int:
        return self.max_parts_mb * 1024 * 1024


DEFAULT_LIMITS = ImportLimits()
