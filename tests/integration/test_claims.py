"""Claims hold their limit and their lease, on SQLite and PostgreSQL.

PostgreSQL's planner turned `UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` into a
claim of the whole backlog; these tests count what every claim returns, on backlogs of 60 to
5,000, with claims racing each other. A provider that takes 7 s per message, longer than a batch's
lease, must not let a second sender send the same row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from bot.channels.base import OutgoingMessage, SendResult
from fikafollow.app import App
from scheduler.rate_limit import TokenBucket
from scheduler.sender import RetryPolicy, Sender
from store import followups, outbox
from store.models import FollowUp, Match, OutboxMessage, Participant, Programme
from store.vocabulary import FollowUpStatus, OutboxStatus

NOW = datetime(2026, 5, 25, 8, 0, tzinfo=UTC)
LIMIT = 50


async def person(app: App) -> tuple[int, int]:
    """A programme, a participant and a match; returns (participant id, match id)."""
    async with app.sessions.begin() as session:
        session.add(Programme(id="p", name="P", timezone="UTC", created_at=NOW))
        await session.flush()
        someone = Participant(
            programme_id="p",
            external_id="x",
            first_name="X",
            role="newcomer",
            language="sv",
            channel="sms",
            phone="+46701234567",
            created_at=NOW,
            updated_at=NOW,
        )
        match = Match(
            programme_id="p",
            external_id="m",
            matched_on=date(2026, 5, 1),
            kind="individual",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add_all([someone, match])
        await session.flush()
        return someone.id, match.id


async def backlog(app: App, count: int) -> None:
    participant_id, _ = await person(app)
    rows = [
        {
            "programme_id": "p",
            "participant_id": participant_id,
            "channel": "sms",
            "address": "+46701234567",
            "language": "sv",
            "kind": "thanks",
            "payload": {"text": f"message {i}", "rtl": False, "buttons": []},
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": NOW,
            "created_at": NOW,
        }
        for i in range(count)
    ]
    async with app.sessions.begin() as session:
        await session.execute(insert(OutboxMessage), rows)


@pytest.mark.parametrize("count", [60, 500, 5000])
async def test_outbox_claims_racing_each_other_each_take_at_most_their_limit(
    app: App, count: int
) -> None:
    await backlog(app, count)
    taken: list[int] = []
    sizes: list[int] = []

    async def claimer() -> None:
        while True:
            async with app.sessions.begin() as session:
                rows = await outbox.claim(session, "sms", NOW, LIMIT)
            if not rows:
                return
            sizes.append(len(rows))
            taken.extend(r.id for r in rows)

    await asyncio.gather(*(claimer() for _ in range(4)))
    assert max(sizes) <= LIMIT
    assert len(taken) == count == len(set(taken))
    async with app.sessions() as session:
        sending = await session.scalar(
            select(func.count()).where(OutboxMessage.status == OutboxStatus.SENDING)
        )
    assert sending == count


@pytest.mark.parametrize("count", [60, 5000])
async def test_followup_claims_racing_each_other_each_take_at_most_their_limit(
    app: App, count: int
) -> None:
    participant_id, match_id = await person(app)
    async with app.sessions.begin() as session:
        await session.execute(
            insert(FollowUp),
            [
                {
                    "programme_id": "p",
                    "match_id": match_id,
                    "participant_id": participant_id,
                    "survey": f"s{i}",
                    "due_at": NOW - timedelta(minutes=i % 7),
                    "status": FollowUpStatus.SCHEDULED,
                }
                for i in range(count)
            ],
        )
    taken: list[int] = []
    sizes: list[int] = []

    async def claimer() -> None:
        while True:
            async with app.sessions.begin() as session:
                claimed = await followups.claim_due(session, ["p"], NOW, LIMIT)
            if not claimed:
                return
            sizes.append(len(claimed))
            taken.extend(f.id for f in claimed)

    await asyncio.gather(*(claimer() for _ in range(4)))
    assert max(sizes) <= LIMIT
    assert len(taken) == count == len(set(taken))


# virtual seconds per real second: a 7 s send takes 0.35 s, the 45 s lease 2.25 s
SPEED = 20.0


def running_clock() -> Callable[[], datetime]:
    """A clock that runs SPEED times faster than the event loop's, so that two senders waiting
    on the provider at once both see the same seconds go by."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    return lambda: NOW + timedelta(seconds=(loop.time() - start) * SPEED)


@dataclass
class SlowProvider:
    """Takes 7 s per message, so that a batch outlives its lease many times over."""

    name: str = "sms"
    seconds: float = 7.0
    sent: list[int] = field(default_factory=list)
    # called with how many were sent, after each send
    after: Callable[[int], None] = lambda _count: None

    async def send(self, message: OutgoingMessage) -> SendResult:
        await asyncio.sleep(self.seconds / SPEED)
        self.sent.append(message.outbox_id)
        self.after(len(self.sent))
        return SendResult(provider_id=f"sms-{len(self.sent)}")


def sender(app: App, channel: SlowProvider) -> Sender:
    return Sender(
        app.sessions,
        {"sms": channel},
        {"sms": TokenBucket(1000, burst=1000)},
        RetryPolicy(max_attempts=3, base_seconds=30),
        batch=10,
    )


async def test_a_slow_provider_and_a_second_sender_send_no_row_twice(app: App) -> None:
    await backlog(app, 40)
    clock = running_clock()
    provider = SlowProvider()
    other = App(app.settings, {})
    try:
        first = sender(app, provider)
        second = sender(other, provider)

        async def later() -> object:
            # the second sender starts once the first batch's lease, never renewed, would have
            # run out
            await asyncio.sleep((outbox.LEASE.total_seconds() + 1) / SPEED)
            return await second.drain(clock)

        await asyncio.gather(first.drain(clock), later())
    finally:
        await other.close()
    assert sorted(provider.sent) == sorted(set(provider.sent))
    assert len(provider.sent) == 40


async def test_a_stopped_sender_gives_back_what_it_did_not_send(app: App) -> None:
    await backlog(app, 30)
    provider = SlowProvider(seconds=1)
    stopping = sender(app, provider)
    provider.after = lambda count: stopping.stop() if count == 3 else None
    await stopping.drain(running_clock())
    async with app.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    sent = [r for r in rows if r.status == OutboxStatus.SENT]
    assert len(sent) == 3
    assert all(r.status == OutboxStatus.PENDING and r.attempts == 0 for r in rows[len(sent) :])
    assert all(r.claimed_until is None for r in rows)
