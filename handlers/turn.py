"""One incoming message on its way through the handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat_port import Button, IncomingMessage, OutgoingMessage, command_words
from messages import t
from storage.conversations import State
from storage.models import FocalPoint


@dataclass
class Turn:
    message: IncomingMessage
    session: AsyncSession
    focal_point: FocalPoint
    state: State
    now: datetime
    replies: list[OutgoingMessage] = field(default_factory=list)
    # The recommendation of a dialogue that timed out just before this message.
    expired_rec: int | None = None

    @property
    def language(self) -> str:
        return self.focal_point.language

    def local_day(self, moment: datetime) -> date:
        """The day ``moment`` (stored in UTC) falls on where the reader is."""
        return moment.astimezone(ZoneInfo(self.focal_point.timezone)).date()

    def text(self, key: str, **values: object) -> str:
        return t(key, self.language, **{**command_words(self.message.address.platform), **values})

    def button(self, key: str, action: str) -> Button:
        return Button(self.text(key), action)

    def say(self, key: str, buttons: tuple[tuple[Button, ...], ...] = (), **values: object) -> None:
        self.replies.append(OutgoingMessage(key, self.text(key, **values), buttons, language=self.language))

    def ask(self, key: str, buttons: tuple[tuple[Button, ...], ...] = (), **values: object) -> None:
        """Say something that waits for a typed answer."""
        self.replies.append(OutgoingMessage(key, self.text(key, **values), buttons, asks_for_text=True, language=self.language))

    def go(self, name: str, **data: object) -> None:
        """Move to a named state, keeping what was gathered unless replaced."""
        self.state = State(name, {**self.state.data, **data})

    def reset(self) -> None:
        self.state = State()
