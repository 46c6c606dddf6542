"""The send calendar through the command line: a follow-up due on midsommarafton or on
24 December goes out on the next working day at the send hour; `fikafollow calendar` lists it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fikafollow.commands import main
from tests.support.dbstate import query

HEADER = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender"
)


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    return db_url


def asked(url: str) -> int:
    return int(query(url, "SELECT count(*) FROM outbox WHERE kind = 'question'")[0][0])


@pytest.mark.parametrize(
    ("matched_on", "blocked", "day_before_open", "open_at"),
    [
        # midsommarafton, Friday 19 June 2026: Saturday is midsommardagen, then Sunday
        ("2026-05-29", "2026-06-19T10:05+02:00", "2026-06-21T12:00+02:00", "2026-06-22"),
        # julafton, Thursday 24 December 2026: juldagen, annandag jul, Sunday
        ("2026-12-03", "2026-12-24T10:05+01:00", "2026-12-27T12:00+01:00", "2026-12-28"),
    ],
)
def test_a_follow_up_due_on_an_eve_goes_the_next_working_day_at_the_send_hour(
    env: str, tmp_path: Path, matched_on: str, blocked: str, day_before_open: str, open_at: str
) -> None:
    rows = [
        HEADER,
        f"M1,{matched_on},individual,P1,Amina,newcomer,ar,sms,+46701740611,,woman",
        f"M1,{matched_on},individual,P2,Erik,established,sv,sms,+46701740612,,man",
    ]
    path = tmp_path / "m.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["programme", "set", "default", "--send-calendar", "on"]) == 0
    assert main(["import", str(path), "--now", f"{matched_on}T12:00+01:00"]) == 0
    zone = blocked[-6:]
    for now in (blocked, day_before_open, f"{open_at}T09:55{zone}"):
        assert main(["tick", "--now", now]) == 0
        assert asked(env) == 0, now
    assert main(["tick", "--now", f"{open_at}T10:00{zone}"]) == 0
    assert asked(env) == 2


def test_the_calendar_command_lists_the_blocked_times(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["programme", "set", "default", "--send-calendar", "off"]) == 0
    assert main(["calendar", "--from", "2026-06-15", "--to", "2026-06-21"]) == 0
    assert "the send calendar is off" in capsys.readouterr().out
    assert main(["programme", "set", "default", "--send-calendar", "on", "--ramadan", "on"]) == 0
    capsys.readouterr()
    assert main(["calendar", "--from", "2026-06-15", "--to", "2026-06-21"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        "2026-06-19\tFri\tall day\tMidsommarafton",
        "2026-06-20\tSat\tall day\tMidsommardagen",
        "2026-06-21\tSun\tall day\tsöndag",
    ]
    assert lines[3].startswith("3 blocked from 2026-06-15 to 2026-06-21 (Europe/Stockholm)")
    assert main(["calendar", "--from", "2026-02-27", "--to", "2026-02-27"]) == 0
    friday = capsys.readouterr().out.splitlines()
    assert friday[:2] == [
        "2026-02-27\tFri\t12:00-14:00\tfredagsbön",
        "2026-02-27\tFri\t16:00-24:00\tramadan, iftar",
    ]
    assert main(["programme", "list"]) == 0
    assert "calendar on, ramadan evenings" in capsys.readouterr().out
    assert main(["calendar", "--from", "2026-02-27", "--to", "2026-02-01"]) == 2


def test_ramadan_by_language_names_the_languages_it_is_kept_for(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    off = ["--send-calendar", "off"]
    assert main(["programme", "set", "default", *off, "--ramadan", "language"]) == 0
    capsys.readouterr()
    assert main(["calendar", "--from", "2026-02-27", "--to", "2026-02-27"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        "2026-02-27\tFri\t16:00-24:00\tramadan, iftar"
        " (for participants in ar Arabic, fa Persian, so Somali)"
    )
    assert main(["programme", "list"]) == 0
    assert "calendar off, ramadan evenings by language" in capsys.readouterr().out
    # on and off as before
    assert main(["programme", "set", "default", "--ramadan", "on"]) == 0
    assert main(["calendar", "--from", "2026-02-27", "--to", "2026-02-27"]) == 0
    assert "16:00-24:00\tramadan, iftar\n" in capsys.readouterr().out
    assert main(["programme", "set", "default", "--ramadan", "off"]) == 0
    assert main(["calendar", "--from", "2026-02-27", "--to", "2026-02-27"]) == 0
    assert "the send calendar is off" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["programme", "set", "default", "--ramadan", "sometimes"])


def test_a_new_programme_keeps_the_calendar_unless_told_otherwise(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the default programme of a new database, and one created by `programme set`
    assert main(["calendar", "--from", "2026-12-24", "--to", "2026-12-24"]) == 0
    assert capsys.readouterr().out.startswith("2026-12-24\tThu\tall day\tJulafton\n")
    assert main(["programme", "set", "north"]) == 0
    monkeypatch.setenv("FIKAFOLLOW_SEND_CALENDAR", "off")
    assert main(["programme", "set", "south"]) == 0
    # a programme that exists keeps its own setting whatever the default says
    assert main(["programme", "set", "north", "--name", "Fika Norr"]) == 0
    capsys.readouterr()
    assert main(["programme", "list"]) == 0
    calendar = {
        line.split("\t")[0]: line.split("\tcalendar ")[1]
        for line in capsys.readouterr().out.splitlines()
    }
    assert calendar == {"default": "on", "north": "on", "south": "off"}
