"""Conversation turns per second through the real webhook path, against a
bare python-telegram-bot application answering the same traffic.

    python bench/turns_bench.py                   # 200 people, 10 turns each
    python bench/turns_bench.py --people 50 --turns 4
    python bench/turns_bench.py --json            # one JSON line, for bench/run_all.py

Both run as their own process in webhook mode, fed by the local Telegram
stand-in (which delivers up to 40 updates at once, one at a time within a
chat, as Telegram does): `nmrf-bot run` with its web server, engine and
SQLite database, each turn a `/help` that is deduplicated, looked up,
answered and recorded in one transaction; and a python-telegram-bot
Application (concurrent updates on) whose handler replies with a fixed text.
Prints turns a second for each, the ratio (our overhead over the
framework's floor), the processor time each process spent a turn (what
the turns cost, whatever else the machine runs meanwhile), and each
process's peak memory.

The same over Slack Socket Mode (``--slack``, and always in --json):
`nmrf-bot run` with its Slack transport against a bare slack-bolt
AsyncApp whose message listener says a fixed text, both connected to the
local Slack stand-in, each person writing "help" and waiting for the answer
before writing again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from peak import peak_mib  # noqa: E402

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
FIRST_USER = 6_000_000
HELP = "I help you report what your institution has done."


def cpu_seconds(pid: int) -> float:
    """User and system processor time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slack_user(n: int) -> str:
    return f"U{FIRST_USER + n}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def build_registry(url: str, people: int) -> None:
    from sqlalchemy import insert

    from storage.database import create_engine, session_factory
    from storage.enums import FocalPointRole, InstitutionKind, Platform
    from storage.migrate import upgrade
    from storage.models import ChatIdentity, FocalPoint, Institution

    engine = create_engine(url)
    await upgrade(engine)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(insert(Institution), [{"id": 1, "code": "MOJ", "name": "Ministry of Justice", "kind": InstitutionKind.MINISTRY, "active": True}])
        await session.execute(insert(FocalPoint), [
            {"id": n + 1, "name": f"Person {n}", "email": f"p{n}@bench.example", "institution_id": 1, "role": FocalPointRole.TECHNICAL,
             "language": "en", "timezone": "UTC", "active_from": date(2025, 1, 1)}
            for n in range(people)
        ])
        await session.execute(insert(ChatIdentity), [
            {"platform": Platform.TELEGRAM, "workspace_id": "", "platform_user_id": str(FIRST_USER + n), "chat_id": str(FIRST_USER + n), "focal_point_id": n + 1}
            for n in range(people)
        ])
        # The same people on Slack: the stand-in's workspace, each one's direct message channel.
        await session.execute(insert(ChatIdentity), [
            {"platform": Platform.SLACK, "workspace_id": "T0NMRF", "platform_user_id": slack_user(n), "chat_id": "D" + slack_user(n).removeprefix("U"), "focal_point_id": n + 1}
            for n in range(people)
        ])
    await engine.dispose()


async def drive(kind: str, people: int, turns: int, folder: Path, url: str) -> dict[str, float]:
    """Start one bot process, send people x turns messages, time the replies."""
    from bot.standins.telegram import TelegramStandIn

    standin = TelegramStandIn(TOKEN)
    await standin.start()
    for n in range(people):
        standin.add_user(FIRST_USER + n, f"p{n}").started = True
    port = free_port()
    env = {**os.environ, "NMRF_TELEGRAM_TOKEN": TOKEN, "NMRF_DATABASE_URL": url}
    if kind == "ours":
        config = folder / "config.toml"
        config.write_text(
            f'[telegram]\nbase_url = "{standin.base_url}"\nmode = "webhook"\nwebhook_url = "http://127.0.0.1:{port}/telegram/webhook"\n'
            f'[http]\nhost = "127.0.0.1"\nport = {port}\n',
            encoding="utf-8",
        )
        command = [str(Path(sys.executable).with_name("nmrf-bot")), "--config", str(config), "run", "--log-level", "WARNING"]
    else:
        command = [sys.executable, __file__, "--worker", "bare", "--base-url", standin.base_url, "--port", str(port)]
    process = await asyncio.create_subprocess_exec(*command, env=env, cwd=folder, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while standin.webhook_url is None:
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind}: the bot did not set its webhook: {(await process.stderr.read()).decode()[-2000:]}")  # type: ignore[union-attr]
            await asyncio.sleep(0.05)
        # One turn first: what is imported or cached at the first turn is not a turn's cost.
        standin.user_sends(FIRST_USER, "/help")
        while not standin.sent:
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind}: no answer to the first turn: {(await process.stderr.read()).decode()[-2000:]}")  # type: ignore[union-attr]
            await asyncio.sleep(0.01)
        await asyncio.sleep(1)  # what the start set going (the first planning tick) is done
        total = people * turns
        cpu = cpu_seconds(process.pid)
        started = time.perf_counter()
        for _turn in range(turns):
            for n in range(people):
                standin.user_sends(FIRST_USER + n, "/help")
        total += 1
        while len(standin.sent) < total:
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"{kind}: {len(standin.sent)} of {total} replies after 600 s")
            await asyncio.sleep(0.01)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(process.pid) - cpu
        memory = peak_mib(process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await process.communicate()
        await standin.stop()
    total -= 1
    return {"turns": total, "seconds": seconds, "per_second": total / seconds, "cpu_ms": cpu * 1000 / total, "peak_mib": memory}


class _Answers(list):  # type: ignore[type-arg]
    """The stand-in's posted messages, waking whoever waits for a channel's next."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, asyncio.Event] = {}

    def append(self, item: Any) -> None:
        super().append(item)
        self.arrived.setdefault(item.channel, asyncio.Event()).set()


async def drive_slack(kind: str, people: int, turns: int, folder: Path, url: str) -> dict[str, float]:
    """One bot process on Slack Socket Mode; each person writes "help" and
    waits for the answer before the next, all at once."""
    from bot.standins.slack import SlackStandIn

    # Acknowledged late under load, an event would come again: the bench counts answers, not redeliveries.
    standin = SlackStandIn(ack_timeout=60.0)
    await standin.start()
    answers = standin.posted = _Answers()
    for n in range(people):
        standin.add_user(slack_user(n), f"p{n}", f"p{n}@bench.example")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NMRF_TELEGRAM")}
    env |= {"NMRF_DATABASE_URL": url, "NMRF_SLACK_BOT_TOKEN": standin.bot_token, "NMRF_SLACK_APP_TOKEN": standin.app_token}
    if kind == "ours":
        config = folder / "slack.toml"
        config.write_text(f'[slack]\napi_url = "{standin.api_url}"\n', encoding="utf-8")
        command = [str(Path(sys.executable).with_name("nmrf-bot")), "--config", str(config), "run", "--log-level", "WARNING"]
    else:
        command = [sys.executable, __file__, "--worker", "bare-slack", "--base-url", standin.api_url]
    process = await asyncio.create_subprocess_exec(*command, env=env, cwd=folder, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        try:
            await standin.wait_for_socket(60)
        except TimeoutError:
            raise RuntimeError(f"{kind}: no Socket Mode connection: {(await process.stderr.read()).decode()[-2000:]}") from None  # type: ignore[union-attr]
        # One turn first, as on Telegram.
        standin.user_writes(slack_user(0), "help")
        await asyncio.wait_for(answers.arrived.setdefault(standin.dm_channel(slack_user(0)), asyncio.Event()).wait(), 60)
        await asyncio.sleep(1)
        cpu = cpu_seconds(process.pid)
        started = time.perf_counter()

        async def converse(n: int) -> None:
            channel = standin.dm_channel(slack_user(n))
            for _turn in range(turns):
                arrived = answers.arrived.setdefault(channel, asyncio.Event())
                arrived.clear()
                standin.user_writes(slack_user(n), "help")
                await asyncio.wait_for(arrived.wait(), 300)

        await asyncio.gather(*(converse(n) for n in range(people)))
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(process.pid) - cpu
        memory = peak_mib(process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await process.communicate()
        await standin.stop()
    total = people * turns
    return {"turns": total, "seconds": seconds, "per_second": total / seconds, "cpu_ms": cpu * 1000 / total, "peak_mib": memory}


def bare_slack(api_url: str) -> None:
    """Slack's floor: a slack-bolt AsyncApp over Socket Mode whose message
    listener says a fixed text, as its own getting-started app does."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.standins.slack import SlackStandIn

    tokens = SlackStandIn()

    async def run() -> None:
        app = AsyncApp(client=AsyncWebClient(token=tokens.bot_token, base_url=api_url))

        @app.message("help")
        async def help_(say: Any) -> None:
            await say(HELP)

        handler = AsyncSocketModeHandler(app, tokens.app_token)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await handler.connect_async()
        await stop.wait()
        await handler.close_async()

    asyncio.run(run())


def bare(base_url: str, port: int) -> None:
    """The framework's floor: python-telegram-bot answering /help with a fixed
    text, fed by a plain aiohttp webhook into its update queue (PTB's own
    "custom webhook" pattern, without the tornado extra)."""
    from aiohttp import web
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

    async def help_(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(HELP)

    async def run() -> None:
        app = ApplicationBuilder().token(TOKEN).base_url(base_url).concurrent_updates(True).updater(None).build()
        app.add_handler(CommandHandler("help", help_))

        async def hook(request: web.Request) -> web.Response:
            if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != "bench":
                return web.Response(status=403)
            await app.update_queue.put(Update.de_json(await request.json(), app.bot))
            return web.Response()

        server = web.Application()
        server.router.add_post("/bare", hook)
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with app:
            await app.start()
            await app.bot.set_webhook(f"http://127.0.0.1:{port}/bare", secret_token="bench")
            await stop.wait()
            await app.stop()
        await runner.cleanup()

    asyncio.run(run())


def measure(people: int, turns: int, slack: bool = True) -> dict[str, dict[str, float]]:
    folder = Path(tempfile.mkdtemp(prefix="nmrf-turns-"))
    url = f"sqlite:///{folder}/bench.db"
    asyncio.run(build_registry(url, people))
    results = {"bare": asyncio.run(drive("bare", people, turns, folder, url)), "ours": asyncio.run(drive("ours", people, turns, folder, url))}
    if slack:
        results["slack_bare"] = asyncio.run(drive_slack("bare", people, turns, folder, url))
        results["slack_ours"] = asyncio.run(drive_slack("ours", people, turns, folder, url))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    parser.add_argument("--no-slack", action="store_true", help="Telegram only")
    parser.add_argument("--worker", choices=["bare", "bare-slack"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "bare":
        bare(args.base_url, args.port)
        return
    if args.worker == "bare-slack":
        bare_slack(args.base_url)
        return
    results = measure(args.people, args.turns, slack=not args.no_slack)
    ratio = results["bare"]["per_second"] / results["ours"]["per_second"]
    if args.json:
        print(json.dumps({**results, "overhead": ratio}))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Conversation turns: {args.people} people x {args.turns} turns")
    for column in ("app", "turns", "seconds", "turns/s", "CPU a turn", "peak RSS"):
        table.add_column(column, justify="right")
    labels = (
        ("bare", "bare python-telegram-bot (webhook)"), ("ours", "nmrf-bot run, Telegram webhook (SQLite)"),
        ("slack_bare", "bare slack-bolt (Socket Mode)"), ("slack_ours", "nmrf-bot run, Slack Socket Mode (SQLite)"),
    )
    for name, label in labels:
        if name in results:
            r = results[name]
            table.add_row(label, f"{r['turns']:.0f}", f"{r['seconds']:.1f}", f"{r['per_second']:.0f}", f"{r['cpu_ms']:.1f} ms", f"{r['peak_mib']:.0f} MiB")
    Console(width=120).print(table)
    for platform, bare_key, ours_key in (("Telegram", "bare", "ours"), ("Slack", "slack_bare", "slack_ours")):
        if ours_key in results:
            b, o = results[bare_key], results[ours_key]
            print(f"{platform}: a turn costs {b['per_second'] / o['per_second']:.2f}x the bare framework's (turns a second), {o['cpu_ms'] / b['cpu_ms']:.2f}x its processor time")


if __name__ == "__main__":
    main()
