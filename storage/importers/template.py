"""The project's own template, for what no UN export holds: the secretariat's
network (institutions, focal points), its own recommendations and clusters,
and who is assigned what.

An ``.xlsx`` holds up to six sheets named as in ``SHEETS``; a ``.csv`` holds
one of them, recognised by its columns. The specs below are the single
source for parsing, for the blank template (``nmrf-bot import write-template``)
and for the README's table.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from storage.enums import (
    AssignmentRole,
    BudgetImplications,
    FocalPointRole,
    ImplementationStatus,
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
from storage.importers.record import RecommendationRecord, SecretariatInputs, check_lengths, upr_cycle
from storage.network import FocalPointData, InstitutionData
from storage.reference import canonical_code
from storage.sdgs import is_target, targets_of
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
        ColumnSpec(
            "sdgs", False,
            "SDG targets or goals, separated by ';': a target as goal.target, e.g. 5.2 or 16.a; a whole goal as its number, e.g. 5 (goals 1 to 17)",
        ),
        ColumnSpec("affected_persons", False, "Groups, separated by ';'"),
        ColumnSpec("follow_up_grade", False, "Committee follow-up grade, e.g. A, B1, C"),
        ColumnSpec("cluster", False, "Cluster name (created if new)"),
        ColumnSpec(
            "priority", False,
            f"{_values(Priority)}: overrides the priority the Guide's criteria give (kept with the reason 'set in the template'); "
            "auto: the criteria decide again; blank: as it is",
        ),
        ColumnSpec(
            "follow_up", False,
            "yes or no: the treaty body selected this paragraph of its concluding observations for its follow-up procedure "
            "(the follow-up information deadline covers those); blank: as it is",
        ),
        ColumnSpec(
            "budget_implications", False,
            f"{_values(BudgetImplications)}: whether implementing it needs new money (none: a quick win); blank: as it is",
        ),
        ColumnSpec(
            "national_priority", False,
            "yes or no: a national priority for the public, the media or civil society; blank: as it is",
        ),
    ),
    "assignments": (
        ColumnSpec("recommendation", True, "The recommendation's id (template), UHRI annotation id or UPR Info key"),
        ColumnSpec("institution", True, "Institution code"),
        ColumnSpec("role", False, _values(AssignmentRole) + " (default lead)"),
    ),
    # The implementation plan's actions (storage.importers.template_actions).
    "actions": (
        ColumnSpec("code", True, "The action's code, e.g. A-12; the key on re-import"),
        ColumnSpec("title", True, "What the action does, in a line"),
        ColumnSpec("responsible", True, "The responsible institution's code"),
        ColumnSpec(
            "recommendations", False,
            "The recommendations it serves, separated by ';': the template's id, a UHRI annotation id, a UPR Info key, or #N (the registry's number)",
        ),
        ColumnSpec("link_groups", False, "The linked groups it serves, by number, separated by ';' (an action serves at least one recommendation or group)"),
        ColumnSpec("description", False, "What it involves"),
        ColumnSpec("contributing", False, "Contributing institutions' codes, separated by ';'"),
        ColumnSpec("status", False, _values(ImplementationStatus) + " (new: default not_started); a change is kept in the action's history"),
        ColumnSpec("start_date", False, "YYYY-MM-DD"),
        ColumnSpec("target_date", False, "YYYY-MM-DD, on or after start_date; reminders cover it"),
        ColumnSpec("budget_amount", False, "e.g. 150000 or 150000.50"),
        ColumnSpec("budget_currency", False, "ISO 4217 code, e.g. UYU, EUR, USD; needed with an amount"),
        ColumnSpec("budget_source", False, "Where the money comes from"),
        ColumnSpec("budget_internal", False, "yes: the budget stays out of public outputs; no: it is shown"),
        ColumnSpec("sdg_targets", False, "SDG targets, separated by ';', e.g. 5.2; 16.a"),
        ColumnSpec("chapters", False, "Chapters of national plans, FRAMEWORK:CHAPTER separated by ';', e.g. PNDH:2.3 (see nmrf-bot frameworks list)"),
    ),
    # The implementation plan's indicators (storage.importers.template_indicators).
    "indicators": (
        ColumnSpec("code", True, "The indicator's code, e.g. I-3; the key on re-import"),
        ColumnSpec("kind", True, "structural, process or outcome (OHCHR's kinds of indicator)"),
        ColumnSpec("definition", True, "What is measured, e.g. Share of women among judges"),
        ColumnSpec("unit", True, "e.g. %, cases, per 100,000 live births"),
        ColumnSpec("frequency", True, "monthly, quarterly, half_yearly or yearly: how often a value is due"),
        ColumnSpec("institution", True, "The code of the institution that reports it: its focal points are asked for each value"),
        ColumnSpec("first_due", True, "The first due date, YYYY-MM-DD; the next follow at the frequency"),
        ColumnSpec("baseline_value", False, "A number, e.g. 31.5 (with baseline_date)"),
        ColumnSpec("baseline_date", False, "When the baseline was measured, YYYY-MM-DD"),
        ColumnSpec("target_value", False, "A number (with target_date)"),
        ColumnSpec("target_date", False, "When the target is to be reached, YYYY-MM-DD, after baseline_date"),
        ColumnSpec("data_source", False, "Where values come from, e.g. Judiciary staff register (offered in chat)"),
        ColumnSpec("disaggregation", False, "How values are broken down, e.g. sex; age; department"),
        ColumnSpec("plausible_min", False, "The lowest plausible value: a value below is asked again in chat, with the reason"),
        ColumnSpec("plausible_max", False, "The highest plausible value, at least plausible_min"),
        ColumnSpec("actions", False, "The actions it measures, by code, separated by ';' (on the actions sheet or in the registry)"),
        ColumnSpec(
            "recommendations", False,
            "The recommendations it measures, separated by ';': the template's id, a UHRI annotation id, a UPR Info key, or #N (the registry's number)",
        ),
    ),
}
# Dependency order: parents before children, recommendations before
# assignments, then actions (which name all of them), then the indicators
# that measure them.
ORDER = ("institutions", "focal_points", "recommendations", "assignments", "actions", "indicators")


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


def repeated_columns(headers: list[str]) -> list[str]:
    """The columns a sheet names more than once (case aside): a reader keeps
    one of the cells, so the other would be dropped without a word."""
    seen: set[str] = set()
    repeated: list[str] = []
    for header in headers:
        name = header.lower()
        if name and name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    return repeated


def unknown_columns(sheet: str, headers: list[str]) -> list[str]:
    known = {c.name for c in SHEETS[sheet]}
    return [h for h in headers if h and h.lower() not in known]


_YES = {"yes", "y", "true", "1", "x"}
_NO = {"no", "n", "false", "0"}
_SDG = re.compile(r"(?P<goal>\d{1,2})(?:\.(?P<target>\d{1,2}|[a-zA-Z]))?")


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

    def yes_no(self, column: str) -> bool | None:
        value = self.text(column).lower()
        if not value:
            return None
        if value in _YES or value in _NO:
            return value in _YES
        self.error(column, f"expected yes or no, got {self.text(column)!r}")
        return None

    def sdgs(self, column: str) -> list[str]:
        """Each item a goal (1-17) or a target of one, as 5.2 or 16.a."""
        items = []
        for item in split_list(self.values.get(column)):
            found = _SDG.fullmatch(item.strip())
            if found is None or int(found["goal"]) not in range(1, 18):
                self.error(column, f"{item!r} is not an SDG goal or target: a goal is 1 to 17 (e.g. 5), a target goal.target (e.g. 5.2 or 16.a)")
                continue
            goal, target = int(found["goal"]), found["target"]
            if target and not is_target(goal, target):
                self.error(column, f"{item!r} is not one of the 169 SDG targets: goal {goal} has {targets_of(goal)}")
                continue
            items.append(f"{goal}.{target.lower()}" if target else str(goal))
        return items

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
        items = r.sdgs(column) if kind is TagKind.SDG else split_list(r.values.get(column))
        tags.extend((kind, item) for item in items)
    priority_text = r.text("priority").lower()
    clear_override = priority_text == "auto"
    override = None
    if priority_text and not clear_override:
        if priority_text in {p.value for p in Priority}:
            override = Priority(priority_text)
        else:
            r.error("priority", f"expected {_values(Priority)} or auto, got {r.text('priority')!r}")
    inputs = SecretariatInputs(
        follow_up=r.yes_no("follow_up"),
        budget_implications=r.enum("budget_implications", BudgetImplications),
        national_priority=r.yes_no("national_priority"),
        override=override,
        clear_override=clear_override,
    )
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
        priority=override,
        tags=tags,
        inputs=inputs if inputs.any() else None,
        absent=frozenset(c.name for c in SHEETS["recommendations"] if c.name not in r.values),
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
