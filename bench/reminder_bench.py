"""Reminder fan-out benchmark: a due reminder for 10,000 focal points.

    python bench/reminder_bench.py                 # 10,000 focal points, SQLite
    python bench/reminder_bench.py --count 1000
    python bench/reminder_bench.py --backend postgresql

A registry with 10,000 technical focal points (1,000 institutions of ten),
each institution with three recommendations under one input deadline whose
7-day reminder is due today. The real bot (`nmrf-bot run`, its own process)
plans the digests and sends them to the local Telegram stand-in, which
enforces Telegram's limits (30 messages a second in all, one a second a chat)
with 429 and retry_after. Prints one table: achieved / allowed rate (aim:
0.97 or better), duplicates, lost, 429s received, the bot's peak memory, and
the processor time the bot used while it sent (in all and a message) beside
the machine's load: on a shared machine a bot short of processor time falls
behind the rate, which the wall-clock figures alone do not tell.

PostgreSQL uses the database NMRF_BENCH_POSTGRES_DB (default `nmrf_bench`)
on the server named by NMRF_BENCH_POSTGRES_URL (default
`postgresql://postgres@127.0.0.1:5432/postgres`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from peak import peak_mib  # noqa: E402

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
ALLOWED_RATE = 30.0
FIRST_USER = 5_000_000


async def build_registry(url: str, count: int) -> None:
    from sqlalchemy import insert, select

    from storage.database import create_engine, session_factory
    from storage.enums import AssignmentRole, DeadlineKind, FocalPointRole, ImportSource, InstitutionKind, Platform, RecommendationKind
    from storage.migrate import rebuild_from_scratch
    from storage.models import (
        Assignment, ChatIdentity, Deadline, FocalPoint, Institution, Mechanism, Recommendation, deadline_recommendations,
    )

    engine = create_engine(url)
    await rebuild_from_scratch(engine)
    institutions = max(count // 10, 1)
    async with session_factory(engine)() as session, session.begin():
        upr = await session.scalar(select(Mechanism.id).where(Mechanism.code == "UPR"))
        await session.execute(insert(Institution), [
            {"id": i + 1, "code": f"I{i + 1:05d}", "name": f"Institution {i + 1}", "kind": InstitutionKind.MINISTRY, "active": True}
            for i in range(institutions)
        ])
        await session.execute(insert(FocalPoint), [
            {"id": n + 1, "name": f"Focal point {n + 1}", "email": f"fp{n + 1}@gov.example", "institution_id": n % institutions + 1,
             "role": FocalPointRole.TECHNICAL, "language": ("en", "fr", "es")[n % 3], "timezone": "UTC", "active_from": date(2025, 1, 1)}
            for n in range(count)
        ])
        await session.execute(insert(ChatIdentity), [
            {"platform": Platform.TELEGRAM, "workspace_id": "", "platform_user_id": str(FIRST_USER + n), "chat_id": str(FIRST_USER + n), "focal_point_id": n + 1}
            for n in range(count)
        ])
        recs = [
            {"id": r + 1, "source": ImportSource.TEMPLATE, "external_id": f"R{r + 1}", "text": f"Recommendation {r + 1}", "paragraph": f"119.{r + 1}",
             "country": "Bench", "kind": RecommendationKind.RECOMMENDATION, "mechanism_id": upr, "content_hash": "x"}
            for r in range(institutions * 3)
        ]
        await session.execute(insert(Recommendation), recs)
        await session.execute(insert(Assignment), [
            {"recommendation_id": r["id"], "institution_id": (r["id"] - 1) // 3 + 1, "role": AssignmentRole.LEAD, "assigned_by": "bench"} for r in recs
        ])
        session.add(Deadline(id=1, kind=DeadlineKind.INTERNAL_INPUT, title="Inputs for the mid-term report", due_on=date.today() + timedelta(days=7)))
        await session.flush()
        await session.execute(insert(deadline_recommendations), [{"deadline_id": 1, "recommendation_id": r["id"]} for r in recs])
    await engine.dispose()


async def run(url: str, count: int) -> dict[str, float]:
    from bot.standins.telegram import TelegramStandIn

    standin = TelegramStandIn(TOKEN, max_per_second=ALLOWED_RATE, max_per_chat_per_second=1)
    await standin.start()
    for n in range(count):
        standin.add_user(FIRST_USER + n, f"fp {n}").started = True
    folder = Path(tempfile.mkdtemp(prefix="nmrf-bench-"))
    config = folder / "config.toml"
    # Every hour of every day is working time, so the run does not depend on the clock.
    config.write_text(
        f'[telegram]\nbase_url = "{standin.base_url}"\n[schedule]\nworking_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\nhours = "00:00-23:59"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "NMRF_DATABASE_URL": url, "NMRF_TELEGRAM_TOKEN": TOKEN}
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("nmrf-bot")), "--config", str(config), "run", "--log-level", "WARNING",
        env=env, cwd=folder, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    first = last = None
    cpu_first = 0.0
    while len(standin.sent) < count:
        if process.returncode is not None:
            error = (await process.stderr.read()).decode() if process.stderr else ""
            raise RuntimeError(f"the bot stopped (status {process.returncode}): {error[-2000:]}")
        if standin.sent and first is None:
            first = time.perf_counter()
            cpu_first = cpu_seconds(process.pid)
        await asyncio.sleep(0.05)
        if time.perf_counter() - started > count / ALLOWED_RATE * 3 + 120:
            break
    last = time.perf_counter()
    cpu_sending = cpu_seconds(process.pid) - cpu_first
    load = os.getloadavg()[0]
    await asyncio.sleep(2)  # anything sent twice would arrive now
    memory = peak_mib(process.pid)
    process.send_signal(signal.SIGTERM)
    await process.communicate()
    await standin.stop()
    received = Counter(m.chat_id for m in standin.sent)
    rate = (len(received) - 1) / (last - (first or last)) if first and last > first else 0.0
    return {
        "count": count,
        "seconds": last - (first or started),
        "rate": rate,
        "duplicates": sum(n - 1 for n in received.values()),
        "lost": count - len(received),
        "refused": standin.refused,
        "peak_mib": memory,
        "startup": (first or last) - started,
        "cpu_sending": cpu_sending,
        "load": load,
    }


def cpu_seconds(pid: int) -> float:
    """The processor time (user and system) process ``pid`` has used, from Linux's /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="focal points (default 10,000)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    if args.backend == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix='nmrf-bench-')}/bench.db"
    else:
        name = os.environ.get("NMRF_BENCH_POSTGRES_DB", "nmrf_bench")
        url = os.environ.get("NMRF_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres").rsplit("/", 1)[0] + "/" + name
        asyncio.run(_ensure_database(url))
    asyncio.run(build_registry(url, args.count))
    figures = asyncio.run(run(url, args.count))
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Reminder fan-out to {args.count:,} focal points ({args.backend}), Telegram stand-in at {ALLOWED_RATE:g} msg/s")
    columns = (
        "achieved msg/s", "achieved / allowed", "duplicates", "lost", "429s", "send time", "plan + start", "bot peak RSS",
        "bot CPU sending", "CPU / msg", "load (cores)",
    )
    for column in columns:
        table.add_column(column, justify="right")
    sent = max(args.count - figures["lost"], 1)
    table.add_row(
        f"{figures['rate']:.1f}", f"{figures['rate'] / ALLOWED_RATE:.2f}", str(figures["duplicates"]), str(figures["lost"]),
        str(figures["refused"]), f"{figures['seconds']:.0f} s", f"{figures['startup']:.1f} s", f"{figures['peak_mib']:.0f} MiB",
        f"{figures['cpu_sending']:.0f} s ({figures['cpu_sending'] / max(figures['seconds'], 1e-9):.0%})",
        f"{figures['cpu_sending'] / sent * 1000:.1f} ms", f"{figures['load']:.1f} ({os.cpu_count()})",
    )
    Console(width=180).print(table)


async def _ensure_database(url: str) -> None:
    import asyncpg

    admin = url.rsplit("/", 1)[0].replace("postgresql://", "postgres://") + "/postgres"
    conn = await asyncpg.connect(admin)
    try:
        name = url.rsplit("/", 1)[1]
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
