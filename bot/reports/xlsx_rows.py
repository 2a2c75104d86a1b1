"""The data rows of very large worksheets, for a workbook openpyxl makes.

openpyxl makes the workbook: its parts, styles, sheet views, column widths,
filters and the small sheets. For a sheet of a few hundred thousand rows,
openpyxl's object per cell is four fifths of the time of the whole matrix,
so those rows are written here as SpreadsheetML text, to a temporary file a
sheet, and spliced into the sheet's ``<sheetData>`` of the package openpyxl
saved. The cells are what openpyxl itself writes in write-only mode (inline
strings, numbers, dates as serial numbers with openpyxl's own styles), and
the tests read them back with openpyxl against rows written by openpyxl.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from math import isfinite
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.reports.cells import cell_text, dangerous
from bot.reports.rtl import has_rtl, rtl_alignment

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CHUNK = 1 << 20
MAX_ROWS = 1_048_576  # Excel's, and LibreOffice's
_EMPTY_SHEET_DATA = re.compile(r"<sheetData\s*/>")
# The texts a sheet keeps written out for reuse: the short ones (a narrative
# or a recommendation's text seldom recurs), and a bounded number of them.
_REUSED_LONGEST = 200
_REUSED_MOST = 10_000
# zlib's fastest level for the large sheets: deflating at the default (6) took
# a seventh of a UHRI-sized matrix's time, three times what level 1 takes, for
# a file a quarter smaller (29 MB instead of 38 for 267,500 rows, under the 50
# MB a Telegram bot may send either way).
SHEET_COMPRESSION = 1
# The pieces of rows kept before they are written out (a few hundred rows, about 1 MB of text).
_PENDING_MOST = 8_000


class SplicedRowsError(RuntimeError):
    """The saved package is not shaped as this module expects."""


class SheetFull(ValueError):
    """More rows than Excel can open in one worksheet."""


class CellStyles:
    """The style ids openpyxl gives the cells that need one, asked of
    openpyxl through a cell of each kind so its styles part lists them."""

    def __init__(self, sheet: WriteOnlyWorksheet, *, right_to_left: bool = False) -> None:
        def style_of(value: Any, quote: bool = False, rtl: bool = False) -> int:
            cell = WriteOnlyCell(sheet, value=value)
            if quote:
                cell.quotePrefix = True
            if rtl:
                cell.alignment = rtl_alignment()
            return int(cell.style_id)

        self.datetime = style_of(datetime(2000, 1, 1, 1))
        self.date = style_of(date(2000, 1, 1))
        self.time = style_of(time(1))
        self.quoted = style_of("=", quote=True)
        # A right-to-left workbook: a cell of right-to-left text reads right to left.
        self.rtl_text = style_of("x", rtl=True) if right_to_left else None
        self.rtl_quoted = style_of("=", quote=True, rtl=True) if right_to_left else None


class SheetRows:
    """Rows for one sheet, numbered from ``first_row``, kept in a temporary file."""

    def __init__(self, styles: CellStyles, columns: int, first_row: int = 2, folder: Path | None = None) -> None:
        self._styles = styles
        self._letters = [get_column_letter(i) for i in range(1, columns + 1)]
        # Next to the file being made when given: a UHRI-sized sheet is a few
        # hundred MB of XML, which a small /tmp (often in memory) may not hold.
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=folder)
        self.next_row = first_row
        # A text's cell after its reference, by text (see append).
        self._texts: dict[str, str] = {}
        # The rows' pieces not yet written to the file.
        self._pending: list[str] = []

    def append(self, values: Sequence[Any]) -> None:
        if len(values) > len(self._letters):
            raise ValueError(f"{len(values)} values for {len(self._letters)} columns")
        n = self.next_row
        if n > MAX_ROWS:
            raise SheetFull(f"a worksheet holds at most {MAX_ROWS:,} rows")
        parts = self._pending
        begun = len(parts)
        try:
            self._add(parts, n, values)
        except BaseException:
            # A value refused: none of the row is written.
            del parts[begun:]
            raise
        if len(parts) >= _PENDING_MOST:
            self._flush()
        self.next_row = n + 1

    def _add(self, parts: list[str], n: int, values: Sequence[Any]) -> None:
        add = parts.append
        add(f'<row r="{n}">')
        texts = self._texts
        for letter, value in zip(self._letters, values, strict=False):
            if value is None:  # as openpyxl: no value, no cell
                continue
            if type(value) is str:
                # Most of a sheet's texts recur (statuses, institutions, clusters, next steps):
                # each is made safe and escaped once, not once a cell.
                tail = texts.get(value)
                if tail is None:
                    if not value:
                        continue
                    tail = self._text_tail(value)
                    if len(value) <= _REUSED_LONGEST:
                        if len(texts) >= _REUSED_MOST:
                            texts.clear()
                        texts[value] = tail
                add(f'<c r="{letter}{n}"{tail}')
            elif value == "":
                continue
            elif isinstance(value, str):
                add(f'<c r="{letter}{n}"{self._text_tail(value)}')
            elif isinstance(value, bool):  # before int: a bool is an int
                add(f'<c r="{letter}{n}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, (int, float, Decimal)):
                if isfinite(value):  # openpyxl writes NaN and infinities as empty cells
                    add(f'<c r="{letter}{n}" t="n"><v>{value:.16g}</v></c>')
            elif isinstance(value, datetime):
                if value.tzinfo is not None:
                    raise TypeError("Excel has no time zones: give UTC without tzinfo")
                add(f'<c r="{letter}{n}" s="{self._styles.datetime}" t="n"><v>{to_excel(value):.16g}</v></c>')
            elif isinstance(value, date):
                add(f'<c r="{letter}{n}" s="{self._styles.date}" t="n"><v>{to_excel(value):.16g}</v></c>')
            elif isinstance(value, time):
                add(f'<c r="{letter}{n}" s="{self._styles.time}" t="n"><v>{to_excel(value):.16g}</v></c>')
            else:
                add(f'<c r="{letter}{n}"{self._text_tail(str(value))}')
        add("</row>")

    def _flush(self) -> None:
        # Many rows' text encoded and written at once: a write a row was a tenth of the sheet's time.
        self._file.write("".join(self._pending).encode("utf-8"))
        self._pending.clear()

    def _text_tail(self, value: str) -> str:
        """A text cell after its reference: its style, its type and its text, safe and escaped."""
        value = cell_text(value)
        styles = self._styles
        rtl = styles.rtl_text is not None and has_rtl(value)
        style_id = (styles.rtl_quoted if rtl else styles.quoted) if dangerous(value) else styles.rtl_text if rtl else None
        style = f' s="{style_id}"' if style_id is not None else ""
        # Whitespace at either end is what strip() would take: kept, as openpyxl keeps it.
        space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
        return f'{style} t="inlineStr"><is><t{space}>{_escaped(value)}</t></is></c>'

    @property
    def last_row(self) -> int:
        return self.next_row - 1

    def copy_to(self, out: IO[bytes]) -> None:
        self._flush()
        self._file.flush()
        self._file.seek(0)
        shutil.copyfileobj(self._file, out, _CHUNK)

    def close(self) -> None:
        self._file.close()


def _escaped(value: str) -> str:
    """The text escaped for XML: str.replace for each of the few characters
    present, several times faster than str.translate over a long text."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


def splice(saved: Path, out: Path, rows: Mapping[str, SheetRows]) -> None:
    """Write ``out``: the package at ``saved`` with each named sheet's rows
    put at the end of its ``<sheetData>``."""
    with zipfile.ZipFile(saved) as source:
        parts = _sheet_parts(source)
        unknown = set(rows) - set(parts)
        if unknown:
            raise SplicedRowsError(f"no sheet named {sorted(unknown)} in the workbook")
        wanted = {parts[name]: rows[name] for name in rows}
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=SHEET_COMPRESSION) as target:
            for info in source.infolist():
                sheet = wanted.get(info.filename)
                if sheet is None:
                    target.writestr(info, source.read(info), compress_type=info.compress_type)
                    continue
                head, tail = _around_rows(source.read(info).decode("utf-8"), info.filename)
                # Named, the part is deflated at the archive's level.
                with target.open(info.filename, "w", force_zip64=True) as part:
                    part.write(head.encode("utf-8"))
                    sheet.copy_to(part)
                    part.write(tail.encode("utf-8"))


def _around_rows(xml: str, name: str) -> tuple[str, str]:
    """The sheet's text before and after where further rows go."""
    if xml.count("</sheetData>") == 1:
        at = xml.index("</sheetData>")
        return xml[:at], xml[at:]
    empty = _EMPTY_SHEET_DATA.findall(xml)
    if len(empty) == 1 and "<sheetData>" not in xml:
        head, tail = _EMPTY_SHEET_DATA.split(xml)
        return head + "<sheetData>", "</sheetData>" + tail
    raise SplicedRowsError(f"{name} has no single sheetData element")


def _sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name to the package part holding it, as the workbook says."""
    workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(_PACKAGE_REL)}
    parts = {}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(_REL))
        if not target:
            raise SplicedRowsError(f"sheet {sheet.get('name')!r} has no part")
        # A target is relative to xl/ unless it starts at the package root.
        parts[str(sheet.get("name"))] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    return parts

