"""``nmrf-bot chat``: try the conversations in a terminal, as a focal point
or a secretariat user, against the configured database, through the same
conversation engine the chat platforms use.

The terminal is a chat platform of its own with no accounts: the person is
chosen on the command line, nothing links a chat identity to them, so the
reminders never write here. Buttons are shown numbered; typing the number
presses one. Files (the secretariat's reports) are saved in a folder.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import uuid
from datetime import datetime
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from handlers.chat_port import Button, ChatAddress, HandlingDeferred, IncomingMessage, OutgoingMessage
from handlers.engine import ConversationEngine
from storage.audit import current_actor
from storage.enums import Platform
from storage.models import FocalPoint, SecretariatUser
from storage.network import active_on

# Stored conversation state is keyed by platform account; the terminal's
# own workspace keeps it apart from the person's Telegram conversation.
WORKSPACE = "terminal"
# How long a line the engine deferred waits before it is handled again.
REDELIVER_SECONDS = 5.0


class TerminalGateway:
    """Prints what the bot says and remembers the buttons of the last message."""

    def __init__(self, echo: Callable[[str], None], files: Path) -> None:
        self.echo = echo
        self.files = files
        self.buttons: list[Button] = []

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> None:
        self.echo("")
        for line in message.text.splitlines() or [""]:
            self.echo(f"  {line}")
        if message.document is not None:
            self.files.mkdir(parents=True, exist_ok=True)
            saved = self.files / message.document.name
            shutil.copyfile(message.document.path, saved)
            self.echo(f"  [file saved: {saved}]")
        if message.buttons:
            self.buttons = [b for row in message.buttons for b in row]
            self.echo("  " + "  ".join(f"[{n}] {b.label}" for n, b in enumerate(self.buttons, start=1)))


class TerminalEngine(ConversationEngine):
    """The engine, told who is typing instead of looking up a chat account."""

    def __init__(self, *args: object, person: FocalPoint | SecretariatUser, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.person_id = person.id
        self.person_kind = type(person)
        # Who runs `nmrf-bot chat` (the CLI's actor): the audit names them too.
        self.operator = current_actor()

    def actor_of(self, address: ChatAddress, person: FocalPoint | SecretariatUser | None = None) -> str:
        if isinstance(person, FocalPoint):
            return f"terminal:{self.operator} focal_point:{person.id}"
        if isinstance(person, SecretariatUser):
            return f"terminal:{self.operator} secretariat:{person.id}"
        return f"terminal:{self.operator}"

    async def identify(self, session: AsyncSession, address: ChatAddress, now: datetime) -> FocalPoint | SecretariatUser | None:
        if self.person_kind is SecretariatUser:
            return await session.scalar(select(SecretariatUser).where(SecretariatUser.id == self.person_id, SecretariatUser.active.is_(True)))
        # As on the platforms: someone no longer in office is a stranger.
        return await session.scalar(
            select(FocalPoint).where(FocalPoint.id == self.person_id, active_on(now.date())).options(selectinload(FocalPoint.institution))
        )


def address_for(person: FocalPoint | SecretariatUser) -> ChatAddress:
    kind = "fp" if isinstance(person, FocalPoint) else "sec"
    return ChatAddress(Platform.TELEGRAM, f"{kind}-{person.id}", f"{kind}-{person.id}", WORKSPACE)


async def converse(engine: TerminalEngine, gateway: TerminalGateway, address: ChatAddress, read: Callable[[], Awaitable[str | None]]) -> None:
    """Read lines until end of input or /quit: a number presses that button
    of the last message, anything else is sent as typed."""
    deliveries = itertools.count(1)
    # Unique per run, so a line typed in two sessions is two deliveries.
    session_id = uuid.uuid4().hex
    while True:
        line = await read()
        if line is None or line.strip() in ("/quit", "/exit"):
            return
        line = line.strip()
        if not line:
            continue
        delivery = f"terminal:{session_id}:{next(deliveries)}"
        if line.isdigit() and 1 <= int(line) <= len(gateway.buttons):
            button = gateway.buttons[int(line) - 1]
            gateway.echo(f"  (pressed [{button.label}])")
            message = IncomingMessage(address, delivery, action=button.action)
        else:
            message = IncomingMessage(address, delivery, text=line)
        await deliver(engine, message)
        await engine.drain()


async def deliver(engine: TerminalEngine, message: IncomingMessage, wait: float = REDELIVER_SECONDS) -> None:
    """The terminal is the platform here: a delivery the engine deferred (the
    database out of reach) is delivered again until it is handled, as
    Telegram and Slack do, since the person was told not to type it again."""
    while True:
        try:
            await engine.handle(message)
            return
        except HandlingDeferred:
            await asyncio.sleep(wait)
