"""Many queued Telegram messages through the real sender and adapter against the loopback
Bot API; shared by the test suite (small, bounded) and the benchmark (600 at 30/s)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.channels.telegram import TelegramChannel
from fikafollow.app import App
from fikafollow.config import load_settings
from store import outbox
from store.models import OutboxMessage, Participant, Programme
from tests.support.fake_telegram import TOKEN, FakeTelegram


@dataclass
class LoadResult:
    seconds: float
    delivered: Counter[str]
    sent_rows: int
    calls: int


async def deliver(
    db_url: str, fake: FakeTelegram, tmp: Path, count: int, rate: float, chats: int
) -> LoadResult:
    """Queue `count` messages over `chats` chats and drain them; how long it took and what
    arrived."""
    settings = load_settings(
        database_url=db_url,
        photo_dir=tmp / "photos",
        telegram_token=TOKEN,
        telegram_api_url=fake.url,
        rate_telegram=rate,
        retry_base_seconds=0.5,
        # the sender keeps quiet hours for retries: a run in the evening must not wait till morning
        quiet_hours="00:00-00:01",
        # nor a Sunday, a holiday or Friday midday
        send_calendar=False,
    )
    app = App(settings)
    await app.start()
    now = datetime.now(UTC)
    await app.programme(None, now)
    try:
        async with app.sessions.begin() as session:
            programme = await session.get_one(Programme, settings.programme)
            people = []
            for n in range(chats):
                person = Participant(
                    programme_id=programme.id,
                    external_id=f"L{n}",
                    first_name="L",
                    role="newcomer",
                    language="sv",
                    channel="telegram",
                    telegram_chat_id=str(900_000 + n),
                    created_at=now,
                    updated_at=now,
                )
                session.add(person)
                people.append(person)
            await session.flush()
            for n in range(count):
                person = people[n % chats]
                outbox.enqueue(
                    session,
                    programme_id=programme.id,
                    participant_id=person.id,
                    followup_id=None,
                    channel="telegram",
                    address=str(person.telegram_chat_id),
                    language="sv",
                    kind="thanks",
                    question=None,
                    payload={"text": f"message {n}"},
                    now=now,
                )
        channel = app.channels["telegram"]
        assert isinstance(channel, TelegramChannel)
        await channel.username()  # getMe once, before the clock starts
        started = time.monotonic()
        deadline = started + 120
        while time.monotonic() < deadline:
            await app.sender.drain(lambda: datetime.now(UTC))
            async with app.sessions() as session:
                left = await session.scalar(
                    select(func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
                )
            if not left:
                break
            # rows waiting for a retry_after come due shortly
            await asyncio.sleep(0.1)
        seconds = time.monotonic() - started
        async with app.sessions() as session:
            sent_rows = await session.scalar(
                select(func.count()).where(OutboxMessage.status == "sent")
            )
        return LoadResult(
            seconds,
            Counter(s.text for s in fake.sent),
            int(sent_rows or 0),
            fake.calls["sendMessage"],
        )
    finally:
        await app.close()
