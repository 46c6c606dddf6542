"""One instance at a time on PostgreSQL: of two instances wanting the same task (a Telegram
long poll), one runs it; the other takes over when the first stops."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from store.database import make_engine
from store.leader import run_alone


async def test_of_two_instances_one_runs_the_task_and_the_other_takes_over(
    postgres_url: str,
) -> None:
    engines = [make_engine(postgres_url) for _ in range(2)]
    running: list[int] = []
    ran: list[int] = []
    stop = [asyncio.Event(), asyncio.Event()]
    started = asyncio.Event()

    def poller(n: int) -> Callable[[], Awaitable[None]]:
        async def poll() -> None:
            running.append(n)
            ran.append(n)
            started.set()
            assert len(running) == 1, running
            await stop[n].wait()
            running.remove(n)

        return poll

    try:
        tasks = [
            asyncio.create_task(run_alone(engines[n], "telegram.poll", poller(n), retry=0.02))
            for n in range(2)
        ]
        await started.wait()
        first = ran[0]
        for _ in range(20):  # the other keeps trying meanwhile
            await asyncio.sleep(0)
        assert ran == [first]
        stop[first].set()
        await tasks[first]
        stop[1 - first].set()
        await asyncio.wait_for(tasks[1 - first], 10)
        assert ran == [first, 1 - first]
    finally:
        for engine in engines:
            await engine.dispose()
