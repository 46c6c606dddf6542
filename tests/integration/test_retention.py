"""The retention pass that every tick runs, on the fixed data set, by moving the clock."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.channels.base import InboundMessage
from fikafollow.app import App
from fikafollow.config import load_settings
from store import greetings
from tests.support import fixed_programmes
from tests.support.dbstate import aquery
from tests.support.recording_channel import RecordingChannel

ANSWERED = fixed_programmes.ANSWERED
STRANGER = "+46709999999"


@pytest.fixture
async def world(db_url: str, tmp_path: Path) -> AsyncIterator[App]:
    await fixed_programmes.build(db_url, tmp_path)
    settings = load_settings(database_url=db_url, photo_dir=tmp_path / "photos")
    app = App(settings, {"sms": RecordingChannel("sms"), "email": RecordingChannel("email")})
    await app.start()
    [erik] = await aquery(
        db_url,
        "SELECT f.id, p.id FROM followup f JOIN participant p ON p.id = f.participant_id"
        " WHERE p.external_id = 'P2'",
    )
    try:
        async with app.sessions.begin() as session:
            stranger = InboundMessage(
                channel="sms", provider_id="stranger-1", sender=STRANGER, text="hello who is this"
            )
            await app.conversation.receive(session, stranger, ANSWERED)
            # a photo nobody agreed to share, beside Dawit's shared one
            buffer = io.BytesIO()
            Image.new("RGB", (32, 32), (1, 2, 3)).save(buffer, "JPEG")
            greetings.add(
                session,
                followup_id=erik[0],
                participant_id=erik[1],
                words="",
                now=ANSWERED,
                photo=await app.photos.save(buffer.getvalue()),
            )
        yield app
    finally:
        await app.close()


def _count(folder: Path) -> int:
    return len(list(folder.iterdir()))


async def _state(url: str) -> dict[str, object]:
    inbox = await aquery(url, "SELECT sender, text, CAST(payload AS TEXT) FROM inbox")
    outbox = await aquery(url, "SELECT status, CAST(payload AS TEXT) FROM outbox")
    photos = await aquery(
        url, "SELECT consent, photo_path FROM greeting WHERE photo_type IS NOT NULL"
    )
    return {
        "stranger_text": [t for s, t, _ in inbox if s == STRANGER],
        "known_texts": sorted(t for s, t, _ in inbox if s != STRANGER and t),
        "raw_payloads": sum('"erased"' not in p for _, _, p in inbox),
        "sent_bodies": sum('"erased"' not in p for s, p in outbox if s != "pending"),
        "photos": sorted((c or "", p is not None) for c, p in photos),
    }


async def test_retention_erases_each_kind_after_its_time(world: App, db_url: str) -> None:
    app = world
    files = Path(app.settings.photo_dir)
    start = await _state(db_url)
    assert start["stranger_text"] == ["hello who is this"]
    assert start["photos"] == [("", True), ("yes", True)]
    assert _count(files) == 2

    await app.tick(lambda: ANSWERED + timedelta(days=29))
    assert await _state(db_url) == start

    # an unknown sender's words are kept 30 days, the rest stays
    await app.tick(lambda: ANSWERED + timedelta(days=31))
    later = await _state(db_url)
    assert later["stranger_text"] == []
    assert later["known_texts"] == start["known_texts"]
    assert later["raw_payloads"] == start["raw_payloads"] - 1
    assert later["sent_bodies"] == start["sent_bodies"] and later["photos"] == start["photos"]

    # FIKAFOLLOW_RETENTION_DAYS (180): raw payloads, sent bodies and the unshared photo go
    await app.tick(lambda: ANSWERED + timedelta(days=181))
    end = await _state(db_url)
    assert end["raw_payloads"] == 0 and end["sent_bodies"] == 0
    assert end["photos"] == [("", False), ("yes", True)]
    assert _count(files) == 1
    # the answers and their words stay for the reports
    assert end["known_texts"] == start["known_texts"]
