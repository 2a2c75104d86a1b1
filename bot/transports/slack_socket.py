"""Slack's Socket Mode connection, kept by the bot rather than by slack_sdk.

slack_sdk's client reconnects on its own and for ever: its ``connect()``
never returns while ``apps.connections.open`` fails (a refused app token
kept ``nmrf-bot run`` trying, deaf to SIGTERM), and each try logs an ERROR,
with a traceback, every ping interval. Here its own reconnection is off:
``connect_once`` makes one try and raises when it fails, so the caller's
supervision (bot.supervision) retries with backoff, logs once per outage
and gives up on a refused token; ``watch`` notices a lost socket, turns the
loop's health red (``/healthz`` 503 naming Slack) and connects again.
The library's own per-try log records are lowered to DEBUG.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.supervision import LoopHealth, keep_trying, pause

log = logging.getLogger(__name__)

# How often the socket is looked at; a lost one is noticed within this.
CHECK_SECONDS = 1.0
# The logger given to slack_sdk's Socket Mode client.
LIBRARY_LOGGER = "bot.transports.slack.socket_mode"
# A close that would hang on a half-open socket is cut off after this.
CLOSE_SECONDS = 3.0


class SocketUnavailable(Exception):
    """Socket Mode could not be opened (an answer that is not a URL, a lost connection)."""


class TokenRefused(Exception):
    """Slack refused one of the tokens: no retry will change that."""

    def __init__(self, setting: str, error: str) -> None:
        super().__init__(f"Slack refused {setting} ({error}): check it, then restart")
        self.setting, self.error = setting, error


class _LibraryQuiet(logging.Filter):
    """slack_sdk's Socket Mode records at DEBUG, with no traceback: the
    transport says what matters once (a lost connection, a refused token)."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self._logger = logger

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            record.exc_info, record.exc_text = None, None
        return self._logger.isEnabledFor(logging.DEBUG)


def library_logger() -> logging.Logger:
    logger = logging.getLogger(LIBRARY_LOGGER)
    if not any(isinstance(f, _LibraryQuiet) for f in logger.filters):
        logger.addFilter(_LibraryQuiet(logger))
    return logger


def socket_mode_off_auto_reconnect(client: SocketModeClient) -> None:
    client.default_auto_reconnect_enabled = False
    client.auto_reconnect_enabled = False


async def connect_once(client: SocketModeClient, web: AsyncWebClient, app_token: str, refused: set[str], api_error: Callable[[SlackApiError], str]) -> None:
    """One try at a Socket Mode connection, as slack_sdk's connect() makes
    it, without its endless loop: TokenRefused, SlackApiError, an aiohttp or
    OS error when it fails."""
    socket_mode_off_auto_reconnect(client)
    old = client.current_session
    if old is not None and not old.closed:
        with contextlib.suppress(Exception):
            await old.close()
    if client.aiohttp_client_session.closed:
        client.aiohttp_client_session = aiohttp.ClientSession()
    try:
        answer = await web.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        if api_error(exc) in refused:
            raise TokenRefused("slack.app_token", api_error(exc)) from None
        raise SocketUnavailable(f"apps.connections.open: {api_error(exc)}") from None
    url = answer.get("url")
    if not isinstance(url, str) or not url.startswith(("wss://", "ws://")):
        raise SocketUnavailable("apps.connections.open answered without a Socket Mode URL")
    client.wss_uri = url
    session = await client.aiohttp_client_session.ws_connect(
        url, autoping=False, heartbeat=client.ping_interval, proxy=client.proxy,
        ssl=client.web_client.ssl if client.web_client.ssl is not None else True,
    )
    client.current_session = session
    client.stale = False
    client.last_ping_pong_time = None
    await session.ping(f"sdk-ping-pong:{time.time()}".encode())
    # The library's loops, reading and pinging this session.
    for task in (client.current_session_monitor, client.message_receiver):
        if task is not None:
            task.cancel()
    client.current_session_monitor = asyncio.ensure_future(client.monitor_current_session())
    client.message_receiver = asyncio.ensure_future(client.receive_messages())


async def watch(
    client: SocketModeClient,
    health: LoopHealth,
    stop: asyncio.Event,
    reconnect: Callable[[], object],
    fatal: Callable[[BaseException], str | None],
) -> None:
    """Until ``stop``: a lost socket is one line and a red health while
    it is down, tried again with backoff, one line when it is back; a
    refused token ends the watch (health names it)."""
    while not stop.is_set():
        await pause(stop, CHECK_SECONDS)
        if stop.is_set() or await client.is_connected():
            continue
        if not await keep_trying(health, stop, _lost_then(reconnect, health), fatal=fatal):  # type: ignore[arg-type]
            return


def _lost_then(reconnect: Callable[[], object], health: LoopHealth) -> Callable[[], object]:
    first = True

    async def attempt() -> None:
        nonlocal first
        if first:
            # Health red at once, and the one line saying so, even if the
            # first reconnect works.
            first = False
            health.failed(SocketUnavailable("the Socket Mode connection was lost"))
        try:
            await reconnect()  # type: ignore[misc]
        except TokenRefused:
            raise
        except Exception as exc:  # noqa: BLE001 - one reason for the whole outage, so one line
            raise SocketUnavailable("the Socket Mode connection was lost") from exc

    return attempt


async def close(client: SocketModeClient) -> None:
    """The client closed, bounded: a half-open socket cannot hold a stop."""
    try:
        await asyncio.wait_for(client.close(), CLOSE_SECONDS)
    except (asyncio.TimeoutError, Exception) as exc:  # noqa: BLE001 - closing is best effort
        log.debug("slack: socket mode client not closed cleanly (%s)", exc.__class__.__name__)
