"""An .xlsx archive whose parts cannot cost more than [imports] allows.

openpyxl builds each shared string and each row whole in memory before it
hands it over, so a 1 MB file holding a 1 GB string once took 5 GB. Here
every part openpyxl opens is a stream that first runs each chunk through
expat, which builds nothing, and stops the read before openpyxl sees the
chunk that takes a cell, a row, a string or the sheet past its bound. The
zip's declared sizes are checked before anything is inflated, and each part
may not inflate past what it declared (a zip bomb lies there).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from storage.importers.errors import LimitExceeded, UnreadableFile
from storage.importers.limits import EXCEL_COLUMNS, ImportLimits

_CHUNK = 1 << 16
# openpyxl reads these parts (workbook, styles, relationships...) whole.
_OTHER_PART_BYTES = 64 * 1024 * 1024
# Elements one row or one shared string may hold: every column of a row with
# its value, formula and rich-text runs, and then some.
_ELEMENTS_PER_UNIT = EXCEL_COLUMNS * 8
# Text outside any cell or string (pretty-printing, headers and footers).
_TEXT_PER_ROW = 1 << 20
_TEXT_OUTSIDE = 64 << 20
# A strings table longer than this many strings a row is no export's.
_STRINGS_PER_ROW = 16
# What one string costs in openpyxl's table besides its characters: the str
# object's header and its slot in the list, rounded up.
_STRING_BYTES = 96
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")
# What zipfile can inflate; for any other method it raises NotImplementedError.
_KNOWN_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
# General-purpose flag bits 0 and 6 (encrypted) and 5 (patch data): zipfile
# raises RuntimeError or NotImplementedError for them, which no reader expects.
_ENCRYPTED, _PATCHED, _STRONGLY_ENCRYPTED = 0x1, 0x20, 0x40


class CellTooLong(LimitExceeded):
    """One cell's text passes max_cell_chars; the reader names its column's header."""

    def __init__(self, path: str, sheet: str, row: int, column: int, limit: int) -> None:
        self.path, self.sheet, self.row, self.column, self.limit = path, sheet, row, column, limit
        super().__init__(self.describe(None))

    def describe(self, header: str | None) -> str:
        from openpyxl.utils import get_column_letter

        letter = get_column_letter(self.column) if 1 <= self.column <= EXCEL_COLUMNS else str(self.column)
        column = f"column {header!r} ({letter})" if header else f"column {letter}"
        return (
            f"{self.path}: {self.sheet}, row {self.row:,}, {column}: longer than {self.limit:,} characters "
            "([imports] max_cell_chars); nothing imported"
        )


def _local(name: str) -> str:
    return name.rpartition("}")[2]


class _Watch:
    """Follows one part with expat and raises once it goes past a bound."""

    def __init__(self, path: str, label: Callable[[], str], limits: ImportLimits) -> None:
        self.path = path
        self.label = label
        self.limits = limits
        self.parser = expat.ParserCreate(namespace_separator="}")
        # Joins text into few callbacks (a million newlines are not a million calls).
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text
        self.parser.StartDoctypeDeclHandler = self.doctype
        self.outside = 0

    def feed(self, data: bytes, final: bool) -> None:
        try:
            self.parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise UnreadableFile(
                f"{self.path} is not a readable .xlsx file: malformed XML in {self.label()} ({exc})"
            ) from None

    def refuse(self, what: str) -> LimitExceeded:
        return LimitExceeded(f"{self.path}: {self.label()}: {what}; nothing imported")

    def doctype(self, *_: Any) -> None:
        # No spreadsheet needs a DTD; it is how entity-expansion attacks begin.
        raise UnreadableFile(f"{self.path} is not a readable .xlsx file: {self.label()} declares a DTD")

    def count_outside(self, n: int) -> None:
        self.outside += n
        if self.outside > _TEXT_OUTSIDE:
            raise self.refuse(f"more than {_TEXT_OUTSIDE:,} characters of text outside the cells")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        raise NotImplementedError

    def end(self, name: str) -> None:
        raise NotImplementedError

    def text(self, data: str) -> None:
        raise NotImplementedError


class _SheetWatch(_Watch):
    def __init__(self, path: str, label: Callable[[], str], limits: ImportLimits) -> None:
        super().__init__(path, label, limits)
        self.rows = 0
        self.row = 0
        self.in_row = False
        self.elements = 0
        self.row_text = 0
        self.column = 0
        self.in_cell = False
        self.cell_chars = 0
        self.elements_outside = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "row":
            self.rows += 1
            number = attrs.get("r", "")
            self.row = int(number) if number.isdigit() else self.row + 1
            if self.rows > self.limits.max_rows or self.row > self.limits.max_rows:
                raise self.refuse(
                    f"row {self.row:,} is past the limit of {self.limits.max_rows:,} rows ([imports] max_rows)"
                )
            self.in_row, self.elements, self.row_text, self.column = True, 0, 0, 0
        elif self.in_row:
            self.elements += 1
            if self.elements > _ELEMENTS_PER_UNIT:
                raise self.refuse(f"row {self.row:,} holds more than {_ELEMENTS_PER_UNIT:,} XML elements")
            if local == "c":
                match = _CELL_REF.match(attrs.get("r", ""))
                self.column = _column_number(match.group(1)) if match else self.column + 1
                self.in_cell, self.cell_chars = True, 0
        else:
            self.elements_outside += 1
            if self.elements_outside > 4 * self.limits.max_rows:
                raise self.refuse(f"more than {4 * self.limits.max_rows:,} XML elements outside the rows")

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "c":
            self.in_cell = False
        elif local == "row":
            self.in_row = self.in_cell = False

    def text(self, data: str) -> None:
        if self.in_cell:
            self.cell_chars += len(data)
            if self.cell_chars > self.limits.max_cell_chars:
                raise CellTooLong(self.path, self.label(), self.row, self.column, self.limits.max_cell_chars)
        elif self.in_row:
            self.row_text += len(data)
            if self.row_text > _TEXT_PER_ROW:
                raise self.refuse(f"row {self.row:,} holds more than {_TEXT_PER_ROW:,} characters outside its cells")
        else:
            self.count_outside(len(data))


class _StringsWatch(_Watch):
    def __init__(self, path: str, label: Callable[[], str], limits: ImportLimits) -> None:
        super().__init__(path, label, limits)
        self.strings = 0
        self.in_string = False
        self.phonetic = False
        self.elements = 0
        self.chars = 0
        self.phonetic_chars = 0
        # Bytes a character of this string takes in Python: 1, 2 or 4, by its widest.
        self.width = 1
        self.table_bytes = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "si":
            self.strings += 1
            most = _STRINGS_PER_ROW * self.limits.max_rows
            if self.strings > most:
                raise self.refuse(f"more than {most:,} shared strings ({_STRINGS_PER_ROW} a row of [imports] max_rows)")
            self.in_string, self.elements, self.chars, self.phonetic_chars, self.width = True, 0, 0, 0, 1
        elif self.in_string:
            self.elements += 1
            if self.elements > _ELEMENTS_PER_UNIT:
                raise self.refuse(f"shared string {self.strings:,} holds more than {_ELEMENTS_PER_UNIT:,} XML elements")
            if local == "rPh":
                self.phonetic = True

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "rPh":
            self.phonetic = False
        elif local == "si":
            self.in_string = self.phonetic = False
            # Refused before openpyxl sees this string: the table is held whole, to the end.
            self.table_bytes += _STRING_BYTES + self.chars * self.width
            if self.table_bytes > self.limits.max_strings_bytes:
                raise self.refuse(
                    f"shared string {self.strings:,} takes the table past {self.limits.max_strings_mb:,} MB "
                    "in memory ([imports] max_strings_mb)"
                )

    def text(self, data: str) -> None:
        if not self.in_string:
            self.count_outside(len(data))
            return
        # Phonetic guides are not part of the value but are built all the same.
        if self.phonetic:
            self.phonetic_chars += len(data)
            over = self.phonetic_chars > self.limits.max_cell_chars
        else:
            self.chars += len(data)
            over = self.chars > self.limits.max_cell_chars
            widest = ord(max(data)) if data else 0
            if widest > 0xFF:
                self.width = max(self.width, 2 if widest <= 0xFFFF else 4)
        if over:
            raise self.refuse(
                f"shared string {self.strings:,} is longer than {self.limits.max_cell_chars:,} characters "
                "([imports] max_cell_chars)"
            )


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


class _GuardedPart:
    """A part being inflated: never more than it declared, each chunk watched first."""

    def __init__(self, raw: IO[bytes], info: zipfile.ZipInfo, watch: _Watch | None, path: str) -> None:
        self._raw = raw
        self._info = info
        self._watch = watch
        self._path = path
        self._inflated = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(_CHUNK), b""))
        data = self._raw.read(size)
        self._inflated += len(data)
        if self._inflated > self._info.file_size:
            # zipfile stops at the declared size already; this says so if it ever does not.
            raise UnreadableFile(
                f"{self._path} is not a readable .xlsx file: {self._info.filename} inflates past its declared size"
            )
        if self._watch is not None and not self._done:
            self._done = not data
            self._watch.feed(data, final=self._done)
        return data

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _GuardedPart:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class GuardedZip(zipfile.ZipFile):
    """The workbook's archive as openpyxl reads it, every part opened through a guard."""

    def __init__(self, path: Path, limits: ImportLimits, shown: str) -> None:
        super().__init__(path)
        self.limits = limits
        self.shown = shown
        # Sheet titles by part, so errors name sheets; ``find_sheets`` is openpyxl's
        # own lookup, usable once it has read the workbook part.
        self.titles: dict[str, str] = {}
        self.find_sheets: Callable[[], Iterable[tuple[Any, Any]]] = lambda: ()
        declared = sum(info.file_size for info in self.infolist())
        if declared > limits.max_unpacked_bytes:
            raise LimitExceeded(
                f"{shown}: unpacks to {declared / 2**20:,.0f} MB, more than the limit of "
                f"{limits.max_unpacked_mb:,} MB ([imports] max_unpacked_mb); nothing imported"
            )

    def open(self, name: Any, mode: str = "r", pwd: bytes | None = None, *, force_zip64: bool = False) -> Any:
        if mode != "r":
            return super().open(name, mode, pwd, force_zip64=force_zip64)
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        self._refuse_unreadable(info)
        stream = super().open(info, mode, pwd, force_zip64=force_zip64)
        return _GuardedPart(stream, info, self._watch_for(info), self.shown)

    def _refuse_unreadable(self, info: zipfile.ZipInfo) -> None:
        # zipfile reads both from the central directory, as it is checked here.
        why = None
        if info.flag_bits & (_ENCRYPTED | _STRONGLY_ENCRYPTED):
            why = "is encrypted (a workbook protected by a password cannot be imported: save it without one)"
        elif info.flag_bits & _PATCHED:
            why = "holds zip patch data, which no workbook does"
        elif info.compress_type not in _KNOWN_METHODS:
            why = f"is compressed with method {info.compress_type}, which zip readers do not know"
        if why:
            raise UnreadableFile(f"{self.shown} is not a readable .xlsx file: part {info.filename} {why}")

    def _watch_for(self, info: zipfile.ZipInfo) -> _Watch | None:
        part = info.filename
        lowered = part.lower()
        if lowered.endswith("sharedstrings.xml"):
            return _StringsWatch(self.shown, lambda: "the shared strings", self.limits)
        if "worksheets/" in lowered and lowered.endswith(".xml"):
            return _SheetWatch(self.shown, lambda: self._sheet_label(part), self.limits)
        if info.file_size > _OTHER_PART_BYTES:
            raise LimitExceeded(
                f"{self.shown}: part {part} unpacks to {info.file_size / 2**20:,.0f} MB, more than a workbook "
                f"needs ({_OTHER_PART_BYTES >> 20} MB); nothing imported"
            )
        return None

    def _sheet_label(self, part: str) -> str:
        if part not in self.titles:
            try:
                self.titles.update({rel.target: sheet.name for sheet, rel in self.find_sheets()})
            except Exception:  # noqa: BLE001 - only a label for an error already being raised
                pass
        title = self.titles.get(part)
        return f"sheet {title!r}" if title is not None else f"sheet part {part}"
