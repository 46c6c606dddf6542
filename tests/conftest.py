"""Shared fixtures for every tier: a fresh database per test, on SQLite and (when reachable)
PostgreSQL, and the mail servers of tests/support/mail_support.py.

PostgreSQL tests get a database cloned from a template migrated once per run. Where no server
answers they are skipped with the reason — unless FIKAFOLLOW_TEST_REQUIRE_POSTGRES=1 (CI sets it),
where a missing server is a failure, not a skip.

The tiers are folders — unit/ (pure), integration/ (real databases, servers, client libraries, a
browser), acceptance/ (the command line and `serve`) — each marked with its folder's name, so
`pytest -m "not acceptance"` works too. The whole session may connect to loopback only
(tests/support/network_guard.py).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from fikafollow.app import App
from fikafollow.config import Settings, load_settings
from store.database import make_engine
from store.migrate import upgrade
from tests.support import network_guard
from tests.support.mail_support import imap_server, smtp_server  # noqa: F401 (fixtures for the e-mail tests)

PG_ADMIN_DSN = os.environ.get(
    "FIKAFOLLOW_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("FIKAFOLLOW_TEST_REQUIRE_POSTGRES") == "1"
TEMPLATE = f"fikafollow_template_{os.getpid()}"
# language → outcome → count of reply parser cases, filled by tests/unit/test_replies.py
REPLY_TALLY = pytest.StashKey[dict[str, dict[str, int]]]()


TIERS = ("unit", "integration", "acceptance")
# what a unit test may not depend on: each brings a database, a server or a process
NOT_FOR_UNIT = frozenset({"db_url", "empty_db_url", "pg_template", "smtp_server", "imap_server"})


def pytest_configure(config: pytest.Config) -> None:
    network_guard.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    network_guard.uninstall()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(tests).parts if item.path.is_relative_to(tests) else ()
        tier = parts[0] if len(parts) > 1 and parts[0] in TIERS else None
        if tier is None:
            continue
        item.add_marker(tier)
        # fixturenames holds every fixture a test depends on, so `app` brings in `db_url`
        needs = NOT_FOR_UNIT.intersection(getattr(item, "fixturenames", ()))
        if tier == "unit" and needs:
            raise pytest.UsageError(
                f"{item.nodeid} is in tests/unit but needs {', '.join(sorted(needs))}: "
                "move it to tests/integration"
            )


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    """Fails a test that tried a non-loopback address, even where the code caught the error."""
    network_guard.REFUSED.clear()
    yield
    refused = list(network_guard.REFUSED)
    network_guard.REFUSED.clear()
    if refused:
        pytest.fail(f"tried to connect outside loopback: {', '.join(refused)}", pytrace=False)


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    host_port = PG_ADMIN_DSN.split("@", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    try:
        with socket.create_connection((host, int(port or 5432)), timeout=2):
            pass
    except OSError as exc:
        return f"no PostgreSQL server at {host_port} ({exc.strerror or exc})"
    return None


def _asyncpg_url(database: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    reason = _pg_reachable()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"FIKAFOLLOW_TEST_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
            await conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
        finally:
            await conn.close()
        engine = make_engine(_asyncpg_url(TEMPLATE))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    yield TEMPLATE
    asyncio.run(drop())


def _clone(template: str | None) -> str:
    name = f"fikafollow_test_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            if template:
                await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return name


def _drop(name: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with the current schema, on each engine in turn."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        asyncio.run(_upgrade(url))
        yield url
        return
    template = request.getfixturevalue("pg_template")
    name = _clone(template)
    yield _asyncpg_url(name)
    _drop(name)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with no tables at all, on each engine in turn."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("pg_template")
    name = _clone(None)
    yield _asyncpg_url(name)
    _drop(name)


@pytest.fixture
def postgres_url(pg_template: str) -> Iterator[str]:
    name = _clone(pg_template)
    yield _asyncpg_url(name)
    _drop(name)


async def _upgrade(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return load_settings(database_url=db_url, photo_dir=tmp_path / "photos")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    application = App(settings)
    await application.start()
    try:
        yield application
    finally:
        await application.close()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer's FIKAFOLLOW_* or .env leaks into a test."""
    for key in list(os.environ):
        if key.startswith("FIKAFOLLOW_") and not key.startswith("FIKAFOLLOW_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How well the reply parser reads each language's cases: the figure to watch."""
    counts = terminalreporter.config.stash.get(REPLY_TALLY, {})
    if not counts:
        return
    terminalreporter.section("reply parser by language")
    outcomes = ("understood", "not understood", "wrong")
    terminalreporter.write_line(f"{'language':<10}" + "".join(f"{o:>16}" for o in outcomes))
    for language in sorted(counts):
        row = counts[language]
        terminalreporter.write_line(f"{language:<10}" + "".join(f"{row[o]:>16}" for o in outcomes))
    terminalreporter.write_line(
        "(a question back or a contradiction counts as understood when it is not taken as an "
        "answer)"
    )
