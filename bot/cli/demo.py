"""``nmrf-bot demo``: try the registry on a laptop, no tokens, no network."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import click

from bot.demo import load_demo
from bot.output import RowWriter
from storage.database import create_engine, session_factory
from storage.migrate import current_revision, upgrade
from storage.recommendations import RecommendationFilter, stream_recommendations


@click.command()
@click.option(
    "--database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("nmrf-demo.db"),
    show_default=True,
    help="SQLite file for the demo; replaced on each run. Your configured database is never touched.",
)
def demo(database: Path) -> None:
    """Build a small demo registry and show it."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database}"

    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            click.echo(f"1. Created {database} (SQLite, schema {await current_revision(engine)}).")
            sessions = session_factory(engine)
            report, deadlines = await load_demo(sessions, date.today())
            made = ", ".join(f"{counts.created} {table.replace('_', ' ')}" for table, counts in report.tables.items())
            click.echo(f"2. Imported the demo network through the template importer: {made}.")
            click.echo("3. Set the secretariat's deadlines:")
            for line in deadlines:
                click.echo(f"   - {line}")
            click.echo("4. The recommendations, who leads, who contributes:")
            writer = RowWriter(("id", "external_id", "position", "status", "lead", "institutions", "cluster", "text"), "table")
            async with sessions() as session:
                async for row in stream_recommendations(session, RecommendationFilter()):
                    writer.write(row)
            writer.close()
        finally:
            await engine.dispose()

    asyncio.run(run())
    click.echo(f"Explore it: NMRF_DATABASE_URL=sqlite:///{database} nmrf-bot recommendations list --format json")
