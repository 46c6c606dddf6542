"""The passes: plain async functions of `now`, safe to run twice or on two machines at once.

The database decides who does the work: a follow-up is claimed by a conditional UPDATE (with
SKIP LOCKED on PostgreSQL) in the same transaction that writes its first question to the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import Conversation
from store.models import Answer, FollowUp, Greeting, Participant, Programme
from store.programmes import send_window

log = logging.getLogger(__name__)


async def _load_claimed(session: AsyncSession, ids: Sequence[int]) -> Sequence[FollowUp]:
    """The follow-ups just claimed, fresh: the claim's UPDATE went around the ORM."""
    return (
        await session.scalars(
            select(FollowUp)
            .where(FollowUp.id.in_(ids))
            .order_by(FollowUp.id)
            .execution_options(populate_existing=True)
        )
    ).all()


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
            followups = await _load_claimed(session, claimed)
            for followup in followups:
                status = await conversation.start(session, followup, now)
                if status == "active":
                    result.started += 1
                elif status == "unreachable":
                    result.unreachable += 1
                else:
                    result.opted_out += 1
        log.info("dispatch at %s: %s follow-ups claimed", now.isoformat(), len(claimed))


@dataclass
class ChaseResult:
    reminded: int = 0
    moved: int = 0
    no_other_channel: int = 0
    expired: int = 0


def _local_midnight(programme: Programme, now: datetime) -> datetime:
    zone = ZoneInfo(programme.timezone)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone).astimezone(UTC)


def _unanswered() -> ColumnElement[bool]:
    # a partial answer is an answer, and so is a fikahälsning sent before any answer: whoever
    # said anything is not chased, the rest stays open
    return (
        (FollowUp.status == "active")
        & ~exists().where(Answer.followup_id == FollowUp.id)
        & ~exists().where(Greeting.followup_id == FollowUp.id)
    )


def _reachable() -> ColumnElement[bool]:
    return FollowUp.participant_id.in_(
        select(Participant.id).where(Participant.opted_out_at.is_(None))
    )


async def chase(
    sessions: async_sessionmaker[AsyncSession],
    conversation: Conversation,
    now: datetime,
    batch: int = 200,
) -> ChaseResult:
    """Remind, move to the next channel, expire: each follow-up that has had no answer.

    Per programme: a reminder on the same channel `reminder_days` after the first question, the
    question on the next channel of the ladder `ladder_days` after that, and after `expire_days`
    in all the follow-up expires and its participant is on the call list. Nothing is sent in
    quiet hours, nor twice on the same local day; opted-out participants are never chased.
    """
    result = ChaseResult()
    async with sessions() as session:
        programmes = (await session.scalars(select(Programme).order_by(Programme.id))).all()
    for programme in programmes:
        result.expired += await _expire(sessions, programme, now)
        if send_window(programme).is_quiet(now):
            continue
        today = _local_midnight(programme, now)
        # the ladder first, so a follow-up never gets both on one pass
        moved = (
            (FollowUp.chase_stage == 1)
            & (FollowUp.last_chased_at <= now - timedelta(days=programme.ladder_days))
            & (FollowUp.last_chased_at < today)
        )
        await _advance(sessions, conversation, programme, moved, 2, now, batch, result)
        remind = (
            (FollowUp.chase_stage == 0)
            & (FollowUp.started_at <= now - timedelta(days=programme.reminder_days))
            & (FollowUp.started_at < today)
        )
        await _advance(sessions, conversation, programme, remind, 1, now, batch, result)
    if result.reminded or result.moved or result.expired:
        log.info(
            "chase at %s: %s reminded, %s moved to another channel, %s expired",
            now.isoformat(),
            result.reminded,
            result.moved,
            result.expired,
        )
    return result


async def _advance(
    sessions: async_sessionmaker[AsyncSession],
    conversation: Conversation,
    programme: Programme,
    due: ColumnElement[bool],
    stage: int,
    now: datetime,
    batch: int,
    result: ChaseResult,
) -> None:
    """Claim follow-ups that are due for `stage` and write their message, batch by batch; the
    claim (a conditional UPDATE on the stage) and the message share one transaction."""
    while True:
        async with sessions.begin() as session:
            ids = (
                select(FollowUp.id)
                .where(FollowUp.programme_id == programme.id, _unanswered(), _reachable(), due)
                .order_by(FollowUp.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            claimed = (
                await session.scalars(
                    update(FollowUp)
                    .where(
                        FollowUp.id.in_(ids),
                        FollowUp.chase_stage == stage - 1,
                        FollowUp.status == "active",
                    )
                    .values(chase_stage=stage, last_chased_at=now)
                    .returning(FollowUp.id)
                )
            ).all()
            if not claimed:
                return
            followups = await _load_claimed(session, claimed)
            for followup in followups:
                if stage == 1:
                    if await conversation.remind(session, followup, now):
                        result.reminded += 1
                elif await conversation.ask_on_next_channel(session, followup, now):
                    result.moved += 1
                else:
                    result.no_other_channel += 1


async def _expire(
    sessions: async_sessionmaker[AsyncSession], programme: Programme, now: datetime
) -> int:
    """Follow-ups with no answer after `expire_days` end; their participants are to be phoned
    (those who opted out are not: they asked for quiet)."""
    cutoff = now - timedelta(days=programme.expire_days)
    old = (FollowUp.programme_id == programme.id) & _unanswered() & (FollowUp.started_at <= cutoff)
    async with sessions.begin() as session:
        await session.execute(
            update(FollowUp)
            .where(old, ~_reachable())
            .values(status="opted_out", finished_at=now)
            .execution_options(synchronize_session=False)
        )
        expired = (
            await session.scalars(
                update(FollowUp)
                .where(old)
                .values(status="expired", finished_at=now)
                .returning(FollowUp.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    return len(expired)
