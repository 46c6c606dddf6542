"""The shared timeline on a virtual clock: two instances' buckets reserve slices of one timeline
and together never put more than the rate in any second."""

from __future__ import annotations

import asyncio

from scheduler.rate_limit import SharedBucket


class Timeline:
    """What store.rate_slots does in PostgreSQL, on the virtual clock."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.next_at = 0.0
        self.reservations = 0

    async def reserve(self, seconds: float, hold: float) -> float:
        self.reservations += 1
        self.next_at = max(self.next_at, self.clock[0] + hold) + seconds
        return self.next_at - self.clock[0]


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + 1 - 1e-9) for t in times)


async def test_two_buckets_on_one_timeline_stay_within_one_rate() -> None:
    clock = [0.0]
    sleepers: list[float] = []

    async def sleep(seconds: float) -> None:
        # both instances wait on one virtual clock: it moves to the earliest wake-up
        wake = clock[0] + seconds
        sleepers.append(wake)
        while clock[0] < wake:
            await asyncio.sleep(0)
            if min(sleepers) == wake:
                clock[0] = wake
        sleepers.remove(wake)

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
