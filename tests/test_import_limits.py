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
    # Against the same command importing one good row, not a fixed figure: the
    # interpreter with the bot loaded differs by machine and backend (172 MiB here,
    # 181 on CI's PostgreSQL run). The string alone would be 200 MB, and openpyxl
    # held it several times.
    _, baseline_mib = _peak_of_import(db_url, tmp_path, valid_workbook(tmp_path / "good.xlsx"))
    assert peak_mib < baseline_mib + 16, (peak_mib, baseline_mib)


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
        "part xl/worksheets/sheet1.xml is corrupt (Error -3 while decompressing data: invalid block type)",
    ),
    "bad CRC": (_bad_crc, "part xl/worksheets/sheet1.xml is corrupt (Bad CRC-32 for file 'xl/worksheets/sheet1.xml')"),
    "inflates past its declared size": (
        _lying_size, "part xl/worksheets/sheet1.xml is corrupt (Bad CRC-32 for file 'xl/worksheets/sheet1.xml')",
    ),
    "malformed sheet XML": (
        _malformed_sheet,
        "sheet 'Export' (part xl/worksheets/sheet1.xml) is not well-formed XML (mismatched tag: line 1, column ",
    ),
    "malformed shared strings XML": (
        _malformed_strings,
        "the shared strings (part xl/sharedStrings.xml) is not well-formed XML (mismatched tag: line 1, column ",
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


# The parts openpyxl reads whole, as a workbook saved by Excel holds them.
STYLES = (
    b'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="' + MAIN + b'">'
    b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    b'<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
CORE = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>OHCHR</dc:creator></cp:coreProperties>'
)
THEME = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Office Theme"/>'
)


def package_parts() -> dict[str, Iterable[bytes]]:
    """A whole valid workbook, part by part: each test below damages one part."""
    return {
        "[Content_Types].xml": [CONTENT_TYPES.encode()],
        "_rels/.rels": [PACKAGE_RELS.encode()],
        "docProps/core.xml": [CORE],
        "xl/workbook.xml": [WORKBOOK.encode()],
        "xl/_rels/workbook.xml.rels": [WORKBOOK_RELS.encode()],
        "xl/styles.xml": [STYLES],
        "xl/theme/theme1.xml": [THEME],
        "xl/sharedStrings.xml": strings([]),
        "xl/worksheets/sheet1.xml": sheet([header_row(), data_row(2, A_ROW)]),
    }


def write_package(path: Path, parts: dict[str, Iterable[bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, chunks in parts.items():
            with archive.open(name, "w", force_zip64=True) as out:
                for chunk in chunks:
                    out.write(chunk)
    return path


def damaged(path: Path, drop: str | None = None, **change: bytes) -> Path:
    """The valid package with one part dropped or replaced (``change`` by part
    name, '/' written '__' and '.' '_': xl__styles_xml)."""
    parts = package_parts()
    for key, data in change.items():
        parts[key.replace("__", "/").replace("_xml", ".xml").replace("_rels", ".rels")] = [data]
    if drop:
        del parts[drop]
    return write_package(path, parts)


def _fonts(count: int) -> Iterator[bytes]:
    yield STYLES.split(b"</fonts>")[0]
    for _ in range(count // 10_000):
        yield b'<font><sz val="11"/></font>' * 10_000
    yield b"</fonts>" + STYLES.split(b"</fonts>")[1]


def test_the_whole_package_imports(cli: Cli, tmp_path: Path) -> None:
    # Styles, properties and theme as Excel saves them pass every check below.
    write_package(tmp_path / "good.xlsx", package_parts())
    out, _ = cli("import", "uhri", "good.xlsx", "--no-progress")
    assert out == "good.xlsx: recommendations: 1 rows: 1 created, 0 updated, 0 unchanged\n"


DAMAGED = {
    # openpyxl's lxml gave a 73-line traceback for each of these three.
    "styles cut short": (
        lambda p: damaged(p, xl__styles_xml=STYLES[: len(STYLES) // 2]),
        "part xl/styles.xml is not well-formed XML (unclosed token: line 1, column ",
    ),
    "properties malformed": (
        lambda p: damaged(p, docProps__core_xml=b"<cp:coreProperties"),
        "part docProps/core.xml is not well-formed XML (unclosed token: line 1, column 0)",
    ),
    "properties with an unbound prefix": (
        lambda p: damaged(p, docProps__core_xml=b"<cp:coreProperties/>"),
        "part docProps/core.xml is not well-formed XML (unbound prefix: line 1, column 0)",
    ),
    "workbook not XML": (
        lambda p: damaged(p, xl__workbook_xml=b"\x89PNG\r\n"),
        "part xl/workbook.xml is not well-formed XML (",
    ),
    "theme malformed": (
        lambda p: damaged(p, xl__theme__theme1_xml=THEME[:-3]),
        "part xl/theme/theme1.xml is not well-formed XML (",
    ),
    # openpyxl dropped the sheet without a word; the importer then took the
    # first of no sheets: a 57-line IndexError.
    "sheet part missing": (
        lambda p: damaged(p, drop="xl/worksheets/sheet1.xml"),
        "sheet 'Export' is missing (part xl/worksheets/sheet1.xml)",
    ),
    "sheet relationship missing": (
        lambda p: damaged(p, xl__workbook_xml=WORKBOOK.replace('r:id="rId1"', 'r:id="rId77"').encode()),
        "xl/workbook.xml lists sheet 'Export' as relationship rId77, which its relationships part does not hold",
    ),
    "workbook relationships missing": (
        lambda p: damaged(p, drop="xl/_rels/workbook.xml.rels"),
        "part xl/_rels/workbook.xml.rels is missing",
    ),
    "content types missing": (lambda p: damaged(p, drop="[Content_Types].xml"), "part [Content_Types].xml is missing"),
    # Well-formed, but a value openpyxl cannot take: its own error, naming the part.
    "styles with a font id that is no number": (
        lambda p: damaged(p, xl__styles_xml=STYLES.replace(b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>', b'<xf numFmtId="abc" fontId="x" fillId="0" borderId="0" xfId="0"/>')),
        "part xl/styles.xml: ",
    ),
    "an Excel 97-2003 file": (
        lambda p: p.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)),
        "it is an Excel 97-2003 workbook (.xls) or one protected by a password; save it as .xlsx without a password",
    ),
}


def _corrupt_styles(path: Path) -> None:
    damaged(path)
    raw = bytearray(path.read_bytes())
    raw[_member_data_offset(path, "xl/styles.xml")] = 0xFF
    path.write_bytes(bytes(raw))


DAMAGED["styles deflate corrupt"] = (
    _corrupt_styles, "part xl/styles.xml is corrupt (Error -3 while decompressing data: invalid block type)",
)


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_package_is_one_line_naming_the_part(cli: Cli, tmp_path: Path, case: str) -> None:
    build, reason = DAMAGED[case]
    build(tmp_path / "export.xlsx")
    _, err = cli("import", "uhri", "export.xlsx", "--no-progress", expect=1)
    assert err.startswith(f"error: export.xlsx is not a readable .xlsx file: {reason}"), err
    assert err.count("\n") == 1 and len(err) < 400 and "Traceback" not in err
    assert cli.stored() == 0


def test_a_workbook_without_sheets_is_one_line(cli: Cli, tmp_path: Path) -> None:
    no_sheets = re.sub("<sheets>.*</sheets>", "<sheets/>", WORKBOOK).encode()
    damaged(tmp_path / "empty.xlsx", xl__workbook_xml=no_sheets)
    _, err = cli("import", "uhri", "empty.xlsx", "--no-progress", expect=1)
    assert err == "error: empty.xlsx: the workbook has no sheet\n"


def test_a_fault_of_the_projects_own_code_stays_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the file's damage raises inside openpyxl is one line; what the
    # project's own code raises (here, while openpyxl reads) is not hidden.
    from storage.importers import readers

    def broken(*_: object) -> None:
        raise AttributeError("a bug")

    monkeypatch.setattr(readers, "_sheets_in_package", broken)
    with pytest.raises(AttributeError, match="a bug"):
        readers.open_workbook(write_package(tmp_path / "good.xlsx", package_parts()))


def test_a_styles_part_of_many_fonts_is_refused_within_bounded_memory(db_url: str, tmp_path: Path) -> None:
    """900,000 fonts, 64 KB on disk: openpyxl built an object for each (928 MB, 130 s) and accepted it."""
    good = write_package(tmp_path / "good.xlsx", package_parts())
    parts = package_parts()
    parts["xl/styles.xml"] = _fonts(900_000)
    path = write_package(tmp_path / "fonts.xlsx", parts)
    assert path.stat().st_size < 1 << 20
    done, peak_mib = _peak_of_import(db_url, tmp_path, path)
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stderr == (
        f"error: {path}: part xl/styles.xml: more than 250,000 XML elements in the parts besides the sheets "
        "and shared strings ([imports] max_parts_elements); nothing imported\n"
    )
    imported, baseline_mib = _peak_of_import(db_url, tmp_path, good)
    assert imported.returncode == 0, imported.stderr[-2000:]
    # Refused as expat counts, before openpyxl builds a font: no more than the good file cost.
    assert peak_mib < baseline_mib + 16, (peak_mib, baseline_mib)


def test_the_parts_bounds_are_configured(cli: Cli, tmp_path: Path) -> None:
    parts = package_parts()
    parts["xl/styles.xml"] = _fonts(20_000)
    write_package(tmp_path / "fonts.xlsx", parts)
    limits(tmp_path, max_parts_elements=10_000)
    _, err = cli("import", "uhri", "fonts.xlsx", "--no-progress", expect=1)
    assert err == (
        "error: fonts.xlsx: part xl/styles.xml: more than 10,000 XML elements in the parts besides the sheets "
        "and shared strings ([imports] max_parts_elements); nothing imported\n"
    )
    # The same file within a larger bound imports: the fonts are what was refused.
    limits(tmp_path, max_parts_elements=100_000)
    out, _ = cli("import", "uhri", "fonts.xlsx", "--no-progress")
    assert out == "fonts.xlsx: recommendations: 1 rows: 1 created, 0 updated, 0 unchanged\n"
    # 2 MB of an author's name, in a part read whole.
    parts = package_parts()
    parts["docProps/core.xml"] = [CORE.replace(b"OHCHR", b"x" * (2 << 20))]
    write_package(tmp_path / "props.xlsx", parts)
    limits(tmp_path, max_parts_mb=1)
    _, err = cli("import", "uhri", "props.xlsx", "--no-progress", expect=1)
    assert err == (
        "error: props.xlsx: part docProps/core.xml takes the parts besides the sheets and shared strings past "
        "1 MB unpacked ([imports] max_parts_mb); nothing imported\n"
    )
    assert cli.stored() == 1


@pytest.mark.parametrize(
    ("opening", "closing"),
    [(b'<c r="A2" t="inlineStr" s="', b'"><is><t>x</t></is></c>'), (b"<!--", b"-->"), (b"<?pi ", b"?>")],
    ids=["attribute", "comment", "instruction"],
)
def test_one_huge_tag_is_refused_within_bounded_memory(
    db_url: str, tmp_path: Path, opening: bytes, closing: bytes
) -> None:
    """200 MB in one tag, 200 KB on disk: expat held it whole and rescanned it at
    every chunk (minutes, memory growing without end), lxml built it again."""
    def rows() -> Iterator[bytes]:
        yield header_row()
        yield b'<row r="2">' + opening
        yield from huge(200 << 20)
        yield closing + b"</row>"

    path = write_xlsx(tmp_path / "tag.xlsx", sheet(rows(), dimension="A1:P2"))
    assert path.stat().st_size < 1 << 20
    done, peak_mib = _peak_of_import(db_url, tmp_path, path)
    assert done.returncode == 1, done.stderr[-2000:]
    assert re.fullmatch(
        rf"error: {re.escape(str(path))}: sheet 'Export': one XML tag or comment near byte [\d,]+ is longer than "
        r"1,048,576 bytes; nothing imported\n",
        done.stderr,
    ), done.stderr[-2000:]
    _, baseline_mib = _peak_of_import(db_url, tmp_path, valid_workbook(tmp_path / "good.xlsx"))
    assert peak_mib < baseline_mib + 16, (peak_mib, baseline_mib)


def _csv(*rows: dict[str, str]) -> str:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    return ",".join(COLUMNS) + "\n" + "".join(",".join(cell(r.get(c, "")) for c in COLUMNS) + "\n" for r in rows)


def test_a_two_gigabyte_csv_line_is_refused_without_reading_it_whole(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "line.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(",".join(COLUMNS) + "\n")
        # A sparse file: 2 GB of NUL bytes and no line break, costing no disk.
        out.truncate(2 << 30)
    done, peak_mib = _peak_of_import(db_url, tmp_path, path)
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stderr == f"error: {path}: line 2 is longer than 1,048,640 characters; nothing imported\n"
    _, baseline_mib = _peak_of_import(db_url, tmp_path, valid_workbook(tmp_path / "good.xlsx"))
    assert peak_mib < baseline_mib + 16, (peak_mib, baseline_mib)


def test_a_csv_row_left_open_is_refused(cli: Cli, tmp_path: Path) -> None:
    # A quote never closed: every line after it is one cell of one row, which
    # the csv module builds whole; each line alone is short.
    limits(tmp_path, max_cell_chars=100)
    (tmp_path / "open.csv").write_text(",".join(COLUMNS) + '\n"' + "a,b\n" * 10_000, encoding="utf-8")
    _, err = cli("import", "uhri", "open.csv", "--no-progress", expect=1)
    assert err == (
        "error: open.csv: the row starting on line 2 runs past 3,296 characters (a quote left open?); nothing imported\n"
    )
    assert cli.stored() == 0


def test_csv_encodings_and_a_nul(cli: Cli, tmp_path: Path) -> None:
    import codecs

    text = _csv(A_ROW, {**A_ROW, "OHCHR Annotation Id": "a2", "Text": "119.2 Protéger les défenseurs"})
    # Excel's "Unicode text": UTF-16 with its byte-order mark, which read as
    # Windows-1252 had no column the importer knows.
    (tmp_path / "utf16.csv").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    out, _ = cli("import", "uhri", "utf16.csv", "--no-progress")
    assert out == "utf16.csv: recommendations: 2 rows: 2 created, 0 updated, 0 unchanged\n"
    # Latin-1 told to be read as UTF-8: one line naming the encoding.
    (tmp_path / "latin.csv").write_bytes(text.replace("a2", "a3").encode("latin-1"))
    _, err = cli("import", "uhri", "latin.csv", "--encoding", "utf-8", "--no-progress", expect=1)
    assert err.startswith("error: latin.csv: cannot read as CSV (utf-8): 'utf-8' codec can't decode byte 0xe9")
    assert err.count("\n") == 1
    # A byte Windows-1252 has no character for.
    (tmp_path / "cp1252.csv").write_bytes(text.encode("latin-1") + b'"\x81",\n')
    _, err = cli("import", "uhri", "cp1252.csv", "--no-progress", expect=1)
    assert err.startswith("error: cp1252.csv: cannot read as CSV (cp1252): 'charmap' codec can't decode byte 0x81")
    assert err.count("\n") == 1
    # A NUL, which PostgreSQL cannot store in text: kept as U+FFFD on both backends.
    (tmp_path / "nul.csv").write_text(_csv({**A_ROW, "OHCHR Annotation Id": "a4", "Text": "119.4 Ra\x00tify"}))
    out, _ = cli("import", "uhri", "nul.csv", "--no-progress")
    assert out == "nul.csv: recommendations: 1 rows: 1 created, 0 updated, 0 unchanged\n"
    listed, _ = cli("recommendations", "list", "--format", "json")
    assert [r["text"] for r in json.loads(listed)] == [
        "119.1 Ratify the Optional Protocol", "119.2 Protéger les défenseurs", "119.4 Ra\ufffdtify",
    ]
    assert cli.stored() == 3


def test_an_xls_file_is_named(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "old.xls").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))
    _, err = cli("import", "uhri", "old.xls", "--no-progress", expect=1)
    assert err == "error: old.xls: expected a .csv or .xlsx file, got '.xls'\n"
