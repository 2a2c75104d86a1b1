"""The platforms' send rates, kept before they are enforced on us.

Telegram: about 30 messages a second in all, one a second to one chat.
Slack: about one message a second to one channel (chat.postMessage, "special"
tier); its workspace-wide limits answer 429 with Retry-After, which the
transport waits out. A 429 still arriving is waited out by the transport;
these buckets keep it rare.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from aiolimiter import AsyncLimiter

from storage.enums import Platform

# Per-chat limiters are cheap but not free: keep the recently used ones.
_MAX_CHATS = 20_000


@dataclass
class SendLimits:
    # Just under Telegram's 30: its count is over any one-second window.
    per_platform: dict[Platform, float] = field(default_factory=lambda: {Platform.TELEGRAM: 29.0, Platform.SLACK: 50.0})
    per_chat: dict[Platform, float] = field(default_factory=lambda: {Platform.TELEGRAM: 1.0, Platform.SLACK: 1.0})

    def __post_init__(self) -> None:
        # Evenly paced, one at a time: a bucket that allows a burst of N
        # then N a second can put more than N into one sliding second, which
        # the platform answers with 429 and a one-second wait.
        self._platform = {p: AsyncLimiter(1, 1 / rate) for p, rate in self.per_platform.items()}
        self._chats: OrderedDict[tuple[Platform, str], AsyncLimiter] = OrderedDict()

    async def acquire(self, platform: Platform, chat_id: str) -> None:
        key = (platform, chat_id)
        chat = self._chats.get(key)
        if chat is None:
            chat = self._chats[key] = AsyncLimiter(1, 1 / self.per_chat.get(platform, 1.0))
            if len(self._chats) > _MAX_CHATS:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(key)
        await chat.acquire()
        if platform in self._platform:
            await self._platform[platform].acquire()
