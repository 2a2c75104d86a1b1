"""The implementation matrix: an .xlsx with a summary sheet and one sheet a
mechanism, one row a recommendation.

openpyxl makes the workbook, in write-only mode; the rows of the mechanism
sheets stream to temporary files as SpreadsheetML (bot/reports/xlsx_rows),
so a UHRI-sized registry is written without holding it in memory, in about
three times the processor time of a plain read of its rows' SELECT
(bench/matrix_bench.py): the rest is each chunk's inputs, SDGs and priority
reasons, read beside it, and the cells. Every sheet has its header frozen
and filters on. Headers, statuses and validation are in the reader's
language, times in their time zone, named in the header. A text that would
read as a formula is stored as text with Excel's quote prefix, so it stays
text even when edited.

SDGs: "SDG targets" lists a recommendation's targets in one cell, to read;
then one column a goal that any recommendation in the matrix is tagged with,
holding that goal's targets ("5.2; 5.3", or "5" when the goal is tagged as a
whole). A column a goal is what Excel's filter handles: "SDG 5" > (Non-blanks)
is every recommendation under goal 5, exactly, and two such filters are
both goals; a filter on one cell listing all goals would have to be a
"contains" text filter, where "1" also finds 10 to 17. Goals and targets
are read by storage.sdgs.parse_sdg, whatever the source's spelling.

Priority: the effective priority (recommendations.priority) and, beside it,
the criteria met and the override, each on its line (storage.priorities).

Grouped by SDG goal or target (``report matrix --by``): one sheet a goal
("SDG 5"), then "No SDG", instead of one a mechanism, each row led by a
column naming its group: the goal, or the target ("5.2"; "5" for the goal
tagged as a whole) with the sheet's rows target after target. A
recommendation under several goals (targets) is a row under each. A sheet a
goal, rather than heading rows between the groups, because Excel's filter
and sort take every row of a sheet as data: a heading row would be sorted
in among the recommendations and counted by the filter. A sheet a target
would be up to 169 tabs. The summary counts by group, each recommendation
once in its total.

The implementation plan (issue 16), once the registry has actions or
indicators: an Actions sheet (a row an action serving a recommendation in
the matrix, its budget whole: the matrix is the secretariat's own), an
Indicators sheet (a row an indicator, its baseline, target and latest
value) and an Indicator values sheet (every value given, a corrected one
marked as no longer counting), after the mechanisms' sheets, so the main
sheets keep their columns and their order.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from datetime import timezone as _timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.reports.cells import cell_text, dangerous
from bot.reports.fewer_collections import fewer_collections
from bot.reports.rtl import has_rtl, is_rtl, rtl_alignment, rtl_sheet
from bot.reports.xlsx_rows import CellStyles, SheetRows, splice
from messages import DEFAULT_LANGUAGE, t
from messages.bidi import strip_controls
from storage.enums import ImplementationStatus, Priority
from storage.report_groups import NO_SDG, SdgGroup, row_groups
from storage.report_plan import PlanFigures
from storage.sdgs import Sdg, goal_label
from storage.status import InstitutionInput

# (column, width); each header is the catalog's matrix.col.<column>.
MATRIX_COLUMNS: tuple[tuple[str, int], ...] = (
    ("id", 8),
    ("cluster", 22),
    ("mechanism", 12),
    ("country", 14),
    ("cycle", 7),
    ("document", 22),
    ("paragraph", 10),
    ("text", 70),
    ("lead", 14),
    ("institutions", 18),
    ("status", 20),
    ("inputs", 40),
    ("narrative", 60),
    ("evidence", 40),
    ("next_step", 40),
    ("next_step_due_on", 12),
    ("last_update_at", 18),
    ("last_update_by", 20),
    ("validation", 12),
    ("priority", 10),
    ("priority_reasons", 50),
    ("sdg_targets", 18),
)
# Then one column a goal present (width 14).
GOAL_WIDTH = 14
# Grouped by SDG (--by), the group's column first: its header, its width.
GROUP_COLUMN = {"sdg-goal": ("matrix.col.sdg_goal", 30), "sdg-target": ("matrix.col.sdg_target", 10)}
PRIORITIES = [p.value for p in Priority]
STATUSES = [s.value for s in ImplementationStatus]
_COLUMN = {column: i for i, (column, _) in enumerate(MATRIX_COLUMNS)}
_NAMES = tuple(column for column, _ in MATRIX_COLUMNS)
_STATUS, _VALIDATION, _UPDATED, _INPUTS = _COLUMN["status"], _COLUMN["validation"], _COLUMN["last_update_at"], _COLUMN["inputs"]
_PRIORITY, _REASONS = _COLUMN["priority"], _COLUMN["priority_reasons"]
# A row's priority reasons, in the reader's language: (row, language) -> lines.
Reasons = Callable[[dict[str, Any], str], Sequence[str]]
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def sheet_name(mechanism: str, taken: set[str], fallback: str = "Mechanism") -> str:
    """Excel allows 31 characters and none of []:*?/\\; names must differ.
    A name is shown in a tab, never in a paragraph: a catalog text's
    directional marks are left out (messages.bidi)."""
    base = _SHEET_NAME.sub(" ", strip_controls(mechanism)).strip()[:31] or strip_controls(fallback)[:31]
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


class MatrixWriter:
    """In the reader's language, with times in the reader's time zone (Excel
    has none: the zone is named in the header)."""

    def __init__(
        self, as_of: datetime | None, generated_at: datetime, language: str = DEFAULT_LANGUAGE, timezone: str = "UTC", scratch: Path | None = None,
        *, goals: Sequence[int] = (), reasons: Reasons | None = None, by: str | None = None, plan: PlanFigures | None = None,
    ) -> None:
        if by is not None and by not in GROUP_COLUMN:
            raise ValueError(f"the matrix groups by {' or '.join(GROUP_COLUMN)}, not {by!r}")
        self.book = Workbook(write_only=True)
        self.scratch = scratch
        self.language, self.zone = language, ZoneInfo(timezone)
        # UTC read as UTC: datetime's own zone, a fifth of the cost of converting through ZoneInfo's.
        self._to = _UTC if timezone == "UTC" else self.zone
        self.rtl = is_rtl(language)
        self.summary = self._sheet(t("plan.sheet_summary", language))
        self.styles = CellStyles(self.summary, right_to_left=self.rtl)
        self.as_of, self.generated_at = as_of, generated_at
        self._sheets: dict[str, tuple[WriteOnlyWorksheet, SheetRows]] = {}
        self._rows: SheetRows | None = None
        # What the open sheet is for: a mechanism, or an SDG group's goal (None: no SDG).
        self._sheet_for: object = _NO_SHEET
        self._names: set[str] = {self.summary.title.lower()}
        self.counts: dict[str, Counter[str]] = {}
        # Per mechanism: recommendations with any update ("no change" included).
        self.answered: Counter[str] = Counter()
        # Per SDG goal, by status: a recommendation under two goals counts under each.
        self.by_goal: dict[int, Counter[str]] = {}
        # Grouped: each recommendation once, at its first group, for the "All" line.
        self.by = by
        self.distinct: Counter[str] = Counter()
        self.distinct_answered = 0
        self.goals = sorted(set(goals))
        self._goal_column = {goal: len(MATRIX_COLUMNS) + i for i, goal in enumerate(self.goals)}
        self._no_goals: list[None] = [None] * len(self.goals)
        self.width = len(MATRIX_COLUMNS) + len(self.goals) + (by is not None)
        self._reasons = reasons
        self.plan = plan
        self._bold = Font(bold=True)
        say = self.say
        self._headers = [say(f"matrix.col.{column}", zone=timezone) for column, _ in MATRIX_COLUMNS]
        self._headers += [goal_label(goal, language) for goal in self.goals]
        if by is not None:
            self._headers.insert(0, say(GROUP_COLUMN[by][0]))
        self._priorities = {p: say(f"report.priority.{p}") for p in PRIORITIES}
        self._statuses = {status: _capital(say(f"status.{status}")) for status in STATUSES}
        self._validations = {v: say(f"matrix.validation.{v}") for v in ("pending", "approved", "returned")}
        # Each institution's input as the matrix words it, by (code, status, day, mark); and with none yet, by code.
        self._input_lines: dict[tuple[object, ...], str] = {}
        self._no_inputs: dict[str, str] = {}
        # The reasons' cell by the reasons' list (see _reasons_cell): the list kept beside, so an id is never reused.
        self._joined: dict[int, tuple[Sequence[str], str]] = {}

    def say(self, key: str, **values: object) -> str:
        return t(key, self.language, **values)

    def _sheet(self, title: str, names: set[str] | None = None) -> WriteOnlyWorksheet:
        """A new sheet, right to left for a language written so."""
        sheet = self.book.create_sheet(sheet_name(title, names if names is not None else set(), self.say("matrix.col.mechanism")))
        if self.rtl:
            rtl_sheet(sheet)
        return sheet

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is _UTC and self._to is _UTC:
            return moment.replace(tzinfo=None)
        return moment.astimezone(self._to).replace(tzinfo=None)

    def _cell(self, sheet: WriteOnlyWorksheet, value: Any, bold: bool = False) -> Any:
        """A cell of the small parts openpyxl writes itself: headers, the summary."""
        if isinstance(value, str):
            value = cell_text(value)
        rtl = self.rtl and isinstance(value, str) and has_rtl(value)
        if not bold and not dangerous(value) and not rtl:
            return value
        cell = WriteOnlyCell(sheet, value=value)
        if rtl:
            cell.alignment = rtl_alignment()
        if dangerous(value):
            cell.data_type = "s"
            cell.quotePrefix = True
        if bold:
            cell.font = self._bold
        return cell

    def _open_sheet(self, title: str, made_for: object) -> SheetRows:
        sheet = self._sheet(title, self._names)
        sheet.freeze_panes = "A2"
        widths = [width for _, width in MATRIX_COLUMNS] + [GOAL_WIDTH] * len(self.goals)
        if self.by is not None:
            widths.insert(0, GROUP_COLUMN[self.by][1])
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        rows = SheetRows(self.styles, self.width, first_row=2, folder=self.scratch)
        self._sheets[sheet.title] = (sheet, rows)
        self._rows, self._sheet_for = rows, made_for
        return rows

    def group_name(self, group: SdgGroup) -> str:
        """The group's cell, and its line on the summary: "SDG 5: Gender equality", "5.2", "No SDG"."""
        if group.goal is None:
            return self.say("sdg.none")
        return goal_label(group.goal, self.language) if self.by == "sdg-goal" else group.target or str(group.goal)

    def add(self, row: dict[str, Any]) -> None:
        """A row; grouped, a row of storage.report_groups with its ``sdg_group``."""
        group: SdgGroup | None = row.get("sdg_group") if self.by is not None else None
        if self.by is not None and group is None:
            raise ValueError("a grouped matrix takes the rows of storage.report_groups, each with its sdg_group")
        if group is None:
            key = made_for = str(row["mechanism"])
            title = key
        else:
            key, made_for = self.group_name(group), group.goal
            title = self.say("sdg.none") if group.goal is None else self.say("matrix.sheet_goal", goal=group.goal)
        rows = self._rows if made_for == self._sheet_for and self._rows is not None else self._open_sheet(title, made_for)
        get = row.get
        values = list(map(get, _NAMES))
        status = values[_STATUS]
        values[_STATUS] = self._statuses.get(status, status)
        validation = values[_VALIDATION]
        values[_VALIDATION] = self._validations.get(validation, validation)
        given = values[_INPUTS]
        values[_INPUTS] = self.inputs(given, get("input_validations") or {}) if given else ""
        updated = values[_UPDATED]
        if updated is not None:
            values[_UPDATED] = self._local(updated)
        priority = values[_PRIORITY]
        values[_PRIORITY] = self._priorities.get(priority, priority)
        values[_REASONS] = self._reasons_cell(row) if self._reasons is not None else None
        sdgs: list[Sdg] = get("sdgs") or []
        status = row["status"]
        if sdgs:
            groups = row_groups(sdgs, self.by) if group is not None and self.by is not None else []
            goal_columns, by_goal = self._goal_column, self.by_goal
            # One pass: each goal's targets in the row's order ("5.2; 5.3"), the goals in order.
            targets: dict[int, list[str]] = {}
            for s in sdgs:
                found = targets.get(s.goal)
                if found is None:
                    found = targets[s.goal] = []
                found.append(s.target or str(s.goal))
            # The goals' columns up to the last this row fills: an empty cell is no cell.
            last = max((goal_columns.get(goal, -1) for goal in targets), default=-1)
            if last >= 0:
                values += self._no_goals[: last - len(MATRIX_COLUMNS) + 1]
            for goal in sorted(targets):
                # Grouped, a recommendation comes once a group: counted under a goal at its first group of that goal.
                if group is None or (goal == group.goal and next(g for g in groups if g.goal == goal) == group):
                    _count(by_goal, goal, status)
                at = goal_columns.get(goal)
                if at is not None:
                    values[at] = "; ".join(targets[goal])
        else:
            groups = [NO_SDG] if group is not None else []
        answered = values[_UPDATED] is not None
        if group is not None:
            values.insert(0, key)
            if groups[0] == group:
                self.distinct[status] += 1
                self.distinct_answered += answered
        rows.append(values)
        counts = self.counts.get(key)
        if counts is None:
            counts = self.counts[key] = Counter()
        counts[status] += 1
        if answered:
            self.answered[key] += 1

    def _reasons_cell(self, row: dict[str, Any]) -> str:
        """The priority reasons' cell: one line a reason. The reasons give the
        same list for the same combination, so the cell is joined once for it."""
        lines = self._reasons(row, self.language)  # type: ignore[misc]
        joined = self._joined.get(id(lines))
        if joined is None or joined[0] is not lines:
            if len(self._joined) >= _WORDED_MOST:
                self._joined.clear()
            joined = self._joined[id(lines)] = (lines, "\n".join(lines))
        return joined[1]

    def inputs(self, inputs: list[InstitutionInput], validations: dict[str, str] | None = None) -> str:
        """Beside the overall status, each institution's own, marked validated,
        returned or waiting: "MOE: Partially implemented (2026-03-02) [Approved]; MIDES: no answer"."""
        validations = validations or {}
        worded = self._input_lines
        local = self._local

        def given(i: InstitutionInput) -> str:
            # An institution's line recurs but for its day (the same status, the
            # same mark): worded once, as the catalog words it, around its day.
            mark = validations.get(i.code)
            key = (i.code, i.status, mark)
            around = worded.get(key)
            day = local(i.at).date().isoformat()  # type: ignore[arg-type]
            if around is None:
                if len(worded) >= _WORDED_MOST:
                    worded.clear()
                around = worded[key] = self._around_day(i.code, str(i.status), mark, day)
            return self._input_line(i.code, str(i.status), mark, day) if around is _WORDED_WHOLE else day.join(around)

        return "; ".join(
            given(i) if i.status is not None and i.at is not None else self._no_input(i.code)
            for i in inputs
        )

    def _input_line(self, code: str, status: str, mark: str | None, day: str) -> str:
        line = self.say("report.input_line", institution=code, status=self._statuses.get(status, status), date=day)
        if mark:
            line = self.say("matrix.input_marked", input=line, validation=self._validations.get(mark, mark))
        return line

    def _around_day(self, code: str, status: str, mark: str | None, day: str) -> tuple[str, ...] | object:
        """An institution's line cut where its day goes, to be joined around
        any day; or _WORDED_WHOLE, when the catalog's words for this day are
        not the same words around another (a right-to-left text isolates each
        value): such a line is worded whole each time."""
        around = tuple(self._input_line(code, status, mark, _DAY).split(_DAY))
        return around if day.join(around) == self._input_line(code, status, mark, day) else _WORDED_WHOLE

    def _no_input(self, code: str) -> str:
        line = self._no_inputs.get(code)
        if line is None:
            line = self._no_inputs[code] = self.say("report.input_none", institution=code)
        return line

    def _write_summary(self) -> None:
        s, say = self.summary, self.say
        s.freeze_panes = "A5"
        zone = str(self.zone)
        as_of = f"{self._local(self.as_of):%Y-%m-%d %H:%M} {zone}" if self.as_of else say("matrix.now")
        s.append([self._cell(s, say("matrix.title"), bold=True)])
        s.append([say("matrix.as_of"), as_of, say("matrix.generated"), f"{self._local(self.generated_at):%Y-%m-%d %H:%M} {zone}"])
        s.append([say("matrix.grouped_note")] if self.by is not None else [])
        first = say(GROUP_COLUMN[self.by][0]) if self.by is not None else say("matrix.col.mechanism")
        header = [first, *self._statuses.values(), say("matrix.total"), say("matrix.updated_share")]
        s.append([self._cell(s, h, bold=True) for h in header])
        totals: Counter[str] = Counter()
        for name, counts in self.counts.items():
            total = sum(counts.values())
            totals.update(counts)
            s.append([self._cell(s, name), *(counts.get(st, 0) for st in STATUSES), total, _share(self.answered[name], total)])
        # Grouped, "All" counts each recommendation once, not the sum of its groups.
        totals, answered = (self.distinct, self.distinct_answered) if self.by is not None else (totals, sum(self.answered.values()))
        all_total = sum(totals.values())
        s.append([self._cell(s, say("matrix.all"), bold=True), *(totals.get(st, 0) for st in STATUSES), all_total, _share(answered, all_total)])
        s.auto_filter.ref = f"A4:{get_column_letter(len(header))}{4 + len(self.counts)}"
        # By goal, the table above is the one by goal already.
        if not self.by_goal or self.by == "sdg-goal":
            return
        # Below: the same counts by SDG goal, a recommendation under each of its goals.
        s.append([])
        s.append([self._cell(s, say("matrix.by_sdg_goal"), bold=True)])
        s.append([self._cell(s, h, bold=True) for h in [say("matrix.col.sdg_goal"), *self._statuses.values(), say("matrix.total")]])
        for goal in sorted(self.by_goal):
            counts = self.by_goal[goal]
            s.append([self._cell(s, goal_label(goal, self.language)), *(counts.get(st, 0) for st in STATUSES), sum(counts.values())])

    def finish(self, path: Path) -> None:
        """Write the workbook to ``path``, whole or not at all."""
        last = get_column_letter(self.width)
        for sheet, rows in self._sheets.values():
            # Only now: a sheet openpyxl has begun streaming must be saved, even when the rows failed.
            sheet.append([self._cell(sheet, header, bold=True) for header in self._headers])
            sheet.auto_filter.ref = f"A1:{last}{rows.last_row}"
        self._write_summary()
        if self.plan is not None:
            self._write_plan(self.plan)
        saved = path.with_name(f".{path.name}.openpyxl")
        spliced = path.with_name(f".{path.name}.part")
        try:
            self.book.save(saved)
            splice(saved, spliced, {title: rows for title, (_, rows) in self._sheets.items()})
            os.replace(spliced, path)
        finally:
            saved.unlink(missing_ok=True)
            spliced.unlink(missing_ok=True)
            self.close()

    def close(self) -> None:
        for _, rows in self._sheets.values():
            rows.close()

    def _plan_sheet(self, title: str, columns: Sequence[tuple[str, int]], rows: Sequence[Sequence[Any]]) -> None:
        """A small sheet openpyxl writes itself, header frozen with filters on; a budget to the cent."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.utils import get_column_letter

        budget = next((i for i, (name, _) in enumerate(columns) if name == "budget"), None)

        sheet = self._sheet(title, self._names)
        sheet.freeze_panes = "A2"
        for i, (_, width) in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
        sheet.append([self._cell(sheet, self.say(f"plan.col.{name}"), bold=True) for name, _ in columns])
        for values in rows:
            cells = [self._cell(sheet, v) for v in values]
            if budget is not None and cells[budget] is not None:
                cells[budget] = WriteOnlyCell(sheet, value=cells[budget])
                cells[budget].number_format = "#,##0.00"
            sheet.append(cells)

    def _write_plan(self, plan: PlanFigures) -> None:
        yes, no = self.say("plan.yes"), self.say("plan.no")
        actions = [
            [
                a.code, a.title, a.description, a.responsible_code, ", ".join(code for code, _ in a.contributing) or None,
                ", ".join(f"#{r}" for r in a.served), ", ".join(str(g) for g in a.link_groups) or None, a.start_date, a.target_date,
                self._statuses[a.status.value], a.budget.amount if a.budget else None, a.budget.currency if a.budget else None,
                a.budget.source if a.budget else None, (yes if a.budget.internal else no) if a.budget else None,
                "; ".join(a.sdg_targets) or None, "; ".join(f"{c.framework} {c.code}" for c in a.chapters) or None,
                self._local(a.last_update_at) if a.last_update_at else None, a.last_narrative, a.last_next_step,
            ]
            for a in plan.actions
        ]
        self._plan_sheet(self.say("plan.sheet_actions"), MATRIX_ACTION_COLUMNS, actions)
        indicators, values = [], []
        for p in plan.indicators:
            i, latest = p.indicator, p.series.latest
            indicators.append([
                i.code, _capital(self.say(f"plan.kind.{i.kind.value}")), i.definition, i.unit, p.institution,
                self.say(f"plan.frequency.{i.frequency.value}"), ", ".join(p.actions) or None, ", ".join(f"#{r}" for r in p.recommendations) or None,
                i.baseline_value, i.baseline_date, i.target_value, i.target_date, latest.value.value if latest else None,
                f"{latest.value.period_start.isoformat()}..{latest.value.period_end.isoformat()}" if latest else None,
                round(float(p.series.towards_target), 3) if p.series.towards_target is not None else None, i.data_source,
            ])
            for point in p.series.history:
                v = point.value
                values.append([
                    i.code, v.period_start, v.period_end, v.value, i.unit, point.change, point.from_baseline, no if point.superseded else yes,
                    v.source, v.note, self._local(v.created_at), v.reporter_label,
                ])
        self._plan_sheet(self.say("plan.sheet_indicators"), MATRIX_INDICATOR_COLUMNS, indicators)
        self._plan_sheet(self.say("plan.sheet_values"), MATRIX_VALUE_COLUMNS, values)


# The plan's sheets (issue 16): (column, width), each header the catalog's plan.col.<column>.
MATRIX_ACTION_COLUMNS: tuple[tuple[str, int], ...] = (
    ("action", 10), ("action_title", 40), ("description", 50), ("responsible", 14), ("contributing", 18), ("recommendations", 18),
    ("link_groups", 10), ("start_date", 12), ("target_date", 12), ("action_status", 20), ("budget", 16), ("currency", 9),
    ("budget_source", 24), ("budget_internal", 10), ("sdg_targets", 14), ("chapters", 24), ("last_update_at", 18),
    ("last_narrative", 50), ("last_next_step", 40),
)
MATRIX_INDICATOR_COLUMNS: tuple[tuple[str, int], ...] = (
    ("indicator", 10), ("kind", 12), ("definition", 50), ("unit", 12), ("reported_by", 12), ("frequency", 12), ("actions", 14),
    ("recommendations", 18), ("baseline", 12), ("baseline_date", 12), ("target", 12), ("target_date", 12), ("latest", 12),
    ("latest_period", 24), ("towards_target", 12), ("data_source", 30),
)
MATRIX_VALUE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("indicator", 10), ("period_start", 12), ("period_end", 12), ("value", 12), ("unit", 12), ("change", 10), ("from_baseline", 12),
    ("counts", 8), ("source", 30), ("note", 40), ("given_at", 18), ("given_by", 20),
)


# The input lines kept worded at most (a registry of many institutions answering on many days).
_WORDED_MOST = 10_000
# No sheet open yet (a mechanism is a string, an SDG group's goal an int or None).
_NO_SHEET = object()
# Where an input line's day goes, while it is worded once (a character no catalog text holds, neutral in direction).
_DAY = "\x00"
_WORDED_WHOLE = object()
_UTC = _timezone.utc


def _count(counts: dict[Any, Counter[str]], key: Any, status: str) -> None:
    found = counts.get(key)
    if found is None:
        found = counts[key] = Counter()
    found[status] += 1


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _share(answered: int, total: int) -> float:
    return round(answered / total, 3) if total else 0.0


async def write_matrix(
    rows: AsyncIterator[dict[str, Any]], path: Path, as_of: datetime | None, generated_at: datetime,
    *, language: str = DEFAULT_LANGUAGE, timezone: str = "UTC", goals: Sequence[int] = (), reasons: Reasons | None = None,
    by: str | None = None, plan: PlanFigures | None = None,
) -> int:
    """``goals``: the SDG goals to give a column each (storage.sdgs.goals_in);
    ``reasons``: a row's priority reasons in a language; ``by``: "sdg-goal"
    or "sdg-target", the rows of storage.report_groups; ``plan``: the plan's
    sheets (storage.report_plan.matrix_plan; None: none). The recommendations
    written, each once however many groups it is a row under."""
    writer = MatrixWriter(as_of, generated_at, language, timezone, scratch=path.parent, goals=goals, reasons=reasons, by=by, plan=plan)
    n = 0
    with fewer_collections():
        try:
            async for row in rows:
                writer.add(row)
                n += 1
        except BaseException:
            writer.close()
            raise
        writer.finish(path)
    return sum(writer.distinct.values()) if by is not None else n
