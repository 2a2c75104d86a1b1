"""Making a report ordered in chat through a database outage.

The order is taken in a turn that committed; the report is made afterwards,
in the background. If the database goes away in between (or while the file
is being written), trying again later is what helps: the job waits, longer
each time up to a minute, says so once in the log when the trouble starts
and once when the report is made after it, then sends the report. Anything
else (a bug, a full disk) fails at once, and the person is told. The wait
is bounded (``patience``), and given up when the process stops, so neither
a long outage nor a shutdown is held up by a report nobody can make now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from storage.database import is_unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ReportRetry:
    """How a report job waits for the database: 1, 2, 4 ... seconds, at most
    ``longest_wait``, for ``patience`` seconds of waiting in all."""

    first_wait: float = 1.0
    longest_wait: float = 60.0
    patience: float = 1800.0

    def wait(self, tries: int) -> float:
        return min(self.first_wait * 2 ** (tries - 1), self.longest_wait)


class ReportAbandoned(Exception):
    """The database stayed out of reach past the patience, or the process
    stopped meanwhile: the report was not made."""


Sleep = Callable[[float, asyncio.Event], Awaitable[None]]


async def pause(seconds: float, stopping: asyncio.Event) -> None:
    """Sleep, or less if the process stops."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


async def through_outages(
    make: Callable[[], Awaitable[T]],
    what: str,
    stopping: asyncio.Event,
    retry: ReportRetry = ReportRetry(),
    sleep: Sleep = pause,
) -> T:
    """``make()``, tried again while the database is out of reach. Raises
    what it raised if that is anything else, ReportAbandoned if the wait ran
    out or ``stopping`` was set."""
    tries, waited, outage = 0, 0.0, None
    while True:
        try:
            made = await make()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            tries += 1
            if outage is None:
                outage = exc.__class__.__name__
                log.warning("%s: the database is unavailable (%s); trying again until it is back", what, outage)
            wait = retry.wait(tries)
            if waited + wait > retry.patience:
                log.error("%s: not made, the database was out of reach for %.0f s (%s tries)", what, waited, tries)
                raise ReportAbandoned(what) from exc
            if stopping.is_set():
                log.warning("%s: not made, the bot is stopping while the database is out of reach", what)
                raise ReportAbandoned(what) from exc
            await sleep(wait, stopping)
            waited += wait
            continue
        if outage is not None:
            log.warning("%s: made after the database came back (%s failed tries, %.0f s)", what, tries, waited)
        return made
