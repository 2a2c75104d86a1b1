"""The send paces, on a clock the test moves: slots on a timeline, never
reckoned from when a waiter happened to wake."""

from __future__ import annotations

import pytest

from bot.ratelimit import Pace, SendLimits
from storage.enums import Platform


class Timeline:
    """A clock and a sleep that only moves it: each sleep is recorded."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_slots_are_evenly_spaced_in_the_order_asked() -> None:
    time = Timeline()
    pace = Pace(20, clock=time.clock, sleep=time.sleep)
    assert [pace.reserve() for _ in range(4)] == pytest.approx([100.0, 100.05, 100.1, 100.15])


async def test_a_waiter_that_wakes_late_does_not_push_back_the_slots_after_it() -> None:
    time = Timeline()
    pace = Pace(20, clock=time.clock, sleep=time.sleep)
    first, second = pace.reserve(), pace.reserve()
    # The second's timer fires 30 ms late (a busy process): the third keeps its slot.
    time.now = second + 0.03
    third = pace.reserve()
    assert (first, second, third) == pytest.approx((100.0, 100.05, 100.1))
    # A bucket reckoned from the late wake would have said 100.13.


async def test_after_an_idle_spell_the_timeline_starts_from_now_with_no_burst() -> None:
    time = Timeline()
    pace = Pace(10, clock=time.clock, sleep=time.sleep)
    pace.reserve()
    time.now = 160.0
    assert [pace.reserve(), pace.reserve()] == pytest.approx([160.0, 160.1])


async def test_acquire_sleeps_until_its_slot() -> None:
    time = Timeline()
    pace = Pace(4, clock=time.clock, sleep=time.sleep)
    for _ in range(3):
        await pace.acquire()
    assert time.slept == pytest.approx([0.25, 0.25])
    assert time.now == pytest.approx(100.5)


async def test_one_chat_waits_a_second_between_sends_while_other_chats_keep_the_platform_pace() -> None:
    time = Timeline()
    limits = SendLimits(per_platform={Platform.TELEGRAM: 29.4}, per_chat={Platform.TELEGRAM: 1.0}, windows={}, clock=time.clock, sleep=time.sleep)
    sent: list[tuple[str, float]] = []
    for chat in ("a", "b", "a", "c"):
        await limits.acquire(Platform.TELEGRAM, chat)
        sent.append((chat, time.now))
    at = dict(enumerate(t for _, t in sent))
    assert at[1] - at[0] == pytest.approx(1 / 29.4)
    # "a" again: a second after its first message, then the platform's pace.
    assert at[2] - at[0] == pytest.approx(1.0)
    assert at[3] - at[2] == pytest.approx(1 / 29.4)


def most_in_any(times: list[float], span: float) -> int:
    return max(sum(1 for u in times if t <= u < t + span) for t in times)


async def test_slots_missed_while_the_process_was_held_up_go_out_after_it_within_the_platforms_window() -> None:
    time = Timeline()
    pace = Pace(29.4, window=(30, 1.02), catch_up=1.0, clock=time.clock, sleep=time.sleep)
    sent = []
    for _ in range(60):
        await pace.acquire()
        sent.append(time.now)
    # Held up for 0.6 s (a planning run): about 17 slots went by.
    time.now += 0.6
    after = []
    for _ in range(60):
        await pace.acquire()
        after.append(time.now)
    missed = round(0.6 * 29.4)
    at_once = sum(1 for t in after if t - after[0] < 1e-9)
    assert missed - 2 <= at_once <= missed + 1, at_once
    everything = sent + after
    assert most_in_any(everything, 1.02 - 1e-9) <= 30
    # Over the whole run the average holds: nothing gained over the rate.
    assert (len(everything) - 1) / (everything[-1] - everything[0]) <= 29.4 * 1.0001
    # Without the window, the hold-up is lost: the timeline starts again from now.
    time = Timeline()
    plain = Pace(29.4, catch_up=1.0, clock=time.clock, sleep=time.sleep)
    plain.reserve()
    time.now += 0.6
    assert plain.reserve() == pytest.approx(time.now) and plain.reserve() == pytest.approx(time.now + 1 / 29.4)


async def test_a_waiter_that_woke_well_after_its_slot_holds_back_the_send_a_window_later() -> None:
    # A busy machine: most timers fire a few ms late, now and then one 40 ms.
    time = Timeline()

    async def late(seconds: float) -> None:
        n = len(time.slept)
        await time.sleep(seconds + (0.04 if n % 45 == 0 else 0.004 if n % 3 == 0 else 0.0))

    pace = Pace(29.4, window=(30, 1.02), clock=time.clock, sleep=late)
    went = []
    for _ in range(300):
        await pace.acquire()
        went.append(time.now)
    # Reckoned from the slots alone, the send 30 after a 40 ms late one went
    # 0.98 s after it: 31 sends within Telegram's second, the 31st refused.
    assert most_in_any(went, 1.01 - 1e-9) <= 30
    # The few ms most timers are late cost nothing; each 40 ms late one 30 ms,
    # seven of them here in 10 s (about 2 %), where a 429 would cost a slot
    # (34 ms) and a retry.
    assert (len(went) - 1) / (went[-1] - went[0]) >= 29.4 * 0.975


async def test_a_platform_without_a_pace_is_not_held_back() -> None:
    time = Timeline()
    limits = SendLimits(per_platform={Platform.TELEGRAM: 29.4}, per_chat={}, clock=time.clock, sleep=time.sleep)
    for chat in ("a", "b", "c"):
        await limits.acquire(Platform.SLACK, chat)
    # Slack's chats still get the default one a second each, all different here: no wait.
    assert time.slept == []


@pytest.mark.parametrize("rate", [0, -1.0])
def test_a_rate_that_is_not_above_zero_is_refused_by_name(rate: float) -> None:
    with pytest.raises(ValueError, match=r"per_platform rate for telegram must be above 0 a second"):
        SendLimits(per_platform={Platform.TELEGRAM: rate})
    with pytest.raises(ValueError, match=r"a pace needs a rate above 0 a second"):
        Pace(rate)
    with pytest.raises(ValueError, match=r"a pace's window needs a count of at least 1 and a span above 0 seconds"):
        Pace(30, window=(0, 1.0))
