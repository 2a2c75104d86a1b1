"""Working hours across DST changes, holidays and snoozes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from handlers.reminders.working_time import WorkingTime

UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_lisbon_keeps_nine_local_across_both_changes() -> None:
    lisbon = WorkingTime("Europe/Lisbon")
    # Summer time starts Sunday 29 March 2026 and ends Sunday 25 October 2026.
    assert lisbon.window(date(2026, 3, 27)).start == utc(2026, 3, 27, 9)  # type: ignore[union-attr]
    assert lisbon.window(date(2026, 3, 30)).start == utc(2026, 3, 30, 8)  # type: ignore[union-attr]
    assert lisbon.window(date(2026, 10, 23)).start == utc(2026, 10, 23, 8)  # type: ignore[union-attr]
    assert lisbon.window(date(2026, 10, 26)).start == utc(2026, 10, 26, 9)  # type: ignore[union-attr]
    assert lisbon.window(date(2026, 3, 29)) is None  # a Sunday


def test_asuncion_midnight_changes() -> None:
    # Paraguay moved its clocks at midnight: 1 October 2023 00:00 did not exist,
    # and 24 March 2024 00:00 happened twice. Working days on both sides keep 09:00.
    asuncion = WorkingTime("America/Asuncion", working_days=frozenset(range(7)))
    assert asuncion.window(date(2023, 9, 30)).start == utc(2023, 9, 30, 13)  # type: ignore[union-attr]
    assert asuncion.window(date(2023, 10, 1)).start == utc(2023, 10, 1, 12)  # type: ignore[union-attr]
    assert asuncion.window(date(2024, 3, 23)).start == utc(2024, 3, 23, 12)  # type: ignore[union-attr]
    assert asuncion.window(date(2024, 3, 24)).start == utc(2024, 3, 24, 13)  # type: ignore[union-attr]
    # An hour in the gap exists nowhere; it is taken as the first moment after
    # it: 01:00 at the new offset (-03), 04:00 UTC.
    midnight = WorkingTime("America/Asuncion", start=time(0), end=time(2), working_days=frozenset(range(7)))
    window = midnight.window(date(2023, 10, 1))
    assert (window.start, window.end) == (utc(2023, 10, 1, 4), utc(2023, 10, 1, 5))  # type: ignore[union-attr]


def test_apia_skipped_a_day_and_had_dst() -> None:
    apia = WorkingTime("Pacific/Apia", working_days=frozenset(range(7)))
    # Samoa jumped the date line: Friday 30 December 2011 never happened there.
    assert apia.window(date(2011, 12, 30)) is None
    assert apia.window(date(2011, 12, 29)).start == utc(2011, 12, 29, 19)  # type: ignore[union-attr]
    assert apia.window(date(2011, 12, 31)).start == utc(2011, 12, 30, 19)  # type: ignore[union-attr]
    # DST (UTC+14) ended 5 April 2020: nine o'clock moves by an hour in UTC.
    assert apia.window(date(2020, 4, 4)).start == utc(2020, 4, 3, 19)  # type: ignore[union-attr]
    assert apia.window(date(2020, 4, 6)).start == utc(2020, 4, 5, 20)  # type: ignore[union-attr]
    # After the 29th's window closes (17:00 local, 03:00 UTC) the next is the 31st.
    assert apia.next_window(utc(2011, 12, 30, 4)).day == date(2011, 12, 31)
    assert apia.add_working_days(date(2011, 12, 29), 1) == date(2011, 12, 31)


def test_public_holidays_and_weekends_are_skipped() -> None:
    uruguay = WorkingTime("America/Montevideo", country="UY")
    assert uruguay.window(date(2027, 1, 1)) is None  # New Year's Day, a Friday
    assert uruguay.window(date(2027, 7, 19)) is not None  # Monday after Constitution Day (a Sunday)
    assert uruguay.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert uruguay.next_window(utc(2026, 12, 31, 21)).day == date(2027, 1, 4)


def test_a_snooze_holds_everything_until_the_day_after() -> None:
    snoozed = WorkingTime("Europe/Lisbon", snoozed_until=date(2026, 12, 4))
    assert snoozed.window(date(2026, 12, 4)) is None
    assert snoozed.next_window(utc(2026, 12, 1, 10)).day == date(2026, 12, 7)


def test_next_window_inside_and_after_hours() -> None:
    lisbon = WorkingTime("Europe/Lisbon")
    inside = lisbon.next_window(utc(2026, 11, 23, 15))
    assert inside.day == date(2026, 11, 23) and inside.holds(utc(2026, 11, 23, 15))
    assert lisbon.next_window(utc(2026, 11, 23, 17)).day == date(2026, 11, 24)
    assert lisbon.next_window(utc(2026, 11, 27, 17) + timedelta(minutes=1)).day == date(2026, 11, 30)
