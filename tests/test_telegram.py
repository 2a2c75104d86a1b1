"""Telegram end to end: the real python-telegram-bot over real HTTP against
the local Bot API stand-in, the engine and a real database behind it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import Button, ChatAddress, OutgoingMessage, RecipientUnreachable
from bot.gateway import PlatformRouter
from bot.standins.telegram import TelegramStandIn
from bot.transports.retry import RetryPolicy
from bot.transports.telegram import TelegramTransport, webhook_secret
from bot.web import TELEGRAM_PATH, WebServer
from handlers.engine import ConversationEngine
from storage.conversations import create_invite
from storage.enums import EvidenceKind, ImplementationStatus as S, Platform
from storage.models import ChatIdentity, ConversationState, StatusUpdate
from storage.status import history
from tests.chat_harness import ASSIGNED, LONG_ANSWER, TELEGRAM_TOKEN, TRICKY, TelegramPerson
from tests.factories import answered_before
from tests.fakes import FakeClock

FAST = RetryPolicy(first_backoff=0.05)


@dataclass
class TelegramBot:
    standin: TelegramStandIn
    engine: ConversationEngine
    transport: TelegramTransport
    sessions: async_sessionmaker[AsyncSession]
    clock: FakeClock

    async def restart(self, mode: str = "polling", webhook_url: str | None = None) -> None:
        """Stop the adapter and the engine and bring up fresh ones, as a new process would."""
        await self.transport.stop()
        router = PlatformRouter()
        self.engine = ConversationEngine(self.sessions, router, self.clock)
        self.transport = TelegramTransport(
            TELEGRAM_TOKEN, self.engine.handle, base_url=self.standin.base_url, mode=mode,
            webhook_url=webhook_url, poll_timeout=1, retry=FAST,
        )
        router.register(self.transport)
        await self.transport.start()


@pytest.fixture
async def telegram(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[TelegramBot]:
    standin = TelegramStandIn(TELEGRAM_TOKEN)
    await standin.start()
    standin.add_user(111, "Ana").started = True
    bot = TelegramBot(standin, None, None, sessions, FakeClock())  # type: ignore[arg-type]
    router = PlatformRouter()
    bot.engine = ConversationEngine(sessions, router, bot.clock)
    bot.transport = TelegramTransport(TELEGRAM_TOKEN, bot.engine.handle, base_url=standin.base_url, poll_timeout=1, retry=FAST)
    router.register(bot.transport)
    await bot.transport.start()
    yield bot
    await bot.transport.stop()
    await standin.stop()


def fail_first(telegram: TelegramBot, times: int, error: Exception) -> list[int]:
    """The adapter's next ``times`` deliveries fail with ``error`` before the
    engine sees them (the database gone, say); how many failures are left."""
    left, handle = [times], telegram.engine.handle

    async def failing(message):  # type: ignore[no-untyped-def]
        if left[0]:
            left[0] -= 1
            raise error
        await handle(message)

    telegram.transport._handle = failing
    return left


async def count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_a_full_update_over_long_polling(telegram: TelegramBot, world: dict[str, int]) -> None:
    ana = TelegramPerson(telegram.standin, 111)
    header, *items = await ana.says("/mine", expect=4)
    assert header.text.startswith("Ministry of Justice: 3 recommendations")
    await ana.presses("Give an update", on=items[0])
    (asked,) = await ana.presses("partially implemented")
    assert asked.text.startswith("What was done?") and "Skip" in [b["text"] for row in asked.reply_markup["inline_keyboard"] for b in row]
    # The file, its caption (what was done, a link, the next step): one message, saved at once.
    (saved,) = await ana.sends_document(
        "informe-2026.pdf", "application/pdf", 48213,
        caption="Law 19.580 adopted; 1,200 officers trained. https://www.impo.com.uy/bases/leyes/19580-2017\nNext: regulatory decree",
    )
    assert saved.text.startswith("Saved: #") and "informe-2026.pdf" in saved.text and "Next step: regulatory decree" in saved.text
    assert [data.partition(":")[0] for data in saved.callback_data] == ["addn", "adde", "fix"]
    # Every button press was answered, so no spinner stays on the person's screen.
    assert len(telegram.standin.answered_callbacks) == 2

    async with telegram.sessions() as session:
        (update,) = await history(session, world["mine"])
    assert (update.status, update.narrative, update.next_step) == (
        S.PARTIALLY_IMPLEMENTED, "Law 19.580 adopted; 1,200 officers trained. https://www.impo.com.uy/bases/leyes/19580-2017", "regulatory decree",
    )
    assert [(e.kind, e.url or e.file_name) for e in update.evidence] == [
        (EvidenceKind.FILE, "informe-2026.pdf"), (EvidenceKind.LINK, "https://www.impo.com.uy/bases/leyes/19580-2017"),
    ]
    assert update.evidence[0].platform_file_id.startswith("BQACAgQ")  # type: ignore[union-attr]


async def test_onboarding_by_deep_link(telegram: TelegramBot, world: dict[str, int]) -> None:
    async with telegram.sessions() as session, session.begin():
        code = await create_invite(session, world["ana"], telegram.clock())
    telegram.standin.add_user(222, "Ana on her new phone")
    newcomer = TelegramPerson(telegram.standin, 222)
    # What Telegram sends when someone opens https://t.me/<bot>?start=<code>.
    (welcome,) = await newcomer.says(f"/start {code}")
    assert welcome.text.startswith("Welcome, Ana Pérez.")
    assert len(await newcomer.says("/mine", expect=4)) == 4
    telegram.standin.add_user(333, "Someone who saw the link")
    (refusal,) = await TelegramPerson(telegram.standin, 333).says(f"/start {code}")
    assert refusal.text.startswith("This invitation is not valid")


async def test_an_unknown_user_is_refused_and_not_stored(telegram: TelegramBot) -> None:
    telegram.standin.add_user(999, "Stranger")
    stranger = TelegramPerson(telegram.standin, 999)
    (refusal,) = await stranger.says("/start")
    assert refusal.text == "Sorry, I don't know you yet. Ask your NMRF secretariat for an invitation."
    (refusal,) = await stranger.says("hello")
    async with telegram.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatIdentity).where(ChatIdentity.platform_user_id == "999")) == 0
        assert await session.scalar(select(func.count()).select_from(ConversationState).where(ConversationState.platform_user_id == "999")) == 0


@pytest.mark.fault
async def test_a_redelivered_update_stores_one_status_update(telegram: TelegramBot, world: dict[str, int], fault_report: dict[str, object]) -> None:
    await answered_before(telegram.sessions, "MOJ", world["mine_all"][2])
    ana = TelegramPerson(telegram.standin, 111)
    last_item = (await ana.says("/mine", expect=4))[-1]
    await ana.presses("Open", on=last_item)
    before = len(ana.inbox)
    update_id = telegram.standin.user_presses(111, ana.inbox[-1], f"same:{world['mine_all'][2]}")
    await telegram.standin.wait_for_messages(111, before + 1)
    await telegram.standin.wait_until_confirmed()
    telegram.standin.redeliver(update_id)
    telegram.standin.redeliver(update_id)
    await telegram.standin.wait_until_confirmed()
    await asyncio.sleep(0.2)
    stored = await count(telegram.sessions, StatusUpdate) - 1  # the earlier answer
    fault_report.update(sent=1, redelivered=2, stored=stored, duplicated=max(0, stored - 1), lost=1 - min(1, stored))
    assert len(ana.inbox) == before + 1
    assert stored == 1


@pytest.mark.fault
async def test_a_restart_mid_conversation_resumes(telegram: TelegramBot, world: dict[str, int], fault_report: dict[str, object]) -> None:
    ana = TelegramPerson(telegram.standin, 111)
    await ana.starts_update(1, "in progress", ASSIGNED)
    await telegram.restart()
    (saved,) = await ana.says("Draft bill sent to Parliament.")
    assert saved.text.startswith("Saved: #")
    async with telegram.sessions() as session:
        updates = await history(session, world["mine_all"][1])
    fault_report.update(sent=1, stored=len(updates), duplicated=max(0, len(updates) - 1), lost=1 - min(1, len(updates)))
    (update,) = updates
    assert (update.status, update.narrative) == (S.IN_PROGRESS, "Draft bill sent to Parliament.")


async def test_a_5000_character_answer_and_markup_kept_verbatim_shown_escaped(telegram: TelegramBot, world: dict[str, int]) -> None:
    ana = TelegramPerson(telegram.standin, 111)
    tricky, long_answer = TRICKY, LONG_ANSWER
    await ana.starts_update(0, "in progress", ASSIGNED)
    saved = await ana.says(long_answer + "\nNext: " + tricky, expect=2)
    # Over 4,096 characters: two messages, each within the limit, buttons on the last.
    assert [m.reply_markup is None for m in saved] == [True, False]
    assert all(len(m.text) <= 4096 for m in saved)
    assert "&lt;b&gt;bold&lt;/b&gt;" in saved[0].raw_text and "&amp;amp;" in saved[0].raw_text
    # What the person sees is exactly what they typed: no bold, no entity decoded.
    shown = "\n".join(m.text for m in saved)
    assert tricky in shown and long_answer.strip()[:4000] in shown and not any(m.entities for m in saved)
    async with telegram.sessions() as session:
        (update,) = await history(session, world["mine"])
    assert update.narrative == long_answer.strip() and update.next_step == tricky


async def test_429_is_waited_out_and_nothing_is_lost(telegram: TelegramBot) -> None:
    telegram.standin.throttle("sendMessage", times=3, retry_after=1)
    ana = TelegramPerson(telegram.standin, 111)
    replies = await ana.says("/help")
    assert replies[0].text.startswith("I help you report")
    # Three refused with retry_after, then delivered once.
    assert telegram.standin.calls.count("sendmessage") == 4 and len(ana.inbox) == 1


async def test_a_blocked_person_is_reported_unreachable(telegram: TelegramBot) -> None:
    telegram.standin.add_user(555, "Gone").started = True
    telegram.standin.block(555)
    with pytest.raises(RecipientUnreachable, match="blocked"):
        await telegram.transport.send(ChatAddress(Platform.TELEGRAM, "555", "555"), OutgoingMessage("x", "hello"))
    # Never opened the bot: Telegram refuses a first message from a bot.
    telegram.standin.add_user(556, "Never started")
    with pytest.raises(RecipientUnreachable, match="initiate"):
        await telegram.transport.send(ChatAddress(Platform.TELEGRAM, "556", "556"), OutgoingMessage("x", "hello"))


async def test_callback_data_over_64_bytes_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        Button("Open", "rec:" + "9" * 61)
    Button("Open", "rec:" + "9" * 60)


async def test_webhook_mode_with_secret_token(telegram: TelegramBot, world: dict[str, int]) -> None:
    server = WebServer(telegram=telegram.transport)
    await server.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.port}{TELEGRAM_PATH}"
    await telegram.restart(mode="webhook", webhook_url=url)
    server.telegram = telegram.transport
    try:
        ana = TelegramPerson(telegram.standin, 111)
        assert len(await ana.says("/mine", expect=4)) == 4
        await telegram.standin.wait_until_confirmed()
        assert telegram.standin.webhook_deliveries[-1][1] == 200
        # A forged call without the secret, or with a wrong one, is refused and nothing is kept.
        forged = {"update_id": 1, "callback_query": {"id": "1", "from": {"id": 111, "is_bot": False, "first_name": "A"}, "chat_instance": "1", "data": f"same:{world['mine']}"}}
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}, {"X-Telegram-Bot-Api-Secret-Token": webhook_secret("123:other")}):
                async with http.post(url, json=forged, headers=headers) as response:
                    assert response.status == 403
            async with http.get(f"http://127.0.0.1:{server.port}/healthz") as response:
                assert response.status == 200
        assert await count(telegram.sessions, StatusUpdate) == 0
    finally:
        await server.stop()


@pytest.mark.parametrize(("headers", "body", "status"), [
    ({"X-Telegram-Bot-Api-Secret-Token": "é"}, b'{"update_id": 1}', 403),
    ({"X-Telegram-Bot-Api-Secret-Token": "\u00e9\u00e9"}, b'{"update_id": 1}', 403),
    (None, b'[1, 2]', 400),
    (None, b'"an update"', 400),
    (None, b'{"update_id": "zz", "message": 5}', 400),
    (None, b'{"update_id": 7, "message": 5}', 400),
    (None, b'{"update_id": 7, "callback_query": {"id": 3}}', 400),
    (None, b'{"update_id": true}', 400),
])
async def test_a_malformed_webhook_call_is_refused_without_a_traceback(telegram: TelegramBot, caplog: pytest.LogCaptureFixture, headers: dict[str, str] | None, body: bytes, status: int) -> None:
    """A header that is not even ASCII is a wrong secret (403); with the right
    secret, a body that is not an update is 400: never a 500, a traceback or
    anything stored."""
    server = WebServer(telegram=telegram.transport)
    await server.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.port}{TELEGRAM_PATH}"
    await telegram.restart(mode="webhook", webhook_url=url)
    server.telegram = telegram.transport
    sent = {"X-Telegram-Bot-Api-Secret-Token": telegram.transport.secret, "Content-Type": "application/json"} if headers is None else headers
    try:
        async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=sent) as response:
            assert response.status == status
    finally:
        await server.stop()
    assert not [r for r in caplog.records if r.exc_info]
    assert await count(telegram.sessions, StatusUpdate) == 0


async def test_webhook_failure_is_redelivered_and_handled_once(telegram: TelegramBot, world: dict[str, int]) -> None:
    server = WebServer(telegram=telegram.transport)
    await server.start("127.0.0.1", 0)
    await telegram.restart(mode="webhook", webhook_url=f"http://127.0.0.1:{server.port}{TELEGRAM_PATH}")
    server.telegram = telegram.transport
    fail_first(telegram, 1, ConnectionError("database went away"))
    try:
        ana = TelegramPerson(telegram.standin, 111)
        (reply,) = await ana.says("/help")
        # The reply can arrive before the stand-in has read the 200 that follows it.
        await telegram.standin.wait_until_confirmed()
        statuses = [status for _, status in telegram.standin.webhook_deliveries]
        assert statuses[-2:] == [500, 200]
    finally:
        await server.stop()
    assert reply.text.startswith("I help you report")


async def test_a_deferred_update_stays_unconfirmed_until_it_is_handled(telegram: TelegramBot, world: dict[str, int], caplog: pytest.LogCaptureFixture) -> None:
    """The database out of reach: the engine defers, the poller leaves the
    update (and the one after it) with Telegram, and both are answered, in
    order, once it is back; the webhook answers 503 meanwhile, never 200."""
    from handlers.chat_port import HandlingDeferred

    down = HandlingDeferred("the database is out of reach (ConnectionRefusedError)")
    left = fail_first(telegram, 2, down)
    ana = TelegramPerson(telegram.standin, 111)
    before = len(ana.inbox)
    telegram.standin.user_sends(111, "/help")
    telegram.standin.user_sends(111, "/mine")
    replies = await telegram.standin.wait_for_messages(111, before + 1 + 1 + ASSIGNED, timeout=30)
    assert replies[before].text.startswith("I help you report") and replies[before + 1].text.startswith("Ministry of Justice")
    assert left == [0]
    await telegram.standin.wait_until_confirmed()
    assert not [r for r in caplog.records if r.exc_info], "an outage is a line, not a traceback"

    server = WebServer(telegram=telegram.transport)
    await server.start("127.0.0.1", 0)
    await telegram.restart(mode="webhook", webhook_url=f"http://127.0.0.1:{server.port}{TELEGRAM_PATH}")
    server.telegram = telegram.transport
    fail_first(telegram, 1, down)
    try:
        (reply,) = await ana.says("/help")
        await telegram.standin.wait_until_confirmed()
        assert [status for _, status in telegram.standin.webhook_deliveries][-2:] == [503, 200]
    finally:
        await server.stop()
    assert reply.text.startswith("I help you report")
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize(("status", "raised"), [(502, "NetworkError"), (200, "NetworkError"), (401, "InvalidToken"), (404, "InvalidToken")])
async def test_a_page_that_is_not_the_bot_apis_json_is_its_usual_error_without_a_traceback(caplog: pytest.LogCaptureFixture, status: int, raised: str) -> None:
    """An HTML page from a proxy in front of Telegram: python-telegram-bot had
    logged an ERROR with a JSON traceback at each call. Now the status's usual
    error (a 502 an outage, a 401/404 a refused token), and nothing logged
    above DEBUG."""
    from aiohttp import web
    from telegram.error import InvalidToken, NetworkError

    async def page(_request: web.Request) -> web.Response:
        return web.Response(status=status, text="<html><body>proxy error</body></html>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    transport = TelegramTransport(TELEGRAM_TOKEN, lambda _m: asyncio.sleep(0), base_url=f"http://127.0.0.1:{port}/bot", retry=FAST)
    try:
        with caplog.at_level("INFO"), pytest.raises((InvalidToken, NetworkError)) as caught:
            await transport.application.bot.get_me()
    finally:
        await transport.application.shutdown()
        await runner.cleanup()
    assert type(caught.value).__name__ == raised
    assert "html" not in str(caught.value)
    assert [r for r in caplog.records if r.levelno > 10 and r.name.startswith("telegram")] == []
