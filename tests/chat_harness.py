"""Driving a simulated person on a stand-in platform, one turn at a time."""

from __future__ import annotations

from dataclasses import dataclass

from bot.standins.telegram import SentMessage, TelegramStandIn

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"


@dataclass
class TelegramPerson:
    """Someone in a private chat with the bot: ``says`` and ``presses`` wait
    for exactly the number of replies the dialogue should give."""

    standin: TelegramStandIn
    user_id: int

    @property
    def inbox(self) -> list[SentMessage]:
        return self.standin.messages_to(self.user_id)

    async def _replies(self, before: int, expect: int) -> list[SentMessage]:
        return (await self.standin.wait_for_messages(self.user_id, before + expect))[before:]

    async def says(self, text: str, expect: int = 1) -> list[SentMessage]:
        before = len(self.inbox)
        self.standin.user_sends(self.user_id, text)
        return await self._replies(before, expect)

    async def presses(self, label: str, on: SentMessage | None = None, expect: int = 1) -> list[SentMessage]:
        """Press the button with this label on ``on`` (default: the last message that has it)."""
        message = on or next(m for m in reversed(self.inbox) if any(b["text"] == label for row in (m.reply_markup or {}).get("inline_keyboard", []) for b in row))
        before = len(self.inbox)
        self.standin.user_presses(self.user_id, message, message.button(label))
        return await self._replies(before, expect)

    async def sends_document(self, name: str, mime: str, size: int, expect: int = 1) -> list[SentMessage]:
        before = len(self.inbox)
        self.standin.user_sends_document(self.user_id, name, mime, size)
        return await self._replies(before, expect)
