"""The project's own template, for what no UN export holds: the secretariat's
network (institutions, focal points), its own recommendations and clusters,
and who is assigned what.

An ``.xlsx`` holds up to four sheets named as in ``SHEETS``; a ``.csv`` holds
one of them, recognised by its columns. The specs below are the single
source for parsing, for the blank template (``nmrf-bot import write-template``)
and for the README's table.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from storage.enums import (
    AssignmentRole,
    FocalPointRole,
    ImportSource,
    InstitutionKind,
    Priority,
    RecommendationKind,
    TagKind,
    UprPosition,
)
from messages import DEFAULT_LANGUAGE
from storage.calendars import check_place
from storage.errors import InvalidValue
from storage.importers.cells import cell_text, paragraph_of, parse_date, parse_int, split_list
from storage.importers.errors import RowError
from storage.importers.readers import SourceRow
from storage.importers.record import RecommendationRecord, check_lengths, upr_cycle
from storage.network import FocalPointData, InstitutionData
from storage.reference import canonical_code
from storage.validation import check_email, check_language, check_timezone, check_working_hours, choice, institution_code


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    required: bool
    help: str


def _values(enum_cls: type) -> str:
    return ", ".join(m.value for m in enum_cls)


SHEETS: dict[str, tuple[ColumnSpec, ...]] = {
    "institutions": (
        ColumnSpec("code", True, "Short unique code, e.g. MOJ"),
        ColumnSpec("name", True, "Full name, e.g. Ministry of Justice"),
        ColumnSpec("kind", True, _values(InstitutionKind)),
        ColumnSpec("parent", False, "Code of the parent institution, listed on an earlier row"),
    ),
    "focal_points": (
        ColumnSpec("email", True, "E-mail address; the key on re-import"),
        ColumnSpec("name", True, "Full name"),
        ColumnSpec("institution", True, "Institution code"),
        ColumnSpec("role", True, _values(FocalPointRole)),
        ColumnSpec("language", False, "en, fr or es (default en)"),
        ColumnSpec("timezone", False, "IANA time zone, e.g. America/Asuncion (default: [schedule] timezone)"),
        ColumnSpec("active_from", False, "First day as focal point, YYYY-MM-DD (default today)"),
        ColumnSpec("active_to", False, "Last day, YYYY-MM-DD, when replaced"),
        ColumnSpec("working_hours", False, "Their own working hours, e.g. 08:00-14:00 (default: [schedule] hours)"),
        ColumnSpec("country", False, "Whose public holidays they keep: ISO 3166-1 code, e.g. DE (default: [schedule] country)"),
        ColumnSpec("subdivision", False, "A subdivision of that country, as the holidays package names it, e.g. BY"),
    ),
    "recommendations": (
        ColumnSpec("id", True, "Your unique reference for the recommendation; the key on re-import"),
        ColumnSpec("text", True, "Full text"),
        ColumnSpec("mechanism", True, "UPR, CERD, CCPR, CESCR, CEDAW, CAT, CRC, CMW, CRPD, CED, or a mandate name"),
        ColumnSpec("country", True, "State concerned"),
        ColumnSpec("kind", False, _values(RecommendationKind) + " (default recommendation)"),
        ColumnSpec("paragraph", False, "Paragraph number, e.g. 119.4 or 25(a)"),
        ColumnSpec("document_symbol", False, "e.g. A/HRC/43/15 or CEDAW/C/IRQ/CO/8"),
        ColumnSpec("document_date", False, "Publication date, YYYY-MM-DD"),
        ColumnSpec("upr_session", False, "UPR Working Group session number (the cycle follows from it)"),
        ColumnSpec("upr_position", False, _values(UprPosition)),
        ColumnSpec("recommending_states", False, "States, separated by ';'"),
        ColumnSpec("themes", False, "Themes, separated by ';'"),
        ColumnSpec("sdgs", False, "SDG targets, separated by ';'"),
        ColumnSpec("affected_persons", False, "Groups, separated by ';'"),
        ColumnSpec("follow_up_grade", False, "Committee follow-up grade, e.g. A, B1, C"),
        ColumnSpec("cluster", False, "Cluster name (created if new)"),
        ColumnSpec("priority", False, _values(Priority)),
    ),
    "assignments": (
        ColumnSpec("recommendation", True, "The recommendation's id (template), UHRI annotation id or UPR Info key"),
        ColumnSpec("institution", True, "Institution code"),
        ColumnSpec("role", False, _values(AssignmentRole) + " (default lead)"),
    ),
}
# Dependency order: parents before children, recommendations before assignments.
ORDER = ("institutions", "focal_points", "recommendations", "assignments")


@dataclass(frozen=True)
class AssignmentRow:
    recommendation: str
    institution_code: str
    role: AssignmentRole


def required(sheet: str) -> set[str]:
    return {c.name for c in SHEETS[sheet] if c.required}


def sheet_for_headers(headers: list[str]) -> str | None:
    """Which template table a CSV file holds, judged by its columns."""
    present = {h.lower() for h in headers if h}
    matches = [
        name for name, columns in SHEETS.items() if required(name) <= present and present <= {c.name for c in columns}
    ]
    return matches[0] if len(matches) == 1 else None


def unknown_columns(sheet: str, headers: list[str]) -> list[str]:
    known = {c.name for c in SHEETS[sheet]}
    return [h for h in headers if h and h.lower() not in known]


class _Row:
    """Cell access that records an error per bad cell instead of stopping at the first."""

    def __init__(self, row: SourceRow) -> None:
        self.row = row
        self.values = {k.lower(): v for k, v in row.values.items() if k}
        self.errors: list[RowError] = []

    def error(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.row.number, column, reason, self.row.sheet))

    def text(self, column: str, *, required: bool = False) -> str:
        value = cell_text(self.values.get(column))
        if required and not value:
            self.error(column, "empty: this column is required")
        return value

    def enum(self, column: str, enum_cls: type, default: Any = None, *, required: bool = False) -> Any:
        value = self.text(column, required=required)
        if not value:
            return default
        try:
            return choice(enum_cls, value, column)
        except InvalidValue as exc:
            self.error(column, str(exc).removeprefix(f"{column}: "))
            return default

    def checked(
        self, column: str, check: Callable[[str], str], default: str = "", *, required: bool = False
    ) -> str:
        value = self.text(column, required=required) or default
        if not value:
            return value
        try:
            return check(value)
        except InvalidValue as exc:
            self.error(column, str(exc))
            return value

    def date(self, column: str) -> date | None:
        try:
            return parse_date(self.values.get(column))
        except ValueError as exc:
            self.error(column, str(exc))
            return None

    def code(self, column: str, *, required: bool = True) -> str:
        value = self.text(column, required=required)
        if not value:
            return ""
        try:
            return institution_code(value)
        except InvalidValue as exc:
            self.error(column, str(exc))
            return ""


def parse_institution(row: SourceRow) -> InstitutionData | list[RowError]:
    r = _Row(row)
    data = InstitutionData(
        code=r.code("code"),
        name=r.text("name", required=True),
        kind=r.enum("kind", InstitutionKind, required=True),
        parent_code=r.code("parent", required=False) or None,
    )
    return r.errors or data


def parse_focal_point(row: SourceRow, today: date, default_timezone: str) -> FocalPointData | list[RowError]:
    r = _Row(row)
    try:
        country, subdivision = check_place(r.text("country"), r.text("subdivision"))
    except InvalidValue as exc:
        r.error(exc.field or "country", str(exc))
        country = subdivision = None
    data = FocalPointData(
        email=r.checked("email", check_email, required=True),
        name=r.text("name", required=True),
        institution_code=r.code("institution"),
        role=r.enum("role", FocalPointRole, required=True),
        language=r.checked("language", check_language, DEFAULT_LANGUAGE),
        timezone=r.checked("timezone", check_timezone, default_timezone),
        active_from=r.date("active_from") or today,
        active_to=r.date("active_to"),
        working_hours=r.checked("working_hours", check_working_hours) or None,
        country=country,
        subdivision=subdivision,
    )
    if data.active_to is not None and data.active_to < data.active_from:
        r.error("active_to", f"{data.active_to} is before active_from {data.active_from}")
    return r.errors or data


_TAG_COLUMNS = (
    ("themes", TagKind.THEME),
    ("sdgs", TagKind.SDG),
    ("affected_persons", TagKind.AFFECTED_PERSONS),
    ("recommending_states", TagKind.RECOMMENDING_STATE),
)
_RECOMMENDATION_FIELDS = {
    "external_id": "id",
    "mechanism_code": "mechanism",
    **{f"tag:{kind.value}": column for column, kind in _TAG_COLUMNS},
}


def parse_recommendation(row: SourceRow) -> RecommendationRecord | list[RowError]:
    r = _Row(row)
    text = r.text("text", required=True)
    session = None
    try:
        session = parse_int(r.values.get("upr_session"), minimum=1)
    except ValueError as exc:
        r.error("upr_session", str(exc))
    tags: list[tuple[TagKind, str]] = []
    for column, kind in _TAG_COLUMNS:
        tags.extend((kind, item) for item in split_list(r.values.get(column)))
    record = RecommendationRecord(
        source=ImportSource.TEMPLATE,
        external_id=r.text("id", required=True),
        text=text,
        country=r.text("country", required=True),
        mechanism_code=canonical_code(r.text("mechanism", required=True)),
        kind=r.enum("kind", RecommendationKind, RecommendationKind.RECOMMENDATION),
        paragraph=r.text("paragraph") or paragraph_of(text),
        document_symbol=r.text("document_symbol") or None,
        document_date=r.date("document_date"),
        upr_cycle=upr_cycle(session) if session else None,
        upr_session=session,
        upr_position=r.enum("upr_position", UprPosition),
        follow_up_grade=r.text("follow_up_grade").upper() or None,
        cluster=" ".join(r.text("cluster").split()) or None,
        priority=r.enum("priority", Priority),
        tags=tags,
    )
    if r.errors:
        return r.errors
    return check_lengths(record, row.number, _RECOMMENDATION_FIELDS, row.sheet) or record


def parse_assignment(row: SourceRow) -> AssignmentRow | list[RowError]:
    r = _Row(row)
    data = AssignmentRow(
        recommendation=r.text("recommendation", required=True),
        institution_code=r.code("institution"),
        role=r.enum("role", AssignmentRole, AssignmentRole.LEAD),
    )
    return r.errors or data


def write_workbook(path: Any, sheets: dict[str, list[list[Any]]]) -> None:
    """A template workbook from rows: for each sheet, the header then the data."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)


def write_blank_template(path: Any) -> None:
    """An .xlsx with one sheet per table, its headers, and a sheet explaining each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    guide = workbook.active
    guide.title = "README"
    guide.append(["sheet", "column", "required", "what it holds"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for sheet in ORDER:
        for column in SHEETS[sheet]:
            guide.append([sheet, column.name, "yes" if column.required else "", column.help])
        worksheet = workbook.create_sheet(sheet)
        worksheet.append([c.name for c in SHEETS[sheet]])
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
        worksheet.freeze_panes = "A2"
    # Zipped in memory, then written: openpyxl's ZipFile, left open on a file
    # whose write failed, fails again when collected and prints a traceback.
    buffer = io.BytesIO()
    workbook.save(buffer)
    Path(path).write_bytes(buffer.getvalue())
