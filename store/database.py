"""The engine and sessions, tuned per database: the same code runs on SQLite and PostgreSQL."""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

URL_VARIABLE = "FIKAFOLLOW_DATABASE_URL"


class DatabaseUnreachable(Exception):
    """The database cannot be opened: a server that is down or refuses us, a database that does
    not exist, a SQLite file in a folder that does not exist. The message names the setting."""


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine for `url`. SQLite gets WAL and immediate transactions, PostgreSQL a normal pool.

    Parameters are hidden: SQLAlchemy puts a failed statement's values (names, numbers, reply
    words) into the exception's text, and from there into a log line."""
    kwargs.setdefault("hide_parameters", True)
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True, **kwargs)
    # SQLite has one writer. One connection per process avoids fights over the busy handler
    # (PERF-NOTES), and BEGIN IMMEDIATE takes the write lock up front so a transaction that
    # reads and then writes cannot fail half-way when another process wrote in between.
    engine = create_async_engine(
        url, pool_size=1, max_overflow=0, connect_args={"timeout": 30}, **kwargs
    )

    database = engine.url.database

    @event.listens_for(engine.sync_engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        _create_private(database)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _create_private(database: str | None) -> None:
    """Create a new SQLite file readable by its owner only, before SQLite creates it with the
    umask's mode; SQLite gives its -wal and -shm files the database file's mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists() or not path.parent.is_dir():
        return
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _missing_sqlite_folder(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    folder = Path(url.database).parent
    return None if folder.is_dir() else folder


def _reason(exc: BaseException) -> str:
    # the driver's own words, first line only: a DBAPIError's text carries the SQL and a link
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(inner).strip().splitlines()
    return text[0] if text else type(inner).__name__


@asynccontextmanager
async def begin(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction, like `engine.begin()`; failing to connect at all raises
    DatabaseUnreachable (what fails once connected keeps its own error and traceback)."""
    shown = engine.url.render_as_string(hide_password=True)
    folder = _missing_sqlite_folder(engine.url)
    if folder is not None:
        raise DatabaseUnreachable(
            f"cannot open the database {URL_VARIABLE}={shown}: the folder {folder} does not exist"
        )
    connection = engine.connect()
    try:
        await connection.start()
    except (OSError, DBAPIError) as exc:
        raise DatabaseUnreachable(
            f"cannot open the database {URL_VARIABLE}={shown}: {_reason(exc)}"
        ) from exc
    try:
        async with connection.begin():
            yield connection
    finally:
        await connection.close()


# what the drivers raise when the server is away, refuses connections or is shutting down, or
# a SQLite file stays locked past the busy timeout; a bug (a constraint, bad SQL) is none of them
_AWAY_SQLSTATE_CLASSES = ("08", "53", "57")  # connection, insufficient resources, operator
_SQLITE_AWAY = ("database is locked", "database table is locked", "unable to open", "disk i/o")


def is_away(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database is unreachable or locked for now,
    so the request may be tried again in a moment (503) rather than failing (500)."""
    seen: BaseException | None = exc
    for _ in range(10):  # a cause chain is short; never loop on a cyclic one
        if seen is None:
            return False
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, (SATimeoutError, DisconnectionError, ConnectionError)):
            return True  # the pool found no connection in time; the server went away
        if isinstance(seen, OSError) and seen.errno is not None and seen.errno in _NET_ERRNOS:
            return True
        # asyncpg's errors carry it, its lost connection too (08003)
        sqlstate = getattr(seen, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate[:2] in _AWAY_SQLSTATE_CLASSES:
            return True
        if isinstance(seen, sqlite3.OperationalError) and str(seen).lower().startswith(
            _SQLITE_AWAY
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_NET_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH}
