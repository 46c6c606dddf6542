"""Migrations describe exactly the models, and a database is never run on a schema it outgrew."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from fikafollow.commands import main
from store.database import make_engine
from store.migrate import SchemaBehind, ensure_schema, head_revisions
from store.models import Base
from tests.support.dbstate import query


async def test_the_migrations_build_exactly_the_models(db_url: str) -> None:
    engine = make_engine(db_url)

    def diff(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


def test_db_upgrade_creates_the_schema_and_is_repeatable(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", empty_db_url)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    versions = query(empty_db_url, "SELECT version_num FROM alembic_version")
    assert {v for (v,) in versions} == head_revisions()


async def test_other_commands_create_an_empty_database_themselves(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        await ensure_schema(engine)
        await ensure_schema(engine)
        async with engine.connect() as conn:
            versions = await conn.scalars(text("SELECT version_num FROM alembic_version"))
            assert set(versions) == head_revisions()
    finally:
        await engine.dispose()


async def test_a_database_on_an_older_schema_is_refused_with_what_to_do(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM alembic_version"))
            await conn.execute(text("INSERT INTO alembic_version VALUES ('older')"))
        with pytest.raises(SchemaBehind, match="fikafollow db upgrade"):
            await ensure_schema(engine)
    finally:
        await engine.dispose()
