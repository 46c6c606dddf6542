"""Nothing said is lost: notes, late replies, and a coordinator turning a note into an answer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.channels.base import InboundMessage
from fikafollow.app import App
from fikafollow.commands import main
from fikafollow.config import load_settings
from store import intake
from store.models import Answer, FollowUp, Note, OutboxMessage, Participant, Programme
from tests.support.fixed_programmes import HEADER
from tests.support.recording_channel import RecordingChannel

ZONE = ZoneInfo("Europe/Stockholm")
MATCHES = HEADER + (
    "M1,2026-05-04,individual,P1,Sami,newcomer,ar,sms,+46701000001,,man\n"
    "M1,2026-05-04,individual,P2,Karin,established,sv,sms,+46701000002,,woman\n"
    "M2,2026-05-04,individual,P3,Erik,established,en,sms,+46701000003,,man\n"
    "M2,2026-05-04,individual,P4,Amina,newcomer,ar,sms,+46701000004,,woman\n"
)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 5, day, hour, 5, tzinfo=ZONE).astimezone(UTC)


def sms(sender: str, n: int, text: str) -> InboundMessage:
    return InboundMessage(channel="sms", provider_id=f"SM{n}", sender=sender, text=text)


LATE_WORDS = "The coffee was lovely and the cake too. " * 8


async def replies_before_and_after_expiry(db_url: str, tmp_path: Path) -> None:
    """Four are asked; one writes what the parser cannot read, a stranger texts, all four
    expire, one answers late, one writes words after expiry that answer nothing."""
    channel = RecordingChannel("sms")
    settings = load_settings(database_url=db_url, photo_dir=tmp_path, rate_sms=100_000)
    app = App(settings, {"sms": channel})
    try:
        await app.start()
        programme = await app.programme(None, at(5, 12))
        rows, errors = intake.read_csv(MATCHES.encode(), "SE")
        assert not errors
        async with app.sessions.begin() as session:
            programme = await session.get_one(Programme, programme.id)
            programme.expire_days = 3
            await intake.apply(session, programme, rows, at(5, 12), app.book.days())
        assert (await app.tick(lambda: at(25, 10))).drain.sent == 4
        # Sami writes something the parser cannot read; a stranger texts the number
        outcome = await app.inbound.receive(sms("+46701000001", 1, "vem är det här?"), at(25, 11))
        assert outcome in ("reprompted", "not_understood")
        assert await app.inbound.receive(sms("+46709999999", 2, "hej?"), at(25, 11)) == (
            "unknown_sender"
        )
        # three days later all four expire, none answered
        assert (await app.tick(lambda: at(28, 11))).chase.expired == 4
        # Karin answers late: recorded, marked late, thanked, off the call list
        outcome = await app.inbound.receive(sms("+46701000002", 3, "ja"), at(29, 12))
        assert outcome == "late_answer"
        # Erik writes words after expiry that answer nothing: a note
        outcome = await app.inbound.receive(sms("+46701000003", 4, LATE_WORDS), at(29, 12))
        assert outcome == "no_open_followup"
        await app.tick(lambda: at(29, 12))
        async with app.sessions() as session:
            karin = await session.scalar(select(Participant).where(Participant.external_id == "P2"))
            assert karin is not None
            answer = await session.scalar(
                select(Answer).join(FollowUp).where(FollowUp.participant_id == karin.id)
            )
            assert answer is not None and answer.value == "yes" and answer.late
            thanks = await session.scalar(
                select(OutboxMessage).where(
                    OutboxMessage.participant_id == karin.id, OutboxMessage.kind == "thanks"
                )
            )
            assert thanks is not None and thanks.status == "sent"
            kept = (await session.scalars(select(Note).order_by(Note.id))).all()
            assert [(n.reason, n.programme_id is not None) for n in kept] == [
                (kept[0].reason, True),
                ("unknown_sender", False),
                ("no_open_followup", True),
            ]
    finally:
        await app.close()


def test_words_that_became_no_answer_are_kept_and_a_late_reply_counts(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(replies_before_and_after_expiry(db_url, tmp_path))
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    assert main(["calls"]) == 0
    calls = capsys.readouterr().out
    assert "Karin" not in calls and "Erik" in calls and "Sami" in calls
    assert main(["notes", "--unread", "--programme", "default"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2, "the stranger's words belong to no programme"
    assert "vem är det här?" in listed[1] and "Sami (participant P1, ar)" in listed[1]
    erik_note = listed[0].split("\t")[0]
    assert "The coffee was lovely" in listed[0]
    # with no programme named, the strangers' words are listed too: their text, and of their
    # number only its last digits
    assert main(["notes", "--unread"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 3
    stranger = listed[1].split("\t")
    assert stranger[2:] == ["unknown sender …999", "sms", "unknown_sender", "unread", "hej?"]
    assert "+46709999999" not in "\n".join(listed)
    assert main(["notes", "resolve", stranger[0], "--answer", "met_again=yes"]) == 2
    assert "is from an unknown sender" in capsys.readouterr().err

    assert main(["digest", "--now", "2026-06-01T10:00+02:00", "--out", str(tmp_path)]) == 0
    # no coordinator yet: add one and write again
    assert main(["coordinator", "add", "--name", "Lena", "--email", "lena@example.org"]) == 0
    assert main(["digest", "--now", "2026-06-01T10:00+02:00", "--out", str(tmp_path)]) == 0
    digest = next(tmp_path.glob("digest-*.txt")).read_text(encoding="utf-8")
    words = digest.split("== Ord att läsa")[1].split("==")[0]
    assert f'"{LATE_WORDS[:200]}…"' in words and "vem är det här?" in words
    # the stranger is counted, never quoted: neither their words nor their number's end
    assert "Från avsändare vi inte känner: 1" in words
    html = next(tmp_path.glob("digest-*.html")).read_text(encoding="utf-8")
    for mail in (digest, html):
        assert "hej?" not in mail and "…999" not in mail
    # with the service's public address, the count links to the notes page's strangers
    monkeypatch.setenv("FIKAFOLLOW_PUBLIC_URL", "https://fika.example.org")
    monkeypatch.setenv("FIKAFOLLOW_SECRET_KEY", "k" * 32)
    linked = tmp_path / "linked"
    assert main(["digest", "--now", "2026-06-01T10:00+02:00", "--out", str(linked)]) == 0
    text = next(linked.glob("digest-*.txt")).read_text(encoding="utf-8")
    assert (
        "Från avsändare vi inte känner: 1 — Läs dem i webben: "
        "https://fika.example.org/coordinator/notes?programme=default#unknown"
    ) in text
    html = next(linked.glob("digest-*.html")).read_text(encoding="utf-8")
    assert 'href="https://fika.example.org/coordinator/notes?programme=default#unknown"' in html
    monkeypatch.delenv("FIKAFOLLOW_PUBLIC_URL")
    monkeypatch.delenv("FIKAFOLLOW_SECRET_KEY")

    resolve = ["notes", "resolve", erik_note, "--answer", "met_again=yes"]
    assert main([*resolve, "--answer", "will_meet_again=perhaps"]) == 2
    assert "will_meet_again: 'perhaps' is not one of maybe, no, yes" in capsys.readouterr().err
    assert main([*resolve, "--answer", "will_meet_again=yes"]) == 0
    capsys.readouterr()
    assert main(["calls"]) == 0
    assert "Erik" not in capsys.readouterr().out
    assert main(["notes", "--unread"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["notes"]) == 0
    assert "resolved met_again=yes,will_meet_again=yes" in capsys.readouterr().out
