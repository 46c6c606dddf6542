"""Children's ages in the match file choose a family's activities: through `fikafollow
activities import`, `fikafollow import` and `tick --now`, the thank-you of a family with
children of 3 and 7 suggests the 2-10 activity and not the 13-17 one."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.channels.base import InboundMessage
from fikafollow.app import App
from fikafollow.commands import main
from fikafollow.config import load_settings
from store.models import OutboxMessage, Participant
from tests.support.dbstate import query

ACTIVITIES = """name,for,ages,when,where,price,languages,link
Familjelördag,family,2-10,lördagar 10,Biblioteket,gratis,,
Tonårshäng,family,13-17,fredagar 18,Ungdomens hus,gratis,,
Stickcafé,individual,,måndagar,Träffpunkten,20 kr,,
"""
# the family's ages on the newcomer's row, in Swedish Excel's way ("3;7" in a comma file);
# a second family gives none (every family activity fits it); an individual match's ages are
# ignored
HEADER = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender,"
    "barnens åldrar\n"
)
MATCHES = (
    HEADER
    + """F1,2026-05-04,family,P1,Amal,newcomer,en,sms,+46701750001,,woman,3;7
F1,2026-05-04,family,P2,Lars,established,sv,sms,+46701750002,,man,
F2,2026-05-04,family,P3,Hodan,newcomer,en,sms,+46701750003,,woman,
F2,2026-05-04,family,P4,Eva,established,sv,sms,+46701750004,,woman,
I1,2026-05-04,individual,P5,Sara,newcomer,en,sms,+46701750005,,woman,15
I1,2026-05-04,individual,P6,Maja,established,sv,sms,+46701750006,,woman,
"""
)
IMPORTED = "2026-05-05T12:00+02:00"
ASKED = "2026-05-25T10:05+02:00"


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    return db_url


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def answer_and_read_thanks(db_url: str, tmp_path: Path) -> dict[str, str]:
    """The established partners answer yes, yes, no (no greeting); their thank-yous by id."""
    app = App(load_settings(database_url=db_url, photo_dir=tmp_path / "photos"))
    await app.start()
    try:
        serial = 0
        for phone in ("+46701750002", "+46701750004", "+46701750006"):
            for text in ("ja", "ja", "nej"):
                serial += 1
                message = InboundMessage(
                    channel="sms", provider_id=f"SM{serial}", sender=phone, text=text
                )
                await app.inbound.receive(message, datetime.fromisoformat(ASKED))
        async with app.sessions() as session:
            found = await session.execute(
                select(Participant.external_id, OutboxMessage.payload)
                .join(Participant, Participant.id == OutboxMessage.participant_id)
                .where(OutboxMessage.kind == "thanks")
            )
            return {external_id: str(payload["text"]) for external_id, payload in found}
    finally:
        await app.close()


def test_a_family_with_children_of_3_and_7_gets_the_2_to_10_activity(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["activities", "import", str(write(tmp_path / "a.csv", ACTIVITIES))]) == 0
    assert main(["import", str(write(tmp_path / "m.csv", MATCHES)), "--now", IMPORTED]) == 0
    assert main(["tick", "--now", ASKED]) == 0
    capsys.readouterr()
    thanks = asyncio.run(answer_and_read_thanks(env, tmp_path))
    assert "Familjelördag" in thanks["P2"] and "Tonårshäng" not in thanks["P2"]
    assert "Familjelördag" in thanks["P4"] and "Tonårshäng" in thanks["P4"]
    assert "Stickcafé" in thanks["P6"] and "Familjelördag" not in thanks["P6"]


def test_bad_children_ages_are_row_errors_naming_the_line_and_nothing_is_written(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, *rows = MATCHES.replace("barnens åldrar", "children_ages").splitlines()
    rows[0] = rows[0].replace("3;7", "3;sju")
    rows[3] += "41"
    path = write(tmp_path / "bad.csv", "\n".join([header, *rows]) + "\n")
    assert main(["import", str(path), "--now", IMPORTED]) == 1
    err = capsys.readouterr().err
    assert "line 2: children_ages must be whole years from 0 to 17" in err
    assert "line 5: children_ages must be whole years from 0 to 17" in err
    assert "sju" not in err  # a file's values are not echoed back
    assert query(env, "SELECT count(*) FROM participant") == [(0,)]


def test_a_file_without_the_column_keeps_the_stored_ages_and_an_empty_cell_clears_them(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the streamed command-line import and its batched writer (COPY on PostgreSQL)
    ages = "SELECT external_id, children_ages FROM participant WHERE external_id IN ('P1', 'P3')"
    assert main(["import", str(write(tmp_path / "m.csv", MATCHES)), "--now", IMPORTED]) == 0
    assert sorted(query(env, ages)) == [("P1", "3,7"), ("P3", "")]
    without = "\n".join(line.rsplit(",", 1)[0] for line in MATCHES.splitlines()) + "\n"
    capsys.readouterr()
    assert main(["import", str(write(tmp_path / "no_ages.csv", without)), "--now", IMPORTED]) == 0
    assert "0 new and 0 changed participants" in capsys.readouterr().out
    assert sorted(query(env, ages)) == [("P1", "3,7"), ("P3", "")]
    cleared = MATCHES.replace(",3;7\n", ",\n")
    assert main(["import", str(write(tmp_path / "cleared.csv", cleared)), "--now", IMPORTED]) == 0
    assert "0 new and 1 changed participants" in capsys.readouterr().out
    assert sorted(query(env, ages)) == [("P1", ""), ("P3", "")]
