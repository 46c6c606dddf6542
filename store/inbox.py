"""The inbox: each inbound event stored once, keyed by the provider's id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import InboxEvent


async def record(
    session: AsyncSession,
    *,
    channel: str,
    provider_id: str,
    sender: str,
    text: str,
    payload: dict[str, Any],
    now: datetime,
    outcome: str | None = None,
    participant_id: int | None = None,
    followup_id: int | None = None,
) -> InboxEvent | None:
    """Store the event; None when it was stored before (a retried webhook changes nothing).
    `outcome`, `participant_id` and `followup_id` when they are known before acting."""
    values = {
        "channel": channel,
        "provider_id": provider_id,
        "sender": sender,
        "text": text,
        "payload": payload,
        "received_at": now,
        "outcome": outcome,
        "participant_id": participant_id,
        "followup_id": followup_id,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(InboxEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
        .returning(InboxEvent)
        # the returned row becomes the session's object: no second query to load it (on
        # SQLite, with one writer connection, every query per webhook costs throughput)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(stmt)


async def record_many(
    session: AsyncSession, events: Sequence[Mapping[str, Any]]
) -> dict[tuple[str, str], int]:
    """Store these events (`record`'s fields, each a mapping) in one statement; the ids of the
    ones stored now, by (channel, provider id). One stored before is not among them (a retried
    webhook changes nothing); two of one id here are stored once. Core, not the ORM: no
    objects are made, which is most of a small insert's cost."""
    if not events:
        return {}
    table = cast(Table, InboxEvent.__table__)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
        .returning(table.c.id, table.c.channel, table.c.provider_id)
    )
    rows = await session.execute(stmt, [dict(event) for event in events])
    return {(channel, provider_id): id_ for id_, channel, provider_id in rows}


async def seen(session: AsyncSession, channel: str, provider_id: str) -> bool:
    """Whether the event is stored already."""
    found = await session.scalar(
        select(InboxEvent.id).where(
            InboxEvent.channel == channel, InboxEvent.provider_id == provider_id
        )
    )
    return found is not None
