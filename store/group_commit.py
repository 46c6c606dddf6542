"""Group commit: many concurrent callers' units of work committed together in one transaction.

A webhook must not be answered before what it stored is durable, and one commit per webhook
caps the inbound rate (on SQLite, one writer, every transaction queues behind the last one).
So each caller hands its work here and waits: a writer takes every unit queued so far, runs
each inside its own SAVEPOINT of one transaction, commits once, and only then answers each
caller with its own result. No waiting is added to collect a group: the units that arrive while
a group is committing form the next one, so a lone request costs what it did before.

Failures stay with their owner:
- a unit that raises is rolled back to its savepoint and its caller gets the exception, while
  the others go on and commit;
- when the group's commit itself fails (the database went away, a deferred constraint, a
  serialization failure), nobody has been answered yet: each unit is then run again alone, in a
  transaction of its own, and its caller gets that outcome. Units must therefore be safe to run
  again from the start, which they are when all they do is through the session.

A unit may also name a `Batch`: the group's units that name the same one are handed to it
together, in one SAVEPOINT, so that the common case costs a few statements per group rather
than a few per unit (a webhook from an unknown sender: one look-up and one insert for all of
them). The batch answers each item, or `PASS` for one it leaves to the unit's own work; when
the batch raises, it is rolled back and every one of its units runs its own work instead.

On PostgreSQL a writer keeps one connection for as long as units keep coming (see `_held`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[Any]]


class _Pass:
    def __repr__(self) -> str:
        return "PASS"


# what a batch answers for an item it leaves to that unit's own work
PASS: Final = _Pass()
# `batch(session, items)`: one result (or PASS) per item, in the items' order; units that name
# the same batch (equal and of equal hash, as a bound method is) in a group go together
Batch = Callable[[AsyncSession, Sequence[Any]], Awaitable[Sequence[Any]]]

# a group is bounded so that one transaction (and the write lock on SQLite) is held briefly and
# a failed commit has a bounded number of units to run again
MAX_GROUP = 64
# groups open at once on PostgreSQL: two, so one group fills while the other commits; more split
# 20 webhooks in flight into groups of ~5 and pay the per-group round trips more often (inbound
# benchmark, 20 in flight: 4 writers 360-375 posts/s at 1.2 ms server CPU per post, 2 writers
# 480-890/s at 0.74-0.97 ms, 1 writer 500-610/s, back to back on a loaded 2-core machine)
POSTGRES_WRITERS = 2


def inbound_writers(engine: AsyncEngine) -> int:
    """One writer on SQLite (it has one anyway, and one connection per process), a few else."""
    return 1 if engine.dialect.name == "sqlite" else POSTGRES_WRITERS


@dataclass
class _Unit:
    work: Work
    future: asyncio.Future[Any]
    batch: Batch | None = None
    item: Any = None


class GroupCommit:
    """Runs units of work (`async def work(session) -> result`) in shared transactions.

    `writers` is how many groups may be open at once: 1 on SQLite (one writer anyway); on
    PostgreSQL a few, so that one group's round trips overlap another's commit."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writers: int = 1,
        max_group: int = MAX_GROUP,
    ) -> None:
        self.sessions = sessions
        self.writers = max(1, writers)
        self.max_group = max(1, max_group)
        self._queue: deque[_Unit] = deque()
        self._running: set[asyncio.Task[None]] = set()
        # what the tests read: transactions committed, and the units whose writes they held
        self.groups = 0
        self.units = 0

    async def run(
        self,
        work: Callable[[AsyncSession], Awaitable[T]],
        *,
        batch: Batch | None = None,
        item: Any = None,
    ) -> T:
        """`work`'s result once the transaction that holds its writes has committed; with
        `batch`, `item` goes to it with the group's other items of that batch first, and
        `work` runs only if the batch passes it (or fails)."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(_Unit(work, future, batch, item))
        if len(self._running) < self.writers:
            task = asyncio.create_task(self._write())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        # shielded: a caller that goes away (a client hanging up) must not cancel the unit in
        # the middle of a group that others' writes are in
        return await asyncio.shield(future)

    async def _write(self) -> None:
        try:
            while self._queue:
                async with self._held() as sessions:
                    while self._queue:
                        count = min(self.max_group, len(self._queue))
                        group = [self._queue.popleft() for _ in range(count)]
                        try:
                            committed = await self._commit_group(group, sessions)
                        except Exception:
                            # nothing is lost: every unit still unanswered is answered by its
                            # own try
                            log.exception("group commit: a group failed outside any one unit")
                            for unit in group:
                                if not unit.future.done():
                                    await self._alone(unit)
                            committed = False
                        if not committed:
                            # the held connection may be what failed: the next group gets one
                            # from the pool, which checks it first
                            break
        finally:
            # at once, not in a done-callback: a unit queued between this writer's last look
            # at the queue and the callback would find every writer busy and wait forever
            task = asyncio.current_task()
            if task is not None:
                self._running.discard(task)

    @asynccontextmanager
    async def _held(self) -> AsyncIterator[Callable[[], AsyncSession]]:
        """Sessions for one busy stretch of a writer. On PostgreSQL they share one connection
        held for the stretch: a checkout from the pool costs a ping (three round trips, with
        pool_pre_ping) and a checkin a rollback, per group otherwise. Not on SQLite: its one
        connection is everyone's, and the passes and pages must get it between two groups."""
        engine = self.sessions.kw.get("bind")
        if not isinstance(engine, AsyncEngine) or engine.dialect.name == "sqlite":
            yield self.sessions
            return
        try:
            connection = await engine.connect()
        except Exception:
            # the database is away: the units fail (or not) on their own tries, as ever
            yield self.sessions
            return
        try:
            yield lambda: self.sessions(bind=connection)
        finally:
            try:
                await connection.close()
            except Exception:
                log.warning("group commit: the held connection could not be given back")

    async def _commit_group(self, group: list[_Unit], sessions: Callable[[], AsyncSession]) -> bool:
        """Commit the group in one transaction; False when that failed and each unit ran alone."""
        if len(group) == 1 and group[0].batch is None:
            await self._alone(group[0])
            return True
        outcomes: list[tuple[_Unit, Any, BaseException | None]] = []
        try:
            async with sessions() as session, session.begin():
                rest = await self._run_batches(session, group, outcomes)
                for unit in rest:
                    outcomes.append(await self._in_savepoint(session, unit))
        except Exception:
            log.warning("group commit of %s units failed; each runs again alone", len(group))
            for unit in group:
                await self._alone(unit)
            return False
        self.groups += 1
        self.units += sum(1 for _unit, _result, error in outcomes if error is None)
        for unit, result, error in outcomes:
            if unit.future.done():
                continue
            if error is None:
                unit.future.set_result(result)
            elif _lost_a_race(error):
                # another group held rows this unit needed (PostgreSQL broke the deadlock by
                # failing it): that is the grouping's doing, not the request's, so it runs again
                await self._alone(unit)
            else:
                unit.future.set_exception(error)
        return True

    async def _run_batches(
        self,
        session: AsyncSession,
        group: list[_Unit],
        outcomes: list[tuple[_Unit, Any, BaseException | None]],
    ) -> list[_Unit]:
        """Run each batch named in the group over its units' items; the units left to their
        own work, in the group's order."""
        batches: dict[Batch, list[_Unit]] = {}
        for unit in group:
            if unit.batch is not None:
                batches.setdefault(unit.batch, []).append(unit)
        passed: set[int] = set()
        # a group that is one batch needs no SAVEPOINT for it: when it fails, the group's
        # transaction is rolled back and each unit runs alone, as when a group's commit fails
        whole = len(batches) == 1 and all(unit.batch is not None for unit in group)
        for batch, units in batches.items():
            try:
                if whole:
                    results = await batch(session, [unit.item for unit in units])
                else:
                    async with session.begin_nested():
                        results = await batch(session, [unit.item for unit in units])
                if len(results) != len(units):
                    raise RuntimeError(f"a batch answered {len(results)} of {len(units)} items")
            except Exception:
                if whole:
                    raise
                # the batch's writes are rolled back; each of its units does its own work
                log.exception("group commit: a batch failed; its %s units run alone", len(units))
                passed.update(id(unit) for unit in units)
            else:
                for unit, result in zip(units, results, strict=True):
                    if result is PASS:
                        passed.add(id(unit))
                    else:
                        outcomes.append((unit, result, None))
            session.expunge_all()
        return [unit for unit in group if unit.batch is None or id(unit) in passed]

    async def _in_savepoint(
        self, session: AsyncSession, unit: _Unit
    ) -> tuple[_Unit, Any, BaseException | None]:
        try:
            async with session.begin_nested():
                result = await unit.work(session)
        except Exception as exc:
            return unit, None, exc
        finally:
            # each unit starts from the database, as in a session of its own: nothing another
            # unit loaded, changed or had rolled back lingers in the identity map
            session.expunge_all()
        return unit, result, None

    async def _alone(self, unit: _Unit) -> None:
        try:
            async with self.sessions.begin() as session:
                result = await unit.work(session)
        except Exception as exc:
            if not unit.future.done():
                unit.future.set_exception(exc)
            return
        self.groups += 1
        self.units += 1
        if not unit.future.done():
            unit.future.set_result(result)


# PostgreSQL's deadlock_detected and serialization_failure: the transaction lost a race
_RACE_SQLSTATES = ("40P01", "40001")


def _lost_a_race(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):  # a cause chain is short; never loop on a cyclic one
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) in _RACE_SQLSTATES:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False
