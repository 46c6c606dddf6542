"""Schema migrations (Alembic), run on an open async connection."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from store.database import begin

MIGRATIONS = Path(__file__).parent / "migrations"
# any constant works; it only has to be the same in every process of this service
_PG_LOCK_KEY = 0x66696B61
# Alembic says at INFO which migrations it runs ("Context impl SQLiteImpl", "Running upgrade"):
# news for a developer, noise on an operator's terminal at every first start
logging.getLogger("alembic").setLevel(logging.WARNING)


class SchemaBehind(Exception):
    """The database has tables but an older schema; an operator must run `db upgrade`."""


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revisions() -> frozenset[str]:
    """The newest revision of each branch: features may add their own branch from 0001."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def _lock(connection: Connection) -> None:
    # two processes starting on an empty PostgreSQL database must not both create the tables;
    # SQLite's BEGIN IMMEDIATE already serialises them
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})


def _upgrade(connection: Connection) -> None:
    _lock(connection)
    command.upgrade(alembic_config(connection), "heads")


def _ensure(connection: Connection) -> None:
    _lock(connection)
    current = frozenset(MigrationContext.configure(connection).get_current_heads())
    wanted = head_revisions()
    if current == wanted:
        return
    if not current and not inspect(connection).get_table_names():
        command.upgrade(alembic_config(connection), "heads")
        return
    raise SchemaBehind(
        f"the database schema is at {', '.join(sorted(current)) or 'an unknown version'}, "
        f"this version needs {', '.join(sorted(wanted))}: run `fikafollow db upgrade` "
        "(after a backup)"
    )


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest version."""
    async with begin(engine) as conn:
        await conn.run_sync(_upgrade)


async def ensure_schema(engine: AsyncEngine) -> None:
    """Create the schema in an empty database; refuse to run on an older one."""
    async with begin(engine) as conn:
        await conn.run_sync(_ensure)
