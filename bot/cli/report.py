"""``nmrf-bot report``: the compiled outputs for the secretariat."""

from __future__ import annotations

import os

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from bot.cli.context import AppContext
from bot.cli.options import DATE, output_options
from messages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, t
from storage.choices import PROGRESS_GROUPS, REPORT_SORTS, SDG_GROUPS, SUMMARY_GROUPINGS
from storage.enums import Priority
from storage.errors import InvalidValue

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from handlers.report_orders import ReportFile
    from storage.sdgs import SdgFilter


def as_of_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--as-of", "as_of", type=DATE, default=None,
        help="The history as it stood at the end of this day ([schedule] timezone); default: now.",
    )(func)


def scope_options(func):  # type: ignore[no-untyped-def]
    for option in (
        click.option("--country", default=None, help="Only this State."),
        click.option("--mechanism", default=None, help="Only this mechanism, e.g. UPR or CEDAW."),
        click.option("--cycle", type=int, default=None, help="Only this UPR cycle."),
    ):
        func = option(func)
    return func


def sdg_value(_ctx: click.Context, _param: click.Parameter, value: str | None) -> SdgFilter | None:
    from storage.sdgs import parse_filter

    if value is None:
        return None
    try:
        return parse_filter(value)
    except InvalidValue as exc:
        raise click.BadParameter(str(exc), param_hint="--sdg") from None


def filter_options(func):  # type: ignore[no-untyped-def]
    for option in (
        click.option("--sdg", callback=sdg_value, default=None, help="Only what is tagged with this SDG goal (5) or target (5.2)."),
        click.option(
            "--priority", type=click.Choice([p.value for p in Priority]), default=None,
            help="Only this priority (the Guide's criteria, or the secretariat's override).",
        ),
    ):
        func = option(func)
    return func


def writable_out(_ctx: click.Context, _param: click.Parameter, out: Path) -> Path:
    """Said before any work: a report that cannot be saved is not made."""
    # Through a symlink, the folder written to is its target's.
    target = Path(os.path.realpath(out))
    folder = target.parent
    if not folder.is_dir():
        raise click.BadParameter(f"no folder {folder}", param_hint="--out")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise click.BadParameter(f"cannot write to {out}: permission denied", param_hint="--out")
    return out


def wrote(out: Path, made: ReportFile) -> str:
    """The line that says where the report went: through a link, to its target."""
    return f"wrote {out}" if made.path == out else f"wrote {made.path} (through the link {out})"


def grouped_note(by: str | None) -> str:
    """After the count: a grouped file has more rows than recommendations."""
    return "" if by is None else f"; grouped by {by.removeprefix('sdg-')}, one under several SDG {by.removeprefix('sdg-')}s is under each"


def report_language(app: AppContext, chosen: str | None) -> str:
    """The one asked for; else the first secretariat user's; else English."""
    users = app.config.secretariat.users
    return chosen or (users[0].language if users else DEFAULT_LANGUAGE)


def end_of_day(app: AppContext, day: date | None) -> datetime | None:
    """The last moment of ``day`` where the secretariat is."""
    from handlers.report_orders import last_moment_of

    return None if day is None else last_moment_of(day, app.config.schedule.timezone)


@click.group()
def report() -> None:
    """Implementation matrix and exports, as of any date."""


@report.command("matrix")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, callback=writable_out, help="The .xlsx to write.")
@click.option("--language", type=click.Choice(SUPPORTED_LANGUAGES), default=None, help="Default: the first secretariat user's, else English.")
@click.option("--sort", type=click.Choice(REPORT_SORTS), default="default", show_default=True, help="priority: high first within each sheet (with --by, within each goal or target).")
@click.option(
    "--by", type=click.Choice(SDG_GROUPS), default=None,
    help="A sheet per SDG goal instead of per mechanism, each row led by its goal or target (sdg-target: the rows target "
    "after target); a recommendation under several is a row under each.",
)
@as_of_option
@scope_options
@filter_options
@click.pass_obj
def report_matrix(
    app: AppContext, out: Path, language: str | None, sort: str, by: str | None, as_of: date | None, country: str | None, mechanism: str | None,
    cycle: int | None, sdg: SdgFilter | None, priority: str | None,
) -> None:
    """The implementation matrix: a summary sheet and a sheet per mechanism
    (per SDG goal with --by), in the language asked for, times in [schedule]
    timezone; with each recommendation's priority and its reasons, its SDG
    targets, and a column for each SDG goal present."""
    from bot.reports.build import make_report
    from handlers.report_orders import ReportOrder

    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter("the matrix is an .xlsx file", param_hint="--out")
    order = ReportOrder(
        "matrix", report_language(app, language), app.config.schedule.timezone, mechanism, cycle, country, as_of=end_of_day(app, as_of),
        sdg=sdg, priority=Priority(priority) if priority else None, sort=sort, by=by,
    )
    made = app.run(lambda sessions: make_report(sessions, order, out))
    click.echo(wrote(out, made) + f" ({t('count.recommendations', DEFAULT_LANGUAGE, count=made.count)}{grouped_note(by)})")


@report.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, callback=writable_out)
@click.option(
    "--public", is_flag=True,
    help="Only the recommendations, institutions and statuses, to publish (no narratives, next steps, evidence or names); "
    "only validated input while [reports] public_requires_validation.",
)
@click.option(
    "--by", type=click.Choice(SDG_GROUPS), default=None,
    help="A row per recommendation and SDG goal (target), grouped, led by an sdg_goal (sdg_target) column.",
)
@as_of_option
@scope_options
@filter_options
@click.pass_obj
def report_export(
    app: AppContext, fmt: str, out: Path, public: bool, by: str | None, as_of: date | None, country: str | None, mechanism: str | None,
    cycle: int | None, sdg: SdgFilter | None, priority: str | None,
) -> None:
    """Every recommendation with its state, as CSV or JSON, for other tools."""
    from bot.reports.build import make_report
    from handlers.report_orders import ReportOrder

    order = ReportOrder(
        "export", DEFAULT_LANGUAGE, app.config.schedule.timezone, mechanism, cycle, country, public=public,
        validated_only=public and app.config.reports.public_requires_validation, fmt=fmt, as_of=end_of_day(app, as_of),
        sdg=sdg, priority=Priority(priority) if priority else None, by=by,
    )
    made = app.run(lambda sessions: make_report(sessions, order, out, app.clock))
    said = t("count.recommendations", DEFAULT_LANGUAGE, count=made.count)
    click.echo(wrote(out, made) + f" ({said}{', public version' if public else ''}{grouped_note(by)})")


@report.command("evidence")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, callback=writable_out, help="The .zip to write.")
@as_of_option
@scope_options
@click.pass_obj
def report_evidence(app: AppContext, out: Path, as_of: date | None, country: str | None, mechanism: str | None, cycle: int | None) -> None:
    """Every file sent as evidence, from the evidence store ([evidence]
    store), in one .zip with a manifest.csv of every file given, kept or not."""
    from bot.reports.build import make_report
    from handlers.report_orders import ReportOrder

    if out.suffix.lower() != ".zip":
        raise click.BadParameter("the evidence bundle is a .zip file", param_hint="--out")
    order = ReportOrder("evidence", DEFAULT_LANGUAGE, app.config.schedule.timezone, mechanism, cycle, country, as_of=end_of_day(app, as_of))
    store = app.config.evidence.store_path(app.config.database.url)
    made = app.run(lambda sessions: make_report(sessions, order, out, evidence_store=store))
    listed = made.count + made.without_input
    click.echo(wrote(out, made) + f" ({made.count} of {listed} files; manifest.csv lists each, kept or not)")


@report.command("draft")
@click.option("--mechanism", required=True, help="UPR, CEDAW, CRC ...")
@click.option("--cycle", type=int, default=None, help="The UPR cycle.")
@click.option("--country", default=None, help="Only this State.")
@click.option("--language", type=click.Choice(SUPPORTED_LANGUAGES), default=None, help="Default: the first secretariat user's, else English.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, callback=writable_out, help="The .docx to write.")
@as_of_option
@click.pass_obj
def report_draft(app: AppContext, mechanism: str, cycle: int | None, country: str | None, language: str | None, out: Path, as_of: date | None) -> None:
    """A draft report section for one mechanism (and cycle): by cluster and
    paragraph, each institution's latest input and its source, and the
    recommendations with no input yet."""
    from bot.reports.build import make_report
    from handlers.report_orders import ReportOrder

    if out.suffix.lower() != ".docx":
        raise click.BadParameter("the draft is a .docx file", param_hint="--out")
    order = ReportOrder(
        "draft", report_language(app, language), app.config.schedule.timezone, mechanism.upper(), cycle, country, as_of=end_of_day(app, as_of)
    )
    made = app.run(lambda sessions: make_report(sessions, order, out))
    click.echo(wrote(out, made) + f" ({t('count.recommendations', DEFAULT_LANGUAGE, count=made.count)}, {made.without_input} without input)")


@report.command("progress")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, callback=writable_out, help="The .html to write.")
@click.option(
    "--public", is_flag=True,
    help="Leave out internal notes and the names of individuals, to publish; only validated input while [reports] public_requires_validation.",
)
@click.option("--language", type=click.Choice(SUPPORTED_LANGUAGES), default=None, help="Default: the first secretariat user's, else English.")
@click.option(
    "--by", type=click.Choice(PROGRESS_GROUPS), default=None,
    help="Group the page's table by cluster, SDG goal or SDG target (a recommendation under several is listed under each).",
)
@as_of_option
@scope_options
@filter_options
@click.pass_obj
def report_progress(
    app: AppContext, out: Path, public: bool, language: str | None, by: str | None, as_of: date | None, country: str | None,
    mechanism: str | None, cycle: int | None, sdg: SdgFilter | None, priority: str | None,
) -> None:
    """A self-contained progress page with charts: status by cluster, by
    SDG goal and by institution, response rate per institution, updates over time."""
    from bot.reports.build import make_report
    from handlers.report_orders import ReportOrder

    order = ReportOrder(
        "progress", report_language(app, language), app.config.schedule.timezone, mechanism, cycle, country, public=public,
        validated_only=public and app.config.reports.public_requires_validation, as_of=end_of_day(app, as_of),
        sdg=sdg, priority=Priority(priority) if priority else None, by=by,
    )
    made = app.run(lambda sessions: make_report(sessions, order, out, app.clock))
    click.echo(wrote(out, made) + f" ({t('count.recommendations', DEFAULT_LANGUAGE, count=made.count)}{', public version' if public else ''})")


# storage.report_plan.PLAN_GROUPS, written out so `report --help` loads no
# models (tests/test_report_plan.py holds the two equal).
PLAN_BY = ("cluster", "group", "chapter")


@report.command("plan")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, callback=writable_out,
    help="The .xlsx (to sort and filter) or .docx (to edit) to write.",
)
@click.option(
    "--by", type=click.Choice(PLAN_BY), default="cluster", show_default=True,
    help="Sections by cluster, linked group or framework chapter (an action under each chapter it serves).",
)
@click.option(
    "--public", is_flag=True,
    help="Leave out the budgets marked internal, to publish; statuses from validated input only while [reports] public_requires_validation.",
)
@click.option("--language", type=click.Choice(SUPPORTED_LANGUAGES), default=None, help="Default: the first secretariat user's, else English.")
@as_of_option
@scope_options
@filter_options
@click.pass_obj
def report_plan(
    app: AppContext, out: Path, by: str, public: bool, language: str | None, as_of: date | None, country: str | None, mechanism: str | None,
    cycle: int | None, sdg: SdgFilter | None, priority: str | None,
) -> None:
    """The national implementation plan: each recommendation with its status,
    its actions (responsible institutions, timelines, budgets, status) and its
    indicators (baseline, target, latest value), in sections."""
    from bot.reports.build import make_report
    from handlers.report_orders import ReportOrder

    fmt = out.suffix.lower().removeprefix(".")
    if fmt not in ("xlsx", "docx"):
        raise click.BadParameter(f"the plan is an .xlsx or a .docx file, not {out.suffix or 'a file without an extension'}", param_hint="--out")
    order = ReportOrder(
        "plan", report_language(app, language), app.config.schedule.timezone, mechanism, cycle, country, public=public,
        validated_only=public and app.config.reports.public_requires_validation, fmt=fmt, as_of=end_of_day(app, as_of),
        sdg=sdg, priority=Priority(priority) if priority else None, by=by,
    )
    made = app.run(lambda sessions: make_report(sessions, order, out, app.clock))
    click.echo(wrote(out, made) + f" ({t('count.recommendations', DEFAULT_LANGUAGE, count=made.count)}, by {by}{', public version' if public else ''})")


@report.command("summary")
@click.argument("kind", type=click.Choice(["progress", "overdue", "missing"]))
@click.option("--by", type=click.Choice(SUMMARY_GROUPINGS), default="institution", show_default=True)
@as_of_option
@scope_options
@filter_options
@output_options
@click.pass_obj
def report_summary(
    app: AppContext, kind: str, by: str, as_of: date | None, country: str | None, mechanism: str | None, cycle: int | None,
    sdg: SdgFilter | None, priority: str | None, fmt: str, limit: int | None,
) -> None:
    """Per institution, cluster, SDG goal or SDG target: counts by status and
    the response rate (progress), the items past their deadline (overdue), or
    the recommendations nobody has updated (missing). By SDG, a
    recommendation under several goals (targets) counts under each, and one
    under none under "—"."""
    from bot.output import write_rows
    from bot.policy import reminder_policy
    from handlers.summaries import SUMMARY_COLUMNS, summarise
    from handlers.timeliness import on_time_line
    from storage.report_rows import ReportScope

    moment = end_of_day(app, as_of)
    scope = ReportScope(country, mechanism, cycle, sdg, Priority(priority) if priority else None)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, object]]:
        async with sessions() as session:
            lines = await summarise(session, by, reminder_policy(app.config), as_of=moment, scope=scope)
        rows = [line.as_row() for line in lines]
        if kind == "overdue":
            return [{"group": r["group"], "overdue": r["overdue"], "total": r["total"]} for r in rows if r["overdue"]]
        if kind == "missing":
            return [{"group": r["group"], "missing": r["missing"], "total": r["total"]} for r in rows if r["missing"]]
        return rows

    columns = {"progress": SUMMARY_COLUMNS, "overdue": ("group", "overdue", "total"), "missing": ("group", "missing", "total")}[kind]
    write_rows(app.run(work), columns, fmt, limit)
    if by in SDG_GROUPS and fmt == "table":
        click.echo(t("summary.sdg_note", DEFAULT_LANGUAGE))
    if kind == "progress" and fmt == "table":
        # Below the table only: CSV and JSON stay one table a tool can read.
        day = as_of or app.now().astimezone(ZoneInfo(app.config.schedule.timezone)).date()

        async def reports(sessions: async_sessionmaker[AsyncSession]) -> str | None:
            async with sessions() as session:
                return await on_time_line(session, day, DEFAULT_LANGUAGE)

        line = app.run(reports)
        if line is not None:
            click.echo(line)


@report.command("pledges")
@click.option("--year", type=int, default=None, help="The round's year (default: the latest).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, callback=writable_out, help="The .xlsx or .docx to write.")
@click.option("--language", type=click.Choice(SUPPORTED_LANGUAGES), default=None, help="Default: the first secretariat user's, else English.")
@click.pass_obj
def report_pledges(app: AppContext, year: int | None, out: Path, language: str | None) -> None:
    """A pledge round's summary and report-back: each institution asked, what
    it pledged and confirmed, and what became of each pledge (.xlsx: a summary
    sheet and a sheet of pledges; .docx: the same for reading)."""
    from bot.reports.pledges import make_pledges_report

    if out.suffix.lower() not in (".xlsx", ".docx"):
        raise click.BadParameter("the pledges report is an .xlsx or a .docx file", param_hint="--out")
    lang, zone = report_language(app, language), app.config.schedule.timezone
    year_made, count, asked = app.run(lambda sessions: make_pledges_report(sessions, year, out, language=lang, timezone=zone, as_of=app.now()))
    click.echo(f"wrote {out} (the {year_made} round: {count} pledge(s) of {asked} institution(s) asked)")
