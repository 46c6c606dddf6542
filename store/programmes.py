"""Programmes: each has its own time zone, send hour and quiet hours."""

from __future__ import annotations

from collections.abc import Mapping
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


async def listing(session: AsyncSession) -> list[Programme]:
    """Every programme, by id."""
    return list((await session.scalars(select(Programme).order_by(Programme.id))).all())


async def save(
    session: AsyncSession,
    programme_id: str,
    now: datetime,
    *,
    defaults: SendWindow,
    changes: Mapping[str, str | int],
) -> Programme:
    """Create the programme (with `defaults` for its timing, its id as its name) or change it;
    `changes` maps Programme's column names to their new values."""
    programme = await get_or_create(
        session,
        programme_id,
        now,
        name=programme_id,
        timezone=defaults.timezone,
        send_hour=defaults.send_hour,
        quiet=(defaults.quiet_start, defaults.quiet_end),
    )
    for column, value in changes.items():
        setattr(programme, column, value)
    return programme
