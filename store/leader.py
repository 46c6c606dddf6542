"""One instance at a time: a task that must not run twice at once among the instances on one
PostgreSQL database (Telegram answers a second long poll of the same bot with 409 Conflict).

A session advisory lock, held on a connection of its own for as long as the task runs: if the
instance dies, its connection goes and another instance takes over within `retry` seconds.
On SQLite there is one instance, and the task just runs.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# the high half of every lock key this service takes, so its keys do not meet another
# application's on a shared server
_NAMESPACE = 0x66696B61 << 32


def lock_key(name: str) -> int:
    return _NAMESPACE | zlib.crc32(name.encode())


async def run_alone(
    engine: AsyncEngine,
    name: str,
    task: Callable[[], Awaitable[None]],
    retry: float = 5.0,
) -> None:
    """Run `task` once this instance holds the lock `name`; until then, try every `retry`
    seconds."""
    if engine.dialect.name != "postgresql":
        await task()
        return
    key = lock_key(name)
    async with engine.connect() as conn:
        while not await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}):
            # a try, not a wait in the server: a stopping instance cancels a sleep cleanly
            await conn.rollback()
            await asyncio.sleep(retry)
        await conn.commit()
        try:
            await task()
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            await conn.commit()
