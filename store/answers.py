"""Answers: one per follow-up and question; a later answer to the same question replaces it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Answer


async def record(
    session: AsyncSession,
    *,
    followup_id: int,
    question: str,
    value: str,
    raw_text: str,
    channel: str,
    inbox_id: int | None,
    now: datetime,
    late: bool = False,
) -> Answer:
    """Store the answer, or change the one given before: whatever came last counts, with the
    words and the channel it came in (`inbox_id` None for one not received as a message, such
    as a phone call)."""
    answer = await session.scalar(
        select(Answer).where(Answer.followup_id == followup_id, Answer.question == question)
    )
    if answer is None:
        answer = Answer(followup_id=followup_id, question=question)
        session.add(answer)
    answer.value, answer.raw_text, answer.answered_at = value, raw_text, now
    answer.channel, answer.inbox_id, answer.late = channel, inbox_id, late
    return answer


async def current(session: AsyncSession, followup_id: int, question: str) -> str | None:
    """The answer given so far to a question of a follow-up, if any."""
    return await session.scalar(
        select(Answer.value).where(Answer.followup_id == followup_id, Answer.question == question)
    )
