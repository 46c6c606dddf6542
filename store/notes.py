"""Notes: words a participant sent that became no answer and no greeting, kept to be read.

Nothing a participant says is lost: a reply the parser could not read, a text after the last
question or after expiry, one from an unknown address. A coordinator reads them (the digest, the
web app, `fikafollow notes`) and may turn one into an answer (`notes resolve`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

import store.answers
import store.outbox
from store.models import FollowUp, InboxEvent, Note, Participant
from store.vocabulary import FollowUpStatus

# the digest and the overview show the start of a long text
PREVIEW = 200


def keep(
    session: AsyncSession,
    event: InboxEvent,
    programme_id: str | None,
    reason: str,
    now: datetime,
) -> Note:
    """Keep the event's words as a note (once per event: the inbox stores an event once)."""
    note = Note(
        programme_id=programme_id,
        inbox_id=event.id,
        participant_id=event.participant_id,
        followup_id=event.followup_id,
        channel=event.channel,
        text=event.text,
        reason=reason,
        created_at=now,
    )
    session.add(note)
    return note


async def keep_many(session: AsyncSession, kept: Sequence[Mapping[str, Any]]) -> None:
    """Keep many events' words at once, each given as `keep` makes a note (inbox_id,
    participant_id, followup_id, programme_id, channel, text, reason, created_at): one
    statement for a group of webhooks."""
    if kept:
        await session.execute(insert(cast(Table, Note.__table__)), [dict(note) for note in kept])


@dataclass(frozen=True)
class NoteRow:
    id: int
    created_at: datetime
    reason: str
    channel: str
    text: str
    read: bool
    resolved_as: str | None
    participant_id: str  # the programme's own id, "" for an unknown sender
    first_name: str
    language: str
    # for an unknown sender only: the end of the address it came from ("…567", "…@example.net"),
    # enough to tell two strangers apart, not to write back to them
    sender_tail: str = ""

    @property
    def unknown_sender(self) -> bool:
        return not self.participant_id

    @property
    def preview(self) -> str:
        return self.text if len(self.text) <= PREVIEW else self.text[:PREVIEW] + "…"


async def listing(
    session: AsyncSession,
    programme_id: str | None,
    *,
    unread: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    unknown_senders: bool = False,
) -> list[NoteRow]:
    """The programme's notes, newest first; with `unknown_senders` also the notes of senders
    we do not know, which belong to no programme (the channels' numbers and addresses are the
    service's, shared by every programme it runs). A programme of None: those notes alone."""
    which = Note.programme_id == programme_id if programme_id else Note.programme_id.is_(None)
    if unknown_senders:
        which = or_(which, Note.programme_id.is_(None))
    stmt = (
        select(Note, Participant, InboxEvent.sender)
        .outerjoin(Participant, Participant.id == Note.participant_id)
        .join(InboxEvent, InboxEvent.id == Note.inbox_id)
        .where(which)
        .order_by(Note.created_at.desc(), Note.id.desc())
    )
    if unread:
        stmt = stmt.where(Note.read_at.is_(None))
    if since is not None:
        stmt = stmt.where(Note.created_at >= since)
    if until is not None:
        stmt = stmt.where(Note.created_at < until)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        NoteRow(
            id=n.id,
            created_at=n.created_at,
            reason=n.reason,
            channel=n.channel,
            text=n.text,
            read=n.read_at is not None,
            resolved_as=n.resolved_as,
            participant_id=p.external_id if p is not None else "",
            first_name=p.first_name if p is not None else "",
            language=p.language if p is not None else "",
            sender_tail=masked_tail(sender) if p is None else "",
        )
        for n, p, sender in await session.execute(stmt)
    ]


async def unknown_senders(
    session: AsyncSession, *, since: datetime | None = None, until: datetime | None = None
) -> int:
    """How many notes came from senders we do not know (they belong to no programme: the
    channels' numbers and addresses are the service's): a count for the digest, which never
    carries a stranger's words."""
    stmt = select(func.count()).select_from(Note).where(Note.programme_id.is_(None))
    if since is not None:
        stmt = stmt.where(Note.created_at >= since)
    if until is not None:
        stmt = stmt.where(Note.created_at < until)
    return int(await session.scalar(stmt) or 0)


def masked_tail(address: str) -> str:
    """What may be shown of a stranger's address: a mail domain, or a number's last 3 digits."""
    local, at, domain = address.rpartition("@")
    if at and local:
        return f"…@{domain}"
    return f"…{address[-3:]}" if len(address) > 3 else "…"


class NoteError(ValueError):
    """A note that cannot be resolved so; nothing was written."""


async def mark_read(session: AsyncSession, programme_id: str, note_id: int, now: datetime) -> None:
    note = await _get(session, programme_id, note_id)
    note.read_at = note.read_at or now


async def resolve(
    session: AsyncSession,
    programme_id: str,
    note_id: int,
    answers: Mapping[str, str],
    allowed: Mapping[str, frozenset[str]],
    now: datetime,
) -> FollowUp:
    """Turn a note into answers of its follow-up (the words kept as the answer's raw text);
    the note is read, the follow-up is no longer chased nor on the call list."""
    note = await _get(session, programme_id, note_id)
    for question, value in answers.items():
        options = allowed.get(question)
        if options is None:
            raise NoteError(f"{question}: no such question (one of {', '.join(sorted(allowed))})")
        if value not in options:
            raise NoteError(f"{question}: {value!r} is not one of {', '.join(sorted(options))}")
    followup = await _followup_of(session, note)
    for question, value in answers.items():
        await store.answers.record(
            session,
            followup_id=followup.id,
            question=question,
            value=value,
            raw_text=note.text,
            channel=note.channel,
            inbox_id=note.inbox_id,
            now=now,
            late=followup.status == FollowUpStatus.EXPIRED,
        )
    # a question still queued would ask what the coordinator just recorded
    await store.outbox.cancel_for_followup(session, followup.id, "answered from a note")
    if followup.status in (FollowUpStatus.EXPIRED, FollowUpStatus.UNREACHABLE):
        followup.status = FollowUpStatus.DONE
        followup.finished_at = followup.finished_at or now
    note.read_at = note.read_at or now
    note.resolved_as = ",".join(f"{q}={v}" for q, v in answers.items())
    return followup


async def find(session: AsyncSession, programme_id: str, note_id: int) -> Note | None:
    """The programme's note with this id, or None — also when it is another programme's."""
    note = await session.get(Note, note_id)
    return note if note is not None and note.programme_id == programme_id else None


async def _get(session: AsyncSession, programme_id: str, note_id: int) -> Note:
    note = await session.get(Note, note_id)
    if note is not None and note.programme_id is None:
        raise NoteError(f"note {note_id} is from an unknown sender: no follow-up to answer")
    if note is None or note.programme_id != programme_id:
        raise NoteError(f"no note {note_id} in programme {programme_id}")
    return note


async def _followup_of(session: AsyncSession, note: Note) -> FollowUp:
    if note.followup_id is not None:
        return await session.get_one(FollowUp, note.followup_id)
    if note.participant_id is not None:
        latest = await session.scalar(
            select(FollowUp)
            .where(FollowUp.participant_id == note.participant_id)
            .order_by(FollowUp.started_at.desc().nulls_last(), FollowUp.id.desc())
            .limit(1)
        )
        if latest is not None:
            return latest
    raise NoteError(f"note {note.id} is from an unknown sender: no follow-up to answer")
