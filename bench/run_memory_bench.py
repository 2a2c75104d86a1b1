"""Peak memory of `nmrf-bot run` at national scale (issue 18: at most 150 MiB).

    python bench/run_memory_bench.py              # 3,000 recommendations, 300 focal points, 2,000 turns
    python bench/run_memory_bench.py --json       # one JSON line, for bench/run_all.py

A national registry: 3,000 recommendations, 30 institutions of ten focal
points each (300, each on Telegram), every recommendation under an input
deadline whose 7-day reminder is due today. The real bot (`nmrf-bot run`,
its own process, webhook mode, its web server, engine and SQLite database)
starts against the local Telegram stand-in, sends the day's reminders (one
digest a focal point), then answers 2,000 turns (200 of the focal points
writing /help ten times). Prints the peak resident memory of the bot's
process over all of it (Linux's VmHWM, bench/peak.py), its processor time,
and how many reminders and replies arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from peak import peak_mib  # noqa: E402
from turns_bench import TOKEN, cpu_seconds, free_port  # noqa: E402

FIRST_USER = 7_000_000
AIM_MIB = 150


async def build_registry(url: str, recommendations: int, focal_points: int) -> None:
    from sqlalchemy import insert, select

    from storage.database import create_engine, session_factory
    from storage.enums import AssignmentRole, DeadlineKind, FocalPointRole, ImportSource, InstitutionKind, Platform, RecommendationKind
    from storage.migrate import rebuild_from_scratch
    from storage.models import (
        Assignment, ChatIdentity, Deadline, FocalPoint, Institution, Mechanism, Recommendation, deadline_recommendations,
    )

    engine = create_engine(url)
    await rebuild_from_scratch(engine)
    institutions = max(focal_points // 10, 1)
    async with session_factory(engine)() as session, session.begin():
        upr = await session.scalar(select(Mechanism.id).where(Mechanism.code == "UPR"))
        await session.execute(insert(Institution), [
            {"id": i + 1, "code": f"I{i + 1:03d}", "name": f"Ministry {i + 1}", "kind": InstitutionKind.MINISTRY, "active": True}
            for i in range(institutions)
        ])
        await session.execute(insert(FocalPoint), [
            {"id": n + 1, "name": f"Focal point {n + 1}", "email": f"fp{n + 1}@gov.example", "institution_id": n % institutions + 1,
             "role": FocalPointRole.TECHNICAL, "language": ("en", "fr", "es")[n % 3], "timezone": "UTC", "active_from": date(2025, 1, 1)}
            for n in range(focal_points)
        ])
        await session.execute(insert(ChatIdentity), [
            {"platform": Platform.TELEGRAM, "workspace_id": "", "platform_user_id": str(FIRST_USER + n), "chat_id": str(FIRST_USER + n), "focal_point_id": n + 1}
            for n in range(focal_points)
        ])
        recs = [
            {"id": r + 1, "source": ImportSource.TEMPLATE, "external_id": f"R{r + 1}", "paragraph": f"{119 + r // 200}.{r % 200 + 1}",
             "text": f"Recommendation {r + 1}: ensure that the rights of everyone concerned are respected in law and in practice.",
             "country": "Bench", "kind": RecommendationKind.RECOMMENDATION, "mechanism_id": upr, "content_hash": "x"}
            for r in range(recommendations)
        ]
        await session.execute(insert(Recommendation), recs)
        await session.execute(insert(Assignment), [
            {"recommendation_id": r["id"], "institution_id": r["id"] % institutions + 1, "role": AssignmentRole.LEAD, "assigned_by": "bench"} for r in recs
        ])
        # Today's reminder is the 7-day one: what the bench reads does not depend on the day it runs.
        session.add(Deadline(id=1, kind=DeadlineKind.INTERNAL_INPUT, title="Inputs for the mid-term report", due_on=date.today() + timedelta(days=7)))
        await session.flush()
        await session.execute(insert(deadline_recommendations), [{"deadline_id": 1, "recommendation_id": r["id"]} for r in recs])
    await engine.dispose()


async def run(url: str, focal_points: int, people: int, turns: int, folder: Path) -> dict[str, float]:
    from bot.standins.telegram import TelegramStandIn

    standin = TelegramStandIn(TOKEN)
    await standin.start()
    for n in range(focal_points):
        standin.add_user(FIRST_USER + n, f"fp {n}").started = True
    port = free_port()
    config = folder / "config.toml"
    # Every hour of every day is working time, so the reminders go out whenever the bench runs.
    config.write_text(
        f'[telegram]\nbase_url = "{standin.base_url}"\nmode = "webhook"\nwebhook_url = "http://127.0.0.1:{port}/telegram/webhook"\n'
        f'[http]\nhost = "127.0.0.1"\nport = {port}\n'
        '[schedule]\nworking_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\nhours = "00:00-23:59"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "NMRF_DATABASE_URL": url, "NMRF_TELEGRAM_TOKEN": TOKEN}
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("nmrf-bot")), "--config", str(config), "run", "--log-level", "WARNING",
        env=env, cwd=folder, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )

    async def until(done: Any, what: str, limit: float) -> None:
        deadline = time.monotonic() + limit
        while not done():
            if process.returncode is not None:
                raise RuntimeError(f"the bot stopped (status {process.returncode}): {(await process.stderr.read()).decode()[-2000:]}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} after {limit:.0f} s")
            await asyncio.sleep(0.05)

    try:
        started = time.perf_counter()
        await until(lambda: len({m.chat_id for m in standin.sent}) >= focal_points, "not every focal point had its reminder", 600)
        reminded = time.perf_counter() - started
        await asyncio.sleep(2)  # anything sent twice would arrive now
        reminders = len(standin.sent)
        # Where the peak was reached: started and reminding, or answering.
        after_reminders = peak_mib(process.pid)
        for _turn in range(turns):
            for n in range(people):
                standin.user_sends(FIRST_USER + n, "/help")
        await until(lambda: len(standin.sent) >= reminders + people * turns, "not every turn was answered", 900)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(process.pid)
        memory = peak_mib(process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await process.communicate()
        await standin.stop()
    received = Counter(m.chat_id for m in standin.sent[:reminders])
    # A digest of a hundred recommendations may come in several messages: counted by chat.
    return {
        "peak_mib": memory, "peak_after_reminders_mib": after_reminders, "cpu_seconds": cpu, "seconds": seconds, "reminders_seconds": reminded,
        "reminded": len(received), "reminder_messages": reminders, "replies": len(standin.sent) - reminders,
    }


def measure(recommendations: int = 3_000, focal_points: int = 300, people: int = 200, turns: int = 10) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="nmrf-run-memory-"))
    url = f"sqlite:///{folder}/bench.db"
    asyncio.run(build_registry(url, recommendations, focal_points))
    return {"recommendations": recommendations, "focal_points": focal_points, "turns": people * turns,
            **asyncio.run(run(url, focal_points, people, turns, folder))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recommendations", type=int, default=3_000)
    parser.add_argument("--focal-points", type=int, default=300)
    parser.add_argument("--people", type=int, default=200, help="of the focal points, how many write")
    parser.add_argument("--turns", type=int, default=10, help="turns each")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.people > args.focal_points:
        parser.error("--people: at most --focal-points")
    r = measure(args.recommendations, args.focal_points, args.people, args.turns)
    if args.json:
        print(json.dumps(r))
        return
    print(
        f"nmrf-bot run, {r['recommendations']:,} recommendations, {r['focal_points']:,} focal points, {r['turns']:,} turns: "
        f"peak {r['peak_mib']:.0f} MiB (aim: at most {AIM_MIB}; {r['peak_after_reminders_mib']:.0f} MiB once reminded), {r['cpu_seconds']:.1f} s CPU, {r['seconds']:.1f} s; "
        f"{r['reminded']:.0f} reminded in {r['reminders_seconds']:.1f} s ({r['reminder_messages']:.0f} messages), {r['replies']:.0f} replies"
    )


if __name__ == "__main__":
    main()
