"""Turning spreadsheet cells into values, with errors a person can act on."""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import date, datetime, timedelta
from typing import Any

# Excel's serial day numbers: 1 is 1900-01-01, 2958465 is 9999-12-31.
_MAX_SERIAL = 2958465
# Excel's day 0 (Windows dates), as openpyxl.utils.datetime.WINDOWS_EPOCH.
_EPOCH = date(1899, 12, 30)


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious '.0', surrounding blanks trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def strip_bullet(value: str) -> str:
    """UHRI prefixes every value with '- ', single-valued cells included."""
    value = value.strip()
    if value.startswith("-"):
        value = value[1:]
    return value.strip()


def bullet_list(value: Any) -> list[str]:
    """A UHRI multi-valued cell: one '- item' per line."""
    if isinstance(value, str) and len(value) <= _CACHED_CHARS:
        return list(_bullets(value))
    return list(_bullets.__wrapped__(cell_text(value)))


# A UN export repeats its short cells (a State, a body, a list of themes) on
# row after row: each is split once. Longer ones are not kept.
_CACHED_CHARS = 400


@lru_cache(maxsize=8192)
def _bullets(text: str) -> tuple[str, ...]:
    items: dict[str, None] = {}
    for line in text.strip().splitlines():
        item = strip_bullet(line)
        if item:
            items[item] = None
    return tuple(items)


def split_list(value: Any, separators: str = ";\n") -> list[str]:
    items = re.split("[" + re.escape(separators) + "]", cell_text(value))
    return unique(item.strip() for item in items if item.strip())


def unique(items: Any) -> list[str]:
    return list(dict.fromkeys(items))


def parse_date(value: Any) -> date | None:
    """A date from an Excel serial number, a date cell, or ISO text (YYYY-MM-DD)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_serial(float(value))
    text = str(value).strip()
    try:
        return _from_serial(float(text))
    except ValueError:
        pass
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"expected a date (YYYY-MM-DD or an Excel date), got {text!r}") from None


def _from_serial(serial: float) -> date:
    if not 1 <= serial <= _MAX_SERIAL:
        raise ValueError(f"expected an Excel date serial number, got {serial!r}")
    # openpyxl's from_excel, without importing openpyxl (a large share of a
    # CSV or calamine import's start-up): the time of day rounded to the
    # millisecond may carry to the next day; before 1900-03-01 Excel counts a
    # 29 February 1900 that never was.
    day, fraction = divmod(serial, 1)
    days = int(day) + (1 if 0 < serial < 60 else 0)
    if round(fraction * 86_400_000) >= 86_400_000:
        days += 1
    return _EPOCH + timedelta(days=days)


def parse_int(value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
    text = cell_text(value)
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None
    if minimum is not None and number < minimum or maximum is not None and number > maximum:
        bounds = f"{minimum}" + (f" to {maximum}" if maximum is not None else " or more")
        raise ValueError(f"expected a number from {bounds}, got {number}")
    return number


_UPR_PARAGRAPH = re.compile(r"^\s*(\d{1,3}\.\d{1,3})\.?\s")
# A heading (no digits, no full stop) may come before a treaty body's number.
_TREATY_PARAGRAPH = re.compile(r"^(?:[^\d\n.]{0,160}?\s)?(\d{1,3})\.\s?(?=[A-Z(])")


def paragraph_of(text: str) -> str | None:
    """The paragraph number a recommendation's text starts with, when it has one:
    '119.4 Consider ratifying...' (UPR) or 'Rural women 49. The Committee...' (a
    treaty body, heading first)."""
    match = _UPR_PARAGRAPH.match(text) or _TREATY_PARAGRAPH.match(text)
    return match.group(1) if match else None
