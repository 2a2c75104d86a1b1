"""Every benchmark and the fault suite, in one run, summed up in one table.

    python bench/run_all.py            # the sizes the issues ask for (about 20 minutes on 2 cores)
    python bench/run_all.py --quick    # small sizes, a few minutes: a smoke run of the same code

Rows: the whole `nmrf-bot import` of a UHRI-shaped file (a first import and a
re-import, SQLite, and PostgreSQL when NMRF_BENCH_POSTGRES_URL is set) against a
plain python-calamine read of it, with their ratio; reminder fan-out against Telegram's allowed rate (achieved, allowed,
their ratio, duplicates, lost); conversation turns a second through the webhook path
against a bare python-telegram-bot application, and over Slack Socket Mode
against a bare slack-bolt app (each also as processor time a turn); the implementation matrix
against a plain read of its rows; links suggest over 3,000 recommendations
to one State, with its precision and recall on the labelled set; start-up
(`nmrf-bot --help` and the slowest `COMMAND --help`, a `recommendations list`
of 3,000 recommendations, `nmrf-bot run` until it serves, each against its
target); and each test of the fault suite
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
import links_bench  # noqa: E402
import matrix_bench  # noqa: E402
import reminder_bench  # noqa: E402
import run_memory_bench  # noqa: E402
import startup_bench  # noqa: E402
import turns_bench  # noqa: E402

FULL = {"import_rows": 267_500, "focal_points": 10_000, "people": 200, "turns": 10, "recommendations": 267_500, "updates": 1_000_000, "links": 3_000, "startup_repeat": 3}
QUICK = {"import_rows": 20_000, "focal_points": 600, "people": 40, "turns": 4, "recommendations": 20_000, "updates": 80_000, "links": 3_000, "startup_repeat": 1}


def imports(rows: int, folder: Path) -> list[tuple[str, str, str, str]]:
    """The whole `nmrf-bot import` against a plain calamine read of the same
    file, a first import and a re-import, on SQLite and (when its server
    answers, see import_bench) PostgreSQL."""
    out = []
    backend = "both" if os.environ.get("NMRF_BENCH_POSTGRES_URL") else "sqlite"
    results = import_bench.measure(rows, backend)
    if results:
        read = results[0]["read"]
        out.append((f"plain calamine read of {rows:,} UHRI rows", f"{read['seconds']:.1f} s, {read['cpu']:.1f} s CPU", "", f"{read['peak_mib']:.0f} MiB"))
        least = read["cpu"] + read["survey"]["cpu"] + read["startup"]["cpu"]
        out += [
            ("   the guard's survey of the file (CPU)", f"{read['survey']['cpu']:.1f} s", "", f"{read['survey']['peak_mib']:.0f} MiB"),
            ("   the import command's start-up (CPU)", f"{read['startup']['cpu']:.1f} s", "", ""),
            ("   read + survey + start-up: the least an import can be", f"{least / read['cpu']:.1f}x the read", "", ""),
        ]
    for r in results:
        read, done = r["read"], r["import"]
        out += [
            (f"import {rows:,} UHRI rows, {r['run']}, {r['backend']}", f"{done['rows'] / done['seconds']:,.0f} rows/s, {done['seconds']:.1f} s, {done['cpu']:.1f} s CPU", "", f"{done['peak_mib']:.0f} MiB"),
            ("   ratio to the plain read (time; CPU)", f"{done['seconds'] / read['seconds']:.1f}x; {done['cpu'] / read['cpu']:.1f}x", f"<= {r['aim']}x", ""),
        ]
    return out


def fan_out(count: int, folder: Path) -> list[tuple[str, str, str, str]]:
    url = f"sqlite:///{folder}/reminders.db"
    asyncio.run(reminder_bench.build_registry(url, count))
    f = asyncio.run(reminder_bench.run(url, count))
    return [
        (f"reminder fan-out to {count:,} focal points", f"{f['rate']:.1f} msg/s", "", f"{f['peak_mib']:.0f} MiB"),
        ("   Telegram's allowed rate", f"{reminder_bench.ALLOWED_RATE:.1f} msg/s", "", ""),
        ("   ratio", f"{f['rate'] / reminder_bench.ALLOWED_RATE:.2f}", ">= 0.97", ""),
        ("   duplicated / lost (429s answered)", f"{f['duplicates']:.0f} / {f['lost']:.0f} ({f['refused']:.0f})", "0 / 0", ""),
    ]


def turns(people: int, count: int) -> list[tuple[str, str, str, str]]:
    r = turns_bench.measure(people, count)
    rows = []
    for bare_key, ours_key, path, floor, aim in (
        ("bare", "ours", "the webhook path", "bare python-telegram-bot", "<= 1.5x"),
        ("slack_bare", "slack_ours", "Slack Socket Mode", "bare slack-bolt", ""),
    ):
        ours, bare = r[ours_key], r[bare_key]
        rows += [
            (f"turns through {path} ({people} people x {count})", f"{ours['per_second']:.0f} turns/s, {ours['cpu_ms']:.1f} ms CPU a turn", "", f"{ours['peak_mib']:.0f} MiB"),
            (f"   {floor}, same traffic", f"{bare['per_second']:.0f} turns/s, {bare['cpu_ms']:.1f} ms CPU a turn", "", f"{bare['peak_mib']:.0f} MiB"),
            ("   ratio (turns a second; CPU a turn)", f"{bare['per_second'] / ours['per_second']:.2f}x; {ours['cpu_ms'] / bare['cpu_ms']:.1f}x", aim, ""),
        ]
    return rows


def run_memory() -> list[tuple[str, str, str, str]]:
    r = run_memory_bench.measure()
    return [(
        f"nmrf-bot run, national scale ({r['recommendations']:,} recommendations, {r['focal_points']:,} focal points, a day of reminders, {r['turns']:,} turns)",
        f"{r['cpu_seconds']:.1f} s CPU; {r['reminded']:.0f} reminded, {r['replies']:.0f} replies", f"<= {run_memory_bench.AIM_MIB} MiB", f"{r['peak_mib']:.0f} MiB",
    )]


def matrix(recommendations: int, updates: int, folder: Path) -> list[tuple[str, str, str, str]]:
    url = f"sqlite:///{folder}/matrix.db"
    asyncio.run(matrix_bench.build(url, recommendations, updates))
    raw = matrix_bench.measure(url, "raw", folder / "unused.xlsx")
    made = matrix_bench.measure(url, "matrix", folder / "matrix.xlsx")
    return [
        (f"matrix, {recommendations:,} recommendations, {updates:,} updates", f"{made['seconds']:.1f} s, {made['cpu']:.1f} s CPU", "", f"{made['peak_mib']:.0f} MiB"),
        ("   plain read of the same rows", f"{raw['seconds']:.1f} s, {raw['cpu']:.1f} s CPU", "", f"{raw['peak_mib']:.0f} MiB"),
        ("   ratio (time; CPU)", f"{made['seconds'] / raw['seconds']:.2f}x; {made['cpu'] / raw['cpu']:.2f}x", "<= 1.5x", ""),
    ]


def startup(repeat: int) -> list[tuple[str, str, str, str]]:
    return startup_bench.rows(startup_bench.measure(repeat))


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
        ("run at national scale", run_memory),
        ("matrix", lambda: matrix(size["recommendations"], size["updates"], folder)),
        ("link suggestions", lambda: links_bench.summary(size["links"])),
        ("start-up", lambda: startup(size["startup_repeat"])),
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
