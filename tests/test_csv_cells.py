"""CSV that runs nothing whatever separator its reader picks.

Excel's text import lets the reader choose the separator ("Space", "Other:
:") and whether quotes group a field; a name typed as ``x =1+1`` was
written unquoted by the CLI's listings and ran =1+1 under "Space". Every
separator that is not a letter or digit is tried here, with quotes honoured
and with quotes ignored."""

from __future__ import annotations

import csv
import io
import string
from pathlib import Path

import pytest

from bot.reports.cells import csv_safe
from tests.cli_harness import Cli

# Every character a reader may split on that is not a letter or digit, nor
# the apostrophe: the mark that makes a cell text cannot defend against
# itself as the separator (nor can anything short of changing the text).
SEPARATORS = [c for c in string.punctuation + " \t" if c != "'"]
TYPED = [
    "x =1+1", "Women:=1+1", "x;=1+1", "a,=1", " =1", "\t=1", "@SUM(A1)", "-2+3", "ok|+cmd", "a\n=1", "x; \"=1\"",
    "Ministry (+598) 2915", "Law 19.580 - adopted", "under_=1", "a/=HYPERLINK(\"http://evil.example\")", "x ==1",
]
# Each stays exactly as typed: no formula start follows anything but a letter or digit.
HARMLESS = ["Plain text, as typed.", "Ley N° 19.580 (2017)", "e-mail: ana@justicia.example", "2026-12-03", "Ministerio de Educación", ""]


def runnable_cells(csv_text: str) -> list[str]:
    """Every cell a spreadsheet would start a formula in, under every
    separator, quotes honoured or not; numbers (-3) are not formulas."""
    found = []
    for separator in SEPARATORS:
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            options = {"quoting": quoting} if quoting == csv.QUOTE_MINIMAL else {"quoting": quoting, "escapechar": None}
            for row in csv.reader(io.StringIO(csv_text, newline=""), delimiter=separator, **options):  # type: ignore[arg-type]
                for cell in row:
                    start = cell.lstrip(" \t")
                    if start[:1] in ("=", "+", "-", "@") and not _number(start):
                        found.append(f"{separator!r} {'quotes' if quoting == csv.QUOTE_MINIMAL else 'no quotes'}: {cell!r}")
    return found


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_the_check_sees_what_would_run() -> None:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_NONNUMERIC).writerow(["x =1+1"])
    assert runnable_cells(out.getvalue()), "quoted but not neutralised: Space splits it when quotes are ignored"
    out = io.StringIO()
    csv.writer(out).writerow(["x =1+1"])
    assert runnable_cells(out.getvalue())


def test_no_value_holds_a_formula_start_after_anything_but_a_letter_or_digit() -> None:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_NONNUMERIC).writerow([7, -3, 2.5, *(csv_safe(v) for v in TYPED + HARMLESS), None])
    assert runnable_cells(out.getvalue()) == []
    assert [csv_safe(v) for v in HARMLESS] == HARMLESS
    assert csv_safe("x =1+1") == "x '=1+1" and csv_safe("Women:=1+1") == "Women:'=1+1" and csv_safe("under_=1") == "under_'=1"
    assert csv_safe(-3) == -3 and csv_safe(None) is None


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return Cli(capsys)


def test_a_csv_listing_runs_nothing_whatever_the_separator(cli: Cli) -> None:
    cli("db", "upgrade")
    for n, name in enumerate(TYPED + HARMLESS[:-1]):
        cli("institutions", "add", "--", f"I{n}", name)
    out, _ = cli("institutions", "list", "--format", "csv")
    assert runnable_cells(out) == []
    rows = list(csv.DictReader(io.StringIO(out)))
    names = {row["code"]: row["name"] for row in rows}
    assert names["I0"] == "x '=1+1" and names["I1"] == "Women:'=1+1"
    # Text is quoted as the export quotes it; counts stay numbers.
    line = out.splitlines()[1]
    assert out.splitlines()[0] == "id,code,name,kind,parent,active,focal_points"
    assert line.startswith('1,"I0","x \'=1+1",') and line.endswith(",0")
    # What was harmless is as it was typed.
    assert [names[f"I{len(TYPED) + n}"] for n in range(len(HARMLESS) - 1)] == HARMLESS[:-1]
