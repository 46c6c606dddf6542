"""Participants: who is behind an address, and who they were matched with."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import FollowUp, MatchMember, Participant
from store.vocabulary import FollowUpStatus

# the column that holds a participant's address on each channel
_ADDRESS = {
    "telegram": Participant.telegram_chat_id,
    "sms": Participant.phone,
    "email": Participant.email,
}


async def at_address(session: AsyncSession, channel: str, address: str) -> Sequence[Participant]:
    """Everyone reached at this address on this channel (a shared phone or chat holds several)."""
    column = _ADDRESS.get(channel)
    if column is None:
        return ()
    return (await session.scalars(select(Participant).where(column == address))).all()


async def others_asked(
    session: AsyncSession, channel: str, address: str, participant_id: int
) -> bool:
    """Whether someone else reached at this address has a follow-up still asking (a family
    sharing a phone, mailbox or chat, both asked)."""
    column = _ADDRESS.get(channel)
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
