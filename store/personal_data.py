"""A person's data: everything held about them (a data-access request), erasing it (a request
to be forgotten), and the retention pass that erases what is kept longer than needed.

Erasing keeps what the funder report counts — role, gender, language, match kind, answer values,
statuses, channels, dates, that a photo came in and whether it may be shared — and nothing that
says who someone is or what they wrote.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    String,
    Text,
    cast,
    literal,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from store.models import (
    KEPT_OUTBOX_SQL,
    Answer,
    Base,
    FollowUp,
    Greeting,
    InboxEvent,
    Match,
    MatchMember,
    OutboxMessage,
    Participant,
)
from store.photos import PhotoStore
from store.vocabulary import InboxOutcome, OutboxStatus

log = logging.getLogger(__name__)

# what an erased outbox or inbox payload holds: the sender reads an outbox payload's text, and a
# marker says why the words are gone
ERASED_PAYLOAD: dict[str, Any] = {"erased": True}
# PostgreSQL's json has no equality: "already erased" is a comparison of the stored text
ERASED_TEXT = json.dumps(ERASED_PAYLOAD)
# inbound texts nobody could match to a participant are kept only long enough to look into them
UNKNOWN_SENDER_DAYS = 30
# rows of each kind one retention pass erases at most
RETENTION_BATCH = 500


async def find(session: AsyncSession, programme_id: str, external_id: str) -> Participant | None:
    """The participant with the programme's own id."""
    result: Participant | None = await session.scalar(
        select(Participant).where(
            Participant.programme_id == programme_id, Participant.external_id == external_id
        )
    )
    return result


def _addresses(participant: Participant) -> list[str]:
    return [
        a
        for a in (participant.phone, participant.email, participant.telegram_chat_id)
        if a is not None and a != ""
    ]


def _inbox_of(participant: Participant) -> ColumnElement[bool]:
    """Inbound events matched to the participant, and any sent from one of their addresses."""
    addresses = _addresses(participant)
    mine = InboxEvent.participant_id == participant.id
    return or_(mine, InboxEvent.sender.in_(addresses)) if addresses else mine


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(row: Base) -> dict[str, object]:
    return {c.key: _plain(getattr(row, c.key)) for c in row.__table__.columns}


@dataclass(frozen=True)
class Export:
    """What a data-access request gets: the record as JSON-ready data, and the photo files."""

    record: dict[str, object]
    photos: list[str]  # paths relative to the photo folder


async def export(session: AsyncSession, participant: Participant) -> Export:
    """Everything held about one participant. Their matches are given without the partners:
    the other people in a match are not this person's data."""
    matches = await session.scalars(
        select(Match)
        .join(MatchMember, MatchMember.match_id == Match.id)
        .where(MatchMember.participant_id == participant.id)
        .order_by(Match.id)
    )
    followups = list(
        await session.scalars(
            select(FollowUp).where(FollowUp.participant_id == participant.id).order_by(FollowUp.id)
        )
    )
    followup_ids = [f.id for f in followups]
    outbox = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.participant_id == participant.id)
        .order_by(OutboxMessage.id)
    )
    inbox = await session.scalars(
        select(InboxEvent).where(_inbox_of(participant)).order_by(InboxEvent.id)
    )
    answers = await session.scalars(
        select(Answer).where(Answer.followup_id.in_(followup_ids)).order_by(Answer.id)
    )
    greetings = list(
        await session.scalars(
            select(Greeting).where(Greeting.participant_id == participant.id).order_by(Greeting.id)
        )
    )
    record: dict[str, object] = {
        "participant": _row(participant),
        "matches": [_row(m) for m in matches],
        "followups": [_row(f) for f in followups],
        "messages_out": [_row(m) for m in outbox],
        "messages_in": [_row(e) for e in inbox],
        "answers": [_row(a) for a in answers],
        "greetings": [_row(g) for g in greetings],
    }
    photos = [g.photo_path for g in greetings if g.photo_path]
    return Export(record, photos)


async def forget(session: AsyncSession, participant: Participant, now: datetime) -> list[str]:
    """Erase one participant's personal data; returns the photo files to delete inside the same
    transaction, before it commits (a photo erasure that fails then rolls the rows back too:
    a photo whose row is gone could never be found to erase again)."""
    followup_ids = list(
        await session.scalars(select(FollowUp.id).where(FollowUp.participant_id == participant.id))
    )
    await session.execute(
        update(InboxEvent)
        .where(_inbox_of(participant))
        .values(sender="", text="", payload=ERASED_PAYLOAD)
        .execution_options(synchronize_session=False)
    )
    # nothing more goes to someone who asked to be forgotten
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.participant_id == participant.id,
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
        )
        .values(status=OutboxStatus.CANCELLED, claimed_until=None)
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.participant_id == participant.id)
        .values(address="", payload=ERASED_PAYLOAD, erased_at=now, last_error=None)
    )
    if followup_ids:
        await session.execute(
            update(Answer).where(Answer.followup_id.in_(followup_ids)).values(raw_text="")
        )
    photos = await _erase_greetings(session, Greeting.participant_id == participant.id)
    if participant.first_name.strip():
        await _scrub_partners(session, participant)
    participant.first_name = ""
    participant.phone = None
    participant.email = None
    participant.telegram_chat_id = None
    # the programme's own id links the row back to its spreadsheets
    participant.external_id = f"forgotten-{participant.id}"
    return photos


# what stands for an erased name in what partners were told or wrote
NAME_GONE = "…"


async def _scrub_partners(session: AsyncSession, participant: Participant) -> None:
    """The partners' messages name the person ("your fika with Amina"), and their replies may:
    the name goes from what was sent to them and what they wrote, the rest stays theirs."""
    pattern = re.compile(rf"\b{re.escape(participant.first_name.strip())}\b")
    matches = select(MatchMember.match_id).where(MatchMember.participant_id == participant.id)
    followups = list(
        await session.scalars(
            select(FollowUp.id).where(
                FollowUp.match_id.in_(matches), FollowUp.participant_id != participant.id
            )
        )
    )
    if not followups:
        return
    for message in await session.scalars(
        select(OutboxMessage).where(OutboxMessage.followup_id.in_(followups))
    ):
        message.payload = _scrubbed(message.payload, pattern)
    for event in await session.scalars(
        select(InboxEvent).where(InboxEvent.followup_id.in_(followups))
    ):
        event.text = pattern.sub(NAME_GONE, event.text)
        event.payload = _scrubbed(event.payload, pattern)
    for answer in await session.scalars(select(Answer).where(Answer.followup_id.in_(followups))):
        answer.raw_text = pattern.sub(NAME_GONE, answer.raw_text)
    for greeting in await session.scalars(
        select(Greeting).where(Greeting.followup_id.in_(followups))
    ):
        greeting.words = pattern.sub(NAME_GONE, greeting.words)


def _scrubbed(value: Any, pattern: re.Pattern[str]) -> Any:
    """A JSON value with the name taken out of every string in it (a new object, so that the
    ORM sees the change)."""
    if isinstance(value, str):
        return pattern.sub(NAME_GONE, value)
    if isinstance(value, list):
        return [_scrubbed(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, pattern) for k, v in value.items()}
    return value


async def _erase_greetings(session: AsyncSession, which: ColumnElement[bool]) -> list[str]:
    """Words and photo files of the greetings `which` selects; photo_type stays, so the report
    still counts that a photo came in."""
    photos = list(
        await session.scalars(
            select(Greeting.photo_path).where(which, Greeting.photo_path.is_not(None))
        )
    )
    await session.execute(update(Greeting).where(which).values(words="", photo_path=None))
    return [p for p in photos if p]


@dataclass(frozen=True)
class Retained:
    """What one retention pass erased: rows by kind, and the photo files to delete."""

    inbox_payloads: int = 0
    outbox_bodies: int = 0
    unknown_texts: int = 0
    photos: Sequence[str] = ()


async def retention(
    session: AsyncSession, now: datetime, days: int, batch: int = RETENTION_BATCH
) -> Retained:
    """Erase raw inbound payloads and outbox bodies older than `days`, photos without sharing
    consent older than `days`, and texts from unknown senders older than 30 days — at most
    `batch` rows of each, so that one pass is short (SQLite has one writer); the next pass goes
    on. Reads first and writes only what it found: a pass with nothing to do takes no write lock.
    """
    cutoff = now - timedelta(days=days)
    inbox = (
        select(InboxEvent.id)
        .where(InboxEvent.received_at < cutoff, cast(InboxEvent.payload, Text) != ERASED_TEXT)
        .order_by(InboxEvent.id)
    )
    # through ix_outbox_kept, oldest first: an erased body has left that index, so what is read
    # is what will be erased (and the few old messages still waiting); a message still waiting
    # to be sent keeps its body, however old
    outbox = (
        select(OutboxMessage.id)
        .where(
            text(KEPT_OUTBOX_SQL),
            OutboxMessage.created_at < cutoff,
            OutboxMessage.status.not_in([OutboxStatus.PENDING, OutboxStatus.SENDING]),
        )
        .order_by(OutboxMessage.created_at)
    )
    unknown = (
        select(InboxEvent.id)
        .where(
            InboxEvent.received_at < now - timedelta(days=UNKNOWN_SENDER_DAYS),
            InboxEvent.outcome == InboxOutcome.UNKNOWN_SENDER,
            or_(InboxEvent.text != "", InboxEvent.sender != ""),
        )
        .order_by(InboxEvent.id)
    )
    photo = (
        select(Greeting.id, Greeting.photo_path)
        .where(
            Greeting.created_at < cutoff,
            Greeting.photo_path.is_not(None),
            or_(Greeting.consent.is_(None), Greeting.consent != "yes"),
        )
        .order_by(Greeting.id)
    )
    found = await _found(session, batch, inbox=inbox, outbox=outbox, unknown=unknown, photo=photo)
    inbox_ids = [i for i, _ in found["inbox"]]
    outbox_ids = [i for i, _ in found["outbox"]]
    unknown_ids = [i for i, _ in found["unknown"]]
    photo_rows = found["photo"]
    if inbox_ids:
        await session.execute(
            update(InboxEvent).where(InboxEvent.id.in_(inbox_ids)).values(payload=ERASED_PAYLOAD)
        )
    if outbox_ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(outbox_ids))
            .values(payload=ERASED_PAYLOAD, erased_at=now)
        )
    if unknown_ids:
        await session.execute(
            update(InboxEvent)
            .where(InboxEvent.id.in_(unknown_ids))
            .values(text="", sender="", payload=ERASED_PAYLOAD)
        )
    if photo_rows:
        await session.execute(
            update(Greeting)
            .where(Greeting.id.in_([i for i, _ in photo_rows]))
            .values(photo_path=None)
        )
    return Retained(
        inbox_payloads=len(inbox_ids),
        outbox_bodies=len(outbox_ids),
        unknown_texts=len(unknown_ids),
        photos=[path for _, path in photo_rows if path],
    )


async def _found(
    session: AsyncSession, batch: int, **questions: Select[Any, Any] | Select[Any]
) -> dict[str, list[tuple[int, str | None]]]:
    """The first `batch` rows each question finds, (id, photo path or None), by its name: one
    statement for them all (a UNION ALL), as most passes find nothing and the pass runs every
    tick."""
    parts = []
    for name, question in questions.items():
        first = question.limit(batch).subquery()
        path = first.c.photo_path if "photo_path" in first.c else null()
        parts.append(
            select(
                literal(name, String()).label("kind"),
                first.c.id,
                type_coerce(path, String()).label("photo_path"),
            )
        )
    found: dict[str, list[tuple[int, str | None]]] = {name: [] for name in questions}
    for kind, row_id, path in await session.execute(union_all(*parts)):
        found[kind].append((row_id, path))
    return found


async def retention_pass(
    sessions: async_sessionmaker[AsyncSession], photos: PhotoStore, days: int, now: datetime
) -> Retained:
    """One retention pass in its own transaction (run by every tick); the photo files go inside
    it, so a pass either erases rows and photos or neither."""
    async with sessions.begin() as session:
        done = await retention(session, now, days)
        # before the commit: a photo storage out of reach rolls the pass back, and the next
        # pass erases the same photos, instead of forgetting them while they stay kept
        for name in done.photos:
            await photos.delete(name)
    if done.inbox_payloads or done.outbox_bodies or done.unknown_texts or done.photos:
        log.info(
            "retention: %d inbound payloads, %d outbox bodies, %d unknown senders' texts, "
            "%d photos erased",
            done.inbox_payloads,
            done.outbox_bodies,
            done.unknown_texts,
            len(done.photos),
        )
    return done
