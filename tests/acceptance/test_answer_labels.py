"""`fikafollow export answers` names each answer in words (`answer_label`) in the chosen
language, after the columns and values that tools already read, which stay as they were."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from fikafollow.commands import main
from store.reporting import ANSWER_COLUMNS
from tests.acceptance.test_digest_phone import _week_with_a_tap


@pytest.fixture
def week(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    asyncio.run(_week_with_a_tap(db_url, tmp_path))
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    return db_url


def _export(capsys: pytest.CaptureFixture[str], *options: str) -> list[dict[str, str]]:
    capsys.readouterr()
    assert main(["export", "answers", "--programme", "alpha", *options]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == ",".join([*ANSWER_COLUMNS, "answer_label"])
    return list(csv.DictReader(io.StringIO(text)))


def test_a_tap_reads_as_its_label_in_the_chosen_language(
    week: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # alpha's coordinator reads Swedish: the default
    rows = _export(capsys)
    [tap] = [r for r in rows if r["raw_text"] == "will_meet_again=maybe"]
    assert tap["participant_id"] == "P2" and tap["answer"] == "maybe"
    assert tap["answer_label"] == "Kanske"
    [amina] = [r for r in rows if r["participant_id"] == "P1" and r["question"] == "met_again"]
    assert (amina["answer"], amina["raw_text"], amina["answer_label"]) == ("yes", "نعم", "Ja")
    english = _export(capsys, "--language", "en")
    assert [r["answer_label"] for r in english if r["raw_text"] == "will_meet_again=maybe"] == [
        "Maybe"
    ]
    # the columns before it are the same whatever the language
    drop = "answer_label"
    assert [{k: v for k, v in r.items() if k != drop} for r in english] == [
        {k: v for k, v in r.items() if k != drop} for r in rows
    ]
