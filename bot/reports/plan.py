"""``report plan``: the national implementation plan, as an .xlsx to sort and
filter or a .docx to edit into the State's plan (issue 16).

In sections by cluster, linked group or framework chapter
(storage.report_plan); under each recommendation, its overall status, its
actions (responsible and contributing institutions, start and target
dates, budget, status) and its indicators (baseline, target and the latest
value, with how far it has come). Everything as of the moment asked for, in
the reader's language, numbers and dates in their locale in the .docx; the
.xlsx keeps numbers and dates as such, so they sum and sort.

The workbook has a summary sheet, a Plan sheet with a row for each
recommendation and action (a recommendation with none is a row of its own,
its action's cells empty: the plan's gaps, which a filter on "(Blanks)"
finds), and an Indicators sheet with a row for each recommendation and
indicator. Each row leads with its section, so a filter on the first
column is one cluster, group or chapter. The public variant (``--public``)
leaves out the budgets the secretariat marked internal.

openpyxl and python-docx are imported where a file is written: the other
commands and ``nmrf-bot run`` start without them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.reports.cells import cell_text, dangerous, xml_text
from bot.reports.rtl import is_rtl
from messages import local_date, t
from messages.numbers import local_amount, local_decimal, local_period
from storage.actions import ActionView, Budget
from storage.report_plan import Plan, PlanIndicator, PlanItem, PlanSection, budget_totals, status_counts
from storage.enums import ImplementationStatus
from storage.indicator_models import Indicator

STATUSES = [s.value for s in ImplementationStatus]
# (column, width); each header is the catalog's plan.col.<column>.
PLAN_COLUMNS: tuple[tuple[str, int], ...] = (
    ("section", 30), ("recommendation", 10), ("mechanism", 10), ("document", 20), ("paragraph", 10), ("text", 60),
    ("status", 20), ("lead", 12), ("action", 10), ("action_title", 40), ("responsible", 14), ("contributing", 18),
    ("start_date", 12), ("target_date", 12), ("action_status", 20), ("budget", 16), ("currency", 9), ("budget_source", 24),
    ("sdg_targets", 14), ("chapters", 24), ("indicators", 14),
)
INDICATOR_COLUMNS: tuple[tuple[str, int], ...] = (
    ("section", 30), ("recommendation", 10), ("indicator", 10), ("kind", 12), ("definition", 50), ("unit", 12),
    ("reported_by", 12), ("frequency", 12), ("actions", 14), ("baseline", 12), ("baseline_date", 12), ("target", 12),
    ("target_date", 12), ("latest", 12), ("latest_period", 24), ("towards_target", 12), ("data_source", 30),
)
_DATE_FORMAT = "yyyy-mm-dd"
_AMOUNT_FORMAT = "#,##0.00"


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def status_name(status: str, language: str) -> str:
    return capital(t(f"status.{status}", language))


def section_name(section: PlanSection, by: str, language: str) -> str:
    """ "Access to justice"; "Violence against women (linked group 3)"; "PNDH 2.3: Gender equality"; or the section of the rest."""
    if by == "cluster":
        return section.title or t("draft.not_clustered", language)
    if by == "group":
        if section.none:
            return t("plan.no_group", language)
        if section.title:
            return t("plan.group_section", language, title=section.title, group=section.group_id)
        return t("plan.group_untitled", language, group=section.group_id)
    if section.chapter is None:
        return t("plan.no_chapter", language)
    chapter = section.chapter
    return t("plan.chapter_section", language, framework=chapter.framework, chapter=chapter.code, title=chapter.title)


def recommendation_label(row: dict[str, Any]) -> str:
    """ "#12 UPR A/HRC/48/9 118.3": its number in the registry, then where it comes from."""
    where = " ".join(str(p) for p in (row.get("mechanism"), row.get("document"), row.get("paragraph")) if p)
    return f"#{row['id']} {where}".strip()


def budget_text(budget: Budget | None, language: str) -> str:
    """ "150,000.50 UYU (General budget, internal)", in the reader's number format; "" without one."""
    if budget is None:
        return ""
    text = f"{local_amount(budget.amount, language)} {budget.currency}"
    notes = [n for n in (budget.source, t("plan.budget_internal", language) if budget.internal else None) if n]
    return f"{text} ({', '.join(notes)})" if notes else text


def totals_text(actions: Sequence[ActionView], language: str) -> str:
    """The budgets by currency, never summed across currencies: "150,000.50 UYU; 20,000.00 USD"."""
    return "; ".join(f"{local_amount(amount, language)} {currency}" for currency, amount in budget_totals(actions).items())


def timeline(action: ActionView, language: str) -> str:
    start, end = action.start_date, action.target_date
    if start and end:
        return t("plan.timeline", language, start=local_date(start, language), end=local_date(end, language))
    if end:
        return t("plan.timeline_by", language, end=local_date(end, language))
    if start:
        return t("plan.timeline_from", language, start=local_date(start, language))
    return t("plan.timeline_none", language)


def measure(value: Decimal | None, unit: str, language: str) -> str:
    return "" if value is None else f"{local_decimal(value, language)} {unit}".strip()


def latest_text(indicator: PlanIndicator, language: str) -> str:
    """ "35 % (1 Jan – 31 Mar 2026)", or that none is given yet."""
    latest = indicator.series.latest
    if latest is None:
        return t("plan.no_value", language)
    value = latest.value
    return t(
        "plan.latest", language, value=measure(value.value, indicator.indicator.unit, language),
        period=local_period(value.period_start, value.period_end, language),
    )


def towards(indicator: PlanIndicator) -> float | None:
    """How far the latest value has come from the baseline to the target, 0 to 1 (beyond either, outside)."""
    share = indicator.series.towards_target
    return None if share is None else round(float(share), 3)


class _Sheet:
    """A sheet of the workbook: its header frozen with filters, its texts made safe."""

    def __init__(self, book: Any, title: str, columns: Sequence[tuple[str, int]], language: str) -> None:
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self.sheet = book.create_sheet(title)
        self.width = len(columns)
        self.sheet.append([t(f"plan.col.{name}", language) for name, _ in columns])
        for i, (_, width) in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(i)].width = width
            self.sheet.cell(row=1, column=i).font = Font(bold=True)
        self.sheet.freeze_panes = "A2"
        self.formats: dict[int, str] = {}

    def append(self, values: Sequence[Any]) -> None:
        self.sheet.append([cell_text(v) if isinstance(v, str) else v for v in values])
        row = self.sheet.max_row
        for i, value in enumerate(values, start=1):
            cell = self.sheet.cell(row=row, column=i)
            if dangerous(value):
                # Text that would run as a formula stays text, even when edited.
                cell.data_type = "s"
                cell.quotePrefix = True
            elif isinstance(value, date):
                cell.number_format = _DATE_FORMAT
            elif i in self.formats:
                cell.number_format = self.formats[i]

    def finish(self) -> None:
        from openpyxl.utils import get_column_letter

        self.sheet.auto_filter.ref = f"A1:{get_column_letter(self.width)}{max(self.sheet.max_row, 1)}"


def _plan_rows(section: str, item: PlanItem, language: str) -> list[list[Any]]:
    row = item.row
    lead = [
        section, int(row["id"]), row.get("mechanism"), row.get("document"), row.get("paragraph"), row.get("text"),
        status_name(str(row["status"]), language), row.get("lead"),
    ]
    if not item.actions:
        return [lead + [None] * (len(PLAN_COLUMNS) - len(lead) - 1) + [", ".join(i.indicator.code for i in item.indicators) or None]]
    out = []
    for action in item.actions:
        measured = [i.indicator.code for i in item.indicators if action.code in i.actions]
        out.append(lead + [
            action.code, action.title, action.responsible_code, ", ".join(code for code, _ in action.contributing) or None,
            action.start_date, action.target_date, status_name(action.status.value, language),
            action.budget.amount if action.budget else None, action.budget.currency if action.budget else None,
            action.budget.source if action.budget else None, "; ".join(action.sdg_targets) or None,
            "; ".join(f"{c.framework} {c.code}" for c in action.chapters) or None, ", ".join(measured) or None,
        ])
    return out


def definition_text(indicator: Indicator, language: str) -> str:
    """Its definition, and when it was retired and why: it stays in the plan, marked."""
    if indicator.retired_at is None:
        return indicator.definition
    retired = t("plan.retired", language, date=local_date(indicator.retired_at.date(), language), reason=indicator.retired_reason or "")
    return f"{indicator.definition} {retired}"


def indicator_row(section: str | None, recommendation: int | None, indicator: PlanIndicator, language: str) -> list[Any]:
    """An indicator's cells (after the section and recommendation, for the plan's sheet)."""
    i, latest = indicator.indicator, indicator.series.latest
    cells = [
        i.code, capital(t(f"plan.kind.{i.kind.value}", language)), definition_text(i, language), i.unit, indicator.institution,
        t(f"plan.frequency.{i.frequency.value}", language), ", ".join(indicator.actions) or None,
        i.baseline_value, i.baseline_date, i.target_value, i.target_date,
        latest.value.value if latest else None,
        f"{latest.value.period_start.isoformat()}..{latest.value.period_end.isoformat()}" if latest else None,
        towards(indicator), i.data_source,
    ]
    return ([section, recommendation] if section is not None else []) + cells


def write_plan_xlsx(plan: Plan, path: Path, *, as_of: datetime, generated_at: datetime, language: str, timezone: str, public: bool) -> None:
    """The workbook: a summary, the Plan sheet and the Indicators sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    zone = ZoneInfo(timezone)
    book = Workbook()
    summary = book.active
    summary.title = t("plan.sheet_summary", language)
    bold = Font(bold=True)
    summary.append([t("plan.title", language)])
    summary["A1"].font = bold
    summary.append([t("plan.as_of_label", language), f"{as_of.astimezone(zone):%Y-%m-%d %H:%M} {timezone}",
                    t("plan.generated", language), f"{generated_at.astimezone(zone):%Y-%m-%d %H:%M} {timezone}"])
    summary.append([t("plan.grouped_by", language), t(f"plan.by.{plan.by}", language)])
    if public:
        summary.append([t("plan.public_note", language)])
    summary.append([])
    header = [t("plan.col.section", language), t("plan.col.recommendations", language), t("plan.col.without_action", language),
              t("plan.col.actions", language), *(status_name(s, language) for s in STATUSES), t("plan.col.budgets", language)]
    summary.append(header)
    for cell in summary[summary.max_row]:
        cell.font = bold
    for section in plan.sections:
        actions = section.actions()
        counts = status_counts(actions)
        summary.append([
            cell_text(section_name(section, plan.by, language)), len(section.items), sum(not i.actions for i in section.items), len(actions),
            *(counts.get(s, 0) for s in STATUSES), totals_text(actions, language) or None,
        ])
    # Each recommendation and action once, however many sections it is under.
    counts = status_counts(plan.actions)
    without = len({i.id for s in plan.sections for i in s.items if not i.actions})
    summary.append([
        t("plan.all", language), plan.recommendations, without, len(plan.actions), *(counts.get(s, 0) for s in STATUSES),
        totals_text(plan.actions, language) or None,
    ])
    summary.cell(row=summary.max_row, column=1).font = bold
    summary.column_dimensions["A"].width = 40

    sheet = _Sheet(book, t("plan.sheet_plan", language), PLAN_COLUMNS, language)
    sheet.formats[[c for c, _ in PLAN_COLUMNS].index("budget") + 1] = _AMOUNT_FORMAT
    indicators = _Sheet(book, t("plan.sheet_indicators", language), INDICATOR_COLUMNS, language)
    for section in plan.sections:
        name = section_name(section, plan.by, language)
        for item in section.items:
            for values in _plan_rows(name, item, language):
                sheet.append(values)
            for indicator in item.indicators:
                indicators.append(indicator_row(name, item.id, indicator, language))
    sheet.finish()
    indicators.finish()
    if is_rtl(language):
        from bot.reports.rtl import rtl_workbook

        rtl_workbook(book)
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())


def write_plan_docx(plan: Plan, path: Path, *, as_of: datetime, language: str, timezone: str, public: bool) -> None:
    """The document: by section, each recommendation with its status, a table of its actions and one of its indicators."""
    from docx import Document
    from docx.shared import Pt

    def say(key: str, **values: object) -> str:
        return xml_text(t(key, language, **values))

    zone = ZoneInfo(timezone)
    doc = Document()
    doc.styles["Normal"].font.size = Pt(10)
    doc.add_heading(say("plan.title"), level=0)
    doc.add_paragraph(say("plan.as_of", date=local_date(as_of.astimezone(zone).date(), language), by=t(f"plan.by.{plan.by}", language)))
    totals = totals_text(plan.actions, language)
    doc.add_paragraph(say(
        "plan.totals", recommendations=t("count.recommendations", language, count=plan.recommendations),
        actions=t("plan.count_actions", language, count=len(plan.actions)), indicators=t("plan.count_indicators", language, count=len(plan.indicators)),
    ) + (" " + say("plan.budgets_total", budgets=totals) if totals else ""))
    if public:
        doc.add_paragraph().add_run(say("plan.public_note")).italic = True

    def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        grid = doc.add_table(rows=1, cols=len(header))
        grid.style = "Table Grid"
        for cell, text in zip(grid.rows[0].cells, header, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(xml_text(text)).bold = True
        for values in rows:
            cells = grid.add_row().cells
            for cell, text in zip(cells, values, strict=True):
                cell.text = xml_text(text)

    for section in plan.sections:
        doc.add_heading(xml_text(f"{section_name(section, plan.by, language)} ({t('count.recommendations', language, count=len(section.items))})"), level=1)
        section_totals = totals_text(section.actions(), language)
        if section_totals:
            doc.add_paragraph(say("plan.section_budgets", budgets=section_totals))
        for item in section.items:
            doc.add_heading(xml_text(recommendation_label(item.row)), level=2)
            doc.add_paragraph(xml_text(str(item.row.get("text") or "")), style="Quote")
            line = doc.add_paragraph()
            line.add_run(say("plan.status_line", status=t(f"status.{item.row['status']}", language))).bold = True
            if item.row.get("lead"):
                line.add_run(" " + say("plan.lead_line", lead=str(item.row["lead"])))
            if not item.actions:
                doc.add_paragraph().add_run(say("plan.no_action")).italic = True
            else:
                table(
                    [say(f"plan.col.{c}") for c in ("action", "responsible", "timeline", "budget", "action_status")],
                    [[
                        f"{a.code}: {a.title}",
                        a.responsible_code + (f" ({say('plan.with', institutions=', '.join(c for c, _ in a.contributing))})" if a.contributing else ""),
                        timeline(a, language), budget_text(a.budget, language) or "—", t(f"status.{a.status.value}", language),
                    ] for a in item.actions],
                )
            if item.indicators:
                doc.add_paragraph()
                table(
                    [say(f"plan.col.{c}") for c in ("indicator", "baseline", "target", "latest", "reported_by")],
                    [[
                        f"{p.indicator.code} ({t(f'plan.kind.{p.indicator.kind.value}', language)}): {definition_text(p.indicator, language)}",
                        _dated(p.indicator.baseline_value, p.indicator.baseline_date, p.indicator.unit, language),
                        _dated(p.indicator.target_value, p.indicator.target_date, p.indicator.unit, language),
                        latest_text(p, language), p.institution,
                    ] for p in item.indicators],
                )
    if is_rtl(language):
        from bot.reports.rtl import rtl_document

        rtl_document(doc)
    # Zipped in memory, then written, as the draft is: a failed write leaves no half-closed zip behind.
    buffer = io.BytesIO()
    doc.save(buffer)
    path.write_bytes(buffer.getvalue())


def _dated(value: Decimal | None, day: date | None, unit: str, language: str) -> str:
    if value is None:
        return "—"
    return f"{measure(value, unit, language)} ({local_date(day, language)})" if day else measure(value, unit, language)
