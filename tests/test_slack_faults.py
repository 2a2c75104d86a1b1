"""The real `nmrf-bot run` when Slack's side goes wrong: an app token
refused, Slack answering 502 at start, the Socket Mode connection lost while
the bot runs. Each is one line when it begins (and one when it ends), no
traceback and no token, /healthz names Slack meanwhile, a refused token is
not tried again, and SIGTERM ends the process within seconds in every state."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.standins.slack import SlackStandIn
from bot.standins.telegram import TelegramStandIn
from bot.transports.slack_spool import Spool
from handlers.chat_port import IncomingMessage
from storage.models import ProcessedDelivery
from tests.chat_harness import TELEGRAM_TOKEN, SlackPerson, TelegramPerson
from tests.slack_harness import ANA, slack_bot, started_with_ana
from tests.tcp_proxy import TcpProxy
from tests.test_secrets import LONG, forms, run_to_the_end
from tests.test_outages import BotProcess, free_port, no_traceback_nor_token, wait_for

WRONG_APP_TOKEN = "xapp-1-A0NMRF-9999-notthetokenslackgave"
HTML_502 = "<html><body><h1>502 Bad Gateway</h1></body></html>"
# SIGTERM ends the process within this, whatever Slack is doing.
STOP_WITHIN = 8.0


def _quiet(bot: BotProcess, slack: SlackStandIn, *also: str) -> None:
    no_traceback_nor_token(bot.log)
    for secret in (slack.bot_token, slack.app_token, *also):
        assert secret not in bot.log, secret
    # slack_sdk's own per-try records stay at DEBUG.
    assert not [line for line in bot.lines if "slack_bolt" in line or "socket_mode" in line], bot.log


async def _stopped_in_time(bot: BotProcess) -> int:
    started = time.monotonic()
    code = await bot.stop()
    assert time.monotonic() - started < STOP_WITHIN, f"SIGTERM took {time.monotonic() - started:.1f} s\n{bot.log}"
    return code


async def _slack_state(bot: BotProcess) -> dict[str, Any]:
    _, body = await bot.healthz()
    return dict(body.get("loops", {}).get("slack", {}))


@pytest.mark.fault
async def test_a_refused_app_token_is_one_line_and_not_tried_again_while_telegram_goes_on(tmp_path: Path, db_url: str, world: dict[str, int]) -> None:
    telegram, slack = TelegramStandIn(TELEGRAM_TOKEN), SlackStandIn()
    await telegram.start()
    await slack.start()
    bot = BotProcess(tmp_path, db_url, telegram_url=telegram.base_url, slack=slack)
    bot.env["NMRF_SLACK_APP_TOKEN"] = WRONG_APP_TOKEN
    telegram.add_user(111, "Ana").started = True
    try:
        await bot.start()
        await wait_for(lambda: _state_is(bot, "stopped"), what="slack given up")
        # The two platforms start side by side: Slack's refusal may come
        # before Telegram's first poll (on PostgreSQL it does), which must
        # then go on working all the same.
        await wait_for(lambda: _loop_ok(bot, "telegram"), what="telegram polling")
        status, body = await bot.healthz()
        assert status == 503 and body["loops"]["telegram"]["ok"] is True, body
        assert body["loops"]["slack"]["state"] == "stopped", body
        assert "slack.app_token" in body["loops"]["slack"]["reason"] and "invalid_auth" in body["loops"]["slack"]["reason"]
        tries = slack.calls.count("apps.connections.open")
        (help_text,) = await TelegramPerson(telegram, 111).says("/help")
        assert help_text.text
        await asyncio.sleep(4)
        # A refused token will not start working: Slack is not asked again.
        assert slack.calls.count("apps.connections.open") == tries == 1
        code = await _stopped_in_time(bot)
    finally:
        if bot.process is not None and bot.process.returncode is None:
            await bot.stop()
        await telegram.stop()
        await slack.stop()
    assert code == 0, bot.log
    refusals = [line for line in bot.lines if "Slack refused slack.app_token (invalid_auth)" in line]
    assert len(refusals) == 1, bot.log
    assert not [line for line in bot.lines if "slack" in line.lower() and "trying again" in line], bot.log
    _quiet(bot, slack, WRONG_APP_TOKEN)


@pytest.mark.fault
async def test_with_only_slack_and_its_app_token_refused_run_ends_in_one_line(tmp_path: Path, db_url: str, world: dict[str, int]) -> None:
    slack = SlackStandIn()
    await slack.start()
    bot = BotProcess(tmp_path, db_url, telegram_url=None, slack=slack)
    bot.env["NMRF_SLACK_APP_TOKEN"] = WRONG_APP_TOKEN
    try:
        await bot.start()
        assert bot.process is not None
        code = await asyncio.wait_for(bot.process.wait(), 60)
        await bot.stop()
    finally:
        await slack.stop()
    assert code == 1, bot.log
    assert bot.lines[-1].startswith("error: no chat platform can run: slack: Slack refused slack.app_token (invalid_auth)"), bot.log
    _quiet(bot, slack, WRONG_APP_TOKEN)


async def _loop_ok(bot: BotProcess, loop: str) -> bool:
    _, body = await bot.healthz()
    return bool(body.get("loops", {}).get(loop, {}).get("ok"))


async def _state_is(bot: BotProcess, state: str) -> bool:
    return (await _slack_state(bot)).get("state") == state


@pytest.mark.fault
@pytest.mark.parametrize("method", ["auth.test", "apps.connections.open"])
async def test_slack_answering_502_at_start_is_one_line_each_way_then_it_connects(tmp_path: Path, db_url: str, world: dict[str, int], method: str) -> None:
    slack = SlackStandIn()
    await slack.start()
    slack.add_user("U0ANA", "ana", "ana@justicia.example")
    slack.fail(method, 502, HTML_502, times=3)
    bot = BotProcess(tmp_path, db_url, telegram_url=None, slack=slack)
    try:
        await bot.start()
        await wait_for(lambda: _state_is(bot, "failing"), what="slack failing")
        assert (await bot.healthz())[0] == 503
        await slack.wait_for_socket(timeout=60)
        await bot.wait_health(200)
        (welcome,) = await SlackPerson(slack, "U0ANA").says("hello")
        assert welcome.shown.startswith("Welcome, Ana Pérez.")
        code = await _stopped_in_time(bot)
    finally:
        if bot.process is not None and bot.process.returncode is None:
            await bot.stop()
        await slack.stop()
    assert code == 0, bot.log
    down = [line for line in bot.lines if "slack: " in line and "trying again until it works" in line]
    assert len(down) == 1 and "HTTP 502" in down[0], bot.log
    assert sum("slack: working again" in line for line in bot.lines) == 1, bot.log
    _quiet(bot, slack)


def _socket_through(slack: SlackStandIn, proxy: TcpProxy) -> None:
    """The stand-in hands out a Socket Mode URL through the proxy, so that
    cutting the proxy cuts the socket too, as a network outage would."""
    tickets = count(1)

    async def connections_open(_params: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{proxy.port}/link/?ticket=p{next(tickets)}&app_id=A0NMRF"}

    slack._m_apps_connections_open = connections_open  # type: ignore[method-assign]


@pytest.mark.fault
async def test_the_socket_lost_mid_run_is_503_naming_slack_and_one_line_each_way(tmp_path: Path, db_url: str, world: dict[str, int]) -> None:
    slack = SlackStandIn()
    await slack.start()
    slack.add_user("U0ANA", "ana", "ana@justicia.example")
    proxy = TcpProxy("127.0.0.1", slack.port)
    proxy.port = free_port()
    await proxy.open()
    _socket_through(slack, proxy)
    bot = BotProcess(tmp_path, db_url, telegram_url=None, slack=slack, slack_url=f"http://127.0.0.1:{proxy.port}/api/")
    try:
        await bot.start()
        await slack.wait_for_socket(timeout=60)
        await bot.wait_health(200)
        await proxy.close()
        body = await bot.wait_health(503, timeout=15)
        assert body["loops"]["slack"]["state"] == "failing" and "Socket Mode" in body["loops"]["slack"]["reason"]
        # Longer than slack_sdk's ping interval (10 s), at which it logged an ERROR each time.
        await asyncio.sleep(14)
        assert (await _slack_state(bot))["state"] == "failing"
        await proxy.open()
        await wait_for(lambda: _state_is(bot, "ok"), timeout=90, what="slack back")
        await bot.wait_health(200)
        (welcome,) = await SlackPerson(slack, "U0ANA").says("hello")
        assert welcome.shown.startswith("Welcome, Ana Pérez.")
        # Down again, and SIGTERM while it is.
        await proxy.close()
        await bot.wait_health(503, timeout=15)
        code = await _stopped_in_time(bot)
    finally:
        if bot.process is not None and bot.process.returncode is None:
            await bot.stop()
        await proxy.close()
        await slack.stop()
    assert code == 0, bot.log
    assert sum("slack: " in line and "trying again until it works" in line for line in bot.lines) == 2, bot.log
    assert sum("slack: working again" in line for line in bot.lines) == 1, bot.log
    _quiet(bot, slack)


@pytest.mark.fault
async def test_sigterm_while_slack_keeps_answering_502_at_start_ends_the_process(tmp_path: Path, db_url: str, world: dict[str, int]) -> None:
    slack = SlackStandIn()
    await slack.start()
    slack.fail("apps.connections.open", 502, HTML_502, times=1000)
    bot = BotProcess(tmp_path, db_url, telegram_url=None, slack=slack)
    try:
        await bot.start()
        await wait_for(lambda: _state_is(bot, "failing"), what="slack failing")
        await asyncio.sleep(3)
        code = await _stopped_in_time(bot)
    finally:
        if bot.process is not None and bot.process.returncode is None:
            await bot.stop()
        await slack.stop()
    assert code == 0, bot.log
    _quiet(bot, slack)


# --- slash commands and clicks while the database is out of reach ------------------


async def _replies(standin: SlackStandIn, start: str) -> list[str]:
    return [m.shown for m in standin.messages_to(ANA) if m.shown.startswith(start)]


@pytest.mark.parametrize("restart", [False, True], ids=["the same process", "after a restart"])
async def test_a_slash_command_in_a_database_outage_is_spooled_and_answered_once_it_is_back(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], restart: bool,
) -> None:
    """Slack never sends a slash command again: acknowledged and kept on
    disk, it is answered once the database is back (also by the next
    process), once, and the spool is left empty."""
    bot = await slack_bot(sessions, "socket")
    try:
        bot.engine.db_attempts = 2
        real = bot.engine._handle_once
        outage = {"on": True}

        async def flaky(message: IncomingMessage) -> Any:
            if outage["on"]:
                raise ConnectionRefusedError(111, "Connect call failed")
            return await real(message)

        bot.engine._handle_once = flaky  # type: ignore[method-assign]
        bot.standin.user_runs(ANA, "/nmrf", "help")
        await bot.standin.settle()
        assert bot.standin.deliveries == [("slash_commands", 0, "ack")]
        assert len(await _replies(bot.standin, "I have your message")) == 1
        assert await _replies(bot.standin, "I help you report") == []
        assert len(bot.spool.read_text(encoding="utf-8").splitlines()) == 1
        if restart:
            await bot.stop()
            outage["on"] = False
            await bot.start("socket")
        else:
            await asyncio.sleep(2)
            assert await _replies(bot.standin, "I help you report") == []
            outage["on"] = False
        await wait_for(lambda: _answered(bot.standin), timeout=30, what="the command answered")
        await asyncio.sleep(1.5)
        assert len(await _replies(bot.standin, "I help you report")) == 1
        assert not bot.spool.exists() or bot.spool.read_text(encoding="utf-8") == ""
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(ProcessedDelivery).where(ProcessedDelivery.delivery_id.like("command:%"))) == 1
    finally:
        await bot.stop()
        await bot.standin.stop()


async def _answered(standin: SlackStandIn) -> bool:
    return bool(await _replies(standin, "I help you report"))


@pytest.mark.fault
async def test_run_keeps_a_slash_command_given_while_the_database_is_unreachable_and_answers_it_after(
    tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    """The real process, the database made unreachable (PostgreSQL behind a
    cut proxy; SQLite held under an exclusive lock by another connection)."""
    standin = await started_with_ana(SlackStandIn(), sessions, world["ana"])
    url = make_url(db_url)
    proxy: TcpProxy | None = None
    if url.get_backend_name() == "postgresql":
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        await proxy.open()
        run_url = url.set(port=proxy.port).render_as_string(hide_password=False)
    else:
        run_url = db_url
    bot = BotProcess(tmp_path, run_url, telegram_url=None, slack=standin)
    with bot.config.open("a", encoding="utf-8") as config:
        config.write(f'[evidence]\nstore = "{tmp_path / "evidence"}"\n')
    lock: sqlite3.Connection | None = None
    try:
        await bot.start()
        await standin.wait_for_socket(timeout=60)
        await bot.wait_health(200)
        if proxy is not None:
            await proxy.close()
        else:
            lock = sqlite3.connect(url.database or "", timeout=1, isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")
        standin.user_runs(ANA, "/nmrf", "help")
        await standin.settle()
        assert standin.deliveries == [("slash_commands", 0, "ack")], bot.log
        await asyncio.sleep(3)
        assert await _replies(standin, "I help you report") == []
        spool = tmp_path / "evidence-spool" / "slack.jsonl"
        assert len(spool.read_text(encoding="utf-8").splitlines()) == 1, bot.log
        if proxy is not None:
            await proxy.open()
        else:
            assert lock is not None
            lock.execute("ROLLBACK")
            lock.close()
            lock = None
        await wait_for(lambda: _answered(standin), timeout=90, what="the command answered")
        await asyncio.sleep(2)
        assert len(await _replies(standin, "I help you report")) == 1
        assert not spool.exists() or spool.read_text(encoding="utf-8") == ""
        code = await _stopped_in_time(bot)
    finally:
        if lock is not None:
            lock.close()
        if bot.process is not None and bot.process.returncode is None:
            await bot.stop()
        if proxy is not None:
            await proxy.close()
        await standin.stop()
    assert code == 0, bot.log
    no_traceback_nor_token(bot.log)


# --- no secret printed when Slack refuses a token ------------------------------------


@pytest.mark.parametrize("refused", ["bot", "app"])
async def test_run_with_a_refused_slack_token_prints_no_secret_at_debug_in_json(tmp_path: Path, refused: str) -> None:
    """`run` with only Slack, one token refused (auth.test or
    apps.connections.open answering invalid_auth), logging JSON at DEBUG,
    where slack_sdk's own records are written too: all it printed is searched
    for each configured secret in every form (tests.test_secrets.forms)."""
    slack = SlackStandIn()
    await slack.start()
    bot_token = LONG.bot_token if refused == "bot" else slack.bot_token
    app_token = LONG.app_token if refused == "app" else slack.app_token
    try:
        (tmp_path / "config.toml").write_text(
            f'[slack]\napi_url = "{slack.api_url}"\n[http]\nhost = "127.0.0.1"\nport = 0\n'
            '[logging]\nformat = "json"\nlevel = "DEBUG"\n',
            encoding="utf-8",
        )
        env = {
            "NMRF_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "NMRF_SLACK_BOT_TOKEN": bot_token,
            "NMRF_SLACK_APP_TOKEN": app_token, "NMRF_SLACK_SIGNING_SECRET": LONG.signing_secret,
        }
        code, printed = await run_to_the_end(env, tmp_path)
    finally:
        await slack.stop()
    assert code == 1, printed
    assert f"Slack refused slack.{refused}_token (invalid_auth)" in printed.splitlines()[-1], printed
    assert "Traceback" not in printed, printed
    for secret in (bot_token, app_token, LONG.signing_secret):
        for form in forms(secret):
            assert form not in printed, f"{form!r} was printed:\n{printed}"


async def test_a_slash_command_that_neither_the_database_nor_the_spool_can_keep_is_answered_with_the_truth(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await slack_bot(sessions, "socket")
    try:
        bot.engine.db_attempts = 1

        async def down(_message: IncomingMessage) -> Any:
            raise ConnectionRefusedError(111, "Connect call failed")

        bot.engine._handle_once = down  # type: ignore[method-assign]
        # Nothing can be written there.
        bot.transport._spool = Spool(Path("/proc/nmrf-no-such-dir/slack.jsonl"))
        bot.standin.user_runs(ANA, "/nmrf", "help")
        await bot.standin.settle()
        await asyncio.sleep(0.5)
        shown = [m.shown for m in bot.standin.messages_to(ANA)]
        # Told it waits, then that it was not saved after all and to try again.
        assert len(shown) == 2 and shown[0].startswith("I have your message"), shown
        assert "nothing was saved" in shown[1] and "try again" in shown[1], shown
        assert [r.getMessage() for r in caplog.records if "could not be kept" in r.getMessage()], "one line for the administrator"
        assert not [r for r in caplog.records if r.exc_info]
    finally:
        await bot.stop()
        await bot.standin.stop()
