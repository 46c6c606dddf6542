"""Follow-ups: the claims the passes make, and the lookups a reply needs to find its follow-up.

A claim is a conditional UPDATE of the rows a SELECT … FOR UPDATE SKIP LOCKED picked, through a
materialized CTE so that it holds its limit (store/claims.py; SQLite has one writer and ignores
the lock): two passes at the same instant, in one process or on two
machines, never claim the same follow-up, and the caller writes its messages in the claim's
transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, UnaryExpression, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.claims import picked
from store.models import Answer, FollowUp, Greeting, Participant, Programme, UTCDateTime
from store.vocabulary import OPEN_FOLLOWUP, ChaseStage, FollowUpStatus


async def _load_claimed(session: AsyncSession, ids: Sequence[int]) -> Sequence[FollowUp]:
    """The follow-ups just claimed, fresh: the claim's UPDATE went around the ORM."""
    if not ids:
        return ()
    return (
        await session.scalars(
            select(FollowUp)
            .where(FollowUp.id.in_(ids))
            .order_by(FollowUp.id)
            .execution_options(populate_existing=True)
        )
    ).all()


async def claim_due(
    session: AsyncSession, programme_ids: Collection[str], now: datetime, limit: int
) -> Sequence[FollowUp]:
    """Claim up to `limit` scheduled follow-ups of these programmes that are due at `now`, the
    earliest first; they are `claimed` until the caller starts them."""
    due = (
        (FollowUp.status == FollowUpStatus.SCHEDULED)
        & (FollowUp.due_at <= now)
        & FollowUp.programme_id.in_(programme_ids)
    )
    ids = picked(select(FollowUp.id).where(due).order_by(FollowUp.due_at, FollowUp.id).limit(limit))
    claimed = (
        await session.scalars(
            update(FollowUp)
            .where(FollowUp.id == ids.c.id, FollowUp.status == FollowUpStatus.SCHEDULED)
            .values(status=FollowUpStatus.CLAIMED)
            .returning(FollowUp.id)
        )
    ).all()
    return await _load_claimed(session, claimed)


def _unanswered() -> ColumnElement[bool]:
    # a partial answer is an answer, and so is a fikahälsning sent before any answer: whoever
    # said anything is not chased, the rest stays open
    return (
        (FollowUp.status == FollowUpStatus.ACTIVE)
        & ~exists().where(Answer.followup_id == FollowUp.id)
        & ~exists().where(Greeting.followup_id == FollowUp.id)
    )


def _reachable() -> ColumnElement[bool]:
    # correlated, so each candidate costs one primary-key lookup: as `IN (SELECT …)` SQLite
    # first listed every participant not opted out (350 ms a claim at 1,000,000)
    return exists().where(
        Participant.id == FollowUp.participant_id, Participant.opted_out_at.is_(None)
    )


async def claim_chase(
    session: AsyncSession,
    programme: Programme,
    stage: ChaseStage,
    now: datetime,
    today: datetime,
    limit: int,
) -> Sequence[FollowUp]:
    """Claim up to `limit` unanswered follow-ups of a programme that are due for chase `stage`
    at `now` (REMINDED: `reminder_days` after the first question; MOVED: `ladder_days`
    after the reminder), never twice on the local day that began at `today`. The claim moves them
    to that stage."""
    # the clocks run from delivery: a question still waiting in the outbox is never chased,
    # and a reminder that waited counts from when it went out
    if stage == ChaseStage.REMINDED:
        due = (
            (FollowUp.chase_stage == ChaseStage.ASKED)
            & (FollowUp.last_delivered_at <= now - timedelta(days=programme.reminder_days))
            & (FollowUp.last_delivered_at < today)
        )
    elif stage == ChaseStage.MOVED:
        due = (
            (FollowUp.chase_stage == ChaseStage.REMINDED)
            & (FollowUp.last_delivered_at >= FollowUp.last_chased_at)
            & (FollowUp.last_delivered_at <= now - timedelta(days=programme.ladder_days))
            & (FollowUp.last_delivered_at < today)
        )
    else:
        raise ValueError(f"no chase stage {stage}")
    ids = picked(
        select(FollowUp.id)
        .where(FollowUp.programme_id == programme.id, _unanswered(), _reachable(), due)
        # the longest waiting first, in the order of ix_followup_chase: ordered by id, the
        # planners walked the programme's index in id order through every follow-up it has
        .order_by(FollowUp.last_delivered_at, FollowUp.id)
        .limit(limit)
    )
    claimed = (
        await session.scalars(
            update(FollowUp)
            .where(
                FollowUp.id == ids.c.id,
                FollowUp.chase_stage == stage - 1,
                FollowUp.status == FollowUpStatus.ACTIVE,
            )
            .values(chase_stage=stage, last_chased_at=now)
            .returning(FollowUp.id)
        )
    ).all()
    return await _load_claimed(session, claimed)


async def expire_unanswered(session: AsyncSession, programme: Programme, now: datetime) -> int:
    """End the follow-ups of a programme with no answer `expire_days` after the first question:
    expired (their participants are to be phoned), or opted_out for those who asked for quiet.
    Returns how many expired."""
    cutoff = now - timedelta(days=programme.expire_days)
    # counted from the first delivered question: one that never went out is waiting, not expired
    old = (FollowUp.programme_id == programme.id) & _unanswered() & (FollowUp.asked_at <= cutoff)
    await session.execute(
        update(FollowUp)
        .where(old, ~_reachable())
        .values(status=FollowUpStatus.OPTED_OUT, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    expired = (
        await session.scalars(
            update(FollowUp)
            .where(old)
            .values(status=FollowUpStatus.EXPIRED, finished_at=now)
            .returning(FollowUp.id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    return len(expired)


def answered_first(nulls_last: bool = False) -> tuple[UnaryExpression[Any], ...]:
    """The order in which open follow-ups are answered by a message from their people: one still
    asking before one that is done ("active" sorts before "done"), then the one whose question
    was delivered last (on a shared phone a reply answers the message it follows), then the most
    recently started. One definition for every path that picks it, so they cannot disagree.
    `nulls_last`: rows without a follow-up at all (an outer join) come after every one."""
    status = FollowUp.status.asc()
    return (
        status.nulls_last() if nulls_last else status,
        FollowUp.last_delivered_at.desc().nulls_last(),
        FollowUp.started_at.desc(),
        FollowUp.id.desc(),
    )


async def latest_open(session: AsyncSession, participant_ids: Collection[int]) -> FollowUp | None:
    """The open follow-up a message from these people answers: one still asking before one
    that is done, then the one asked last (whose question the provider accepted last: on a
    shared phone a reply answers the message it follows), then the most recently started."""
    return await session.scalar(
        select(FollowUp)
        .where(FollowUp.participant_id.in_(participant_ids), FollowUp.status.in_(OPEN_FOLLOWUP))
        .order_by(*answered_first())
        .limit(1)
    )


async def latest_active(session: AsyncSession, participant_id: int) -> FollowUp | None:
    """The participant's most recently started follow-up that is still asking."""
    return await session.scalar(
        select(FollowUp)
        .where(
            FollowUp.participant_id == participant_id,
            FollowUp.status == FollowUpStatus.ACTIVE,
        )
        .order_by(FollowUp.started_at.desc(), FollowUp.id.desc())
        .limit(1)
    )


async def any_active(session: AsyncSession, participant_ids: Collection[int]) -> bool:
    """Whether any of these people has a follow-up that is still asking."""
    found = await session.scalar(
        select(FollowUp.id)
        .where(
            FollowUp.participant_id.in_(participant_ids),
            FollowUp.status == FollowUpStatus.ACTIVE,
        )
        .limit(1)
    )
    return found is not None


async def load(session: AsyncSession, ids: Collection[int]) -> Sequence[FollowUp]:
    """These follow-ups in one statement (and so in the session for `session.get`)."""
    if not ids:
        return ()
    return (await session.scalars(select(FollowUp).where(FollowUp.id.in_(list(ids))))).all()


async def note_delivered_many(
    session: AsyncSession, delivered: Collection[tuple[int, datetime]]
) -> None:
    """Providers accepted questions of these follow-ups, (follow-up id, when): their clocks run
    from then. One executemany for a sender's whole batch."""
    if not delivered:
        return
    # the table, not the entity: a list of parameters on the entity would be an ORM bulk update
    table = FollowUp.metadata.tables[FollowUp.__tablename__]
    at = bindparam("b_at", type_=UTCDateTime())
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(asked_at=func.coalesce(table.c.asked_at, at), last_delivered_at=at)
    )
    await session.execute(stmt, [{"b_id": fid, "b_at": at} for fid, at in delivered])


async def waiting(session: AsyncSession, programme_id: str | None = None) -> dict[str, int]:
    """Follow-ups that are asking but whose question never went out (their channel is not
    configured, or nothing could be delivered yet), by the channel they wait for."""
    which = (
        (FollowUp.status == FollowUpStatus.ACTIVE)
        & FollowUp.asked_at.is_(None)
        # someone a coordinator phoned is reached
        & FollowUp.called_at.is_(None)
    )
    if programme_id is not None:
        which = which & (FollowUp.programme_id == programme_id)
    rows = await session.execute(
        select(FollowUp.channel, func.count()).where(which).group_by(FollowUp.channel)
    )
    return {channel or "": count for channel, count in rows}


async def latest_expired(
    session: AsyncSession, participant_ids: Collection[int]
) -> FollowUp | None:
    """The most recently started follow-up of these people that expired unanswered: a late
    reply answers it."""
    return await session.scalar(
        select(FollowUp)
        .where(
            FollowUp.participant_id.in_(participant_ids),
            FollowUp.status == FollowUpStatus.EXPIRED,
        )
        .order_by(FollowUp.started_at.desc(), FollowUp.id.desc())
        .limit(1)
    )


async def started_since(session: AsyncSession, programme_id: str, since: datetime) -> int:
    """How many follow-ups of the programme started at or after `since` (the daily cap)."""
    return (
        await session.scalar(
            select(func.count())
            .select_from(FollowUp)
            .where(FollowUp.programme_id == programme_id, FollowUp.started_at >= since)
        )
    ) or 0


async def unclaim(session: AsyncSession, ids: Collection[int]) -> None:
    """Give claimed follow-ups back to be started another time (past a daily cap)."""
    if ids:
        await session.execute(
            update(FollowUp)
            .where(FollowUp.id.in_(list(ids)), FollowUp.status == FollowUpStatus.CLAIMED)
            .values(status=FollowUpStatus.SCHEDULED)
            .execution_options(synchronize_session=False)
        )
