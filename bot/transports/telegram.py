"""Telegram through python-telegram-bot v22's Application.

Long polling by default: it needs no inbound port, which is what works
behind a ministry firewall. The polling is our own (telegram_polling), so an
update is confirmed to Telegram only after it was handled. Webhook mode
registers the URL with a secret token; the web server (bot.web) checks the
header and hands the update here, and answers only once it was handled.
python-telegram-bot's Bot makes every call; its Application and Updater
loops are not used, so Telegram and Slack share one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import sys
import warnings
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

if "httpx" not in sys.modules:
    # python-telegram-bot imports httpx (though its requests go through
    # bot.transports.telegram_request), and httpx's package imports its
    # command line client, and with it rich and pygments: some 3 MiB resident
    # in every `nmrf-bot run` for a command it never runs. Marked absent
    # while httpx loads, httpx keeps its stub `main` instead.
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    import httpx  # noqa: F401

    del sys.modules["httpx._main"]

from telegram import BotCommand, BotCommandScopeChat, CallbackQuery, LinkPreviewOptions, Message, MessageOriginUser, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder

from handlers.chat_port import (
    ChatAddress, DeliveryProbe, FileTooLarge, HandlingDeferred, IncomingMessage, OutgoingMessage, PressedMessage, RateLimited,
    ReceivedFile, RecipientUnreachable, Sent,
)
from bot.supervision import LoopHealth
from bot.transports.downloads import CHUNK, DownloadFailed, DownloadTooLarge, Writer
from bot.transports.retry import DEFAULT_RETRY, RetryPolicy, Verdict, with_retries
from bot.transports.telegram_polling import UpdatePoller
from bot.transports.telegram_request import BotApiRequest
from bot.transports.telegram_format import MAX_MESSAGE, PARSE_MODE, escape, render
from bot.transports.text import split_text, utf16_length
from messages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, t
from storage.database import is_unavailable
from storage.enums import Platform

log = logging.getLogger(__name__)

Handle = Callable[[IncomingMessage], Awaitable[None]]
ALLOWED_UPDATES = ["message", "callback_query"]
# "Bots can currently send files of up to 50 MB in size" (Bot API, Sending files).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# Seconds a file a person sent may take to download.
DOWNLOAD_TIMEOUT = 300.0
# "0-1024 characters after entities parsing" (sendDocument caption).
MAX_CAPTION = 1024
# A delivery check looks at most this many messages past the last known one,
# and stops after this many ids in a row that hold nothing.
MAX_PROBED = 200
MISSES_TO_STOP = 3
# The menu Telegram shows next to the text field.
COMMANDS = [
    BotCommand("mine", "Your recommendations"),
    BotCommand("filter", "Show only some of them"),
    BotCommand("snooze", "Pause reminders until a date"),
    BotCommand("hours", "Your working hours for reminders"),
    BotCommand("validate", "Approve your institution's inputs"),
    BotCommand("actions", "Your institution's actions of the plan: update, propose"),
    BotCommand("pledges", "Your institution's pledges for the year, and the report-back"),
    BotCommand("language", "Change language"),
    BotCommand("cancel", "Stop what you are doing"),
    BotCommand("help", "What I can do"),
]
SECRETARIAT_COMMANDS = [
    BotCommand("progress", "Progress by institution (or: /progress cluster)"),
    BotCommand("overdue", "What is past its deadline"),
    BotCommand("missing", "Recommendations nobody has updated"),
    BotCommand("request", "Ask the focal points something"),
    BotCommand("requests", "Your requests and who has answered"),
    BotCommand("report", "A compiled file: matrix, draft, progress, export"),
    BotCommand("evidence", "The files sent for a recommendation: /evidence 12"),
    BotCommand("secretariat", "The secretariat's users and roles (admins)"),
    BotCommand("import", "Import a UHRI, UPR Info or template file: send it here"),
    BotCommand("closures", "Closure days: no reminder on them (coordinators)"),
    BotCommand("find", "Search the recommendation texts"),
    BotCommand("assign", "Assign recommendations to an institution, or remove (coordinators)"),
    BotCommand("links", "Linked recommendations: suggestions and groups"),
    BotCommand("priority", "A recommendation's priority and its reasons; change them (coordinators)"),
    BotCommand("validations", "Inputs nobody in their institution may validate (coordinators)"),
    BotCommand("people", "Focal points: add, invite, change, end a term (admins)"),
    BotCommand("institutions", "Institutions: list and add (admins)"),
    BotCommand("deadlines", "Deadlines: list, add, move, withdraw (coordinators)"),
    BotCommand("submitted", "Mark a report as submitted: /submitted 4 (coordinators)"),
    BotCommand("followup", "Paragraphs a treaty body selected for follow-up: /followup CEDAW/C/URY/CO/10"),
    BotCommand("actions", "The plan's actions; proposals to accept or reject: /actions proposed"),
    BotCommand("pledges", "The year's pledges: who pledged, who confirmed, the report-back"),
]


def menu(language: str) -> list[BotCommand]:
    """The focal points' menu described in ``language`` (``command.NAME``):
    Telegram shows it to everyone whose app is set to that language."""
    return [BotCommand(c.command, t(f"command.{c.command}", language)) for c in COMMANDS]


def secretariat_menu(theirs: list[BotCommand], language: str | None = None) -> list[BotCommand]:
    """A secretariat user's menu: the focal points' commands and theirs, a
    command both have (/actions, /pledges) once, described as theirs; in
    ``language`` when it is given (``command.secretariat.NAME``)."""
    names = {c.command for c in theirs}
    focal = COMMANDS
    if language is not None:
        focal = menu(language)
        theirs = [BotCommand(c.command, t(f"command.secretariat.{c.command}", language)) for c in theirs]
    return [c for c in focal if c.command not in names] + theirs


def webhook_secret(token: str) -> str:
    """The secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token, derived
    from the bot token so there is no second secret to keep; it changes when
    the token is revoked. Hex fits the allowed characters A-Z a-z 0-9 _ -."""
    return hmac.new(token.encode(), b"nmrf-bot telegram webhook", hashlib.sha256).hexdigest()


class TelegramTransport:
    platform = Platform.TELEGRAM

    def __init__(
        self,
        token: str,
        handle: Handle,
        *,
        base_url: str = "https://api.telegram.org/bot",
        mode: str = "polling",
        webhook_url: str | None = None,
        poll_timeout: int = 30,
        retry: RetryPolicy = DEFAULT_RETRY,
        delivery_check_chat_id: int | None = None,
        secretariat_chat_ids: tuple[int, ...] = (),
        health: LoopHealth | None = None,
        secretariat_menus: Callable[[], Awaitable[Mapping[int, Collection[str]]]] | None = None,
        secretariat_languages: Callable[[], Awaitable[Mapping[int, str]]] | None = None,
    ) -> None:
        if mode == "webhook" and not webhook_url:
            raise ValueError("webhook mode needs telegram.webhook_url")
        self._handle = handle
        self.mode = mode
        self.webhook_url = webhook_url
        self.secret = webhook_secret(token)
        self._poll_timeout = poll_timeout
        self._retry = retry
        # A private channel of the operator's, with the bot as an admin, where
        # candidates are forwarded to see whether a send cut off by a crash arrived.
        self.delivery_check_chat_id = delivery_check_chat_id
        self.secretariat_chat_ids = secretariat_chat_ids
        # Each secretariat chat and the commands its user's role may give
        # (read from the database at each connect); without it, every chat
        # in secretariat_chat_ids gets every secretariat command.
        self.secretariat_menus = secretariat_menus
        # Each secretariat chat's language, which its menu is described in (English without it).
        self.secretariat_languages = secretariat_languages
        self.health = health or LoopHealth("telegram", log)
        # Telegram's network errors are outages (one line), whoever made the record.
        self.health.expected = _outage
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(base_url)
            .base_file_url(base_url.removesuffix("/bot") + "/file/bot")
            # The builder's own defaults (a pool of 256, of 1 for getUpdates),
            # with pages that are not the API's JSON said in one line.
            .request(BotApiRequest(connection_pool_size=256))
            .get_updates_request(BotApiRequest(connection_pool_size=1, read_timeout=poll_timeout + 10))
            .updater(None)
        )
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.username: str | None = None
        self._poller: UpdatePoller | None = None
        self._polling: asyncio.Task[None] | None = None
        self._stop_polling = asyncio.Event()

    @staticmethod
    def rejection(exc: BaseException) -> str | None:
        """Why trying again cannot help, or None. python-telegram-bot's own
        message quotes the token, so it is never repeated."""
        if isinstance(exc, InvalidToken):
            return "Telegram rejected the bot token (getMe answered 401/404): check telegram.token or NMRF_TELEGRAM_TOKEN, then restart"
        return None

    async def start(self) -> None:
        """Connect, then poll in the background (in polling mode)."""
        await self.connect()
        self.begin_polling()

    async def connect(self) -> None:
        """Reach Telegram: who the bot is, its menus, its webhook. Raises if
        Telegram is out of reach or refuses the token; may be called again."""
        await self.application.initialize()
        self.username = self.application.bot.username
        await self.application.bot.set_my_commands(COMMANDS)
        for language in SUPPORTED_LANGUAGES:
            if language != DEFAULT_LANGUAGE:
                await self.application.bot.set_my_commands(menu(language), language_code=language)
        if self.secretariat_menus is not None:
            try:
                allowed_in = await self.secretariat_menus()
            except Exception as exc:  # noqa: BLE001 - the menus are a courtesy: polling must not wait for the database
                log.warning("telegram: secretariat menus not set, the database did not answer (%s); set at the next connect", exc.__class__.__name__)
                allowed_in = {}
            menus = {chat_id: [c for c in SECRETARIAT_COMMANDS if c.command in allowed] for chat_id, allowed in allowed_in.items()}
        else:
            menus = {chat_id: SECRETARIAT_COMMANDS for chat_id in self.secretariat_chat_ids}
        languages: Mapping[int, str] = {}
        if self.secretariat_languages is not None and menus:
            try:
                languages = await self.secretariat_languages()
            except Exception as exc:  # noqa: BLE001 - as the menus: a courtesy, in English when the database does not answer
                log.warning("telegram: secretariat menus in English, the database did not answer (%s)", exc.__class__.__name__)
        for chat_id, theirs in menus.items():
            # Only secretariat users see their commands in the menu, and only those their role may give.
            try:
                await self.application.bot.set_my_commands(
                    secretariat_menu(theirs, languages.get(chat_id)), scope=BotCommandScopeChat(chat_id),
                )
            except BadRequest as exc:
                log.info("telegram: no secretariat menu for chat %s (%s): they have not opened the bot yet", chat_id, exc.message)
        if self.mode == "polling":
            # getUpdates is refused while a webhook is set.
            await self.application.bot.delete_webhook()
        else:
            await self.application.bot.set_webhook(
                url=str(self.webhook_url), secret_token=self.secret, allowed_updates=ALLOWED_UPDATES
            )
        log.info("telegram: @%s connected (%s)", self.username, self.mode)

    def begin_polling(self) -> None:
        if self.mode != "polling" or self._polling is not None:
            return
        self._poller = UpdatePoller(
            self.application.bot, self.dispatch, self.health, timeout=self._poll_timeout, allowed_updates=ALLOWED_UPDATES,
        )
        self._polling = asyncio.get_running_loop().create_task(self._poller.run(self._stop_polling))

    async def stop(self) -> None:
        """Let the update being handled finish; a long poll waiting for
        Telegram is cut short, which loses nothing."""
        self._stop_polling.set()
        if self._polling is not None and self._poller is not None:
            if self._poller.waiting_for_updates:
                self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
            await self._poller.confirm()
        await self.application.shutdown()

    # --- inbound -------------------------------------------------------------

    def accepts_webhook(self, secret_header: str | None) -> bool:
        # As bytes: compare_digest refuses a str with non-ASCII characters.
        return secret_header is not None and hmac.compare_digest(secret_header.encode("utf-8", "replace"), self.secret.encode())

    def parse_webhook(self, data: object) -> Update:
        """The update a webhook call carries; ValueError if it is not one."""
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            raise ValueError("not an update: a JSON object with an integer update_id is expected")
        try:
            return Update.de_json(data, self.application.bot)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ValueError(f"not an update: {exc.__class__.__name__}") from None

    async def process_webhook(self, data: object) -> None:
        """One update from the web server; an exception means "not handled",
        the server answers 500 and Telegram delivers it again."""
        await self.dispatch(self.parse_webhook(data))

    async def dispatch(self, update: Update) -> None:
        if update.callback_query is not None:
            # Stops the spinner on the person's button, whatever follows.
            try:
                await update.callback_query.answer()
            except (BadRequest, NetworkError) as exc:
                log.info("telegram: callback not answered: %s", exc)
        incoming = to_incoming(update)
        if incoming is not None:
            await self._handle(incoming)

    # --- outbound ------------------------------------------------------------

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> Sent:
        if message.document is not None:
            return await self._send_document(address, message)
        ids: list[str] = []
        for text, keyboard in render(message):
            async def call(text: str = text, keyboard: Any = keyboard) -> Any:
                return await self.application.bot.send_message(
                    chat_id=int(address.chat_id),
                    text=text,
                    parse_mode=PARSE_MODE,
                    reply_markup=keyboard,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )

            # Nothing of the message out yet: a paced sender takes a 429 back to its pace.
            give_back = message.paced and not ids
            sent = await with_retries(
                call, lambda exc, attempt, give_back=give_back: _judge(address, exc, attempt, self._retry, give_back), self._retry,
            )
            ids.append(str(sent.message_id))
        return Sent(tuple(ids))

    async def settle(self, address: ChatAddress, pressed: PressedMessage, choice: str) -> None:
        """The message a step's button was pressed on, edited to show the
        choice under its text and no buttons: editMessageText without
        reply_markup drops the inline keyboard. Where the text with the choice
        would be too long, or the press did not give the text back (a message
        Telegram no longer shows the bot), editMessageReplyMarkup drops the
        buttons alone. Best effort: Telegram's refusal ("message is not
        modified", "message to edit not found") is logged, never raised."""
        bot = self.application.bot
        chat_id, message_id = int(pressed.chat_id), int(pressed.message_id)
        text = f"{pressed.text}\n\n{choice}" if pressed.text and choice else ""
        try:
            if text and utf16_length(text) <= MAX_MESSAGE:
                await bot.edit_message_text(
                    chat_id=chat_id, message_id=message_id, text=escape(text), parse_mode=PARSE_MODE,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            else:
                await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
        except TelegramError as exc:
            log.debug("telegram: message %s in chat %s not edited: %s", message_id, chat_id, exc)

    async def delivered(self, address: ChatAddress, probe: DeliveryProbe) -> bool | None:
        """Whether a message whose send a crash cut off is in the chat. The
        Bot API cannot read a chat back, but it can forward a message by id:
        each message after the last one known to have arrived is forwarded to
        the delivery check chat (and the copy deleted there), until the bot's
        own message with this text turns up, or the chat's messages run out.
        None when no delivery check chat is configured."""
        if self.delivery_check_chat_id is None:
            return None
        bot = self.application.bot
        pieces = split_text(probe.message.text, MAX_MESSAGE, utf16_length)
        # The last piece: if it arrived, the whole text did.
        expected = pieces[-1] if pieces else ""
        first = int(probe.after_message_id) + 1 if probe.after_message_id and probe.after_message_id.isdigit() else 1
        misses = 0
        for message_id in range(first, first + MAX_PROBED):
            try:
                copy = await bot.forward_message(
                    chat_id=self.delivery_check_chat_id, from_chat_id=int(address.chat_id), message_id=message_id, disable_notification=True,
                )
            except BadRequest as exc:
                if "not found" not in exc.message.lower():
                    raise
                # Past the chat's last message (or one deleted): a few in a row end it.
                misses += 1
                if misses >= MISSES_TO_STOP:
                    return False
                continue
            misses = 0
            try:
                await bot.delete_message(self.delivery_check_chat_id, copy.message_id)
            except (BadRequest, Forbidden) as exc:
                log.info("telegram: delivery check copy %s not deleted: %s", copy.message_id, exc.message)
            origin = copy.forward_origin
            by_bot = isinstance(origin, MessageOriginUser) and origin.sender_user.id == bot.id
            if by_bot and (copy.text or "") == expected:
                return True
        return None


    async def _send_document(self, address: ChatAddress, message: OutgoingMessage) -> Sent:
        """The file with the message as its caption; a text too long for a
        caption goes first as a message of its own."""
        document = message.document
        assert document is not None
        size = os.path.getsize(document.path)
        if size > MAX_UPLOAD_BYTES:
            raise FileTooLarge(size, MAX_UPLOAD_BYTES)
        caption = escape(message.text)
        if utf16_length(message.text) > MAX_CAPTION:
            await self.send(address, replace(message, document=None))
            caption = ""


        async def call() -> Any:
            # Opened for each attempt: a retried upload starts from the first byte.
            with open(document.path, "rb") as data:
                return await self.application.bot.send_document(
                    chat_id=int(address.chat_id), document=data, filename=document.name,
                    caption=caption or None, parse_mode=PARSE_MODE if caption else None,
                )

        sent = await with_retries(call, lambda exc, attempt: _judge(address, exc, attempt, self._retry), self._retry)
        return Sent((str(sent.message_id),))


    async def download(self, platform_file_id: str, into: Writer) -> str | None:
        """A file a person sent, by getFile and its file URL, into ``into``;
        the type Telegram gives (none: getFile says nothing of it)."""
        bot = self.application.bot
        try:
            found = await bot.get_file(platform_file_id)
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                # "Bots can download files of up to 20MB in size" (getFile).
                raise DownloadTooLarge(f"Telegram gives a bot files of up to 20 MB ({exc.message})") from None
            # An id Telegram does not know is not going to become one.
            raise DownloadFailed(f"getFile: {exc.message}", permanent="invalid file_id" in exc.message.lower()) from None
        except TelegramError as exc:
            raise DownloadFailed(f"getFile: {exc.__class__.__name__}: {exc}") from None
        if found.file_size is not None and found.file_size > into.limit:
            raise DownloadTooLarge(f"{found.file_size} bytes")
        try:
            # Up to 20 MB over a slow government link: minutes, not the 5 s of an API call.
            data = await found.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT)
        except TelegramError as exc:
            raise DownloadFailed(f"file download: {exc.__class__.__name__}: {exc}") from None
        except RuntimeError as exc:  # no file_path
            raise DownloadFailed(f"file download: {exc}") from None
        for start in range(0, len(data), CHUNK):
            into.write(bytes(data[start:start + CHUNK]))
        return None


def _outage(exc: BaseException) -> bool:
    """Telegram or the network out of reach, or the database: one log line, no traceback."""
    return isinstance(exc, (NetworkError, HandlingDeferred)) or is_unavailable(exc)


def _judge(address: ChatAddress, exc: Exception, attempt: int, policy: RetryPolicy, give_back: bool = False) -> Verdict:
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():
            # v22 warns that retry_after becomes a timedelta; both are handled.
            warnings.simplefilter("ignore")
            wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        if give_back:
            raise RateLimited(seconds, f"429, retry after {seconds:g}s") from exc
        return Verdict(seconds, f"429, retry after {seconds:g}s")
    if isinstance(exc, Forbidden):
        raise RecipientUnreachable(address, exc.message) from exc
    if isinstance(exc, BadRequest):
        if "chat not found" in exc.message.lower():
            raise RecipientUnreachable(address, exc.message) from exc
        # Our own mistake (bad markup, too long): retrying sends it again.
        return Verdict(None, exc.message)
    if isinstance(exc, NetworkError):
        return Verdict(policy.backoff(attempt), f"network: {exc.message}")
    return Verdict(None, repr(exc))


def _pressed(query: CallbackQuery) -> PressedMessage | None:
    """The bot's message the button sits on, with the button's label; its text
    only while Telegram still gives it (an inaccessible message has none)."""
    message = query.message
    if message is None:
        return None
    label = ""
    text = ""
    if isinstance(message, Message):
        text = message.text or ""
        rows = message.reply_markup.inline_keyboard if message.reply_markup is not None else ()
        label = next((b.text for row in rows for b in row if b.callback_data == query.data), "")
    return PressedMessage(str(message.chat.id), str(message.message_id), label, text)


def to_incoming(update: Update) -> IncomingMessage | None:
    """The neutral message for an update, or None for what the bot ignores
    (groups and channels, edits, service messages)."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None or chat.type != "private" or user.is_bot:
        return None
    address = ChatAddress(Platform.TELEGRAM, str(user.id), str(chat.id))
    delivery = str(update.update_id)
    if update.callback_query is not None:
        query = update.callback_query
        return IncomingMessage(address, delivery, action=query.data or "", pressed=_pressed(query))
    message = update.message
    if message is None:
        return None
    files: list[ReceivedFile] = []
    if message.document is not None:
        doc = message.document
        files.append(ReceivedFile(doc.file_name or "document", doc.mime_type, doc.file_size, doc.file_id))
    if message.photo:
        photo = message.photo[-1]  # the largest size
        files.append(ReceivedFile(f"photo-{message.message_id}.jpg", "image/jpeg", photo.file_size, photo.file_id))
    text = message.text or message.caption
    if text is None and not files:
        return None
    return IncomingMessage(address, delivery, text=text, files=tuple(files), locale=user.language_code)
