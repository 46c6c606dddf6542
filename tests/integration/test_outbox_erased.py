"""The outbox remembers which bodies were erased (`erased_at`), so the retention pass never reads
them again; a database erased before the marker existed gets it from the migration."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncSession

from fikafollow.app import App
from fikafollow.config import load_settings
from store.database import make_engine
from store.migrate import alembic_config, upgrade
from store.models import OutboxMessage, Participant, Programme
from store.personal_data import ERASED_PAYLOAD, retention
from tests.support.dbstate import aquery

NOW = datetime(2026, 5, 25, 8, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=400)
MARKER = "0017_outbox_erased"


def someone(programme_id: str) -> Participant:
    return Participant(
        programme_id=programme_id,
        external_id="x",
        first_name="X",
        role="newcomer",
        language="sv",
        channel="sms",
        phone="+46701234567",
        created_at=NOW,
        updated_at=NOW,
    )


async def test_the_migration_marks_the_bodies_erased_before_it(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)

    def before_the_marker(connection: Connection) -> None:
        config = alembic_config(connection)
        command.upgrade(config, "heads")
        command.downgrade(config, f"{MARKER}@-1")

    try:
        async with engine.begin() as conn:
            await conn.run_sync(before_the_marker)
        async with AsyncSession(engine) as session, session.begin():
            session.add(Programme(id="p", name="P", timezone="UTC", created_at=NOW))
            await session.flush()
            person = someone("p")
            session.add(person)
            await session.flush()
            # the table as it was: no erased_at yet
            for n, payload in ((1, ERASED_PAYLOAD), (2, {"text": "hej"})):
                await session.execute(
                    text(
                        "INSERT INTO outbox (id, programme_id, participant_id, channel, address,"
                        " language, kind, payload, status, attempts, next_attempt_at,"
                        " created_at, unprompted)"
                        " VALUES (:id, 'p', :person, 'sms', '+46701234567', 'sv', 'thanks',"
                        " :payload, 'sent', 1, :at, :at, false)"
                    ),
                    {
                        "id": n,
                        "person": person.id,
                        "payload": json.dumps(payload),
                        "at": OLD.replace(tzinfo=None),
                    },
                )
        await upgrade(engine)
    finally:
        await engine.dispose()
    marked = await aquery(empty_db_url, "SELECT id FROM outbox WHERE erased_at IS NOT NULL")
    assert marked == [(1,)]


async def test_a_retention_pass_marks_what_it_erases_and_the_next_finds_nothing(
    db_url: str, tmp_path: Path
) -> None:
    app = App(load_settings(database_url=db_url, photo_dir=tmp_path / "photos"), channels={})
    try:
        await app.start()
        programme = await app.programme(None, NOW)
        async with app.sessions.begin() as session:
            person = someone(programme.id)
            session.add(person)
            await session.flush()
            values: dict[str, Any] = {
                "programme_id": programme.id,
                "participant_id": person.id,
                "channel": "sms",
                "address": "+46701234567",
                "language": "sv",
                "kind": "thanks",
                "status": "sent",
                "attempts": 1,
                "next_attempt_at": OLD,
                "created_at": OLD,
            }
            session.add_all(OutboxMessage(payload={"text": f"hej {n}"}, **values) for n in range(3))
            # one still waiting keeps its body, however old
            session.add(
                OutboxMessage(payload={"text": "väntar"}, **{**values, "status": "pending"})
            )
        async with app.sessions.begin() as session:
            first = await retention(session, NOW, days=180)
        async with app.sessions.begin() as session:
            again = await retention(session, NOW, days=180)
    finally:
        await app.close()
    assert (first.outbox_bodies, again.outbox_bodies) == (3, 0)
    rows = await aquery(db_url, "SELECT status, erased_at IS NULL FROM outbox ORDER BY id")
    assert [(s, bool(kept)) for s, kept in rows] == [("sent", False)] * 3 + [("pending", True)]
