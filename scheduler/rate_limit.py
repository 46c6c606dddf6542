"""Rate limits: at most `rate` sends per second per channel — a token bucket per process, or a
timeline shared by every instance on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol


class TokenBucket:
    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self) -> None:
        """Wait until one send is allowed, then take it."""
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                self._refill()
                # a hair under one is float rounding after an exact wait, not a missing token
                if self._tokens >= 1 - 1e-9:
                    self._tokens = max(self._tokens - 1, 0.0)
                    return
                await self._sleep((1 - self._tokens) / self.rate)

    def pause(self, seconds: float) -> None:
        """A provider said "retry after": nobody on this channel sends until then."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._tokens = 0


class Bucket(Protocol):
    """What the sender asks of a channel's rate limit."""

    # sends per second
    rate: float

    async def acquire(self) -> None: ...

    def pause(self, seconds: float) -> None: ...


# a rate no provider grants one sender: taken as "no limit", so there is nothing to share and
# each instance keeps its own bucket (the benchmarks set 1,000,000 to turn the limits off)
UNSHARED_RATE = 10_000.0

# reserves `seconds` of a channel's shared timeline, not before `hold` seconds from now; returns
# when the reserved slice ends and when the reservation was made, both in seconds on the
# database's clock (the timeline's)
Reserve = Callable[[float, float], Awaitable[tuple[float, float]]]
# reservations whose round trips the offset between the clocks is taken from
SAMPLES = 16


class SharedBucket:
    """`rate` sends per second on one channel for all instances together (PostgreSQL).

    Why a shared timeline rather than an elected sender: every instance keeps sending (a crashed
    one holds back nothing but the slice it reserved), and it costs one statement per slice of
    a quarter second, not one per send. Each send happens at the start of a slot of its own,
    1/rate wide, so no second of the timeline holds more than `rate` sends whichever instances
    made them; a slot this instance was too late for passes unused.

    Where a reserved slice lies on this instance's clock is known from the offset between the
    two clocks, and that only to within a round trip: the database read its clock somewhere
    between the question and the answer, late in it when the statement waited for another
    instance's reservation to commit. The offset is taken from the quickest of the recent
    round trips (as NTP does), and the slice is taken as starting as late as it can and ending
    as early as it can by that much. (Taking the middle of each reservation's own round trip
    put a slice early by up to half a lock wait, over the end of another instance's slice:
    two sends in one slot, one more than the rate in a second.)
    """

    def __init__(
        self,
        rate: float,
        reserve: Reserve,
        *,
        slice_seconds: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self._interval = 1 / rate
        # a send later than this into its slot waits for the next one: sends of adjacent slots
        # stay three quarters of a slot apart or more, so the provider's count (the benchmarks'
        # fake allows one more than the rate in a second) has room for the jitter of arrivals;
        # but a busy event loop is often a few milliseconds late, and at 200/s a quarter slot
        # (1.25 ms) lost a fifth of the rate to it, so never under 5 ms (nor over a whole slot)
        self._late = min(self._interval, max(self._interval / 4, 0.005))
        # at least one send per slice; a whole number of slots
        self._slots = max(1, round(rate * slice_seconds))
        # (offset of the database's clock from this one, round trip) of recent reservations
        self._samples: deque[tuple[float, float]] = deque(maxlen=SAMPLES)
        self._reserve = reserve
        self._clock = clock
        self._sleep = sleep
        self._slot = 0.0
        self._end = 0.0
        self._hold = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for a slot of the shared timeline, then take it."""
        async with self._lock:
            while True:
                now = self._clock()
                # a slot is a whole cell of the slice, not just its start: a send may be up to
                # `late` into its slot, and a last slot that merely started before the slice's end
                # put its send right beside the next instance's first (42 in a second at 40/s
                # once in CI, when a quick round trip left the slice wider than its slots)
                if self._slot + self._interval > self._end + 1e-9:
                    await self._next_slice(now)
                    continue
                if now < self._slot:
                    await self._sleep(self._slot - now)
                    continue
                if now >= self._slot + self._late:
                    # too late for this slot: sending now could put two sends close together
                    # at the next slot's start, which another instance may own
                    # at least one: float division can land a hair under a whole slot
                    missed = max(1, int((now - self._slot) / self._interval))
                    self._slot += missed * self._interval
                    continue
                self._slot += self._interval
                return

    async def _next_slice(self, now: float) -> None:
        hold, self._hold = max(self._hold - now, 0.0), 0.0
        # the slots, and room for the uncertainty of where they lie on this clock
        uncertain = min((rtt for _, rtt in self._samples), default=0.002)
        seconds = self._slots * self._interval + uncertain
        asked = self._clock()
        ends, read_at = await self._reserve(seconds, hold)
        answered = self._clock()
        offset, rtt = self._offset(read_at - (asked + answered) / 2, answered - asked)
        # the latest the slice can start and the earliest it can end, on this clock
        self._slot = ends - seconds - offset + rtt / 2
        self._end = ends - offset - rtt / 2

    def _offset(self, offset: float, rtt: float) -> tuple[float, float]:
        """The best estimate of the database clock's offset from this one, and within how
        much (a round trip: the true offset is within half of it either way)."""
        if self._samples:
            best, best_rtt = min(self._samples, key=lambda s: s[1])
            if abs(offset - best) > (rtt + best_rtt) / 2 + 1e-3:
                # the two cannot both hold: a clock was set, start over from this one
                self._samples.clear()
        self._samples.append((offset, rtt))
        return min(self._samples, key=lambda s: s[1])

    def pause(self, seconds: float) -> None:
        """A provider said "retry after": the rest of this slice goes unused, and the next
        reservation holds every instance back until then."""
        self._hold = max(self._hold, self._clock() + seconds)
        self._end = self._slot
