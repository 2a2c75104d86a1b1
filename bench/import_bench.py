"""Import benchmark: a UHRI-sized export (267,500 rows) into SQLite and PostgreSQL,
side by side with a plain read of the same file by python-calamine.

    python bench/import_bench.py                  # both backends, 267,500 rows
    python bench/import_bench.py --rows 20000 --backend sqlite

Prints one table: for a first import and for a re-import of the same file
(which must change nothing), the whole `nmrf-bot import uhri FILE` command
(start-up included) against a plain read of every row of the file with
python-calamine (a process of its own too), each as wall time and as CPU time
(the fairer figure on a shared machine), their ratios (issue 18: at most 2x
for a first import, 1.5x for a re-import), rows/s and the peak memory (RSS)
of each process. PostgreSQL uses the database NMRF_BENCH_POSTGRES_DB (default
`nmrf_bench`) on the server named by NMRF_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), creating it if needed; it is
skipped when the server cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

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
    name = os.environ.get("NMRF_BENCH_POSTGRES_DB", "nmrf_bench")
    try:
        conn = await asyncpg.connect(server, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        return None
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server.rsplit("/", 1)[0] + "/" + name


def run_import(url: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", url, str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"import failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# A child that writes its peak memory (VmHWM, see peak.py) where the parent reads it.
_PEAK_AT_EXIT = (
    "import atexit, sys\n"
    "def _peak():\n"
    "    line = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
    "    open(sys.argv[1], 'w').write(line.split()[1])\n"
    "atexit.register(_peak)\n"
)
_PLAIN_READ = (
    "from python_calamine import CalamineWorkbook\n"
    "rows = 0\n"
    "for row in CalamineWorkbook.from_path(sys.argv[2]).get_sheet_by_index(0).iter_rows():\n"
    "    rows += 1\n"
    "print(rows)\n"
)
_IMPORT = "from bot.cli import main\nmain(['import', 'uhri', sys.argv[2], '--no-progress'])\n"
# The parts of an import no row adds to, each alone: the guard's survey of
# the file (storage.importers.xlsx_guard.vouch_for_calamine, which lets
# calamine read it), and the command's start-up (its modules imported).
_SURVEY = (
    "from pathlib import Path\n"
    "from storage.importers.limits import DEFAULT_LIMITS\n"
    "from storage.importers.xlsx_guard import vouch_for_calamine\n"
    "assert vouch_for_calamine(Path(sys.argv[2]), DEFAULT_LIMITS)\n"
)
_STARTUP = "import bot.cli, bot.cli.imports, bot.config, storage.importers.run, storage.database\n"



def _timed(code: str, path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter: wall and CPU seconds (its own and
    its children's), peak RSS in MiB, and what it printed."""
    peak_file = OUT / f"peak-{os.getpid()}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_AT_EXIT + code, str(peak_file), str(path)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = int(peak_file.read_text()) / 1024
    peak_file.unlink()
    return {"seconds": seconds, "cpu": cpu, "peak_mib": peak, "out": done.stdout}


def plain_read(path: Path) -> dict[str, Any]:
    """Every row of the file read by python-calamine, and nothing else: the anchor."""
    return _timed(_PLAIN_READ, path)


def import_command(url: str, path: Path) -> dict[str, Any]:
    """The whole `nmrf-bot import uhri FILE --no-progress`, start-up included."""
    figures = _timed(_IMPORT, path, {"NMRF_DATABASE_URL": url})
    # "export.xlsx: recommendations: 20000 rows: 20000 created, 0 updated, 0 unchanged"
    counts = figures["out"].strip().splitlines()[-1].split(": ", 2)[2]
    rows, _, changes = counts.partition(" rows")
    figures["rows"] = int(rows)
    figures["changes"] = changes.lstrip(": ")
    return figures


def uhri_file(rows: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"uhri_{rows}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        generate(path, rows)
        print(f"generated {path.name} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def targets(backend: str) -> list[tuple[str, str]]:
    """(name, database URL) of each backend asked for, each emptied first."""
    found: list[tuple[str, str]] = []
    if backend in ("sqlite", "both"):
        db = OUT / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        found.append(("SQLite", f"sqlite:///{db}"))
    if backend in ("postgresql", "both"):
        pg = asyncio.run(postgres_bench_url())
        if pg:
            found.append(("PostgreSQL", pg))
    return found


def fixed_parts(path: Path) -> dict[str, dict[str, Any]]:
    """The guard's survey of the file and the command's start-up, each in a
    process of its own: with the plain read, the least an import can cost."""
    return {"survey": _timed(_SURVEY, path), "startup": _timed(_STARTUP, path)}


def measure(rows: int, backend: str = "both") -> list[dict[str, Any]]:
    """A plain read, then a first import and a re-import on each backend."""
    path = uhri_file(rows)
    read = plain_read(path)
    read.update(fixed_parts(path))
    results = []
    for name, url in targets(backend):
        asyncio.run(prepare(url))
        for run, aim in (("first import", 2.0), ("re-import", 1.5)):
            results.append({"backend": name, "rows": rows, "run": run, "aim": aim, "read": read, "import": import_command(url, path)})
    return results


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

    table = Table(title=f"UHRI import, {args.rows:,} rows: the whole nmrf-bot import against a plain calamine read")
    columns = ("backend", "run", "result", "plain read s (CPU)", "import s (CPU)", "ratio (CPU)", "aim", "rows/s", "peak MiB read / import")
    for column in columns:
        table.add_column(column, justify="left" if column in ("backend", "run", "result") else "right")
    results = measure(args.rows, args.backend)
    for r in results:
        read, done = r["read"], r["import"]
        table.add_row(
            r["backend"],
            r["run"],
            done["changes"],
            f"{read['seconds']:.2f} ({read['cpu']:.2f})",
            f"{done['seconds']:.2f} ({done['cpu']:.2f})",
            f"{done['seconds'] / read['seconds']:.2f}x ({done['cpu'] / read['cpu']:.2f}x)",
            f"<= {r['aim']}x",
            f"{done['rows'] / done['seconds']:,.0f}",
            f"{read['peak_mib']:.0f} / {done['peak_mib']:.0f}",
        )
    Console(width=160).print(table)
    if results:
        Console(width=160).print(least_line(results[0]["read"]))


def least_line(read: dict[str, Any]) -> str:
    """The fixed parts against the plain read: the least an import can be."""
    survey, startup = read["survey"]["cpu"], read["startup"]["cpu"]
    least = read["cpu"] + survey + startup
    return (
        f"fixed parts, CPU: the guard's survey {survey:.2f} s, start-up {startup:.2f} s; with the plain read "
        f"({read['cpu']:.2f} s), the least an import can be: {least / read['cpu']:.2f}x the plain read"
    )

if __name__ == "__main__":
    main()
