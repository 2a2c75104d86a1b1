"""``nmrf-bot import``: load recommendations and the network from files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.context import AppContext
from storage.enums import ImportSource

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from storage.importers.run import ImportReport


@click.group("import")
def import_group() -> None:
    """Import recommendations (UHRI, UPR Info) or the network (the template).

    A file with any bad row imports nothing and lists every bad row.
    Importing the same file again changes nothing.
    """


def _import_command(source: ImportSource, help_text: str) -> click.Command:
    @click.command(source.value, help=help_text)
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--encoding", default=None, help="Force the file's text encoding (default: detected; CSV only).")
    @click.option("--no-progress", is_flag=True, help="Do not draw a progress bar.")
    @click.pass_obj
    def command(app: AppContext, file: Path, encoding: str | None, no_progress: bool) -> None:
        from bot.progress import RichProgress
        from storage.importers.run import ImportOptions, NoProgress, import_file

        options = ImportOptions(
            encoding=encoding, default_timezone=app.config.schedule.timezone, limits=app.config.imports.limits
        )
        progress = NoProgress() if no_progress else RichProgress()

        async def work(sessions: async_sessionmaker[AsyncSession]) -> ImportReport:
            return await import_file(sessions, source, file, options, progress)

        report = app.run(work)
        for table, counts in report.tables.items():
            # Rows that were a recommendation another source (UHRI, UPR Info) had given.
            merged = f", {counts.merged} already known from another source" if counts.merged else ""
            # UPR Info's rows of one paragraph, one per recommending State (storage.recommendation_match).
            if counts.folded:
                merged += f", {counts.folded} kept with another State's row of the same recommendation"
            if counts.moved:
                merged += f", {counts.moved} UPR Info rows moved off a paragraph that does not name their State"
            click.echo(
                f"{file.name}: {table}: {counts.rows} rows: {counts.created} created, "
                f"{counts.updated} updated, {counts.unchanged} unchanged{merged}"
            )

    return command


import_group.add_command(
    _import_command(ImportSource.UHRI, "Import a UHRI 'Export to Excel' file (.xlsx, or .csv saved from it).")
)
import_group.add_command(
    _import_command(ImportSource.UPRINFO, "Import a UPR Info database export (.csv, UTF-8 or Mac Roman).")
)
import_group.add_command(
    _import_command(
        ImportSource.TEMPLATE,
        "Import the nmrf-bot template: an .xlsx with institutions, focal_points, recommendations, "
        "assignments, actions and indicators sheets (imported in that order), or a .csv holding one of them.",
    )
)


@import_group.command("write-template")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def write_template(file: Path) -> None:
    """Write a blank template workbook, with a README sheet explaining each column."""
    from bot.reports.build import report_target, whole_or_nothing
    from storage.importers.template import write_blank_template

    if file.suffix.lower() != ".xlsx":
        raise click.BadParameter("the template is an .xlsx file", param_hint="FILE")
    # Beside it, then renamed: a full disk leaves neither a corrupt template nor a
    # previous one damaged, and says which file it could not write.
    # Through a symlink to its target; never onto a FIFO or a device.
    with whole_or_nothing(report_target(file, "the template")) as partial:
        write_blank_template(partial)
    click.echo(f"wrote {file}")
