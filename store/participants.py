"""Participants: who is behind an address, and who they were matched with."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from store.followups import answered_first
from store.models import FollowUp, Match, MatchMember, Participant
from store.vocabulary import OPEN_FOLLOWUP, FollowUpStatus

# the column that holds a participant's address on each channel (bot.reach reads it too)
ADDRESS_COLUMNS: dict[str, InstrumentedAttribute[str | None]] = {
    "telegram": Participant.telegram_chat_id,
    "sms": Participant.phone,
    "email": Participant.email,
}


async def at_address(session: AsyncSession, channel: str, address: str) -> Sequence[Participant]:
    """Everyone reached at this address on this channel (a shared phone or chat holds several)."""
    column = ADDRESS_COLUMNS.get(channel)
    if column is None:
        return ()
    return (await session.scalars(select(Participant).where(column == address))).all()


async def known_addresses(
    session: AsyncSession, channel: str, addresses: Collection[str]
) -> set[str]:
    """Which of these addresses anyone is reached at on this channel: one statement for a
    group of inbound messages, to tell the unknown senders apart before any is stored."""
    column = ADDRESS_COLUMNS.get(channel)
    if column is None or not addresses:
        return set()
    found = await session.scalars(select(column).where(column.in_(sorted(set(addresses)))))
    return {address for address in found if address}


async def others_asked(
    session: AsyncSession, channel: str, address: str, participant_id: int
) -> bool:
    """Whether someone else reached at this address has a follow-up still asking (a family
    sharing a phone, mailbox or chat, both asked)."""
    column = ADDRESS_COLUMNS.get(channel)
    if column is None or not address:
        return False
    found = await session.scalar(
        select(FollowUp.id)
        .join(Participant, Participant.id == FollowUp.participant_id)
        .where(
            column == address,
            Participant.id != participant_id,
            FollowUp.status == FollowUpStatus.ACTIVE,
        )
        .limit(1)
    )
    return found is not None


async def asked_at(
    session: AsyncSession, addresses: Mapping[str, Collection[str]]
) -> dict[tuple[str, str], set[int]]:
    """Who has a follow-up still asking at each of these addresses, by (channel, address): one
    statement per channel for a whole batch, where `others_asked` is one per message."""
    found: dict[tuple[str, str], set[int]] = {}
    for channel, wanted in sorted(addresses.items()):
        column = ADDRESS_COLUMNS.get(channel)
        if column is None or not wanted:
            continue
        rows = await session.execute(
            select(column, FollowUp.participant_id)
            .join(Participant, Participant.id == FollowUp.participant_id)
            .where(column.in_(sorted(wanted)), FollowUp.status == FollowUpStatus.ACTIVE)
            .distinct()
        )
        for address, participant_id in rows:
            if address:
                found.setdefault((channel, address), set()).add(participant_id)
    return found


async def at_address_answering(
    session: AsyncSession, channel: str, address: str
) -> tuple[Sequence[Participant], FollowUp | None]:
    """Everyone at the address, and the open follow-up a message from there answers (chosen as
    `followups.latest_open` chooses), in one query: it is on every inbound message's path."""
    column = ADDRESS_COLUMNS.get(channel)
    if column is None:
        return (), None
    rows = await session.execute(
        select(Participant, FollowUp)
        .outerjoin(
            FollowUp,
            and_(FollowUp.participant_id == Participant.id, FollowUp.status.in_(OPEN_FOLLOWUP)),
        )
        .where(column == address)
        # people with no open follow-up last
        .order_by(*answered_first(nulls_last=True), Participant.id)
    )
    found = rows.all()
    people = list({person.id: person for person, _followup in found}.values())
    return people, (found[0][1] if found else None)


async def partner_names(session: AsyncSession, match_id: int, participant_id: int) -> list[str]:
    """The first names of the others in a participant's match, in a stable order."""
    names = await session.scalars(
        select(Participant.first_name)
        .join(MatchMember, MatchMember.participant_id == Participant.id)
        .where(MatchMember.match_id == match_id, Participant.id != participant_id)
        .order_by(Participant.id)
    )
    return list(names)


async def load(session: AsyncSession, ids: Collection[int]) -> Sequence[Participant]:
    """These participants in one statement (and so in the session: `session.get` then asks
    the database nothing)."""
    if not ids:
        return ()
    return (await session.scalars(select(Participant).where(Participant.id.in_(list(ids))))).all()


async def matches(session: AsyncSession, ids: Collection[int]) -> Sequence[Match]:
    """These matches in one statement."""
    if not ids:
        return ()
    return (await session.scalars(select(Match).where(Match.id.in_(list(ids))))).all()


async def members_of_matches(
    session: AsyncSession, match_ids: Collection[int]
) -> dict[int, list[tuple[int, str]]]:
    """Each match's members as (participant id, first name), in a stable order: one statement
    for a whole batch."""
    if not match_ids:
        return {}
    wanted = list(match_ids)
    rows = await session.execute(
        select(MatchMember.match_id, Participant.id, Participant.first_name)
        .join(MatchMember, MatchMember.participant_id == Participant.id)
        .where(MatchMember.match_id.in_(wanted))
        .order_by(MatchMember.match_id, Participant.id)
    )
    members: dict[int, list[tuple[int, str]]] = {}
    for match_id, participant_id, first_name in rows:
        members.setdefault(match_id, []).append((participant_id, first_name))
    return members


async def of_programme(session: AsyncSession, programme_id: str) -> Sequence[Participant]:
    return (
        await session.scalars(
            select(Participant)
            .where(Participant.programme_id == programme_id)
            .order_by(Participant.id)
        )
    ).all()
