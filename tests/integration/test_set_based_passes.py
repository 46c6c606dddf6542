"""The passes and the sender work set-based: the statements a tick runs do not grow with how
many follow-ups are due, and several sends are in flight at once without any row going twice.

Structural checks (statement counts from SQLAlchemy's cursor events, sends in flight counted
by the fake provider), never timings.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select

from bot.channels.base import OutgoingMessage, SendResult
from fikafollow.app import App
from fikafollow.config import load_settings
from scheduler import sender as sender_module
from scheduler.rate_limit import TokenBucket
from scheduler.sender import RetryPolicy, Sender
from store import intake
from store.models import OutboxMessage, Participant, Programme
from store.vocabulary import OutboxStatus
from tests.support.matchfiles import many_matches
from tests.support.recording_channel import RecordingChannel

IMPORTED = datetime(2026, 5, 5, 10, tzinfo=UTC)
# day 21 of matches of 2026-05-04, 10:30 in Stockholm: inside the send window
DAY_21 = datetime(2026, 5, 25, 8, 30, tzinfo=UTC)


@contextmanager
def counted(app: App) -> Iterator[list[str]]:
    """Every statement the app's engine runs inside the block (an executemany counts once)."""
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(args[2])

    event.listen(app.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", note)


def matches(path: Path, count: int, matched_on: str, first: int) -> bytes:
    """`count` matches of two on SMS, their people numbered from `first` (Person<n>)."""
    many_matches(path, first // 2 + count, matched_on, channel="sms")
    header, *lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return (header + "".join(lines[first:])).encode()


async def test_a_tick_runs_as_many_statements_for_200_due_as_for_10(
    db_url: str, tmp_path: Path
) -> None:
    channel = RecordingChannel("sms")
    # the rate limit off: a shared timeline on PostgreSQL reserves a slice per few sends, which
    # is the rate's doing, not the passes'
    settings = load_settings(database_url=db_url, photo_dir=tmp_path, rate_sms=1_000_000.0)
    app = App(settings, {"sms": channel})
    counts = []
    try:
        await app.start()
        programme = await app.programme(None, IMPORTED)
        # 10 follow-ups due on day 21 of the 4th, then 200 due a day later (day 21 of the 5th):
        # the first ten are not chased yet on that day (a reminder comes after three)
        for count, matched_on, first in ((5, "2026-05-04", 0), (100, "2026-05-05", 10)):
            rows, errors = intake.read_csv(
                matches(tmp_path / "m.csv", count, matched_on, first), "SE"
            )
            assert not errors
            async with app.sessions.begin() as session:
                programme = await session.get_one(Programme, programme.id)
                await intake.apply(session, programme, rows, IMPORTED, app.book.days())
        # a sender batch that holds every message of the tick: the sender's own statements
        # grow with the number of its batches, not with their size
        app.sender.batch = 250
        # and records them in one group (its groups are counted below, with 500 sends)
        app.sender.flush = 250
        for due, day in ((10, DAY_21), (200, DAY_21 + timedelta(days=1))):
            with counted(app) as statements:
                result = await app.tick(lambda day=day: day)
            assert result.dispatch.started == due
            assert result.drain.sent == due
            counts.append(len(statements))
        # three days later each gets its reminder, the ten first, the 200 a day after
        for due, day in ((10, DAY_21 + timedelta(days=3)), (200, DAY_21 + timedelta(days=4))):
            with counted(app) as statements:
                result = await app.tick(lambda day=day: day)
            assert result.chase.reminded == due
            assert result.drain.sent == due
            counts.append(len(statements))
    finally:
        await app.close()
    print(f"statements per tick: {counts}")
    assert counts[0] == counts[1] and counts[2] == counts[3], counts
    # and few: 42 (SQLite, which counts its BEGIN IMMEDIATE) and 32 (PostgreSQL) before the
    # sender claimed and recorded in bulk and the claim told who opted out
    assert max(counts) <= (30 if db_url.startswith("sqlite") else 24), counts
    assert len(channel.sent) == 420
    firsts = [m for m in channel.sent if m.kind == "question"]
    assert len({m.address for m in firsts}) == 210
    # each first question names the partner of its own match, read for the batch at once
    for message in firsts:
        n = int(message.address[-6:])
        assert re.search(rf"\bPerson{n ^ 1}\b", message.text), message.language


@dataclass
class GatedProvider:
    """Holds every send until `open` is set, counting how many wait at once."""

    name: str = "sms"
    in_flight: int = 0
    most: int = 0
    sent: list[int] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        if self.most >= 6:
            self.gate.set()
        try:
            await self.gate.wait()
        finally:
            self.in_flight -= 1
        self.sent.append(message.outbox_id)
        return SendResult(provider_id=f"sms-{len(self.sent)}")


async def backlog(app: App, count: int) -> None:
    """`count` messages due now, each to its own number."""
    async with app.sessions.begin() as session:
        session.add(Programme(id="p", name="P", timezone="UTC", created_at=DAY_21))
        await session.flush()
        someone = Participant(
            programme_id="p",
            external_id="x",
            first_name="X",
            role="newcomer",
            language="sv",
            channel="sms",
            phone="+46701234567",
            created_at=DAY_21,
            updated_at=DAY_21,
        )
        session.add(someone)
        await session.flush()
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "programme_id": "p",
                    "participant_id": someone.id,
                    "channel": "sms",
                    "address": f"+4670{i:07d}",
                    "language": "sv",
                    "kind": "thanks",
                    "payload": {"text": f"message {i}", "rtl": False, "buttons": []},
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": DAY_21,
                    "created_at": DAY_21,
                }
                for i in range(count)
            ],
        )


def sender(app: App, provider: GatedProvider) -> Sender:
    return Sender(
        app.sessions,
        {"sms": provider},
        {"sms": TokenBucket(1_000_000, burst=1000)},
        RetryPolicy(max_attempts=3, base_seconds=30),
        batch=20,
        in_flight=6,
    )


async def test_two_senders_each_with_six_in_flight_send_every_row_once(app: App) -> None:
    await backlog(app, 300)
    provider = GatedProvider()
    other = App(app.settings, {})
    try:
        results = await asyncio.gather(
            sender(app, provider).drain(lambda: DAY_21),
            sender(other, provider).drain(lambda: DAY_21),
        )
    finally:
        await other.close()
    # the gate opened only once six sends waited at the provider together
    assert provider.most >= 6
    # two senders of six each, never more
    assert provider.most <= 12
    assert sum(r.sent for r in results) == 300
    assert len(provider.sent) == 300 and len(set(provider.sent)) == 300
    async with app.sessions() as session:
        sent = await session.scalar(
            select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT)
        )
        providers = await session.scalar(
            select(func.count(func.distinct(OutboxMessage.provider_id)))
        )
    assert sent == 300 and providers == 300


@dataclass
class YieldingProvider:
    """Accepts every send after giving the event loop a turn, as a real round trip does (so
    the sender's recorder runs beside the sends)."""

    name: str = "sms"
    sent: list[int] = field(default_factory=list)

    async def send(self, message: OutgoingMessage) -> SendResult:
        await asyncio.sleep(0)
        self.sent.append(message.outbox_id)
        return SendResult(provider_id=f"sms-{message.outbox_id}")


async def test_500_sends_cost_one_claim_and_one_statement_per_recorded_group(app: App) -> None:
    await backlog(app, 500)
    provider = YieldingProvider()
    drainer = Sender(
        app.sessions,
        {"sms": provider},
        {"sms": TokenBucket(1_000_000, burst=1000)},
        RetryPolicy(max_attempts=3, base_seconds=30),
    )
    with counted(app) as statements:
        result = await drainer.drain(lambda: DAY_21)
    assert result.sent == 500 and sorted(provider.sent) == sorted(set(provider.sent))
    recorded = [s for s in statements if s.lstrip().startswith("UPDATE outbox SET status")]
    claims = [s for s in statements if s.lstrip().startswith("WITH picked")]
    # groups of FLUSH (or more, when a recording is still running as the next ones finish)
    assert len(recorded) <= -(-500 // sender_module.FLUSH)
    # one claim of 500 takes them all, and one more finds the outbox empty
    assert len(claims) == 2
    # a transaction each (SQLite counts its BEGIN), the checks of the claim, nothing per row
    assert len(statements) <= 2 * len(recorded) + 10, statements
