"""Answers: one per follow-up and question; a later answer to the same question replaces it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
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
    values = {
        "value": value,
        "raw_text": raw_text,
        "answered_at": now,
        "channel": channel,
        "inbox_id": inbox_id,
        "late": late,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Answer).values(followup_id=followup_id, question=question, **values)
    # one statement whether it is the first answer or a changed one (an inbound answer is on
    # the webhook's path: every round trip there costs throughput); the returned row becomes
    # the session's object, refreshed if the session held it already
    stmt = stmt.on_conflict_do_update(index_elements=["followup_id", "question"], set_=values)
    answer = await session.scalar(stmt.returning(Answer).execution_options(populate_existing=True))
    assert answer is not None  # an upsert always returns its row
    return answer


async def current(session: AsyncSession, followup_id: int, question: str) -> str | None:
    """The answer given so far to a question of a follow-up, if any."""
    return await session.scalar(
        select(Answer.value).where(Answer.followup_id == followup_id, Answer.question == question)
    )
