"""A local stand-in of Slack's Web API, Events API and Socket Mode.

Faithful where the bot depends on it:
- Web API at ``/api/<method>``: bearer or form token (``not_authed``,
  ``invalid_auth``), HTTP 200 with ``{"ok": false, "error"}`` for errors,
  HTTP 429 with ``Retry-After`` and ``ratelimited``; Block Kit limits checked
  as Slack checks them (``invalid_blocks``, ``msg_too_long``); on demand
  (``fail``), the raw HTML, empty or cut-off bodies of a Slack in trouble.
- Events API over HTTP: every request signed (``v0=`` HMAC-SHA256 over
  ``v0:timestamp:body``, the timestamp from ``clock``); a request not
  answered 200 within 3 seconds is retried, up to 3 times, with
  ``X-Slack-Retry-Num`` and ``X-Slack-Retry-Reason``.
- Socket Mode: ``apps.connections.open`` with the app-level token gives a
  ``ws://`` URL; the socket says ``hello``, sends envelopes, waits for the
  ``{"envelope_id"}`` ack and redelivers an unacknowledged events_api
  envelope with ``retry_attempt`` and ``retry_reason``, on the next
  connection if the app went away before acknowledging it.
- What people type arrives as Slack sends it: ``&``, ``<``, ``>`` escaped,
  links wrapped as ``<https://...>``.
- The Home tab: ``app_home_opened`` events (``user_opens_home``), presses on
  a published Home (``user_clicks_home``: a block_actions whose container is
  the view, with no channel), and ``views.publish`` as Slack answers it:
  ``not_enabled`` while the app's Home tab is off, ``invalid_arguments``
  with ``response_metadata.messages`` for a bad ``user_id`` or view type,
  ``invalid_blocks`` past Block Kit's limits (100 blocks a Home),
  ``view_too_large`` over 250 kB, ``hash_conflict`` for a stale ``hash``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
MAX_SECTION_TEXT = 3000
MAX_BUTTON_TEXT = 75
MAX_ACTIONS_ELEMENTS = 25
MAX_MESSAGE_TEXT = 40_000
MAX_HEADER_TEXT = 150
# views.publish refuses a view over 250 kB.
MAX_VIEW_BYTES = 250_000
# Slack accepts files up to 1 GB; the stand-in keeps uploads in memory.
MAX_UPLOAD_BYTES = 256 * 1024 * 1024
TRIGGER_LIFETIME = 3.0
_URL = re.compile(r"https?://[^\s<>]+")


class SlackError(Exception):
    def __init__(self, error: str, status: int = 200, retry_after: int | None = None, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error, self.status, self.retry_after, self.messages = error, status, retry_after, messages or []


def made_up_bytes(name: str, size: int) -> bytes:
    """``size`` bytes that differ from file to file."""
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def sign(secret: str, timestamp: str, body: str | bytes) -> str:
    """Slack's v0 signature: HMAC-SHA256 of ``v0:timestamp:body`` over the raw bytes."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_escape(text: str) -> str:
    """What a Slack client does to typed text: escape, then wrap links."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _URL.sub(lambda m: f"<{m.group(0)}>", escaped)


@dataclass
class SlackUser:
    id: str
    name: str
    email: str | None
    deleted: bool = False
    tz: str = "America/Montevideo"
    # What users.info says with include_locale=true ("ar-SA", "pt-BR"); None: nothing.
    locale: str | None = None


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None = None
    # Files shared with the message: each as files.info shows it, plus "data".
    files: list[dict[str, Any]] = field(default_factory=list)
    # Each chat.update the bot made, in order: the message as it was before it.
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def shown(self) -> str:
        """The text a person reads in the message body."""
        parts = []
        for block in self.blocks:
            if block.get("type") == "section":
                parts.append(_render(block["text"]))
            elif block.get("type") == "context":
                parts.extend(_render(e) for e in block.get("elements", []) if e.get("type") in ("plain_text", "mrkdwn"))
        return "\n".join(parts)

    @property
    def buttons(self) -> dict[str, dict[str, Any]]:
        """label -> button element."""
        return {
            e["text"]["text"]: e
            for b in self.blocks if b.get("type") == "actions"
            for e in b["elements"] if e.get("type") == "button"
        }


def _render(text: dict[str, Any]) -> str:
    if text["type"] == "plain_text":
        return str(text["text"])
    # mrkdwn: the three escapes undone; formatting is not simulated.
    return str(text["text"]).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass
class _Envelope:
    envelope_id: str
    kind: str
    payload: dict[str, Any]
    retry_attempt: int = 0
    retry_reason: str = ""
    acked: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class SlackStandIn:
    bot_token: str = "xoxb-1111-2222-standinbottoken"
    app_token: str = "xapp-1-A0NMRF-3333-standinapptoken"
    signing_secret: str = "standin-signing-secret"
    team_id: str = "T0NMRF"
    bot_user_id: str = "U0NMRFBOT"
    # HTTP mode: where Slack posts events, interactivity and slash commands.
    request_url: str | None = None
    # Unacknowledged deliveries are retried after this many seconds (Slack: 3).
    ack_timeout: float = TRIGGER_LIFETIME
    max_retries: int = 3
    # Seconds before retry 1, 2, 3. Slack waits about 0, 60 and 300; tests
    # compress that, and a restart test leaves the process time to come back.
    retry_delays: tuple[float, ...] = (0.0, 0.0, 0.0)
    # How long an event waits for the app to reconnect its socket.
    reconnect_wait: float = 30.0
    # Every Socket Mode ack counts as arrived after the timeout, whatever the
    # timing: Slack retries each event max_retries times (for tests of redelivery).
    acks_late: bool = False
    # Slack's clock, for request timestamps: a test's fake clock, so the
    # bot's five-minute window is checked against the same time.
    clock: Callable[[], float] = time.time
    users: dict[str, SlackUser] = field(default_factory=dict)
    posted: list[Posted] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    # The app's Home tab (App Home settings); views.publish says not_enabled while it is off.
    home_enabled: bool = True
    # user id -> every Home view published for them, in order (the last is what they see).
    homes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    # The bot's end of each TCP connection its Web API calls came over.
    api_connections: set[tuple[str, int]] = field(default_factory=set)
    # (kind, retry number, HTTP status or "ack"/"late ack"/"timeout") per delivery attempt.
    deliveries: list[tuple[str, int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._dm: dict[str, str] = {}
        self._triggers: dict[str, float] = {}
        self._throttles: dict[str, list[int]] = {}
        self._slow: dict[str, list[float]] = {}
        self._faults: dict[str, list[tuple[int, str, str]]] = {}
        self._refusals: dict[str, list[str]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._envelopes: dict[str, _Envelope] = {}
        self._redelivered: dict[str, int] = {}
        self._uploads: dict[str, dict[str, Any]] = {}
        # Files people shared, by id: what files.info and url_private serve.
        self.shared_files: dict[str, dict[str, Any]] = {}
        # url_private downloads: (file id, HTTP status, whether the bot token came with it).
        self.file_downloads: list[tuple[str, int, bool]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- running ---------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/v1/{ticket}", self._upload)
        app.router.add_get("/link/", self._socket)
        app.router.add_get("/files-pri/{team_file}/{rest:.+}", self._file_download)
        app.router.add_get("/signin", self._signin)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.api_url

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for socket in list(self._sockets):
            await socket.close()
        if self._runner:
            await self._runner.cleanup()

    @property
    def socket_connected(self) -> bool:
        return any(not s.closed for s in self._sockets)

    async def wait_for_socket(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not self.socket_connected:
            if time.monotonic() > deadline:
                raise TimeoutError("the bot never opened a Socket Mode connection")
            await asyncio.sleep(0.01)

    # --- simulated people -----------------------------------------------

    def add_user(self, user_id: str, name: str, email: str | None) -> SlackUser:
        self.users[user_id] = SlackUser(user_id, name, email)
        return self.users[user_id]

    def dm_channel(self, user_id: str) -> str:
        return self._dm.setdefault(user_id, "D" + user_id.removeprefix("U"))

    def user_writes(self, user_id: str, text: str, files: list[dict[str, Any]] | None = None) -> str:
        """A direct message to the bot; returns the event_id."""
        event: dict[str, Any] = {
            "type": "message",
            "channel": self.dm_channel(user_id),
            "user": user_id,
            "text": slack_escape(text),
            "ts": self._ts(),
            "team": self.team_id,
            "channel_type": "im",
            "event_ts": self._ts(),
        }
        if files:
            event["subtype"] = "file_share"
            event["files"] = files
        event_id = f"Ev{next(self._ids):08d}"
        payload = {
            "token": "verification-token-unused",
            "team_id": self.team_id,
            "api_app_id": "A0NMRF",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(self.clock()),
            "authorizations": [{"team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True}],
        }
        self._deliver("events_api", payload)
        return event_id

    def user_uploads(self, user_id: str, name: str, mimetype: str, size: int, text: str = "", data: bytes | None = None) -> str:
        """Share a file in the DM (``data`` its bytes; default ``size``
        made-up ones); the event carries the file as Slack's events do."""
        file_id = f"F{next(self._ids):08d}"
        data = data if data is not None else made_up_bytes(name, size)
        quoted = urllib.parse.quote(name)
        base = f"http://127.0.0.1:{self.port}/files-pri/{self.team_id}-{file_id}"
        file = {
            "id": file_id, "created": int(self.clock()), "timestamp": int(self.clock()), "name": name, "title": name,
            "mimetype": mimetype, "filetype": name.rsplit(".", 1)[-1], "user": user_id, "size": len(data),
            "url_private": f"{base}/{quoted}", "url_private_download": f"{base}/download/{quoted}",
            "is_public": False, "is_external": False,
        }
        self.shared_files[file_id] = {**file, "data": data, "failures": [], "gone": False}
        return self.user_writes(user_id, text, files=[file])

    def file_named(self, name: str) -> dict[str, Any]:
        return next(f for f in reversed(list(self.shared_files.values())) if f["name"] == name)

    def fail_download(self, file_id: str, times: int, status: int = 503) -> None:
        """url_private answers ``status`` the next ``times`` downloads."""
        self.shared_files[file_id]["failures"].extend([status] * times)

    def delete_file(self, file_id: str) -> None:
        """The person deleted the file: files.info says file_not_found, its URL 404."""
        self.shared_files[file_id]["gone"] = True

    def user_clicks(self, user_id: str, message: Posted, label: str) -> str:
        """Click a button the bot really posted, as the message shows it now
        (one chat.update took away cannot be clicked); returns the trigger_id."""
        current = self._posted(message.channel, message.ts)
        if current is None:
            raise AssertionError(f"no message {message.ts} in {message.channel}")
        message = current
        button = message.buttons.get(label)
        if button is None:
            raise AssertionError(f"no button {label!r} on {message.ts}: {list(message.buttons)}")
        trigger = self._trigger()
        payload = {
            "type": "block_actions",
            "user": {"id": user_id, "username": self.users[user_id].name, "team_id": self.team_id},
            "api_app_id": "A0NMRF",
            "team": {"id": self.team_id, "domain": "nmrf"},
            "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel, "is_ephemeral": False},
            "trigger_id": trigger,
            "channel": {"id": message.channel, "name": "directmessage"},
            "message": {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks, "user": self.bot_user_id},
            "actions": [{
                "type": "button", "action_id": button["action_id"], "block_id": "b", "value": button.get("value", ""),
                "text": button["text"], "action_ts": self._ts(),
            }],
        }
        self._deliver("interactive", payload)
        return trigger

    def user_opens_home(self, user_id: str, tab: str = "home") -> str:
        """The person opens the bot's Home tab (or, ``tab="messages"``, its
        Messages tab): Slack's app_home_opened event; returns the event_id."""
        event: dict[str, Any] = {
            "type": "app_home_opened", "user": user_id, "channel": self.dm_channel(user_id), "tab": tab,
            "event_ts": self._ts(),
        }
        current = (self.homes.get(user_id) or [None])[-1]
        if current is not None:
            # Slack sends the Home as last published, once there is one.
            event["view"] = {k: current[k] for k in ("id", "team_id", "type", "hash", "app_installed_team_id") if k in current}
        event_id = f"Ev{next(self._ids):08d}"
        self._deliver("events_api", {
            "token": "verification-token-unused", "team_id": self.team_id, "api_app_id": "A0NMRF", "event": event,
            "type": "event_callback", "event_id": event_id, "event_time": int(self.clock()),
            "authorizations": [{"team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True}],
        })
        return event_id

    def home_of(self, user_id: str) -> dict[str, Any]:
        views = self.homes.get(user_id)
        if not views:
            raise AssertionError(f"no Home published for {user_id}")
        return views[-1]

    async def wait_for_home(self, user_id: str, count: int, timeout: float = 10) -> dict[str, Any]:
        """The person's Home once ``count`` have been published for them."""
        deadline = time.monotonic() + timeout
        while len(self.homes.get(user_id, [])) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.homes.get(user_id, []))} Home views published for {user_id}, expected {count}")
            await asyncio.sleep(0.01)
        return self.homes[user_id][count - 1]

    def user_clicks_home(self, user_id: str, label: str, index: int = 0) -> str:
        """Press the ``index``-th button with this label on the person's
        Home, as published last: a block_actions from a view, which names
        no channel and no message. Returns the trigger_id."""
        view = self.home_of(user_id)
        found = [
            e for b in view["blocks"] if b.get("type") == "actions" for e in b["elements"]
            if e.get("type") == "button" and e["text"]["text"] == label
        ]
        if len(found) <= index:
            raise AssertionError(f"no button {label!r} on the Home of {user_id}")
        button = found[index]
        trigger = self._trigger()
        self._deliver("interactive", {
            "type": "block_actions",
            "user": {"id": user_id, "username": self.users[user_id].name, "team_id": self.team_id},
            "api_app_id": "A0NMRF",
            "team": {"id": self.team_id, "domain": "nmrf"},
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": trigger,
            "view": {k: view[k] for k in ("id", "team_id", "type", "blocks", "private_metadata", "callback_id", "state", "hash", "app_id", "bot_id")},
            "actions": [{
                "type": "button", "action_id": button["action_id"], "block_id": "b", "value": button.get("value", ""),
                "text": button["text"], "action_ts": self._ts(),
            }],
        })
        return trigger

    def user_submits(self, user_id: str, view: dict[str, Any], answer: str) -> None:
        """Type ``answer`` into the modal's text input and press its submit button."""
        block = next(b for b in view["blocks"] if b["type"] == "input")
        element = block["element"]
        if len(answer) > element.get("max_length", 3000):
            raise AssertionError("Slack would not let the person type that much")
        self._submit_view(user_id, view, {block["block_id"]: {element["action_id"]: {"type": "plain_text_input", "value": answer}}})

    def user_fills(self, user_id: str, view: dict[str, Any], values: dict[str, str]) -> None:
        """Fill a form's inputs (block_id -> what is typed, the option chosen,
        the date picked) and submit it, as Slack's client lets a person: a
        required input left empty or an option the menu lacks cannot be sent."""
        state: dict[str, dict[str, dict[str, Any]]] = {}
        for block in view["blocks"]:
            if block["type"] != "input":
                continue
            element, value = block["element"], values.get(block["block_id"])
            if value is None:
                if not block.get("optional"):
                    raise AssertionError(f"Slack would not submit the form without {block['block_id']}")
                continue
            kind = element["type"]
            if kind == "static_select":
                chosen = next((o for o in element["options"] if o["value"] == value or o["text"]["text"] == value), None)
                if chosen is None:
                    raise AssertionError(f"{value!r} is not an option of {block['block_id']}")
                entry: dict[str, Any] = {"type": kind, "selected_option": chosen}
            elif kind == "datepicker":
                entry = {"type": kind, "selected_date": value}
            else:
                if len(value) > element.get("max_length", 3000):
                    raise AssertionError("Slack would not let the person type that much")
                entry = {"type": kind, "value": value}
            state[block["block_id"]] = {element["action_id"]: entry}
        self._submit_view(user_id, view, state)

    def _submit_view(self, user_id: str, view: dict[str, Any], values: dict[str, dict[str, dict[str, Any]]]) -> None:
        """The view_submission Slack sends when a modal's submit is pressed, with its inputs' state."""
        self._deliver("interactive", {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "nmrf"},
            "user": {"id": user_id, "username": self.users[user_id].name, "team_id": self.team_id},
            "api_app_id": "A0NMRF",
            "trigger_id": self._trigger(),
            "view": {**view, "state": {"values": values}},
        })

    def user_runs(self, user_id: str, command: str, text: str) -> None:
        """A slash command, typed anywhere in the workspace."""
        payload = {
            "token": "verification-token-unused", "team_id": self.team_id, "team_domain": "nmrf",
            "channel_id": "C0GENERAL", "channel_name": "general", "user_id": user_id,
            "user_name": self.users[user_id].name, "command": command, "text": text,
            "api_app_id": "A0NMRF", "response_url": f"http://127.0.0.1:{self.port}/api/response",
            "trigger_id": self._trigger(),
        }
        self._deliver("slash_commands", payload)

    def sends(self, kind: str, payload: dict[str, Any]) -> None:
        """Deliver a payload as given (``events_api``, ``interactive``,
        ``slash_commands``), for shapes no simulated person produces."""
        self._deliver(kind, payload)

    def redeliver(self, delivery: str, reason: str = "http_timeout") -> None:
        """Deliver again what carried this event_id or trigger_id, as Slack
        does when it thinks the first delivery went unacknowledged."""
        for envelope in list(self._envelopes.values()):
            if delivery in (envelope.payload.get("event_id"), envelope.payload.get("trigger_id")):
                attempt = self._redelivered[delivery] = self._redelivered.get(delivery, 0) + 1
                self._spawn(self._send(envelope.kind, envelope.payload, attempt, reason))
                return
        raise KeyError(delivery)

    def throttle(self, method: str, times: int, retry_after: int = 1) -> None:
        self._throttles[method] = [retry_after] * times

    def refuse(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with ``{"ok": false,
        "error": error}`` (e.g. chat.update, "message_not_found")."""
        self._refusals.setdefault(method, []).extend([error] * times)

    def slow(self, method: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` are answered after ``seconds``."""
        self._slow[method] = [seconds] * times

    def fail(self, method: str, status: int, body: str, *, content_type: str = "text/html", times: int = 1) -> None:
        """Answer ``method`` with this raw body instead of the Web API's JSON,
        as Slack's edge does when it is in trouble (an HTML 502 or 503 page,
        an empty or cut-off body)."""
        self._faults[method] = [(status, body, content_type)] * times

    def messages_to(self, user_id: str) -> list[Posted]:
        channel = self.dm_channel(user_id)
        return [p for p in self.posted if p.channel == channel]

    async def wait_for_messages(self, user_id: str, count: int, timeout: float = 10) -> list[Posted]:
        deadline = time.monotonic() + timeout
        while len(self.messages_to(user_id)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{user_id} got {len(self.messages_to(user_id))} messages, expected {count}")
            await asyncio.sleep(0.01)
        return self.messages_to(user_id)

    async def settle(self) -> None:
        """Wait until every delivery so far was acknowledged or given up."""
        while any(not t.done() for t in self._tasks):
            await asyncio.sleep(0.01)

    # --- delivery ------------------------------------------------------------

    def _deliver(self, kind: str, payload: dict[str, Any]) -> None:
        self._spawn(self._send(kind, payload, 0, ""))

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, kind: str, payload: dict[str, Any], attempt: int, reason: str) -> None:
        """One delivery and, while unacknowledged, its retries. Interactivity
        and slash commands are not retried by Slack: the person sees an error."""
        while True:
            over_http = self.request_url is not None and not self.socket_connected
            failure = await (self._over_http if over_http else self._over_socket)(kind, payload, attempt, reason)
            if failure is None or kind != "events_api" or attempt >= self.max_retries:
                return
            attempt, reason = attempt + 1, failure
            delays = self.retry_delays
            await asyncio.sleep(delays[min(attempt, len(delays)) - 1] if delays else 0)

    async def _over_socket(self, kind: str, payload: dict[str, Any], attempt: int, reason: str) -> str | None:
        """None once acknowledged, else the reason the retry will give."""
        try:
            await self.wait_for_socket(self.reconnect_wait)
        except TimeoutError:
            self.deliveries.append((kind, attempt, "no connection"))
            return "timeout"
        envelope = _Envelope(f"env-{next(self._ids):06d}", kind, payload, attempt, reason)
        self._envelopes[envelope.envelope_id] = envelope
        message: dict[str, Any] = {
            "envelope_id": envelope.envelope_id, "payload": payload, "type": kind,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            message["retry_attempt"], message["retry_reason"] = attempt, reason
        socket = next((s for s in self._sockets if not s.closed), None)
        try:
            if socket is None:
                raise ConnectionResetError("the socket closed")
            await socket.send_str(json.dumps(message))
            await asyncio.wait_for(envelope.acked.wait(), self.ack_timeout)
        except (asyncio.TimeoutError, ConnectionError):
            self.deliveries.append((kind, attempt, "timeout"))
            return "timeout"
        if self.acks_late:
            self.deliveries.append((kind, attempt, "late ack"))
            return "timeout"
        self.deliveries.append((kind, attempt, "ack"))
        return None

    async def _over_http(self, kind: str, payload: dict[str, Any], attempt: int, reason: str) -> str | None:
        """None once answered 200, else Slack's retry reason for what went wrong."""
        if self.request_url is None:
            raise AssertionError("no Socket Mode connection and no request URL: nowhere to deliver")
        self._envelopes[f"http-{next(self._ids)}"] = _Envelope("", kind, payload, attempt, reason)
        if kind == "events_api":
            body, content_type = json.dumps(payload), "application/json"
        elif kind == "interactive":
            body, content_type = urllib.parse.urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        else:
            body, content_type = urllib.parse.urlencode(payload), "application/x-www-form-urlencoded"
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(self.signing_secret, timestamp, body),
        }
        if attempt:
            headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"] = str(attempt), reason
        try:
            async with aiohttp.ClientSession() as http:
                async with http.post(self.request_url, data=body.encode(), headers=headers, timeout=aiohttp.ClientTimeout(total=self.ack_timeout)) as response:
                    self.deliveries.append((kind, attempt, str(response.status)))
                    return None if response.status == 200 else "http_error"
        except asyncio.TimeoutError:
            self.deliveries.append((kind, attempt, "timeout"))
            return "http_timeout"
        except aiohttp.ClientError:
            self.deliveries.append((kind, attempt, "connection failed"))
            return "connection_failed"

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({
            "type": "hello", "num_connections": len(self._sockets),
            "debug_info": {"host": "applink-standin", "approximate_connection_time": 18060},
            "connection_info": {"app_id": "A0NMRF"},
        }))
        async for message in socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                ack = json.loads(message.data)
                envelope = self._envelopes.get(ack.get("envelope_id", ""))
                if envelope is not None:
                    envelope.acked.set()
        return socket

    # --- the Web API -------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append(method)
        if request.transport is not None and (peer := request.transport.get_extra_info("peername")):
            self.api_connections.add((str(peer[0]), int(peer[1])))
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update({k: str(v) for k, v in (await request.post()).items()})
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or params.get("token")
        fault = self._faults.get(method)
        if fault:
            status, text, content_type = fault.pop(0)
            return web.Response(status=status, text=text, content_type=content_type)
        try:
            pending = self._throttles.get(method)
            if pending:
                raise SlackError("ratelimited", 429, pending.pop(0))
            refusals = self._refusals.get(method)
            if refusals:
                raise SlackError(refusals.pop(0))
            delays = self._slow.get(method)
            if delays:
                await asyncio.sleep(delays.pop(0))
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            if handler is None:
                raise SlackError("unknown_method")
            wanted = self.app_token if method == "apps.connections.open" else self.bot_token
            if not token:
                raise SlackError("not_authed")
            if token != wanted:
                raise SlackError("not_allowed_token_type" if token in (self.app_token, self.bot_token) else "invalid_auth")
            result = await handler(params)
        except SlackError as exc:
            body: dict[str, Any] = {"ok": False, "error": exc.error}
            if exc.messages:
                body["response_metadata"] = {"messages": exc.messages}
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
            return web.json_response(body, status=exc.status, headers=headers)
        return web.json_response({"ok": True, **result})

    async def _m_files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        file = self.shared_files.get(str(params.get("file", "")))
        if file is None or file["gone"]:
            raise SlackError("file_not_found")
        return {"file": {k: v for k, v in file.items() if k not in ("data", "failures", "gone")}, "comments": [],
                "response_metadata": {"next_cursor": ""}}

    async def _file_download(self, request: web.Request) -> web.StreamResponse:
        """url_private(_download): the bytes with the bot token; without it,
        as Slack does, a redirect to the sign-in page (HTML, status 200)."""
        file_id = request.match_info["team_file"].rsplit("-", 1)[-1]
        file = self.shared_files.get(file_id)
        authorized = request.headers.get("Authorization", "") == f"Bearer {self.bot_token}"
        if not authorized:
            self.file_downloads.append((file_id, 302, False))
            raise web.HTTPFound(f"/signin?redir={urllib.parse.quote(request.path)}")
        if file is None or file["gone"]:
            self.file_downloads.append((file_id, 404, True))
            return web.Response(status=404, text="<html><body>File not found</body></html>", content_type="text/html")
        if file["failures"]:
            status = file["failures"].pop(0)
            self.file_downloads.append((file_id, status, True))
            return web.Response(status=status, text="<html><body>Service Unavailable</body></html>", content_type="text/html")
        self.file_downloads.append((file_id, 200, True))
        return web.Response(body=file["data"], content_type=file["mimetype"])

    async def _signin(self, _: web.Request) -> web.Response:
        return web.Response(text="<!DOCTYPE html><html><head><title>Sign in | Slack</title></head><body>Sign in to NMRF</body></html>",
                            content_type="text/html")

    async def _m_auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://nmrf.slack.com/", "team": "NMRF", "user": "nmrf-bot", "team_id": self.team_id,
                "user_id": self.bot_user_id, "bot_id": "B0NMRFBOT", "is_enterprise_install": False}

    async def _m_apps_connections_open(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self.port}/link/?ticket={next(self._ids)}&app_id=A0NMRF"}

    async def _m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("users", "")))
        if user is None:
            raise SlackError("user_not_found")
        if user.deleted:
            raise SlackError("user_disabled")
        return {"channel": {"id": self.dm_channel(user.id)}}

    async def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user", "")))
        if user is None:
            raise SlackError("user_not_found")
        shown = self._user(user)
        # As Slack: the locale only when asked for.
        if user.locale and str(params.get("include_locale", "")).lower() in ("true", "1"):
            shown["locale"] = user.locale
        return {"user": shown}

    async def _m_users_lookupByEmail(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email", "")).lower()
        for user in self.users.values():
            if user.email and user.email.lower() == email and not user.deleted:
                return {"user": self._user(user)}
        raise SlackError("users_not_found")

    async def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = str(params.get("filename") or ""), str(params.get("length") or "")
        if not filename or not length.isdigit() or int(length) == 0:
            raise SlackError("invalid_arguments", messages=["[ERROR] filename and a positive length are required"])
        file_id = f"F{next(self._ids):09d}"
        ticket = f"{file_id}-{next(self._ids)}"
        self._uploads[ticket] = {"id": file_id, "name": filename, "length": int(length), "data": None}
        return {"upload_url": f"http://127.0.0.1:{self.port}/upload/v1/{ticket}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        """Step two: the bytes, posted raw (or as a form) to the URL given."""
        upload = self._uploads.get(request.match_info["ticket"])
        if upload is None:
            return web.Response(status=404, text="upload not found")
        if request.content_type == "multipart/form-data":
            form = await request.post()
            field_ = next(v for v in form.values() if isinstance(v, web.FileField))
            data = field_.file.read()
        else:
            data = await request.read()
        upload["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("files")
        wanted = json.loads(wanted) if isinstance(wanted, str) else wanted
        if not wanted:
            raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: files"])
        by_id = {u["id"]: u for u in self._uploads.values()}
        shared = []
        for item in wanted:
            upload = by_id.get(item.get("id"))
            if upload is None or upload["data"] is None:
                raise SlackError("file_not_found")
            if len(upload["data"]) != upload["length"]:
                raise SlackError("file_upload_size_mismatch")
            shared.append({"id": upload["id"], "name": upload["name"], "title": item.get("title") or upload["name"], "size": upload["length"], "data": upload["data"]})
        channel = params.get("channel_id")
        if channel:
            owner = next((u for u, c in self._dm.items() if c == channel), None)
            if owner is None:
                raise SlackError("channel_not_found")
            self.posted.append(Posted(channel, self._ts(), str(params.get("initial_comment") or ""), [], files=shared))
        return {"files": [{k: v for k, v in f.items() if k != "data"} for f in shared]}

    async def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        owner = next((u for u, c in self._dm.items() if c == channel), None)
        if owner is None:
            raise SlackError("channel_not_found")
        if self.users[owner].deleted:
            raise SlackError("account_inactive")
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        text = str(params.get("text") or "")
        if not text and not blocks:
            raise SlackError("no_text")
        if len(text) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        if blocks:
            _check_blocks(blocks, MAX_BLOCKS_MESSAGE)
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if metadata is not None and not (isinstance(metadata, dict) and metadata.get("event_type") and isinstance(metadata.get("event_payload"), dict)):
            raise SlackError("invalid_metadata_format")
        ts = self._ts()
        self.posted.append(Posted(channel, ts, text, blocks or [], metadata))
        return {"channel": channel, "ts": ts, "message": {"type": "message", "user": self.bot_user_id, "text": text, "blocks": blocks or [], "ts": ts, "bot_id": "B0NMRFBOT"}}

    def _posted(self, channel: str, ts: str) -> Posted | None:
        return next((p for p in self.posted if (p.channel, p.ts) == (channel, ts)), None)

    async def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.update: ``blocks`` replace the message's blocks ([] removes
        them); left out, they are kept only when no ``text`` is given either."""
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        if channel not in self._dm.values():
            raise SlackError("channel_not_found")
        posted = self._posted(channel, ts)
        if posted is None:
            raise SlackError("message_not_found")
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        text = params.get("text")
        if not text and blocks is None:
            raise SlackError("no_text")
        if text is not None and len(str(text)) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        if blocks:
            _check_blocks(blocks, MAX_BLOCKS_MESSAGE)
        posted.edits.append({"text": posted.text, "blocks": posted.blocks})
        if text is not None:
            posted.text = str(text)
        if blocks is not None:
            posted.blocks = blocks
        elif text is not None:
            posted.blocks = []
        message = {"type": "message", "user": self.bot_user_id, "text": posted.text, "blocks": posted.blocks, "ts": ts, "bot_id": "B0NMRFBOT",
                   "edited": {"user": self.bot_user_id, "ts": self._ts()}}
        return {"channel": channel, "ts": ts, "text": posted.text, "message": message}

    async def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel not in self._dm.values():
            raise SlackError("channel_not_found")
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("true", "1")
        limit = int(params.get("limit", 100))
        messages = []
        for p in reversed([p for p in self.posted if p.channel == channel]):  # newest first
            message: dict[str, Any] = {"type": "message", "user": self.bot_user_id, "bot_id": "B0NMRFBOT", "text": p.text, "ts": p.ts}
            if with_metadata and p.metadata:
                message["metadata"] = p.metadata
            messages.append(message)
        return {"messages": messages[:limit], "has_more": len(messages) > limit}

    async def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger = str(params.get("trigger_id", ""))
        issued = self._triggers.pop(trigger, None)
        if issued is None:
            raise SlackError("invalid_trigger_id")
        if time.monotonic() - issued > TRIGGER_LIFETIME:
            raise SlackError("expired_trigger_id")
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise SlackError("invalid_arguments", messages=["[ERROR] must be a modal view [json-pointer:/view/type]"])
        for key in ("title", "submit", "close"):
            if key in view and len(view[key]["text"]) > 24:
                raise SlackError("invalid_arguments", messages=[f"[ERROR] must be less than 25 characters [json-pointer:/view/{key}/text]"])
        _check_blocks(view.get("blocks", []), MAX_BLOCKS_VIEW)
        opened = {**view, "id": f"V{next(self._ids):08d}", "team_id": self.team_id, "hash": f"{time.time():.6f}", "state": {"values": {}}}
        self.views.append(opened)
        return {"view": opened}

    async def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user_id") or "")
        if not user_id:
            raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: user_id"])
        user = self.users.get(user_id)
        if user is None:
            raise SlackError("invalid_arguments", messages=["invalid `user_id`"])
        if user.deleted:
            raise SlackError("account_inactive")
        raw = params.get("view")
        if raw is None:
            raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: view"])
        try:
            view = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            raise SlackError("invalid_arguments", messages=["[ERROR] failed to parse view [json-pointer:/view]"]) from None
        if not isinstance(view, dict) or view.get("type") != "home":
            raise SlackError("invalid_arguments", messages=["[ERROR] must be a valid enum value [json-pointer:/view/type]"])
        if not self.home_enabled:
            raise SlackError("not_enabled")
        if len(json.dumps(view).encode()) > MAX_VIEW_BYTES:
            raise SlackError("view_too_large")
        for key in ("submit", "close"):
            if key in view:
                raise SlackError("invalid_arguments", messages=[f"[ERROR] a home view takes no {key} [json-pointer:/view/{key}]"])
        blocks = view.get("blocks")
        if not isinstance(blocks, list):
            raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: blocks [json-pointer:/view/blocks]"])
        _check_blocks(blocks, MAX_BLOCKS_VIEW)
        current = (self.homes.get(user_id) or [None])[-1]
        wanted_hash = params.get("hash")
        if wanted_hash and current is not None and wanted_hash != current["hash"]:
            raise SlackError("hash_conflict")
        published = {
            **view, "id": current["id"] if current else f"V{next(self._ids):08d}", "team_id": self.team_id,
            "app_installed_team_id": self.team_id, "hash": f"{time.time():.6f}.{next(self._ids)}", "state": {"values": {}},
            "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
            "app_id": "A0NMRF", "bot_id": "B0NMRFBOT", "root_view_id": None, "previous_view_id": None,
        }
        published["root_view_id"] = published["id"]
        self.homes.setdefault(user_id, []).append(published)
        return {"view": published}

    # --- shapes ------------------------------------------------------------------

    def _user(self, user: SlackUser) -> dict[str, Any]:
        return {
            "id": user.id, "team_id": self.team_id, "name": user.name, "deleted": user.deleted, "real_name": user.name,
            "tz": user.tz, "is_bot": False,
            "profile": {"real_name": user.name, "display_name": user.name, **({"email": user.email} if user.email else {})},
        }

    def _ts(self) -> str:
        return f"{time.time():.6f}"[:-6] + f"{next(self._ids):06d}"

    def _trigger(self) -> str:
        trigger = f"{next(self._ids)}.{self.team_id}.{hashlib.sha1(str(time.time()).encode()).hexdigest()[:16]}"
        self._triggers[trigger] = time.monotonic()
        return trigger


def _check_blocks(blocks: list[dict[str, Any]], limit: int) -> None:
    if len(blocks) > limit:
        raise SlackError("invalid_blocks", messages=[f"[ERROR] no more than {limit} items allowed [json-pointer:/blocks]"])
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"/blocks/{i}"
        if "block_id" in block:
            if block["block_id"] in block_ids or len(block["block_id"]) > 255:
                raise SlackError("invalid_blocks", messages=[f"[ERROR] duplicate or too long block_id [json-pointer:{where}/block_id]"])
            block_ids.add(block["block_id"])
        kind = block.get("type")
        if kind == "section":
            text = block.get("text", {})
            if text.get("type") not in ("plain_text", "mrkdwn") or not 1 <= len(text.get("text", "")) <= MAX_SECTION_TEXT:
                raise SlackError("invalid_blocks", messages=[f"[ERROR] must be between 1 and {MAX_SECTION_TEXT} characters [json-pointer:{where}/text/text]"])
        elif kind == "actions":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= MAX_ACTIONS_ELEMENTS:
                raise SlackError("invalid_blocks", messages=[f"[ERROR] no more than {MAX_ACTIONS_ELEMENTS} items allowed [json-pointer:{where}/elements]"])
            action_ids = [e.get("action_id") for e in elements]
            if len(set(action_ids)) != len(action_ids):
                raise SlackError("invalid_blocks", messages=[f"[ERROR] action_id must be unique [json-pointer:{where}/elements]"])
            for j, element in enumerate(elements):
                label = element.get("text", {}).get("text", "")
                if not 1 <= len(label) <= MAX_BUTTON_TEXT or len(element.get("value", "")) > 2000:
                    raise SlackError("invalid_blocks", messages=[f"[ERROR] must be less than {MAX_BUTTON_TEXT + 1} characters [json-pointer:{where}/elements/{j}/text/text]"])
        elif kind == "input":
            if len(block.get("label", {}).get("text", "")) > 2000 or block.get("element", {}).get("max_length", 0) > 3000:
                raise SlackError("invalid_blocks", messages=[f"[ERROR] input too large [json-pointer:{where}]"])
            element = block.get("element", {})
            if element.get("type") not in ("plain_text_input", "static_select", "datepicker"):
                raise SlackError("invalid_blocks", messages=[f"[ERROR] unsupported element type [json-pointer:{where}/element/type]"])
            if element["type"] == "static_select":
                options = element.get("options", [])
                if not 1 <= len(options) <= 100 or any(not 1 <= len(o.get("text", {}).get("text", "")) <= 75 for o in options):
                    raise SlackError("invalid_blocks", messages=[f"[ERROR] options must be 1 to 100, each text up to 75 characters [json-pointer:{where}/element/options]"])
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 10 or any(e.get("type") in ("plain_text", "mrkdwn") and not 1 <= len(e.get("text", "")) <= MAX_SECTION_TEXT for e in elements):
                raise SlackError("invalid_blocks", messages=[f"[ERROR] context needs 1 to 10 elements, each text 1 to {MAX_SECTION_TEXT} characters [json-pointer:{where}/elements]"])
        elif kind == "header":
            text = block.get("text", {})
            if text.get("type") != "plain_text" or not 1 <= len(text.get("text", "")) <= MAX_HEADER_TEXT:
                raise SlackError("invalid_blocks", messages=[f"[ERROR] must be between 1 and {MAX_HEADER_TEXT} characters [json-pointer:{where}/text/text]"])
        elif kind != "divider":
            raise SlackError("invalid_blocks", messages=[f"[ERROR] unsupported type [json-pointer:{where}/type]"])
