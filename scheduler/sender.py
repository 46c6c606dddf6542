"""Drain the outbox through the channel adapters, within each channel's rate limit.

Temporary failures come back later with exponential backoff (or the provider's retry-after);
permanent ones are recorded and never retried. One worker per channel, so a slow mail server
does not hold up Telegram; within a channel a claimed batch goes out a few sends at a time, and
its outcomes are recorded a few dozen at a time, each group in one transaction, while the next
sends go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Button, Channel, ChannelError, OutgoingMessage, TemporaryError
from scheduler.rate_limit import Bucket
from scheduler.timeliness import Refresh, delivered_many, hold_back_untimely
from store import outbox
from store.models import OutboxMessage
from store.vocabulary import OUT_OF_ATTEMPTS

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)
# sends in flight per channel: a few hide the provider's round trip; many make
# python-telegram-bot slower (httpcore scans its pool per request, PERF-NOTES) and exceed the
# Telegram adapter's connection pool of 8
IN_FLIGHT = 6
# rows one claim takes at most: a claim and its checks cost about five statements, so a big
# claim makes them few per message; the lease is renewed while the batch goes out, and a crash
# delays the batch by one lease at most
CLAIM = 500
# but no more than this many seconds of sending at the channel's rate (and not under
# MIN_CLAIM): a rate-limited channel would otherwise hold minutes of work in one instance while
# the others wait, and a crash would delay all of it
CLAIM_SECONDS = 2.0
MIN_CLAIM = 50
# a send the provider accepted but that is not recorded yet is sent again after a crash (at
# least once): no more than UNRECORDED sends are ever accepted-or-in-flight and not recorded
# (as many as the 50-row batches of before), and outcomes are recorded FLUSH at a time, so a
# few sends may still start while a group is being recorded
UNRECORDED = 50
FLUSH = 40


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 30.0

    def wait(self, attempts: int, retry_after: float | None) -> timedelta:
        backoff = timedelta(seconds=self.base_seconds * 2 ** max(attempts - 1, 0))
        if retry_after is not None:
            backoff = max(backoff, timedelta(seconds=retry_after))
        return min(backoff, MAX_BACKOFF)


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, other: DrainResult) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed


def to_outgoing(row: OutboxMessage) -> OutgoingMessage:
    payload = row.payload
    return OutgoingMessage(
        outbox_id=row.id,
        channel=row.channel,
        address=row.address,
        language=row.language,
        text=payload["text"],
        rtl=bool(payload.get("rtl")),
        subject=payload.get("subject"),
        html=payload.get("html"),
        buttons=tuple(Button(b["label"], b["value"]) for b in payload.get("buttons", [])),
        kind=row.kind,
        question=row.question,
        reply_token=payload.get("reply_token"),
        unsubscribe_url=payload.get("unsubscribe_url"),
    )


# records a permanent failure (with its reason) and acts on it (the ladder), in one transaction
OnFailure = Callable[[AsyncSession, OutboxMessage, str, datetime], Awaitable[object]]


class Sender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        buckets: Mapping[str, Bucket],
        policy: RetryPolicy,
        batch: int = CLAIM,
        on_failure: OnFailure | None = None,
        refresh: Refresh | None = None,
        in_flight: int = IN_FLIGHT,
        flush: int = FLUSH,
    ) -> None:
        self.in_flight = in_flight
        self.flush = flush
        self.on_failure = on_failure
        self.refresh = refresh
        self.sessions = sessions
        self.channels = channels
        self.buckets = buckets
        self.policy = policy
        self.batch = batch
        self.stopping = False

    async def drain(self, clock: Callable[[], datetime], limit: int | None = None) -> DrainResult:
        """Send what is due on every channel until nothing is left (or `limit` per channel)."""
        results = await asyncio.gather(
            *(self._drain_channel(name, clock, limit) for name in self.channels)
        )
        total = DrainResult()
        for result in results:
            total.add(result)
        return total

    def stop(self) -> None:
        """Stop claiming: each worker finishes the message it is sending, gives back the rest
        of its batch and returns (SIGTERM). Safe to call from a signal handler."""
        self.stopping = True

    async def _drain_channel(
        self, name: str, clock: Callable[[], datetime], limit: int | None
    ) -> DrainResult:
        result = DrainResult()
        handled = 0
        while not self.stopping and (limit is None or handled < limit):
            size = self._claim_size(name)
            size = size if limit is None else min(size, limit - handled)
            async with self.sessions.begin() as session:
                rows, claimed = await outbox.claim_sendable(session, name, clock(), size)
                rows = await hold_back_untimely(session, rows, clock(), self.refresh)
            if not claimed:
                break
            await self._send_batch(name, rows, clock, result)
            handled += claimed
            if claimed < size:
                # nothing else was due when the claim ran: asking again costs a statement, and
                # what came in since goes on the next pass
                break
        return result

    def _claim_size(self, name: str) -> int:
        by_rate = max(MIN_CLAIM, int(self.buckets[name].rate * CLAIM_SECONDS))
        return min(self.batch, by_rate)

    async def _send_batch(
        self,
        name: str,
        rows: list[OutboxMessage],
        clock: Callable[[], datetime],
        result: DrainResult,
    ) -> None:
        """Send a claimed batch, up to `in_flight` at a time, recording the outcomes `flush`
        at a time in one transaction each, beside the sends (a send never waits for the
        bookkeeping of the ones before it: at a high rate that pause is what the rate loses).
        Messages to one address go one after the other, in order (a question before its
        follow-up, and Telegram's per-chat pace); different addresses go side by side. The
        lease is renewed before it runs low and only rows still held are sent; on stop, what
        was not started is given back."""
        if not rows:
            return
        token = rows[0].claimed_until
        assert token is not None  # a claim always sets it
        lease = _Lease(token, {r.id for r in rows})
        by_address: dict[str, list[OutboxMessage]] = {}
        for row in rows:
            by_address.setdefault(row.address, []).append(row)
        queue = deque(by_address.values())
        waiting: list[_Outcome] = []
        started: set[int] = set()
        enough = asyncio.Event()
        # sends started and not recorded yet (in flight, waiting, being recorded)
        unrecorded = 0
        room = asyncio.Condition()
        sending = True
        recorder_gone = False

        # at least a group: a worker waiting for room is always let go by a recording
        cap = max(UNRECORDED, self.flush)

        async def recorder() -> None:
            nonlocal unrecorded, recorder_gone
            try:
                while True:
                    await enough.wait()
                    enough.clear()
                    outcomes = waiting[:]
                    del waiting[:]
                    await self._record(name, outcomes, lease, clock, result)
                    async with room:
                        unrecorded -= len(outcomes)
                        room.notify_all()
                    if not sending and not waiting:
                        return
            finally:
                # a failed recording lets the waiting workers go (and stop)
                recorder_gone = True
                async with room:
                    room.notify_all()

        recording = asyncio.create_task(recorder())

        def has_room() -> bool:
            return unrecorded < cap or recorder_gone

        async def worker() -> None:
            nonlocal unrecorded
            # a recorder that failed (the database away) stops the sends: nothing more goes
            # out that could not be recorded
            while queue and not self.stopping and not recorder_gone:
                for row in queue.popleft():
                    async with room:
                        await room.wait_for(has_room)
                        if self.stopping or recorder_gone:
                            return
                        unrecorded += 1
                    if not await self._still_held(lease, row, name, clock):
                        async with room:
                            unrecorded -= 1
                            room.notify_all()
                        continue
                    started.add(row.id)
                    waiting.append(await self._attempt(name, row, clock))
                    if len(waiting) >= self.flush:
                        enough.set()

        try:
            await asyncio.gather(*(worker() for _ in range(min(self.in_flight, len(queue)))))
        finally:
            sending = False
            enough.set()
            await recording
        left = [r.id for r in rows if r.id not in started and r.id in lease.held]
        if left:
            async with self.sessions.begin() as session:
                await outbox.release(session, left, lease.token)

    async def _still_held(
        self, lease: _Lease, row: OutboxMessage, name: str, clock: Callable[[], datetime]
    ) -> bool:
        """Renew the batch's lease if it runs low (one statement for every row still held);
        whether this row is still this sender's to send."""
        if lease.token - clock() < outbox.RENEW_WHEN_LEFT:
            # the lock only when renewing: a send does not wait for the outcomes being recorded
            async with lease.lock:
                if lease.token - clock() < outbox.RENEW_WHEN_LEFT:
                    async with self.sessions.begin() as session:
                        lease.token, lease.held = await outbox.renew(
                            session, lease.held, lease.token, clock()
                        )
        if row.id not in lease.held:
            # the lease ran out (a stalled event loop, a clock jump) and another sender may
            # have taken the row: it is theirs now
            log.warning("outbox %s on %s: lease lost, left to another sender", row.id, name)
            return False
        return True

    async def _attempt(
        self, name: str, row: OutboxMessage, clock: Callable[[], datetime]
    ) -> _Outcome:
        channel = self.channels[name]
        bucket = self.buckets[name]
        await bucket.acquire()
        try:
            try:
                sent = await channel.send(to_outgoing(row))
            except ChannelError:
                raise
            except Exception as exc:
                # an adapter bug must not leave the row claimed until its lease runs out; the
                # type alone is logged, as an exception's text may carry an address
                raise TemporaryError(f"unexpected {type(exc).__name__}") from exc
        except ChannelError as exc:
            if exc.retry_after and not self._gives_up(row, exc):
                # at once, not when the batch is recorded: the sends in flight beside this one
                # must hold back too
                bucket.pause(exc.retry_after)
            return _Outcome(row, clock(), error=exc)
        return _Outcome(row, clock(), provider_id=sent.provider_id)

    def _gives_up(self, row: OutboxMessage, exc: ChannelError) -> bool:
        return exc.permanent or row.attempts >= self.policy.max_attempts

    async def _record(
        self,
        name: str,
        outcomes: list[_Outcome],
        lease: _Lease,
        clock: Callable[[], datetime],
        result: DrainResult,
    ) -> None:
        """Outcomes in one transaction: the sends in two statements (the outbox rows, checked
        against the lease's token as they are updated, and the questions' clocks), the rare
        retries and failures row by row. Only rows still held under the token are recorded;
        the token does not change meanwhile (a renewal waits)."""
        if not outcomes:
            return
        async with lease.lock, self.sessions.begin() as session:
            sent = [o for o in outcomes if o.error is None]
            errors = [o for o in outcomes if o.error is not None]
            recorded = await outbox.mark_sent_held(
                session, [(o.row.id, o.provider_id, o.at) for o in sent], lease.token
            )
            if errors:
                recorded |= await outbox.still_held(
                    session, [o.row.id for o in errors], lease.token
                )
            for o in outcomes:
                if o.row.id not in recorded:
                    log.warning(
                        "outbox %s on %s: lease lost before its outcome was recorded",
                        o.row.id,
                        name,
                    )
            mine = [o for o in sent if o.row.id in recorded]
            await delivered_many(session, [(o.row, o.at) for o in mine])
            result.sent += len(mine)
            for o in errors:
                if o.error is not None and o.row.id in recorded:
                    await self._record_error(session, name, o.row, o.error, o.at, result)
        lease.held -= {o.row.id for o in outcomes}

    async def _record_error(
        self,
        session: AsyncSession,
        name: str,
        row: OutboxMessage,
        exc: ChannelError,
        at: datetime,
        result: DrainResult,
    ) -> None:
        if self._gives_up(row, exc):
            if not exc.permanent:
                # an outage that outlasts the retries says nothing about this address;
                # `outbox retry` sends these again
                await outbox.mark_failed(session, row.id, f"{OUT_OF_ATTEMPTS}: {exc.reason}")
            elif self.on_failure is not None:
                await self.on_failure(session, row, exc.reason, at)
            else:
                await outbox.mark_failed(session, row.id, exc.reason)
            result.failed += 1
            log.warning("outbox %s on %s failed: %s", row.id, name, exc.reason)
            return
        wait = self.policy.wait(row.attempts, exc.retry_after)
        await outbox.mark_retry(session, row.id, exc.reason, at + wait)
        result.retried += 1
        log.info("outbox %s on %s retry in %s: %s", row.id, name, wait, exc.reason)


@dataclass
class _Lease:
    """A batch's claim: its token (`claimed_until`) and the rows still held under it."""

    token: datetime
    held: set[int]
    # one renewal or one recording at a time: a recording checks the token it was given
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class _Outcome:
    """What one send came to, kept until the batch is recorded."""

    row: OutboxMessage
    at: datetime
    provider_id: str | None = None
    error: ChannelError | None = None
