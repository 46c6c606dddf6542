"""`participant export` and `participant forget` through the command line, on the fixed data set."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path

import pytest

from fikafollow.commands import main
from tests.support import fixed_programmes
from tests.support.dbstate import snapshot

REPORT = ["report", "--from", "2026-05-01", "--to", "2026-05-31", "--programme", "alpha"]


@pytest.fixture
def fixed(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    asyncio.run(fixed_programmes.build(db_url, tmp_path))
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    monkeypatch.setenv("FIKAFOLLOW_PHOTO_DIR", str(tmp_path / "photos"))
    return db_url


def test_export_holds_the_person_their_messages_answers_and_photo(
    fixed: str, tmp_path: Path
) -> None:
    out = tmp_path / "dawit.json"
    assert main(["participant", "export", "P3", "--programme", "alpha", "--out", str(out)]) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["participant"]["first_name"] == "Dawit"
    assert record["participant"]["phone"] == "+46701000003"
    assert [m["external_id"] for m in record["matches"]] == ["A2"]
    assert len(record["followups"]) == 1
    assert record["messages_out"] and all(
        m["address"] == "+46701000003" for m in record["messages_out"]
    )
    assert all(m["payload"]["text"] for m in record["messages_out"])
    assert "2" in [e["text"] for e in record["messages_in"]]
    assert all(e["sender"] == "+46701000003" for e in record["messages_in"])
    assert {a["question"] for a in record["answers"]} == {"met_again", "will_meet_again"}
    [greeting] = record["greetings"]
    # the partner's own data is not the person's
    assert "+46701000004" not in out.read_text(encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "dawit.json.zip") as photos:
        assert photos.namelist() == [greeting["photo_path"]]
        stored = tmp_path / "photos" / greeting["photo_path"]
        assert photos.read(greeting["photo_path"]) == stored.read_bytes()
    assert out.stat().st_mode & 0o777 == 0o600


def test_export_to_standard_output_and_unknown_id(
    fixed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["participant", "export", "P1", "--programme", "alpha"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["participant"]["first_name"] == "Amina"
    assert "=HYPERLINK(1) fika" in [g["words"] for g in record["greetings"]]
    assert main(["participant", "export", "P404", "--programme", "alpha"]) == 2
    assert "no participant 'P404'" in capsys.readouterr().err


def test_forget_erases_the_person_and_keeps_the_report(
    fixed: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(REPORT) == 0
    before = capsys.readouterr().out
    photos = list((tmp_path / "photos").iterdir())
    assert photos
    for who in ("P1", "P3"):
        assert main(["participant", "forget", who, "--programme", "alpha"]) == 0
    capsys.readouterr()
    assert main(REPORT) == 0
    assert capsys.readouterr().out == before
    dump = repr(snapshot(fixed))
    for personal in ("Amina", "+46701000001", "نعم", "HYPERLINK(1)", "Dawit", "+46701000003"):
        assert personal not in dump, personal
    # the others are untouched
    assert "Erik" in dump and "+46701000002" in dump and "nej, tyvärr" in dump
    assert not any(p.exists() for p in photos)
