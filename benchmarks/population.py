"""Databases of the benchmarks' own and the rows in them.

A benchmark's setup is not its figure: rows are written in bulk (executemany on SQLite, COPY on
PostgreSQL) straight into the tables the service reads, so a million follow-ups take seconds.
PostgreSQL databases are created on the test server and dropped after.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import asyncpg

from fikafollow.app import App
from fikafollow.config import load_settings
from store.models import (
    Answer,
    Base,
    Coordinator,
    FollowUp,
    Match,
    MatchMember,
    OutboxMessage,
    Participant,
)

PG_ADMIN_DSN = os.environ.get(
    "FIKAFOLLOW_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SECRET = "benchmark-secret-key-0123456789"
PROGRAMME = "default"
LANGUAGES = ("sv", "en", "ar", "ti", "fa")
CHUNK = 50_000
ROOT = Path(__file__).resolve().parents[1]


# PostgreSQL databases made by this run, free for the next figure: making one and dropping it
# cost about 5 s on the 2-core machine (more than most figures), emptying its tables 0.1 s
_free_pg: list[str] = []
_made_pg: list[str] = []


@asynccontextmanager
async def database(kind: str, work: Path) -> AsyncIterator[str]:
    """An empty database of `kind` ("sqlite" or "postgres") for one figure; its SQLAlchemy URL.
    A PostgreSQL one is emptied after and used again; `drop_databases` drops them all."""
    if kind == "sqlite":
        path = work / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite+aiosqlite:///{path}"
        finally:
            _remove_sqlite(path)
        return
    if _free_pg:
        name = _free_pg.pop()
    else:
        name = f"fikafollow_bench_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        _made_pg.append(name)
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    finally:
        await _empty(f"{base}/{name}")
        _free_pg.append(name)


async def _empty(dsn: str) -> None:
    # the schema stays (its migrations are the other second a new database costs); the rows and
    # the sequences go, so the next figure starts as on a new database
    pg = await asyncpg.connect(dsn)
    try:
        tables = [
            r["tablename"]
            for r in await pg.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            if r["tablename"] != "alembic_version"
        ]
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            await pg.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await pg.close()


async def drop_databases() -> None:
    """Drop every PostgreSQL database this run made."""
    if not _made_pg:
        return
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        while _made_pg:
            name = _made_pg.pop()
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if name in _free_pg:
                _free_pg.remove(name)
    finally:
        await admin.close()


def _remove_sqlite(path: Path) -> None:
    # a million rows are a few hundred MB: gone before the next figure makes its own
    for suffix in ("", "-wal", "-shm", ".secret"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def env(url: str, work: Path, **extra: str) -> dict[str, str]:
    """The environment of a `fikafollow` subprocess on `url`: nothing of the caller's
    FIKAFOLLOW_* settings, quiet logs, no rate limit unless `extra` sets one."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("FIKAFOLLOW_")}
    return {
        **base,
        # the probes run as `python -m benchmarks.…` from a temporary folder
        "PYTHONPATH": str(ROOT),
        "FIKAFOLLOW_DATABASE_URL": url,
        "FIKAFOLLOW_SECRET_KEY": SECRET,
        "FIKAFOLLOW_PHOTO_DIR": str(work / "photos"),
        "FIKAFOLLOW_LOG_LEVEL": "WARNING",
        "FIKAFOLLOW_TICK_SECONDS": "3600",
        "FIKAFOLLOW_RATE_TELEGRAM": "1000000",
        "FIKAFOLLOW_RATE_SMS": "1000000",
        "FIKAFOLLOW_RATE_EMAIL": "1000000",
        "FIKAFOLLOW_TELEGRAM_CHAT_INTERVAL": "0",
        # SMS wants a public address for its webhooks; none is called here
        "FIKAFOLLOW_PUBLIC_URL": "http://127.0.0.1:9",
        **extra,
    }


# the first SQLite database of a run with its schema, copied for the next ones (the migrations
# take half a second each, many times over in a run)
_sqlite_templates: dict[datetime, Path] = {}


async def create_schema(url: str, work: Path, now: datetime) -> None:
    """The schema and the default programme, as the service makes them."""
    path = Path(url.split("///", 1)[1]) if url.startswith("sqlite") else None
    template = _sqlite_templates.get(now)
    if path is not None and template is not None and template.exists():
        _copy_sqlite(template, path)
        return
    app = App(load_settings(database_url=url, secret_key=SECRET, photo_dir=work / "photos"))
    try:
        await app.start()
        await app.programme(None, now)
    finally:
        await app.close()
    if path is not None:
        template = work / f"template-{uuid.uuid4().hex[:8]}.db"
        _copy_sqlite(path, template)
        _sqlite_templates[now] = template


def _copy_sqlite(source: Path, target: Path) -> None:
    # the backup API copies what is committed, whatever sits in the write-ahead log
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _columns(model: type[Base]) -> list[str]:
    return [c.name for c in model.__table__.columns]


def _defaults(model: type[Base]) -> dict[str, Any]:
    """The model's scalar column defaults, for the columns a benchmark's rows leave out (a
    column added by a later migration must not make the bulk insert fail)."""
    found: dict[str, Any] = {}
    for column in model.__table__.columns:
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            found[column.name] = getattr(default, "arg", None)
    return found


def _sqlite_value(value: Any) -> Any:
    # SQLAlchemy keeps SQLite times as text in this exact shape, and compares them as text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def _pg_value(value: Any) -> Any:
    # times are already naive UTC, as the models keep them
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


async def bulk(url: str, rows: dict[type[Base], Iterable[dict[str, Any]]]) -> None:
    """Write rows into their tables, in the order given (parents first)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1])
        try:
            for model, items in rows.items():
                columns = _columns(model)
                defaults = _defaults(model)
                sql = (
                    f"INSERT INTO {model.__tablename__} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})"
                )
                for chunk in _chunks(items):
                    conn.executemany(
                        sql,
                        (
                            [_sqlite_value(r.get(c, defaults.get(c))) for c in columns]
                            for r in chunk
                        ),
                    )
                conn.commit()
            conn.execute("ANALYZE")
        finally:
            conn.close()
        return
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    pg = await asyncpg.connect(dsn)
    try:
        for model, items in rows.items():
            columns = _columns(model)
            defaults = _defaults(model)
            table = model.__tablename__
            for chunk in _chunks(items):
                await pg.copy_records_to_table(
                    table,
                    records=[
                        tuple(_pg_value(r.get(c, defaults.get(c))) for c in columns) for r in chunk
                    ],
                    columns=columns,
                )
            if "id" in columns:
                # rows came with their ids: the service's own inserts continue after them
                await pg.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
        await pg.execute("ANALYZE")
    finally:
        await pg.close()


def _utc_naive(moment: datetime) -> datetime:
    # how the models store times: naive UTC
    return moment.astimezone(UTC).replace(tzinfo=None)


def people(
    count: int,
    now: datetime,
    *,
    channel: str,
    due: int,
    future: int = 0,
    answers: int = 0,
    sent_outbox: bool = False,
    pending_outbox: int = 0,
    coordinator: bool = False,
) -> dict[type[Base], Iterable[dict[str, Any]]]:
    """`count` participants in matches of two, one follow-up each: the first `due` are due at
    `now`, the next `future` due in a month, the rest done a month ago. `answers` answers on the
    done ones (two per follow-up), a sent outbox row per done follow-up if `sent_outbox`, and
    `pending_outbox` messages waiting to be sent, one per participant from the first."""
    at = _utc_naive(now)
    created = at - timedelta(days=40)

    def participants() -> Iterator[dict[str, Any]]:
        for i in range(1, count + 1):
            yield {
                "id": i,
                "programme_id": PROGRAMME,
                "external_id": f"B{i}",
                "first_name": "Bench",
                "role": "newcomer" if i % 2 else "established",
                "language": LANGUAGES[i % 5],
                "channel": channel,
                "phone": f"+4670{i:07d}",
                "telegram_chat_id": str(1_000_000 + i) if channel == "telegram" else None,
                "dead_channels": "",
                "created_at": created,
                "updated_at": created,
            }

    def matches() -> Iterator[dict[str, Any]]:
        for m in range(1, count // 2 + 1):
            yield {
                "id": m,
                "programme_id": PROGRAMME,
                "external_id": f"BM{m}",
                "matched_on": (created - timedelta(days=21)).date(),
                "kind": "individual",
                "created_at": created,
                "updated_at": created,
            }

    def members() -> Iterator[dict[str, Any]]:
        for i in range(1, count // 2 * 2 + 1):
            yield {"match_id": (i + 1) // 2, "participant_id": i}

    def followups() -> Iterator[dict[str, Any]]:
        for i in range(1, count // 2 * 2 + 1):
            row: dict[str, Any] = {
                "id": i,
                "programme_id": PROGRAMME,
                "match_id": (i + 1) // 2,
                "participant_id": i,
                "survey": "three_weeks",
                "reprompted": False,
                "chase_stage": 0,
            }
            if i <= due:
                row.update(status="scheduled", due_at=at - timedelta(minutes=1))
            elif i <= due + future:
                row.update(status="scheduled", due_at=at + timedelta(days=30))
            else:
                row.update(
                    status="done",
                    due_at=at - timedelta(days=30),
                    channel=channel,
                    started_at=at - timedelta(days=30),
                    last_message_at=at - timedelta(days=29),
                    finished_at=at - timedelta(days=29),
                )
            yield row

    first_done = due + future + 1

    def answer_rows() -> Iterator[dict[str, Any]]:
        n = 0
        for i in range(first_done, count + 1):
            for question, value in (("met_again", "yes"), ("will_meet_again", "maybe")):
                if n >= answers:
                    return
                n += 1
                yield {
                    "id": n,
                    "followup_id": i,
                    "question": question,
                    "value": value,
                    "raw_text": "1",
                    "channel": channel,
                    "answered_at": at - timedelta(days=1),
                }

    def outbox_rows() -> Iterator[dict[str, Any]]:
        n = 0
        for i in range(1, pending_outbox + 1):
            n += 1
            yield _outbox(n, i, None, channel, "pending", at, f"message {n}")
        if sent_outbox:
            for i in range(first_done, count // 2 * 2 + 1):
                n += 1
                row = _outbox(n, i, i, channel, "sent", at - timedelta(days=30), "asked")
                row.update(attempts=1, sent_at=at - timedelta(days=30), provider_id=f"P{n}")
                yield row

    rows: dict[type[Base], Iterable[dict[str, Any]]] = {
        Participant: participants(),
        Match: matches(),
        MatchMember: members(),
        FollowUp: followups(),
        Answer: answer_rows(),
        OutboxMessage: outbox_rows(),
    }
    if coordinator:
        rows[Coordinator] = [
            {
                "id": 1,
                "programme_id": PROGRAMME,
                "name": "Bench",
                "email": "coordinator@example.org",
                "language": "sv",
                "timezone": "Europe/Stockholm",
                "digest_weekday": 1,
                "digest_hour": 9,
                "created_at": created,
            }
        ]
    return rows


def _outbox(
    n: int,
    participant: int,
    followup: int | None,
    channel: str,
    status: str,
    at: datetime,
    text: str,
) -> dict[str, Any]:
    address = str(1_000_000 + participant) if channel == "telegram" else f"+4670{participant:07d}"
    return {
        "id": n,
        "programme_id": PROGRAMME,
        "followup_id": followup,
        "participant_id": participant,
        "channel": channel,
        "address": address,
        "language": "sv",
        "kind": "thanks" if followup is None else "question",
        "question": None,
        "payload": {"text": text},
        "status": status,
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
    }


def matches_csv(path: Path, matches: int, matched_on: str, prefix: str = "I") -> Path:
    """A match file of `matches` pairs on SMS, as `fikafollow import` reads it."""
    lines = [
        "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,"
        "gender\n"
    ]
    for m in range(matches):
        for j, role in enumerate(("newcomer", "established")):
            n = 2 * m + j
            lines.append(
                f"{prefix}M{m},{matched_on},individual,{prefix}P{n},Person,{role},"
                f"{LANGUAGES[n % 5]},sms,+46731{n:06d},,{'woman' if n % 2 else 'man'}\n"
            )
    path.write_text("".join(lines), encoding="utf-8")
    return path
