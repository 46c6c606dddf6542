"""Rate limits: at most `rate` sends per second per channel — a token bucket per process, or a
timeline shared by every instance on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import time
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

    async def acquire(self) -> None: ...

    def pause(self, seconds: float) -> None: ...


# a rate no provider grants one sender: taken as "no limit", so there is nothing to share and
# each instance keeps its own bucket (the benchmarks set 1,000,000 to turn the limits off)
UNSHARED_RATE = 10_000.0

# reserves `seconds` of a channel's shared timeline, not before `hold` seconds from now; returns
# in how many seconds the reserved slice ends
Reserve = Callable[[float, float], Awaitable[float]]


class SharedBucket:
    """`rate` sends per second on one channel for all instances together (PostgreSQL).

    Why a shared timeline rather than an elected sender: every instance keeps sending (a crashed
    one holds back nothing but the slice it reserved), and it costs one statement per slice of
    a quarter second, not one per send. Each send happens inside a slot of its own, 1/rate wide,
    so no second of the timeline holds more than `rate` sends whichever instances made them; a
    slot this instance was too late for passes unused.
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
        # at least one send per slice; a whole number of slots
        self._slots = max(1, round(rate * slice_seconds))
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
                if self._slot >= self._end - 1e-9:
                    hold, self._hold = max(self._hold - now, 0.0), 0.0
                    seconds = self._slots * self._interval
                    asked = self._clock()
                    ends = await self._reserve(seconds, hold)
                    # the database read its clock about halfway through the round trip
                    self._end = (asked + self._clock()) / 2 + ends
                    self._slot = self._end - seconds
                    continue
                if now < self._slot:
                    await self._sleep(self._slot - now)
                    continue
                if now >= self._slot + self._interval:
                    # too late for this slot: sending in the next one's time could put two sends
                    # in one slot of the timeline
                    # at least one: float division can land a hair under a whole slot
                    missed = max(1, int((now - self._slot) / self._interval))
                    self._slot += missed * self._interval
                    continue
                self._slot += self._interval
                return

    def pause(self, seconds: float) -> None:
        """A provider said "retry after": the rest of this slice goes unused, and the next
        reservation holds every instance back until then."""
        self._hold = max(self._hold, self._clock() + seconds)
        self._end = self._slot
