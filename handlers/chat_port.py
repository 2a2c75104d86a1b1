"""The one seam between the conversation logic and the chat platforms.

Handlers see only these types: who wrote (a ``ChatAddress``), what they
wrote or pressed (an ``IncomingMessage``), and what to say back (an
``OutgoingMessage`` with buttons). The Telegram and Slack adapters translate
to and from their platforms; the fake gateway in the tests records replies.
Nothing here imports telegram or slack_bolt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from messages import for_reader
from storage.enums import Platform

# Telegram refuses callback_data over 64 bytes; Slack's action value allows
# 2,000 characters. The narrower limit binds both, so one payload serves both.
MAX_ACTION_BYTES = 64


@dataclass(frozen=True)
class ChatAddress:
    """A person in a direct conversation with the bot on one platform."""

    platform: Platform
    user_id: str
    # Telegram: the private chat id; Slack: the DM channel (D...) once opened.
    chat_id: str
    # Slack team id; empty on Telegram.
    workspace_id: str = ""


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    # Where the platform has forms (Slack's modals), the button opens the one
    # named here (e.g. "update") instead of sending its action; the form's
    # submission comes back as an IncomingMessage with ``action`` and ``form``.
    form: str | None = None
    # What the form answers, as the person knows it (a linked group's title
    # and its recommendations' numbers): its first line titles the form, cut
    # to what the platform takes, and the whole is shown at the form's top.
    # None: the platform names the form after the action's recommendation.
    form_title: str | None = None

    def __post_init__(self) -> None:
        if len(self.action.encode("utf-8")) > MAX_ACTION_BYTES:
            raise ValueError(f"button action over {MAX_ACTION_BYTES} bytes: {self.action!r}")


@dataclass(frozen=True)
class ReceivedFile:
    """A file a person sent: kept as evidence by name, type and size."""

    name: str
    mime_type: str | None
    size_bytes: int | None
    platform_file_id: str


@dataclass(frozen=True)
class OutgoingFile:
    """A file the bot sends (a compiled report): read from ``path`` when sent."""

    path: str
    name: str
    mime_type: str


@dataclass(frozen=True)
class PressedMessage:
    """The bot's message whose button was pressed, as the platform gave it
    back with the press: what a transport needs to edit it."""

    # Telegram: the chat id; Slack: the channel.
    chat_id: str
    # Telegram: the message_id; Slack: the message's ts.
    message_id: str
    # The pressed button's label, as the person read it.
    label: str
    # What the message says (its text, without the buttons), to show again with the choice.
    text: str = ""


@dataclass(frozen=True)
class IncomingMessage:
    address: ChatAddress
    # The platform's own id for this delivery (Telegram update_id, Slack
    # event_id or action trigger): a redelivery carries the same id.
    delivery_id: str
    text: str | None = None
    action: str | None = None
    files: tuple[ReceivedFile, ...] = ()
    # The e-mail the platform knows for the user, when it tells (Slack).
    email: str | None = None
    # A form submitted with ``action`` (Slack's update modal): field -> value.
    form: dict[str, str] | None = None
    # With ``action``: the message the pressed button sits on, where the platform says.
    pressed: PressedMessage | None = None
    # The language the person's app is set to, as the platform tells it
    # (Telegram's language_code "pt-BR", Slack's user locale "ar-SA"): onboarding proposes it.
    locale: str | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    """What the bot says: ``key`` names the catalog entry, for tests and logs;
    ``text`` is that entry rendered in the reader's language. The adapters
    escape it for their markup; it is never markup itself."""

    key: str
    text: str
    buttons: tuple[tuple[Button, ...], ...] = field(default_factory=tuple)
    # The bot waits for a typed answer: Slack offers a modal to write it in.
    asks_for_text: bool = False
    # The reader's language, for what an adapter adds of its own (a modal's title).
    language: str = "en"
    # Set by the outbox: carried with the message where the platform keeps it.
    outbox_key: str | None = None
    # Sent with the text as its caption. Not kept by the outbox: a report is
    # sent at once to the person who asked for it.
    document: OutgoingFile | None = None
    # Set by the outbox, which paces its sends: a 429 that comes before any
    # of the message arrived is raised (RateLimited) for the outbox to send it
    # again in a slot of its pace; waited out here, its retry would come
    # outside the pace and push the send after it over the limit.
    paced: bool = False

    def __post_init__(self) -> None:
        # A right-to-left reader's every paragraph begins so, whoever put the
        # text together (a reminder's list, a summary): messages.bidi.
        object.__setattr__(self, "text", for_reader(self.text, self.language))

    def to_dict(self) -> dict[str, Any]:
        """For the outbox, which keeps a message until it is sent."""
        return {
            "key": self.key,
            "text": self.text,
            "language": self.language,
            "asks_for_text": self.asks_for_text,
            "buttons": [
                [{"label": b.label, "action": b.action, **({"form": b.form} if b.form else {}), **({"form_title": b.form_title} if b.form_title else {})} for b in row]
                for row in self.buttons
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutgoingMessage:
        buttons = tuple(tuple(Button(b["label"], b["action"], b.get("form"), b.get("form_title")) for b in row) for row in data.get("buttons", []))
        return cls(data["key"], data["text"], buttons, bool(data.get("asks_for_text")), data.get("language", "en"))


# Every command a person can give, on any platform (Slack takes them as bare words).
COMMAND_NAMES = (
    "mine", "help", "filter", "language", "cancel", "snooze", "hours", "validate",
    "progress", "overdue", "missing", "request", "requests", "report", "evidence",
    "secretariat", "import", "closures", "validations", "people", "institutions",
    "deadlines", "submitted", "find", "assign", "links", "priority", "followup", "actions",
    "pledges",
)


def command_words(platform: Platform) -> dict[str, str]:
    """How a person spells each command on a platform, for messages that name
    one: Telegram has /commands; on Slack a typed /word is taken by Slack
    itself, so a DM holds the bare word (or /nmrf word)."""
    prefix = "/" if platform is Platform.TELEGRAM else ""
    return {name: prefix + name for name in COMMAND_NAMES}


@dataclass(frozen=True)
class Sent:
    """What the platform answered to a send: the id it gave each message
    (several when the text went as several), in order."""

    message_ids: tuple[str, ...] = ()


class ChatGateway(Protocol):
    """What a handler may do to a platform: send a message to a person."""

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> Sent | None: ...


class KeyboardSettler(Protocol):
    """A platform that can edit the message a step's button was pressed on,
    so it shows the choice and no longer has buttons (Telegram
    editMessageText, Slack chat.update). Best effort: a failed edit is the
    platform's to log, never raised, and the reply goes out all the same."""

    async def settle(self, address: ChatAddress, pressed: PressedMessage, choice: str) -> None: ...


class HomeRefresher(Protocol):
    """A platform with a page of its own per person (Slack's Home tab),
    rebuilt after a change that concerns them: a turn of theirs committed,
    a message from the outbox delivered to them. It returns at once: the
    platform publishes later (at most once every few seconds a person) and
    logs, and tries again, a publish that fails. Telegram has no Home."""

    def refresh_home(self, address: ChatAddress) -> None: ...


@dataclass(frozen=True)
class DeliveryProbe:
    """A message from the outbox whose send a crash cut off: did it arrive?"""

    outbox_key: str
    message: OutgoingMessage
    # The platform id of the last message the outbox sent to that chat before
    # this one's send began; this one, if it arrived, came after it.
    after_message_id: str | None = None


class DeliveryCheck(Protocol):
    """A platform that can say whether a message went out, after a crash cut
    a send off: True, False, or None when it cannot tell. Slack reads the DM
    back (message metadata); Telegram forwards the candidates to a delivery
    check chat, when one is configured."""

    async def delivered(self, address: ChatAddress, probe: DeliveryProbe) -> bool | None: ...


class RecipientUnreachable(Exception):
    """The platform will not deliver to this person: they blocked the bot,
    never opened it, or left the workspace. Retrying cannot help."""

    def __init__(self, address: ChatAddress, reason: str) -> None:
        super().__init__(f"{address.platform.value} user {address.user_id} unreachable: {reason}")
        self.address, self.reason = address, reason


class HandlingDeferred(Exception):
    """A delivery was not handled, and nothing of it kept, because the
    database is out of reach. The transport must not confirm it to the
    platform, so the platform delivers it again (Telegram's next getUpdates,
    a webhook's non-2xx answer, Slack's retry) and it is handled then."""


class DeliveryFailed(Exception):
    """A send still failing after every retry (the platform down, say)."""


class DeliveryRefused(DeliveryFailed):
    """The platform refused the message itself (too long, malformed): sent
    again, later, it is refused again. A bug of ours, not an outage."""


class RateLimited(DeliveryFailed):
    """The platform refused a paced message for now (429) before any of it
    arrived: nothing was delivered; it may go again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, reason: str) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class FileTooLarge(Exception):
    """A file over what the platform accepts from a bot (Telegram: 50 MB)."""

    def __init__(self, size_bytes: int, limit_bytes: int) -> None:
        super().__init__(f"{size_bytes} bytes, over the platform's {limit_bytes}")
        self.size_bytes, self.limit_bytes = size_bytes, limit_bytes


class FetchFailed(Exception):
    """A file a person sent could not be had from the platform: over
    ``max_bytes`` or what the platform gives a bot (``too_large``), gone, or
    the platform out of reach for now."""

    def __init__(self, reason: str, *, too_large: bool = False, limit_bytes: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.too_large = reason, too_large
        # With too_large: the limit that held, when narrower than the caller's (Telegram's 20 MB).
        self.limit_bytes = limit_bytes


class FileFetcher(Protocol):
    """A platform's download of a file a person sent, for a handler that
    reads it at once (an import) rather than keeping it as evidence: its
    bytes into ``into``, at most ``max_bytes`` of them; FetchFailed when the
    file cannot be had. The size written is returned."""

    async def fetch(self, address: ChatAddress, received: ReceivedFile, into: str, max_bytes: int) -> int: ...
