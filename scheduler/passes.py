"""The passes: plain async functions of `now`, safe to run twice or on two machines at once.

The database decides who does the work: a follow-up is claimed by a conditional UPDATE (with
SKIP LOCKED on PostgreSQL) in the same transaction that writes its first question to the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import Conversation
from store import followups, programmes
from store.models import FollowUp, Programme
from store.programmes import send_window
from store.timing import local_midnight
from store.vocabulary import ChaseStage, FollowUpStatus

log = logging.getLogger(__name__)
# follow-ups one transaction starts: what a batch needs is loaded in a few statements whatever
# its size, and the write lock (SQLite) is held for about a tenth of a second at 500
BATCH = 500


@dataclass
class DispatchResult:
    started: int = 0
    unreachable: int = 0
    opted_out: int = 0


async def _rooms(session: AsyncSession, now: datetime) -> dict[str, int]:
    """What is left of today's cap of each programme that is awake at `now`."""
    rooms = {}
    for programme in await programmes.listing(session):
        window = send_window(programme)
        if window.is_quiet(now):
            continue
        today = local_midnight(window, now)
        started = await followups.started_since(session, programme.id, today)
        rooms[programme.id] = programme.daily_cap - started
    return rooms


async def dispatch_due(
    sessions: async_sessionmaker[AsyncSession],
    conversation: Conversation,
    now: datetime,
    batch: int = BATCH,
) -> DispatchResult:
    """Ask the first question of every follow-up that is due at `now`."""
    result = DispatchResult()
    # read once a pass, and what this pass starts taken off as it goes: a batch after the
    # first asks the database only for its follow-ups
    rooms: dict[str, int] | None = None
    more = True
    while more:
        async with sessions.begin() as session:
            if rooms is None:
                rooms = await _rooms(session, now)
            claimed, more = await _claim_within_caps(session, rooms, now, batch)
            if not claimed:
                return result
            async with conversation.batch(session, claimed):
                for followup in claimed:
                    status = await conversation.start(session, followup, now)
                    if status == FollowUpStatus.ACTIVE:
                        result.started += 1
                    elif status == FollowUpStatus.UNREACHABLE:
                        result.unreachable += 1
                    else:
                        result.opted_out += 1
        log.info("dispatch at %s: %s follow-ups claimed", now.isoformat(), len(claimed))
    return result


async def _claim_within_caps(
    session: AsyncSession, rooms: dict[str, int], now: datetime, batch: int
) -> tuple[list[FollowUp], bool]:
    """Claim due follow-ups, each programme only up to what is left of its daily cap today (a
    large backlog is spread over days, the earliest due -- the oldest match -- first), and
    take them off `rooms`; whether any programme may have more due (a claim came back full
    with room left)."""
    claimed: list[FollowUp] = []
    more = False
    for programme_id, room in rooms.items():
        if room <= 0:
            continue
        asked = min(batch, room)
        got = sorted(
            await followups.claim_due(session, [programme_id], now, asked),
            key=lambda f: (f.due_at, f.id),
        )
        # the claim's LIMIT is not a promise on every planner: the cap is held here
        await followups.unclaim(session, [f.id for f in got[room:]])
        kept = got[:room]
        rooms[programme_id] = room - len(kept)
        claimed += kept
        more = more or (len(got) >= asked and rooms[programme_id] > 0)
    return claimed, more


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


async def chase(
    sessions: async_sessionmaker[AsyncSession],
    conversation: Conversation,
    now: datetime,
    batch: int = BATCH,
) -> ChaseResult:
    """Remind, move to the next channel, expire: each follow-up that has had no answer.

    Per programme: a reminder on the same channel `reminder_days` after the first question, the
    question on the next channel of the ladder `ladder_days` after that, and after `expire_days`
    in all the follow-up expires and its participant is on the call list. Nothing is sent in
    quiet hours, nor twice on the same local day; opted-out participants are never chased.
    """
    result = ChaseResult()
    async with sessions() as session:
        every = await programmes.listing(session)
    for programme in every:
        async with sessions.begin() as session:
            result.expired += await followups.expire_unanswered(session, programme, now)
            quiet = send_window(programme).is_quiet(now)
            # the ladder first, so a follow-up never gets both on one pass; each stage's first
            # batch in the expiry's transaction (most ticks find none: one transaction, not three)
            stages = [] if quiet else [ChaseStage.MOVED, ChaseStage.REMINDED]
            more = [
                stage
                for stage in stages
                if await _advance_once(session, conversation, programme, stage, now, batch, result)
            ]
        for stage in more:
            await _advance(sessions, conversation, programme, stage, now, batch, result)
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
    stage: ChaseStage,
    now: datetime,
    batch: int,
    result: ChaseResult,
) -> None:
    """Claim follow-ups that are due for `stage` and write their message, batch by batch, until
    a batch comes back short; the claim and the message share one transaction."""
    while True:
        async with sessions.begin() as session:
            if not await _advance_once(session, conversation, programme, stage, now, batch, result):
                return


async def _advance_once(
    session: AsyncSession,
    conversation: Conversation,
    programme: Programme,
    stage: ChaseStage,
    now: datetime,
    batch: int,
    result: ChaseResult,
) -> bool:
    """One batch of `stage` in the caller's transaction; whether there may be more."""
    today = _local_midnight(programme, now)
    claimed = await followups.claim_chase(session, programme, stage, now, today, batch)
    if not claimed:
        return False
    async with conversation.batch(session, claimed):
        for followup in claimed:
            if stage == ChaseStage.REMINDED:
                if await conversation.remind(session, followup, now):
                    result.reminded += 1
            elif await conversation.ask_on_next_channel(session, followup, now):
                result.moved += 1
            else:
                result.no_other_channel += 1
    return len(claimed) >= batch
