"""Every benchmark and the fault suite, in one run, summed up in one table.

    python bench/run_all.py            # the sizes the issues ask for (about 20 minutes on 2 cores)
    python bench/run_all.py --quick    # small sizes, a few minutes: a smoke run of the same code

Rows: import rows a second (a first import and a re-import of a UHRI-shaped
file, SQLite); reminder fan-out at Telegram's rate (achieved / allowed,
duplicates, lost); conversation turns a second through the webhook path
against a bare python-telegram-bot application; the implementation matrix
against a plain read of its rows; and each test of the fault suite
(``pytest -m fault``) with what it sent, duplicated and lost. Each run is its
own process, so each peak memory is its own. Everything runs against SQLite
files in a temporary folder and the local stand-ins; set
NMRF_TEST_DATABASE_URL to run the fault suite on PostgreSQL as well.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import import_bench  # noqa: E402
import matrix_bench  # noqa: E402
import reminder_bench  # noqa: E402
import turns_bench  # noqa: E402

FULL = {"import_rows": 267_500, "focal_points": 10_000, "people": 200, "turns": 10, "recommendations": 267_500, "updates": 1_000_000}
QUICK = {"import_rows": 20_000, "focal_points": 600, "people": 40, "turns": 4, "recommendations": 20_000, "updates": 80_000}


def imports(rows: int, folder: Path) -> list[tuple[str, str, str, str]]:
    path = import_bench.OUT / f"uhri_{rows}.xlsx"
    import_bench.OUT.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        import_bench.generate(path, rows)
    url = f"sqlite:///{folder}/import.db"
    asyncio.run(import_bench.prepare(url))
    out = []
    for run in ("first import", "re-import"):
        f = import_bench.run_import(url, path)
        out.append((f"import {rows:,} UHRI rows, {run}", f"{f['rows'] / f['seconds']:,.0f} rows/s ({f['seconds']:.0f} s)", "", f"{f['peak_rss_mib']:.0f} MiB"))
    return out


def fan_out(count: int, folder: Path) -> list[tuple[str, str, str, str]]:
    url = f"sqlite:///{folder}/reminders.db"
    asyncio.run(reminder_bench.build_registry(url, count))
    f = asyncio.run(reminder_bench.run(url, count))
    return [
        (f"reminder fan-out to {count:,} focal points", f"{f['rate']:.1f} msg/s = {f['rate'] / reminder_bench.ALLOWED_RATE:.2f} of allowed", ">= 0.90", f"{f['peak_mib']:.0f} MiB"),
        ("   duplicated / lost", f"{f['duplicates']:.0f} / {f['lost']:.0f}", "0 / 0", ""),
    ]


def turns(people: int, count: int) -> list[tuple[str, str, str, str]]:
    r = turns_bench.measure(people, count)
    ours, bare = r["ours"], r["bare"]
    return [
        (f"turns through the webhook path ({people} people x {count})", f"{ours['per_second']:.0f} turns/s", "", f"{ours['peak_mib']:.0f} MiB"),
        ("   bare python-telegram-bot, same traffic", f"{bare['per_second']:.0f} turns/s", "", f"{bare['peak_mib']:.0f} MiB"),
        ("   overhead over the framework's floor", f"{bare['per_second'] / ours['per_second']:.1f}x", "", ""),
    ]


def matrix(recommendations: int, updates: int, folder: Path) -> list[tuple[str, str, str, str]]:
    url = f"sqlite:///{folder}/matrix.db"
    asyncio.run(matrix_bench.build(url, recommendations, updates))
    raw = matrix_bench.measure(url, "raw", folder / "unused.xlsx")
    made = matrix_bench.measure(url, "matrix", folder / "matrix.xlsx")
    return [
        (f"matrix, {recommendations:,} recommendations, {updates:,} updates", f"{made['seconds']:.1f} s", "", f"{made['peak_mib']:.0f} MiB"),
        ("   plain read of the same rows", f"{raw['seconds']:.1f} s", "", f"{raw['peak_mib']:.0f} MiB"),
        ("   ratio", f"{made['seconds'] / raw['seconds']:.1f}x", "<= 3x", ""),
    ]


def faults(folder: Path) -> list[tuple[str, str, str, str]]:
    report = folder / "faults.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "fault", "-p", "no:cacheprovider"],
        cwd=ROOT, env={**os.environ, "NMRF_FAULT_REPORT": str(report)}, capture_output=True, text=True, check=False,
    )
    rows = []
    for line in report.read_text(encoding="utf-8").splitlines() if report.exists() else []:
        f = json.loads(line)
        name = f.pop("test").removeprefix("test_").replace("_", " ")
        sent, duplicated, lost = f.pop("sent"), f.pop("duplicated"), f.pop("lost")
        extra = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in f.items())
        rows.append((f"fault: {name}", f"sent {sent}, duplicated {duplicated}, lost {lost}" + (f" ({extra})" if extra else ""), "dup 0, lost 0", ""))
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
    rows.append(("fault suite (pytest -m fault)", summary, "all pass", ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    folder = Path(tempfile.mkdtemp(prefix="nmrf-bench-all-"))
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    steps = [
        ("import", lambda: imports(size["import_rows"], folder)),
        ("reminder fan-out", lambda: fan_out(size["focal_points"], folder)),
        ("conversation turns", lambda: turns(size["people"], size["turns"])),
        ("matrix", lambda: matrix(size["recommendations"], size["updates"], folder)),
        ("fault suite", lambda: faults(folder)),
    ]
    rows: list[tuple[str, str, str, str]] = []
    console = Console(width=160, stderr=True)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("benchmarks", total=len(steps))
        for name, step in steps:
            progress.update(task, description=name)
            rows.extend(step())
            progress.advance(task)
    table = Table(title=f"nmrf-bot benchmarks ({'quick' if args.quick else 'full'} sizes, SQLite, local stand-ins)")
    for column, justify in (("what", "left"), ("figure", "right"), ("aim", "right"), ("peak memory", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*row)
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
