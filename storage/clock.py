"""What time it is, for everything below the composition root.

The application (the bot, a CLI command, the demo, a test) says once which
clock it runs on, with ``running_on(clock)``; every default timestamp of a
model, every "today" of a query and every audit entry below it reads that
clock. Without one, the wall clock in UTC. A context variable, like the
audit's actor, so it is not threaded through every call and two tasks can
run on different clocks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, date, datetime

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


_clock: ContextVar[Clock] = ContextVar("nmrf_clock", default=wall_clock)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime, on the clock in force."""
    now = _clock.get()()
    if now.tzinfo is None:
        raise ValueError("the clock gave a naive datetime: clocks give aware UTC times")
    return now.astimezone(UTC)


def today() -> date:
    """Today's date in UTC on the clock in force."""
    return utcnow().date()


@contextlib.contextmanager
def running_on(clock: Clock) -> Iterator[None]:
    token = _clock.set(clock)
    try:
        yield
    finally:
        _clock.reset(token)
