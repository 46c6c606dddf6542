"""One `tick` in a process of its own, measured from inside: wall time, database time and
statement count (SQLAlchemy's cursor events), commits, and the plans of the due queries the
tick ran. Settings come from FIKAFOLLOW_* as for `fikafollow tick`.

    python -m benchmarks.tick_probe NOW OUT.json
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from fikafollow.app import App
from fikafollow.config import load_settings

# the claims whose plans matter: the outbox claim and the due follow-ups (each a materialized
# CTE picking the rows, then the UPDATE; store/claims.py)
WATCHED = {
    "outbox_claim": "UPDATE outbox SET status",
    "due_followups": "UPDATE followup SET status",
}
CLAIM = "WITH picked"


async def probe(now: datetime) -> dict[str, Any]:
    app = App(load_settings())
    counts = {"statements": 0, "commits": 0}
    db_seconds = 0.0
    starts: list[float] = []
    seen: dict[str, tuple[str, Any]] = {}
    # the slowest statements' SQL (never their values): where a tick's database time goes
    timed: list[tuple[float, str]] = []
    on = False

    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        starts.append(time.perf_counter())

    def after(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        nonlocal db_seconds
        started = starts.pop()
        if not on:
            return
        took = time.perf_counter() - started
        db_seconds += took
        counts["statements"] += 1
        timed.append((took, " ".join(statement.split())[:300]))
        for name, prefix in WATCHED.items():
            # an executemany (a batch's follow-ups updated at once) has no one plan to show
            claim = statement.lstrip().startswith(CLAIM) and prefix in statement
            if not many and name not in seen and claim:
                seen[name] = (statement, params)

    def commit(conn: Any) -> None:
        if on:
            counts["commits"] += 1

    event.listen(app.engine.sync_engine, "before_cursor_execute", before)
    event.listen(app.engine.sync_engine, "after_cursor_execute", after)
    event.listen(app.engine.sync_engine, "commit", commit)
    try:
        await app.programme(None, now)
        adapter = app.channels.get("telegram")
        if adapter is not None:
            await adapter.username()  # type: ignore[attr-defined]
        on = True
        started = time.perf_counter()
        result = await app.tick(lambda: now)
        wall = time.perf_counter() - started
        on = False
        plans = {}
        sqlite = app.engine.dialect.name == "sqlite"
        async with app.engine.connect() as conn:
            for name, (statement, params) in seen.items():
                explain = ("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement
                rows = (await conn.exec_driver_sql(explain, params)).all()
                plans[name] = "\n".join(str(row[-1]) if sqlite else str(row[0]) for row in rows)
            await conn.rollback()
    finally:
        await app.close()
    return {
        "wall_seconds": wall,
        "db_seconds": db_seconds,
        **counts,
        "started": result.dispatch.started,
        "sent": result.drain.sent,
        "plans": plans,
        "slowest": [
            f"{seconds * 1000:.1f} ms  {sql}" for seconds, sql in sorted(timed, reverse=True)[:5]
        ],
    }


def main() -> None:
    now = datetime.fromisoformat(sys.argv[1])
    Path(sys.argv[2]).write_text(json.dumps(asyncio.run(probe(now))), encoding="utf-8")


if __name__ == "__main__":
    main()
