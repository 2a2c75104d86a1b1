"""Names compared as people type them: the same text, whatever its case.

ILIKE reads %, _ and (on PostgreSQL) a backslash as patterns: a cluster
called "Art. 12_13" would match "Art. 12-13", and "C:\\data" nothing. They
are escaped here, so a name matches only itself. (SQLite folds case for
ASCII letters only, as its LIKE always has.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

_ESCAPE = "\\"


def same_name(column: Any, value: str) -> ColumnElement[bool]:
    """``column`` equals ``value``, ignoring case."""
    pattern = value.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return column.ilike(pattern, escape=_ESCAPE)  # type: ignore[no-any-return]
