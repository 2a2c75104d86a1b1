"""Stream the rows of a CSV or XLSX file, one at a time, whatever its encoding.

Row numbers are what a person sees when opening the file in a spreadsheet:
the header is row 1, so the first data row is row 2.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from storage.errors import RegistryError
from storage.importers.errors import LimitExceeded, RowError, UnreadableFile
from storage.importers.limits import DEFAULT_LIMITS, ImportLimits
from storage.importers.xlsx_guard import CellTooLong, GuardedZip, refuse_past_bounds, vouch_for_calamine

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
    """The encoding its byte-order mark names (Excel's "Unicode text" is UTF-16);
    else UTF-8 when the bytes are valid UTF-8; otherwise the legacy encoding the
    file's line endings point to: Mac Roman for CR-only files (classic Mac
    exports, as UPR Info's are), Windows-1252 for the rest."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    has_lf = has_cr = False
    valid_utf8 = True
    with path.open("rb") as fh:
        head = fh.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
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


class _BoundedLines:
    """The file's lines, refusing one longer than ``limit``: iterating a text file
    would build a line of any length whole, a gigabyte with no newline included.
    A row may span lines (a quoted cell holding newlines); the csv module builds
    it whole, so the lines since the last row are bounded the same way."""

    def __init__(self, text: IO[str], path: Path, limit: int) -> None:
        self.text, self.path, self.limit = text, path, limit
        self.number = 0
        self.row_start = 1
        self.row_chars = 0

    def row_done(self) -> None:
        self.row_start, self.row_chars = self.number + 1, 0

    def __iter__(self) -> Iterator[str]:
        for line in iter(partial(self.text.readline, self.limit), ""):
            self.number += 1
            if len(line) >= self.limit and not line.endswith(("\n", "\r")):
                raise LimitExceeded(
                    f"{self.path}: line {self.number:,} is longer than {self.limit:,} characters; nothing imported"
                )
            self.row_chars += len(line)
            if self.row_chars > self.limit:
                raise LimitExceeded(
                    f"{self.path}: the row starting on line {self.row_start:,} runs past {self.limit:,} characters "
                    "(a quote left open?); nothing imported"
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
    lines = _BoundedLines(text, path, 32 * (limits.max_cell_chars + 3))
    reader = csv.reader(lines)
    try:
        header_row = next(reader)
        lines.row_done()
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
                lines.row_done()
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


# The project's own code: an exception raised there is a fault in it, not in the file.
_PROJECT = Path(__file__).resolve().parents[2]
_REASON_CHARS = 200
# The start of an OLE2 compound file: Excel 97-2003 saves one, and so does
# Excel for a workbook protected by a password (the .xlsx encrypted inside).
_OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")


def _raised_in_project(exc: BaseException) -> bool:
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    where = Path(tb.tb_frame.f_code.co_filename)
    return where.is_relative_to(_PROJECT) and "site-packages" not in where.parts


def _from_the_file(exc: BaseException) -> bool:
    """Whether ``exc`` is what zipfile, zlib, an XML parser or openpyxl raise on
    a damaged package (anything raised inside them: a damaged file makes them
    fail in more ways than any list holds), rather than a fault of the project's
    own code, which must stay a traceback for its tests to see."""
    if isinstance(exc, MemoryError | RecursionError | KeyboardInterrupt):
        return False
    # openpyxl wraps the parser's error in "Unable to read workbook: ..."; the cause is where it began.
    return not _raised_in_project(exc.__cause__ or exc)


def _why_broken(exc: BaseException) -> str:
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
    # A message may quote the file's content, a 60 MB attribute included.
    reason = lines[0] if lines else type(cause).__name__
    return reason if len(reason) <= _REASON_CHARS else reason[:_REASON_CHARS] + "..."


@contextmanager
def _reading_xlsx(
    path: Path, sheet: str | None = None, part: Callable[[], str | None] = lambda: None
) -> Iterator[None]:
    """Whatever a damaged package makes zipfile, zlib, lxml or openpyxl raise,
    as one line naming the file, and the sheet or ``part`` being read."""
    try:
        yield
    except RegistryError:
        raise
    except Exception as exc:
        if not _from_the_file(exc):
            raise
        name = None if sheet else part()
        where = f"sheet {sheet!r}: " if sheet else f"part {name}: " if name else ""
        raise UnreadableFile(f"{path} is not a readable .xlsx file: {where}{_why_broken(exc)}") from exc


def _refuse_old_excel(path: Path) -> None:
    with path.open("rb") as fh:
        if fh.read(len(_OLE2)) == _OLE2:
            raise UnreadableFile(
                f"{path} is not a readable .xlsx file: it is an Excel 97-2003 workbook (.xls) or one protected "
                "by a password; save it as .xlsx without a password"
            )


def _sheets_in_package(path: Path, parser: Any, names: set[str]) -> None:
    """Every sheet the workbook lists has its relationship and its part: openpyxl
    drops a sheet whose part is missing without a word, and raises a KeyError
    for a relationship missing."""
    rels = parser.rels
    workbook = parser.workbook_part_name
    for sheet in parser.sheets:
        if not sheet.id:
            continue
        rel = rels.get(sheet.id)
        if rel is None:
            raise UnreadableFile(
                f"{path} is not a readable .xlsx file: {workbook} lists sheet {sheet.name!r} as relationship "
                f"{sheet.id}, which its relationships part does not hold"
            )
        if rel.TargetMode != "External" and rel.target not in names:
            raise UnreadableFile(
                f"{path} is not a readable .xlsx file: sheet {sheet.name!r} is missing (part {rel.target})"
            )


def _guarded_reader(path: Path, archive: GuardedZip) -> Any:
    from openpyxl.reader.excel import ExcelReader  # heavy import, only for .xlsx

    class GuardedReader(ExcelReader):  # type: ignore[misc]
        def read_chartsheet(self, sheet: Any, rel: Any) -> None:
            # A chart is no row to import; reading it would read its drawings and images.
            return None

        def read_worksheets(self) -> None:
            _sheets_in_package(path, self.parser, set(self.valid_files))
            super().read_worksheets()

    # read_only streams rows from the zip instead of loading the sheet;
    # keep_links=False: external links hold cached copies of other workbooks.
    reader = GuardedReader(path, read_only=True, data_only=True, keep_links=False)
    reader.archive.close()
    reader.archive, reader.valid_files = archive, archive.namelist()
    archive.find_sheets = lambda: reader.parser.find_sheets()
    return reader


def open_workbook(path: Path, limits: ImportLimits = DEFAULT_LIMITS) -> Any:
    """The workbook, read-only, with at least one worksheet; every part it reads
    guarded (xlsx_guard), and any damage one line naming the file."""
    _refuse_old_excel(path)
    with _reading_xlsx(path):
        archive = GuardedZip(path, limits, str(path))
    with _reading_xlsx(path, part=lambda: archive.last_whole):
        try:
            # load_workbook's own steps, on an archive whose every part is guarded.
            reader = _guarded_reader(path, archive)
            reader.read()
            if not reader.wb.worksheets:
                raise UnreadableFile(f"{path}: the workbook has no sheet")
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


def read_first_worksheet(
    path: Path,
    required: set[str],
    normalise: Callable[[list[str]], list[str]] = _same,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> Sheet:
    """The rows of the workbook's first worksheet, as read_worksheet gives
    them. Read with calamine when the guard's quick survey vouches for the
    file (xlsx_guard.vouch_for_calamine): a UN export of a quarter of a million
    rows reads ten times faster than through openpyxl. Any doubt, and any
    error calamine raises, and it is the guarded openpyxl read that reads or
    refuses the file, in the words it always used."""
    _refuse_old_excel(path)
    if vouch_for_calamine(path, limits):
        sheet = _calamine_sheet(path, required, normalise, limits)
        if sheet is not None:
            return sheet
    else:
        refuse_past_bounds(path, limits)
    workbook = open_workbook(path, limits)
    return read_worksheet(path, workbook.worksheets[0], required, normalise, limits=limits)


def _calamine_sheet(
    path: Path, required: set[str], normalise: Callable[[list[str]], list[str]], limits: ImportLimits
) -> Sheet | None:
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        try:
            first = next((m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet), None)
            if first is None:
                return None
            worksheet = workbook.get_sheet_by_name(first)
        finally:
            workbook.close()
    except Exception:  # noqa: BLE001 - calamine's errors on a damaged part: the guarded read names them
        return None
    # Calamine's rows begin at row 1 but its columns at the first one used.
    pad = (None,) * worksheet.start[1] if worksheet.start else ()
    records = (_calamine_values(pad, row) for row in worksheet.iter_rows())
    head = [r for _, r in zip(range(10), records, strict=False)]
    header_index = _header_of(head, required, normalise)
    if header_index is None:
        raise UnreadableFile(f"{path}: sheet {first!r} is empty")
    headers = normalise([_clean_header(c) for c in head[header_index]])
    state = {"position": 0}

    def rows() -> Iterator[SourceRow]:
        number = 0
        for record in itertools.chain(head, records):
            number += 1
            if number <= header_index + 1:
                continue
            state["position"] = number
            if number > limits.max_rows:
                raise _past_row_limit(path, f"sheet {first!r}, ", number, limits)
            if not any(c is not None and (not isinstance(c, str) or c.strip()) for c in record):
                continue
            values = dict(zip(headers, record, strict=False))
            yield SourceRow(number, values, sheet=first, errors=_too_long(values, number, first, limits.max_cell_chars))

    return Sheet(
        first, headers, rows(), total=worksheet.total_height, position=lambda: state["position"],
        header_row=header_index + 1,
    )


def _calamine_values(pad: tuple[None, ...], row: list[Any]) -> tuple[Any, ...]:
    """A row as openpyxl gives it: None for an empty cell, an int for a whole
    number, a datetime for a date."""
    values = list(pad)
    for value in row:
        if value == "":
            value = None
        elif type(value) is float:
            if value.is_integer():
                value = int(value)
        elif type(value) is date:
            value = datetime(value.year, value.month, value.day)
        values.append(value)
    return tuple(values)


def suffix_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UnreadableFile(f"{path}: expected a .csv or .xlsx file, got {suffix or 'no extension'!r}")
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    return suffix
