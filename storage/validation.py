"""Checks shared by the CLI, the importers and the configuration."""

from __future__ import annotations

import re
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from messages import SUPPORTED_LANGUAGES
from storage.errors import InvalidValue

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CODE = re.compile(r"[A-Z0-9][A-Z0-9_.-]{0,31}")
_HOURS = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(
            f"expected an IANA time zone such as 'Europe/Lisbon', got {value!r}", key="refusal.validation.timezone", values={"value": value[:60]}
        ) from None
    return value


def check_working_hours(value: str) -> str:
    """'09:00-17:00': a start before the end within one day; normalised."""
    match = _HOURS.fullmatch(value.strip())
    try:
        if match is None:
            raise ValueError
        start, end = time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4]))
    except ValueError:
        raise InvalidValue(
            f"working hours are a range 'HH:MM-HH:MM' such as '09:00-17:00', not {value!r}",
            key="refusal.validation.hours_format", values={"value": value[:40]},
        ) from None
    if start >= end:
        raise InvalidValue(
            f"working hours start before they end, within one day, not {value!r}", key="refusal.validation.hours_order", values={"value": value[:40]}
        )
    return f"{start:%H:%M}-{end:%H:%M}"


def check_language(value: str) -> str:
    if value not in SUPPORTED_LANGUAGES:
        raise InvalidValue(
            f"expected one of {', '.join(SUPPORTED_LANGUAGES)}, got {value!r}",
            key="refusal.validation.language", values={"languages": ", ".join(SUPPORTED_LANGUAGES), "value": value[:40]},
        )
    return value


def check_email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise InvalidValue(f"expected an e-mail address, got {value!r}", key="refusal.validation.email", values={"value": value[:80]})
    return value.lower()


def institution_code(value: str) -> str:
    code = value.strip().upper()
    if not _CODE.fullmatch(code):
        raise InvalidValue(
            f"expected a short code of letters, digits, '.', '_' or '-' (at most 32), got {value!r}",
            key="refusal.validation.code", values={"value": value[:40]},
        )
    return code


def choice(enum_cls: type, value: str, what: str) -> object:
    """An enum member from its value, or an error listing the allowed values."""
    try:
        return enum_cls(value.strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise InvalidValue(
            f"{what}: expected one of {allowed}, got {value!r}", key="refusal.validation.choice", values={"what": what, "allowed": allowed, "value": value[:40]}
        ) from None
