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
from aiohttp import web
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


def waits(text: str) -> bool:
    """The engine's notice that a message waits for the database (error.deferred)."""
    return "cannot reach my records" in text


async def answered(telegram: TelegramStandIn, before: int) -> bool:
    return any(not waits(m.text) for m in telegram.messages_to(111)[before:])


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


async def _failing_with(bot: BotProcess, loop: str, reason: str) -> bool:
    _, body = await bot.healthz()
    entry = body.get("loops", {}).get(loop, {})
    return entry.get("state") == "failing" and reason in str(entry.get("reason"))


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
        # The notice that the message waits may come first (when the turn's
        # retries outlast the outage): wait for the answer itself.
        await wait_for(lambda: answered(telegram, before), timeout=90, what="/help answered after the outage")
        await bot.wait_health(200, timeout=90)
        await wait_for(lambda: nothing_pending(sessions), timeout=120, what="every reminder sent")
    finally:
        code = await bot.stop()
        await proxy.close()
        await telegram.stop()
    assert code == 0, bot.log
    replies = telegram.messages_to(111)
    answers = [m.text for m in replies[before:] if not waits(m.text)]
    assert len(answers) == 1 and answers[0], replies
    assert sum(waits(m.text) for m in replies[before:]) <= 1, replies
    counts = {label: received(telegram, label) for label in users}
    sent = sum(len(c) for c in counts.values())
    duplicated = sum(n - 1 for c in counts.values() for n in c.values())
    fault_report.update(sent=15, received=sent, duplicated=duplicated, lost=15 - sent)
    for label, wanted in users.items():
        assert counts[label] == Counter({f"{label} reminder to {u}": 1 for u in wanted}), (label, counts[label])
    assert sum("outbox: " in line and "trying again until it works" in line for line in bot.lines) == 1, bot.log
    assert sum("outbox: working again" in line for line in bot.lines) == 1, bot.log
    no_traceback_nor_token(bot.log)


# Sixteen kills, from just after the updates were queued to well into their handling.
KILL_DELAYS = (0.02, 0.03, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8)
PRESSES_PER_ROUND = 2
TYPED_PER_ROUND = 2


def typed_text(user: int) -> str:
    return f"Circular {user} sent to every prosecutor's office."


def _typist(narrative: str) -> str:
    return narrative.removeprefix("Circular ").partition(" ")[0]


@pytest.mark.fault
async def test_sigkill_while_people_write_loses_nothing_and_handles_nothing_twice(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], fault_report: dict[str, object]) -> None:
    """People press "No change" (each press one status update) or type what
    was done in an update they had begun (each text one status update), and
    the bot is killed with SIGKILL a moment later, at sixteen delays, then
    started again. Telegram keeps what was not confirmed; what was handled
    before the kill is recognised when it comes again. Every press and every
    text is one update, and nobody gets a second answer to one text."""
    telegram = TelegramStandIn(TELEGRAM_TOKEN)
    await telegram.start()
    per_round = PRESSES_PER_ROUND + TYPED_PER_ROUND
    people = range(FIRST_USER, FIRST_USER + per_round * len(KILL_DELAYS))
    rounds = [list(people)[n * per_round:(n + 1) * per_round] for n in range(len(KILL_DELAYS))]
    pressing = {user for batch in rounds for user in batch[:PRESSES_PER_ROUND]}
    typing = {user for batch in rounds for user in batch[PRESSES_PER_ROUND:]}
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
            button = {"label": "No change", "action": f"same:{rec}"} if user in pressing else {"label": "Give an update", "action": f"upd:{rec}"}
            await outbox.enqueue(session, outbox.NewMessage(
                key=f"nudge:{user}", kind=OutboxKind.REMINDER, platform=Platform.TELEGRAM,
                workspace_id="", platform_user_id=str(user), chat_id=str(user), timezone="UTC",
                message={"key": "reminder.digest", "text": f"#{rec}: anything new?", "language": "en", "buttons": [[button]]},
                due_at=now - timedelta(minutes=1),
            ))
    # The ministry answered before: each "No change" is then one stored update, in one tap.
    await answered_before(sessions, "MOJ", rec)
    bot = BotProcess(tmp_path, db_url, telegram_url=telegram.base_url, slack=None)
    kills = 0
    typed_at: dict[int, int] = {}
    try:
        await bot.start()
        await wait_for(lambda: nothing_pending(sessions), what="the nudges sent")
        # Those who type begin their update first, with no kill: the bot asks what was done.
        for user in sorted(typing):
            person = TelegramPerson(telegram, user)
            await person.presses("Give an update", on=person.inbox[0])
            (asked,) = await person.presses("partially implemented")
            assert asked.text.startswith("What was done?"), asked.text
        for delay, batch in zip(KILL_DELAYS, rounds, strict=True):
            await bot.wait_health(200)
            for user in batch:
                if user in pressing:
                    (nudge,) = telegram.messages_to(user)[:1]
                    telegram.user_presses(user, nudge, f"same:{rec}")
                else:
                    typed_at[user] = len(telegram.messages_to(user))
                    telegram.user_sends(user, typed_text(user))
            await asyncio.sleep(delay)
            assert bot.process is not None
            bot.process.kill()  # SIGKILL: no clean stop, no last confirmation
            await bot.process.wait()
            kills += 1
            await bot.start()
        await wait_for(lambda: _updates_by(sessions, rec, len(people) + 1), timeout=120, what="every press and text handled")
        await telegram.wait_until_confirmed(timeout=30)
        await asyncio.sleep(2)  # anything handled twice would show by now
    finally:
        await bot.stop()
        await telegram.stop()
    async with sessions() as session:
        rows = (await session.scalars(select(StatusUpdate).where(StatusUpdate.recommendation_id == rec, StatusUpdate.author_focal_point_id.is_not(None)))).all()
    per_person = Counter(row.author_label for row in rows)
    # "No change" copies the last narrative: a text is counted in its author's own rows.
    per_text = Counter(row.narrative for row in rows if row.narrative and row.author_label == f"Person {_typist(row.narrative)}")
    lost_presses = sum(1 for user in pressing if per_person[f"Person {user}"] == 0)
    lost_texts = sum(1 for user in typing if per_text[typed_text(user)] == 0)
    duplicated = sum(n - 1 for n in per_person.values() if n > 1)
    # A text handled twice would have had a second answer (its dialogue had moved on).
    answered_twice = sum(1 for user, before in typed_at.items() if len(telegram.messages_to(user)) - before > 1)
    fault_report.update(
        kills=kills, pressed=len(pressing), typed=len(typing), stored=len(rows),
        lost=lost_presses + lost_texts, duplicated=duplicated + answered_twice,
    )
    assert kills == len(KILL_DELAYS)
    assert (lost_presses, lost_texts, duplicated, answered_twice) == (0, 0, 0, 0), (per_person, per_text)
    assert all(per_text[typed_text(user)] == 1 for user in typing), per_text


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


class BadGateway:
    """What stands on the platform's port while it is "down": a proxy in the
    way that answers every request with an HTML 502 page, not the Bot API's JSON."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.requests = 0
        self._runner: web.AppRunner | None = None

    async def _answer(self, _request: web.Request) -> web.Response:
        self.requests += 1
        return web.Response(status=502, text="<html><body><h1>502 Bad Gateway</h1>\n<hr>nginx</body></html>", content_type="text/html")

    async def open(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@pytest.mark.fault
@pytest.mark.parametrize("when", ["at start", "mid-run"])
async def test_telegram_answering_an_html_502_is_one_line_each_way_and_loses_nothing(tmp_path: Path, db_url: str, world: dict[str, int], when: str) -> None:
    """A proxy in front of Telegram answers 502 with an HTML page, at start or
    while the bot runs: one line when it begins, one when it ends, no
    traceback (python-telegram-bot logged one at every try), /healthz names
    Telegram meanwhile, polling goes on, and what people wrote meanwhile is
    answered once each when Telegram is back."""
    telegram = TelegramStandIn(TELEGRAM_TOKEN)
    await telegram.start()
    proxy = TcpProxy("127.0.0.1", telegram.port)
    proxy.port = free_port()
    gateway = BadGateway(proxy.port)
    bot = BotProcess(tmp_path, db_url, telegram_url=f"http://127.0.0.1:{proxy.port}/bot", slack=None)
    people = [TelegramPerson(telegram, user) for user in (111, 112, 113)]
    for person in people:
        telegram.add_user(person.user_id, f"fp {person.user_id}").started = True
    try:
        if when == "mid-run":
            await proxy.open()
            await bot.start()
            await bot.wait_health(200)
            (answer,) = await people[0].says("/help")
            assert answer.text
            # Closed once the bot has its answer's response: the stand-in holds
            # the message before its response is written, and a response cut
            # off then leaves the bot unable to know it arrived. Sent again
            # when Telegram is back (a reply is never dropped), it would be the
            # second answer this test is not about (tests/test_reply_outage.py).
            # The bot's next poll confirms the update after the reply returned.
            await telegram.wait_until_confirmed(timeout=30)
            await proxy.close()
        await gateway.open()
        if when == "at start":
            await bot.start()
        # Mid-run, the first failure is the long poll cut when the proxy closed; then the 502s.
        await wait_for(lambda: _failing_with(bot, "telegram", "502"), what="telegram failing with the 502")
        status, body = await bot.healthz()
        assert status == 503 and body["database"] == "ok", body
        before = [len(person.inbox) for person in people]
        for person in people:
            telegram.user_sends(person.user_id, "/help")
        tried = gateway.requests

        async def tried_again() -> bool:
            return gateway.requests >= tried + 2

        # Two more tries: 2 then 4 s apart (jittered) by now, so the backoff goes on.
        await wait_for(tried_again, timeout=30, what="polling trying again")
        assert bot.process is not None and bot.process.returncode is None, bot.log
        await gateway.close()
        await proxy.open()
        # Back within a backoff, not after a whole long poll.
        await bot.wait_health(200, timeout=30)
        for person, had in zip(people, before, strict=True):
            await telegram.wait_for_messages(person.user_id, had + 1, timeout=30)
        await telegram.wait_until_confirmed(timeout=30)
        await asyncio.sleep(2)  # a second answer would show by now
        got = [[m.text[:40] for m in person.inbox[had:]] for person, had in zip(people, before, strict=True)]
        assert [len(person.inbox) - had for person, had in zip(people, before, strict=True)] == [1, 1, 1], f"{got}\n{bot.log}"
        # A second outage with nobody writing: the first poll that works
        # turns /healthz green, not the end of a 30 s long poll after it.
        await proxy.close()
        await gateway.open()
        await wait_for(lambda: _state(bot, "telegram", "failing"), what="telegram failing again")
        await asyncio.sleep(3)
        await gateway.close()
        await proxy.open()
        await bot.wait_health(200, timeout=20)
    finally:
        code = await bot.stop() if bot.process is not None else None
        await gateway.close()
        await proxy.close()
        await telegram.stop()
    assert code == 0, bot.log
    telegram_lines = [line for line in bot.lines if "telegram" in line.lower()]
    # One line as each outage began and one as it ended, whatever the tries.
    assert sum("trying again until it works" in line for line in telegram_lines) == 2, bot.log
    assert sum("telegram: working again" in line for line in telegram_lines) == 2, bot.log
    assert not any(" ERROR " in line for line in bot.lines), bot.log
    assert "<html>" not in bot.log and "nginx" not in bot.log, bot.log
    no_traceback_nor_token(bot.log)
