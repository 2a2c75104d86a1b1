"""Start-up: how long a person waits before the CLI answers or the bot serves.

    python bench/startup_bench.py                 # every figure, best of 3 processes each
    python bench/startup_bench.py --repeat 5
    python bench/startup_bench.py --json          # one JSON line, for bench/run_all.py

Each figure is the best of ``--repeat`` fresh processes (load from anything
else on the machine only ever adds to a start-up, so the best run is the
closest to the program's own cost), printed next to its target and as a
ratio of it (at most 1.00 meets it), as wall time and as the CPU time the
process used (on a machine shared with other work the wall time grows with
their load; on an idle one the two are close):
- `nmrf-bot --help`, and the slowest `nmrf-bot COMMAND [SUBCOMMAND] --help`
  of every command and subcommand: at most 0.3 s. The floor beside them is
  Python starting and importing click, what any click CLI pays.
- `nmrf-bot recommendations list` on a national registry (3,000
  recommendations, 9,000 updates, SQLite), the whole command, as the
  default table and as CSV: at most 1 s.
- `nmrf-bot run` against both local stand-ins, from the process's start
  until it serves: Telegram polling (its first long getUpdates), Slack's
  Socket Mode connected and /healthz answering 200: at most 3 s; and its
  peak memory by then.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

NMRF_BOT = str(Path(sys.executable).with_name("nmrf-bot"))
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
HELP_TARGET = 0.3
LIST_TARGET = 1.0
RUN_TARGET = 3.0
RECOMMENDATIONS = 3_000
UPDATES = 9_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command_paths() -> list[list[str]]:
    """Every command and subcommand of the real CLI, as the words that name it."""
    import click

    from bot.cli import cli

    paths: list[list[str]] = []

    def walk(group: click.Group, path: list[str]) -> None:
        with click.Context(group) as ctx:
            for name in group.list_commands(ctx):
                command = group.get_command(ctx, name)
                paths.append([*path, name])
                if isinstance(command, click.Group):
                    walk(command, [*path, name])

    walk(cli, [])
    return paths


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best_of(repeat: int, argv: list[str], folder: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """The shortest wall time of ``repeat`` runs of ``argv``, each its own
    process, and the shortest CPU time (user and system) one of them used."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        started, used = time.perf_counter(), _children_cpu()
        done = subprocess.run(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr[-2000:]}")
        wall, cpu = min(wall, time.perf_counter() - started), min(cpu, _children_cpu() - used)
    return wall, cpu


def _cpu_of(pid: int) -> float:
    """CPU time (user and system) process ``pid`` has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def helps(repeat: int, folder: Path) -> dict[str, Any]:
    floor = best_of(repeat, [sys.executable, "-c", "import click"], folder)
    top = best_of(repeat, [NMRF_BOT, "--help"], folder)
    slowest, which = (0.0, 0.0), ""
    paths = command_paths()
    for path in paths:
        seconds = best_of(repeat, [NMRF_BOT, *path, "--help"], folder)
        if seconds > slowest:
            slowest, which = seconds, " ".join(path)
    return {"floor": floor, "top": top, "slowest": slowest, "slowest_command": which, "commands": len(paths)}


async def build_registry(url: str) -> None:
    import matrix_bench

    await matrix_bench.build(url, RECOMMENDATIONS, UPDATES)


def listing(repeat: int, folder: Path, url: str) -> dict[str, tuple[float, float]]:
    """The default table a person reads, and the CSV a spreadsheet or a script reads."""
    env = {**os.environ, "NMRF_DATABASE_URL": url}
    return {fmt: best_of(repeat, [NMRF_BOT, "recommendations", "list", "--format", fmt], folder, env) for fmt in ("table", "csv")}


async def serve_once(folder: Path, url: str) -> dict[str, float]:
    """Start `nmrf-bot run`; seconds until each platform serves and /healthz is green."""
    import aiohttp

    from bot.standins.slack import SlackStandIn
    from bot.standins.telegram import TelegramStandIn

    telegram, slack = TelegramStandIn(TOKEN), SlackStandIn()
    await telegram.start()
    await slack.start()
    port = free_port()
    config = folder / "config.toml"
    config.write_text(
        f'[telegram]\nbase_url = "{telegram.base_url}"\n[slack]\napi_url = "{slack.api_url}"\n'
        f'[http]\nhost = "127.0.0.1"\nport = {port}\nhealth = true\n',
        encoding="utf-8",
    )
    env = {
        **os.environ, "NMRF_DATABASE_URL": url, "NMRF_TELEGRAM_TOKEN": TOKEN,
        "NMRF_SLACK_BOT_TOKEN": slack.bot_token, "NMRF_SLACK_APP_TOKEN": slack.app_token,
    }
    from peak import peak_mib

    seen: dict[str, float] = {}
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        NMRF_BOT, "--config", str(config), "run", "--log-level", "WARNING",
        env=env, cwd=folder, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:
            while len(seen) < 3:
                now = time.perf_counter() - started
                if now > 60 or process.returncode is not None:
                    raise RuntimeError(f"nmrf-bot run did not serve: {sorted(seen)} after {now:.0f} s")
                if "telegram" not in seen and "getupdates" in telegram.calls:
                    seen["telegram"] = now
                if "slack" not in seen and slack.socket_connected:
                    seen["slack"] = now
                if "healthz" not in seen:
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/healthz", timeout=aiohttp.ClientTimeout(total=1)) as response:
                            if response.status == 200:
                                seen["healthz"] = time.perf_counter() - started
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        pass
                await asyncio.sleep(0.01)
        memory, cpu = peak_mib(process.pid), _cpu_of(process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await process.communicate()
        await telegram.stop()
        await slack.stop()
    return {**seen, "serves": max(seen.values()), "cpu": cpu, "peak_mib": memory}


def serving(repeat: int, folder: Path, url: str) -> dict[str, float]:
    runs = [asyncio.run(serve_once(folder, url)) for _ in range(repeat)]
    return min(runs, key=lambda r: r["serves"])


def measure(repeat: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="nmrf-startup-"))
    url = f"sqlite:///{folder}/registry.db"
    asyncio.run(build_registry(url))
    return {"help": helps(repeat, folder), "list": listing(repeat, folder, url), "run": serving(repeat, folder, url), "repeat": repeat}


def _of(seconds: float, target: float) -> str:
    return f"{seconds:.2f} s = {seconds / target:.2f} of the target"


def _timed(figure: tuple[float, float], target: float) -> tuple[str, str]:
    """The wall time against the target, and the CPU time against it: on a
    machine shared with other work the wall time grows with their load, the
    CPU time the process used hardly."""
    wall, cpu = figure
    return _of(wall, target), _of(cpu, target)


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(what, figure and its ratio to the target, target, peak memory): the lines
    of the table and of bench/run_all.py, each figure a line of wall time and
    one of the CPU time the process used."""
    h, listed, served = r["help"], r["list"], r["run"]
    out: list[tuple[str, str, str, str]] = []

    def add(what: str, figure: tuple[float, float], target: float, memory: str = "") -> None:
        wall, cpu = _timed(figure, target)
        out.extend([(what, wall, f"<= {target} s", memory), ("   CPU time", cpu, f"<= {target} s", "")])

    add("nmrf-bot --help", h["top"], HELP_TARGET)
    add(f"slowest of {h['commands']} COMMAND --help ({h['slowest_command']})", h["slowest"], HELP_TARGET)
    out.append(("   floor: python -c 'import click'", f"{h['floor'][0]:.2f} s, {h['floor'][1]:.2f} s CPU", "", ""))
    add(f"recommendations list, {RECOMMENDATIONS:,} recommendations (table)", listed["table"], LIST_TARGET)
    add("recommendations list as CSV", listed["csv"], LIST_TARGET)
    add("nmrf-bot run serves (polling, Socket Mode, /healthz 200)", (served["serves"], served["cpu"]), RUN_TARGET, f"{served['peak_mib']:.0f} MiB")
    out.append(("   Telegram polling / Slack connected / /healthz 200", f"{served['telegram']:.2f} / {served['slack']:.2f} / {served['healthz']:.2f} s", "", ""))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="processes per figure; the best is kept")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    args = parser.parse_args()
    results = measure(args.repeat)
    if args.json:
        print(json.dumps(results))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Start-up, best of {args.repeat} processes each (SQLite, local stand-ins)")
    for column, justify in (("what", "left"), ("figure", "right"), ("target", "right"), ("peak memory", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows(results):
        table.add_row(*row)
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
