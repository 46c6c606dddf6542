"""Telegram updates, polled from the loopback Bot API by the real poller, on SQLite and
PostgreSQL: linking mid-follow-up, a blocked bot, photos sent as files."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from fikafollow.app import App
from fikafollow.config import load_settings
from scheduler.passes import dispatch_due
from store import intake
from store.models import Greeting, InboxEvent, OutboxMessage, Participant, Programme
from tests.support.fake_telegram import BOT_USERNAME, TOKEN, FakeTelegram

CHAT = 7770001


def _csv() -> bytes:
    matched = (date.today() - timedelta(days=30)).isoformat()
    return (
        "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,"
        "gender\n"
        f"M1,{matched},individual,P1,Erik,established,sv,telegram,+46701234502,,man\n"
        f"M1,{matched},individual,P2,Sara,newcomer,en,email,,sara@example.org,woman\n"
    ).encode()


@pytest.fixture
async def running(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[App, FakeTelegram]]:
    async with FakeTelegram() as fake:
        settings = load_settings(
            database_url=db_url,
            photo_dir=tmp_path / "photos",
            telegram_token=TOKEN,
            telegram_api_url=fake.url,
            telegram_chat_interval=0,
            telegram_poll_timeout=1,
            quiet_hours="00:00-00:01",
            # on the real clock: nor may a Sunday, a holiday or Friday midday hold it back
            send_calendar=False,
        )
        app = App(settings)
        await app.start()
        now = datetime.now(UTC)
        programme = await app.programme(None, now)
        rows, errors = intake.read_csv(_csv(), "SE")
        assert not errors
        async with app.sessions.begin() as session:
            programme = await session.get_one(Programme, programme.id)
            await intake.apply(session, programme, rows, now, app.book.days())
        # Telegram without a public address polls: its one background task
        [poll] = app.background_tasks()
        poller = asyncio.create_task(poll())
        try:
            yield app, fake
        finally:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)
            await app.close()


async def _until(check: object, what: str) -> None:
    for _ in range(200):
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _erik(app: App) -> Participant:
    async with app.sessions() as session:
        found = await session.scalar(select(Participant).where(Participant.external_id == "P1"))
        assert found is not None
        return found


async def _outcomes(app: App) -> list[str | None]:
    async with app.sessions() as session:
        return list(await session.scalars(select(InboxEvent.outcome).order_by(InboxEvent.id)))


@pytest.mark.slow
async def test_linking_mid_follow_up_moves_the_question_to_telegram_and_a_block_moves_it_back(
    running: tuple[App, FakeTelegram],
) -> None:
    app, fake = running
    now = datetime.now(UTC)
    assert (await dispatch_due(app.sessions, app.conversation, now)).started == 2
    async with app.sessions() as session:
        sms = await session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "sms"))
    assert sms is not None
    # Erik chose Telegram but never opened the bot: asked by SMS, with his link
    found = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)", sms.payload["text"])
    assert found, sms.payload["text"]

    await fake.text(CHAT, f"/start {found.group(1)}", language="sv")

    async def linked() -> bool:
        return (await _erik(app)).telegram_chat_id == str(CHAT)

    await _until(linked, "the link")
    await app.sender.drain(lambda: datetime.now(UTC))
    greeting, question = await fake.wait_for(CHAT, 2)
    assert "Erik" in greeting.text
    assert [v for _l, v in question.buttons] == ["met_again=yes", "met_again=no"]

    # he blocks the bot: the next question fails for good and goes out by SMS instead
    fake.blocked.add(CHAT)
    await fake.tap(CHAT, question, "met_again=yes", language="sv")

    async def answered() -> bool:
        return "answered" in await _outcomes(app)

    await _until(answered, "the answer")
    await app.sender.drain(lambda: datetime.now(UTC))
    erik = await _erik(app)
    assert erik.dead_channels == "telegram"
    async with app.sessions() as session:
        kinds = [
            (row.channel, row.question, row.status)
            for row in await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.participant_id == erik.id)
                .order_by(OutboxMessage.id)
            )
        ]
    assert kinds[-2:] == [
        ("telegram", "will_meet_again", "failed"),
        ("sms", "will_meet_again", "pending"),
    ]

    # he unblocks and starts the bot again: Telegram is alive for him once more
    fake.blocked.discard(CHAT)
    await fake.text(CHAT, "/start", language="sv")

    async def revived() -> bool:
        return (await _erik(app)).dead_channels == ""

    await _until(revived, "Telegram to come back")


@pytest.mark.slow
async def test_an_image_sent_as_a_file_is_a_greeting_and_other_files_are_not(
    running: tuple[App, FakeTelegram],
) -> None:
    app, fake = running
    async with app.sessions.begin() as session:
        erik = await session.scalar(select(Participant).where(Participant.external_id == "P1"))
        assert erik is not None
        erik.telegram_chat_id = str(CHAT)
    assert (await dispatch_due(app.sessions, app.conversation, datetime.now(UTC))).started == 2
    png = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(png, format="PNG")

    await fake.document(CHAT, b"%PDF-1.4 not a photo", "application/pdf")
    await fake.document(CHAT, b"x" * 100, "image/jpeg", file_size=30 * 1024 * 1024)
    await fake.document(CHAT, png.getvalue(), "image/png")

    async def three() -> bool:
        return len(await _outcomes(app)) == 3

    await _until(three, "three updates")
    # a PDF is just an (empty) message; a too-big file is refused without fetching it
    assert await _outcomes(app) == ["reprompted", "photo_rejected", "greeting"]
    assert fake.calls["getFile"] == 1
    async with app.sessions() as session:
        greetings = list(await session.scalars(select(Greeting)))
    assert len(greetings) == 1 and greetings[0].photo_type == "image/jpeg"
