"""One incoming message on its way through the handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.buttons import bind, conversation_token, settles
from handlers.chat_port import Button, ChatGateway, IncomingMessage, OutgoingMessage, command_words
from handlers.evidence import EvidenceSettings
from handlers.invite_links import InviteLinks
from handlers.reminders.plan import Policy
from handlers.report_orders import ReportOrder
from messages import t
from storage.conversations import State
from storage.models import FocalPoint, SecretariatUser

if TYPE_CHECKING:
    from handlers.chat_imports import ImportSettings


class TurnJob(Protocol):
    """Work a turn leaves for after its commit, run in the background so
    that nobody waits for it (an import's preview, the import itself): in
    its own transactions, saying what it has to say through ``gateway``."""

    async def run(self, sessions: async_sessionmaker[AsyncSession], gateway: ChatGateway) -> None: ...


@dataclass
class Exchange:
    """What every turn has, whoever wrote: the message, the open transaction,
    the stored conversation state and the replies gathered so far."""

    message: IncomingMessage
    session: AsyncSession
    state: State
    now: datetime
    replies: list[OutgoingMessage] = field(default_factory=list)
    # [evidence]: the size limit of a file sent, the store files are sent back from.
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings, kw_only=True)
    # Whether the message whose button was pressed is to show the choice and
    # lose its buttons: decided from the state the press found (buttons.settles);
    # a handler may keep them by setting it False.
    settles: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.settles = settles(self.state, self.message.action)

    @property
    def language(self) -> str:
        raise NotImplementedError

    def settled_choice(self) -> str | None:
        """The line the pressed message shows instead of its buttons ("" when
        the platform did not say which label was pressed), or None to keep them."""
        pressed = self.message.pressed
        if not self.settles or pressed is None:
            return None
        return self.text("keyboard.chosen", choice=pressed.label) if pressed.label else ""

    @property
    def timezone(self) -> str:
        raise NotImplementedError

    def local_day(self, moment: datetime) -> date:
        """The day ``moment`` (stored in UTC) falls on where the reader is."""
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    def text(self, key: str, **values: object) -> str:
        return t(key, self.language, **{**command_words(self.message.address.platform), **values})

    def button(self, key: str, action: str, **values: object) -> Button:
        return Button(self.text(key, **values), action)

    def bound(self, key: str, action: str, **values: object) -> Button:
        """A button that answers only the question the dialogue is asking now:
        made after the state has moved to that question."""
        return Button(self.text(key, **values), bind(action, self.state))

    def say(self, key: str, buttons: tuple[tuple[Button, ...], ...] = (), **values: object) -> None:
        self.replies.append(OutgoingMessage(key, self.text(key, **values), buttons, language=self.language))

    def say_lines(self, key: str, lines: list[str], buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """One message made of lines already rendered (a list, a summary)."""
        self.replies.append(OutgoingMessage(key, "\n".join(lines), buttons, language=self.language))

    def ask(self, key: str, buttons: tuple[tuple[Button, ...], ...] = (), **values: object) -> None:
        """Say something that waits for a typed answer."""
        self.replies.append(OutgoingMessage(key, self.text(key, **values), buttons, asks_for_text=True, language=self.language))

    def begin(self, name: str, **data: object) -> None:
        """Start a new dialogue: its buttons will not answer any other."""
        self.state = State(name, {**data, "conversation": conversation_token(self.message.delivery_id)})

    def go(self, name: str, **data: object) -> None:
        """Move to a named state, keeping what was gathered unless replaced."""
        self.state = State(name, {**self.state.data, **data})

    def reset(self) -> None:
        self.state = State()


@dataclass
class Turn(Exchange):
    """A focal point's turn."""

    focal_point: FocalPoint = field(kw_only=True)
    # The recommendation of a dialogue that timed out just before this message.
    expired_rec: int | None = field(default=None, kw_only=True)

    @property
    def language(self) -> str:
        return self.focal_point.language

    @property
    def timezone(self) -> str:
        return self.focal_point.timezone


@dataclass
class SecretariatTurn(Exchange):
    """A secretariat user's turn: besides replies, it may order a report,
    made and sent once the transaction has committed."""

    user: SecretariatUser = field(kw_only=True)
    orders: list[ReportOrder] = field(default_factory=list, kw_only=True)
    # The reminder rules: what "overdue" means, how a request is chased.
    policy: Policy = field(default_factory=Policy, kw_only=True)
    # Imports in chat (handlers.chat_imports); None: files sent are refused.
    imports: ImportSettings | None = field(default=None, kw_only=True)
    # Work started once the transaction has committed, in the background.
    jobs: list[TurnJob] = field(default_factory=list, kw_only=True)
    # How an invite made in chat reaches a person (handlers.people): the Telegram deep link.
    invite_links: InviteLinks = field(default_factory=InviteLinks, kw_only=True)

    @property
    def language(self) -> str:
        return self.user.language

    @property
    def timezone(self) -> str:
        return self.user.timezone
