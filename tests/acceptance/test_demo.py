"""`fikafollow demo` runs offline on a fresh machine and shows the whole cycle."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_runs_shows_every_language_and_writes_the_export(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FIKAFOLLOW_")}
    done = subprocess.run(
        [sys.executable, "-m", "fikafollow", "demo", "--dir", str(tmp_path / "demo")],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "languages shown: ar, en, fa, so, sv, ti, uk" in out
    for shown in ("Telegram to", "SMS to", "E-mail to", "Subject:", "right-to-left"):
        assert shown in out
    assert "GPS data removed" in out and "KEPT" not in out
    assert "Telegram link for Amina (P01): https://t.me/FikaDemoBot?start=" in out
    with (tmp_path / "demo" / "answers.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "match_id",
        "participant_id",
        "language",
        "channel",
        "question",
        "answer",
        "raw_text",
        "answered_at",
    ]
    by_person = {(r["participant_id"], r["question"]): r for r in rows}
    # native-script digits, a free-text answer, a button, and the silent participant
    assert by_person[("P09", "met_again")]["answer"] == "no"
    assert by_person[("P09", "met_again")]["raw_text"] == "۲"
    assert by_person[("P02", "met_again")]["answer"] == "yes"
    assert by_person[("P04", "met_again")]["answer"] == "no"  # after one re-prompt
    assert by_person[("P12", "will_meet_again")]["answer"] == "maybe"
    assert not any(r["participant_id"] == "P06" for r in rows)
    # Arabic in Latin letters, Ukrainian and Somali
    assert by_person[("P19", "met_again")]["answer"] == "yes"
    assert by_person[("P19", "will_meet_again")]["answer"] == "maybe"
    assert by_person[("P21", "met_again")]["language"] == "uk"
    assert by_person[("P21", "met_again")]["answer"] == "yes"
    assert by_person[("P22", "met_again")]["answer"] == "yes"
    assert by_person[("P22", "will_meet_again")]["answer"] == "maybe"
    assert {r["answer"] for r in rows} <= {"yes", "no", "maybe"}
    assert {r["question"] for r in rows} == {"met_again", "will_meet_again"}
