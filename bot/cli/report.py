"""``nmrf-bot report``: the compiled outputs for the secretariat."""

from __future__ import annotations

import os

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.context import AppContext
from bot.app import reminder_policy
from bot.cli.options import DATE, output_options
from bot.output import write_rows
from handlers.summaries import GROUPINGS, SUMMARY_COLUMNS, summarise
from handlers.timeliness import on_time_line
from messages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, t
from bot.reports.build import make_report
from handlers.report_orders import ReportFile, ReportOrder, last_moment_of
from storage.report_rows import ReportScope


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


def report_language(app: AppContext, chosen: str | None) -> str:
    """The one asked for; else the first secretariat user's; else English."""
    users = app.config.secretariat.users
    return chosen or (users[0].language if users else DEFAULT_LANGUAGE)


def end_of_day(app: AppContext, day: date | None) -> datetime | None:
    """The last moment of ``day`` where the secretariat is."""
    return None if day is None else last_moment_of(day, app.config.schedule.timezone)


@click.group()
def report() -> None:
    """Implementation matrix and exports, as of any date."""


@report.command("matrix")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, callback=writable_out, help="The .xlsx to write.")
@click.option("--language", type=click.Choice(SUPPORTED_LANGUAGES), default=None, help="Default: the first secretariat user's, else English.")
@as_of_option
@scope_options
@click.pass_obj
def report_matrix(
    app: AppContext, out: Path, language: str | None, as_of: date | None, country: str | None, mechanism: str | None, cycle: int | None
) -> None:
    """The implementation matrix: a summary sheet and a sheet per mechanism,
    in the language asked for, times in [schedule] timezone."""
    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter("the matrix is an .xlsx file", param_hint="--out")
    order = ReportOrder(
        "matrix", report_language(app, language), app.config.schedule.timezone, mechanism, cycle, country, as_of=end_of_day(app, as_of)
    )
    made = app.run(lambda sessions: make_report(sessions, order, out))
    click.echo(wrote(out, made) + f" ({t('count.recommendations', DEFAULT_LANGUAGE, count=made.count)})")


@report.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, callback=writable_out)
@click.option(
    "--public", is_flag=True,
    help="Only the recommendations, institutions and statuses, to publish (no narratives, next steps, evidence or names); "
    "only validated input while [reports] public_requires_validation.",
)
@as_of_option
@scope_options
@click.pass_obj
def report_export(
    app: AppContext, fmt: str, out: Path, public: bool, as_of: date | None, country: str | None, mechanism: str | None, cycle: int | None,
) -> None:
    """Every recommendation with its state, as CSV or JSON, for other tools."""
    order = ReportOrder(
        "export", DEFAULT_LANGUAGE, app.config.schedule.timezone, mechanism, cycle, country, public=public,
        validated_only=public and app.config.reports.public_requires_validation, fmt=fmt, as_of=end_of_day(app, as_of),
    )
    made = app.run(lambda sessions: make_report(sessions, order, out, app.clock))
    click.echo(wrote(out, made) + f" ({t('count.recommendations', DEFAULT_LANGUAGE, count=made.count)}{', public version' if public else ''})")


@report.command("evidence")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, callback=writable_out, help="The .zip to write.")
@as_of_option
@scope_options
@click.pass_obj
def report_evidence(app: AppContext, out: Path, as_of: date | None, country: str | None, mechanism: str | None, cycle: int | None) -> None:
    """Every file sent as evidence, from the evidence store ([evidence]
    store), in one .zip with a manifest.csv of every file given, kept or not."""
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
@as_of_option
@scope_options
@click.pass_obj
def report_progress(
    app: AppContext, out: Path, public: bool, language: str | None, as_of: date | None, country: str | None, mechanism: str | None, cycle: int | None
) -> None:
    """A self-contained progress page with charts: status by cluster and by
    institution, response rate per institution, updates over time."""
    order = ReportOrder(
        "progress", report_language(app, language), app.config.schedule.timezone, mechanism, cycle, country, public=public,
        validated_only=public and app.config.reports.public_requires_validation, as_of=end_of_day(app, as_of),
    )
    made = app.run(lambda sessions: make_report(sessions, order, out, app.clock))
    click.echo(wrote(out, made) + f" ({t('count.recommendations', DEFAULT_LANGUAGE, count=made.count)}{', public version' if public else ''})")


@report.command("summary")
@click.argument("kind", type=click.Choice(["progress", "overdue", "missing"]))
@click.option("--by", type=click.Choice(GROUPINGS), default="institution", show_default=True)
@as_of_option
@scope_options
@output_options
@click.pass_obj
def report_summary(
    app: AppContext, kind: str, by: str, as_of: date | None, country: str | None, mechanism: str | None, cycle: int | None, fmt: str, limit: int | None
) -> None:
    """Per institution or cluster: counts by status and the response rate
    (progress), the items past their deadline (overdue), or the
    recommendations nobody has updated (missing)."""
    moment = end_of_day(app, as_of)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, object]]:
        async with sessions() as session:
            lines = await summarise(session, by, reminder_policy(app.config), as_of=moment, scope=ReportScope(country, mechanism, cycle))
        rows = [line.as_row() for line in lines]
        if kind == "overdue":
            return [{"group": r["group"], "overdue": r["overdue"], "total": r["total"]} for r in rows if r["overdue"]]
        if kind == "missing":
            return [{"group": r["group"], "missing": r["missing"], "total": r["total"]} for r in rows if r["missing"]]
        return rows

    columns = {"progress": SUMMARY_COLUMNS, "overdue": ("group", "overdue", "total"), "missing": ("group", "missing", "total")}[kind]
    write_rows(app.run(work), columns, fmt, limit)
    if kind == "progress" and fmt == "table":
        # Below the table only: CSV and JSON stay one table a tool can read.
        day = as_of or app.now().astimezone(ZoneInfo(app.config.schedule.timezone)).date()

        async def reports(sessions: async_sessionmaker[AsyncSession]) -> str | None:
            async with sessions() as session:
                return await on_time_line(session, day, DEFAULT_LANGUAGE)

        line = app.run(reports)
        if line is not None:
            click.echo(line)
