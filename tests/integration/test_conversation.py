"""Inbound messages through the conversation on a real database: stored once, understood."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select, update

from bot.channels.base import InboundMessage
from fikafollow.app import App
from scheduler.passes import dispatch_due
from store import intake
from store.models import (
    Answer,
    FollowUp,
    Greeting,
    InboxEvent,
    OutboxMessage,
    Participant,
    Programme,
)

HEADER = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
)
CSV = HEADER + (
    "M1,2026-05-04,individual,P1,Leila,newcomer,fa,sms,+46701234501,,woman\n"
    "M1,2026-05-04,individual,P2,Erik,established,sv,email,,erik@example.org,man\n"
)
DUE = datetime(2026, 5, 25, 8, 0, tzinfo=UTC)
LEILA = "+46701234501"


async def started(app: App) -> None:
    programme = await app.programme(None, DUE - timedelta(days=20))
    rows, errors = intake.read_csv(CSV.encode(), "SE")
    assert not errors
    async with app.sessions.begin() as session:
        programme = await session.get_one(Programme, programme.id)
        await intake.apply(session, programme, rows, DUE - timedelta(days=20), app.book.days())
    result = await dispatch_due(app.sessions, app.conversation, DUE)
    assert result.started == 2


_serial = iter(range(1, 1_000_000))


async def send(
    app: App, text: str = "", *, sender: str = LEILA, channel: str = "sms", **kw: object
) -> str:
    message = InboundMessage(
        channel=channel,
        provider_id=str(kw.pop("provider_id", f"SM{next(_serial)}")),
        sender=sender,
        text=text,
        **kw,  # type: ignore[arg-type]
    )
    async with app.sessions.begin() as session:
        return await app.conversation.receive(session, message, DUE + timedelta(hours=1))


async def outbox_kinds(app: App, address: str = LEILA) -> list[str]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage.kind)
            .where(OutboxMessage.address == address)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def answers(app: App) -> dict[str, tuple[str, str]]:
    async with app.sessions() as session:
        rows = await session.scalars(select(Answer).order_by(Answer.id))
        return {a.question: (a.value, a.raw_text) for a in rows}


async def test_first_question_is_written_in_the_participants_language(app: App) -> None:
    await started(app)
    async with app.sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.address == LEILA))
    assert row is not None
    assert row.language == "fa" and row.kind == "question" and row.question == "met_again"
    assert row.payload["rtl"] is True
    assert "Erik" in row.payload["text"]


async def test_answers_in_persian_digits_and_words_are_recorded_and_next_asked(app: App) -> None:
    await started(app)
    assert await send(app, "۱") == "answered"
    assert await send(app, "شاید") == "answered"
    assert await answers(app) == {
        "met_again": ("yes", "۱"),
        "will_meet_again": ("maybe", "شاید"),
    }
    assert await outbox_kinds(app) == ["question", "question", "greeting_invite"]
    async with app.sessions() as session:
        followup = await session.scalar(
            select(FollowUp).join(Participant).where(Participant.phone == LEILA)
        )
    assert followup is not None and followup.status == "done"


async def test_a_retried_webhook_changes_nothing(app: App) -> None:
    await started(app)
    assert await send(app, "1", provider_id="SMdup") == "answered"
    assert await send(app, "2", provider_id="SMdup") == "duplicate"
    assert await answers(app) == {"met_again": ("yes", "1")}
    async with app.sessions() as session:
        events = (await session.scalars(select(InboxEvent))).all()
    assert len(events) == 1


async def test_unreadable_reply_is_kept_and_reprompted_once(app: App) -> None:
    await started(app)
    assert await send(app, "what is this about?") == "reprompted"
    assert await send(app, "still no idea") == "not_understood"
    assert await outbox_kinds(app) == ["question", "reprompt"]
    assert await answers(app) == {}
    async with app.sessions() as session:
        texts = list(await session.scalars(select(InboxEvent.text).order_by(InboxEvent.id)))
    assert texts == ["what is this about?", "still no idea"]


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (320, 240), (200, 150, 100))
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (59.0, 19.0, 30.0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


async def test_a_photo_becomes_a_fikahalsning_without_gps_and_consent_is_asked(app: App) -> None:
    await started(app)
    outcome = await send(
        app, "fika med Erik", photos=(photo_with_gps(),), photo_types=("image/jpeg",)
    )
    assert outcome == "greeting"
    assert await send(app, "بله") == "consent"
    async with app.sessions() as session:
        greeting = await session.scalar(select(Greeting))
    assert greeting is not None
    assert greeting.words == "fika med Erik" and greeting.consent == "yes"
    assert greeting.photo_path is not None
    with Image.open(app.photos.root / greeting.photo_path) as stored:
        assert ExifTags.IFD.GPSInfo not in stored.getexif()
    # the question the photo interrupted is asked again after the thanks
    assert await outbox_kinds(app) == ["question", "consent", "thanks_greeting", "question"]


async def test_something_that_is_not_an_image_is_refused_kindly(app: App) -> None:
    await started(app)
    assert await send(app, photos=(b"%PDF-1.4 not a photo",)) == "photo_rejected"
    assert await outbox_kinds(app) == ["question", "photo_rejected"]
    async with app.sessions() as session:
        assert (await session.scalars(select(Greeting))).all() == []


async def test_stop_cancels_what_is_queued_and_start_undoes_it(app: App) -> None:
    await started(app)
    assert await send(app, "لغو") == "opted_out"
    async with app.sessions() as session:
        statuses = list(
            await session.scalars(
                select(OutboxMessage.status)
                .where(OutboxMessage.address == LEILA)
                .order_by(OutboxMessage.id)
            )
        )
        person = await session.scalar(select(Participant).where(Participant.phone == LEILA))
    assert statuses == ["cancelled", "pending"]  # the question, then the confirmation
    assert person is not None and person.opted_out_at is not None
    assert await send(app, "START") == "opted_in"
    async with app.sessions() as session:
        person = await session.scalar(select(Participant).where(Participant.phone == LEILA))
    assert person is not None and person.opted_out_at is None


async def test_an_unknown_sender_is_stored_but_changes_nothing(app: App) -> None:
    await started(app)
    assert await send(app, "1", sender="+46709999999") == "unknown_sender"
    assert await answers(app) == {}


async def test_email_reply_answers_for_the_other_participant(app: App) -> None:
    await started(app)
    outcome = await send(app, "Nej, inte än", sender="erik@example.org", channel="email")
    assert outcome == "answered"
    assert await answers(app) == {"met_again": ("no", "Nej, inte än")}


@pytest.mark.parametrize("text", ["", "   ", "\u200f"])
async def test_empty_messages_do_not_break_anything(app: App, text: str) -> None:
    await started(app)
    assert await send(app, text) in {"reprompted", "not_understood"}


async def test_a_permanent_failure_asks_again_on_the_next_channel(app: App) -> None:
    # Leila has SMS only; give her an e-mail address, then let her SMS fail for good
    await started(app)
    async with app.sessions.begin() as session:
        await session.execute(
            update(Participant).where(Participant.phone == LEILA).values(email="leila@example.org")
        )
    async with app.sessions.begin() as session:
        failed = await session.scalar(select(OutboxMessage).where(OutboxMessage.address == LEILA))
        assert failed is not None
        outcome = await app.conversation.fall_back(session, failed, DUE)
    assert outcome == "moved to email"
    async with app.sessions() as session:
        again = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.address == "leila@example.org")
        )
        person = await session.scalar(select(Participant).where(Participant.phone == LEILA))
    assert again is not None and again.kind == "question" and again.question == "met_again"
    assert again.payload["subject"]
    assert person is not None and person.dead_channels == "sms"


async def test_with_no_channel_left_the_followup_is_unreachable(app: App) -> None:
    await started(app)
    async with app.sessions.begin() as session:
        failed = await session.scalar(select(OutboxMessage).where(OutboxMessage.address == LEILA))
        assert failed is not None
        assert await app.conversation.fall_back(session, failed, DUE) == "unreachable"
        followup = await session.get_one(FollowUp, failed.followup_id)
        assert followup.status == "unreachable"
