"""What leaves through files: spreadsheet cells that cannot run, a database file for its owner."""

from __future__ import annotations

import asyncio
import csv
import io
import stat
from pathlib import Path

import pytest

from fikafollow.commands import main
from tests.support import fixed_programmes

FORMULA = '=HYPERLINK("http://x.example","fika")'


def test_export_answers_neutralises_every_formula_cell(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(fixed_programmes.build(db_url, tmp_path))
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    # a coordinator's note from a phone call is stored as the answer's raw text
    call = ["call", "record", "--participant", "P5", "--match", "A3", "--programme", "alpha"]
    assert main([*call, "--met-again", "yes", "--note", FORMULA]) == 0
    capsys.readouterr()
    assert main(["export", "answers", "--programme", "alpha"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert "'" + FORMULA in [r["raw_text"] for r in rows]
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_sqlite_database_file_is_created_for_its_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "fikafollow.db"
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    assert main(["programme", "list"]) == 0
    for path in [database, *tmp_path.glob("fikafollow.db-*")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
