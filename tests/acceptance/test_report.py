"""The funder report in CSV, xlsx (read back with openpyxl) and HTML, against hand counts."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fikafollow.commands import main
from tests.support import fixed_programmes

PERIOD = ["--from", "2026-05-01", "--to", "2026-05-31", "--programme", "alpha"]
ENGLISH = [*PERIOD, "--language", "en"]
# by hand from tests/support/fixed_programmes.py (programme alpha); the English titles and
# columns are the CSV's contract, the cells that were codes read as words, and each table's
# percentages follow its counts
EXPECTED = {
    "Matches by kind": [["individual", "2", "3", "67"], ["family", "1", "2", "50"]],
    "Participants by role and gender": [
        ["established resident", "man", "2", "33"],  # Erik, Johan
        ["established resident", "woman", "1", "17"],  # Karin
        ["newcomer", "man", "1", "17"],  # Dawit
        ["newcomer", "woman", "2", "33"],  # Amina, Maryam
    ],
    "Women among newcomers": [["3", "2", "67", "60"]],
    # followed up, answered, met again, will meet again, photos, photos consented; answered %
    # of followed up, met again and will meet again % of answered
    "Follow-up, all": [["6", "4", "1", "1", "1", "1", "67", "25", "25"]],
    "Follow-up by language": [
        ["Arabic", "1", "1", "1", "1", "0", "0", "100", "100", "100"],
        ["Persian", "1", "0", "0", "0", "0", "0", "0", "0", "0"],
        ["Swedish", "3", "2", "0", "0", "0", "0", "67", "0", "0"],
        ["Tigrinya", "1", "1", "0", "0", "1", "1", "100", "0", "0"],
    ],
    "Follow-up by channel": [
        ["e-mail", "1", "0", "0", "0", "0", "0", "0", "0", "0"],
        ["SMS", "5", "4", "1", "1", "1", "1", "80", "25", "25"],
    ],
    # met again: Amina yes; Erik, Dawit, Karin no; will meet again: Amina yes, Dawit maybe
    "Answers by question": [
        ["after three weeks", "Met again", "No", "3", "75", "50"],
        ["after three weeks", "Met again", "Yes", "1", "25", "17"],
        ["after three weeks", "Will meet again", "Maybe", "1", "50", "17"],
        ["after three weeks", "Will meet again", "Yes", "1", "50", "17"],
    ],
}
# the same in Swedish, the default for alpha (its coordinator reads Swedish)
SWEDISH = {
    "Matchningar per typ": [["individ", "2", "3", "67"], ["familj", "1", "2", "50"]],
    "Deltagare per roll och kön": [
        ["etablerad", "man", "2", "33"],
        ["etablerad", "kvinna", "1", "17"],
        ["nyanländ", "man", "1", "17"],
        ["nyanländ", "kvinna", "2", "33"],
    ],
    "Uppföljning per språk": [
        ["arabiska", "1", "1", "1", "1", "0", "0", "100", "100", "100"],
        ["persiska", "1", "0", "0", "0", "0", "0", "0", "0", "0"],
        ["svenska", "3", "2", "0", "0", "0", "0", "67", "0", "0"],
        ["tigrinja", "1", "1", "0", "0", "1", "1", "100", "0", "0"],
    ],
    "Uppföljning per kanal": [
        ["e-post", "1", "0", "0", "0", "0", "0", "0", "0", "0"],
        ["sms", "5", "4", "1", "1", "1", "1", "80", "25", "25"],
    ],
    "Svar per fråga": [
        ["efter tre veckor", "Har träffats igen", "Nej", "3", "75", "50"],
        ["efter tre veckor", "Har träffats igen", "Ja", "1", "25", "17"],
        ["efter tre veckor", "Ska träffas igen", "Kanske", "1", "50", "17"],
        ["efter tre veckor", "Ska träffas igen", "Ja", "1", "50", "17"],
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
    assert main(["report", *ENGLISH]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    blocks = _blocks(rows)
    for title, expected in EXPECTED.items():
        assert blocks[title] == expected, title
    assert blocks["Report"] == [["'" + EVIL_NAME, "2026-05-01", "2026-05-31"]]
    # the columns a tool reads by name are today's, the percentages after them
    header = rows[rows.index(["Follow-up by channel"]) + 1]
    assert header[:7] == ["channel", "followed up", "answered", "met again", "will meet again",
                          "photos received", "photos consented"]  # fmt: skip


def test_report_is_in_the_coordinators_swedish_by_default_with_words_not_codes(
    fixed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["report", *PERIOD]) == 0
    text = capsys.readouterr().out
    blocks = _blocks(list(csv.reader(io.StringIO(text))))
    for title, expected in SWEDISH.items():
        assert blocks[title] == expected, title
    for code in (",ar,", ",established,", ",met_again,", ",three_weeks,", ",email,"):
        assert code not in text, code


def test_xlsx_report_opens_in_openpyxl_with_figures_and_charts(fixed: str, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    assert main(["report", *ENGLISH, "--format", "xlsx", "--out", str(out)]) == 0
    sheet = load_workbook(out)["Report"]
    rows = [
        ["" if v is None else str(v) for v in row]
        for row in sheet.iter_rows(min_col=1, max_col=10, values_only=True)
    ]
    rows = [r[: max((i + 1 for i, v in enumerate(r) if v), default=0)] for r in rows]
    blocks = _blocks(rows)
    for title, expected in EXPECTED.items():
        assert blocks[title] == expected, title
    assert sheet["A3"].value == "'" + EVIL_NAME
    assert sheet["A3"].data_type == "s"
    assert len(sheet._charts) == 3
    # the period's days are date cells a spreadsheet sorts and counts with, not text
    for ref in ("B3", "C3"):
        assert isinstance(sheet[ref].value, datetime), ref
        assert sheet[ref].number_format == "yyyy-mm-dd"
    assert sheet["B3"].value == datetime(2026, 5, 1)
    # no column cuts its heading or a cell short: wider than the longest text in it (the
    # titles stand alone on their rows)
    titles = {row[0] for row in sheet.iter_rows(values_only=True) if row[0] and not any(row[1:])}
    for column in sheet.iter_cols(max_col=10):
        texts = [c.value for c in column if c.value is not None and c.value not in titles]
        longest = max(10 if isinstance(v, datetime) else len(str(v)) for v in texts)
        width = sheet.column_dimensions[column[0].column_letter].width
        assert width is not None and width > longest, (column[0].column_letter, width, longest)


def test_html_report_has_every_figure_and_inline_bars_only(fixed: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", *ENGLISH, "--format", "html", "--out", str(out)]) == 0
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
    beta = ["report", "--from", "2026-05-01", "--to", "2026-05-31", "--programme", "beta"]
    # beta's coordinator reads English: the default
    assert main(beta) == 0
    blocks = _blocks(list(csv.reader(io.StringIO(capsys.readouterr().out))))
    assert blocks["Matches by kind"] == [["individual", "1", "3", "33"], ["family", "0", "2", "0"]]
    assert blocks["Follow-up, all"] == [["2", "1", "1", "0", "0", "0", "50", "100", "0"]]
    assert blocks["Follow-up by language"] == [
        ["English", "1", "1", "1", "0", "0", "0", "100", "100", "0"],
        ["Swedish", "1", "0", "0", "0", "0", "0", "0", "0", "0"],
    ]


def test_bad_report_period_is_a_usage_error(fixed: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--from", "2026-05-31", "--to", "2026-05-01"]) == 2
    assert "--to is before --from" in capsys.readouterr().err
    assert main(["report", "--from", "May", "--to", "2026-05-01"]) == 2
    assert main(["report", *PERIOD, "--format", "xlsx"]) == 2
    with pytest.raises(SystemExit) as refused:
        main(["report", *PERIOD, "--language", "ar"])
    assert refused.value.code == 2
