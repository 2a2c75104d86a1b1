"""Simulated people on the stand-ins, one turn at a time: what the tests
and ``nmrf-bot demo`` drive. Each action waits for exactly the number of
replies the dialogue should give, so a missing or extra reply shows."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.standins.slack import Posted, SlackStandIn
from bot.standins.telegram import SentMessage, TelegramStandIn


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

    async def starts_update(self, item: int, status: str, assigned: int) -> None:
        """/mine, Give an update on the item-th of ``assigned`` recommendations, pick the status."""
        items = (await self.says("/mine", expect=1 + assigned))[1:]
        await self.presses("Give an update", on=items[item])
        await self.presses(status)

    async def sends_document(self, name: str, mime: str, size: int, caption: str | None = None, expect: int = 1) -> list[SentMessage]:
        before = len(self.inbox)
        self.standin.user_sends_document(self.user_id, name, mime, size, caption)
        return await self._replies(before, expect)


@dataclass
class SlackPerson:
    """Someone in a DM with the bot in a Slack workspace."""

    standin: SlackStandIn
    user_id: str

    @property
    def inbox(self) -> list[Posted]:
        return self.standin.messages_to(self.user_id)

    async def _replies(self, before: int, expect: int) -> list[Posted]:
        return (await self.standin.wait_for_messages(self.user_id, before + expect))[before:]

    async def says(self, text: str, expect: int = 1) -> list[Posted]:
        before = len(self.inbox)
        self.standin.user_writes(self.user_id, text)
        return await self._replies(before, expect)

    async def starts_update(self, item: int, status: str, assigned: int) -> None:
        items = (await self.says("mine", expect=1 + assigned))[1:]
        await self.clicks("Give an update", on=items[item])
        await self.clicks(status)

    async def writes(self, text: str) -> str:
        """Write and wait for the one reply; the event_id, to deliver it again."""
        before = len(self.inbox)
        event_id = self.standin.user_writes(self.user_id, text)
        await self._replies(before, 1)
        return event_id

    def last_with(self, label: str) -> Posted:
        return next(m for m in reversed(self.inbox) if label in m.buttons)

    async def clicks(self, label: str, on: Posted | None = None, expect: int = 1) -> list[Posted]:
        before = len(self.inbox)
        self.standin.user_clicks(self.user_id, on or self.last_with(label), label)
        return await self._replies(before, expect)

    async def answers_in_modal(self, answer: str, expect: int = 1) -> list[Posted]:
        """Press "Write the answer" on the last question, type, submit."""
        views = len(self.standin.views)
        self.standin.user_clicks(self.user_id, self.last_with("Write the answer"), "Write the answer")
        while len(self.standin.views) == views:
            await asyncio.sleep(0.01)
        before = len(self.inbox)
        self.standin.user_submits(self.user_id, self.standin.views[-1], answer)
        return await self._replies(before, expect)

    async def fills_form(self, label: str, values: dict[str, str], on: Posted | None = None, expect: int = 1) -> list[Posted]:
        """Press the button that opens a form, fill it in, submit it."""
        views = len(self.standin.views)
        self.standin.user_clicks(self.user_id, on or self.last_with(label), label)
        while len(self.standin.views) == views:
            await asyncio.sleep(0.01)
        before = len(self.inbox)
        self.standin.user_fills(self.user_id, self.standin.views[-1], values)
        return await self._replies(before, expect)

    async def uploads(self, name: str, mime: str, size: int, expect: int = 1) -> list[Posted]:
        before = len(self.inbox)
        self.standin.user_uploads(self.user_id, name, mime, size)
        return await self._replies(before, expect)

    async def runs(self, command: str, text: str, expect: int = 1) -> list[Posted]:
        before = len(self.inbox)
        self.standin.user_runs(self.user_id, command, text)
        return await self._replies(before, expect)
