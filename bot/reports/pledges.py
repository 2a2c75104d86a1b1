"""A pledge round's report (issue 16), from storage.pledges.summary, in the
reader's language: `nmrf-bot report pledges --year Y --out F.xlsx|F.docx`.

The workbook has a summary sheet (each institution asked: what it pledged,
what it confirmed or withdrew, its word that it pledges nothing, and how its
confirmed pledges were reported back on) and a sheet of every pledge with
what it serves and its latest outcome and account. The document says the
same for reading: the summary's table, then each institution's pledges with
their outcomes, and the institutions that have not answered named.

openpyxl and python-docx are imported by the function that writes each, so
the command line starts without them.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.reports.cells import cell_text, dangerous, xml_text
from bot.reports.rtl import is_rtl
from handlers.pledge_counts import standing_counts
from messages import local_date, local_number, t
from storage.enums import PledgeOutcomeKind, PledgeState

if TYPE_CHECKING:
    from storage.pledges import InstitutionLine, PledgeView, RoundSummary

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_DATE_FORMAT = "yyyy-mm-dd"
SUMMARY_COLUMNS = (
    ("institution", 36), ("code", 10), ("standing", 28), ("confirmed", 12), ("drafts", 10), ("withdrawn", 12),
    ("done", 10), ("partly", 10), ("not_done", 10), ("awaited", 12),
)
PLEDGE_COLUMNS = (
    ("pledge", 9), ("institution", 30), ("text", 70), ("serves", 22), ("state", 14), ("confirmed_on", 14),
    ("outcome", 14), ("account", 60), ("reported_on", 14), ("reported_by", 28),
)
_OUTCOMES = (PledgeOutcomeKind.DONE, PledgeOutcomeKind.PARTLY, PledgeOutcomeKind.NOT_DONE)


class _Words:
    def __init__(self, language: str, timezone: str) -> None:
        self.language = language
        self.zone = ZoneInfo(timezone)

    def __call__(self, key: str, **values: object) -> str:
        return xml_text(t(key, self.language, **values))

    def day(self, moment: datetime | None) -> date | None:
        return moment.astimezone(self.zone).date() if moment is not None else None

    def date(self, day: date) -> str:
        return local_date(day, self.language)

    def outcome(self, kind: PledgeOutcomeKind) -> str:
        return self(f"pledge.outcome_{kind.name.lower()}")


def _summary_row(say: _Words, line: InstitutionLine) -> list[Any]:
    return [
        line.name, line.code, say(f"pledges_report.standing_{line.standing}"), line.confirmed, line.drafts, line.withdrawn,
        *(line.outcomes[k] for k in _OUTCOMES), line.awaited,
    ]


def _pledge_row(say: _Words, view: PledgeView) -> list[Any]:
    outcome = view.outcome
    return [
        view.pledge.code, view.institution_name, view.pledge.text, view.serves, say(f"pledge.state_{view.pledge.state.value}"),
        say.day(view.pledge.confirmed_at), say.outcome(outcome.outcome) if outcome else None, outcome.account if outcome else None,
        say.day(outcome.created_at) if outcome else None, outcome.author_label if outcome else None,
    ]


def write_xlsx(found: RoundSummary, path: Path, *, language: str, timezone: str, as_of: datetime) -> int:
    """The workbook; how many pledges it lists."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    say = _Words(language, timezone)
    book = Workbook()
    bold = Font(bold=True)

    def put(sheet: Any, row: int, values: list[Any], *, strong: bool = False) -> None:
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=cell_text(value) if isinstance(value, str) else value)
            if dangerous(value):
                # Text that would run as a formula stays text, even when edited.
                cell.data_type = "s"
                cell.quotePrefix = True
            elif isinstance(value, date):
                cell.number_format = _DATE_FORMAT
            if strong:
                cell.font = bold

    def columns(sheet: Any, spec: tuple[tuple[str, int], ...], row: int) -> None:
        put(sheet, row, [say(f"pledges_report.col_{name}") for name, _ in spec], strong=True)
        for i, (_, width) in enumerate(spec, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width

    round_ = found.round
    summary = book.active
    summary.title = say("pledges_report.sheet_summary")[:31]
    put(summary, 1, [say("pledges_report.title", year=round_.year)], strong=True)
    put(summary, 2, [say("pledges_report.dates", date=say.date(round_.ask_by), report=say.date(round_.report_back_on))])
    put(summary, 3, [say("pledges_report.as_of", date=say.date(say.day(as_of) or round_.ask_by))])
    columns(summary, SUMMARY_COLUMNS, 5)
    row = 6
    for line in found.lines:
        put(summary, row, _summary_row(say, line))
        row += 1
    put(summary, row, [
        say("pledges_report.total"), None, None, found.total("confirmed"), found.total("drafts"), found.total("withdrawn"),
        *(found.outcome_total(k) for k in _OUTCOMES), found.total("awaited"),
    ], strong=True)
    summary.freeze_panes = "A6"

    listed = book.create_sheet(say("pledges_report.sheet_pledges")[:31])
    columns(listed, PLEDGE_COLUMNS, 1)
    for row, view in enumerate(found.pledges, start=2):
        put(listed, row, _pledge_row(say, view))
    listed.freeze_panes = "A2"
    listed.auto_filter.ref = f"A1:{get_column_letter(len(PLEDGE_COLUMNS))}{max(len(found.pledges) + 1, 1)}"
    if is_rtl(language):
        from bot.reports.rtl import rtl_workbook

        rtl_workbook(book)
    book.save(path)
    return len(found.pledges)


def write_docx(found: RoundSummary, path: Path, *, language: str, timezone: str, as_of: datetime) -> int:
    """The document; how many pledges it lists."""
    from docx import Document
    from docx.shared import Pt

    say = _Words(language, timezone)
    round_ = found.round
    doc = Document()
    doc.styles["Normal"].font.size = Pt(11)
    doc.add_heading(say("pledges_report.title", year=round_.year), level=0)
    doc.add_paragraph(say("pledges_report.dates", date=say.date(round_.ask_by), report=say.date(round_.report_back_on)))
    doc.add_paragraph(say("pledges_report.as_of", date=say.date(say.day(as_of) or round_.ask_by)))
    doc.add_paragraph(say(
        "pledges_report.overview", count=len(found.lines), **standing_counts(found, language),
    ))
    if found.total("confirmed"):
        doc.add_paragraph(say(
            "pledges_report.outcomes", count=found.total("confirmed"), done=found.outcome_total(PledgeOutcomeKind.DONE),
            partly=found.outcome_total(PledgeOutcomeKind.PARTLY), not_done=found.outcome_total(PledgeOutcomeKind.NOT_DONE),
            awaited=found.total("awaited"),
        ))

    doc.add_heading(say("pledges_report.sheet_summary"), level=1)
    table = doc.add_table(rows=1, cols=len(SUMMARY_COLUMNS))
    table.style = "Table Grid"
    for cell, (name, _) in zip(table.rows[0].cells, SUMMARY_COLUMNS, strict=True):
        cell.text = say(f"pledges_report.col_{name}")
    for line in found.lines:
        for cell, value in zip(table.add_row().cells, _summary_row(say, line), strict=True):
            # Counts in the reader's digits, as the document's sentences write them.
            cell.text = local_number(value, language) if isinstance(value, int) else xml_text(str(value))

    by_institution: dict[str, list[PledgeView]] = {}
    for view in found.pledges:
        by_institution.setdefault(view.institution_code, []).append(view)
    for line in found.lines:
        doc.add_heading(say("pledges_report.institution", institution=xml_text(line.name), code=line.code), level=1)
        views = by_institution.get(line.code, [])
        if not views:
            doc.add_paragraph(say(f"pledges_report.standing_{line.standing}"))
            continue
        for view in views:
            pledge = view.pledge
            head = doc.add_paragraph()
            head.add_run(say("pledges_report.pledge", code=pledge.code, state=say(f"pledge.state_{pledge.state.value}"))).bold = True
            doc.add_paragraph(xml_text(pledge.text), style="Quote")
            if view.serves:
                doc.add_paragraph(say("pledges_report.serves", serves=view.serves))
            if view.outcome is not None:
                told = doc.add_paragraph()
                told.add_run(say("pledges_report.outcome", outcome=say.outcome(view.outcome.outcome))).bold = True
                told.add_run(" " + xml_text(view.outcome.account))
                source = doc.add_paragraph()
                source.add_run(say(
                    "pledges_report.told_by", author=xml_text(view.outcome.author_label), date=say.date(say.day(view.outcome.created_at) or round_.report_back_on),
                )).italic = True
            elif pledge.state is PledgeState.CONFIRMED:
                doc.add_paragraph().add_run(say("pledges_report.not_told")).italic = True
    if is_rtl(language):
        from bot.reports.rtl import rtl_document

        rtl_document(doc)
    doc.save(str(path))
    return len(found.pledges)


async def make_pledges_report(
    sessions: Any, year: int | None, out: Path, *, language: str, timezone: str, as_of: datetime,
) -> tuple[int, int, int]:
    """The round's report written to ``out`` (.xlsx or .docx): (its year, the pledges, the institutions asked)."""
    from storage.pledges import get_round, latest_round, summary

    async with sessions() as session:
        round_ = await get_round(session, year) if year is not None else await latest_round(session)
        found = await summary(session, round_)
    write = write_docx if out.suffix.lower() == ".docx" else write_xlsx
    count = write(found, out, language=language, timezone=timezone, as_of=as_of)
    return found.round.year, count, len(found.lines)
