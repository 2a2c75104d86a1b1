"""Slack under test: the real transport and engine against the local Slack
stand-in, in-process or as the real `nmrf-bot run`, with Ana linked."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.gateway import PlatformRouter
from bot.standins.slack import SlackStandIn
from bot.transports.slack import SlackTransport
from bot.web import SLACK_PATH, WebServer
from handlers.chat_port import IncomingMessage
from handlers.engine import ConversationEngine
from storage.conversations import link_identity
from storage.enums import Platform
from storage.models import FocalPoint
from tests.chat_harness import SlackPerson
from tests.fakes import FakeClock

ANA = "U0ANA"
NMRF_BOT = str(Path(sys.executable).with_name("nmrf-bot"))
# Set for a run only when a test gives them, so the developer's own never leak in.
PLATFORM_SECRETS = ("NMRF_TELEGRAM_TOKEN", "NMRF_SLACK_BOT_TOKEN", "NMRF_SLACK_APP_TOKEN", "NMRF_SLACK_SIGNING_SECRET")


@dataclass
class SlackBot:
    standin: SlackStandIn
    engine: ConversationEngine
    transport: SlackTransport
    sessions: async_sessionmaker[AsyncSession]
    clock: FakeClock
    server: WebServer | None = None
    # Slack interactions kept while the database is gone; the same across restarts.
    spool: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="nmrf-spool-")) / "slack.jsonl")

    async def start(self, mode: str) -> None:
        router = PlatformRouter()
        self.engine = ConversationEngine(self.sessions, router, self.clock)
        self.transport = SlackTransport(
            self.standin.bot_token, self.engine.handle, app_token=self.standin.app_token,
            signing_secret=self.standin.signing_secret, api_url=self.standin.api_url, mode=mode, clock=self.clock,
            sessions=self.sessions, spool=self.spool,
        )
        router.register(self.transport)
        if mode == "http":
            self.server = WebServer(slack_handler=self.transport.handle_http)
            await self.server.start("127.0.0.1", 0)
            self.standin.request_url = f"http://127.0.0.1:{self.server.port}{SLACK_PATH}"
        await self.transport.start()
        if mode == "socket":
            await self.standin.wait_for_socket()

    async def stop(self) -> None:
        await self.transport.stop()
        if self.server is not None:
            await self.server.stop()
            self.server = None


async def slack_bot(sessions: async_sessionmaker[AsyncSession], mode: str) -> SlackBot:
    """A started bot over Socket Mode (`socket`) or the HTTP Events API (`http`); the caller stops it."""
    clock = FakeClock()
    standin = SlackStandIn(clock=lambda: clock().timestamp())
    await standin.start()
    standin.add_user(ANA, "ana.perez", "ana@justicia.example")
    async with sessions() as session, session.begin():
        ana_id = await session.scalar(select(FocalPoint.id).where(FocalPoint.email == "ana@justicia.example"))
        await link_identity(session, ana_id, Platform.SLACK, standin.team_id, ANA, standin.dm_channel(ANA))  # type: ignore[arg-type]
    bot = SlackBot(standin, None, None, sessions, clock)  # type: ignore[arg-type]
    await bot.start(mode)
    return bot


@asynccontextmanager
async def running_slack_bot(sessions: async_sessionmaker[AsyncSession], mode: str) -> AsyncIterator[SlackBot]:
    """`slack_bot` for a fixture: stopped, and its stand-in too, once the test is done."""
    bot = await slack_bot(sessions, mode)
    yield bot
    await bot.stop()
    await bot.standin.stop()


class FailsOnce:
    """The engine, with the first delivery failing as a lost database
    connection would fail it, before anything was kept."""

    def __init__(self, bot: SlackBot) -> None:
        self.handle, self.calls = bot.engine.handle, 0
        bot.transport._handle = self

    async def __call__(self, message: IncomingMessage) -> None:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionResetError("the database went away")
        await self.handle(message)


async def help_failing_once(bot: SlackBot, caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    """Ana says "help" and its first handling fails: answered once, with no
    traceback logged; how each events_api delivery went, in order."""
    flaky = FailsOnce(bot)
    (reply,) = await SlackPerson(bot.standin, ANA).says("help")
    assert reply.shown.startswith("I help you report")
    await bot.standin.settle()
    assert flaky.calls == 2 and len(bot.standin.messages_to(ANA)) == 1
    assert not [r for r in caplog.records if r.exc_info], "one line, no traceback"
    return [(n, how) for kind, n, how in bot.standin.deliveries if kind == "events_api"]


async def started_with_ana(standin: SlackStandIn, sessions: async_sessionmaker[AsyncSession], ana_id: int) -> SlackStandIn:
    """The stand-in started, with Ana linked to its member ANA."""
    await standin.start()
    standin.add_user(ANA, "ana.perez", "ana@justicia.example")
    async with sessions() as session, session.begin():
        await link_identity(session, ana_id, Platform.SLACK, standin.team_id, ANA, standin.dm_channel(ANA))
    return standin


async def mine_held_in_the_lookup(standin: SlackStandIn, hold_for: float) -> str:
    """Ana writes "mine" and its handling is held in the member's e-mail
    look-up, before anything commits; returns, with its event id, once it has
    been held for ``hold_for`` seconds."""
    standin.slow("users.info", 20)
    event_id = standin.user_writes(ANA, "mine")
    while "users.info" not in standin.calls:
        await asyncio.sleep(0.01)
    await asyncio.sleep(hold_for)
    return event_id


async def spawn_nmrf_bot_run(tmp_path: Path, db_url: str, config: str, secrets: dict[str, str]) -> asyncio.subprocess.Process:
    """`nmrf-bot run` with this config.toml, and of the platforms' secrets only these."""
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if name not in PLATFORM_SECRETS}
    env.update({"NMRF_DATABASE_URL": db_url, **secrets})
    return await asyncio.create_subprocess_exec(
        NMRF_BOT, "--config", str(path), "run", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )


async def stop_run(process: asyncio.subprocess.Process, standin: SlackStandIn) -> None:
    """SIGTERM for a run still going, then the stand-in stops."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 30)
    await standin.stop()
