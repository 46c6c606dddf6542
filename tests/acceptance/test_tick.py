"""`fikafollow tick --now`: nothing early, everything due exactly once, also twice at once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fikafollow.app import App
from fikafollow.commands import main
from fikafollow.config import load_settings
from store import intake
from store.models import Programme
from tests.support.dbstate import query
from tests.support.matchfiles import many_matches
from tests.support.recording_channel import RecordingChannel

IMPORTED = "2026-05-05T12:00+02:00"
DAY_20 = "2026-05-24T15:00+02:00"
DAY_21_BEFORE = "2026-05-25T09:30+02:00"
DAY_21_AFTER = "2026-05-25T10:05+02:00"


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    return db_url


def questions_per_followup(url: str) -> list[int]:
    return [
        r[0]
        for r in query(
            url,
            "SELECT count(o.id) FROM followup f LEFT JOIN outbox o "
            "ON o.followup_id = f.id AND o.kind = 'question' GROUP BY f.id ORDER BY f.id",
        )
    ]


def test_day_20_sends_nothing_and_day_21_sends_each_once_however_often(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = many_matches(tmp_path / "m.csv", 10)
    assert main(["import", str(path), "--now", IMPORTED]) == 0
    assert main(["tick", "--now", DAY_20]) == 0
    assert main(["tick", "--now", DAY_21_BEFORE]) == 0
    assert questions_per_followup(env) == [0] * 20
    for _ in range(3):
        assert main(["tick", "--now", DAY_21_AFTER]) == 0
    assert main(["tick", "--now", "2026-05-26T11:00+02:00"]) == 0
    assert questions_per_followup(env) == [1] * 20
    out = capsys.readouterr().out
    assert "started 20 follow-ups" in out
    assert "waiting in the outbox for channels that are not configured: email 10, sms 10" in out


def test_tick_in_quiet_hours_starts_nothing_even_when_due(env: str, tmp_path: Path) -> None:
    assert main(["import", str(many_matches(tmp_path / "m.csv", 2)), "--now", IMPORTED]) == 0
    assert main(["tick", "--now", "2026-05-27T21:00+02:00"]) == 0
    assert questions_per_followup(env) == [0] * 4
    assert main(["tick", "--now", "2026-05-28T09:00+02:00"]) == 0
    assert questions_per_followup(env) == [1] * 4


def test_bad_now_is_a_clear_usage_error(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tick", "--now", "next tuesday"]) == 2
    assert "--now 'next tuesday' is not ISO-8601" in capsys.readouterr().err


async def test_repeated_passes_deliver_each_question_exactly_once(
    db_url: str, tmp_path: Path
) -> None:
    channels = {"sms": RecordingChannel("sms"), "email": RecordingChannel("email")}
    app = App(load_settings(database_url=db_url, photo_dir=tmp_path), channels)
    now = datetime(2026, 5, 25, 8, 30, tzinfo=UTC)
    try:
        await app.start()
        programme = await app.programme(None, now)
        rows, errors = intake.read_csv(many_matches(tmp_path / "m.csv", 5).read_bytes(), "SE")
        assert not errors
        async with app.sessions.begin() as session:
            programme = await session.get_one(Programme, programme.id)
            await intake.apply(session, programme, rows, now, app.book.days())
        for _ in range(3):
            await app.tick(lambda: now)
    finally:
        await app.close()
    delivered = channels["sms"].sent + channels["email"].sent
    assert len(delivered) == 10
    assert len({m.address for m in delivered}) == 10
    assert {m.kind for m in delivered} == {"question"}


@pytest.mark.slow
def test_two_tick_processes_at_once_on_postgres_start_each_followup_once(
    postgres_url: str, tmp_path: Path
) -> None:
    path = many_matches(tmp_path / "m.csv", 300)
    environ = {**os.environ, "FIKAFOLLOW_DATABASE_URL": postgres_url}
    command = [sys.executable, "-m", "fikafollow"]
    subprocess.run([*command, "import", str(path), "--now", IMPORTED], env=environ, check=True)
    ticks = [
        subprocess.Popen(
            [*command, "tick", "--now", DAY_21_AFTER],
            env=environ,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [t.communicate(timeout=120)[0] for t in ticks]
    assert all(t.returncode == 0 for t in ticks)
    counts = questions_per_followup(postgres_url)
    assert counts == [1] * 600
    started = [int(o.split("started ")[1].split(" ")[0]) for o in outputs]
    assert sum(started) == 600
