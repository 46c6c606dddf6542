"""The shared timeline on a virtual clock: two instances' buckets reserve slices of one timeline
and together never put more than the rate in any second."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from scheduler.rate_limit import SharedBucket


class Timeline:
    """What store.rate_slots does in PostgreSQL, on the virtual clock."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.next_at = 0.0
        self.reservations = 0

    async def reserve(self, seconds: float, hold: float) -> tuple[float, float]:
        self.reservations += 1
        self.next_at = max(self.next_at, self.clock[0] + hold) + seconds
        # the database's clock is not this one: a thousand seconds ahead
        return self.next_at + 1000, self.clock[0] + 1000


def shared_sleep(clock: list[float], late: float = 0.0) -> Callable[[float], Awaitable[None]]:
    """A sleep on one virtual clock for several instances: the clock moves to the earliest
    wake-up; `late` wakes each sleeper that much after it asked (a busy event loop)."""
    sleepers: list[float] = []

    async def sleep(seconds: float) -> None:
        wake = clock[0] + seconds + late
        sleepers.append(wake)
        while clock[0] < wake:
            await asyncio.sleep(0)
            if min(sleepers) == wake:
                clock[0] = wake
        sleepers.remove(wake)

    return sleep


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + 1 - 1e-9) for t in times)


async def test_two_buckets_on_one_timeline_stay_within_one_rate() -> None:
    clock = [0.0]
    sleep = shared_sleep(clock)

    timeline = Timeline(clock)
    buckets = [
        SharedBucket(20, timeline.reserve, clock=lambda: clock[0], sleep=sleep) for _ in range(2)
    ]
    sent: list[float] = []

    async def instance(bucket: SharedBucket) -> None:
        for _ in range(60):
            await bucket.acquire()
            sent.append(clock[0])

    await asyncio.gather(*(instance(b) for b in buckets))
    assert len(sent) == 120
    assert most_in_one_second(sent) <= 20
    # one statement per slice (a quarter second, five sends here), not one per send
    assert timeline.reservations <= 120 / 5 + 2


async def test_a_retry_after_holds_back_the_next_reservation() -> None:
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    timeline = Timeline(clock)
    bucket = SharedBucket(10, timeline.reserve, clock=lambda: clock[0], sleep=sleep)
    await bucket.acquire()
    bucket.pause(5)
    await bucket.acquire()
    assert clock[0] >= 5


class SlowTimeline(Timeline):
    """A reservation that waits for the row lock before the database reads its clock (another
    instance's reservation committing), then comes back at once: the read is late in the round
    trip, not in its middle."""

    def __init__(self, clock: list[float], sleep: object, wait: float) -> None:
        super().__init__(clock)
        self.sleep = sleep
        self.wait = wait
        self.calls = 0

    async def reserve(self, seconds: float, hold: float) -> tuple[float, float]:
        self.calls += 1
        if self.calls % 2 == 0:
            # every other one waits: the instances' reservations meet at the row lock
            await self.sleep(self.wait)  # type: ignore[operator]
        return await super().reserve(seconds, hold)


async def test_a_reservation_that_waited_for_the_lock_is_not_placed_early() -> None:
    clock = [0.0]
    sleep = shared_sleep(clock)

    rate = 20
    timeline = SlowTimeline(clock, sleep, wait=0.04)
    buckets = [
        SharedBucket(rate, timeline.reserve, clock=lambda: clock[0], sleep=sleep) for _ in range(2)
    ]
    sent: list[float] = []

    async def instance(bucket: SharedBucket) -> None:
        for _ in range(100):
            await bucket.acquire()
            sent.append(clock[0])

    await asyncio.gather(*(instance(b) for b in buckets))
    assert most_in_one_second(sent) <= rate
    # every send at least three quarters of a slot after the one before, whichever instance made it
    gaps = [b - a for a, b in zip(sorted(sent), sorted(sent)[1:], strict=False)]
    assert min(gaps) >= 0.75 / rate - 1e-9
    # and the round trips cost little of the rate: 200 sends in about 10 s
    assert max(sent) < 200 / rate * 1.15


class FirstSlowTimeline(Timeline):
    """The first reservations' round trips are slow (a loaded machine), the later ones quick:
    each slice then reserves room for the slow round trip's uncertainty, more than its slots."""

    def __init__(self, clock: list[float], sleep: object, slow: int, wait: float) -> None:
        super().__init__(clock)
        self.sleep = sleep
        self.slow = slow
        self.wait = wait

    async def reserve(self, seconds: float, hold: float) -> tuple[float, float]:
        if self.reservations < self.slow:
            await self.sleep(self.wait)  # type: ignore[operator]
        return await super().reserve(seconds, hold)


async def test_a_late_send_in_a_wide_slice_stays_a_slot_from_the_next_instance() -> None:
    clock = [0.0]
    # a busy event loop wakes a little late, within what a slot allows (a quarter of 25 ms)
    sleep = shared_sleep(clock, late=0.004)

    rate = 40
    # the slow round trip (12 ms) widens each slice by 12 ms: more than the lateness a slot
    # allows, less than a slot
    timeline = FirstSlowTimeline(clock, sleep, slow=1, wait=0.012)
    buckets = [
        SharedBucket(rate, timeline.reserve, clock=lambda: clock[0], sleep=sleep) for _ in range(2)
    ]
    sent: list[float] = []

    async def instance(bucket: SharedBucket) -> None:
        for _ in range(120):
            await bucket.acquire()
            sent.append(clock[0])

    await asyncio.gather(*(instance(b) for b in buckets))
    # each send lies in a slot of its own, whichever instance made it: never closer to the one
    # before than a slot less the lateness a slot allows (16 ms at 40/s before the fix: a last
    # slot that only started inside its slice; 42 sends in one second in a CI run)
    gaps = [b - a for a, b in zip(sorted(sent), sorted(sent)[1:], strict=False)]
    assert min(gaps) >= 1 / rate - 0.25 / rate - 1e-9
    assert most_in_one_second(sent) <= rate + 1
