"""``nmrf-bot demo``: a whole reporting cycle on a laptop, no tokens, no network."""

from __future__ import annotations

import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import click

from bot.cli.context import AppContext

# Every language with a catalog: one not complete yet plays with English where it lacks a message.
DEMO_LANGUAGES = ("en", "fr", "es", "ar", "zh", "ru", "pt")


def next_monday(today: date) -> date:
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


@click.command()
@click.option(
    "--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("nmrf-demo"), show_default=True,
    help="Folder for the demo's SQLite database and the files it produces; emptied on each run. Your configured database is never touched.",
)
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The first day of the story (default: next Monday).")
@click.option(
    "--language", type=click.Choice(DEMO_LANGUAGES), default=None,
    help="Everyone in the story reads the bot in this language (default: each their own, Spanish, French or English); in Arabic, Jean answers in Arabic.",
)
@click.pass_obj
def demo(app: AppContext, out: Path, start: object, language: str | None) -> None:
    """Play one reporting cycle: the real bot against local stand-ins of
    Telegram and Slack, simulated focal points, a clock that runs a day at
    a time; then the matrix, the draft and the progress page."""
    import asyncio

    from bot.demo.cycle import play
    from bot.demo.transcript import Transcript
    from storage.database import create_engine, session_factory
    from storage.migrate import upgrade

    first = start.date() if start is not None else next_monday(app.now().date())  # type: ignore[attr-defined]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    database = (out / "nmrf-demo.db").resolve()
    transcript = Transcript(click.echo)
    began = time.monotonic()

    async def run() -> list[Path]:
        engine = create_engine(f"sqlite:///{database}")
        try:
            await upgrade(engine)
            outputs = await play(session_factory(engine), database, transcript, first, language)
            return outputs.files
        finally:
            await engine.dispose()

    files = asyncio.run(run())
    click.echo("")
    click.echo(f"Done in {time.monotonic() - began:.0f} s: the bot sent {transcript.sent} messages. What it produced:")
    click.echo(f"  database  {database}")
    for path in files:
        click.echo(f"  {path.suffix.lstrip('.'):9} {path.resolve()}")
    click.echo(f"Explore it: NMRF_DATABASE_URL=sqlite:///{database} nmrf-bot recommendations list")
