"""The outbox: every outgoing message is a row first, written with the change that causes it.

A sender claims rows with a short lease, so two senders never take the same row and a sender that
dies gives its rows back when the lease runs out: a crash delays only what was in flight. The
lease's end (`claimed_until`) is also the claim's token: a sender renews what it still holds,
conditionally on the token it was given, before the lease runs low, and sends only rows it still
holds — so a slow provider cannot make a second sender take the same row while the first one
is still working through its batch. Delivery is at least once: a second delivery needs a crash
between the send and its record.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from store.claims import picked
from store.models import OPEN_OUTBOX_SQL, OutboxMessage, Participant, UTCDateTime
from store.vocabulary import OUT_OF_ATTEMPTS, MessageKind, OutboxStatus

# long against one send (a provider's timeouts are seconds), short against a restart after a crash
LEASE = timedelta(seconds=45)
# a sender renews what it holds once less than this is left, so every send it starts has at least
# this long before anyone else may take the row
RENEW_WHEN_LEFT = timedelta(seconds=30)
# the one message a participant who opted out still gets: the confirmation of their stop
OPT_OUT_CONFIRMATION = MessageKind.OPTED_OUT


# where `hold` keeps a session's new rows until `write_held` inserts them together
HELD_KEY = "fikafollow.outbox.held"


def hold(session: AsyncSession) -> None:
    """From now on, rows this session enqueues wait in memory for `write_held`, which inserts
    them in one statement: a pass writing a batch's messages does not pay a round trip (nor,
    on SQLite, an ORM flush that inserts row by row) per message."""
    session.info.setdefault(HELD_KEY, [])


async def write_held(session: AsyncSession) -> int:
    """Insert the rows held since `hold`, in one executemany; how many."""
    rows: list[dict[str, Any]] = session.info.pop(HELD_KEY, [])
    if rows:
        await session.execute(insert(OutboxMessage), rows)
    return len(rows)


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
    unprompted: bool = False,
    valid_until: datetime | None = None,
) -> None:
    values: dict[str, Any] = {
        "programme_id": programme_id,
        "participant_id": participant_id,
        "followup_id": followup_id,
        "channel": channel,
        "address": address,
        "language": language,
        "kind": kind,
        "question": question,
        "payload": payload,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "unprompted": unprompted,
        "valid_until": valid_until,
    }
    held = session.info.get(HELD_KEY)
    if held is not None:
        held.append(values)
    else:
        session.add(OutboxMessage(**values))


async def claim(
    session: AsyncSession, channel: str, now: datetime, limit: int
) -> list[OutboxMessage]:
    """Take up to `limit` rows that are due on `channel`; safe with several senders at once.

    Every row of one claim carries the same `claimed_until`, the token `renew` and `release`
    check."""
    return [row for row, _opted_out in await _claim(session, channel, now, limit)]


async def claim_sendable(
    session: AsyncSession, channel: str, now: datetime, limit: int
) -> tuple[list[OutboxMessage], int]:
    """`claim`, and cancel the claimed rows addressed to a participant who opted out; the rows
    to send, and how many were claimed. The claim itself says who opted out, so the check
    costs no statement of its own unless there is something to cancel.

    The conversation already cancels what is queued when a stop comes in; this second guard
    catches whatever was written after it (a pass, a fallback, another branch of code)."""
    claimed = await _claim(session, channel, now, limit)
    held = [r.id for r, opted_out in claimed if opted_out and r.kind != OPT_OUT_CONFIRMATION]
    if held:
        await _cancel(session, OutboxMessage.id.in_(held), "participant opted out")
    return [r for r, _ in claimed if r.id not in held], len(claimed)


async def _claim(
    session: AsyncSession, channel: str, now: datetime, limit: int
) -> list[tuple[OutboxMessage, bool]]:
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
    ids = picked(
        select(OutboxMessage.id)
        .where(OutboxMessage.channel == channel, due)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    # whether the row's participant opted out, read with the claim
    opted_out = (
        select(Participant.opted_out_at.is_not(None))
        .where(Participant.id == OutboxMessage.participant_id)
        .correlate(OutboxMessage)
        .scalar_subquery()
    )
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.id == ids.c.id, due)
        .values(
            status=OutboxStatus.SENDING,
            claimed_until=now + LEASE,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage, opted_out)
        .execution_options(synchronize_session=False)
    )
    rows = [(row, bool(out)) for row, out in await session.execute(stmt)]
    return sorted(rows, key=lambda r: r[0].id)


def _held(ids: Collection[int], token: datetime) -> ColumnElement[bool]:
    return and_(
        OutboxMessage.id.in_(list(ids)),
        OutboxMessage.status == OutboxStatus.SENDING,
        OutboxMessage.claimed_until == token,
    )


async def renew(
    session: AsyncSession, ids: Collection[int], token: datetime, now: datetime
) -> tuple[datetime, set[int]]:
    """Extend the lease of the rows among `ids` this sender still holds (their token is
    `token`); returns the new token and the ids still held. A row another sender took after
    the lease ran out is not among them, and must not be sent by this one."""
    renewed = now + LEASE
    held = await session.scalars(
        update(OutboxMessage)
        .where(_held(ids, token))
        .values(claimed_until=renewed)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return renewed, set(held)


async def release(session: AsyncSession, ids: Collection[int], token: datetime) -> int:
    """Give back rows this sender holds and will not send (it is stopping): due again at once,
    and the attempt that never happened is not counted."""
    released = await session.scalars(
        update(OutboxMessage)
        .where(_held(ids, token))
        .values(
            status=OutboxStatus.PENDING,
            claimed_until=None,
            attempts=OutboxMessage.attempts - 1,
        )
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return len(released.all())


async def retry_failed(
    session: AsyncSession, now: datetime, since: datetime | None, channel: str | None
) -> int:
    """Queue again the messages that failed because their retries ran out (an outage that
    outlasted them), not those a provider refused for good; returns how many."""
    which = and_(
        OutboxMessage.status == OutboxStatus.FAILED,
        # a permanent refusal (a blocked bot, an invalid number) would only be refused again
        OutboxMessage.last_error.startswith(OUT_OF_ATTEMPTS),
        # a body the retention pass erased has nothing left to send
        OutboxMessage.erased_at.is_(None),
    )
    if since is not None:
        # the last attempt was due then, so it failed at that time or after
        which = and_(which, OutboxMessage.next_attempt_at >= since)
    if channel is not None:
        which = and_(which, OutboxMessage.channel == channel)
    queued = await session.scalars(
        update(OutboxMessage)
        .where(which)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, claimed_until=None)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return len(queued.all())


async def still_held(session: AsyncSession, ids: Collection[int], token: datetime) -> set[int]:
    """Which of `ids` this sender still holds (their lease token is `token`), locked until the
    transaction ends so that no other sender takes them while their outcome is recorded."""
    if not ids:
        return set()
    return set(
        await session.scalars(select(OutboxMessage.id).where(_held(ids, token)).with_for_update())
    )


async def mark_sent_held(
    session: AsyncSession, sent: Collection[tuple[int, str | None, datetime]], token: datetime
) -> set[int]:
    """Record many sends, (outbox id, provider id, when), of rows this sender still holds under
    `token`, in one statement; returns the ids recorded. A row whose lease ran out and that
    another sender took is left to that sender (and is not among them).

    Checking the lease and recording in one conditional UPDATE, rather than a locking SELECT
    and an executemany, makes a batch's bookkeeping one statement."""
    if not sent:
        return set()
    ids = [i for i, _provider, _at in sent]
    # CASE id WHEN … THEN …: one row's own values in a statement that updates them all
    provider = case({i: literal(p, String()) for i, p, _at in sent}, value=OutboxMessage.id)
    at = case({i: literal(a, UTCDateTime()) for i, _p, a in sent}, value=OutboxMessage.id)
    recorded = await session.scalars(
        update(OutboxMessage)
        .where(_held(ids, token))
        .values(status=OutboxStatus.SENT, provider_id=provider, sent_at=at, claimed_until=None)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return set(recorded)


async def last_sent_since(
    session: AsyncSession, followup_ids: Collection[int], since: datetime
) -> dict[tuple[int, int], datetime]:
    """When a message of each of these follow-ups last reached each participant's provider,
    (follow-up id, participant id) -> sent_at, counting only sends since `since`."""
    if not followup_ids:
        return {}
    rows = await session.execute(
        select(
            OutboxMessage.followup_id, OutboxMessage.participant_id, func.max(OutboxMessage.sent_at)
        )
        .where(
            OutboxMessage.followup_id.in_(list(followup_ids)),
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at >= since,
        )
        .group_by(OutboxMessage.followup_id, OutboxMessage.participant_id)
    )
    return {(f, p): at for f, p, at in rows if f is not None and at is not None}


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


async def returned(
    session: AsyncSession,
    channel: str,
    provider_ids: Sequence[str],
    followup_id: int | None,
    addresses: Sequence[str],
) -> OutboxMessage | None:
    """The message of ours a bounce returns, locked until the transaction ends: the one its
    provider id names, else the last one sent for its follow-up on the channel, else the last
    one sent to one of the failed addresses."""
    went_out = (OutboxMessage.channel == channel) & OutboxMessage.provider_id.is_not(None)
    tries: list[ColumnElement[bool]] = []
    if provider_ids:
        tries.append(OutboxMessage.provider_id.in_(list(provider_ids)))
    if followup_id is not None:
        tries.append(OutboxMessage.followup_id == followup_id)
    if addresses:
        tries.append(func.lower(OutboxMessage.address).in_([a.lower() for a in addresses]))
    for which in tries:
        found = await session.scalar(
            select(OutboxMessage)
            .where(went_out, which)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
            .with_for_update()
        )
        if found is not None:
            return found
    return None


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


async def failed_out_of_attempts(
    session: AsyncSession, programme_id: str, since: datetime
) -> dict[str, int]:
    """How many messages of a programme failed for want of attempts (an outage) since `since`,
    by channel: `fikafollow outbox retry` sends them again."""
    rows = await session.execute(
        select(OutboxMessage.channel, func.count())
        .where(
            OutboxMessage.programme_id == programme_id,
            OutboxMessage.status == OutboxStatus.FAILED,
            OutboxMessage.last_error.startswith(OUT_OF_ATTEMPTS),
            OutboxMessage.next_attempt_at >= since,
        )
        .group_by(OutboxMessage.channel)
    )
    return {channel: count for channel, count in rows}


async def defer(session: AsyncSession, outbox_id: int, until: datetime, reason: str) -> None:
    """Give a claimed row back, to be sent at `until`; holding back is not a failed try."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(
            status=OutboxStatus.PENDING,
            next_attempt_at=until,
            claimed_until=None,
            attempts=OutboxMessage.attempts - 1,
            last_error=reason,
        )
        .execution_options(synchronize_session=False)
    )


async def cancel(session: AsyncSession, outbox_id: int, reason: str) -> None:
    """This one row will not go out (stale, answered, phoned)."""
    await _cancel(session, OutboxMessage.id == outbox_id, reason)


async def cancel_for_followup(session: AsyncSession, followup_id: int, reason: str) -> None:
    """Nothing queued for this follow-up goes out any more (the person was phoned)."""
    await _cancel(
        session,
        (OutboxMessage.followup_id == followup_id) & (OutboxMessage.status == OutboxStatus.PENDING),
        reason,
    )
