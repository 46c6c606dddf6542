"""Drain the outbox through the channel adapters, within each channel's rate limit.

Temporary failures come back later with exponential backoff (or the provider's retry-after);
permanent ones are recorded and never retried. One worker per channel, so a slow mail server
does not hold up Telegram.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Button, Channel, ChannelError, OutgoingMessage, TemporaryError
from scheduler.rate_limit import Bucket
from scheduler.timeliness import Refresh, delivered, hold_back_untimely
from store import outbox
from store.models import OutboxMessage
from store.vocabulary import OUT_OF_ATTEMPTS

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)


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
        batch: int = 50,
        on_failure: OnFailure | None = None,
        refresh: Refresh | None = None,
    ) -> None:
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
            size = self.batch if limit is None else min(self.batch, limit - handled)
            async with self.sessions.begin() as session:
                claimed = await outbox.claim(session, name, clock(), size)
                rows = await outbox.hold_back_opted_out(session, claimed)
                rows = await hold_back_untimely(session, rows, clock(), self.refresh)
            if not claimed:
                break
            await self._send_batch(name, rows, clock, result)
            handled += len(claimed)
        return result

    async def _send_batch(
        self,
        name: str,
        rows: list[OutboxMessage],
        clock: Callable[[], datetime],
        result: DrainResult,
    ) -> None:
        """Send a claimed batch, renewing the lease of what is left before it runs low and
        sending only rows still held; on stop, give back what was not sent."""
        if not rows:
            return
        token = rows[0].claimed_until
        assert token is not None  # a claim always sets it
        for index, row in enumerate(rows):
            left = [r.id for r in rows[index:]]
            if self.stopping:
                async with self.sessions.begin() as session:
                    await outbox.release(session, left, token)
                return
            if token - clock() < outbox.RENEW_WHEN_LEFT:
                async with self.sessions.begin() as session:
                    token, held = await outbox.renew(session, left, token, clock())
                if row.id not in held:
                    # the lease ran out (a stalled event loop, a clock jump) and another
                    # sender may have taken the row: it is theirs now
                    log.warning("outbox %s on %s: lease lost, left to another sender", row.id, name)
                    continue
            await self._send_one(name, row, clock, result)

    async def _send_one(
        self, name: str, row: OutboxMessage, clock: Callable[[], datetime], result: DrainResult
    ) -> None:
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
            async with self.sessions.begin() as session:
                if exc.permanent or row.attempts >= self.policy.max_attempts:
                    if not exc.permanent:
                        # an outage that outlasts the retries says nothing about this address;
                        # `outbox retry` sends these again
                        await outbox.mark_failed(
                            session, row.id, f"{OUT_OF_ATTEMPTS}: {exc.reason}"
                        )
                    elif self.on_failure is not None:
                        await self.on_failure(session, row, exc.reason, clock())
                    else:
                        await outbox.mark_failed(session, row.id, exc.reason)
                    result.failed += 1
                    log.warning("outbox %s on %s failed: %s", row.id, name, exc.reason)
                else:
                    if exc.retry_after:
                        bucket.pause(exc.retry_after)
                    wait = self.policy.wait(row.attempts, exc.retry_after)
                    await outbox.mark_retry(session, row.id, exc.reason, clock() + wait)
                    result.retried += 1
                    log.info("outbox %s on %s retry in %s: %s", row.id, name, wait, exc.reason)
            return
        async with self.sessions.begin() as session:
            await outbox.mark_sent(session, row.id, sent.provider_id, clock())
            await delivered(session, row, clock())
        result.sent += 1
