"""The funder report in CSV, xlsx (read back with openpyxl) and HTML, against hand counts."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fikafollow.commands import main
from tests.support import fixed_programmes

PERIOD = ["--from", "2026-05-01", "--to", "2026-05-31", "--programme", "alpha"]
# by hand from tests/support/fixed_programmes.py (programme alpha)
EXPECTED = {
    "Matches by kind": [["individual", "2", "3"], ["family", "1", "2"]],
    "Participants by role and gender": [
        ["established", "man", "2"],  # Erik, Johan
        ["established", "woman", "1"],  # Karin
        ["newcomer", "man", "1"],  # Dawit
        ["newcomer", "woman", "2"],  # Amina, Maryam
    ],
    "Women among newcomers": [["3", "2", "67", "60"]],
    # followed up, answered, met again, will meet again, photos, photos consented
    "Follow-up, all": [["6", "4", "1", "1", "1", "1"]],
    "Follow-up by language": [
        ["ar", "1", "1", "1", "1", "0", "0"],
        ["fa", "1", "0", "0", "0", "0", "0"],
        ["sv", "3", "2", "0", "0", "0", "0"],
        ["ti", "1", "1", "0", "0", "1", "1"],
    ],
    "Follow-up by channel": [
        ["email", "1", "0", "0", "0", "0", "0"],
        ["sms", "5", "4", "1", "1", "1", "1"],
    ],
}
EVIL_NAME = '=HYPERLINK("http://x.example","fika")'


@pytest.fixture
def fixed(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    asyncio.run(fixed_programmes.build(db_url, tmp_path))
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    assert main(["programme", "set", "alpha", "--name", EVIL_NAME]) == 0
    return db_url


def _blocks(rows: list[list[str]]) -> dict[str, list[list[str]]]:
    """Title → data rows, from a report laid out as title, header, rows, blank line."""
    blocks: dict[str, list[list[str]]] = {}
    i = 0
    while i < len(rows):
        title = rows[i][0]
        j = i + 2
        while j < len(rows) and any(rows[j]):
            j += 1
        blocks[title] = rows[i + 2 : j]
        i = j + 1
    return blocks


def test_csv_report_has_every_figure_and_no_formula(
    fixed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["report", *PERIOD]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    blocks = _blocks(rows)
    for title, expected in EXPECTED.items():
        assert blocks[title] == expected, title
    assert blocks["Report"] == [["'" + EVIL_NAME, "2026-05-01", "2026-05-31"]]


def test_xlsx_report_opens_in_openpyxl_with_figures_and_charts(fixed: str, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    assert main(["report", *PERIOD, "--format", "xlsx", "--out", str(out)]) == 0
    sheet = load_workbook(out)["Report"]
    rows = [
        ["" if v is None else str(v) for v in row]
        for row in sheet.iter_rows(min_col=1, max_col=7, values_only=True)
    ]
    rows = [r[: max((i + 1 for i, v in enumerate(r) if v), default=0)] for r in rows]
    blocks = _blocks(rows)
    for title, expected in EXPECTED.items():
        assert blocks[title] == expected, title
    assert sheet["A3"].value == "'" + EVIL_NAME
    assert sheet["A3"].data_type == "s"
    assert len(sheet._charts) == 3


def test_html_report_has_every_figure_and_inline_bars_only(fixed: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", *PERIOD, "--format", "html", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    tables = re.findall(r"<h2[^>]*>(.*?)</h2>\s*<table[^>]*>(.*?)</table>", page, re.S)
    found = {
        title.replace("&#x27;", "'"): [
            re.findall(r"<td[^>]*>(.*?)</td>", row)
            for row in re.findall(r"<tr>(.*?)</tr>", body)
            if "<td" in row
        ]
        for title, body in tables
    }
    for title, expected in EXPECTED.items():
        assert found[title] == expected, title
    assert page.count("<svg ") == 3
    # matches: individual 2 of a target of 3 is drawn two thirds as long as the target
    assert re.search(r'<rect x="120" y="0" width="200"', page)
    assert re.search(r'<rect x="120" y="14" width="300"', page)
    assert "src=" not in page and "href=" not in page and "<script" not in page
    assert "&lt;" not in EVIL_NAME and "=HYPERLINK(&quot;" in page


def test_report_of_one_programme_shows_nothing_of_another(
    fixed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert (
        main(["report", "--from", "2026-05-01", "--to", "2026-05-31", "--programme", "beta"]) == 0
    )
    blocks = _blocks(list(csv.reader(io.StringIO(capsys.readouterr().out))))
    assert blocks["Matches by kind"] == [["individual", "1", "3"], ["family", "0", "2"]]
    assert blocks["Follow-up, all"] == [["2", "1", "1", "0", "0", "0"]]
    assert blocks["Follow-up by language"] == [
        ["en", "1", "1", "1", "0", "0", "0"],
        ["sv", "1", "0", "0", "0", "0", "0"],
    ]


def test_bad_report_period_is_a_usage_error(fixed: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--from", "2026-05-31", "--to", "2026-05-01"]) == 2
    assert "--to is before --from" in capsys.readouterr().err
    assert main(["report", "--from", "May", "--to", "2026-05-01"]) == 2
    assert main(["report", *PERIOD, "--format", "xlsx"]) == 2
