"""No personal data in any log line: a whole flow (the demo: intake, questions, replies in five
languages, photos, reminders, the ladder, the digest) at DEBUG, and a failed statement."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from fikafollow.commands import cap_driver_loggers
from fikafollow.demo import SAMPLE, SCRIPT, run_demo
from store.database import make_engine
from store.models import Base, Participant


def personal_data() -> set[str]:
    """Every name, number, address and reply text of the demo's sample."""
    found: set[str] = set()
    with SAMPLE.open(encoding="utf-8") as fileobj:
        for row in csv.DictReader(fileobj):
            found.add(row["first_name"])
            if row["email"]:
                found.add(row["email"])
            if row["phone"]:
                digits = re.sub(r"\D", "", row["phone"])
                # as written, and as stored (E.164 without the trunk zero)
                found.update(
                    {row["phone"], digits, "+46" + digits.removeprefix("0").removeprefix("46")}
                )
    # short replies ("1", "ja") are words any log line may hold; the sentences are the person's
    found.update(act.text for acts in SCRIPT.values() for act in acts if len(act.text) >= 5)
    return found


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@pytest.fixture
def captured() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    cap_driver_loggers()
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(before)


async def test_a_whole_flow_at_debug_logs_no_personal_data(
    tmp_path: Path, captured: Everything
) -> None:
    out = io.StringIO()
    assert await run_demo(tmp_path / "demo", out) == 0
    # the demo did its work: the people were asked and answered
    assert "Amina" in out.getvalue()
    assert captured.lines, "nothing was logged at DEBUG"
    text = "\n".join(captured.lines)
    leaked = sorted(word for word in personal_data() if word in text)
    assert not leaked, f"personal data in the log: {leaked}"


async def test_a_failed_statement_does_not_carry_its_values(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        with pytest.raises(IntegrityError) as failed:
            async with engine.begin() as conn:
                # no such programme: the foreign key refuses the row
                await conn.execute(
                    insert(Participant).values(
                        programme_id="nowhere",
                        external_id="x",
                        first_name="Zahra-Secret",
                        role="newcomer",
                        language="fa",
                        channel="sms",
                        phone="+46701740699",
                        created_at=datetime(2026, 1, 1, tzinfo=UTC),
                        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
                    )
                )
    finally:
        await engine.dispose()
    assert "Zahra-Secret" not in str(failed.value)
    assert "+46701740699" not in str(failed.value)
