"""`fikafollow activities import | list | remove`: a programme's local activities."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from fikafollow.commands import main

CSV = """name,for,ages,when,where,price,languages,link
Yoga för kvinnor,individual,,tisdagar 18-19,Folkets hus,gratis,"ar,fa,sv",https://example.org/yoga
Familjelördag,family,2-10,lördagar 10-13,Stadsbiblioteket,gratis,,
Drop-in-fotboll,both,12+,onsdagar 17,Idrottsplatsen,20 kr,,https://example.org/fotboll
"""


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    return db_url


def test_import_list_and_remove(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "activities.csv"
    path.write_text(CSV, encoding="utf-8")
    assert main(["activities", "import", str(path)]) == 0
    assert "3 activities read: 3 new, 0 changed" in capsys.readouterr().out
    assert main(["activities", "import", str(path)]) == 0
    assert "0 new, 0 changed" in capsys.readouterr().out
    assert main(["activities", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split("\t") == [
        "Drop-in-fotboll", "both", "12+", "onsdagar 17", "Idrottsplatsen", "20 kr", "",
        "https://example.org/fotboll",
    ]  # fmt: skip
    assert listed[1].startswith("Familjelördag\tfamily\t2-10\t")
    assert listed[2].startswith("Yoga för kvinnor\tindividual\t\t")
    assert main(["activities", "remove", "yoga FÖR kvinnor"]) == 0
    assert main(["activities", "remove", "Boule"]) == 2
    assert "no activity named 'Boule'" in capsys.readouterr().err
    assert main(["activities", "list"]) == 0
    assert "Yoga" not in capsys.readouterr().out


def test_an_xlsx_file_with_swedish_excel_cells(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "For", "Ages", "When", "Where", "Price", "Languages", "Link"])
    sheet.append(["Sagostund", "family", "3-6", "fredagar", "Biblioteket", 0, "ar, so", None])
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "a.xlsx"
    path.write_bytes(buffer.getvalue())
    assert main(["activities", "import", str(path), "--programme", "default"]) == 0
    assert "1 new" in capsys.readouterr().out
    assert main(["activities", "list"]) == 0
    assert capsys.readouterr().out.startswith(
        "Sagostund\tfamily\t3-6\tfredagar\tBiblioteket\t0\tar,so"
    )


def test_a_file_with_a_bad_row_imports_nothing_and_names_every_problem(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(CSV + "Boule,everyone,10-2,,,,xx,ftp://x\n", encoding="utf-8")
    assert main(["activities", "import", str(path)]) == 2
    err = capsys.readouterr().err
    for problem in (
        "line 5: for must be individual, family, both",
        "ages '10-2' run backwards",
        "languages: unknown xx",
        "link must start with https://",
    ):
        assert problem in err
    assert main(["activities", "list"]) == 0
    assert "no activities" in capsys.readouterr().out
