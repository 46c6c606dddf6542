"""What the coordinators' pages show, always within one programme.

Every query here takes the programme id and filters on it, so an id guessed in a URL finds
nothing outside the coordinator's own programme.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    Answer,
    FollowUp,
    Greeting,
    InboxEvent,
    Match,
    MatchMember,
    Note,
    OutboxMessage,
    Participant,
)


@dataclass(frozen=True)
class Week:
    asked: int
    answered: int
    met_again: int
    waiting_no_channel: int


async def week(
    session: AsyncSession,
    programme_id: str,
    start: datetime,
    end: datetime,
    configured: Collection[str],
) -> Week:
    asked = await session.scalar(
        select(func.count())
        .select_from(FollowUp)
        .where(
            FollowUp.programme_id == programme_id,
            FollowUp.started_at >= start,
            FollowUp.started_at < end,
            # asked means a question went out; one waiting for a channel is not asked yet
            FollowUp.asked_at.is_not(None),
        )
    )
    answered_rows = await session.execute(
        select(Answer.followup_id, Answer.question, Answer.value)
        .join(FollowUp, FollowUp.id == Answer.followup_id)
        .where(
            FollowUp.programme_id == programme_id,
            Answer.answered_at >= start,
            Answer.answered_at < end,
        )
    )
    answered: set[int] = set()
    met = 0
    for followup_id, question, value in answered_rows:
        answered.add(followup_id)
        met += question == "met_again" and value == "yes"
    waiting = await session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.programme_id == programme_id,
            OutboxMessage.status == "pending",
            OutboxMessage.channel.not_in(list(configured) or [""]),
        )
    )
    return Week(asked or 0, len(answered), met, waiting or 0)


@dataclass(frozen=True)
class GreetingRow:
    id: int
    participant_id: int
    first_name: str
    language: str
    match_id: str
    matched_on: str
    words: str
    has_photo: bool
    consent: str | None
    social: str | None
    created_at: datetime


def _greetings_query(programme_id: str):  # type: ignore[no-untyped-def]
    return (
        select(Greeting, Participant, Match)
        .join(FollowUp, FollowUp.id == Greeting.followup_id)
        .join(Participant, Participant.id == Greeting.participant_id)
        .join(Match, Match.id == FollowUp.match_id)
        .where(FollowUp.programme_id == programme_id)
    )


def _greeting_row(g: Greeting, p: Participant, m: Match) -> GreetingRow:
    return GreetingRow(
        g.id,
        p.id,
        p.first_name,
        p.language,
        m.external_id,
        m.matched_on.isoformat(),
        g.words,
        g.photo_path is not None,
        g.consent,
        g.social,
        g.created_at,
    )


async def greetings(
    session: AsyncSession, programme_id: str, social: str | None = None
) -> list[GreetingRow]:
    """Every fikahälsning of the programme, newest first; only the approved ones if asked."""
    query = _greetings_query(programme_id).order_by(Greeting.created_at.desc(), Greeting.id)
    if social is not None:
        query = query.where(Greeting.social == social)
    return [_greeting_row(g, p, m) for g, p, m in await session.execute(query)]


async def greeting(session: AsyncSession, programme_id: str, greeting_id: int) -> Greeting | None:
    """The programme's greeting with this id, or None — also when it is another programme's."""
    found = await session.execute(_greetings_query(programme_id).where(Greeting.id == greeting_id))
    first = found.first()
    return None if first is None else first[0]


@dataclass(frozen=True)
class WordsRow:
    inbox_id: int
    participant_id: int
    first_name: str
    language: str
    channel: str
    text: str
    outcome: str
    received_at: datetime
    note_id: int = 0
    read: bool = False
    # the answer a coordinator made of it ("met_again=yes"), if any
    resolved_as: str | None = None


async def words_to_read(
    session: AsyncSession, programme_id: str, unread_only: bool = False, limit: int = 200
) -> list[WordsRow]:
    """Notes of the programme: texts from its participants that did not become an answer,
    the unread first, newest first."""
    query = (
        select(Note, Participant)
        .join(Participant, Participant.id == Note.participant_id)
        .where(Note.programme_id == programme_id)
        .order_by(Note.read_at.is_not(None), Note.created_at.desc(), Note.id.desc())
        .limit(limit)
    )
    if unread_only:
        query = query.where(Note.read_at.is_(None))
    rows = await session.execute(query)
    return [
        WordsRow(
            n.inbox_id,
            p.id,
            p.first_name,
            p.language,
            n.channel,
            n.text,
            n.reason,
            n.created_at,
            note_id=n.id,
            read=n.read_at is not None,
            resolved_as=n.resolved_as,
        )
        for n, p in rows
    ]


@dataclass(frozen=True)
class PairPerson:
    participant_id: int
    first_name: str
    language: str
    channel: str
    phone: str
    email: str
    met_again: str | None


@dataclass(frozen=True)
class Pair:
    match_id: str
    reason: str  # not_met, disagree, no_and_silent
    people: tuple[PairPerson, ...]


async def pairs_needing_attention(
    session: AsyncSession, programme_id: str, until: datetime | None = None
) -> list[Pair]:
    """Matches where both say not met, the two disagree, or one says no and the other is
    silent — with the people and how to reach them; answers given before `until` (default:
    all)."""
    said_met = (
        select(Answer.followup_id, Answer.value)
        .join(FollowUp, FollowUp.id == Answer.followup_id)
        .where(FollowUp.programme_id == programme_id, Answer.question == "met_again")
    )
    if until is not None:
        said_met = said_met.where(Answer.answered_at < until)
    # every reason needs someone who said no: only those matches are read, as a subquery (a
    # large programme's ids bound one by one pass the 32,767 parameters asyncpg allows)
    said_no = (
        said_met.where(Answer.value == "no").with_only_columns(FollowUp.match_id).scalar_subquery()
    )
    rows = await session.execute(
        select(Match, Participant, FollowUp.id)
        .join(MatchMember, MatchMember.match_id == Match.id)
        .join(Participant, Participant.id == MatchMember.participant_id)
        .outerjoin(
            FollowUp,
            (FollowUp.match_id == Match.id) & (FollowUp.participant_id == Participant.id),
        )
        .where(Match.programme_id == programme_id, Match.id.in_(said_no))
        .order_by(Match.external_id, Participant.id)
    )
    found = list(rows)
    said: dict[int, str] = {}
    if found:
        chosen = (
            select(FollowUp.id)
            .where(FollowUp.programme_id == programme_id, FollowUp.match_id.in_(said_no))
            .scalar_subquery()
        )
        for followup_id, value in await session.execute(
            said_met.where(Answer.followup_id.in_(chosen))
        ):
            said[followup_id] = value
    by_match: dict[str, dict[int, PairPerson]] = {}
    for match, person, followup_id in found:
        people = by_match.setdefault(match.external_id, {})
        answer = said.get(followup_id) if followup_id is not None else None
        earlier = people.get(person.id)
        people[person.id] = PairPerson(
            person.id,
            person.first_name,
            person.language,
            person.channel,
            person.phone or "",
            person.email or "",
            answer or (earlier.met_again if earlier else None),
        )
    pairs: list[Pair] = []
    for match_id, people in by_match.items():
        values = [p.met_again for p in people.values()]
        reason = None
        if len(values) >= 2 and all(v == "no" for v in values):
            reason = "not_met"
        elif "yes" in values and "no" in values:
            reason = "disagree"
        elif "no" in values and None in values:
            reason = "no_and_silent"
        if reason:
            pairs.append(Pair(match_id, reason, tuple(people.values())))
    return pairs


@dataclass(frozen=True)
class Event:
    at: datetime
    direction: str  # out, in, answer, greeting, opt_out
    channel: str
    text: str
    detail: str


async def participant(
    session: AsyncSession, programme_id: str, participant_id: int
) -> Participant | None:
    found = await session.get(Participant, participant_id)
    return found if found is not None and found.programme_id == programme_id else None


async def timeline(session: AsyncSession, person: Participant) -> list[Event]:
    """Every message out and in, answer, greeting and opt-out of one participant, oldest first."""
    events: list[Event] = []
    for out in await session.scalars(
        select(OutboxMessage).where(OutboxMessage.participant_id == person.id)
    ):
        events.append(
            Event(
                out.sent_at or out.created_at,
                "out",
                out.channel,
                str(out.payload.get("text", "")) if isinstance(out.payload, dict) else "",
                f"{out.kind}:{out.question or ''}:{out.delivery_status or out.status}",
            )
        )
    for event in await session.scalars(
        select(InboxEvent).where(InboxEvent.participant_id == person.id)
    ):
        events.append(
            Event(event.received_at, "in", event.channel, event.text, event.outcome or "")
        )
    for answer in await session.scalars(
        select(Answer)
        .join(FollowUp, FollowUp.id == Answer.followup_id)
        .where(FollowUp.participant_id == person.id)
    ):
        events.append(
            Event(
                answer.answered_at,
                "answer",
                answer.channel,
                answer.raw_text,
                f"{answer.question}:{answer.value}",
            )
        )
    for greeting in await session.scalars(
        select(Greeting).where(Greeting.participant_id == person.id)
    ):
        events.append(Event(greeting.created_at, "greeting", "", greeting.words, str(greeting.id)))
    if person.opted_out_at is not None:
        events.append(Event(person.opted_out_at, "opt_out", "", "", ""))
    return sorted(events, key=lambda e: e.at)


async def participant_ids(
    session: AsyncSession, programme_id: str, external_ids: Sequence[str]
) -> dict[str, int]:
    """Our ids for the programme's participants known by the coordinator's ids."""
    if not external_ids:
        return {}
    rows = await session.execute(
        select(Participant.external_id, Participant.id).where(
            Participant.programme_id == programme_id,
            Participant.external_id.in_(list(external_ids)),
        )
    )
    return {ext: pid for ext, pid in rows}
