"""When a person may be written to: their working hours on their working
days, in their own time zone, never on a public holiday or while snoozed.

Local times are turned into UTC instants through zoneinfo, day by day, so a
DST change moves the UTC instant and never the local hour. A local day that
does not exist (Samoa skipped 30 December 2011 crossing the date line) has
no window at all.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cache, cached_property
from zoneinfo import ZoneInfo

from storage.validation import check_working_hours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Window:
    """One working day's sending window, as UTC instants."""

    day: date
    start: datetime
    end: datetime

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class WorkingTime:
    timezone: str
    start: time = time(9)
    end: time = time(17)
    working_days: frozenset[int] = frozenset(range(5))
    # ISO country code for public holidays (holidays package); None: none.
    country: str | None = None
    snoozed_until: date | None = None
    # The secretariat's closure days for this reader (storage.calendars).
    extra_closed: Container[date] = field(default_factory=frozenset)
    # The country's subdivision as the holidays package names it ("BY").
    subdivision: str | None = None

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _holidays(self) -> Container[date]:
        return country_holidays(self.country, self.subdivision) if self.country else frozenset()

    def is_working_day(self, day: date) -> bool:
        return (
            self._exists(day)
            and day.weekday() in self.working_days
            and day not in self._holidays
            and day not in self.extra_closed
            and not (self.snoozed_until is not None and day <= self.snoozed_until)
        )

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    @cached_property
    def _windows(self) -> dict[date, Window | None]:
        return {}

    def window(self, day: date) -> Window | None:
        """The day's window, or None on a day off, a holiday, while snoozed,
        or on a local day that does not exist."""
        # Kept per calendar, whose fields never change: a planner's tick asks
        # one calendar for the same few days for every person who shares it
        # (the notices, 30,000 times a minute for 10,000 people), and each
        # answer takes several time zone conversions.
        try:
            return self._windows[day]
        except KeyError:
            found = self._windows[day] = self._window(day)
            return found

    def _window(self, day: date) -> Window | None:
        if not self.is_working_day(day):
            return None
        start = self._instant(day, self.start)
        end = self._instant(day, self.end)
        if start is None or end is None or end <= start:
            return None
        return Window(day, start, end)

    def next_window(self, moment: datetime, horizon_days: int = 400) -> Window:
        """The window holding ``moment``, or the first one after it."""
        day = self.local_day(moment)
        for offset in range(horizon_days):
            window = self.window(day + timedelta(days=offset))
            if window is not None and window.end > moment:
                return window
        raise ValueError(f"no working window within {horizon_days} days after {moment} in {self.timezone}")

    def add_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day``."""
        while count > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def _exists(self, day: date) -> bool:
        noon = datetime.combine(day, time(12), tzinfo=self.zone).astimezone(timezone.utc)
        return noon.astimezone(self.zone).date() == day

    def _instant(self, day: date, at: time) -> datetime | None:
        local = datetime.combine(day, at, tzinfo=self.zone)
        instant = local.astimezone(timezone.utc)
        shown = instant.astimezone(self.zone)
        if shown.date() != day:
            return None  # the day itself does not exist here
        if shown.time() != at:
            # In a DST gap the hour does not exist: the instant zoneinfo gives
            # is the same wall time in the offset before the change, which
            # falls just after the gap. That is the first moment the hour
            # could mean, so it is kept.
            return instant
        return instant


@cache
def country_holidays(country: str, subdivision: str | None = None) -> Container[date]:
    """One calendar a place for the whole process: years fill in lazily.
    A subdivision's calendar holds the country's holidays and its own."""
    import holidays  # a fifth of a second to load: when a calendar is first needed

    return holidays.country_holidays(country, subdiv=subdivision)


def parse_hours(text: str) -> tuple[time, time]:
    """'09:00-17:00' as (start, end); InvalidValue saying what is wrong."""
    start, end = check_working_hours(text).split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def weekday_numbers(names: list[str]) -> frozenset[int]:
    return frozenset(WEEKDAYS.index(n) for n in names)
