"""The real process: `nmrf-bot run` and `nmrf-bot focal-points invite` as
subprocesses, with both platforms' stand-ins served by the test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
import os
import signal
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.standins.slack import SlackStandIn
from bot.standins.telegram import TelegramStandIn
from storage.enums import Platform
from storage.models import ChatIdentity
from storage.status import history
from tests.chat_harness import TELEGRAM_TOKEN, SlackPerson, TelegramPerson

NMRF_BOT = str(Path(sys.executable).with_name("nmrf-bot"))


def _config(tmp_path: Path, telegram: TelegramStandIn, slack: SlackStandIn) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[telegram]\nbase_url = "{telegram.base_url}"\n'
        f'[slack]\napi_url = "{slack.api_url}"\n'
        '[http]\nhost = "127.0.0.1"\nport = 0\nhealth = true\n',
        encoding="utf-8",
    )
    return path


def _environment(db_url: str, slack: SlackStandIn) -> dict[str, str]:
    return {
        **os.environ,
        "NMRF_DATABASE_URL": db_url,
        "NMRF_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "NMRF_SLACK_BOT_TOKEN": slack.bot_token,
        "NMRF_SLACK_APP_TOKEN": slack.app_token,
    }


async def run_until_sigterm(
    tmp_path: Path, db_url: str, talk: Callable[[TelegramStandIn, SlackStandIn], Awaitable[None]], *options: str,
) -> tuple[str, TelegramStandIn, SlackStandIn]:
    """`nmrf-bot run` against both stand-ins, ``talk`` with it, SIGTERM; its stderr."""
    telegram, slack = TelegramStandIn(TELEGRAM_TOKEN), SlackStandIn()
    await telegram.start()
    await slack.start()
    process = await asyncio.create_subprocess_exec(
        NMRF_BOT, "--config", str(_config(tmp_path, telegram, slack)), "run", *options,
        env=_environment(db_url, slack), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await slack.wait_for_socket(timeout=30)
        await talk(telegram, slack)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
        await telegram.stop()
        await slack.stop()
    assert process.returncode == 0, stderr.decode()
    return stderr.decode(), telegram, slack


def _no_secrets(log: str, slack: SlackStandIn) -> None:
    for secret in (TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1], slack.bot_token, slack.app_token):
        assert secret not in log


async def test_run_serves_both_platforms_and_stops_cleanly_on_sigterm(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    async def talk(telegram: TelegramStandIn, slack: SlackStandIn) -> None:
        telegram.add_user(111, "Ana").started = True
        slack.add_user("U0BRUNO", "bruno", "ana@justicia.example")
        ana = TelegramPerson(telegram, 111)
        # What people type is never logged at INFO.
        await ana.says("confidential words typed by Ana")
        items = (await ana.says("/mine", expect=4))[1:]
        # Her institution's first answer: "No change" asks the status, saved at once.
        await ana.presses("No change", on=(await ana.presses("Open", on=items[0]))[0])
        await ana.presses("in progress")
        # The same person on Slack, recognised by her workspace e-mail.
        (welcome,) = await SlackPerson(slack, "U0BRUNO").says("hello")
        assert welcome.shown.startswith("Welcome, Ana Pérez.")

    log, _, slack = await run_until_sigterm(tmp_path, db_url, talk)
    assert "telegram: @nmrf_test_bot connected (polling)" in log and "slack: connected to team T0NMRF" in log
    _no_secrets(log, slack)
    assert "confidential" not in log and "nmrf-bot running" in log
    async with sessions() as session:
        (update,) = await history(session, world["mine"])
    assert update.author_label == "Ana Pérez"


async def test_invite_prints_the_deep_link_and_welcomes_a_slack_member_found_by_email(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    telegram, slack = TelegramStandIn(TELEGRAM_TOKEN), SlackStandIn()
    await telegram.start()
    await slack.start()
    slack.add_user("U0ANA", "ana", "ana@justicia.example")
    try:
        process = await asyncio.create_subprocess_exec(
            NMRF_BOT, "--config", str(_config(tmp_path, telegram, slack)), "focal-points", "invite", "ana@justicia.example",
            env=_environment(db_url, slack), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, stderr.decode()
        out = stdout.decode()
        link = next(line.split()[-1] for line in out.splitlines() if "Telegram:" in line)
        assert link.startswith("https://t.me/nmrf_test_bot?start=")
        assert "matched by e-mail as U0ANA" in out
        (welcome,) = slack.messages_to("U0ANA")
        assert welcome.shown.startswith("Welcome, Ana Pérez.")
        async with sessions() as session:
            linked = await session.scalar(select(ChatIdentity).where(ChatIdentity.platform == Platform.SLACK))
        assert linked is not None and (linked.platform_user_id, linked.workspace_id) == ("U0ANA", "T0NMRF")
        # The link's code works once, on Telegram.
        code = link.split("start=")[1]
        from bot.gateway import PlatformRouter
        from bot.transports.telegram import TelegramTransport
        from handlers.engine import ConversationEngine
        from tests.fakes import FakeClock

        router = PlatformRouter()
        engine = ConversationEngine(sessions, router, FakeClock())
        transport = TelegramTransport(TELEGRAM_TOKEN, engine.handle, base_url=telegram.base_url, poll_timeout=1)
        router.register(transport)
        await transport.start()
        try:
            telegram.add_user(4242, "Ana")
            (hello,) = await TelegramPerson(telegram, 4242).says(f"/start {code}")
            assert hello.text.startswith("Welcome, Ana Pérez.")
        finally:
            await transport.stop()
    finally:
        await telegram.stop()
        await slack.stop()


async def test_json_logs_mask_the_tokens_even_where_libraries_print_request_urls(tmp_path: Path, db_url: str, world: dict[str, int]) -> None:
    async def talk(telegram: TelegramStandIn, slack: SlackStandIn) -> None:
        telegram.add_user(111, "Ana")
        await TelegramPerson(telegram, 111).says("/help")

    # At DEBUG the HTTP libraries log each request URL, and Telegram's hold the token.
    text, _, slack = await run_until_sigterm(tmp_path, db_url, talk, "--log-format", "json", "--log-level", "DEBUG")
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    assert any(line["message"] == "nmrf-bot running; stop with Ctrl-C or SIGTERM" for line in lines)
    # The URLs were logged, with the token masked.
    assert "bot***/getUpdates" in text
    _no_secrets(text, slack)
