"""The passes: plain async functions of `now`, safe to run twice or on two machines at once.

The database decides who does the work: a follow-up is claimed by a conditional UPDATE (with
SKIP LOCKED on PostgreSQL) in the same transaction that writes its first question to the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import Conversation
from store.models import FollowUp, Programme
from store.programmes import send_window

log = logging.getLogger(__name__)


@dataclass
class DispatchResult:
    started: int = 0
    unreachable: int = 0
    opted_out: int = 0


async def _programmes_awake(session: AsyncSession, now: datetime) -> list[str]:
    programmes = (await session.scalars(select(Programme))).all()
    return [p.id for p in programmes if not send_window(p).is_quiet(now)]


async def dispatch_due(
    sessions: async_sessionmaker[AsyncSession],
    conversation: Conversation,
    now: datetime,
    batch: int = 200,
) -> DispatchResult:
    """Ask the first question of every follow-up that is due at `now`."""
    result = DispatchResult()
    while True:
        async with sessions.begin() as session:
            awake = await _programmes_awake(session, now)
            if not awake:
                return result
            due = (
                (FollowUp.status == "scheduled")
                & (FollowUp.due_at <= now)
                & FollowUp.programme_id.in_(awake)
            )
            ids = (
                select(FollowUp.id)
                .where(due)
                .order_by(FollowUp.due_at, FollowUp.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            claimed = (
                await session.scalars(
                    update(FollowUp)
                    .where(FollowUp.id.in_(ids), FollowUp.status == "scheduled")
                    .values(status="claimed")
                    .returning(FollowUp.id)
                )
            ).all()
            if not claimed:
                return result
            followups = (
                await session.scalars(
                    select(FollowUp)
                    .where(FollowUp.id.in_(claimed))
                    .order_by(FollowUp.id)
                    .execution_options(populate_existing=True)
                )
            ).all()
            for followup in followups:
                status = await conversation.start(session, followup, now)
                if status == "active":
                    result.started += 1
                elif status == "unreachable":
                    result.unreachable += 1
                else:
                    result.opted_out += 1
        log.info("dispatch at %s: %s follow-ups claimed", now.isoformat(), len(claimed))
