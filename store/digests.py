"""The weekly digests' bookkeeping: who reads one, and which weeks went out.

"Once per coordinator and ISO week" is the database's to guarantee: a `digest_run` row with a
unique (coordinator, ISO year, ISO week) is claimed with INSERT … ON CONFLICT DO NOTHING before
anything is sent, so of two processes claiming the same week one gets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Coordinator, DigestRun


async def coordinators(
    session: AsyncSession, programme_id: str | None = None
) -> Sequence[Coordinator]:
    """The coordinators of one programme, or of all, by id."""
    stmt = select(Coordinator).order_by(Coordinator.id)
    if programme_id is not None:
        stmt = stmt.where(Coordinator.programme_id == programme_id)
    return (await session.scalars(stmt)).all()


async def claim_week(
    session: AsyncSession, coordinator_id: int, year: int, week: int, now: datetime
) -> bool:
    """Claim the digest of an ISO week for a coordinator; False when it is claimed already."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    claimed = await session.scalar(
        insert(DigestRun)
        .values(coordinator_id=coordinator_id, iso_year=year, iso_week=week, claimed_at=now)
        .on_conflict_do_nothing(index_elements=["coordinator_id", "iso_year", "iso_week"])
        .returning(DigestRun.id)
    )
    return claimed is not None


async def give_back_week(session: AsyncSession, coordinator_id: int, year: int, week: int) -> None:
    """The digest could not be sent: the next run may claim the week again."""
    await session.execute(
        delete(DigestRun).where(
            DigestRun.coordinator_id == coordinator_id,
            DigestRun.iso_year == year,
            DigestRun.iso_week == week,
        )
    )


async def mark_week_sent(
    session: AsyncSession, coordinator_id: int, year: int, week: int, now: datetime
) -> None:
    await session.execute(
        update(DigestRun)
        .where(
            DigestRun.coordinator_id == coordinator_id,
            DigestRun.iso_year == year,
            DigestRun.iso_week == week,
        )
        .values(sent_at=now)
    )
