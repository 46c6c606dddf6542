"""A channel's send timeline shared by every instance on one PostgreSQL database.

Each instance reserves the next slice of the timeline (a few sends' worth) with one statement;
the row lock is held for that statement only. The database's clock is the timeline's clock, so
the instances' own clocks need not agree.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# one upsert: the first reservation makes the channel's row
_RESERVE = text(
    """
    INSERT INTO rate_slot (channel, next_at)
    VALUES (
        :channel,
        clock_timestamp()
        + make_interval(secs => CAST(:hold AS float8) + CAST(:seconds AS float8))
    )
    ON CONFLICT (channel) DO UPDATE
    SET next_at = greatest(
            rate_slot.next_at, clock_timestamp() + make_interval(secs => CAST(:hold AS float8))
        )
        + make_interval(secs => CAST(:seconds AS float8))
    RETURNING extract(epoch FROM next_at), extract(epoch FROM clock_timestamp())
    """
)


async def reserve(
    session: AsyncSession, channel: str, seconds: float, hold: float = 0.0
) -> tuple[float, float]:
    """Reserve the next `seconds` of `channel`'s timeline, not starting before `hold` seconds
    from now (a provider's retry-after); when the reserved slice ends and when it was reserved,
    in seconds on the database's clock."""
    row = (
        await session.execute(_RESERVE, {"channel": channel, "seconds": seconds, "hold": hold})
    ).one()
    return float(row[0]), float(row[1])
