"""How every claim picks its rows: a materialized CTE, locked and limited once.

`UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` does not hold its limit on
PostgreSQL: the planner may turn the subquery into a semi-join that runs again per outer row, and a
claim of 50 returned up to 1,000 rows (PERF-NOTES). A MATERIALIZED CTE is evaluated exactly once,
so the UPDATE joins against at most `limit` ids. SQLite (one writer) ignores the lock and the
keyword is rendered for PostgreSQL only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CTE, Select


def picked(ids: Select[Any], name: str = "picked") -> CTE:
    """The rows `ids` (a SELECT of one `id` column with its ORDER BY and LIMIT) locked, skipping
    rows another claim holds, as a CTE to join the claim's UPDATE against (`… FROM picked`)."""
    return (
        ids.with_for_update(skip_locked=True)
        .cte(name)
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
