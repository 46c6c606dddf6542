"""Reading a test database back, to compare whole states."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select, text

from store.database import make_engine
from store.models import Base


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                state = {}
                for table in Base.metadata.sorted_tables:
                    rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
                    state[table.name] = [tuple(r) for r in rows]
                return state
        finally:
            await engine.dispose()

    return asyncio.run(read())


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run one statement from a synchronous test."""
    return asyncio.run(aquery(url, sql, **params))


async def aquery(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run one statement from an async test, on a connection of its own."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        await engine.dispose()
