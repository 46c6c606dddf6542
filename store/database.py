"""The engine and sessions, tuned per database: the same code runs on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
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
