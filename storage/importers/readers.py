"""Stream the rows of a CSV or XLSX file, one at a time, whatever its encoding.

Row numbers are what a person sees when opening the file in a spreadsheet:
the header is row 1, so the first data row is row 2.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from storage.errors import RegistryError
from storage.importers.errors import LimitExceeded, RowError, UnreadableFile
from storage.importers.limits import DEFAULT_LIMITS, ImportLimits
from storage.importers.xlsx_guard import CellTooLong, GuardedZip

_CHUNK = 1 << 20
# Where a CSV row has more cells than the header, the surplus is kept under
# this key so the importer can report the row instead of dropping cells.
EXTRA_CELLS = "\x00extra"


@dataclass
class SourceRow:
    number: int
    values: dict[str, Any]
    sheet: str | None = None
    # Problems the reader met in this row (a cell too long), reported with the importer's.
    errors: list[RowError] = field(default_factory=list)


@dataclass
class Sheet:
    """The rows of one table: a CSV file or one worksheet."""

    name: str | None
    headers: list[str]
    rows: Iterator[SourceRow]
    # For a progress bar: how far through the file we are, in ``total`` units.
    total: int | None = None
    position: Callable[[], int] = lambda: 0
    header_row: int = 1


def detect_encoding(path: Path) -> str:
    """UTF-8 when the bytes are valid UTF-8; otherwise the legacy encoding the file's
    line endings point to: Mac Roman for CR-only files (classic Mac exports, as UPR
    Info's are), Windows-1252 for the rest."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    has_lf = has_cr = False
    valid_utf8 = True
    with path.open("rb") as fh:
        head = fh.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        while chunk := fh.read(_CHUNK):
            has_lf = has_lf or b"\n" in chunk
            has_cr = has_cr or b"\r" in chunk
            if valid_utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    valid_utf8 = False
        if valid_utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                valid_utf8 = False
    if valid_utf8:
        return "utf-8"
    if has_cr and not has_lf:
        return "mac_roman"
    return "cp1252"


def _clean_header(value: Any) -> str:
    return "" if value is None else str(value).strip().lstrip("\ufeff")


def _same(headers: list[str]) -> list[str]:
    return headers


def _too_long(values: dict[str, Any], number: int, sheet: str | None, limit: int) -> list[RowError]:
    return [
        RowError(number, column, f"longer than {limit:,} characters ([imports] max_cell_chars)", sheet)
        for column, value in values.items()
        if isinstance(value, str) and len(value) > limit and column != EXTRA_CELLS
    ]


def _past_row_limit(path: Path, where: str, number: int, limits: ImportLimits) -> LimitExceeded:
    return LimitExceeded(
        f"{path}: {where}row {number:,} is past the limit of {limits.max_rows:,} rows ([imports] max_rows); "
        "nothing imported"
    )


def _bounded_lines(text: IO[str], path: Path, limit: int) -> Iterator[str]:
    """The file's lines, refusing one longer than ``limit``: iterating a text file
    would build a line of any length whole, a gigabyte with no newline included."""
    number = 0
    for line in iter(partial(text.readline, limit), ""):
        number += 1
        if len(line) >= limit and not line.endswith(("\n", "\r")):
            raise LimitExceeded(
                f"{path}: line {number:,} is longer than {limit:,} characters; nothing imported"
            )
        yield line


def read_csv(
    path: Path,
    encoding: str | None = None,
    normalise: Callable[[list[str]], list[str]] = _same,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> Sheet:
    encoding = encoding or detect_encoding(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnreadableFile(f"{path}: unknown encoding {encoding!r}") from None
    raw = path.open("rb")
    # newline="" keeps CR-only, LF and CRLF line endings all working, and
    # lets the csv module see newlines inside quoted cells.
    text: IO[str] = io.TextIOWrapper(raw, encoding=encoding, newline="")
    # A line may hold a few dozen columns each as long as a cell may be.
    reader = csv.reader(_bounded_lines(text, path, 32 * (limits.max_cell_chars + 3)))
    try:
        header_row = next(reader)
    except StopIteration:
        text.close()
        raise UnreadableFile(f"{path}: the file is empty") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        text.close()
        raise UnreadableFile(f"{path}: cannot read as CSV ({encoding}): {exc}") from None
    except LimitExceeded:
        text.close()
        raise
    headers = normalise([_clean_header(h) for h in header_row])

    def rows() -> Iterator[SourceRow]:
        number = 1
        try:
            for record in reader:
                number += 1
                if number > limits.max_rows:
                    raise _past_row_limit(path, "", number, limits)
                if not any(cell.strip() for cell in record):
                    continue
                # A short row leaves trailing cells empty; a long one is reported.
                values = dict(zip(headers, record, strict=False))
                if len(record) > len(headers):
                    values[EXTRA_CELLS] = record[len(headers):]
                yield SourceRow(number, values, errors=_too_long(values, number, None, limits.max_cell_chars))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise UnreadableFile(f"{path}: row {number + 1}: cannot read as CSV ({encoding}): {exc}") from None
        finally:
            text.close()

    return Sheet(None, headers, rows(), total=path.stat().st_size, position=raw.tell)


# What a damaged or hostile archive raises from zipfile, zlib, the XML parser or openpyxl.
_BROKEN_XLSX = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ParseError, KeyError, IndexError,
    ValueError, TypeError, AttributeError, OSError,
)


def _why_broken(exc: BaseException) -> str:
    # openpyxl wraps the parser's error in "Unable to read workbook: ..."; the cause says more.
    cause = exc.__cause__ or exc
    if isinstance(cause, zlib.error):
        return f"a compressed part is corrupt ({cause})"
    if isinstance(cause, EOFError):
        return "the file is cut short"
    if isinstance(cause, ParseError):
        return f"malformed XML ({cause})"
    if isinstance(cause, KeyError):
        return f"a part is missing ({str(cause).strip(chr(34))})"
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


@contextmanager
def _reading_xlsx(path: Path, sheet: str | None = None) -> Iterator[None]:
    try:
        yield
    except RegistryError:
        raise
    except _BROKEN_XLSX as exc:
        where = f"sheet {sheet!r}: " if sheet else ""
        raise UnreadableFile(f"{path} is not a readable .xlsx file: {where}{_why_broken(exc)}") from None


def open_workbook(path: Path, limits: ImportLimits = DEFAULT_LIMITS) -> Any:
    from openpyxl.reader.excel import ExcelReader  # heavy import, only for .xlsx

    with _reading_xlsx(path):
        archive = GuardedZip(path, limits, str(path))
        try:
            # load_workbook's own steps, on an archive whose every part is guarded.
            # read_only streams rows from the zip instead of loading the sheet.
            reader = ExcelReader(path, read_only=True, data_only=True)
            reader.archive.close()
            reader.archive, reader.valid_files = archive, archive.namelist()
            archive.find_sheets = lambda: reader.parser.find_sheets()
            reader.read()
        except BaseException:
            archive.close()
            raise
        return reader.wb


def _header_of(head: list[tuple[Any, ...]], required: set[str], normalise: Callable[[list[str]], list[str]]) -> int | None:
    for index, row in enumerate(head):
        if required <= set(normalise([_clean_header(c) for c in row])):
            return index
    return next((i for i, row in enumerate(head) if any(c is not None for c in row)), None)


def _named(exc: CellTooLong, headers: list[str]) -> LimitExceeded:
    header = headers[exc.column - 1] if 0 < exc.column <= len(headers) else None
    return LimitExceeded(exc.describe(header or None))


def read_worksheet(
    path: Path,
    worksheet: Any,
    required: set[str],
    normalise: Callable[[list[str]], list[str]] = _same,
    header_search_rows: int = 10,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> Sheet:
    """Rows of one worksheet. The header is the first row holding every required
    column (exports sometimes put a title line above it); ``normalise`` maps
    alternative spellings of a header to the one the importer expects."""
    name = worksheet.title
    head: list[tuple[Any, ...]] = []
    try:
        with _reading_xlsx(path, name):
            head.extend(worksheet.iter_rows(min_row=1, max_row=header_search_rows, values_only=True))
    except CellTooLong as exc:
        # Among the first rows: name its column if the header came before it.
        found = _header_of(head, required, normalise)
        headers = normalise([_clean_header(c) for c in head[found]]) if found is not None else []
        raise _named(exc, headers) from None
    header_index = _header_of(head, required, normalise)
    if header_index is None:
        raise UnreadableFile(f"{path}: sheet {name!r} is empty")
    headers = normalise([_clean_header(c) for c in head[header_index]])
    first_data_row = header_index + 2
    total = worksheet.max_row
    state = {"position": 0}

    def rows() -> Iterator[SourceRow]:
        number = first_data_row - 1
        try:
            with _reading_xlsx(path, name):
                for record in worksheet.iter_rows(min_row=first_data_row, values_only=True):
                    number += 1
                    state["position"] = number
                    if number > limits.max_rows:
                        raise _past_row_limit(path, f"sheet {name!r}, ", number, limits)
                    if not any(c is not None and str(c).strip() for c in record):
                        continue
                    # Cells right of the last header have no column to belong to.
                    values = dict(zip(headers, record, strict=False))
                    yield SourceRow(number, values, sheet=name, errors=_too_long(values, number, name, limits.max_cell_chars))
        except CellTooLong as exc:
            raise _named(exc, headers) from None

    return Sheet(
        name, headers, rows(), total=total, position=lambda: state["position"], header_row=header_index + 1
    )


def suffix_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UnreadableFile(f"{path}: expected a .csv or .xlsx file, got {suffix or 'no extension'!r}")
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    return suffix
