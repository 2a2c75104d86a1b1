"""Slack through slack-bolt's AsyncApp.

Socket Mode by default (no inbound port); the HTTP Events API as an option.
Over HTTP every request is verified on its raw body, then its shape checked,
before bolt sees it (bot.transports.slack_requests).

Acknowledged late enough: bolt runs with process_before_response, so the
HTTP 200 (or the Socket Mode ack) goes back only once the listener returned,
that is once the engine committed the delivery. A crash before that leaves
the event unacknowledged, Slack delivers it again, and the engine's record
of processed deliveries makes it count once. Handling that would outlast
Slack's 3 seconds is first kept in the database (storage.pending), then
acknowledged, then finished; a crash in between leaves it kept, and the next
start handles it.

A redelivery never causes a second status update: the delivery id given to
the engine comes from the payload (the event_id of an event, the trigger_id
of a click or a slash command, the view id of a modal), which a retry
repeats. No retry header is needed for that, which matters because bolt's
async Socket Mode adapter long dropped ``retry_attempt`` (bolt-python #1484);
the envelope's retry fields are logged here from the raw socket message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import (
    COMMAND_NAMES, ChatAddress, DeliveryFailed, DeliveryRefused, HandlingDeferred, DeliveryProbe, IncomingMessage, OutgoingMessage, PressedMessage, ReceivedFile,
    RecipientUnreachable, Sent,
)
from bot.transports.downloads import CHUNK, DownloadFailed, DownloadTooLarge, Writer
from bot.supervision import LoopHealth
from bot.transports.slack_home import render_home
from bot.transports.slack_spool import Spool
from bot.transports.slack_socket import SocketUnavailable, TokenRefused, connect_once, library_logger, watch
from bot.transports.slack_socket import close as close_socket
from bot.transports.slack_blocks import (
    ACTION_PREFIX, FORM_ACTION, MODAL_ACTION, MODAL_CALLBACK, UPDATE_CALLBACK, escape_mrkdwn, form_values, read_form_value, render, settled,
    unescape_incoming, update_form,
)
from bot.transports.slack_requests import COMMAND, FOR_BOLT_TYPE, Refused, Route, delivery_id, for_bolt, kind_of, parse, route, verify
from handlers.home import home_for
from handlers.reminders.plan import Policy
from messages import DEFAULT_LANGUAGE, t
from storage import pending
from storage.clock import utcnow
from storage.database import is_unavailable, writing
from storage.enums import ImplementationStatus, Platform

log = logging.getLogger(__name__)

Handle = Callable[[IncomingMessage], Awaitable[None]]
# Words a person may write in the DM instead of a slash command, which Slack
# would take for one of its own.
WORDS = set(COMMAND_NAMES)
# Commands that take words after them. Only these shapes: an answer that
# merely begins with "report" or "snooze" stays an answer.
_WITH_ARGUMENTS = re.compile(r"(snooze|progress|hours|evidence)\s+\S+|report\s+(matrix|draft|progress|export)(\s.*)?", re.IGNORECASE | re.DOTALL)
# "start CODE" redeems an invite code, as /start CODE does on Telegram.
_START = re.compile(r"start\s+[A-Za-z0-9_-]{8,64}", re.IGNORECASE)
# Message metadata naming the outbox row a message came from.
OUTBOX_EVENT = "nmrf_outbox"
# Slack's limit for a plain_text_input.
MODAL_MAX_LENGTH = 3000
# Slack wants its answer within 3 seconds; this leaves room for the network.
ACK_WITHIN_SECONDS = 2.0
# Waits before each new try of a kept delivery whose handling failed.
KEPT_RETRY_SECONDS = (5, 15, 60, 300, 900, 3600)
# What Slack never delivers again: kept in the spool while the database is gone.
_NOT_REDELIVERED = {"command", "block_actions", "view_submission"}
# How long keeping an interaction in the database may take before the spool keeps it.
KEEP_WITHIN_SECONDS = 0.7
# How long a stop waits for a pass over the spool under way.
SPOOL_STOP_SECONDS = 3.0
# Waits before each pass over the spool.
SPOOL_RETRY_SECONDS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0)
# auth.test and apps.connections.open answers that no retry will change.
_REFUSED_TOKEN = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "not_allowed_token_type"}
_GONE = {"user_not_found", "user_disabled", "account_inactive", "channel_not_found", "cannot_dm_bot", "is_archived"}
# chat.postMessage answers about the message itself: sent again, it is refused again.
_MALFORMED = {
    "msg_too_long", "no_text", "invalid_blocks", "invalid_blocks_format", "invalid_arguments", "invalid_attachments",
    "too_many_attachments", "invalid_metadata_format", "invalid_metadata_schema", "metadata_too_large", "metadata_must_be_sent_from_app",
}
# A person's Home is published at most once in this many seconds; a change
# in between is published when they are up.
HOME_INTERVAL = 3.0
# Waits before each new try of a Home whose views.publish failed.
HOME_RETRY_SECONDS = (5, 30, 120)
# views.publish answers no retry will change: the Home tab is off in the app, or the member is gone.
_HOME_REFUSED = {"not_enabled", "user_not_found", "account_inactive", "invalid_arguments", "invalid_blocks", "view_too_large"}


class SlackTransport:
    platform = Platform.SLACK

    def __init__(
        self,
        bot_token: str,
        handle: Handle,
        *,
        app_token: str | None = None,
        signing_secret: str | None = None,
        api_url: str = "https://slack.com/api/",
        mode: str = "socket",
        rate_limit_retries: int = 5,
        clock: Callable[[], datetime] = utcnow,
        sessions: async_sessionmaker[AsyncSession] | None = None,
        ack_within: float = ACK_WITHIN_SECONDS,
        home_policy: Policy | None = None,
        home_interval: float = HOME_INTERVAL,
        spool: Path | None = None,
    ) -> None:
        """``sessions`` keeps deliveries that outlast Slack's 3 seconds
        (storage.pending), and is where each person's Home is read; without
        it the ack waits for the handling and there is no Home.
        ``home_policy``: the reminder rules, for what the Home calls open
        and overdue. ``spool``: the file keeping slash commands, clicks and
        forms while the database is out of reach (slack_spool)."""
        if mode == "socket" and not app_token:
            raise ValueError("Socket Mode needs slack.app_token (xapp-...)")
        if mode == "http" and not signing_secret:
            raise ValueError("HTTP mode needs slack.signing_secret to verify Slack's requests")
        self.mode = mode
        self._handle = handle
        self._app_token = app_token
        self._signing_secret = signing_secret or ""
        self._clock = clock
        self._ack_within = ack_within
        self._sessions = sessions
        self._late: set[asyncio.Task[None]] = set()
        self._spool = Spool(spool) if spool is not None else None
        self._draining: asyncio.Task[None] | None = None
        self._handling: dict[str, asyncio.Future[None]] = {}
        self._stopping = asyncio.Event()
        self.client = AsyncWebClient(token=bot_token, base_url=api_url)
        # Waits what Retry-After says on 429; connection errors are retried by the default handler.
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
        self.app = AsyncApp(
            client=self.client,
            signing_secret=self._signing_secret,
            # Verified in handle_http, on the raw bytes and the injected clock,
            # before bolt parses anything.
            request_verification_enabled=False,
            # The ack waits for the listener, hence for the engine's commit
            # (see the module's docstring); bolt's default acks first and
            # loses the event if the process dies while handling it.
            process_before_response=True,
        )
        self.app.error(self._failed)
        self._socket: AsyncSocketModeHandler | None = None
        self._dm_channels: dict[str, str] = {}
        self._emails: dict[str, str | None] = {}
        # The member's locale ("ar-SA"), read with the e-mail: onboarding proposes its language.
        self._locales: dict[str, str | None] = {}
        self._home_policy = home_policy or Policy()
        self.home_interval = home_interval
        self.home_retries: tuple[float, ...] = HOME_RETRY_SECONDS
        self._home_tasks: dict[str, asyncio.Task[None]] = {}
        self._home_dirty: set[str] = set()
        self._home_published: dict[str, float] = {}
        self._register()

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        """One try at connecting: the bot token checked, what a former
        process kept handled, then (Socket Mode) the socket opened. Raises
        TokenRefused, which no retry will change, or the outage's error."""
        self._stopping.clear()
        self._open_http()
        try:
            identity = await self.client.auth_test()
        except SlackApiError as exc:
            if api_error(exc) in _REFUSED_TOKEN:
                raise TokenRefused("slack.bot_token", api_error(exc)) from None
            raise SocketUnavailable(f"auth.test: {api_error(exc)}") from None
        await self._replay()
        if self._spool is not None and await self._spool.waiting():
            self._drain_soon()
        if self.mode == "socket":
            await self._connect_socket()
        log.info("slack: connected to team %s as %s (%s)", identity.get("team_id"), identity.get("user_id"), self.mode)

    def _open_http(self) -> None:
        # One HTTP session for every Web API call, its connections kept
        # alive: without it slack_sdk opens (and closes) a session, hence a
        # TCP connection, per call. Its own per-call session has a total
        # timeout of client.timeout; a shared one keeps that limit.
        if self.client.session is None or self.client.session.closed:
            self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))

    async def _close_http(self) -> None:
        session, self.client.session = self.client.session, None
        if session is not None and not session.closed:
            await session.close()

    def _socket_client(self) -> Any:
        # Made once: each handler starts a message processor of its own.
        if self._socket is None:
            self._socket = AsyncSocketModeHandler(self.app, self._app_token, logger=library_logger())
            client = self._socket.client
            client.on_message_listeners.append(self._log_retry)
            # The shape is checked before bolt builds its request, which
            # already reads actions[0] and so fails on an empty list.
            client.socket_mode_request_listeners.remove(self._socket.handle)
            client.socket_mode_request_listeners.append(self._on_envelope)
        return self._socket.client

    async def _connect_socket(self) -> None:
        assert self._app_token is not None
        await connect_once(self._socket_client(), self.client, self._app_token, _REFUSED_TOKEN, api_error)

    async def watch(self, stop: asyncio.Event, health: LoopHealth) -> None:
        """Socket Mode only: until ``stop``, a lost socket is noticed,
        reported through ``health`` and connected again (slack_socket)."""
        if self.mode != "socket":
            await stop.wait()
            return
        await watch(self._socket_client(), health, stop, self._connect_socket, self.rejection)
        if health.given_up is not None and self._socket is not None:
            await close_socket(self._socket.client)

    @staticmethod
    def rejection(exc: BaseException) -> str | None:
        """Why trying again cannot help (Slack refused a token), or None."""
        if isinstance(exc, TokenRefused):
            return str(exc)
        if isinstance(exc, SlackApiError) and api_error(exc) in _REFUSED_TOKEN:
            return f"Slack refused the token ({api_error(exc)}): check slack.bot_token and slack.app_token, then restart"
        return None

    @staticmethod
    def unavailable(exc: BaseException) -> bool:
        """An outage to name in one line (Slack or the network down, the
        database gone), not a bug whose traceback is wanted."""
        return isinstance(exc, (SocketUnavailable, SlackApiError, aiohttp.ClientError, OSError, asyncio.TimeoutError)) or is_unavailable(exc)

    async def stop(self) -> None:
        if self._socket is not None:
            await close_socket(self._socket.client)
            self._socket = None
        # Handling acknowledged before it ended is finished, not cut off;
        # retries of kept deliveries stop, for the next start to take up.
        self._stopping.set()
        if self._late:
            await asyncio.gather(*list(self._late), return_exceptions=True)
        # What the spool keeps waits there for the next start; a pass held
        # up by the database is cut off (its transaction rolls back, the
        # delivery stays spooled), so that a stop takes seconds.
        if self._draining is not None:
            _, held = await asyncio.wait({self._draining}, timeout=SPOOL_STOP_SECONDS)
            for task in held:
                task.cancel()
            await asyncio.gather(self._draining, return_exceptions=True)
        # A Home not yet published is built afresh at the next open.
        for task in list(self._home_tasks.values()):
            task.cancel()
        if self._home_tasks:
            await asyncio.gather(*list(self._home_tasks.values()), return_exceptions=True)
        self._home_tasks.clear()
        # Last: what was finished above may still have called the Web API.
        await self._close_http()

    async def handle_http(self, request: web.Request) -> web.Response:
        """The Events API, interactivity and slash commands over HTTP: 401
        for a request not signed by Slack within five minutes, 400 for a
        signed one that is malformed, both before anything is parsed or
        stored, and logged with the reason and the address only."""
        raw = await request.read()
        try:
            verify(self._signing_secret, request.headers, raw, self._clock)
            body = parse(request.content_type, raw)
            where = route(body)
        except Refused as refused:
            log.warning("slack http: refused with %s from %s: %s", refused.status, request.remote, refused.reason)
            return web.json_response({"ok": False, "error": refused.reason}, status=refused.status)
        if where is Route.CHALLENGE:
            return web.json_response({"challenge": body["challenge"]})
        if where is Route.IGNORE:
            return web.Response(status=200)
        headers = {name: value for name, value in request.headers.items() if name.lower() != "content-type"}
        bolt_request = AsyncBoltRequest(body=for_bolt(body), query=request.query_string, headers={**headers, "Content-Type": FOR_BOLT_TYPE})
        response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    async def _on_envelope(self, client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        """Socket Mode payloads get the same shape check as HTTP bodies; only
        a sound one reaches bolt, whose ack then follows the handling."""
        assert self._socket is not None
        try:
            if not isinstance(request.payload, dict):
                raise Refused(400, "payload is not an object")
            where = route(request.payload)
        except Refused as refused:
            # Acknowledged all the same: a redelivery would be just as malformed.
            log.warning("slack socket: envelope ignored: %s", refused.reason)
            where = Route.IGNORE
        if where is Route.DISPATCH:
            await self._socket.handle(client, request)  # type: ignore[arg-type]
        else:
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    @staticmethod
    async def _failed(error: Exception) -> None:
        # bolt answers 500 (or leaves the envelope unacknowledged), so Slack
        # delivers it again. One line: a traceback could quote what was typed.
        log.error("slack: delivery not handled (%s); Slack will deliver it again", error.__class__.__name__)

    @staticmethod
    async def _log_retry(message: Any) -> None:
        try:
            envelope = json.loads(message.data)
        except (TypeError, ValueError):
            return
        if isinstance(envelope, dict) and envelope.get("retry_attempt"):
            log.info("slack: envelope %s is retry %s (%s)", envelope.get("envelope_id"), envelope["retry_attempt"], envelope.get("retry_reason"))

    # --- inbound ---------------------------------------------------------------

    def _register(self) -> None:
        self.app.event("message")(self._on_event)
        self.app.event("app_home_opened")(self._on_event)
        self.app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(self._on_interaction)
        self.app.view(MODAL_CALLBACK)(self._on_interaction)
        self.app.view(UPDATE_CALLBACK)(self._on_interaction)
        self.app.command(COMMAND)(self._on_interaction)

    async def _on_event(self, body: dict[str, Any]) -> None:
        await self._in_time(body)

    async def _on_interaction(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        # Recorded now, sent when the listener returns (process_before_response).
        await ack()
        await self._in_time(body)

    def _work(self, body: dict[str, Any], *, replay: bool = False) -> Awaitable[None]:
        kind = kind_of(body)
        if kind == "command":
            return self._command(body)
        if kind == "event_callback" and (body.get("event") or {}).get("type") == "app_home_opened":
            return self._home_opened(body)
        if kind == "event_callback":
            return self._message(body)
        if kind == "block_actions":
            return self._action(body, replay=replay)
        return self._answer(body)

    async def _in_time(self, body: dict[str, Any]) -> None:
        """Return, so bolt acks, once the delivery is handled, or once it is
        kept durably when handling outlasts the budget. A failure before
        either propagates: the delivery is not acknowledged, and Slack sends
        it again (an event; a click or a command shows the person an error)."""
        task = asyncio.ensure_future(self._work(body))
        # An interaction may still have to be kept after this wait, within the same 3 s.
        budget = max(self._ack_within - KEEP_WITHIN_SECONDS, 0.1) if self._spools(body) else self._ack_within
        done, _ = await asyncio.wait({task}, timeout=budget)
        if task in done:
            try:
                task.result()
            except Exception as exc:
                # Slack never sends an interaction again: kept on disk instead.
                if not (self._spools(body) and _database_down(exc)):
                    raise
                await self._spool_it(body)
            return
        delivery = delivery_id(body)
        if self._sessions is None:
            await task
            return
        try:
            # An interaction has the spool to fall back on, so a database that
            # hangs (a lock, a dead server) is not waited for past Slack's 3 s.
            # Not cancelled when it takes too long: a cancelled SQLite write
            # still waits out its lock before it lets go. If it ends up kept
            # there too, the next start's replay finds it processed.
            keeping = asyncio.ensure_future(self._keep(delivery, body))
            if self._spools(body):
                done, _ = await asyncio.wait({keeping}, timeout=KEEP_WITHIN_SECONDS)
                if keeping not in done:
                    keeping.add_done_callback(_consumed)
                    raise asyncio.TimeoutError()
            await keeping
        except Exception as exc:
            if self._spools(body) and (_database_down(exc) or isinstance(exc, asyncio.TimeoutError)):
                # The drain waits for it rather than handle the same delivery beside it.
                self._handling[delivery] = task
                task.add_done_callback(lambda _task: self._handling.pop(delivery, None))
                await self._spool_it(body)
                self._late_task(self._finish(task, None, body, spooled=True))
                return
            # Not kept, so not acknowledged: Slack's retry is deduplicated
            # if this handling commits after all.
            self._late_task(self._finish(task, None, body))
            raise
        log.info("slack: delivery %s takes longer than %ss; kept, acknowledged, handled after", delivery, self._ack_within)
        self._late_task(self._finish(task, delivery, body))

    async def _keep(self, delivery: str, body: dict[str, Any]) -> None:
        assert self._sessions is not None
        async with writing(self._sessions) as session:
            await pending.keep(session, Platform.SLACK, delivery, body, self._clock())

    def _late_task(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    async def _finish(self, handling: Awaitable[None], kept: str | None, body: dict[str, Any], *, spooled: bool = False) -> None:
        try:
            await handling
        except Exception as exc:  # noqa: BLE001 - logged; kept or unacknowledged, it is not lost
            if spooled:
                log.info("slack: spooled delivery %s not handled yet (%s); handled once the database is back", delivery_id(body), exc.__class__.__name__)
                return
            if kept is None:
                log.warning("slack: a delivery left unacknowledged failed (%s); Slack delivers it again", exc.__class__.__name__)
                return
            log.error("slack: delivery %s failed after its ack (%s); tried again until it is handled", kept, exc.__class__.__name__)
            await self._retry_kept(kept, body)
            return
        if kept is not None:
            await self._done(kept)
        if spooled and self._spool is not None:
            await self._unspool(delivery_id(body))

    # --- the spool: interactions the database could not take -------------------

    def _spools(self, body: dict[str, Any]) -> bool:
        return self._spool is not None and kind_of(body) in _NOT_REDELIVERED

    async def _spool_it(self, body: dict[str, Any]) -> None:
        """Kept on local disk, then acknowledged; handled by the spool's
        drain. If even that fails the person is told to send it again, as
        nothing of it is kept anywhere."""
        assert self._spool is not None
        delivery = delivery_id(body)
        try:
            await self._spool.append(delivery, body)
        except OSError as exc:
            log.error("slack: delivery %s could not be kept (the database is out of reach, the spool failed: %s); the person is asked to send it again",
                      delivery, exc.__class__.__name__)
            await self._tell_not_kept(body)
            return
        log.info("slack: delivery %s kept in the spool until the database is back", delivery)
        self._drain_soon()

    async def _tell_not_kept(self, body: dict[str, Any]) -> None:
        user = body.get("user_id") if kind_of(body) == "command" else (body.get("user") or {}).get("id")
        if not isinstance(user, str):
            return
        try:
            channel = await self.open_dm(user)
            # The truth, against the "no need to send it again" already said:
            # nothing was saved, try again later.
            key = "error.internal"
            await self.send(ChatAddress(Platform.SLACK, user, channel, ""), OutgoingMessage(key, t(key, DEFAULT_LANGUAGE)))
        except Exception as exc:  # noqa: BLE001 - a courtesy; logged above already
            log.info("slack: could not tell %s to send it again (%s)", user, exc.__class__.__name__)

    def _drain_soon(self) -> None:
        if self._draining is None or self._draining.done():
            self._draining = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        """Handle what the spool keeps, oldest first, until it is empty or the
        transport stops; a failure (the database still gone) waits longer."""
        assert self._spool is not None
        waits = iter(SPOOL_RETRY_SECONDS)
        wait = next(waits)
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), wait)
                return
            except asyncio.TimeoutError:
                pass
            waiting = await self._spool.waiting()
            if not waiting:
                return
            for delivery, body in waiting:
                running = self._handling.get(delivery)
                if running is not None:
                    await asyncio.wait({running})
                try:
                    await self._work(body, replay=True)
                except Exception as exc:  # noqa: BLE001 - kept, in order: tried again after a longer wait
                    log.info("slack: spooled delivery %s not handled yet (%s)", delivery, exc.__class__.__name__)
                    wait = next(waits, SPOOL_RETRY_SECONDS[-1])
                    break
                await self._unspool(delivery)
                log.info("slack: spooled delivery %s handled", delivery)
            else:
                waits = iter(SPOOL_RETRY_SECONDS)
                wait = next(waits)

    async def _unspool(self, delivery: str) -> None:
        assert self._spool is not None
        try:
            await self._spool.remove(delivery)
        except OSError as exc:
            # Left in the spool: handled again, it counts once (processed deliveries).
            log.warning("slack: handled delivery %s stays in the spool for now (%s)", delivery, exc.__class__.__name__)

    async def _retry_kept(self, kept: str, body: dict[str, Any]) -> None:
        """Slack will not send an acknowledged delivery again: retried here,
        with backoff, until handled or the transport stops (the next start
        then takes it up)."""
        for delay in KEPT_RETRY_SECONDS:
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
                return
            except asyncio.TimeoutError:
                pass
            try:
                await self._work(body, replay=True)
            except Exception as exc:  # noqa: BLE001 - tried again after a longer wait
                log.info("slack: kept delivery %s still not handled (%s)", kept, exc.__class__.__name__)
                continue
            await self._done(kept)
            return

    async def _done(self, kept: str) -> None:
        assert self._sessions is not None
        try:
            async with writing(self._sessions) as session:
                await pending.done(session, Platform.SLACK, kept)
        except Exception as exc:  # noqa: BLE001 - left kept: the next start skips it as processed
            log.warning("slack: handled delivery %s stays kept for now (%s)", kept, exc.__class__.__name__)

    async def _replay(self) -> None:
        """Handle what was kept and acknowledged by a process that then stopped
        (or died) before handling it. A delivery that did commit before is
        skipped by the engine's record of processed deliveries."""
        if self._sessions is None:
            return
        async with self._sessions() as session:
            kept = [(row.delivery_id, row.body) for row in await pending.waiting(session, Platform.SLACK)]
        for delivery, body in kept:
            try:
                await self._work(body, replay=True)
                async with writing(self._sessions) as session:
                    await pending.done(session, Platform.SLACK, delivery)
            except Exception as exc:  # noqa: BLE001 - the others still get their turn
                log.error("slack: kept delivery %s not handled (%s); tried again at the next start", delivery, exc.__class__.__name__)
                continue
            log.info("slack: kept delivery %s handled", delivery)

    async def _message(self, body: dict[str, Any]) -> None:
        event = body["event"]
        user, team = event["user"], body.get("team_id") or event.get("team", "")
        address = ChatAddress(Platform.SLACK, user, event["channel"], team)
        text = unescape_incoming(event.get("text") or "").strip()
        files = tuple(
            ReceivedFile(f.get("name") or f.get("title") or "file", f.get("mimetype"), f.get("size"), f["id"])
            for f in event.get("files", [])
        )
        if text.lower() in WORDS or _WITH_ARGUMENTS.fullmatch(text):
            text = "/" + text[0].lower() + text[1:]
        elif _START.fullmatch(text):
            text = "/start " + text.split(None, 1)[1]
        email = await self._email(user)
        await self._handle(IncomingMessage(address, delivery_id(body), text=text or None, files=files, email=email, locale=self._locales.get(user)))

    async def _home_opened(self, body: dict[str, Any]) -> None:
        """The person opened the bot's Home tab: published afresh (unless
        it was a moment ago), after the event is acknowledged."""
        event = body["event"]
        user, team = event["user"], body.get("team_id") or event.get("team", "")
        self.refresh_home(ChatAddress(Platform.SLACK, user, event.get("channel") or "", team))

    async def _action(self, body: dict[str, Any], *, replay: bool = False) -> None:
        value = body["actions"][0].get("value", "")
        user = body["user"]["id"]
        # A button on the Home tab comes with no channel (its container is the
        # view): what it answers goes to the person's DM.
        channel = (body.get("channel") or {}).get("id") or await self.open_dm(user)
        if value.startswith(MODAL_ACTION + ":"):
            # A replayed click is older than its trigger_id's 3 seconds.
            if not replay:
                await self._open_modal(body, channel, value.partition(":")[2])
            return
        if value.startswith(FORM_ACTION + ":"):
            opened = read_form_value(value)
            if opened is None:
                log.info("slack: a form button without its action; ignored")
                return
            form, language, action, title = opened
            if not replay:
                await self._open_update_form(body, channel, language, action, title, form)
            return
        address = ChatAddress(Platform.SLACK, user, channel, (body.get("team") or {}).get("id", ""))
        await self._handle(IncomingMessage(address, delivery_id(body), action=value, pressed=_pressed(body, channel)))

    async def _answer(self, body: dict[str, Any]) -> None:
        view = body["view"]
        if view.get("callback_id") == UPDATE_CALLBACK:
            await self._submitted_update(body)
            return
        values = [v for block in view["state"]["values"].values() for v in block.values()]
        value = values[0].get("value") if values else None
        text = value.strip() if isinstance(value, str) else ""
        channel = json.loads(view.get("private_metadata") or "{}").get("channel")
        user = body["user"]["id"]
        if not isinstance(channel, str) or not channel:
            channel = await self.open_dm(user)
        address = ChatAddress(Platform.SLACK, user, channel, (body.get("team") or {}).get("id", ""))
        if text:
            await self._handle(IncomingMessage(address, delivery_id(body), text=text))

    async def _command(self, command: dict[str, Any]) -> None:
        user = command["user_id"]
        words = (command.get("text") or "help").strip()
        address = ChatAddress(Platform.SLACK, user, await self.open_dm(user), command.get("team_id", ""))
        email = await self._email(user)
        await self._handle(IncomingMessage(address, delivery_id(command), text="/" + words, email=email, locale=self._locales.get(user)))

    async def _open_update_form(
        self, body: dict[str, Any], channel: str, language: str, action: str, title: str | None = None, form: str = "update",
    ) -> None:
        # The form names its item (by the button's title when it gives one: a
        # linked group's number is not what the person knows); the engine
        # checks, at submission, that it is the person's. An action's form
        # ("action") has no evidence links: its history keeps none.
        verb, _, rest = action.partition(":")
        item = rest.split(":")[0]
        statuses = [(s.value, t(f"status.{s.value}", language)) for s in ImplementationStatus]
        view = update_form(action, int(item) if verb == "upd" and item.isdigit() else None, channel, language, statuses, title, links=form != "action")
        await self.client.views_open(trigger_id=body["trigger_id"], view=view)

    async def _submitted_update(self, body: dict[str, Any]) -> None:
        view = body["view"]
        meta = json.loads(view.get("private_metadata") or "{}")
        action, channel, user = meta.get("action"), meta.get("channel"), body["user"]["id"]
        if not isinstance(action, str) or not action:
            log.info("slack: an update form without its action; ignored")
            return
        if not isinstance(channel, str) or not channel:
            channel = await self.open_dm(user)
        address = ChatAddress(Platform.SLACK, user, channel, (body.get("team") or {}).get("id", ""))
        await self._handle(IncomingMessage(address, delivery_id(body), action=action, form=form_values(view["state"]["values"])))

    async def _open_modal(self, body: dict[str, Any], channel: str, language: str) -> None:
        # The question is the message the button sits on.
        blocks = (body.get("message") or {}).get("blocks", [])
        sections = [str(b["text"].get("text", "")) for b in blocks if b.get("type") == "section" and isinstance(b.get("text"), dict)]
        question = ("\n".join(s for s in sections if s) or t("slack.modal_title", language))[:2000]
        await self.client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": MODAL_CALLBACK,
                "private_metadata": json.dumps({"channel": channel}),
                "title": {"type": "plain_text", "text": t("slack.modal_title", language)[:24]},
                "submit": {"type": "plain_text", "text": t("slack.modal_submit", language)[:24]},
                "close": {"type": "plain_text", "text": t("button.cancel", language)[:24]},
                "blocks": [{
                    "type": "input",
                    "block_id": "answer",
                    "label": {"type": "plain_text", "text": question},
                    "element": {"type": "plain_text_input", "action_id": "answer", "multiline": True, "max_length": MODAL_MAX_LENGTH},
                }],
            },
        )

    async def _email(self, user: str) -> str | None:
        """The member's workspace e-mail (scope users:read.email), once per
        process; and their locale, which users.info gives when asked."""
        if user not in self._emails:
            try:
                info = await self.client.users_info(user=user, include_locale=True)
                self._emails[user] = (info.get("user") or {}).get("profile", {}).get("email")
                self._locales[user] = (info.get("user") or {}).get("locale")
            except SlackApiError as exc:
                log.info("slack: no e-mail for %s: %s", user, api_error(exc))
                self._emails[user] = None
        return self._emails[user]

    # --- outbound --------------------------------------------------------------

    async def open_dm(self, user: str) -> str:
        if user not in self._dm_channels:
            opened = await self.client.conversations_open(users=user)
            self._dm_channels[user] = opened["channel"]["id"]
        return self._dm_channels[user]

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> Sent | None:
        try:
            channel = address.chat_id if address.chat_id.startswith("D") else await self.open_dm(address.user_id)
            if message.document is not None:
                # Slack's external upload (files.getUploadURLExternal, the
                # upload, files.completeUploadExternal), sharing the file in the DM.
                document = message.document
                await self.client.files_upload_v2(
                    channel=channel, file=document.path, filename=document.name, title=document.name,
                    initial_comment=escape_mrkdwn(message.text),
                )
                return None
            metadata = {"event_type": OUTBOX_EVENT, "event_payload": {"key": message.outbox_key}} if message.outbox_key else None
            posted = []
            for text, blocks in render(message):
                answer = await self.client.chat_postMessage(
                    channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False, metadata=metadata
                )
                posted.append(str(answer.get("ts") or ""))
            return Sent(tuple(posted))
        except SlackApiError as exc:
            error = api_error(exc)
            if error in _GONE:
                raise RecipientUnreachable(address, error) from exc
            if error in _MALFORMED:
                raise DeliveryRefused(f"slack: {error}") from exc
            raise DeliveryFailed(f"slack: {error}") from exc

    # --- the Home tab ----------------------------------------------------------

    def refresh_home(self, address: ChatAddress) -> None:
        """handlers.chat_port.HomeRefresher: the person's Home published
        soon, at most once every ``home_interval`` seconds; a change while one
        waits or is being published is taken by the next. Returns at once."""
        if self._sessions is None:
            return
        user = address.user_id
        task = self._home_tasks.get(user)
        if task is not None and not task.done():
            self._home_dirty.add(user)
            return
        self._home_tasks[user] = asyncio.ensure_future(self._home_loop(address))

    async def _home_loop(self, address: ChatAddress) -> None:
        user = address.user_id
        loop = asyncio.get_running_loop()
        retries = iter(self.home_retries)
        while True:
            wait = self._home_published.get(user, float("-inf")) + self.home_interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._home_dirty.discard(user)
            try:
                await self._publish_home(address)
                self._home_published[user] = loop.time()
                retries = iter(self.home_retries)
            except SlackApiError as exc:
                error = api_error(exc)
                if error in _HOME_REFUSED:
                    log.warning("slack: home of %s not published: %s", user, error)
                    self._home_published[user] = loop.time()
                elif (delay := next(retries, None)) is not None:
                    log.info("slack: home of %s not published (%s); again in %ss", user, error, delay)
                    self._home_dirty.add(user)
                    await asyncio.sleep(delay)
                else:
                    log.warning("slack: home of %s not published (%s); left for the next change", user, error)
            except Exception as exc:  # noqa: BLE001 - a Home is a courtesy: logged, tried again, never the turn's failure
                delay = next(retries, None)
                log.warning("slack: home of %s not published (%s)%s", user, exc.__class__.__name__, f"; again in {delay}s" if delay else "")
                if delay is None:
                    break
                self._home_dirty.add(user)
                await asyncio.sleep(delay)
            if user not in self._home_dirty:
                break
        if self._home_tasks.get(user) is asyncio.current_task():
            del self._home_tasks[user]

    async def _publish_home(self, address: ChatAddress) -> None:
        assert self._sessions is not None
        async with self._sessions() as session:
            home = await home_for(session, address, self._clock(), self._home_policy)
        await self.client.views_publish(user_id=address.user_id, view=render_home(home))

    async def settle(self, address: ChatAddress, pressed: PressedMessage, choice: str) -> None:
        """The message a step's button was clicked on, updated (chat.update) to
        show its text with the choice beneath and no buttons. Best effort:
        Slack's refusal (message_not_found, cant_update_message,
        edit_window_closed...) is logged, never raised."""
        text, blocks = settled(pressed.text, choice)
        if not blocks:
            return
        try:
            await self.client.chat_update(channel=pressed.chat_id, ts=pressed.message_id, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.debug("slack: message %s in %s not updated: %s", pressed.message_id, pressed.chat_id, api_error(exc))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.debug("slack: message %s in %s not updated: %s", pressed.message_id, pressed.chat_id, exc.__class__.__name__)

    async def delivered(self, address: ChatAddress, probe: DeliveryProbe) -> bool:
        """Whether a message from the outbox is in the person's DM: Slack keeps
        the metadata it was posted with (scope im:history reads it back)."""
        channel = address.chat_id if address.chat_id.startswith("D") else await self.open_dm(address.user_id)
        history = await self.client.conversations_history(channel=channel, include_all_metadata=True, limit=100)
        for posted in history.get("messages", []):
            meta = posted.get("metadata") or {}
            if meta.get("event_type") == OUTBOX_EVENT and (meta.get("event_payload") or {}).get("key") == probe.outbox_key:
                return True
        return False

    async def download(self, platform_file_id: str, into: Writer) -> str | None:
        """A file a person shared, into ``into``: files.info for its private
        URL, then that URL with the bot token (Slack answers a request
        without it with its sign-in page, not the file); the type Slack gives."""
        try:
            info = await self.client.files_info(file=platform_file_id)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            # Deleted, or never shared with the bot: it will not come back.
            raise DownloadFailed(f"files.info: {error or exc}", permanent=error in ("file_not_found", "file_deleted")) from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise DownloadFailed(f"files.info: {exc.__class__.__name__}") from None
        file = info.get("file") or {}
        size, mime = file.get("size"), file.get("mimetype")
        if isinstance(size, int) and size > into.limit:
            raise DownloadTooLarge(f"{size} bytes")
        url = file.get("url_private_download") or file.get("url_private")
        if not url:
            raise DownloadFailed("files.info gave no url_private", permanent=True)
        try:
            async with aiohttp.ClientSession() as http, http.get(url, headers={"Authorization": f"Bearer {self.client.token}"}) as answer:
                if answer.status != 200:
                    raise DownloadFailed(f"url_private answered HTTP {answer.status}", permanent=answer.status in (404, 410))
                if answer.content_type == "text/html" and mime != "text/html":
                    raise DownloadFailed("url_private answered with Slack's sign-in page: the bot token was not taken (files:read scope?)")
                async for piece in answer.content.iter_chunked(CHUNK):
                    into.write(piece)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise DownloadFailed(f"url_private: {exc.__class__.__name__}") from None
        return mime if isinstance(mime, str) else None

    async def lookup_by_email(self, email: str) -> str | None:
        """The member id for an e-mail, or None when nobody in the workspace has it."""
        try:
            found = await self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if api_error(exc) == "users_not_found":
                return None
            raise
        return str(found["user"]["id"])


def _pressed(body: dict[str, Any], channel: str) -> PressedMessage | None:
    """The bot's message a block_actions payload's button sits on (its
    container's ts), the clicked button's label and the message's text."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    ts = container.get("message_ts") or message.get("ts")
    if container.get("type", "message") != "message" or not ts or container.get("is_ephemeral"):
        return None
    label = ((body.get("actions") or [{}])[0].get("text") or {}).get("text", "")
    sections = [
        str(b["text"].get("text", "")) for b in message.get("blocks", [])
        if b.get("type") == "section" and isinstance(b.get("text"), dict)
    ]
    return PressedMessage(str(container.get("channel_id") or channel), str(ts), str(label), "\n".join(s for s in sections if s))


def _consumed(task: asyncio.Future[None]) -> None:
    # Its failure was answered already (by the spool); only read, so asyncio does not log it.
    if not task.cancelled():
        task.exception()


def _database_down(exc: BaseException) -> bool:
    return isinstance(exc, HandlingDeferred) or is_unavailable(exc)


def api_error(exc: SlackApiError) -> str:
    """The Web API's error code, or what came instead of the API's JSON: for
    an HTML error page or a cut-off body slack_sdk hands over the raw HTTP
    response, which has no error field to read."""
    response = exc.response
    error = response.get("error") if hasattr(response, "get") else None
    if error:
        return str(error)
    status = getattr(response, "status_code", None) or getattr(response, "status", "?")
    return f"HTTP {status} with no Web API answer"
