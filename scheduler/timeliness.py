"""Whether a claimed outbox row may go now: the sender's last look before it sends.

The passes already start and chase only in the send window, but a message can wait in the
outbox for hours or weeks (a channel not configured, an outage, a retry): what was right when it
was written may be wrong when it goes. Each check here is per row, in the participant's
programme time zone, and runs in the claim's transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store import followups, outbox
from store.models import FollowUp, OutboxMessage, Programme
from store.programmes import send_window
from store.timing import SendWindow, local_midnight, next_day_send_time, next_send_time
from store.vocabulary import OPEN_FOLLOWUP, PROMPTS, MessageKind

# renders a row that waited past its validity again, in place; False: drop it
# (`Conversation.refresh`)
Refresh = Callable[[AsyncSession, OutboxMessage, datetime], Awaitable[bool]]


async def hold_back_untimely(
    session: AsyncSession,
    rows: Sequence[OutboxMessage],
    now: datetime,
    refresh: Refresh | None,
) -> list[OutboxMessage]:
    """Cancel the claimed rows that should never go, give back those that should go later,
    render again those that waited too long; returns the rows to send now.

    What the checks read is loaded for the whole batch first (its programmes, follow-ups and
    what was sent today), so a batch costs a few statements, not a few per row."""
    if not rows:
        return []
    windows: dict[str, SendWindow] = {}
    for programme_id in sorted({r.programme_id for r in rows}):
        windows[programme_id] = send_window(await session.get_one(Programme, programme_id))
    loaded = {
        f.id: f
        for f in await followups.load(
            session, {r.followup_id for r in rows if r.followup_id is not None}
        )
    }
    chased = {r.followup_id for r in rows if r.unprompted and r.followup_id is not None}
    # the earliest local midnight of the batch's programmes covers each one's "today"
    since = min(local_midnight(w, now) for w in windows.values())
    sent_today = await outbox.last_sent_since(session, chased, since) if chased else {}
    # one unprompted message of a follow-up per person per local day, within this batch too
    this_batch: set[tuple[int, int]] = set()
    ready = []
    for row in rows:
        # Ramadan evenings may be kept for some languages only: the participant's own window
        window = windows[row.programme_id].for_language(row.language)
        followup = loaded.get(row.followup_id) if row.followup_id is not None else None
        stale = _pointless(row, followup)
        if stale is not None:
            await outbox.cancel(session, row.id, stale)
            continue
        later = _later(row, followup, window, now, this_batch, sent_today)
        if later is not None:
            until, reason = later
            await outbox.defer(session, row.id, until, reason)
            continue
        if (
            refresh is not None
            and row.valid_until is not None
            and row.valid_until < now
            and not await refresh(session, row, now)
        ):
            await outbox.cancel(session, row.id, "out of date")
            continue
        ready.append(row)
    return ready


def _pointless(row: OutboxMessage, followup: FollowUp | None) -> str | None:
    """Why this row should not go at all any more, or None."""
    if followup is None:
        return None
    if followup.called_at is not None and row.created_at < followup.called_at:
        return "participant was phoned"
    if row.kind not in PROMPTS:
        return None
    if followup.status not in OPEN_FOLLOWUP:
        return "follow-up ended"
    if row.kind == MessageKind.REMINDER and followup.asked_at is None:
        return "question never delivered"
    if row.question is not None and row.question != followup.step:
        return "already answered"
    return None


def _later(
    row: OutboxMessage,
    followup: FollowUp | None,
    window: SendWindow,
    now: datetime,
    this_batch: set[tuple[int, int]],
    sent_today: Mapping[tuple[int, int], datetime],
) -> tuple[datetime, str] | None:
    """When this row should go instead of now, and why; None to send it now.

    A reply to what someone just sent goes at once, night or day; what we send on our own
    initiative, and every retry, keeps the send hour and quiet hours."""
    if (row.unprompted or row.attempts > 1) and window.is_quiet(now):
        return next_send_time(window, now), "quiet hours"
    if row.unprompted and followup is not None:
        key = (followup.id, row.participant_id)
        today = local_midnight(window, now)
        last = sent_today.get(key)
        if key in this_batch or (last is not None and last >= today):
            return next_day_send_time(window, now), "one message a day"
        this_batch.add(key)
    return None


async def delivered_many(
    session: AsyncSession, accepted: Sequence[tuple[OutboxMessage, datetime]]
) -> None:
    """A provider accepted these rows, each at its time: the questions' clocks run from then."""
    await followups.note_delivered_many(
        session,
        [
            (row.followup_id, at)
            for row, at in accepted
            if row.followup_id is not None and row.kind in PROMPTS
        ],
    )
