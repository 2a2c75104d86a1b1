"""Retrying a send the way the platforms ask: wait what a 429 says, back off
on network errors, give up at once on what retrying cannot fix."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from handlers.chat_port import DeliveryFailed

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Verdict:
    """What to do about one failure: wait this long and retry, or give up (None)."""

    wait: float | None
    reason: str


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    first_backoff: float = 0.5
    max_backoff: float = 30.0
    # A platform asking for a longer pause than this is treated as down.
    max_wait: float = 300.0

    def backoff(self, attempt: int) -> float:
        return min(self.first_backoff * 2 ** (attempt - 1), self.max_backoff)


DEFAULT_RETRY = RetryPolicy()


async def with_retries(
    call: Callable[[], Awaitable[T]],
    judge: Callable[[Exception, int], Verdict],
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``call``; on a failure, ``judge`` says whether and how long to wait.
    A failure judged final is raised as it is; running out of attempts raises
    DeliveryFailed, so a caller can keep the message for later."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return await call()
        except Exception as exc:  # noqa: BLE001 - judged below
            verdict = judge(exc, attempt)
            if verdict.wait is None:
                raise
            if attempt == policy.attempts or verdict.wait > policy.max_wait:
                raise DeliveryFailed(f"gave up after {attempt} attempts: {verdict.reason}") from exc
            log.info("send failed (%s); retrying in %.1fs", verdict.reason, verdict.wait)
            await sleep(verdict.wait)
    raise AssertionError("unreachable")
