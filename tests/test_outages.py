"""The real `nmrf-bot run` through outages: a platform out of reach at start,
a token refused, the database gone for ten seconds behind a TCP proxy.
Nothing stops for good, nothing is sent twice or lost, /healthz says what
is wrong while it is, and each outage is logged once, not at every try."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.standins.slack import SlackStandIn
from bot.standins.telegram import TelegramStandIn
from storage import outbox
from storage.enums import FocalPointRole, OutboxKind, OutboxStatus, Platform
from storage.conversations import link_identity
from storage.models import OutboxMessage, StatusUpdate
from storage.network import FocalPointData, add_focal_point
from storage.types import utcnow
from tests.chat_harness import TELEGRAM_TOKEN, SlackPerson, TelegramPerson
from tests.factories import answered_before
from tests.outbox_harness import queue_due_reminders
from tests.tcp_proxy import TcpProxy

NMRF_BOT = str(Path(sys.executable).with_name("nmrf-bot"))
FIRST_USER = 20_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    """`nmrf-bot run` as a subprocess, its stderr collected as it comes."""

    def __init__(self, tmp_path: Path, db_url: str, *, telegram_url: str | None, slack: SlackStandIn | None, token: str = TELEGRAM_TOKEN, slack_url: str | None = None) -> None:
        self.health_port = free_port()
        config = ""
        if telegram_url:
            config += f'[telegram]\nbase_url = "{telegram_url}"\n'
        if slack is not None:
            config += f'[slack]\napi_url = "{slack_url or slack.api_url}"\n'
        config += f'[http]\nhost = "127.0.0.1"\nport = {self.health_port}\nhealth = true\n'
        self.config = tmp_path / "config.toml"
        self.config.write_text(config, encoding="utf-8")
        self.env = {**os.environ, "NMRF_DATABASE_URL": db_url}
        if telegram_url:
            self.env["NMRF_TELEGRAM_TOKEN"] = token
        if slack is not None:
            self.env |= {"NMRF_SLACK_BOT_TOKEN": slack.bot_token, "NMRF_SLACK_APP_TOKEN": slack.app_token}
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            NMRF_BOT, "--config", str(self.config), "run", env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.lines.append(line.decode(errors="replace"))

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def healthz(self) -> tuple[int, dict[str, Any]]:
        try:
            async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{self.health_port}/healthz", timeout=aiohttp.ClientTimeout(total=10)) as response:
                return response.status, await response.json()
        except aiohttp.ClientConnectionError:
            return 0, {}

    async def wait_health(self, status: int, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            got, body = await self.healthz()
            if got == status:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"/healthz stayed {got} {body}, not {status}\n{self.log}")
            await asyncio.sleep(0.2)

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            await self._reader
        return int(self.process.returncode or 0)


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met in time")
        await asyncio.sleep(0.05)


async def queue_reminders(sessions: async_sessionmaker[AsyncSession], standin: TelegramStandIn, label: str, users: range) -> None:
    await queue_due_reminders(sessions, standin, ((user, f"fp {user}", f"reminder:{label}:{user}", f"{label} reminder to {user}") for user in users))


async def nothing_pending(sessions: async_sessionmaker[AsyncSession]) -> bool:
    async with sessions() as session:
        left = await session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != OutboxStatus.SENT))
    return left == 0


def received(standin: TelegramStandIn, label: str) -> Counter[str]:
    return Counter(m.text for m in standin.sent if m.text.startswith(f"{label} reminder"))


def no_traceback_nor_token(log: str) -> None:
    assert "Traceback" not in log, log
    for secret in (TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1]):
        assert secret not in log


@asynccontextmanager
async def out_of_reach_at_start(tmp_path: Path, db_url: str, platform: str) -> AsyncIterator[tuple[BotProcess, TelegramStandIn, SlackStandIn, TcpProxy]]:
    """Both stand-ins up, `platform`'s ("telegram" or "slack") behind a proxy
    that does not listen yet, and the bot set for both but not started. Then
    all stopped; the bot must have ended well and logged the outage in one
    line, with no traceback or token."""
    telegram, slack = TelegramStandIn(TELEGRAM_TOKEN), SlackStandIn()
    await telegram.start()
    await slack.start()
    proxy = TcpProxy("127.0.0.1", telegram.port if platform == "telegram" else slack.port)
    proxy.port = free_port()
    if platform == "telegram":
        bot = BotProcess(tmp_path, db_url, telegram_url=f"http://127.0.0.1:{proxy.port}/bot", slack=slack)
    else:
        bot = BotProcess(tmp_path, db_url, telegram_url=telegram.base_url, slack=slack, slack_url=f"http://127.0.0.1:{proxy.port}/api/")
    try:
        yield bot, telegram, slack, proxy
    finally:
        # Not started when the test failed before: its own error is the one to see.
        code = await bot.stop() if bot.process is not None else None
        await proxy.close()
        await telegram.stop()
        await slack.stop()
    assert code == 0, bot.log
    # One line when the trouble began, whatever the number of tries.
    assert sum(f"{platform}: " in line and "trying again until it works" in line for line in bot.lines) == 1, bot.log
    no_traceback_nor_token(bot.log)


@pytest.mark.fault
async def test_telegram_out_of_reach_at_start_is_tried_again_while_slack_and_reminders_work(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    async with out_of_reach_at_start(tmp_path, db_url, "telegram") as (bot, telegram, slack, proxy):
        slack.add_user("U0ANA", "ana", "ana@justicia.example")
        await queue_reminders(sessions, telegram, "early", range(FIRST_USER, FIRST_USER + 3))
        await bot.start()
        await slack.wait_for_socket(timeout=30)
        (welcome,) = await SlackPerson(slack, "U0ANA").says("hello")
        assert welcome.shown.startswith("Welcome, Ana Pérez.")
        body = await bot.wait_health(503)
        assert body["loops"]["telegram"]["state"] == "failing" and body["loops"]["slack"]["ok"] is True
        assert body["database"] == "ok"
        await asyncio.sleep(3)  # several tries while it is out of reach
        assert received(telegram, "early") == Counter()
        await proxy.open()
        await bot.wait_health(200)
        telegram.add_user(111, "Ana").started = True
        (help_text,) = await TelegramPerson(telegram, 111).says("/help")
        assert help_text.text
        await wait_for(lambda: nothing_pending(sessions), what="every reminder sent")
        assert received(telegram, "early") == Counter({f"early reminder to {u}": 1 for u in range(FIRST_USER, FIRST_USER + 3)})
    # And one when it ended.
    assert sum("telegram: working again" in line for line in bot.lines) == 1, bot.log


@pytest.mark.fault
async def test_a_refused_telegram_token_is_one_line_and_slack_goes_on(tmp_path: Path, db_url: str, world: dict[str, int]) -> None:
    telegram, slack = TelegramStandIn(TELEGRAM_TOKEN), SlackStandIn()
    await telegram.start()
    await slack.start()
    wrong = "987654321:AAwrongwrongwrongwrongwrongwrongwro"
    bot = BotProcess(tmp_path, db_url, telegram_url=telegram.base_url, slack=slack, token=wrong)
    slack.add_user("U0ANA", "ana", "ana@justicia.example")
    try:
        await bot.start()
        await slack.wait_for_socket(timeout=30)
        body = await bot.wait_health(503)
        await wait_for(lambda: _state(bot, "telegram", "stopped"), what="telegram given up")
        (welcome,) = await SlackPerson(slack, "U0ANA").says("hello")
        assert welcome.shown.startswith("Welcome, Ana Pérez.")
        body = (await bot.healthz())[1]
        assert body["loops"]["slack"]["ok"] is True
    finally:
        code = await bot.stop()
        await telegram.stop()
        await slack.stop()
    assert code == 0, bot.log
    refusals = [line for line in bot.lines if "Telegram rejected the bot token" in line]
    assert len(refusals) == 1, bot.log
    assert wrong not in bot.log and wrong.split(":")[1] not in bot.log
    no_traceback_nor_token(bot.log)


async def _state(bot: BotProcess, loop: str, state: str) -> bool:
    _, body = await bot.healthz()
    return body.get("loops", {}).get(loop, {}).get("state") == state


@pytest.mark.fault
async def test_with_its_only_platform_refusing_the_token_run_ends_in_one_line(tmp_path: Path, db_url: str, world: dict[str, int]) -> None:
    telegram = TelegramStandIn(TELEGRAM_TOKEN)
    await telegram.start()
    wrong = "987654321:AAwrongwrongwrongwrongwrongwrongwro"
    bot = BotProcess(tmp_path, db_url, telegram_url=telegram.base_url, slack=None, token=wrong)
    try:
        await bot.start()
        assert bot.process is not None
        code = await asyncio.wait_for(bot.process.wait(), 60)
        await bot.stop()
    finally:
        await telegram.stop()
    assert code == 1, bot.log
    assert bot.lines[-1].startswith("error: no chat platform can run: telegram: Telegram rejected the bot token"), bot.log
    assert wrong not in bot.log and wrong.split(":")[1] not in bot.log
    no_traceback_nor_token(bot.log)


@pytest.mark.fault
async def test_ten_seconds_without_the_database_lose_nothing_and_send_nothing_twice(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], fault_report: dict[str, object]) -> None:
    """The bot reaches PostgreSQL through a proxy that is cut for 10 s:
    reminders queued before, during and after go out once each, a message
    written during the outage is answered after it, /healthz is red while
    it lasts, and each loop logs the outage once."""
    if not db_url.startswith("postgresql"):
        pytest.skip("an outage of a database server; SQLite is a file")
    url = make_url(db_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.open()
    telegram = TelegramStandIn(TELEGRAM_TOKEN)
    await telegram.start()
    telegram.add_user(111, "Ana").started = True
    ana = TelegramPerson(telegram, 111)
    bot = BotProcess(tmp_path, url.set(port=proxy.port).render_as_string(hide_password=False), telegram_url=telegram.base_url, slack=None)
    users = {label: range(FIRST_USER + 10 * n, FIRST_USER + 10 * n + 5) for n, label in enumerate(("before", "during", "after"))}
    await queue_reminders(sessions, telegram, "before", users["before"])
    try:
        await bot.start()
        await bot.wait_health(200)
        await wait_for(lambda: nothing_pending(sessions), what="the first reminders sent")
        await proxy.close()
        outage_began = time.monotonic()
        body = await bot.wait_health(503, timeout=20)
        assert body["database"] != "ok"
        await queue_reminders(sessions, telegram, "during", users["during"])  # the test reaches the database directly
        before = len(ana.inbox)
        telegram.user_sends(111, "/help")
        await asyncio.sleep(max(0.0, 10 - (time.monotonic() - outage_began)))
        await proxy.open()
        await queue_reminders(sessions, telegram, "after", users["after"])
        replies = await telegram.wait_for_messages(111, before + 1, timeout=90)
        await bot.wait_health(200, timeout=90)
        await wait_for(lambda: nothing_pending(sessions), timeout=120, what="every reminder sent")
    finally:
        code = await bot.stop()
        await proxy.close()
        await telegram.stop()
    assert code == 0, bot.log
    answers = [m.text for m in replies[before:] if "cannot reach my records" not in m.text]
    assert len(answers) == 1 and answers[0], replies
    counts = {label: received(telegram, label) for label in users}
    sent = sum(len(c) for c in counts.values())
    duplicated = sum(n - 1 for c in counts.values() for n in c.values())
    fault_report.update(sent=15, received=sent, duplicated=duplicated, lost=15 - sent)
    for label, wanted in users.items():
        assert counts[label] == Counter({f"{label} reminder to {u}": 1 for u in wanted}), (label, counts[label])
    assert sum("outbox: " in line and "trying again until it works" in line for line in bot.lines) == 1, bot.log
    assert sum("outbox: working again" in line for line in bot.lines) == 1, bot.log
    no_traceback_nor_token(bot.log)


KILL_DELAYS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.8)
PRESSES_PER_ROUND = 3


@pytest.mark.fault
async def test_sigkill_while_people_write_loses_nothing_and_handles_nothing_twice(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], fault_report: dict[str, object]) -> None:
    """People press "No change" (each press one status update), and the bot
    is killed with SIGKILL a moment later, at several delays, then started
    again. Telegram keeps what was not confirmed; what was handled before the
    kill is recognised when it comes again. Every press is one update."""
    telegram = TelegramStandIn(TELEGRAM_TOKEN)
    await telegram.start()
    people = range(FIRST_USER, FIRST_USER + PRESSES_PER_ROUND * len(KILL_DELAYS))
    rec = world["mine"]
    async with sessions() as session, session.begin():
        for user in people:
            person = await add_focal_point(session, FocalPointData(
                f"Person {user}", "MOJ", FocalPointRole.TECHNICAL, "en", "UTC", date(2025, 1, 1), f"p{user}@justicia.example",
            ))
            await link_identity(session, person.id, Platform.TELEGRAM, "", str(user), str(user))
        now = utcnow()
        for user in people:
            telegram.add_user(user, f"fp {user}").started = True
            await outbox.enqueue(session, outbox.NewMessage(
                key=f"nudge:{user}", kind=OutboxKind.REMINDER, platform=Platform.TELEGRAM,
                workspace_id="", platform_user_id=str(user), chat_id=str(user), timezone="UTC",
                message={"key": "reminder.digest", "text": f"#{rec}: anything new?", "language": "en",
                         "buttons": [[{"label": "No change", "action": f"same:{rec}"}]]},
                due_at=now - timedelta(minutes=1),
            ))
    # The ministry answered before: each "No change" is then one stored update, in one tap.
    await answered_before(sessions, "MOJ", rec)
    bot = BotProcess(tmp_path, db_url, telegram_url=telegram.base_url, slack=None)
    kills = 0
    try:
        await bot.start()
        await wait_for(lambda: nothing_pending(sessions), what="the nudges sent")
        batches = [list(people)[n * PRESSES_PER_ROUND:(n + 1) * PRESSES_PER_ROUND] for n in range(len(KILL_DELAYS))]
        for delay, batch in zip(KILL_DELAYS, batches, strict=True):
            await bot.wait_health(200)
            for user in batch:
                (nudge,) = telegram.messages_to(user)[:1]
                telegram.user_presses(user, nudge, f"same:{rec}")
            await asyncio.sleep(delay)
            assert bot.process is not None
            bot.process.kill()  # SIGKILL: no clean stop, no last confirmation
            await bot.process.wait()
            kills += 1
            await bot.start()
        await wait_for(lambda: _updates_by(sessions, rec, len(people) + 1), timeout=120, what="every press handled")
        await asyncio.sleep(2)  # anything handled twice would show by now
    finally:
        await bot.stop()
        await telegram.stop()
    async with sessions() as session:
        rows = (await session.scalars(select(StatusUpdate).where(StatusUpdate.recommendation_id == rec, StatusUpdate.author_focal_point_id.is_not(None)))).all()
    per_person = Counter(row.author_label for row in rows)
    lost = sum(1 for user in people if per_person[f"Person {user}"] == 0)
    duplicated = sum(n - 1 for n in per_person.values() if n > 1)
    fault_report.update(kills=kills, pressed=len(people), stored=len(rows), lost=lost, duplicated=duplicated)
    assert kills == len(KILL_DELAYS)
    assert (lost, duplicated) == (0, 0), per_person


async def _updates_by(sessions: async_sessionmaker[AsyncSession], rec: int, count: int) -> bool:
    async with sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(StatusUpdate).where(StatusUpdate.recommendation_id == rec))
    return (stored or 0) >= count


@pytest.mark.fault
async def test_slack_out_of_reach_at_start_is_named_as_slack_while_telegram_works(tmp_path: Path, db_url: str, world: dict[str, int]) -> None:
    async with out_of_reach_at_start(tmp_path, db_url, "slack") as (bot, telegram, slack, proxy):
        await bot.start()
        telegram.add_user(111, "Ana").started = True
        await wait_for(lambda: _state(bot, "telegram", "ok"), what="telegram connected")
        (help_text,) = await TelegramPerson(telegram, 111).says("/help")
        assert help_text.text
        await wait_for(lambda: _state(bot, "slack", "failing"), what="slack failing")
        status, body = await bot.healthz()
        assert status == 503 and body["database"] == "ok" and body["loops"]["telegram"]["ok"] is True
        await asyncio.sleep(3)
        await proxy.open()
        await slack.wait_for_socket(timeout=60)
        await bot.wait_health(200)
    assert "database" not in "".join(line for line in bot.lines if "slack" in line.lower()), bot.log


@pytest.mark.fault
async def test_a_database_server_down_at_start_is_waited_for(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    """`run` started while PostgreSQL does not answer waits for it, saying so
    once, then serves; it had ended at once with 'cannot open the database'."""
    if not db_url.startswith("postgresql"):
        pytest.skip("a database server out of reach; SQLite is a file, which opens or is a mistake")
    url = make_url(db_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.port = free_port()
    telegram = TelegramStandIn(TELEGRAM_TOKEN)
    await telegram.start()
    telegram.add_user(111, "Ana").started = True
    bot = BotProcess(tmp_path, url.set(port=proxy.port).render_as_string(hide_password=False), telegram_url=telegram.base_url, slack=None)
    try:
        await bot.start()
        await wait_for(lambda: _logged(bot, "database: "), what="the wait logged")
        await asyncio.sleep(3)
        assert bot.process is not None and bot.process.returncode is None, bot.log
        await proxy.open()
        await bot.wait_health(200, timeout=90)
        (answer,) = await TelegramPerson(telegram, 111).says("/help")
        assert answer.text
    finally:
        code = await bot.stop()
        await proxy.close()
        await telegram.stop()
    assert code == 0, bot.log
    assert sum("database: " in line and "trying again until it works" in line for line in bot.lines) == 1, bot.log
    assert sum("database: working again" in line for line in bot.lines) == 1, bot.log
    no_traceback_nor_token(bot.log)


async def _logged(bot: BotProcess, text: str) -> bool:
    return any(text in line for line in bot.lines)
