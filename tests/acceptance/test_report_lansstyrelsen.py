"""`fikafollow report --layout lansstyrelsen`: the county board's final report, in Swedish, its
figures checked against counts made by hand."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fikafollow.commands import main

HEADER = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender"
)
ROWS = [
    "M0,2026-03-02,individual,N0,Amina,newcomer,ar,sms,+46701000001,,woman",
    "M0,2026-03-02,individual,E0,Erik,established,sv,sms,+46701000002,,man",
    "M1,2026-03-02,family,N1,Selam,newcomer,ti,sms,+46701000003,,woman",
    "M1,2026-03-02,family,E1,Karin,established,sv,sms,+46701000004,,woman",
    "M2,2026-03-02,family,N2,Omid,newcomer,fa,sms,+46701000005,,man",
    "M2,2026-03-02,family,E2,Lena,established,sv,sms,+46701000006,,woman",
]
PERIOD = ["--from", "2026-03-01", "--to", "2026-03-31", "--layout", "lansstyrelsen"]
DAY_90 = "2026-05-31T10:05+02:00"


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    # its days fall on Sundays and Fridays; the send calendar (on for new programmes) is
    # tested in test_send_calendar.py
    monkeypatch.setenv("FIKAFOLLOW_SEND_CALENDAR", "off")
    path = tmp_path / "m.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    assert main(["import", str(path), "--now", "2026-03-03T12:00+01:00"]) == 0
    settings = ["--target-family", "2", "--target-individual", "2", "--target-women-percent", "60"]
    surveys = ["--surveys", "three_weeks,three_months", "--now", "2026-03-03T12:00+01:00"]
    assert main(["programme", "set", "default", *settings, *surveys]) == 0
    assert main(["tick", "--now", "2026-03-23T10:30+01:00"]) == 0
    assert main(["tick", "--now", DAY_90]) == 0
    calls = {
        ("N0", "M0"): ["--met-again", "yes", "--answer", "met_once_more=yes", "--answer",
                       "practised_swedish=a_little", "--answer", "job_or_internship=yes"],
        ("E0", "M0"): ["--met-again", "no"],
        ("N1", "M1"): ["--met-again", "no"],
        ("E1", "M1"): ["--answer", "met_once_more=yes", "--answer", "practised_swedish=yes"],
        ("N2", "M2"): ["--answer", "met_once_more=no"],
    }  # fmt: skip
    for (participant, match), answers in calls.items():
        record = ["call", "record", "--participant", participant, "--match", match]
        assert main([*record, *answers, "--now", DAY_90]) == 0
    return db_url


def sections(text: str) -> dict[str, list[list[str]]]:
    found: dict[str, list[list[str]]] = {}
    title = ""
    for row in csv.reader(io.StringIO(text)):
        if len(row) == 1 and not found.get(row[0]):
            title = row[0]
            found[title] = []
        elif row:
            found[title].append(row)
        else:
            title = ""
    return found


def test_the_figures_match_the_hand_counts(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["report", *PERIOD]) == 0
    report = sections(capsys.readouterr().out)
    assert report["Slutrapport till Länsstyrelsen"][1][1:] == ["2026-03-01", "2026-03-31"]
    assert report["Matchningar per typ mot mål"][1:] == [
        ["Familj", "2", "2", "100"],
        ["Individ", "1", "2", "50"],
    ]
    # women: Amina, Selam, Karin, Lena of six
    assert report["Andel kvinnor mot mål"][1] == ["6", "4", "67", "60"]
    # three weeks: no channel is configured, so only the three phoned were followed up (the
    # other three are waiting, not asked: #10), and all three answered
    assert report["Uppföljning"][1] == ["3", "3", "100"]
    met = {row[0]: row[1:] for row in report["Träffats igen, per person och per par"][1:]}
    # three weeks: Amina yes, Erik no, Selam no; pairs M0 (a yes) and M1 (no)
    assert met["Har träffats igen (efter tre veckor)"] == ["1", "3", "33", "1", "2", "50"]
    # three months: Amina yes, Karin yes, Omid no; pairs M0 yes, M1 yes, M2 no
    assert met["Har träffats minst en gång till"] == ["2", "3", "67", "2", "3", "67"]
    outcomes = {(r[0], r[1]): r[2:] for r in report["Utvärderingens resultat"][1:]}
    assert outcomes[("Har övat svenska", "Lite")] == ["1", "2", "50"]
    assert outcomes[("Har övat svenska", "Ja")] == ["1", "2", "50"]
    assert outcomes[("Jobb eller praktik genom fikakompisen", "Ja")] == ["1", "1", "100"]


def test_xlsx_has_dates_widths_and_a_chart_and_html_is_swedish(env: str, tmp_path: Path) -> None:
    out = tmp_path / "slutrapport.xlsx"
    assert main(["report", *PERIOD, "--format", "xlsx", "--out", str(out)]) == 0
    book = load_workbook(out)
    sheet = book.active
    assert sheet is not None
    assert sheet["A1"].value == "Slutrapport till Länsstyrelsen"
    assert isinstance(sheet["B3"].value, datetime) and sheet["B3"].number_format == "yyyy-mm-dd"
    assert (sheet.column_dimensions["A"].width or 0) >= len("Har träffats minst en gång till")
    assert len(sheet._charts) >= 1
    page = tmp_path / "slutrapport.html"
    assert main(["report", *PERIOD, "--format", "html", "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "Matchningar per typ mot mål" in html and "<svg" in html and 'lang="sv"' in html
