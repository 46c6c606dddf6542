"""The outbox: every outgoing message is a row first, written with the change that causes it.

A sender claims rows with a lease, so two senders never take the same row and a sender that dies
mid-send gives its rows back when the lease runs out (delivery is at least once; the lease is
long compared with one send, so a second delivery needs a crash between send and record).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import OPEN_OUTBOX_SQL, OutboxMessage, Participant
from store.vocabulary import MessageKind, OutboxStatus

LEASE = timedelta(minutes=5)
# the one message a participant who opted out still gets: the confirmation of their stop
OPT_OUT_CONFIRMATION = MessageKind.OPTED_OUT


def enqueue(
    session: AsyncSession,
    *,
    programme_id: str,
    participant_id: int,
    followup_id: int | None,
    channel: str,
    address: str,
    language: str,
    kind: str,
    question: str | None,
    payload: dict[str, Any],
    now: datetime,
) -> OutboxMessage:
    row = OutboxMessage(
        programme_id=programme_id,
        participant_id=participant_id,
        followup_id=followup_id,
        channel=channel,
        address=address,
        language=language,
        kind=kind,
        question=question,
        payload=payload,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


async def claim(
    session: AsyncSession, channel: str, now: datetime, limit: int
) -> list[OutboxMessage]:
    """Take up to `limit` rows that are due on `channel`; safe with several senders at once."""
    due = and_(
        # implied by the OR below, but said outright, and in the index's own words (SQLite
        # matches a partial index's condition as written, not with bound values), so the
        # planner uses ix_outbox_open
        text(OPEN_OUTBOX_SQL),
        or_(
            and_(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now
            ),
            and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until < now),
        ),
    )
    ids = (
        select(OutboxMessage.id)
        .where(OutboxMessage.channel == channel, due)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), due)
        .values(
            status=OutboxStatus.SENDING,
            claimed_until=now + LEASE,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    rows = list((await session.scalars(stmt)).all())
    return sorted(rows, key=lambda r: r.id)


async def mark_sent(
    session: AsyncSession, outbox_id: int, provider_id: str | None, now: datetime
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(status=OutboxStatus.SENT, provider_id=provider_id, sent_at=now, claimed_until=None)
    )


async def mark_retry(
    session: AsyncSession, outbox_id: int, reason: str, retry_at: datetime
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(
            status=OutboxStatus.PENDING,
            last_error=reason,
            next_attempt_at=retry_at,
            claimed_until=None,
        )
    )


async def mark_failed(session: AsyncSession, outbox_id: int, reason: str) -> bool:
    """The message will not be sent (failed for good, or out of attempts); False when it was
    already recorded as failed (a second delivery report of the same failure).

    The one writer of a failure: what it means for the participant's channels is the
    conversation's to decide (`Conversation.failed_for_good`)."""
    # the in-session row, if any, is updated too (a delivery report holds it)
    failed = await session.scalar(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.status != OutboxStatus.FAILED)
        .values(status=OutboxStatus.FAILED, last_error=reason, claimed_until=None)
        .returning(OutboxMessage.id)
    )
    return failed is not None


async def cancel_pending(session: AsyncSession, participant_id: int, reason: str) -> None:
    """Nothing queued for this participant goes out any more, on any channel (a stop, an
    unsubscribe)."""
    await _cancel(
        session,
        (OutboxMessage.participant_id == participant_id)
        & (OutboxMessage.status == OutboxStatus.PENDING),
        reason,
    )


async def _cancel(session: AsyncSession, which: ColumnElement[bool], reason: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(which)
        .values(status=OutboxStatus.CANCELLED, last_error=reason, claimed_until=None)
    )


async def by_provider_id(
    session: AsyncSession, channel: str, provider_id: str
) -> OutboxMessage | None:
    """The message a provider's id names, locked until the transaction ends (two reports for
    one message are taken one after the other)."""
    return await session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.channel == channel, OutboxMessage.provider_id == provider_id)
        .with_for_update()
    )


def note_delivery(row: OutboxMessage, status: str, error: str | None, now: datetime) -> None:
    """Keep what the provider last said about delivering the message."""
    row.delivery_status = status
    row.delivery_error = error
    row.delivery_at = now


async def followup_replied_to(session: AsyncSession, provider_ids: Sequence[str]) -> int | None:
    """The follow-up of the newest message we sent among these provider ids."""
    return await session.scalar(
        select(OutboxMessage.followup_id)
        .where(OutboxMessage.provider_id.in_(provider_ids), OutboxMessage.followup_id.is_not(None))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


async def hold_back_opted_out(
    session: AsyncSession, rows: list[OutboxMessage]
) -> list[OutboxMessage]:
    """Cancel claimed rows addressed to a participant who opted out; returns the rest.

    The conversation already cancels what is queued when a stop comes in; this second guard
    catches whatever was written after it (a pass, a fallback, another branch of code)."""
    asked = {r.participant_id for r in rows if r.kind != OPT_OUT_CONFIRMATION}
    if not asked:
        return rows
    opted_out = set(
        await session.scalars(
            select(Participant.id).where(
                Participant.id.in_(asked), Participant.opted_out_at.is_not(None)
            )
        )
    )
    held = [r.id for r in rows if r.participant_id in opted_out and r.kind != OPT_OUT_CONFIRMATION]
    if not held:
        return rows
    await _cancel(session, OutboxMessage.id.in_(held), "participant opted out")
    return [r for r in rows if r.id not in held]


async def waiting_without_channel(
    session: AsyncSession, configured: Collection[str]
) -> dict[str, int]:
    """How many messages wait for each channel that is not configured, so nothing sends them."""
    rows = await session.execute(
        select(OutboxMessage.channel, func.count())
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.channel.not_in(list(configured)),
        )
        .group_by(OutboxMessage.channel)
    )
    return {channel: count for channel, count in rows}
