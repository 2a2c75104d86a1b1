"""Keeping what people typed from running as a spreadsheet formula.

A value starting with =, +, -, @, a tab or a carriage return would be read
by Excel, LibreOffice or Google Sheets as a formula (CSV injection, OWASP).
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def dangerous(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_safe(value: Any) -> Any:
    """For CSV, where the reader decides: a leading apostrophe makes it text."""
    return "'" + value if dangerous(value) else value
