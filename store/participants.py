"""Participants: who is behind an address, and who they were matched with."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import MatchMember, Participant


async def at_address(session: AsyncSession, channel: str, address: str) -> Sequence[Participant]:
    """Everyone reached at this address on this channel (a shared phone or chat holds several)."""
    column = {
        "telegram": Participant.telegram_chat_id,
        "sms": Participant.phone,
        "email": Participant.email,
    }.get(channel)
    if column is None:
        return ()
    return (await session.scalars(select(Participant).where(column == address))).all()


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
