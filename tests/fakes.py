"""A fake chat platform for dialogue tests: it records what the bot says."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

from handlers.chat_port import ChatAddress, IncomingMessage, OutgoingMessage, PressedMessage, ReceivedFile
from bot.clock import ManualClock
from storage.enums import Platform


class FakeGateway:
    def __init__(self) -> None:
        self.sent: list[tuple[ChatAddress, OutgoingMessage]] = []
        # Everything ever sent, kept by take(): buttons stay in a chat.
        self.history: list[tuple[ChatAddress, OutgoingMessage]] = []
        # The pressed messages the engine asked to settle, with the line shown instead of their buttons.
        self.settled: list[tuple[ChatAddress, PressedMessage, str]] = []

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> None:
        self.sent.append((address, message))
        self.history.append((address, message))

    async def settle(self, address: ChatAddress, pressed: PressedMessage, choice: str) -> None:
        self.settled.append((address, pressed, choice))

    def action(self, label: str, user_id: str = "111") -> str:
        """What pressing ``label`` sends, on the latest message to ``user_id``
        that has it: a test presses only buttons the bot really sent."""
        for address, message in reversed(self.history):
            if address.user_id == user_id:
                for row in message.buttons:
                    for button in row:
                        if button.label == label:
                            return button.action
        raise AssertionError(f"no button {label!r} was sent to {user_id}")

    def take(self) -> list[OutgoingMessage]:
        out = [m for _, m in self.sent]
        self.sent.clear()
        return out


@dataclass
class FakeClock(ManualClock):
    # Monday 23 November 2026, 13:00 UTC unless a test says otherwise.
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 13, 0, tzinfo=UTC))


_ids = itertools.count(1000)


@dataclass
class Person:
    """Someone typing and pressing buttons on one platform."""

    user_id: str = "111"
    platform: Platform = Platform.TELEGRAM

    @property
    def address(self) -> ChatAddress:
        return ChatAddress(self.platform, self.user_id, chat_id=self.user_id)

    def says(self, text: str, delivery_id: str | None = None) -> IncomingMessage:
        return IncomingMessage(self.address, delivery_id or str(next(_ids)), text=text)

    def presses(self, action: str, delivery_id: str | None = None, on: PressedMessage | None = None) -> IncomingMessage:
        """``on``: the message the button sits on, as a platform tells it with the press."""
        return IncomingMessage(self.address, delivery_id or str(next(_ids)), action=action, pressed=on)

    def sends_file(self, name: str, mime: str, size: int) -> IncomingMessage:
        return IncomingMessage(
            self.address, str(next(_ids)), files=(ReceivedFile(name, mime, size, f"file-{name}"),)
        )
