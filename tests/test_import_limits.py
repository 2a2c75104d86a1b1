"""Hostile files, through the real command line: each refused in one clear line,
at a bounded cost, with nothing stored.

The workbooks are written part by part with zipfile from generators, so a
200 MB string costs the test a few hundred kilobytes of file and no memory.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from storage.importers.uhri import COLUMNS
from tests import cli_harness

ROOT = Path(__file__).resolve().parents[1]
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<workbook xmlns="{MAIN.decode()}" xmlns:r="{REL}">'
    '<sheets><sheet name="Export" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
A_ROW = {
    "Text": "119.1 Ratify the Optional Protocol",
    "Countries Concerned": "- Uruguay",
    "Reccomending Body": "- UPR",
    "Type": "- Recommendations",
    "OHCHR Annotation Id": "a1",
}


def _letter(index: int) -> str:
    return chr(ord("A") + index)


def _inline(ref: str, text: str) -> bytes:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    return f'<c r="{ref}" t="inlineStr"><is><t>{escaped}</t></is></c>'.encode()


def header_row() -> bytes:
    return b'<row r="1">' + b"".join(_inline(f"{_letter(i)}1", c) for i, c in enumerate(COLUMNS)) + b"</row>"


def data_row(number: int, values: dict[str, str]) -> bytes:
    cells = [_inline(f"{_letter(i)}{number}", values[c]) for i, c in enumerate(COLUMNS) if c in values]
    return f'<row r="{number}">'.encode() + b"".join(cells) + b"</row>"


def sheet(rows: Iterable[bytes], dimension: str | None = None) -> Iterator[bytes]:
    yield b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="' + MAIN + b'">'
    if dimension:
        # Without one, openpyxl reads the whole sheet as it opens the workbook.
        yield f'<dimension ref="{dimension}"/>'.encode()
    yield b"<sheetData>"
    yield from rows
    yield b"</sheetData></worksheet>"


def strings(items: Iterable[Iterable[bytes]]) -> Iterator[bytes]:
    yield b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="' + MAIN + b'">'
    for item in items:
        yield b"<si><t>"
        yield from item
        yield b"</t></si>"
    yield b"</sst>"


def write_xlsx(
    path: Path, sheet_xml: Iterable[bytes], strings_xml: Iterable[bytes] | None = None, level: int = 9
) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        for name, parts in (("xl/worksheets/sheet1.xml", sheet_xml), ("xl/sharedStrings.xml", strings_xml or strings([]))):
            with archive.open(name, "w", force_zip64=True) as out:
                for part in parts:
                    out.write(part)
    return path


def huge(size: int, piece: bytes = b"a" * (1 << 20)) -> Iterator[bytes]:
    for _ in range(size // len(piece)):
        yield piece


def valid_workbook(path: Path) -> Path:
    return write_xlsx(path, sheet([header_row(), data_row(2, A_ROW)]))


class Cli(cli_harness.Cli):
    """The real entry point, and how many recommendations it has stored."""

    stderr_shown = 2000

    def stored(self) -> int:
        out, _ = self("recommendations", "list", "--format", "json")
        return len(json.loads(out))


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


def limits(tmp_path: Path, **values: int) -> None:
    lines = "".join(f"{key} = {value}\n" for key, value in values.items())
    (tmp_path / "config.toml").write_text(f"[imports]\n{lines}", encoding="utf-8")


def test_the_hand_made_workbook_imports(cli: Cli, tmp_path: Path) -> None:
    # The builders below make files openpyxl reads, so each refusal is the limit's doing.
    valid_workbook(tmp_path / "good.xlsx")
    out, _ = cli("import", "uhri", "good.xlsx", "--no-progress")
    assert out == "good.xlsx: recommendations: 1 rows: 1 created, 0 updated, 0 unchanged\n"


def test_a_huge_shared_string_is_refused_within_bounded_memory(db_url: str, tmp_path: Path) -> None:
    """200 MB of text in one cell, 200 KB on disk. openpyxl alone built it whole, several times over."""
    path = write_xlsx(
        tmp_path / "hostile.xlsx",
        sheet([header_row(), b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>']),
        strings([huge(200 << 20)]),
    )
    assert path.stat().st_size < 1 << 20
    done, peak_mib = _peak_of_import(db_url, tmp_path, path)
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stderr == (
        f"error: {path}: the shared strings: shared string 1 is longer than 32,767 characters "
        "([imports] max_cell_chars); nothing imported\n"
    )
    # The interpreter with SQLAlchemy, openpyxl and the bot loaded is ~100 MB;
    # the string alone would be 200 MB, and openpyxl held it several times.
    assert peak_mib < 180, f"peak {peak_mib:.0f} MiB"


def _peak_of_import(db_url: str, tmp_path: Path, path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """``nmrf-bot import uhri PATH`` in a process of its own: what it said, and its peak memory in MiB."""
    peak_file = tmp_path / "peak"
    child = (
        "import atexit, pathlib, sys\n"
        "def peak():\n"
        "    line = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        f"    pathlib.Path({str(peak_file)!r}).write_text(line.split()[1])\n"
        "atexit.register(peak)\n"
        "from bot.cli import main\n"
        "from tests.fakes import FakeClock\n"
        f"main(['import', 'uhri', {str(path)!r}, '--no-progress'], clock=FakeClock())\n"
    )
    env = {**os.environ, "NMRF_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", child], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    return done, int(peak_file.read_text()) / 1024


@pytest.mark.parametrize(
    ("first", "count"),
    [
        # 64 million characters: 64 MB as Python holds them.
        ("a", 4_000),
        # A quarter as many characters, but one emoji makes Python hold each string
        # at 4 bytes a character: 64 MB again, though 16 million characters.
        ("\U0001F600", 1_000),
    ],
    ids=["latin", "emoji"],
)
def test_a_strings_table_past_its_bound_is_refused_within_bounded_memory(
    db_url: str, tmp_path: Path, first: str, count: int
) -> None:
    """Each string within max_cell_chars, the table 64 MB once read, 100 KB on disk."""
    item = first.encode() + b"a" * 16_000
    path = write_xlsx(
        tmp_path / "strings.xlsx",
        sheet([header_row(), b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>']),
        strings([item] for _ in range(count)),
        level=1,
    )
    assert path.stat().st_size < 1 << 20
    peaks = {}
    for bound in (1, 32):
        limits(tmp_path, max_strings_mb=bound)
        done, peaks[bound] = _peak_of_import(db_url, tmp_path, path)
        assert done.returncode == 1, done.stderr[-2000:]
        assert re.fullmatch(
            rf"error: {re.escape(str(path))}: the shared strings: shared string [\d,]+ takes the table past {bound} MB "
            r"in memory \(\[imports\] max_strings_mb\); nothing imported\n",
            done.stderr,
        ), done.stderr[-2000:]
    # Past the interpreter with the bot loaded (the run refused at 1 MB), the
    # table costs what its bound says, not the 64 MB it would have taken.
    assert peaks[32] - peaks[1] < 32 + 12, peaks


def test_a_full_uhri_exports_strings_pass_the_default_bound(db_url: str, tmp_path: Path) -> None:
    """UHRI's whole export: 267,500 recommendations, ~150 million characters of
    text, each string held at 2 bytes a character (a ’ is enough): ~330 MB with
    the strings' own overhead. Here 160 million characters, in fewer strings so
    that openpyxl reads them in seconds, not a minute: 320 MB and the overhead of
    10,000 strings."""
    item = "’".encode() + b"a" * 16_000
    path = write_xlsx(
        tmp_path / "uhri.xlsx",
        sheet([header_row(), data_row(2, A_ROW)], dimension="A1:P2"),
        strings([item] for _ in range(10_000)),
        level=1,
    )
    done, _ = _peak_of_import(db_url, tmp_path, path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "uhri.xlsx: recommendations: 1 rows: 1 created, 0 updated, 0 unchanged\n"


def test_a_huge_inline_string_is_refused_naming_its_cell(cli: Cli, tmp_path: Path) -> None:
    def row() -> Iterator[bytes]:
        yield b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
        yield from huge(64 << 20)
        yield b"</t></is></c></row>"

    write_xlsx(tmp_path / "inline.xlsx", sheet([header_row(), *row()], dimension="A1:P2"))
    _, err = cli("import", "uhri", "inline.xlsx", "--no-progress", expect=1)
    assert err == (
        "error: inline.xlsx: sheet 'Export', row 2, column 'Text' (A): longer than 32,767 characters "
        "([imports] max_cell_chars); nothing imported\n"
    )
    # With no dimension, openpyxl meets the cell as the workbook opens, before its header is known.
    write_xlsx(tmp_path / "inline.xlsx", sheet([header_row(), *row()]))
    _, err = cli("import", "uhri", "inline.xlsx", "--no-progress", expect=1)
    assert err == (
        "error: inline.xlsx: sheet 'Export', row 2, column A: longer than 32,767 characters "
        "([imports] max_cell_chars); nothing imported\n"
    )
    assert cli.stored() == 0


def test_a_long_cell_is_one_row_error_among_the_others(cli: Cli, tmp_path: Path) -> None:
    limits(tmp_path, max_cell_chars=100)
    rows = [header_row(), data_row(2, A_ROW), data_row(3, {**A_ROW, "OHCHR Annotation Id": "a2", "Text": "x" * 101})]
    write_xlsx(tmp_path / "long.xlsx", sheet(rows, dimension="A1:P3"))
    _, err = cli("import", "uhri", "long.xlsx", "--no-progress", expect=1)
    assert err == (
        # The file is one chunk, read as the workbook opens: the header is not known yet.
        "error: long.xlsx: sheet 'Export', row 3, column A: longer than 100 characters "
        "([imports] max_cell_chars); nothing imported\n"
    )
    (tmp_path / "long.csv").write_text(
        ",".join(COLUMNS) + "\n"
        + ",".join({**A_ROW, "Text": "y" * 101}.get(c, "") for c in COLUMNS) + "\n",
        encoding="utf-8",
    )
    _, err = cli("import", "uhri", "long.csv", "--no-progress", expect=1)
    assert err == (
        "error: long.csv: 1 bad row, nothing imported\n"
        "  row 2, column 'Text': longer than 100 characters ([imports] max_cell_chars)\n"
    )
    assert cli.stored() == 0


def test_a_million_rows_stop_at_the_row_limit(cli: Cli, tmp_path: Path) -> None:
    limits(tmp_path, max_rows=2000)
    rows = (f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>x</t></is></c></row>'.encode() for n in range(2, 1_048_577))
    write_xlsx(tmp_path / "rows.xlsx", sheet([header_row(), *rows]))
    _, err = cli("import", "uhri", "rows.xlsx", "--no-progress", expect=1)
    assert err == (
        "error: rows.xlsx: sheet 'Export': row 2,001 is past the limit of 2,000 rows ([imports] max_rows); "
        "nothing imported\n"
    )
    (tmp_path / "rows.csv").write_text(",".join(COLUMNS) + "\n" + "x\n" * 5000, encoding="utf-8")
    _, err = cli("import", "uhri", "rows.csv", "--no-progress", expect=1)
    assert err == "error: rows.csv: row 2,001 is past the limit of 2,000 rows ([imports] max_rows); nothing imported\n"
    assert cli.stored() == 0


def test_errors_are_listed_up_to_a_hundred_then_counted(cli: Cli, tmp_path: Path) -> None:
    rows = (f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>x</t></is></c></row>'.encode() for n in range(2, 5002))
    write_xlsx(tmp_path / "bad.xlsx", sheet([header_row(), *rows]))
    _, err = cli("import", "uhri", "bad.xlsx", "--no-progress", expect=1)
    lines = err.splitlines()
    # Each row lacks four required cells: 20,000 errors on 5,000 rows.
    assert lines[0] == "error: bad.xlsx: 5,000 bad rows, nothing imported"
    assert lines[1] == "  sheet 'Export', row 2, column 'Countries Concerned': empty"
    assert len(lines) == 102 and lines[-1] == "  and 19,900 more"
    assert len(err) < 10_000
    assert cli.stored() == 0


def _member_data_offset(path: Path, name: str) -> int:
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    raw = path.read_bytes()
    name_length = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little")
    extra_length = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    return info.header_offset + 30 + name_length + extra_length


def _corrupt_deflate(path: Path) -> None:
    valid_workbook(path)
    raw = bytearray(path.read_bytes())
    # Block type 3 is reserved: zlib stops with "invalid block type".
    raw[_member_data_offset(path, "xl/worksheets/sheet1.xml")] = 0xFF
    path.write_bytes(bytes(raw))


def _bad_crc(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in (
            ("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", PACKAGE_RELS), ("xl/workbook.xml", WORKBOOK),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS), ("xl/sharedStrings.xml", b"".join(strings([]))),
            ("xl/worksheets/sheet1.xml", b"".join(sheet([header_row(), data_row(2, A_ROW)]))),
        ):
            archive.writestr(name, data)
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b"Ratify the Optional", b"Ratify the Optionel", 1))


def _lying_size(path: Path) -> None:
    """The sheet declares fewer bytes than it inflates to, as a zip bomb's directory may."""
    valid_workbook(path)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    raw = bytearray(path.read_bytes())
    small = (info.file_size // 2).to_bytes(4, "little")
    raw[info.header_offset + 22:info.header_offset + 26] = small
    central = raw.rfind(b"PK\x01\x02" + raw[info.header_offset + 4:info.header_offset + 6])
    while raw[central + 46:central + 46 + len(info.filename)] != info.filename.encode():
        central = raw.rfind(b"PK\x01\x02", 0, central)
    raw[central + 24:central + 28] = small
    path.write_bytes(bytes(raw))


def _patch_member_header(path: Path, name: str, field: int, value: int) -> None:
    """Set a two-byte field of one member's local and central headers (``field`` is
    its offset in the local header; the central header holds it 2 bytes further)."""
    valid_workbook(path)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    raw = bytearray(path.read_bytes())
    central = raw.find(b"PK\x01\x02")
    while raw[central + 46:central + 46 + len(name)] != name.encode():
        central = raw.find(b"PK\x01\x02", central + 4)
    for at in (info.header_offset + field, central + field + 2):
        raw[at:at + 2] = value.to_bytes(2, "little")
    path.write_bytes(bytes(raw))


def _encrypted(path: Path) -> None:
    # Flag bit 0: the member is encrypted, as a zip tool's password makes it.
    _patch_member_header(path, "xl/worksheets/sheet1.xml", 6, 1)


def _unknown_compression(path: Path) -> None:
    _patch_member_header(path, "xl/worksheets/sheet1.xml", 8, 99)


def _malformed_sheet(path: Path) -> None:
    write_xlsx(path, sheet([header_row(), b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</is></c></row>']))


def _malformed_strings(path: Path) -> None:
    write_xlsx(path, sheet([header_row()]), [b'<?xml version="1.0"?><sst xmlns="', MAIN, b'"><si><t>x</si></sst>'])


def _doctype(path: Path) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<sst xmlns="' + MAIN + b'"><si><t>&b;</t></si></sst>'
    )
    write_xlsx(path, sheet([header_row()]), [bomb])


def _truncated(path: Path) -> None:
    valid_workbook(path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


HOSTILE = {
    "not a zip at all": (lambda p: p.write_bytes(b"PK but not really"), "File is not a zip file"),
    "truncated": (_truncated, "File is not a zip file"),
    "corrupt deflate stream": (
        _corrupt_deflate,
        "a compressed part is corrupt (Error -3 while decompressing data: invalid block type)",
    ),
    "bad CRC": (_bad_crc, "Bad CRC-32 for file 'xl/worksheets/sheet1.xml'"),
    "inflates past its declared size": (_lying_size, "Bad CRC-32 for file 'xl/worksheets/sheet1.xml'"),
    "malformed sheet XML": (
        _malformed_sheet,
        "malformed XML in sheet 'Export' (mismatched tag: line 1, column ",
    ),
    "malformed shared strings XML": (
        _malformed_strings,
        "malformed XML in the shared strings (mismatched tag: line 1, column ",
    ),
    "a DTD": (_doctype, "the shared strings declares a DTD"),
    "an encrypted part": (_encrypted, "part xl/worksheets/sheet1.xml is encrypted"),
    "an unknown compression method": (
        _unknown_compression, "part xl/worksheets/sheet1.xml is compressed with method 99, which zip readers do not know",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_broken_archive_is_one_line(cli: Cli, tmp_path: Path, case: str) -> None:
    build, reason = HOSTILE[case]
    build(tmp_path / "network.xlsx")
    _, err = cli("import", "uhri", "network.xlsx", "--no-progress", expect=1)
    assert err.startswith(f"error: network.xlsx is not a readable .xlsx file: {reason}"), err
    assert err.count("\n") == 1 and len(err) < 400 and "Traceback" not in err
    assert cli.stored() == 0


def test_a_zip_bomb_is_refused_from_its_directory(cli: Cli, tmp_path: Path) -> None:
    limits(tmp_path, max_unpacked_mb=1)
    write_xlsx(tmp_path / "bomb.xlsx", sheet([header_row()]), strings([huge(3 << 20)]))
    _, err = cli("import", "uhri", "bomb.xlsx", "--no-progress", expect=1)
    assert err == (
        "error: bomb.xlsx: unpacks to 3 MB, more than the limit of 1 MB ([imports] max_unpacked_mb); nothing imported\n"
    )
    assert cli.stored() == 0


def test_a_csv_line_without_end_is_refused(cli: Cli, tmp_path: Path) -> None:
    limits(tmp_path, max_cell_chars=100)
    (tmp_path / "line.csv").write_text(",".join(COLUMNS) + "\n" + "z" * 1_000_000, encoding="utf-8")
    _, err = cli("import", "uhri", "line.csv", "--no-progress", expect=1)
    assert err == "error: line.csv: line 2 is longer than 3,296 characters; nothing imported\n"
    assert cli.stored() == 0
