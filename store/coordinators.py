"""Coordinators: who reads a programme's weekly digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Coordinator, DigestRun


@dataclass(frozen=True)
class DigestTime:
    """When a coordinator's digest is due, in their own time zone."""

    timezone: str
    weekday: int  # ISO: 1 = Monday … 7 = Sunday
    hour: int


async def listing(session: AsyncSession, programme_id: str | None = None) -> list[Coordinator]:
    """Every coordinator (or one programme's), by programme then name."""
    stmt = select(Coordinator).order_by(Coordinator.programme_id, Coordinator.name)
    if programme_id is not None:
        stmt = stmt.where(Coordinator.programme_id == programme_id)
    return list((await session.scalars(stmt)).all())


async def find(session: AsyncSession, programme_id: str, email: str) -> Coordinator | None:
    found: Coordinator | None = await session.scalar(
        select(Coordinator).where(
            Coordinator.programme_id == programme_id, Coordinator.email == email
        )
    )
    return found


async def save(
    session: AsyncSession,
    programme_id: str,
    email: str,
    now: datetime,
    *,
    name: str,
    language: str,
    digest: DigestTime,
) -> Coordinator:
    """Add the coordinator to the programme, or change the one with that address."""
    coordinator = await find(session, programme_id, email)
    if coordinator is None:
        coordinator = Coordinator(programme_id=programme_id, email=email, created_at=now)
        session.add(coordinator)
    coordinator.name, coordinator.language = name, language
    coordinator.timezone = digest.timezone
    coordinator.digest_weekday, coordinator.digest_hour = digest.weekday, digest.hour
    return coordinator


async def remove(session: AsyncSession, programme_id: str, email: str) -> bool:
    """Remove the coordinator and the record of their digests; False when there is none."""
    coordinator = await find(session, programme_id, email)
    if coordinator is None:
        return False
    await session.execute(delete(DigestRun).where(DigestRun.coordinator_id == coordinator.id))
    await session.delete(coordinator)
    return True
