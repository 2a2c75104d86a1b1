"""``nmrf-bot import``: load recommendations and the network from files."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.context import AppContext
from bot.progress import RichProgress
from bot.reports.build import report_target, whole_or_nothing
from storage.enums import ImportSource
from storage.importers.run import ImportOptions, ImportReport, NoProgress, import_file
from storage.importers.template import write_blank_template


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
        options = ImportOptions(
            encoding=encoding, default_timezone=app.config.schedule.timezone, limits=app.config.imports.limits
        )
        progress = NoProgress() if no_progress else RichProgress()

        async def work(sessions: async_sessionmaker[AsyncSession]) -> ImportReport:
            return await import_file(sessions, source, file, options, progress)

        report = app.run(work)
        for table, counts in report.tables.items():
            click.echo(
                f"{file.name}: {table}: {counts.rows} rows: {counts.created} created, "
                f"{counts.updated} updated, {counts.unchanged} unchanged"
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
        "Import the nmrf-bot template: an .xlsx with institutions, focal_points, recommendations and "
        "assignments sheets, or a .csv holding one of them.",
    )
)


@import_group.command("write-template")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def write_template(file: Path) -> None:
    """Write a blank template workbook, with a README sheet explaining each column."""
    if file.suffix.lower() != ".xlsx":
        raise click.BadParameter("the template is an .xlsx file", param_hint="FILE")
    # Beside it, then renamed: a full disk leaves neither a corrupt template nor a
    # previous one damaged, and says which file it could not write.
    # Through a symlink to its target; never onto a FIFO or a device.
    with whole_or_nothing(report_target(file, "the template")) as partial:
        write_blank_template(partial)
    click.echo(f"wrote {file}")
