"""Programmes: each has its own time zone, send hour and quiet hours."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Programme
from store.timing import SendWindow


def send_window(programme: Programme) -> SendWindow:
    return SendWindow(
        timezone=programme.timezone,
        send_hour=programme.send_hour,
        quiet_start=programme.quiet_start,
        quiet_end=programme.quiet_end,
    )


async def get_or_create(
    session: AsyncSession,
    programme_id: str,
    now: datetime,
    *,
    name: str,
    timezone: str,
    send_hour: int,
    quiet: tuple[int, int],
) -> Programme:
    """The programme, created with these defaults the first time it is named."""
    programme = await session.get(Programme, programme_id)
    if programme is None:
        programme = Programme(
            id=programme_id,
            name=name,
            timezone=timezone,
            send_hour=send_hour,
            quiet_start=quiet[0],
            quiet_end=quiet[1],
            surveys="three_weeks",
            created_at=now,
        )
        session.add(programme)
        await session.flush()
    return programme


async def every(session: AsyncSession) -> Sequence[Programme]:
    """Every programme, by id."""
    return (await session.scalars(select(Programme).order_by(Programme.id))).all()
