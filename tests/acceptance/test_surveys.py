"""Surveys as a programme's choice: the three-month evaluation turned on for matches already
imported, through the command line; phone answers to any question; export and report."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from fikafollow.commands import main
from messages.languages import codes
from messages.render import default_catalogue
from tests.support.dbstate import query

HEADER = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender"
)
MATCHED_ON = "2026-03-02"
IMPORTED = "2026-03-03T12:00+01:00"
DAY_89 = "2026-05-30T10:30+02:00"
DAY_90 = "2026-05-31T10:05+02:00"


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    # its days fall on Sundays and Fridays; the send calendar (on for new programmes) is
    # tested in test_send_calendar.py
    monkeypatch.setenv("FIKAFOLLOW_SEND_CALENDAR", "off")
    return db_url


def one_match_per_language(path: Path) -> Path:
    """A match for each language: a newcomer in it by SMS and an established partner by e-mail."""
    lines = [HEADER]
    for i, language in enumerate(codes()):
        lines.append(
            f"M{i},{MATCHED_ON},individual,N{i},Nour{i},newcomer,{language},sms,"
            f"+4670100{i:04d},,woman"
        )
        lines.append(
            f"M{i},{MATCHED_ON},individual,E{i},Erik{i},established,sv,email,,e{i}@example.org,man"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def questions_sent(url: str, survey: str) -> list[tuple[str, str, str]]:
    """(participant, language, text) of each question of `survey` written to the outbox."""
    rows = query(
        url,
        "SELECT p.external_id, o.language, o.payload FROM outbox o "
        "JOIN followup f ON f.id = o.followup_id JOIN participant p ON p.id = o.participant_id "
        "WHERE o.kind = 'question' AND f.survey = :survey ORDER BY p.external_id",
        survey=survey,
    )
    found = []
    for participant, language, payload in rows:
        data: dict[str, Any] = json.loads(payload) if isinstance(payload, str) else payload
        found.append((participant, language, str(data["text"])))
    return found


def test_the_three_month_survey_reaches_existing_matches_at_day_90_in_every_language(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(one_match_per_language(tmp_path / "m.csv")), "--now", IMPORTED]) == 0
    people = 2 * len(codes())
    assert (
        main(
            [
                "programme",
                "set",
                "default",
                "--surveys",
                "three_weeks,three_months",
                "--now",
                IMPORTED,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"{people} follow-up(s) scheduled for existing matches" in out
    assert main(["programme", "list"]) == 0
    assert "surveys three_weeks,three_months" in capsys.readouterr().out
    # turning it on twice schedules nothing more
    assert (
        main(
            [
                "programme",
                "set",
                "default",
                "--surveys",
                "three_weeks,three_months",
                "--now",
                IMPORTED,
            ]
        )
        == 0
    )
    assert "0 follow-up(s) scheduled" in capsys.readouterr().out

    assert main(["tick", "--now", "2026-03-23T10:30+01:00"]) == 0
    assert len(questions_sent(env, "three_weeks")) == people
    assert main(["tick", "--now", DAY_89]) == 0
    assert questions_sent(env, "three_months") == []
    assert main(["tick", "--now", DAY_90]) == 0
    sent = questions_sent(env, "three_months")
    assert len(sent) == people
    catalogue = default_catalogue()
    seen_languages = set()
    for participant, language, text in sent:
        i = participant[1:]
        partner = f"Erik{i}" if participant.startswith("N") else f"Nour{i}"
        opening = catalogue.gettext(language, "intro.three_months", partner=partner)
        assert opening in text, (language, text)
        assert all(
            catalogue.gettext(language, "intro.first_fika", partner=partner, weeks=weeks)
            not in text
            for weeks in range(3, 20)
        )
        assert catalogue.gettext(language, "question.met_once_more") in text
        seen_languages.add(language)
    assert seen_languages == set(codes())
    # the three-week questions were not asked again
    assert len(questions_sent(env, "three_weeks")) == people


def test_phone_answers_to_any_question_reach_the_export_and_the_report(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(one_match_per_language(tmp_path / "m.csv")), "--now", IMPORTED]) == 0
    assert (
        main(
            [
                "programme",
                "set",
                "default",
                "--surveys",
                "three_weeks,three_months",
                "--now",
                IMPORTED,
            ]
        )
        == 0
    )
    assert main(["tick", "--now", "2026-03-23T10:30+01:00"]) == 0
    assert main(["tick", "--now", DAY_90]) == 0
    record = ["call", "record", "--participant", "N0", "--match", "M0", "--now", DAY_90]
    given = [
        "met_once_more=yes",
        "practised_swedish=a_little",
        "understand_sweden=yes",
        "job_or_internship=yes",
        "activities_outside=no",
        "new_people=yes",
    ]
    assert main([*record, *(x for a in given for x in ("--answer", a))]) == 0
    assert "6 answer(s) recorded" in capsys.readouterr().out
    assert main([*record[:3], "E0", "--match", "M0", "--answer", "practised_swedish=yes"]) == 0
    # both surveys at once: each answer goes to its own survey's follow-up
    assert main([*record[:3], "N1", "--match", "M1", "--met-again", "no",
                 "--answer", "met_once_more=no"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main([*record, "--answer", "practised_swedish=lots"]) == 2
    assert "not one of yes, a_little, no" in capsys.readouterr().err
    assert main([*record, "--answer", "shoe_size=42"]) == 2
    assert "no survey asks 'shoe_size'" in capsys.readouterr().err
    assert main([*record, "--answer", "met_once_more"]) == 2
    assert "QUESTION=VALUE" in capsys.readouterr().err

    # the call answered the whole evaluation: that follow-up is done
    statuses = dict(
        query(
            env,
            "SELECT p.external_id || '/' || f.survey, f.status FROM followup f "
            "JOIN participant p ON p.id = f.participant_id WHERE p.external_id IN ('N0', 'N1')",
        )
    )
    assert statuses["N0/three_months"] == "done"
    assert statuses["N1/three_weeks"] != "scheduled"

    out = tmp_path / "answers.csv"
    assert main(["export", "answers", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    exported = {(r["participant_id"], r["question"], r["answer"]) for r in rows}
    assert ("N0", "practised_swedish", "a_little") in exported
    assert ("E0", "practised_swedish", "yes") in exported
    assert ("N1", "met_again", "no") in exported and ("N1", "met_once_more", "no") in exported

    capsys.readouterr()
    assert main(["report", "--from", "2026-03-01", "--to", "2026-03-31", "--language", "en"]) == 0
    report = capsys.readouterr().out
    section = report.split("Answers by question\n", 1)[1].split("\n\n", 1)[0]
    lines = list(csv.reader(io.StringIO(section)))
    assert lines[0] == ["survey", "question", "answer", "count", "% of answers", "% of asked"]
    by_key = {(r[0], r[1], r[2]): r[3:] for r in lines[1:]}
    people = 2 * len(codes())
    # hand counts: practised_swedish: N0 a_little, E0 yes. No channel is configured, so only the
    # three people phoned were asked at three months; the others are waiting, not asked (#10).
    # Surveys, questions and answers read in words, not as their keys
    months, weeks = "after three months", "after three weeks"
    assert by_key[(months, "Practised Swedish", "A little")] == ["1", "50", "33"]
    assert by_key[(months, "Met at least once more", "Yes")] == ["1", "50", "33"]
    assert by_key[(months, "Met at least once more", "No")] == ["1", "50", "33"]
    assert by_key[(weeks, "Met again", "No")] == ["1", "100", "100"]
    # the follow-up rows count the three-week follow-ups only, one per person, and only those
    # actually asked: with no channel configured that is N1, phoned (the rest are waiting)
    every = list(csv.reader(io.StringIO(report)))
    followed = every[every.index(["Follow-up, all"]) + 2]
    assert followed[0] == "1" and people == 14


def test_a_survey_turned_off_withdraws_what_has_not_started(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(one_match_per_language(tmp_path / "m.csv")), "--now", IMPORTED]) == 0
    assert (
        main(
            [
                "programme",
                "set",
                "default",
                "--surveys",
                "three_weeks,three_months",
                "--now",
                IMPORTED,
            ]
        )
        == 0
    )
    assert main(["tick", "--now", "2026-03-23T10:30+01:00"]) == 0
    capsys.readouterr()
    assert (
        main(["programme", "set", "default", "--surveys", "three_months", "--now", IMPORTED]) == 0
    )
    # the three-week follow-ups already asking go on; nothing was left to withdraw
    assert "0 not yet started withdrawn" in capsys.readouterr().out
    assert main(["programme", "set", "default", "--surveys", "three_weeks", "--now", IMPORTED]) == 0
    assert f"{2 * len(codes())} not yet started withdrawn" in capsys.readouterr().out
    assert main(["tick", "--now", DAY_90]) == 0
    assert questions_sent(env, "three_months") == []
    assert main(["programme", "set", "default", "--surveys", "three_weeks,nine_months"]) == 2
    assert "unknown survey nine_months" in capsys.readouterr().err
