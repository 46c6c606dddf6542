"""Fikahälsningar: a photo and/or a few words, and the consent to share them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import FollowUp, Greeting
from store.photos import StoredPhoto


def add(
    session: AsyncSession,
    *,
    followup_id: int,
    participant_id: int,
    words: str,
    now: datetime,
    photo: StoredPhoto | None = None,
    inbox_id: int | None = None,
    consent: str | None = None,
) -> Greeting:
    greeting = Greeting(
        followup_id=followup_id,
        participant_id=participant_id,
        inbox_id=inbox_id,
        words=words,
        photo_path=photo.path if photo else None,
        photo_type=photo.content_type if photo else None,
        consent=consent,
        consent_at=now if consent is not None else None,
        created_at=now,
    )
    session.add(greeting)
    return greeting


async def give_consent(
    session: AsyncSession, followup_id: int, consent: str, now: datetime, *, change: bool
) -> None:
    """The answer to the consent question, for the follow-up's photos: those still waiting for
    one, or (`change`) all of them, when an earlier answer is changed."""
    which = [Greeting.followup_id == followup_id, Greeting.photo_path.is_not(None)]
    if not change:
        which.append(Greeting.consent.is_(None))
    await session.execute(update(Greeting).where(*which).values(consent=consent, consent_at=now))


async def latest_consent(session: AsyncSession, followup_id: int) -> str | None:
    """The consent given last for a follow-up's fikahälsningar, if any."""
    return await session.scalar(
        select(Greeting.consent)
        .where(Greeting.followup_id == followup_id, Greeting.consent.is_not(None))
        .order_by(Greeting.id.desc())
        .limit(1)
    )


async def of_programme(session: AsyncSession, programme_id: str) -> Sequence[Greeting]:
    return (
        await session.scalars(
            select(Greeting)
            .join(FollowUp, FollowUp.id == Greeting.followup_id)
            .where(FollowUp.programme_id == programme_id)
            .order_by(Greeting.id)
        )
    ).all()
