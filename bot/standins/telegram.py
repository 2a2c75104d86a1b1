"""A local stand-in of the Telegram Bot API, for the tests and the demo.

It speaks the published protocol on 127.0.0.1 so that the real
python-telegram-bot runs against it unchanged: ``/bot<token>/<method>`` with
query-string, form-urlencoded, multipart or JSON parameters; results wrapped
in ``{"ok": true, "result": ...}``; errors as ``{"ok": false, "error_code",
"description", "parameters": {"retry_after"}}``; ``getUpdates`` with
offset / limit / timeout semantics; webhooks with the secret-token header and
redelivery until the bot answers 2xx. Every object it returns is parsed by
python-telegram-bot's own ``de_json`` first, and a field the library does not
know is a bug of the stand-in, so it can never teach the bot a wrong shape.

People are simulated: ``user_sends``, ``user_presses``, ``user_sends_document``
queue the updates a real user's client would cause.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import itertools
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from telegram import File, Message, TelegramObject, Update, User, WebhookInfo

from bot.standins.telegram_html import EntityError, parse_html, utf16_length

log = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
# What a bot may upload (Bot API, "Sending files").
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_CALLBACK_DATA_BYTES = 64
# What a bot may download: "bots can download files of up to 20MB in size" (getFile).
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _checked(cls: type[TelegramObject], data: dict[str, Any]) -> dict[str, Any]:
    """Parse with the library, refuse what it would not recognise."""
    parsed = cls.de_json(data, None)  # type: ignore[arg-type]
    if parsed is None or parsed.api_kwargs:
        raise AssertionError(f"stand-in bug: {cls.__name__} fields unknown to python-telegram-bot: {parsed and parsed.api_kwargs}")
    return data


@dataclass
class SentMessage:
    chat_id: int
    message_id: int
    text: str
    raw_text: str
    parse_mode: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    # A file the bot sent: file_name, mime_type, size and the bytes, as uploaded.
    document: dict[str, Any] | None = None
    # Each edit the bot made (editMessageText / editMessageReplyMarkup), in order:
    # the message as it was shown before it.
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def callback_data(self) -> list[str]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button["callback_data"] for row in rows for button in row if "callback_data" in button]

    def button(self, label: str) -> str:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        for row in rows:
            for button in row:
                if button["text"] == label:
                    return str(button["callback_data"])
        raise KeyError(f"no button {label!r} on message {self.message_id}")


@dataclass
class SentFile:
    """A file a simulated person sent: what Telegram keeps of it."""

    file_id: str
    unique_id: str
    name: str
    mime_type: str
    size: int
    # None: too large to be given to a bot.
    data: bytes | None
    # Statuses the file URL answers first (a test's temporary failures).
    failures: list[int] = field(default_factory=list)
    gone: bool = False


def made_up_bytes(name: str, size: int) -> bytes:
    """``size`` bytes that differ from file to file."""
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


@dataclass
class SimulatedUser:
    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None
    started: bool = False
    blocked: bool = False

    def as_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass
class _Throttle:
    method: str
    remaining: int
    retry_after: int


@dataclass
class TelegramStandIn:
    token: str
    bot_username: str = "nmrf_test_bot"
    bot_id: int = 7000001
    # Not yet answered webhooks are retried after this many seconds.
    webhook_retry_seconds: float = 0.2
    # Telegram's broadcast limits, enforced with 429 when set: messages a
    # second in all, and a second to one chat.
    max_per_second: float | None = None
    max_per_chat_per_second: float | None = None
    # A 429 storm: this share of sendMessage calls refused at random.
    refuse_fraction: float = 0.0
    # A flaky network: this share of calls to these methods has its connection
    # dropped before Telegram reads the request (nothing is done, no answer).
    drop_fraction: float = 0.0
    drop_methods: tuple[str, ...] = ("sendmessage", "getupdates")
    seed: int = 7
    users: dict[int, SimulatedUser] = field(default_factory=dict)
    sent: list[SentMessage] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    answered_callbacks: list[str] = field(default_factory=list)
    webhook_deliveries: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._pending: list[dict[str, Any]] = []
        # Confirmed updates, kept so a test can have one delivered again.
        self._delivered: list[dict[str, Any]] = []
        self._in_flight: set[int] = set()
        self._update_ids = itertools.count(500_000)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._new_update = asyncio.Event()
        self._open_queries: set[str] = set()
        self._throttles: list[_Throttle] = []
        # Errors given for the next calls of a method: method -> [(code, description)].
        self._failures: dict[str, list[tuple[int, str]]] = {}
        self._webhook: dict[str, Any] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._poller: asyncio.Event | None = None
        self._recent: collections.deque[float] = collections.deque()
        self._last_to_chat: dict[int, float] = {}
        self._random = random.Random(self.seed)
        self.refused = 0
        self.dropped = 0
        # Every message of every chat by (chat, message id): what forwardMessage reads.
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        # Channels the bot administers: chat id -> title, and the posts in each.
        self.channels: dict[int, str] = {}
        # The menus the bot set: "default", or "chat:<id>" -> command names.
        self.command_menus: dict[str, list[str]] = {}
        # The same menus' descriptions, by the same keys ("default", "default:fr").
        self.command_descriptions: dict[str, list[str]] = {}
        self.channel_posts: dict[int, dict[int, dict[str, Any]]] = {}
        # Files people sent, by file_id: what getFile and the file URL serve.
        self.files: dict[str, SentFile] = {}
        # file_path -> file_id, as getFile gave them out.
        self._file_paths: dict[str, str] = {}
        # Downloads of the file URL: (file_path, HTTP status).
        self.downloads: list[tuple[str, int]] = []
        self.port = 0

    # --- running ---------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        # Room for a 50 MB upload and a little over, so too large is Telegram's 413.
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file_download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    @property
    def base_url(self) -> str:
        """What to give python-telegram-bot as ``base_url`` (the token follows)."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def stop(self) -> None:
        if self._webhook_task:
            self._webhook_task.cancel()
        if self._runner:
            await self._runner.cleanup()

    @property
    def webhook_url(self) -> str | None:
        """Where updates are delivered, once the bot has set a webhook."""
        return str(self._webhook["url"]) if self._webhook else None

    # --- simulated people -----------------------------------------------

    def add_user(self, user_id: int, first_name: str, username: str | None = None, language_code: str | None = None) -> SimulatedUser:
        self.users[user_id] = SimulatedUser(user_id, first_name, username, language_code)
        return self.users[user_id]

    def user_sends(self, user_id: int, text: str) -> int:
        user = self.users[user_id]
        # A person can only write to a bot they have started (the client's Start button).
        user.started = True
        message = self._incoming_message(user)
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]
        return self._queue({"message": message})

    def user_sends_document(
        self, user_id: int, file_name: str, mime_type: str, size: int, caption: str | None = None, data: bytes | None = None,
    ) -> int:
        """A document as a client sends it; ``data`` its bytes (default: ``size``
        made-up bytes), which getFile and the file URL then give the bot."""
        message = self._incoming_message(self.users[user_id])
        file_id = f"BQACAgQAAxkBAAI{next(self._update_ids)}"
        unique_id = f"AgAD{next(self._update_ids)}"
        if data is None and size <= MAX_DOWNLOAD_BYTES:
            data = made_up_bytes(file_name, size)
        self.files[file_id] = SentFile(file_id, unique_id, file_name, mime_type, size, data)
        message["document"] = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": size,
        }
        if caption:
            message["caption"] = caption
        return self._queue({"message": message})

    def user_presses(self, user_id: int, message: SentMessage, callback_data: str) -> int:
        """Press a button the bot really sent, as the message shows it now: a
        made-up one, or one the bot has since edited away, cannot be pressed."""
        current = self._sent_message(message.chat_id, message.message_id)
        if current is None:
            raise AssertionError(f"message {message.message_id} to {message.chat_id} is not in the chat (deleted?)")
        message = current
        if message.chat_id != user_id or callback_data not in message.callback_data:
            raise AssertionError(f"message {message.message_id} to {message.chat_id} has no button {callback_data!r}")
        query_id = str(next(self._update_ids) * 1000 + user_id % 1000)
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": self.users[user_id].as_dict(),
            "chat_instance": str(-user_id),
            "data": callback_data,
            "message": {
                "message_id": message.message_id,
                "date": int(time.time()),
                "chat": self._chat(self.users[user_id]),
                "from": self._bot_user(),
                "text": message.text,
                **({"reply_markup": message.reply_markup} if message.reply_markup else {}),
            },
        }
        return self._queue({"callback_query": query})

    def file_named(self, name: str) -> SentFile:
        return next(f for f in reversed(list(self.files.values())) if f.name == name)

    def fail_download(self, file_id: str, times: int, status: int = 502) -> None:
        """The file URL answers ``status`` the next ``times`` downloads (a Bot API server in trouble)."""
        self.files[file_id].failures.extend([status] * times)

    def forget_file(self, file_id: str) -> None:
        """The file is no longer on Telegram's servers: getFile refuses it."""
        self.files[file_id].gone = True

    def block(self, user_id: int) -> None:
        self.users[user_id].blocked = True

    def redeliver(self, update_id: int) -> None:
        """Deliver an update again, as Telegram does when it never saw it confirmed."""
        for update in self._delivered:
            if update["update_id"] == update_id:
                self._pending.append(update)
                self._pending.sort(key=lambda u: u["update_id"])
                self._new_update.set()
                return
        raise KeyError(f"update {update_id} was never delivered")

    def fail(self, method: str, description: str, times: int = 1, code: int = 400) -> None:
        """Answer the next ``times`` calls of ``method`` with this error, as
        Telegram does (e.g. editMessageText, "Bad Request: message to edit not found")."""
        self._failures.setdefault(method.lower(), []).extend([(code, description)] * times)

    def throttle(self, method: str, times: int, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 Too Many Requests."""
        self._throttles.append(_Throttle(method.lower(), times, retry_after))

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 10) -> list[SentMessage]:
        """Block until ``count`` messages reached ``chat_id`` in all."""
        deadline = time.monotonic() + timeout
        while len(self.messages_to(chat_id)) < count:
            if time.monotonic() > deadline:
                got = [m.text[:60] for m in self.messages_to(chat_id)]
                raise TimeoutError(f"{chat_id} got {len(got)} messages, expected {count}: {got}")
            await asyncio.sleep(0.01)
        return self.messages_to(chat_id)

    async def wait_until_confirmed(self, timeout: float = 10) -> None:
        """Block until the bot has taken (and confirmed) every queued update."""
        deadline = time.monotonic() + timeout
        while self._pending or self._in_flight:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self._pending)} updates still pending")
            await asyncio.sleep(0.01)

    # --- the API -----------------------------------------------------------

    def _queue(self, content: dict[str, Any]) -> int:
        update = _checked(Update, {"update_id": next(self._update_ids), **content})
        self._pending.append(update)
        self._new_update.set()
        if self._webhook:
            self._kick_webhook()
        return int(update["update_id"])

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"].lower()
        self.calls.append(method)
        if self.drop_fraction and method in self.drop_methods and self._random.random() < self.drop_fraction:
            self.dropped += 1
            if request.transport is not None:
                request.transport.abort()
            # The client sees its connection reset; aiohttp discards this.
            return web.Response(status=499)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            params = await _parameters(request)
            for throttle in self._throttles:
                if throttle.method == method and throttle.remaining > 0:
                    throttle.remaining -= 1
                    raise ApiError(429, f"Too Many Requests: retry after {throttle.retry_after}", throttle.retry_after)
            failures = self._failures.get(method)
            if failures:
                raise ApiError(*failures.pop(0))
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params)
        except ApiError as exc:
            return web.json_response(exc.body(), status=exc.code)
        return web.json_response({"ok": True, "result": result})

    async def _m_getfile(self, params: dict[str, Any]) -> dict[str, Any]:
        file = self.files.get(str(params.get("file_id", "")))
        if file is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if file.gone:
            raise ApiError(400, "Bad Request: wrong file_id or the file is temporarily unavailable")
        if file.size > MAX_DOWNLOAD_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        suffix = file.name.rsplit(".", 1)[-1] if "." in file.name else ""
        path = f"documents/file_{len(self._file_paths)}" + (f".{suffix}" if suffix else "")
        self._file_paths[path] = file.file_id
        return _checked(File, {"file_id": file.file_id, "file_unique_id": file.unique_id, "file_size": file.size, "file_path": path})

    async def _file_download(self, request: web.Request) -> web.StreamResponse:
        """``/file/bot<token>/<file_path>``: the file's bytes, or Telegram's 404."""
        path = request.match_info["path"]
        file = self.files.get(self._file_paths.get(path, "")) if request.match_info["token"] == self.token else None
        if file is None or file.gone or file.data is None:
            self.downloads.append((path, 404))
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        if file.failures:
            status = file.failures.pop(0)
            self.downloads.append((path, status))
            return web.Response(status=status, text="Bad Gateway", content_type="text/html")
        self.downloads.append((path, 200))
        return web.Response(body=file.data, content_type="application/octet-stream")

    async def _m_getme(self, _: dict[str, Any]) -> dict[str, Any]:
        me = {**self._bot_user(), "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
        return _checked(User, me)

    async def _m_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self._webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        offset = _int(params, "offset", 0)
        limit = _int(params, "limit", 100)
        timeout = _int(params, "timeout", 0)
        if not 1 <= limit <= 100:
            limit = 100
        # A newer getUpdates ends the one still waiting, as Telegram does.
        if self._poller is not None:
            self._poller.set()
        me = self._poller = asyncio.Event()
        self._confirm(offset)
        deadline = time.monotonic() + timeout
        while not self._pending and time.monotonic() < deadline:
            self._new_update.clear()
            waiter = asyncio.ensure_future(self._new_update.wait())
            ender = asyncio.ensure_future(me.wait())
            await asyncio.wait({waiter, ender}, timeout=deadline - time.monotonic(), return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            ender.cancel()
            if me.is_set():
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
        if self._poller is me:
            self._poller = None
        batch = self._pending[:limit]
        self._in_flight.update(u["update_id"] for u in batch)
        return batch

    def _confirm(self, offset: int) -> None:
        """Updates below ``offset`` are confirmed and forgotten; a negative
        offset keeps only the last ``-offset`` ones."""
        if offset < 0:
            dropped, self._pending = self._pending[:offset], self._pending[offset:]
        else:
            dropped = [u for u in self._pending if u["update_id"] < offset]
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        self._delivered.extend(dropped)
        self._in_flight.difference_update(u["update_id"] for u in dropped)

    async def _m_setwebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url", ""))
        if not url:
            self._webhook = None
            return True
        if not url.startswith(("http://127.0.0.1", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (1 <= len(str(secret)) <= 256 and all(c.isalnum() or c in "_-" for c in str(secret))):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if _flag(params, "drop_pending_updates"):
            self._pending.clear()
        max_connections = _int(params, "max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise ApiError(400, "Bad Request: max_connections must be between 1 and 100")
        self._webhook = {"url": url, "secret_token": secret, "max_connections": max_connections}
        self._kick_webhook()
        return True

    async def _m_deletewebhook(self, params: dict[str, Any]) -> bool:
        self._webhook = None
        if _flag(params, "drop_pending_updates"):
            self._pending.clear()
        return True

    async def _m_getwebhookinfo(self, _: dict[str, Any]) -> dict[str, Any]:
        info = {"url": self._webhook["url"] if self._webhook else "", "has_custom_certificate": False, "pending_update_count": len(self._pending)}
        return _checked(WebhookInfo, info)

    async def _m_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(isinstance(c, dict) and c.get("command") and c.get("description") for c in commands):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        scope = params.get("scope") or {"type": "default"}
        if scope.get("type") == "chat":
            if _int(scope, "chat_id", 0) not in self.users:
                raise ApiError(400, "Bad Request: chat not found")
            self.command_menus[f"chat:{scope['chat_id']}"] = [c["command"] for c in commands]
            self.command_descriptions[f"chat:{scope['chat_id']}"] = [c["description"] for c in commands]
        else:
            # A menu for the apps set to one language (language_code) is kept apart from the default.
            key = str(scope.get("type")) + (f":{params['language_code']}" if params.get("language_code") else "")
            self.command_menus[key] = [c["command"] for c in commands]
            self.command_descriptions[key] = [c["description"] for c in commands]
        return True

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_queries:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._open_queries.discard(query_id)
        self.answered_callbacks.append(query_id)
        return True

    def _enforce_limits(self, chat_id: int) -> None:
        now = time.monotonic()
        if self.refuse_fraction and self._random.random() < self.refuse_fraction:
            self.refused += 1
            raise ApiError(429, "Too Many Requests: retry after 1", 1)
        if self.max_per_second is not None:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.max_per_second:
                self.refused += 1
                raise ApiError(429, "Too Many Requests: retry after 1", 1)
        if self.max_per_chat_per_second is not None:
            last = self._last_to_chat.get(chat_id)
            if last is not None and now - last < 1.0 / self.max_per_chat_per_second:
                self.refused += 1
                raise ApiError(429, "Too Many Requests: retry after 1", 1)
        self._recent.append(now)
        self._last_to_chat[chat_id] = now

    def _recipient(self, params: dict[str, Any]) -> SimulatedUser:
        user = self.users.get(_int(params, "chat_id", 0))
        if user is None:
            raise ApiError(400, "Bad Request: chat not found")
        if user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not user.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return user

    @staticmethod
    def _parsed(raw: str, parse_mode: Any) -> tuple[str, list[dict[str, Any]]]:
        if parse_mode not in (None, "", "HTML"):
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r} in this stand-in")
        try:
            return parse_html(raw) if parse_mode == "HTML" else (raw, [])
        except EntityError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None

    async def _m_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._recipient(params)
        upload = params.get("document")
        if not isinstance(upload, dict):
            # A file_id or URL string would be a file Telegram already has; the bot only uploads.
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if upload["size"] > MAX_UPLOAD_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        if upload["size"] == 0:
            raise ApiError(400, "Bad Request: file must be non-empty")
        raw = str(params.get("caption", ""))
        caption, entities = self._parsed(raw, params.get("parse_mode"))
        if utf16_length(caption) > MAX_CAPTION_LENGTH:
            raise ApiError(400, "Bad Request: message caption is too long")
        self._enforce_limits(user.id)
        message_id = next(self._message_ids.setdefault(user.id, itertools.count(1)))
        message: dict[str, Any] = {
            "message_id": message_id, "from": self._bot_user(), "chat": self._chat(user), "date": int(time.time()),
            "document": {
                "file_id": f"BQACAgQAAxkDAAI{message_id}", "file_unique_id": f"AgADd{message_id}",
                "file_name": upload["file_name"], "mime_type": upload["mime_type"], "file_size": upload["size"],
            },
        }
        if caption:
            message["caption"] = caption
        if entities:
            message["caption_entities"] = entities
        _checked(Message, message)
        self.sent.append(SentMessage(user.id, message_id, caption, raw, params.get("parse_mode"), entities, None, document=upload))
        self._messages[(user.id, message_id)] = message
        return message

    def add_channel(self, chat_id: int, title: str) -> None:
        """A private channel where the bot is an administrator."""
        self.channels[chat_id] = title
        self.channel_posts[chat_id] = {}
        self._message_ids[chat_id] = itertools.count(1)

    async def _m_forwardmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        target = _int(params, "chat_id", 0)
        if target not in self.channels:
            raise ApiError(400, "Bad Request: chat not found")
        source = self._messages.get((_int(params, "from_chat_id", 0), _int(params, "message_id", 0)))
        if source is None:
            raise ApiError(400, "Bad Request: message to forward not found")
        post_id = next(self._message_ids[target])
        sender = source.get("from") or self._bot_user()
        post: dict[str, Any] = {
            "message_id": post_id,
            "chat": {"id": target, "type": "channel", "title": self.channels[target]},
            "date": int(time.time()),
            "forward_origin": {"type": "user", "date": source["date"], "sender_user": sender},
        }
        for field_name in ("text", "entities", "caption", "caption_entities", "document"):
            if field_name in source:
                post[field_name] = source[field_name]
        _checked(Message, post)
        self.channel_posts[target][post_id] = post
        return post

    async def _m_deletemessage(self, params: dict[str, Any]) -> bool:
        chat_id, message_id = _int(params, "chat_id", 0), _int(params, "message_id", 0)
        posts = self.channel_posts.get(chat_id)
        if posts is not None:
            if posts.pop(message_id, None) is None:
                raise ApiError(400, "Bad Request: message to delete not found")
            return True
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        # "Bots can delete outgoing messages in private chats ... incoming
        # messages in private chats", if sent less than 48 hours ago.
        if time.time() - message["date"] > 48 * 3600:
            raise ApiError(400, "Bad Request: message can't be deleted for everyone")
        del self._messages[(chat_id, message_id)]
        self.sent = [m for m in self.sent if (m.chat_id, m.message_id) != (chat_id, message_id)]
        return True

    async def _m_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._recipient(params)
        chat_id = user.id
        raw = str(params.get("text", ""))
        text, entities = self._parsed(raw, params.get("parse_mode"))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_length(text) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        if markup is not None:
            _check_inline_keyboard(markup)
        self._enforce_limits(chat_id)
        message_id = next(self._message_ids.setdefault(chat_id, itertools.count(1)))
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": self._chat(user),
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if markup:
            message["reply_markup"] = markup
        _checked(Message, message)
        self.sent.append(SentMessage(chat_id, message_id, text, raw, params.get("parse_mode"), entities, markup))
        self._messages[(chat_id, message_id)] = message
        return message

    def _sent_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        return next((m for m in self.sent if (m.chat_id, m.message_id) == (chat_id, message_id)), None)

    def _to_edit(self, params: dict[str, Any]) -> tuple[dict[str, Any], SentMessage]:
        """The bot's own message that editMessageText / editMessageReplyMarkup names."""
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: inline messages are not simulated by this stand-in")
        chat_id = _int(params, "chat_id", 0)
        if chat_id not in self.users:
            raise ApiError(400, "Bad Request: chat not found")
        message_id = _int(params, "message_id", 0)
        message = self._messages.get((chat_id, message_id))
        sent = self._sent_message(chat_id, message_id)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if sent is None or message.get("from", {}).get("id") != self.bot_id:
            # The person's own message, or not one the bot sent.
            raise ApiError(400, "Bad Request: message can't be edited")
        return message, sent

    def _edited(self, message: dict[str, Any], sent: SentMessage, markup: Any, text: tuple[str, str, list[dict[str, Any]]] | None) -> dict[str, Any]:
        """Apply an edit: a new text (shown, raw, entities) if given, and the
        markup (an omitted reply_markup removes the inline keyboard)."""
        if markup is not None:
            _check_inline_keyboard(markup)
        new_markup = markup or None
        new_text = text[0] if text is not None else sent.text
        new_entities = text[2] if text is not None else sent.entities
        if new_text == sent.text and new_entities == sent.entities and new_markup == sent.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply markup are "
                                "exactly the same as a current content and reply markup of the message")
        sent.edits.append({"text": sent.text, "reply_markup": sent.reply_markup})
        if text is not None:
            sent.text, sent.raw_text, sent.entities = text
            message["text"] = new_text
            if new_entities:
                message["entities"] = new_entities
            else:
                message.pop("entities", None)
        sent.reply_markup = new_markup
        if new_markup:
            message["reply_markup"] = new_markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        _checked(Message, message)
        return message

    async def _m_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        message, sent = self._to_edit(params)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        raw = str(params.get("text", ""))
        text, entities = self._parsed(raw, params.get("parse_mode"))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_length(text) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return self._edited(message, sent, params.get("reply_markup"), (text, raw, entities))

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message, sent = self._to_edit(params)
        return self._edited(message, sent, params.get("reply_markup"), None)

    # --- webhooks ------------------------------------------------------------

    def _kick_webhook(self) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhooks())

    async def _deliver_webhooks(self) -> None:
        """Deliver pending updates until each is answered 2xx: up to the
        webhook's max_connections at once, but one at a time and in order
        within a chat. A failed delivery is retried after a pause, and later
        updates of its chat wait for it."""
        running: dict[asyncio.Task[bool], dict[str, Any]] = {}
        retry_at: dict[int, float] = {}
        async with aiohttp.ClientSession() as http:
            while self._webhook and (self._pending or running):
                limit = int(self._webhook.get("max_connections") or 40)
                busy = {_chat_of(u) for u in running.values()}
                now = time.monotonic()
                for update in list(self._pending):
                    if len(running) >= limit:
                        break
                    chat = _chat_of(update)
                    if chat in busy or update in running.values():
                        busy.add(chat)
                        continue
                    busy.add(chat)
                    if retry_at.get(update["update_id"], 0) > now:
                        continue
                    running[asyncio.get_running_loop().create_task(self._deliver_one(http, update))] = update
                if not running:
                    await asyncio.sleep(self.webhook_retry_seconds / 4)
                    continue
                done, _ = await asyncio.wait(running, timeout=self.webhook_retry_seconds / 4, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    update = running.pop(task)
                    if task.result():
                        retry_at.pop(update["update_id"], None)
                        if update in self._pending:
                            self._pending.remove(update)
                            self._delivered.append(update)
                    else:
                        retry_at[update["update_id"]] = time.monotonic() + self.webhook_retry_seconds
            for task in running:
                task.cancel()

    async def _deliver_one(self, http: aiohttp.ClientSession, update: dict[str, Any]) -> bool:
        assert self._webhook is not None
        headers = {"Content-Type": "application/json"}
        if self._webhook.get("secret_token"):
            headers[SECRET_HEADER] = str(self._webhook["secret_token"])
        try:
            async with http.post(self._webhook["url"], data=json.dumps(update), headers=headers, timeout=aiohttp.ClientTimeout(total=10)) as response:
                self.webhook_deliveries.append((update["update_id"], response.status))
                return 200 <= response.status < 300
        except (aiohttp.ClientError, asyncio.TimeoutError):
            self.webhook_deliveries.append((update["update_id"], 0))
            return False

    # --- shapes ------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "NMRF bot", "username": self.bot_username}

    @staticmethod
    def _chat(user: SimulatedUser) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": user.id, "type": "private", "first_name": user.first_name}
        if user.username:
            chat["username"] = user.username
        return chat

    def _incoming_message(self, user: SimulatedUser) -> dict[str, Any]:
        chat_id = user.id
        message = {
            "message_id": next(self._message_ids.setdefault(chat_id, itertools.count(1))),
            "from": user.as_dict(),
            "chat": self._chat(user),
            "date": int(time.time()),
        }
        # Kept by reference: the caller fills in the text.
        self._messages[(chat_id, message["message_id"])] = message
        return message


def _check_inline_keyboard(markup: Any) -> None:
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not button.get("text"):
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


async def _parameters(request: web.Request) -> dict[str, Any]:
    """Parameters from the query string and a form, multipart or JSON body.
    Form values holding JSON (reply_markup, allowed_updates...) are decoded,
    as the Bot API does for its object-typed parameters."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            try:
                form = await request.post()
            except web.HTTPRequestEntityTooLarge:
                raise ApiError(413, "Request Entity Too Large") from None
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    params[key] = {"file_name": value.filename, "mime_type": value.content_type, "size": len(data), "data": data}
                else:
                    params[key] = _maybe_json(str(value))
    return params


def _chat_of(update: dict[str, Any]) -> int:
    """The chat an update belongs to; its own id when it has none."""
    for kind in ("message", "edited_message", "callback_query"):
        body = update.get(kind)
        if body:
            message = body.get("message", body) if kind == "callback_query" else body
            chat = (message.get("chat") or {}).get("id")
            if chat is not None:
                return int(chat)
            return int(body.get("from", {}).get("id", -update["update_id"]))
    return -int(update["update_id"])


def _maybe_json(value: str) -> Any:
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _int(params: dict[str, Any], key: str, default: int) -> int:
    value = params.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {key} specified") from None


def _flag(params: dict[str, Any], key: str) -> bool:
    return str(params.get(key, "")).lower() in ("true", "1")
