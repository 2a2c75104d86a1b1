"""An .xlsx archive whose parts cannot cost more than [imports] allows.

openpyxl builds each shared string and each row whole in memory before it
hands it over, so a 1 MB file holding a 1 GB string once took 5 GB, and an
object for each element of the parts it reads whole (900,000 fonts in a
64 KB styles.xml took 900 MB). Here every part openpyxl opens is a stream
that first runs each chunk through expat, which builds nothing, and stops
the read before openpyxl sees the chunk that takes a cell, a row, a string,
a sheet or the other parts past their bound, or that is not well-formed
XML: damage is one line naming the part, not a parser's traceback. A part
openpyxl needs and the archive lacks is named the same way. The zip's
declared sizes are checked before anything is inflated, and each part may
not inflate past what it declared (a zip bomb lies there).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from storage.importers.errors import LimitExceeded, UnreadableFile
from storage.importers.limits import EXCEL_COLUMNS, ImportLimits

_CHUNK = 1 << 16
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
# One tag with its attributes, a comment or a processing instruction: no
# workbook's is near this (a cell's text is not one, it comes in pieces).
_TOKEN_BYTES = 1 << 20
# What one read inflates at most: a caller asking for a gigabyte gets it in pieces.
_READ_BYTES = 1 << 20
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

    def __init__(self, path: str, label: Callable[[], str], limits: ImportLimits, part: str) -> None:
        self.path = path
        self.label = label
        self.part = part
        self.limits = limits
        self.parser = expat.ParserCreate(namespace_separator="}")
        # Joins text into few callbacks (a million newlines are not a million calls).
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text
        self.parser.StartDoctypeDeclHandler = self.doctype
        self.outside = 0
        self.fed = 0

    def feed(self, data: bytes, final: bool) -> None:
        try:
            self.parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise UnreadableFile(
                f"{self.path} is not a readable .xlsx file: {self.where()} is not well-formed XML ({exc})"
            ) from None
        self.fed += len(data)
        # Where expat has got to: the rest it holds, waiting for the token to end.
        # Text it hands over as it comes; a tag, comment or instruction it keeps
        # whole, and rescans at each chunk (400 MB of one attribute took minutes
        # and grew without bound, in expat and then in lxml).
        if self.fed - self.parser.CurrentByteIndex > _TOKEN_BYTES:
            raise self.refuse(
                f"one XML tag or comment near byte {self.parser.CurrentByteIndex:,} is longer than "
                f"{_TOKEN_BYTES:,} bytes"
            )

    def where(self) -> str:
        label = self.label()
        return label if label == f"part {self.part}" else f"{label} (part {self.part})"

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
    def __init__(self, path: str, label: Callable[[], str], limits: ImportLimits, part: str) -> None:
        super().__init__(path, label, limits, part)
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
    def __init__(self, path: str, label: Callable[[], str], limits: ImportLimits, part: str) -> None:
        super().__init__(path, label, limits, part)
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


class _PartsBudget:
    """What the parts openpyxl reads whole have cost so far, all of them together."""

    def __init__(self) -> None:
        self.bytes = 0
        self.elements = 0


class _PartWatch(_Watch):
    """A part openpyxl reads whole and builds an object for each element of."""

    def __init__(self, path: str, part: str, limits: ImportLimits, budget: _PartsBudget) -> None:
        super().__init__(path, lambda: f"part {part}", limits, part)
        self.budget = budget

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.budget.elements += 1
        if self.budget.elements > self.limits.max_parts_elements:
            raise self.refuse(
                f"more than {self.limits.max_parts_elements:,} XML elements in the parts besides the sheets "
                "and shared strings ([imports] max_parts_elements)"
            )

    def end(self, name: str) -> None:
        pass

    def text(self, data: str) -> None:
        self.count_outside(len(data))


class MissingPart(UnreadableFile, KeyError):
    """A part openpyxl asks for and the archive lacks. A KeyError too, as zipfile
    raises: openpyxl reads an optional part (styles, a sheet's relationships)
    by catching it, and goes on without the part."""

    def __str__(self) -> str:
        return str(self.args[0])


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _damaged(path: str, part: str, exc: Exception) -> UnreadableFile:
    why = "is cut short" if isinstance(exc, EOFError) else f"is corrupt ({exc})"
    return UnreadableFile(f"{path} is not a readable .xlsx file: part {part} {why}")


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
        try:
            data = self._raw.read(min(size, _READ_BYTES))
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - zipfile, zlib, bz2 or lzma on a damaged member
            raise _damaged(self._path, self._info.filename, exc) from exc
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
        self.parts = _PartsBudget()
        # The last part openpyxl read whole: it parses each as soon as it has
        # read it, so a value it cannot take (a font id "abc") is in that part.
        self.last_whole: str | None = None
        declared = sum(info.file_size for info in self.infolist())
        if declared > limits.max_unpacked_bytes:
            raise LimitExceeded(
                f"{shown}: unpacks to {declared / 2**20:,.0f} MB, more than the limit of "
                f"{limits.max_unpacked_mb:,} MB ([imports] max_unpacked_mb); nothing imported"
            )

    def read(self, name: Any, pwd: bytes | None = None) -> bytes:
        # What openpyxl reads whole it parses whole: watched as such, whatever its name.
        with self._open_part(name, pwd, whole=True) as part:
            return part.read()

    def open(self, name: Any, mode: str = "r", pwd: bytes | None = None, *, force_zip64: bool = False) -> Any:
        if mode != "r":
            return super().open(name, mode, pwd, force_zip64=force_zip64)
        return self._open_part(name, pwd, whole=False)

    def _open_part(self, name: Any, pwd: bytes | None, whole: bool) -> _GuardedPart:
        if isinstance(name, zipfile.ZipInfo):
            info = name
        else:
            try:
                info = self.getinfo(name)
            except KeyError:
                raise MissingPart(f"{self.shown} is not a readable .xlsx file: part {name} is missing") from None
        self._refuse_unreadable(info)
        watch = self._watch_for(info, whole)
        try:
            stream = super().open(info, "r", pwd)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - zipfile on a damaged member header
            raise _damaged(self.shown, info.filename, exc) from exc
        if whole:
            self.last_whole = info.filename
        return _GuardedPart(stream, info, watch, self.shown)

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

    def _watch_for(self, info: zipfile.ZipInfo, whole: bool) -> _Watch:
        part = info.filename
        lowered = part.lower()
        # openpyxl streams only these two (in read-only mode, chartsheets skipped).
        if not whole and lowered.endswith("sharedstrings.xml"):
            return _StringsWatch(self.shown, lambda: "the shared strings", self.limits, part)
        if not whole and "worksheets/" in lowered and lowered.endswith(".xml"):
            return _SheetWatch(self.shown, lambda: self._sheet_label(part), self.limits, part)
        # The rest it holds whole, some twice (the bytes and the tree); the
        # theme is not parsed, but a workbook whose theme is not XML is damaged.
        self.parts.bytes += info.file_size
        if self.parts.bytes > self.limits.max_parts_bytes:
            raise LimitExceeded(
                f"{self.shown}: part {part} takes the parts besides the sheets and shared strings past "
                f"{self.limits.max_parts_mb:,} MB unpacked ([imports] max_parts_mb); nothing imported"
            )
        return _PartWatch(self.shown, part, self.limits, self.parts)

    def _sheet_label(self, part: str) -> str:
        if part not in self.titles:
            try:
                self.titles.update({rel.target: sheet.name for sheet, rel in self.find_sheets()})
            except Exception:  # noqa: BLE001 - only a label for an error already being raised
                pass
        title = self.titles.get(part)
        return f"sheet {title!r}" if title is not None else f"sheet part {part}"



# The quick survey (vouch_for_calamine) reads the bytes as Excel, openpyxl and
# xlsxwriter write them: unprefixed tags, each cell and row opening with its
# reference (`<c r="B7"`, `<row r="7"`). Anything else is left to the guard.
# An attribute value cannot hold "<", so a chunk cut before a "<" cuts no tag.
# One search a region: a DTD, a prefixed tag, a cell or row opening without
# its reference first, or a cell past column Z.
_ODD_SHEET = re.compile(rb'<(?:!DOCTYPE|[\w.-]*:|c(?:[>/\t\n\r]| (?!r="[A-Z]\d))|row(?:[>/\t\n\r]| (?!r=")))')
_ODD_STRINGS = re.compile(rb"<(?:!DOCTYPE|[\w.-]*:|si[\s/])")
_ROW_NUMBER = re.compile(rb'<row r="(\d+)"')
_ODD_STYLE_NUMBER = re.compile(rb'\s(?:\w*Id|count)="(?!\d+")')
# Every XML element takes at least "<a/>".
_ELEMENT_BYTES = 4


class _NotVouched(Exception):
    """The survey cannot vouch for the file: the guarded openpyxl read decides."""


class _Pieces:
    """The longest run of bytes from one opening ``unit`` to the next, over a
    part fed in regions, and how many openings: a cell's text, a row's or a
    string's lies within one such run, and has no more characters than bytes."""

    def __init__(self, unit: bytes, most: int, *, counted: bool = True) -> None:
        self.unit, self.most = unit, most
        self.current = 0
        self.count = 0
        # Counting is a search of its own: only where the count is read.
        self.counted = counted

    def feed(self, region: bytes) -> None:
        # Searches rather than region.split(unit): a sheet has a cell opening
        # every few dozen bytes, and a bytes object for each was most of the
        # survey. From each opening, the furthest next one within reach
        # (``most`` bytes between them) is found, so the runs between are
        # never looked at one by one.
        unit, most, width = self.unit, self.most, len(self.unit)
        at = region.find(unit)
        if at < 0:
            self.current += len(region)
            if self.current > most:
                raise _NotVouched
            return
        if self.current + at > most:
            raise _NotVouched
        if self.counted:
            self.count += region.count(unit)
        while True:
            reach = region.rfind(unit, at + width, at + 2 * width + most)
            if reach < 0:
                if region.find(unit, at + width) >= 0:
                    raise _NotVouched
                break
            at = reach
        self.current = len(region) - at - width
        if self.current > most:
            raise _NotVouched


def _regions(archive: zipfile.ZipFile, info: zipfile.ZipInfo, pieces: list[_Pieces]) -> Iterator[bytes]:
    """The part inflated a megabyte at a time, each region ending before a "<",
    refused as soon as a run between two "<" or between two units is too long
    (so no more than that is ever held)."""
    tail = b""
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(_READ_BYTES)
            buffer = tail + chunk
            cut = len(buffer) if not chunk else buffer.rfind(b"<")
            cut = max(cut, 0)
            region, tail = buffer[:cut], buffer[cut:]
            if len(tail) > _TOKEN_BYTES or any(len(tail) + p.current > p.most for p in pieces):
                raise _NotVouched
            for piece in pieces:
                piece.feed(region)
            if region:
                yield region
            if not chunk:
                return


def _survey_sheet(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ImportLimits) -> None:
    """Within every bound the guard sets, and shaped so that calamine's whole
    rectangle of cells stays the size of the rows the part holds: cells in
    columns A to Z, each naming its place, row numbers close to the rows' count."""
    cells = _Pieces(b'<c r="', limits.max_cell_chars, counted=False)
    rows = _Pieces(b"<row", _TEXT_PER_ROW, counted=False)
    numbered = highest = 0
    for region in _regions(archive, info, [cells, rows]):
        if _ODD_SHEET.search(region):
            raise _NotVouched
        found = _ROW_NUMBER.findall(region)
        numbered += len(found)
        if found:
            highest = max(highest, max(map(int, found)))
    if numbered > limits.max_rows or highest > min(limits.max_rows, 2 * numbered + 16):
        raise _NotVouched


def _survey_strings(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ImportLimits) -> None:
    strings = _Pieces(b"<si>", limits.max_cell_chars)
    size = 0
    wide = False
    for region in _regions(archive, info, [strings]):
        if _ODD_STRINGS.search(region):
            raise _NotVouched
        size += len(region)
        wide = wide or b"&#" in region
    if strings.count > _STRINGS_PER_ROW * limits.max_rows:
        raise _NotVouched
    # The table as the guard counts it, at most: each character at 4 bytes,
    # and only if that is too many, at the width the bytes show (a numeric
    # entity may name any character).
    if _STRING_BYTES * strings.count + 4 * size <= limits.max_strings_bytes:
        return
    if wide:
        raise _NotVouched
    width = 1
    for region in _regions(archive, info, [_Pieces(b"<si>", limits.max_cell_chars)]):
        if not region.isascii():
            width = 2
            if re.search(rb"[\xf0-\xff]", region):
                raise _NotVouched
    if _STRING_BYTES * strings.count + width * size > limits.max_strings_bytes:
        raise _NotVouched


def _well_formed(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """A small part calamine may read: well-formed XML, without a DTD."""
    if info.file_size > _READ_BYTES:
        raise _NotVouched
    # Prefixes resolved, as the guard's parser does: an unbound one is damage.
    parser = expat.ParserCreate(namespace_separator="}")

    def doctype(*_: Any) -> None:
        raise _NotVouched

    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(archive.read(info), True)
    except expat.ExpatError:
        raise _NotVouched from None


def vouch_for_calamine(path: Path, limits: ImportLimits) -> bool:
    """Whether the guarded openpyxl read would take the workbook without a
    refusal, as far as a quick survey can tell (True), so that calamine, which
    builds its sheet and strings whole in Rust, may read it at the cost of its
    bytes. False when in any doubt: the guarded read then refuses or reads it,
    as it always did. Each sheet and the shared strings are streamed once and
    looked at with bytes' own searches; XML damage there is calamine's to
    find (the reader then falls back to the guarded read, which names it)."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if sum(info.file_size for info in infos) > limits.max_unpacked_bytes:
                return False
            others = 0
            for info in infos:
                if info.flag_bits & (_ENCRYPTED | _STRONGLY_ENCRYPTED | _PATCHED):
                    return False
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    return False
                lowered = info.filename.lower()
                if lowered.endswith("sharedstrings.xml"):
                    _survey_strings(archive, info, limits)
                elif "worksheets/" in lowered and lowered.endswith(".xml"):
                    _survey_sheet(archive, info, limits)
                elif not info.is_dir():
                    # Too few bytes, together, to hold more elements than the guard allows.
                    others += info.file_size
                    if others > min(limits.max_parts_bytes, _ELEMENT_BYTES * limits.max_parts_elements):
                        return False
                    if lowered.endswith((".xml", ".rels")):
                        _well_formed(archive, info)
            # openpyxl refuses a workbook without them, or with a style's number
            # that is none; calamine would go on.
            names = {info.filename.lower(): info for info in infos}
            if not {"[content_types].xml", "xl/workbook.xml"} <= names.keys():
                return False
            styles = names.get("xl/styles.xml")
            if styles is not None and _ODD_STYLE_NUMBER.search(archive.read(styles)):
                return False
    except _NotVouched:
        return False
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError):
        return False
    return True


# The parts every guarded openpyxl read takes whole, besides sheets and strings.
_READ_WHOLE = (
    "[content_types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
    "xl/theme/theme1.xml", "docprops/core.xml", "docprops/app.xml", "docprops/custom.xml",
)


def refuse_past_bounds(path: Path, limits: ImportLimits) -> None:
    """Raise the guard's own LimitExceeded for a workbook whose parts go past a
    bound (a string, a strings table, a tag, rows, the parts read whole), as
    the guarded openpyxl read would, but with expat alone: the refusal then
    costs no more than a good file's calamine import, openpyxl not even
    imported. Anything else (damage, a cell too long, whose message names its
    column once the header is known) is left to the guarded read."""
    try:
        archive = GuardedZip(path, limits, str(path))
    except LimitExceeded:
        raise
    except Exception:  # noqa: BLE001 - damage: the guarded read names it
        return
    try:
        archive.titles.update(_sheet_titles(archive))
        names = {info.filename.lower(): info for info in archive.infolist()}
        for name in _READ_WHOLE:
            if name in names:
                archive.read(names[name])
        for lowered, info in names.items():
            if lowered.endswith("sharedstrings.xml") or ("worksheets/" in lowered and lowered.endswith(".xml")):
                with archive.open(info) as part:
                    while part.read(_READ_BYTES):
                        pass
    except CellTooLong:
        return
    except LimitExceeded:
        raise
    except Exception:  # noqa: BLE001 - damage: the guarded read names it
        return
    finally:
        archive.close()


def _sheet_titles(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet part's title, from the workbook and its relationships (both
    small once the guard has let them through), for the refusal to name it."""
    from xml.etree import ElementTree

    try:
        sizes = {i.filename: i.file_size for i in archive.infolist()}
        if sizes.get("xl/workbook.xml", 1 << 30) > _READ_BYTES or sizes.get("xl/_rels/workbook.xml.rels", 1 << 30) > _READ_BYTES:
            return {}
        rels = ElementTree.fromstring(zipfile.ZipFile.read(archive, "xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target", "") for r in rels}
        workbook = ElementTree.fromstring(zipfile.ZipFile.read(archive, "xl/workbook.xml"))
        titles = {}
        for sheet in workbook.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"):
            rel = sheet.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
            target = targets.get(rel, "")
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            titles[part] = sheet.get("name", "")
        return titles
    except Exception:  # noqa: BLE001 - only labels
        return {}
