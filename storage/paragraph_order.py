"""One natural order for paragraphs, wherever a list or report is sorted by
them (issue 15 review): UPR 121.2 before 121.10, a treaty body's 12 before
12 (a) before 12 (b) before 13, where text order put 121.10 first.

The key is text: each run of digits zero-padded to a fixed width, letters
lower-cased, spaces dropped, so "12 (a)" and "12(a)" sort as one and text
order of the keys is the natural order of the paragraphs. ``paragraph_key``
gives it for rows already read; ``paragraph_order`` is the same key in SQL,
for ORDER BY on either backend (SQLite: a function registered on each
connection by storage.database; PostgreSQL: regexp_replace, in the "C"
collation so punctuation is not skipped), so a streamed report needs no
sorting in Python."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import String

# Paragraph numbers are short; ten digits keep any realistic one in order.
WIDTH = 10
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
SQLITE_FUNCTION = "nmrf_paragraph_key"


def paragraph_key(paragraph: str | None) -> str:
    """The sort key of a paragraph as written (None and "" first)."""
    text = _SPACE.sub("", paragraph or "").lower()
    return _DIGITS.sub(lambda m: m.group().rjust(WIDTH, "0"), text)


class _ParagraphKey(GenericFunction[str]):
    type = String()
    name = "nmrf_paragraph_key"
    inherit_cache = True


@compiles(_ParagraphKey)
def _sqlite(element: _ParagraphKey, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


@compiles(_ParagraphKey, "postgresql")
def _postgresql(element: _ParagraphKey, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    # Spaces out and lower case; every digit run gets WIDTH zeros in front,
    # then keeps only its last WIDTH digits: the same padding as paragraph_key.
    squeezed = f"lower(regexp_replace(coalesce({arg}, ''), '\\s+', '', 'g'))"
    padded = f"regexp_replace({squeezed}, '(\\d+)', '{'0' * WIDTH}\\1', 'g')"
    return f"(regexp_replace({padded}, '0*(\\d{{{WIDTH}}})(?!\\d)', '\\1', 'g') COLLATE \"C\")"


def paragraph_order(column: Any) -> ColumnElement[str]:
    """paragraph_key in SQL, for ORDER BY."""
    return _ParagraphKey(column)


def register_sqlite(dbapi_connection: Any) -> None:
    """Give a SQLite connection the key as a function (storage.database calls it on connect)."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, paragraph_key, deterministic=True)

