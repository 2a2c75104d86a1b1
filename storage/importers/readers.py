"""Stream the rows of a CSV or XLSX file, one at a time, whatever its encoding.

Row numbers are what a person sees when opening the file in a spreadsheet:
the header is row 1, so the first data row is row 2.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from storage.importers.errors import UnreadableFile

_CHUNK = 1 << 20
# Where a CSV row has more cells than the header, the surplus is kept under
# this key so the importer can report the row instead of dropping cells.
EXTRA_CELLS = "\x00extra"


@dataclass
class SourceRow:
    number: int
    values: dict[str, Any]
    sheet: str | None = None


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


def read_csv(path: Path, encoding: str | None = None, normalise: Callable[[list[str]], list[str]] = _same) -> Sheet:
    encoding = encoding or detect_encoding(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnreadableFile(f"{path}: unknown encoding {encoding!r}") from None
    raw = path.open("rb")
    # newline="" keeps CR-only, LF and CRLF line endings all working, and
    # lets the csv module see newlines inside quoted cells.
    text: IO[str] = io.TextIOWrapper(raw, encoding=encoding, newline="")
    reader = csv.reader(text)
    try:
        header_row = next(reader)
    except StopIteration:
        text.close()
        raise UnreadableFile(f"{path}: the file is empty") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        text.close()
        raise UnreadableFile(f"{path}: cannot read as CSV ({encoding}): {exc}") from None
    headers = normalise([_clean_header(h) for h in header_row])

    def rows() -> Iterator[SourceRow]:
        number = 1
        try:
            for record in reader:
                number += 1
                if not any(cell.strip() for cell in record):
                    continue
                # A short row leaves trailing cells empty; a long one is reported.
                values = dict(zip(headers, record, strict=False))
                if len(record) > len(headers):
                    values[EXTRA_CELLS] = record[len(headers):]
                yield SourceRow(number, values)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise UnreadableFile(f"{path}: row {number + 1}: cannot read as CSV ({encoding}): {exc}") from None
        finally:
            text.close()

    return Sheet(None, headers, rows(), total=path.stat().st_size, position=raw.tell)


def open_workbook(path: Path) -> Any:
    from openpyxl import load_workbook  # heavy import, only for .xlsx

    try:
        # read_only streams rows from the zip instead of loading the sheet.
        return load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(f"{path}: not a readable .xlsx workbook ({exc})") from None


def read_worksheet(
    path: Path,
    worksheet: Any,
    required: set[str],
    normalise: Callable[[list[str]], list[str]] = _same,
    header_search_rows: int = 10,
) -> Sheet:
    """Rows of one worksheet. The header is the first row holding every required
    column (exports sometimes put a title line above it); ``normalise`` maps
    alternative spellings of a header to the one the importer expects."""
    name = worksheet.title
    head = list(worksheet.iter_rows(min_row=1, max_row=header_search_rows, values_only=True))
    header_index = None
    for index, row in enumerate(head):
        cells = set(normalise([_clean_header(c) for c in row]))
        if required <= cells:
            header_index = index
            break
    if header_index is None:
        header_index = next((i for i, row in enumerate(head) if any(c is not None for c in row)), None)
    if header_index is None:
        raise UnreadableFile(f"{path}: sheet {name!r} is empty")
    headers = normalise([_clean_header(c) for c in head[header_index]])
    first_data_row = header_index + 2
    total = worksheet.max_row
    state = {"position": 0}

    def rows() -> Iterator[SourceRow]:
        number = first_data_row - 1
        for record in worksheet.iter_rows(min_row=first_data_row, values_only=True):
            number += 1
            state["position"] = number
            if not any(c is not None and str(c).strip() for c in record):
                continue
            # Cells right of the last header have no column to belong to.
            values = dict(zip(headers, record, strict=False))
            yield SourceRow(number, values, sheet=name)

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
