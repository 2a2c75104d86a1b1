"""Import benchmark: a UHRI-sized export (267,500 rows) into SQLite and PostgreSQL.

    python bench/import_bench.py                  # both backends, 267,500 rows
    python bench/import_bench.py --rows 20000 --backend sqlite

Prints one table: rows/s for a first import and for a re-import of the same
file (which must change nothing), and the peak memory (RSS) of the process
doing the import. Each import runs in a fresh subprocess so its peak is its
own. PostgreSQL uses the database `nmrf_bench` on the server named by
NMRF_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres),
creating it if needed; it is skipped when the server cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from peak import peak_mib  # noqa: E402

OUT = ROOT / "bench" / "out"
UHRI_SIZE = 267_500

COUNTRIES = [f"State {n}" for n in range(1, 194)]
BODIES = ["UPR"] * 10 + ["CERD", "CCPR", "CESCR", "CEDAW", "CAT", "CRC", "CMW", "CRPD", "CED", "SPT"] + [
    "SR Torture\n- Special Procedures", "WG Arbitrary Detention\n- Special Procedures", "IE Sexual Orientation\n- Special Procedures",
]
THEMES = [f"Theme {n}" for n in range(1, 90)]
SDGS = [f"{g}.{t} - Target {g}.{t}" for g in range(1, 18) for t in range(1, 6)]
GROUPS = ["Women & girls", "Children", "Persons with disabilities", "Migrants", "Indigenous peoples", "Persons deprived of their liberty", "Minorities"]
WORDS = (
    "ensure adopt strengthen ratify continue implement establish review guarantee protect promote combat "
    "national measures legislation women children persons disabilities detention justice access education "
    "health violence discrimination policy plan resources institution rights human effective independent"
).split()


def bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write the file as UHRI's export does, strings in a shared-strings table
    (openpyxl's write-only mode would write inline strings, slower to read)."""
    import xlsxwriter

    from storage.importers.uhri import COLUMNS

    rng = random.Random(seed)
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Export")
    sheet.write_row(0, 0, list(COLUMNS))
    for n in range(1, rows + 1):
        body = rng.choice(BODIES)
        upr = body == "UPR"
        session = rng.randint(1, 47)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 70)))
        values = {
            "Text": (f"{rng.randint(90, 160)}.{rng.randint(1, 300)} " if upr else f"Heading {rng.randint(1, 40)}. ") + text.capitalize(),
            "Countries Concerned": f"- {rng.choice(COUNTRIES)}",
            "Reccomending Body": f"- {body}",
            "Document Symbol": f"- {'A/HRC' if upr else body.split()[0]}/{rng.randint(10, 60)}/{rng.randint(1, 30)}",
            "Themes": bullets(rng.sample(THEMES, rng.randint(1, 4))),
            "Affected Persons": bullets(rng.sample(GROUPS, rng.randint(0, 2))),
            "Sdgs": bullets(rng.sample(SDGS, rng.randint(0, 3))),
            "Document Publication Date": rng.randint(39000, 46000),
            "Date of publication on UHRI": rng.randint(43000, 46300) + rng.random(),
            "UPR Reccomending States": bullets(rng.sample(COUNTRIES, rng.randint(1, 2))) if upr else "",
            "UPR Position": rng.choice(["- Supported", "- Noted"]) if upr else "",
            "UPR Session": f"- {session} Session" if upr else "",
            "Type": "- Recommendations" if upr or rng.random() < 0.6 else "- Concerns/Observations",
            "OHCHR Annotation Id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "Regions Concerned": "- Region",
            "Recommending Regions": "- Region" if upr else "",
        }
        sheet.write_row(n, 0, [values[c] for c in COLUMNS])
    workbook.close()


def worker(url: str, path: str) -> None:
    """One import, in its own process; prints its figures as JSON."""
    from storage.database import create_engine, session_factory
    from storage.enums import ImportSource
    from storage.importers.run import import_file

    async def run() -> dict[str, float]:
        engine = create_engine(url)
        try:
            started = time.perf_counter()
            report = await import_file(session_factory(engine), ImportSource.UHRI, Path(path))
            elapsed = time.perf_counter() - started
        finally:
            await engine.dispose()
        return {
            "rows": report.rows,
            "created": report.total("created"),
            "unchanged": report.total("unchanged"),
            "seconds": elapsed,
            "peak_rss_mib": peak_mib(),
        }

    print(json.dumps(asyncio.run(run())))


async def prepare(url: str) -> None:
    from storage.database import create_engine
    from storage.migrate import rebuild_from_scratch

    engine = create_engine(url)
    try:
        await rebuild_from_scratch(engine)
    finally:
        await engine.dispose()


async def postgres_bench_url() -> str | None:
    import asyncpg

    server = os.environ.get("NMRF_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        conn = await asyncpg.connect(server, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        return None
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = 'nmrf_bench'"):
            await conn.execute("CREATE DATABASE nmrf_bench")
    finally:
        await conn.close()
    return server.rsplit("/", 1)[0] + "/nmrf_bench"


def run_import(url: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", url, str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"import failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=UHRI_SIZE)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return

    from rich.console import Console
    from rich.table import Table

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"uhri_{args.rows}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path.name} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    targets: list[tuple[str, str]] = []
    if args.backend in ("sqlite", "both"):
        db = OUT / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        targets.append(("SQLite", f"sqlite:///{db}"))
    if args.backend in ("postgresql", "both"):
        pg = asyncio.run(postgres_bench_url())
        if pg:
            targets.append(("PostgreSQL", pg))

    table = Table(title=f"UHRI import, {args.rows:,} rows ({path.name})")
    for column in ("backend", "run", "rows", "created", "unchanged", "seconds", "rows/s", "peak RSS (MiB)"):
        table.add_column(column, justify="right" if column not in ("backend", "run") else "left")
    for name, url in targets:
        asyncio.run(prepare(url))
        for run in ("first import", "re-import"):
            figures = run_import(url, path)
            table.add_row(
                name,
                run,
                f"{figures['rows']:,.0f}",
                f"{figures['created']:,.0f}",
                f"{figures['unchanged']:,.0f}",
                f"{figures['seconds']:.1f}",
                f"{figures['rows'] / figures['seconds']:,.0f}",
                f"{figures['peak_rss_mib']:.0f}",
            )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
