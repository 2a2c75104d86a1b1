"""How an invite code is handed out on each platform, for a handler that
cannot ask the platforms itself: the bot's Telegram username makes the deep
link. It is known only once the Telegram transport has connected (getMe), so
it is read when an invite is made, not when the engine is built."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _no_telegram() -> str | None:
    return None


@dataclass(frozen=True)
class InviteLinks:
    # The bot's Telegram username, or None without Telegram (the code then works as /start CODE).
    telegram_username: Callable[[], str | None] = _no_telegram

    def telegram_link(self, code: str) -> str | None:
        username = self.telegram_username()
        return f"https://t.me/{username}?start={code}" if username else None
