"""`fikafollow import`: whole files or nothing, idempotent, moving unsent follow-ups."""

from __future__ import annotations

from pathlib import Path

import pytest

from fikafollow.commands import main
from tests.support.dbstate import query, snapshot

HEADER = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
)
GOOD = HEADER + (
    "M1,2026-05-04,individual,P1,Amina,newcomer,ar,telegram,070-123 45 01,,woman\n"
    "M1,2026-05-04,individual,P2,Erik,established,sv,sms,070-123 45 02,erik@example.org,man\n"
    "M2,2026-05-05,family,P3,Dawit,newcomer,ti,email,,dawit@example.org,\n"
    "M2,2026-05-05,family,P4,Karin,established,sv,email,,karin@example.org,woman\n"
    "M3,2026-05-06,individual,P2,Erik,established,sv,sms,070-123 45 02,erik@example.org,man\n"
    "M3,2026-05-06,individual,P5,Leila,newcomer,fa,sms,+46701234505,,woman\n"
)
NOW = "2026-05-10T12:00+02:00"


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    return db_url


def write(tmp_path: Path, text: str, name: str = "matches.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_a_good_file_imports_matches_participants_and_followups(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(write(tmp_path, GOOD)), "--now", NOW]) == 0
    out = capsys.readouterr().out
    assert "3 new and 0 changed matches" in out
    assert "5 new and 0 changed participants" in out
    assert "6 new and 0 moved follow-ups" in out
    phones = {r[0] for r in query(env, "SELECT phone FROM participant WHERE phone IS NOT NULL")}
    assert phones == {"+46701234501", "+46701234502", "+46701234505"}
    due = query(
        env,
        "SELECT f.due_at FROM followup f JOIN matches m ON m.id = f.match_id "
        "WHERE m.external_id = 'M1'",
    )
    # 2026-05-25 10:00 in Stockholm (summer time) is 08:00 UTC
    assert {str(d[0])[:16] for d in due} == {"2026-05-25 08:00"}


def test_a_participant_can_be_in_several_matches(env: str, tmp_path: Path) -> None:
    assert main(["import", str(write(tmp_path, GOOD)), "--now", NOW]) == 0
    rows = query(
        env,
        "SELECT count(*) FROM followup f JOIN participant p ON p.id = f.participant_id "
        "WHERE p.external_id = 'P2'",
    )
    assert rows == [(2,)]


def test_importing_the_same_file_twice_gives_the_same_database(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD)
    assert main(["import", str(path), "--now", NOW]) == 0
    first = snapshot(env)
    assert main(["import", str(path), "--now", "2026-05-11T09:00+02:00"]) == 0
    assert "0 new and 0 changed matches" in capsys.readouterr().out
    assert snapshot(env) == first


def test_a_file_with_a_bom_is_read(env: str, tmp_path: Path) -> None:
    assert main(["import", str(write(tmp_path, GOOD, bom=True)), "--now", NOW]) == 0
    assert query(env, "SELECT count(*) FROM matches") == [(3,)]


def test_bad_rows_import_nothing_and_each_is_named_with_its_line(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = HEADER + (
        "M1,2026-05-04,individual,P1,Amina,newcomer,ar,telegram,070-123 45 01,,woman\n"
        "M1,2026-05-04,individual,P2,Erik,established,sv,sms,12,,man\n"
        "M2,2026-13-05,family,P3,Dawit,newcomer,xx,email,,not-an-address,\n"
        "M2,2026-05-05,group,P4,Karin,boss,sv,pigeon,,karin@example.org,female\n"
        "M3,2026-05-06,individual,P5,,newcomer,fa,sms,,,woman\n"
    )
    before = snapshot(env)
    assert main(["import", str(write(tmp_path, bad)), "--now", NOW]) == 1
    err = capsys.readouterr().err
    assert "nothing was imported" in err
    assert "line 3: phone is not a valid number" in err
    assert "line 4: matched_on '2026-13-05' is not a date" in err
    assert "line 4: language 'xx' is not one of" in err
    assert "line 4: email is not valid" in err
    assert "line 5: kind 'group' is not one of" in err
    assert "line 5: role 'boss'" in err
    assert "line 5: channel 'pigeon'" in err
    assert "line 5: gender 'female'" in err
    assert "line 6: first_name is empty" in err
    assert "line 6: channel is sms but phone is empty" in err
    assert "line 6: match M3 has only one participant" in err
    assert "line 2:" not in err
    # no personal data is echoed: the bad number and address are not repeated
    assert "not-an-address" not in err
    assert snapshot(env) == before


def test_missing_columns_are_named(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "match_id,matched_on\nM1,2026-05-04\n")
    assert main(["import", str(path)]) == 1
    assert "missing columns: kind, participant_id" in capsys.readouterr().err


def test_a_latin1_file_from_swedish_excel_is_imported(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(GOOD.replace("Erik", "Åke").replace(",", ";").encode("latin-1"))
    assert main(["import", str(path), "--now", NOW]) == 0
    assert "6 rows checked" in capsys.readouterr().out
    assert query(env, "SELECT first_name FROM participant WHERE external_id = 'P2'") == [("Åke",)]


def test_conflicting_rows_for_one_match_are_refused(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = HEADER + (
        "M1,2026-05-04,individual,P1,Amina,newcomer,ar,telegram,,amina@example.org,woman\n"
        "M1,2026-05-05,individual,P2,Erik,established,sv,email,,erik@example.org,man\n"
    )
    assert main(["import", str(write(tmp_path, text))]) == 1
    assert "line 3: match M1 has another date or kind at line 2" in capsys.readouterr().err


def test_dry_run_checks_and_writes_nothing(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(write(tmp_path, GOOD)), "--dry-run", "--now", NOW]) == 0
    assert "would change: 3 new" in capsys.readouterr().out
    assert query(env, "SELECT count(*) FROM matches") == [(0,)]


def test_a_changed_date_moves_followups_not_yet_sent(env: str, tmp_path: Path) -> None:
    assert main(["import", str(write(tmp_path, GOOD)), "--now", NOW]) == 0
    # P1's follow-up of M1 was already asked: it must stay where it is
    query(
        env,
        "UPDATE followup SET status = 'active' WHERE participant_id = "
        "(SELECT id FROM participant WHERE external_id = 'P1')",
    )
    moved = GOOD.replace("M1,2026-05-04", "M1,2026-05-11")
    # a day after the new date: a first meeting in the future is refused
    later = "2026-05-12T12:00+02:00"
    assert main(["import", str(write(tmp_path, moved, "moved.csv")), "--now", later]) == 0
    rows = query(
        env,
        "SELECT p.external_id, f.status, f.due_at FROM followup f "
        "JOIN participant p ON p.id = f.participant_id "
        "JOIN matches m ON m.id = f.match_id WHERE m.external_id = 'M1' ORDER BY 1",
    )
    assert [(r[0], r[1], str(r[2])[:16]) for r in rows] == [
        ("P1", "active", "2026-05-25 08:00"),
        ("P2", "scheduled", "2026-06-01 08:00"),
    ]


def test_a_late_import_is_due_at_the_next_allowed_time(env: str, tmp_path: Path) -> None:
    # imported at 22:30 local, long after the due date: the next morning at 09:00, not dropped
    assert main(["import", str(write(tmp_path, GOOD)), "--now", "2026-07-01T22:30+02:00"]) == 0
    due = {str(r[0])[:16] for r in query(env, "SELECT due_at FROM followup")}
    assert due == {"2026-07-02 07:00"}


def test_first_meetings_in_the_future_and_too_long_ago_are_named_in_file_order(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # M1 (lines 2 and 3) is in the future, M2 (lines 4 and 5) more than 90 days before the
    # import; M3 is fine
    dated = GOOD.replace("M1,2026-05-04", "M1,2026-05-11").replace("M2,2026-05-05", "M2,2026-01-05")
    path = write(tmp_path, dated)
    assert main(["import", str(path), "--now", NOW]) == 1
    err = capsys.readouterr().err
    assert "4 problem(s), nothing was imported" in err
    named = [line.split(":")[0].strip() for line in err.splitlines()[1:]]
    assert named == ["line 2", "line 3", "line 4", "line 5"]
    assert query(env, "SELECT count(*) FROM followup")[0][0] == 0
    # --accept-old: the old first meeting is meant, the one in the future is still a mistake
    assert main(["import", str(path), "--now", NOW, "--accept-old"]) == 1
    err = capsys.readouterr().err
    assert [line.split(":")[0].strip() for line in err.splitlines()[1:]] == ["line 2", "line 3"]


def test_the_import_writes_its_instant_in_utc(env: str, tmp_path: Path) -> None:
    # the rows go in by executemany (SQLite) or COPY (PostgreSQL), each column's value made as
    # SQLAlchemy would: the instant read back is the import's, in UTC
    assert main(["import", str(write(tmp_path, GOOD)), "--now", NOW]) == 0
    for table in ("participant", "matches"):
        stamps = {str(r[0])[:16] for r in query(env, f"SELECT created_at FROM {table}")}
        assert stamps == {"2026-05-10 10:00"}, table
    assert {str(r[0]) for r in query(env, "SELECT matched_on FROM matches")} == {
        "2026-05-04",
        "2026-05-05",
        "2026-05-06",
    }
