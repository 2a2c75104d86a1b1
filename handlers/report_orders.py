"""A compiled report asked for in chat: what to make, parsed from the
command, and the promise of whoever makes it (bot.reports.build)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from messages.numbers import latin_digits
from messages.words import read_word, shown
from storage.choices import PROGRESS_GROUPS, SDG_GROUPS
from storage.enums import Priority
from storage.errors import InvalidValue
from storage.report_plan import PLAN_GROUPS
from storage.sdgs import SdgFilter, parse_filter

KINDS = ("matrix", "draft", "progress", "export", "plan")
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
    # export: "csv" or "json"; plan: "xlsx" or "docx"
    fmt: str = "csv"
    # None: now; else the history as it stood at that moment.
    as_of: datetime | None = None
    # Only what is tagged with this SDG goal or target; only this priority.
    sdg: SdgFilter | None = None
    priority: Priority | None = None
    # matrix: "priority" sorts each sheet high first (storage.report_rows.SORTS).
    sort: str = "default"
    # progress: the page's table grouped by "cluster", "sdg-goal" or
    # "sdg-target"; matrix and export: rows by "sdg-goal" or "sdg-target"
    # (storage.report_groups); plan: sections by "cluster", "group" or
    # "chapter" (storage.report_plan); None: one list.
    by: str | None = None


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


# Filters typed among the words, as /find takes them: sdg:5, sdg:5.2,
# priority:high, sort:priority, by:sdg-goal; each name and value in the
# reader's language too (messages.words: priorité:haute, por:ods-meta).
FILTERS = ("sdg", "priority", "sort", "by")
_FILTER_WORDS = {name: f"words.filter.{name}" for name in FILTERS}
_LEVEL_WORDS = {p.value: f"words.priority.{p.value}" for p in Priority}
_BY_WORDS = {
    "sdg-goal": "words.by.sdg_goal", "sdg-target": "words.by.sdg_target", "cluster": "words.by.cluster",
    "group": "words.by.group", "chapter": "words.by.chapter",
}
# What each report is grouped by (the CLI's --by of each: bot.cli.report).
_BY_OF_KIND = {"matrix": SDG_GROUPS, "export": SDG_GROUPS, "progress": PROGRESS_GROUPS, "plan": PLAN_GROUPS}
# The plan's file: a workbook unless a document is asked for.
PLAN_FORMATS = ("xlsx", "docx")
_KIND_WORDS = {kind: f"words.report.{kind}" for kind in KINDS}


class BadReportFilter(InvalidValue):
    """A filter of /report that does not fit, with the catalog message that
    says which and how (report.bad_*), in the reader's language."""

    def __init__(self, reason: str, key: str, **values: object) -> None:
        super().__init__(reason)
        self.key, self.values = key, values


def parse_filters(words: list[str], language: str = "en") -> tuple[list[str], dict[str, object]]:
    """The words left, and the filters found, read in ``language`` and in
    English. InvalidValue names a bad one."""
    left, found = [], {}
    for word in words:
        # A Chinese or Japanese keyboard types the colon full width (：).
        typed, colon, value = word.replace("\uff1a", ":").partition(":")
        name = read_word(typed, _FILTER_WORDS, language) if colon else None
        if name is None:
            left.append(word)
            continue
        if name in found:
            raise BadReportFilter(f"one {name}: at most", "report.bad_filter_twice", filter=f"{typed}:")
        if name == "sdg":
            try:
                found["sdg"] = parse_filter(value)
            except InvalidValue as exc:
                raise BadReportFilter(str(exc), "report.bad_sdg", value=value) from None
        elif name == "priority":
            level = read_word(value, _LEVEL_WORDS, language)
            if level is None:
                raise BadReportFilter(f"priority is high, medium or low, not {value!r}", "report.bad_priority", value=value)
            found["priority"] = Priority(level)
        elif name == "by":
            by = read_word(value, _BY_WORDS, language)
            # Which kinds take it is known once the kind is read (parse_order).
            found["by"] = (by, value)
        elif read_word(value, {"priority": "words.filter.priority"}, language) is None:
            raise BadReportFilter(f"reports sort by priority, not {value!r}", "report.bad_sort", value=value)
        else:
            found["sort"] = "priority"
    return left, found


def _grouping(kind: str, by: str | None, typed: str, language: str) -> str:
    """by: of a report, as ReportOrder.by, or BadReportFilter naming what the kind takes."""
    allowed = _BY_OF_KIND.get(kind)
    if allowed is None:
        raise BadReportFilter(f"the {kind} is not grouped", "report.bad_by_kind")
    if by not in allowed:
        choices = ", ".join(f"{shown([_FILTER_WORDS['by']], language)}:{shown([_BY_WORDS[b]], language)}" for b in allowed)
        raise BadReportFilter(f"the {kind} is grouped by {', '.join(allowed)}, not {typed!r}", "report.bad_by", value=typed, choices=choices)
    return by


def parse_order(words: list[str], language: str, timezone: str) -> ReportOrder:
    """``matrix [MECHANISM]``, ``draft MECHANISM [CYCLE]``, ``progress [public]``,
    ``export [csv|json]``, each with an optional ``YYYY-MM-DD``: the history as
    it stood at the end of that day where the reader is; and ``sdg:5`` or
    ``sdg:5.2`` and ``priority:high`` (each), ``sort:priority`` (the matrix).
    InvalidValue names what does not fit."""
    words, filters = parse_filters(words, language)
    as_of = None
    dates = [w for w in words if _DATE.fullmatch(w)]
    if len(dates) > 1:
        raise InvalidValue("one date at most")
    if dates:
        try:
            # \d is any script's digit: an Arabic keyboard types ٢٠٢٦-١١-٢٣.
            day = date.fromisoformat(latin_digits(dates[0]))
        except ValueError:
            raise InvalidValue(f"not a date: {dates[0]!r}") from None
        as_of = last_moment_of(day, timezone)
        words = [w for w in words if w != dates[0]]
    order = replace(_parse_kind(words, language, timezone), as_of=as_of)
    if order.kind != "matrix" and "sort" in filters:
        raise BadReportFilter("only the matrix takes sort:", "report.bad_sort_kind")
    if "by" in filters:
        by, typed = filters["by"]  # type: ignore[misc]
        filters["by"] = _grouping(order.kind, by, typed, language)
    return replace(order, **filters)  # type: ignore[arg-type]


def _parse_kind(words: list[str], language: str, timezone: str) -> ReportOrder:
    kind = read_word(words[0], _KIND_WORDS, language) if words else None
    if kind is None:
        raise InvalidValue("which report")
    rest = words[1:]
    if kind == "progress" and rest and read_word(rest[0], {"public": "words.report.public"}, language):
        rest = ["public", *rest[1:]]
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
    if kind == "plan":
        return _plan_order(rest, language, timezone)
    raise InvalidValue(f"{kind} does not take {' '.join(rest)!r}")


def _plan_order(rest: list[str], language: str, timezone: str) -> ReportOrder:
    """``plan [xlsx|docx] [public] [MECHANISM]``, in any order, each once."""
    fmt, public, mechanism = None, False, None
    for word in rest:
        if word.lower() in PLAN_FORMATS and fmt is None:
            fmt = word.lower()
        elif not public and read_word(word, {"public": "words.report.public"}, language):
            public = True
        elif mechanism is None and word.isalnum():
            mechanism = word.upper()
        else:
            raise InvalidValue(f"the plan does not take {word!r}")
    return ReportOrder("plan", language, timezone, mechanism=mechanism, public=public, fmt=fmt or "xlsx")
