"""A compiled report asked for in chat: what to make, parsed from the
command, and the promise of whoever makes it (bot.reports.build)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from storage.errors import InvalidValue

KINDS = ("matrix", "draft", "progress", "export")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ReportOrder:
    kind: str
    language: str
    timezone: str
    mechanism: str | None = None
    cycle: int | None = None
    country: str | None = None
    public: bool = False
    # The public variant from validated input only ([reports] public_requires_validation).
    validated_only: bool = False
    # export only
    fmt: str = "csv"
    # None: now; else the history as it stood at that moment.
    as_of: datetime | None = None


@dataclass(frozen=True)
class ReportFile:
    path: Path
    mime_type: str
    # Recommendations in it, and of those the ones with no input (the draft).
    count: int
    without_input: int = 0


class ReportMaker(Protocol):
    async def __call__(self, order: ReportOrder, directory: Path) -> ReportFile: ...


def last_moment_of(day: date, timezone: str) -> datetime:
    """The end of ``day`` in ``timezone``: a report "as of" a day holds all of it."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone)) - timedelta(microseconds=1)


def parse_order(words: list[str], language: str, timezone: str) -> ReportOrder:
    """``matrix [MECHANISM]``, ``draft MECHANISM [CYCLE]``, ``progress [public]``,
    ``export [csv|json]``, each with an optional ``YYYY-MM-DD``: the history as
    it stood at the end of that day where the reader is. InvalidValue names
    what does not fit."""
    as_of = None
    dates = [w for w in words if _DATE.fullmatch(w)]
    if len(dates) > 1:
        raise InvalidValue("one date at most")
    if dates:
        try:
            day = date.fromisoformat(dates[0])
        except ValueError:
            raise InvalidValue(f"not a date: {dates[0]!r}") from None
        as_of = last_moment_of(day, timezone)
        words = [w for w in words if w != dates[0]]
    return replace(_parse_kind(words, language, timezone), as_of=as_of)


def _parse_kind(words: list[str], language: str, timezone: str) -> ReportOrder:
    if not words or words[0].lower() not in KINDS:
        raise InvalidValue("which report")
    kind, rest = words[0].lower(), words[1:]
    if kind == "matrix" and len(rest) <= 1:
        return ReportOrder(kind, language, timezone, mechanism=rest[0].upper() if rest else None)
    if kind == "draft" and 1 <= len(rest) <= 2:
        if len(rest) == 2 and not rest[1].isdigit():
            raise InvalidValue(f"the cycle is a number, not {rest[1]!r}")
        return ReportOrder(kind, language, timezone, mechanism=rest[0].upper(), cycle=int(rest[1]) if len(rest) == 2 else None)
    if kind == "progress" and (not rest or rest == ["public"]):
        return ReportOrder(kind, language, timezone, public=bool(rest))
    if kind == "export" and (not rest or (len(rest) == 1 and rest[0].lower() in ("csv", "json"))):
        return ReportOrder(kind, language, timezone, fmt=rest[0].lower() if rest else "csv")
    raise InvalidValue(f"{kind} does not take {' '.join(rest)!r}")
