"""Participants: who is behind an address, and who they were matched with."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from store.models import FollowUp, MatchMember, Participant
from store.vocabulary import OPEN_FOLLOWUP


def _address_column(channel: str) -> InstrumentedAttribute[str | None] | None:
    return {
        "telegram": Participant.telegram_chat_id,
        "sms": Participant.phone,
        "email": Participant.email,
    }.get(channel)


async def at_address(session: AsyncSession, channel: str, address: str) -> Sequence[Participant]:
    """Everyone reached at this address on this channel (a shared phone or chat holds several)."""
    column = _address_column(channel)
    if column is None:
        return ()
    return (await session.scalars(select(Participant).where(column == address))).all()


async def at_address_answering(
    session: AsyncSession, channel: str, address: str
) -> tuple[Sequence[Participant], FollowUp | None]:
    """Everyone at the address, and the open follow-up a message from there answers (chosen as
    `followups.latest_open` chooses), in one query: it is on every inbound message's path."""
    column = _address_column(channel)
    if column is None:
        return (), None
    rows = await session.execute(
        select(Participant, FollowUp)
        .outerjoin(
            FollowUp,
            and_(FollowUp.participant_id == Participant.id, FollowUp.status.in_(OPEN_FOLLOWUP)),
        )
        .where(column == address)
        # "active" sorts before "done"; people with no open follow-up last
        .order_by(
            FollowUp.status.asc().nulls_last(),
            FollowUp.started_at.desc(),
            FollowUp.id.desc(),
            Participant.id,
        )
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


async def of_programme(session: AsyncSession, programme_id: str) -> Sequence[Participant]:
    return (
        await session.scalars(
            select(Participant)
            .where(Participant.programme_id == programme_id)
            .order_by(Participant.id)
        )
    ).all()
