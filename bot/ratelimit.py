"""The platforms' send rates, kept before they are enforced on us.

Telegram: about 30 messages a second in all, one a second to one chat.
Slack: about one message a second to one channel (chat.postMessage, "special"
tier); its workspace-wide limits answer 429 with Retry-After, which the
transport waits out. A 429 still arriving is waited out by the transport;
these paces keep it rare.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from storage.enums import Platform

# Per-chat paces are cheap but not free: keep the recently used ones.
_MAX_CHATS = 20_000


class Pace:
    """Sends evenly spaced ``1 / rate`` seconds apart, each given its slot on
    a timeline when it asks, in the order asked.

    A leaky bucket that admits one at a time (aiolimiter's with a capacity of
    one) reckons the next admission from when the last waiter actually woke;
    a timer fires a millisecond or so late, and at 30 a second those
    milliseconds cost a few percent of the rate. Here the slots stand on
    their own: a waiter that wakes late does not move the ones after it.

    ``window`` (count, seconds) is the platform's own rule, never more than
    count sends in any such span. With it, slots missed while the process
    was held up (a planning run, a busy machine) for up to ``catch_up``
    seconds are sent at once when it is back, as far as that rule allows,
    rather than lost; without it, an idle spell starts the timeline again
    from now, so no burst follows it.

    The rule is reckoned from when each send went, not from its slot,
    where its waiter woke more than ``late`` after it: reckoned from the
    slot, the send ``count`` later would follow it by less than the span
    and arrive within the platform's second, a 429 that costs its slot and
    a retry. A waiter late by less keeps its slot in the reckoning, so the
    small lateness of every timer costs no rate; the window's own spare
    (1.02 s for Telegram's second) covers it."""

    def __init__(
        self,
        rate: float,
        *,
        window: tuple[int, float] | None = None,
        catch_up: float = 0.0,
        late: float = 0.01,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"a pace needs a rate above 0 a second, not {rate!r}")
        if window is not None and (window[0] < 1 or not window[1] > 0):
            raise ValueError(f"a pace's window needs a count of at least 1 and a span above 0 seconds, not {window!r}")
        self.interval = 1.0 / rate
        self.window = window
        self.catch_up = catch_up if window is not None else 0.0
        self.late = late
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        # The last window[0] sends' times, oldest first: each its slot, or
        # when its waiter woke if that was more than ``late`` after it.
        self._recent: deque[list[float]] = deque(maxlen=window[0] if window is not None else 1)

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def reserve(self) -> float:
        """The next free slot, taken: the clock time at which to send."""
        return self._reserve()[0]

    def _reserve(self) -> list[float]:
        now = self._now()
        nominal = max(self._next, now - self.catch_up)
        if self.window is not None and len(self._recent) == self.window[0]:
            nominal = max(nominal, self._recent[0][0] + self.window[1])
        self._next = nominal + self.interval
        sent = [max(nominal, now)]
        self._recent.append(sent)
        return sent

    async def acquire(self) -> None:
        sent = self._reserve()
        wait = sent[0] - self._now()
        if wait > 0:
            await self._sleep(wait)
        sent[0] = max(sent[0], self._now() - self.late)


@dataclass
class SendLimits:
    # Telegram refuses a 31st message within any one second. Thirty sends
    # spaced 1/29.4 s apart span 1.02 s: 20 ms to spare for the jitter
    # between our clock and the moment each request reaches Telegram.
    per_platform: dict[Platform, float] = field(default_factory=lambda: {Platform.TELEGRAM: 29.4, Platform.SLACK: 50.0})
    per_chat: dict[Platform, float] = field(default_factory=lambda: {Platform.TELEGRAM: 1.0, Platform.SLACK: 1.0})
    # Telegram's rule itself, with the same 20 ms to spare: at most 30 in any
    # 1.02 s, so what a hold-up of the process missed goes out after it.
    windows: dict[Platform, tuple[int, float]] = field(default_factory=lambda: {Platform.TELEGRAM: (30, 1.02)})
    catch_up: float = 1.0
    clock: Callable[[], float] | None = None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def __post_init__(self) -> None:
        for what, rates in (("per_platform", self.per_platform), ("per_chat", self.per_chat)):
            for platform, rate in rates.items():
                if not rate > 0:
                    raise ValueError(f"send limits: {what} rate for {platform.value} must be above 0 a second, not {rate!r}")
        self._platform = {
            p: Pace(rate, window=self.windows.get(p), catch_up=self.catch_up, clock=self.clock, sleep=self.sleep)
            for p, rate in self.per_platform.items()
        }
        self._chats: OrderedDict[tuple[Platform, str], Pace] = OrderedDict()

    async def acquire(self, platform: Platform, chat_id: str) -> None:
        """Wait for the chat's turn, then for the platform's."""
        await self.acquire_chat(platform, chat_id)
        await self.acquire_platform(platform)

    async def acquire_chat(self, platform: Platform, chat_id: str) -> None:
        key = (platform, chat_id)
        chat = self._chats.get(key)
        if chat is None:
            chat = self._chats[key] = Pace(self.per_chat.get(platform, 1.0), clock=self.clock, sleep=self.sleep)
            if len(self._chats) > _MAX_CHATS:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(key)
        await chat.acquire()

    async def acquire_platform(self, platform: Platform) -> None:
        pace = self._platform.get(platform)
        if pace is not None:
            await pace.acquire()
