"""Keeping the background loops alive: the outbox, the reminder planner, the
sweeps, each platform's connection.

A loop that meets an error (the database gone, the network to a platform
down, a bug) does not end: it waits and tries again, longer each time up to
a minute, and says so once when the trouble starts and once when it is over,
not at every try. Each loop keeps a ``LoopHealth`` that ``/healthz`` reads,
so a loop that is failing or has stopped turns the check red.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.clock import Clock, wall_clock
from storage.database import is_unavailable

# Waits between tries: 1, 2, 4 ... seconds, at most a minute, jittered.
FIRST_WAIT = 1.0
LONGEST_WAIT = 60.0


@dataclass
class LoopHealth:
    """What one loop is doing, for /healthz and the log."""

    name: str
    log: logging.Logger
    clock: Clock = wall_clock
    running: bool = False
    failing_since: datetime | None = None
    last_error: str | None = None
    # Set when trying again cannot help (a rejected token): the loop has stopped.
    given_up: str | None = None
    tries: int = 0
    # A scheduled job in the middle of a run, which a clean stop waits for.
    busy: bool = False
    first_wait: float = FIRST_WAIT
    longest_wait: float = LONGEST_WAIT
    # What counts as an outage (one line in the log) rather than a bug (a traceback).
    expected: Callable[[BaseException], bool] = is_unavailable

    def report(self) -> dict[str, Any]:
        if self.given_up is not None:
            return {"ok": False, "state": "stopped", "reason": self.given_up}
        if self.failing_since is not None:
            return {"ok": False, "state": "failing", "since": self.failing_since.isoformat(), "reason": self.last_error, "tries": self.tries}
        if not self.running:
            return {"ok": False, "state": "not running"}
        return {"ok": True, "state": "ok"}

    def failed(self, exc: BaseException) -> float:
        """Note a failed try; how long to wait before the next one."""
        reason = describe(exc)
        # An outage is named in one line; anything else is a bug, whose
        # traceback the administrator needs (once).
        details = None if self.expected(exc) else exc
        if self.failing_since is None:
            self.failing_since = self.clock()
            self.log.warning("%s: %s; trying again until it works", self.name, reason, exc_info=details)
        elif reason != self.last_error:
            self.log.warning("%s: still failing, now: %s", self.name, reason, exc_info=details)
        self.last_error = reason
        self.tries += 1
        wait = min(self.first_wait * 2 ** (self.tries - 1), self.longest_wait)
        return wait * random.uniform(0.75, 1.25)

    def succeeded(self) -> None:
        if self.failing_since is not None:
            seconds = (self.clock() - self.failing_since).total_seconds()
            self.log.warning("%s: working again after %s failed tries (%.0f s)", self.name, self.tries, seconds)
        self.failing_since, self.last_error, self.tries = None, None, 0

    def give_up(self, reason: str) -> None:
        self.given_up = reason
        self.running = False
        self.log.error("%s: %s", self.name, reason)


def describe(exc: BaseException) -> str:
    """One line naming the error, never its traceback."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, or less if asked to stop."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass


def guarded(health: LoopHealth, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    """A scheduler job that records its outcome instead of raising: the
    scheduler runs it again at its next interval whatever happened."""

    async def run() -> None:
        health.running = health.busy = True
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is an outage of this job until it works again
            health.failed(exc)
        else:
            health.succeeded()
        finally:
            health.busy = False

    return run


async def keep_trying(
    health: LoopHealth,
    stop: asyncio.Event,
    attempt: Callable[[], Awaitable[object]],
    *,
    fatal: Callable[[BaseException], str | None] = lambda _exc: None,
) -> bool:
    """Call ``attempt`` until it succeeds (True) or ``stop`` is set or the
    error is fatal (False): a platform's start, say."""
    while not stop.is_set():
        try:
            await attempt()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported through health and one log line
            reason = fatal(exc)
            if reason is not None:
                health.give_up(reason)
                return False
            await pause(stop, health.failed(exc))
            continue
        health.succeeded()
        return True
    return False


async def poll(health: LoopHealth, stop: asyncio.Event, once: Callable[[], Awaitable[int]], idle: float) -> None:
    """Call ``once`` until ``stop``: again at once while it finds work (a
    count above 0), after ``idle`` seconds when it found none. No error ends
    it: the database or a platform gone, or a bug, is reported through
    ``health`` and tried again with a growing wait (the outbox, evidence)."""
    health.running = True
    try:
        while not stop.is_set():
            try:
                found = await once()
            except Exception as exc:  # noqa: BLE001 - the loop outlives every outage
                await pause(stop, health.failed(exc))
                continue
            health.succeeded()
            if not found:
                await pause(stop, idle)
    finally:
        health.running = False


@dataclass
class Loops:
    """Every supervised loop of the process, by name."""

    clock: Clock = wall_clock
    loops: dict[str, LoopHealth] = field(default_factory=dict)

    def add(self, name: str, log: logging.Logger) -> LoopHealth:
        health = LoopHealth(name, log, self.clock)
        self.loops[name] = health
        return health

    def report(self) -> dict[str, dict[str, Any]]:
        return {name: health.report() for name, health in self.loops.items()}
