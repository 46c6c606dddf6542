"""The outbox sender: rate limits, retries with backoff, permanent failures, concurrent senders."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.channels.base import PermanentError, TemporaryError
from fikafollow.app import App
from scheduler.rate_limit import TokenBucket
from scheduler.sender import RetryPolicy, Sender
from store import outbox
from store.models import OutboxMessage, Participant, Programme
from tests.support.recording_channel import RecordingChannel

# midday in the programme's zone (UTC): retries keep the quiet hours, tested on their own below
NOW = datetime(2026, 5, 25, 12, 0, tzinfo=UTC)


async def queue(app: App, count: int, channel: str = "sms") -> None:
    async with app.sessions.begin() as session:
        session.add(Programme(id="p", name="P", timezone="UTC", created_at=NOW))
        await session.flush()
        person = Participant(
            programme_id="p",
            external_id="x",
            first_name="X",
            role="newcomer",
            language="sv",
            channel=channel,
            phone="+46701234567",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(person)
        await session.flush()
        for i in range(count):
            outbox.enqueue(
                session,
                programme_id="p",
                participant_id=person.id,
                followup_id=None,
                channel=channel,
                address="+46701234567",
                language="sv",
                kind="thanks",
                question=None,
                payload={"text": f"message {i}", "rtl": False, "buttons": []},
                now=NOW,
            )


def make_sender(app: App, channel: RecordingChannel, rate: float = 1000.0) -> Sender:
    return Sender(
        app.sessions,
        {channel.name: channel},
        {channel.name: TokenBucket(rate, burst=rate)},
        RetryPolicy(max_attempts=3, base_seconds=30),
        batch=7,
    )


async def statuses(app: App) -> list[tuple[str, int, str | None]]:
    async with app.sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(r.status, r.attempts, r.last_error) for r in rows]


async def test_everything_due_is_sent_in_order_once(app: App) -> None:
    await queue(app, 20)
    channel = RecordingChannel("sms")
    result = await make_sender(app, channel).drain(lambda: NOW)
    assert result.sent == 20
    assert [m.text for m in channel.sent] == [f"message {i}" for i in range(20)]
    again = await make_sender(app, channel).drain(lambda: NOW)
    assert again.sent == 0 and len(channel.sent) == 20


async def test_temporary_errors_back_off_and_then_succeed(app: App) -> None:
    await queue(app, 1)
    channel = RecordingChannel("sms")
    channel.failures.extend([TemporaryError("HTTP 503"), TemporaryError("timeout")])
    sender = make_sender(app, channel)
    assert (await sender.drain(lambda: NOW)).retried == 1
    assert await statuses(app) == [("pending", 1, "HTTP 503")]
    # not yet due: 30 s backoff
    assert (await sender.drain(lambda: NOW + timedelta(seconds=29))).retried == 0
    assert (await sender.drain(lambda: NOW + timedelta(seconds=30))).retried == 1
    # second backoff is 60 s
    assert (await sender.drain(lambda: NOW + timedelta(seconds=89))).sent == 0
    assert (await sender.drain(lambda: NOW + timedelta(seconds=90))).sent == 1
    assert (await statuses(app))[0][:2] == ("sent", 3)


async def test_a_permanent_error_is_recorded_and_never_retried(app: App) -> None:
    await queue(app, 1)
    channel = RecordingChannel("sms")
    channel.failures.append(PermanentError("invalid number (21211)"))
    sender = make_sender(app, channel)
    assert (await sender.drain(lambda: NOW)).failed == 1
    assert (await sender.drain(lambda: NOW + timedelta(days=1))).sent == 0
    assert await statuses(app) == [("failed", 1, "invalid number (21211)")]


async def test_retries_stop_after_the_configured_attempts(app: App) -> None:
    await queue(app, 1)
    channel = RecordingChannel("sms")
    channel.failures.extend([TemporaryError("HTTP 500")] * 5)
    sender = make_sender(app, channel)
    for hours in range(4):
        await sender.drain(lambda h=hours: NOW + timedelta(hours=h))
    assert await statuses(app) == [("failed", 3, "out of attempts: HTTP 500")]


async def test_retry_after_from_the_provider_is_obeyed(app: App) -> None:
    await queue(app, 1)
    channel = RecordingChannel("sms")
    channel.failures.append(TemporaryError("429", retry_after=600))
    sender = make_sender(app, channel)
    await sender.drain(lambda: NOW)
    assert (await sender.drain(lambda: NOW + timedelta(seconds=599))).sent == 0


async def test_a_claim_left_by_a_crashed_sender_is_taken_again_after_its_lease(app: App) -> None:
    await queue(app, 1)
    async with app.sessions.begin() as session:
        assert len(await outbox.claim(session, "sms", NOW, 10)) == 1
    channel = RecordingChannel("sms")
    sender = make_sender(app, channel)
    assert (await sender.drain(lambda: NOW + outbox.LEASE - timedelta(seconds=1))).sent == 0
    assert (await sender.drain(lambda: NOW + outbox.LEASE + timedelta(seconds=1))).sent == 1


async def test_two_senders_at_once_never_send_a_row_twice(app: App) -> None:
    await queue(app, 120)
    channel = RecordingChannel("sms")
    other = App(app.settings, {})
    try:
        results = await asyncio.gather(
            make_sender(app, channel).drain(lambda: NOW),
            make_sender(other, channel).drain(lambda: NOW),
        )
    finally:
        await other.close()
    assert sum(r.sent for r in results) == 120
    assert sorted(m.outbox_id for m in channel.sent) == sorted({m.outbox_id for m in channel.sent})
    assert len(channel.sent) == 120


async def test_token_bucket_paces_sends_on_a_virtual_clock() -> None:
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    bucket = TokenBucket(30, burst=1, clock=lambda: clock[0], sleep=sleep)
    for _ in range(601):
        await bucket.acquire()
    assert abs(clock[0] - 20.0) < 1e-6


async def test_token_bucket_pause_holds_everyone_back() -> None:
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    bucket = TokenBucket(10, burst=1, clock=lambda: clock[0], sleep=sleep)
    await bucket.acquire()
    bucket.pause(5)
    await bucket.acquire()
    assert clock[0] >= 5


async def test_an_sms_retry_due_at_23_goes_at_the_send_hour_next_morning(app: App) -> None:
    await queue(app, 1)
    channel = RecordingChannel("sms")
    channel.failures.append(TemporaryError("HTTP 503"))
    sender = make_sender(app, channel)
    evening = datetime(2026, 5, 25, 22, 59, 40, tzinfo=UTC)
    # a reply written at once goes at once, night or day; its retry keeps the quiet hours
    assert (await sender.drain(lambda: evening)).retried == 1
    late = evening + timedelta(seconds=30)  # 23:00:10, the retry is due
    assert (await sender.drain(lambda: late)).sent == 0
    async with app.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None
        assert row.status == "pending" and row.last_error == "quiet hours"
        # the programme's send hour (10:00 by default), not the end of quiet hours (09:00)
        assert row.next_attempt_at == datetime(2026, 5, 26, 10, 0, tzinfo=UTC)
        assert row.attempts == 1  # holding back is not a try
    assert (await sender.drain(lambda: datetime(2026, 5, 26, 9, 30, tzinfo=UTC))).sent == 0
    assert (await sender.drain(lambda: datetime(2026, 5, 26, 10, 0, tzinfo=UTC))).sent == 1
    assert [m.text for m in channel.sent] == ["message 0"]
