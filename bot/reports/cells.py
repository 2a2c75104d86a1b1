"""What people typed, made safe for the files the secretariat opens.

A value starting with =, +, -, @, a tab or a carriage return would be read
by Excel, LibreOffice or Google Sheets as a formula (CSV injection, OWASP).
In a CSV the cell need not start the value: Excel in a French or Spanish
locale splits at the semicolon, and on tab or bar when asked, so "x;=1+1"
runs =1+1 there; and a line break starts a new row where the quotes around it
are not honoured. Every such place gets the single quote that makes a
spreadsheet read text (OWASP's CSV Injection guidance, applied to each place a
cell may start, not only to the first).

XML 1.0, so .xlsx and .docx, cannot hold most control characters at all:
one form feed pasted from a PDF into a narrative would otherwise stop every
matrix and draft from being made. They become spaces in those files; the
history keeps the text as it was given.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel's limit for one cell; a longer text is cut there and says so.
CELL_LIMIT = 32_767
CUT_MARK = " […]"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def dangerous(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


# Where a spreadsheet may start a cell inside one CSV value.
CSV_SPLITS = ",;\t|\r\n"
# A cell start followed by a tab, CR or LF; and every = + - @ that is not
# after a letter or digit. Excel's import splits on whatever separator the
# reader picks ("Space", "Other: :"), and honours no quotes if told so: any
# character but a letter or digit may end a cell, so "x =1+1" runs =1+1 under
# "Space". A separator that is a letter, a digit or the apostrophe itself
# cannot be defended against without changing the text.
_RUNNABLE_CELL_START = re.compile(r"(?:^|(?<=[,;\t|\r\n]))(?=[\t\r\n])|(?<![^\W_])(?=[=+\-@])")


# What _RUNNABLE_CELL_START looks ahead for: a text with none of them has no
# place to mark, and is passed over without the pattern's walk (its lookbehinds
# at every character were a third of a CSV listing's own time).
_CELL_STARTERS = frozenset("\t\r\n=+-@")


def csv_safe(value: Any) -> Any:
    """For CSV, where the reader decides: an apostrophe before each place a
    cell could start a formula makes it text. Numbers are left alone (a
    negative amount is a number, not a formula); write them unquoted and the
    rest quoted (csv.QUOTE_NONNUMERIC)."""
    if not isinstance(value, str) or _CELL_STARTERS.isdisjoint(value):
        return value
    return _RUNNABLE_CELL_START.sub("'", value)


def xml_text(text: str) -> str:
    """The text with every character XML 1.0 forbids made a space."""
    return _NOT_XML.sub(" ", text)


def cell_text(text: str) -> str:
    """The text as one spreadsheet cell can hold it (Excel counts UTF-16 units)."""
    text = xml_text(text)
    if len(text) <= CELL_LIMIT // 2 or _units(text) <= CELL_LIMIT:
        return text
    keep = CELL_LIMIT - len(CUT_MARK)
    text = text[:keep]
    # Each character dropped is one or two units: one cut always suffices.
    return text[: len(text) - max(0, _units(text) - keep)] + CUT_MARK


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
