"""Implementation matrix benchmark: 267,500 recommendations, 1,000,000 updates.

    python bench/matrix_bench.py                          # SQLite, full size
    python bench/matrix_bench.py --recommendations 20000 --updates 80000
    python bench/matrix_bench.py --backend postgresql

Builds a registry of that size (bulk inserts), then, each in a fresh
subprocess so each peak memory is its own: a plain read of the matrix's rows
(the same SELECT, rows fetched and dropped), and the .xlsx matrix written
from them. Prints the time of each, its processor time (the machine may be
shared: CPU time is what the run itself cost), the ratios (aim: at most
1.5x the raw read, issue 18), and each process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from peak import peak_mib  # noqa: E402

MECHANISMS = ["UPR", "CEDAW", "CRC", "CCPR", "CESCR", "CAT", "CERD", "CRPD"]
STATUSES = ["in_progress", "partially_implemented", "fully_implemented", "not_started", "not_applicable"]


async def build(url: str, recommendations: int, updates: int, seed: int = 7) -> None:
    from sqlalchemy import insert, select

    from storage.database import create_engine, session_factory
    from storage.enums import AssignmentRole, Channel, ImportSource, InstitutionKind, Priority, RecommendationKind, TagKind
    from storage.migrate import rebuild_from_scratch
    from storage.models import Assignment, Cluster, Evidence, Institution, Mechanism, Recommendation, StatusUpdate, Tag, recommendation_tags

    rng = random.Random(seed)
    engine = create_engine(url)
    await rebuild_from_scratch(engine)
    async with session_factory(engine)() as session, session.begin():
        mechanisms = {code: mid for code, mid in await session.execute(select(Mechanism.code, Mechanism.id).where(Mechanism.code.in_(MECHANISMS)))}
        await session.execute(insert(Institution), [{"id": i, "code": f"M{i:03d}", "name": f"Ministry {i}", "kind": InstitutionKind.MINISTRY, "active": True} for i in range(1, 61)])
        await session.execute(insert(Cluster), [{"id": c, "name": f"Cluster {c}"} for c in range(1, 41)])
        # SDG tags as UHRI writes them: targets ("5.2 - ...") and whole goals ("5 - GENDER EQUALITY").
        sdgs = [f"{g}.{n} - Target {g}.{n}" for g in range(1, 18) for n in range(1, 6)] + [f"{g} - GOAL {g}" for g in range(1, 18)]
        await session.execute(insert(Tag), [{"id": i, "kind": TagKind.SDG, "value": v} for i, v in enumerate(sdgs, start=1)])
        priorities = [Priority.HIGH, Priority.MEDIUM, Priority.LOW, None]
        batch = 20_000
        for start in range(0, recommendations, batch):
            ids = range(start + 1, min(start + batch, recommendations) + 1)
            await session.execute(insert(Recommendation), [
                {"id": r, "source": ImportSource.TEMPLATE, "external_id": f"R{r}", "paragraph": f"{r % 200}.{r % 17}",
                 "text": f"Recommendation {r}: ensure that the rights of everyone concerned are respected in law and in practice, and report on progress.",
                 "country": f"State {r % 193}", "kind": RecommendationKind.RECOMMENDATION, "mechanism_id": mechanisms[MECHANISMS[r % len(MECHANISMS)]],
                 "cluster_id": r % 40 + 1, "content_hash": "x", "priority": priorities[r % 4]}
                for r in ids
            ])
            await session.execute(insert(recommendation_tags), [
                {"recommendation_id": r, "tag_id": tag} for r in ids for tag in rng.sample(range(1, len(sdgs) + 1), rng.randint(0, 3))
            ])
            await session.execute(insert(Assignment), [
                {"recommendation_id": r, "institution_id": r % 60 + 1, "role": AssignmentRole.LEAD, "assigned_by": "bench"} for r in ids
            ])
        base = datetime(2024, 1, 1, tzinfo=timezone.utc)
        for start in range(0, updates, batch):
            rows = []
            for u in range(start + 1, min(start + batch, updates) + 1):
                rec = rng.randint(1, recommendations)
                rows.append({"id": u, "recommendation_id": rec, "institution_id": rec % 60 + 1, "status": rng.choice(STATUSES),
                             "narrative": f"Update {u}: the ministry adopted measures and trained staff; figures attached.",
                             "next_step": "Regulatory decree", "author_label": f"Focal point {rec % 60}", "channel": Channel.TELEGRAM,
                             "created_at": base + timedelta(minutes=u)})
            await session.execute(insert(StatusUpdate), rows)
            await session.execute(insert(Evidence), [
                {"status_update_id": r["id"], "kind": "link", "url": f"https://gov.example/doc/{r['id']}"} for r in rows if r["id"] % 4 == 0
            ])
    await engine.dispose()


def worker(url: str, mode: str, out: str) -> None:
    """One measured run, in its own process; prints its figures as JSON."""
    from storage.database import create_engine, session_factory
    from storage.report_rows import ReportScope, report_statement

    async def go() -> dict[str, float]:
        engine = create_engine(url)
        started, cpu = time.perf_counter(), time.process_time()
        rows = 0
        async with session_factory(engine)() as session:
            if mode == "raw":
                result = await session.stream(report_statement(ReportScope(), None).execution_options(yield_per=2000))
                async for _ in result:
                    rows += 1
            else:
                # The whole path `report matrix` takes: SDG goal columns, priority reasons and all.
                from bot.reports.build import make_report
                from handlers.report_orders import ReportOrder

                made = await make_report(session_factory(engine), ReportOrder("matrix", "en", "UTC"), Path(out), lambda: datetime.now(timezone.utc))
                rows = made.count
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        await engine.dispose()
        return {"rows": rows, "seconds": seconds, "cpu": cpu, "peak_mib": peak_mib()}

    print(json.dumps(asyncio.run(go())))


def measure(url: str, mode: str, out: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--worker", mode, "--url", url, "--out", str(out)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recommendations", type=int, default=267_500)
    parser.add_argument("--updates", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--worker", choices=["raw", "matrix"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.url, args.worker, args.out)
        return
    folder = Path(tempfile.mkdtemp(prefix="nmrf-matrix-"))
    if args.backend == "sqlite":
        url = f"sqlite:///{folder}/bench.db"
    else:
        from bench.reminder_bench import _ensure_database  # type: ignore[import-not-found]

        url = os.environ.get("NMRF_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres").rsplit("/", 1)[0] + "/nmrf_bench"
        asyncio.run(_ensure_database(url))
    started = time.perf_counter()
    asyncio.run(build(url, args.recommendations, args.updates))
    print(f"built {args.recommendations:,} recommendations and {args.updates:,} updates in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    raw = measure(url, "raw", folder / "unused.xlsx")
    matrix = measure(url, "matrix", folder / "matrix.xlsx")
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Implementation matrix, {args.recommendations:,} recommendations, {args.updates:,} updates ({args.backend})")
    for column in ("run", "rows", "seconds", "CPU seconds", "peak RSS", "ratio to raw read", "CPU ratio"):
        table.add_column(column, justify="right")
    table.add_row("plain SELECT of the rows", f"{raw['rows']:,}", f"{raw['seconds']:.1f}", f"{raw['cpu']:.1f}", f"{raw['peak_mib']:.0f} MiB", "1.00", "1.00")
    table.add_row(
        "matrix .xlsx", f"{matrix['rows']:,}", f"{matrix['seconds']:.1f}", f"{matrix['cpu']:.1f}", f"{matrix['peak_mib']:.0f} MiB",
        f"{matrix['seconds'] / raw['seconds']:.2f}", f"{matrix['cpu'] / raw['cpu']:.2f}",
    )
    Console(width=120).print(table)
    print(f"matrix: {folder / 'matrix.xlsx'} ({(folder / 'matrix.xlsx').stat().st_size / 2**20:.0f} MiB)", file=sys.stderr)


if __name__ == "__main__":
    main()
