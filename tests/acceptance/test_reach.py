"""Reach: the clocks run from delivery; what waited goes out once, fresh, to the right people."""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.channels.base import InboundMessage
from fikafollow.app import App
from fikafollow.commands import main
from fikafollow.config import load_settings
from store import intake
from store.models import Participant, Programme
from tests.support.dbstate import query
from tests.support.fixed_programmes import HEADER
from tests.support.mail_support import SECRET, SmtpServer
from tests.support.matchfiles import many_matches
from tests.support.recording_channel import RecordingChannel

FIRST_DAY = date(2026, 5, 25)  # three weeks after the fika of 2026-05-04


def tick(day: date, clock: str = "10:05") -> None:
    assert main(["tick", "--now", f"{day.isoformat()}T{clock}+02:00"]) == 0


def test_six_weeks_without_a_channel_then_configured_sends_each_one_fresh_message(
    db_url: str,
    tmp_path: Path,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    path = many_matches(tmp_path / "m.csv", 3, channel="email")
    assert main(["import", str(path), "--now", "2026-05-05T12:00+02:00"]) == 0
    capsys.readouterr()
    # six weeks of daily ticks with no e-mail server: the questions wait, nobody is chased
    for n in range(42):
        tick(FIRST_DAY + timedelta(days=n))
        out = capsys.readouterr().out
        assert "reminded 0, moved to another channel 0, expired 0" in out, (n, out)
        assert "waiting: 6 follow-ups not yet reachable (email 6 not configured)" in out, out
    assert main(["calls"]) == 0
    assert "P0000" not in capsys.readouterr().out, "nobody expired: nobody was asked"
    assert main(["coordinator", "add", "--name", "Lena", "--email", "lena@example.org"]) == 0
    digests = tmp_path / "digests"
    assert main(["digest", "--now", "2026-06-15T10:00+02:00", "--out", str(digests)]) == 0
    texts = [p.read_text(encoding="utf-8") for p in sorted(digests.glob("*.txt"))]
    assert "Ännu inte nåbara: 6, e-post inte inställd" in texts[0]
    assert "Frågade: 0 / 0" in texts[0], "a question still in the outbox is not followed up"
    # a coordinator phoned one of them meanwhile
    call = ["call", "record", "--participant", "P00000", "--match", "M0000", "--met-again", "yes"]
    assert main([*call, "--now", "2026-06-20T11:00+02:00"]) == 0

    monkeypatch.setenv("FIKAFOLLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FIKAFOLLOW_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("FIKAFOLLOW_SMTP_SECURITY", "none")
    monkeypatch.setenv("FIKAFOLLOW_MAIL_FROM", "Fika <fika@example.org>")
    monkeypatch.setenv("FIKAFOLLOW_MAIL_REPLY_TO", "replies@example.org")
    monkeypatch.setenv("FIKAFOLLOW_PUBLIC_URL", "https://fika.example.org")
    monkeypatch.setenv("FIKAFOLLOW_SECRET_KEY", SECRET)
    monkeypatch.setenv("FIKAFOLLOW_RATE_EMAIL", "1000")
    configured = FIRST_DAY + timedelta(days=42)  # 2026-07-06, nine weeks after the fika
    tick(configured)
    out = capsys.readouterr().out
    assert "sent 5," in out and "waiting:" not in out, out
    for clock in ("10:35", "16:00", "23:30"):
        tick(configured, clock)
        assert "sent 0," in capsys.readouterr().out

    received = [
        email.message_from_bytes(raw, policy=email.policy.default)
        for _, _, raw in smtp_server.sink.received
    ]
    per_person = Counter(str(m["To"]) for m in received)
    assert all(n == 1 for n in per_person.values()), per_person
    assert "p0@example.org" not in " ".join(per_person), "phoned: nothing more is sent"
    assert len(per_person) == 5
    for message in received:
        assert message["List-Unsubscribe"], "the unsubscribe header was added when it went out"
        assert str(message["Reply-To"]).startswith("replies+")
        text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert "https://fika.example.org/a/" in text
        assert "Three weeks" not in text and "tre veckor" not in text
    english = next(m for m in received if "p1@example.org" in str(m["To"]))
    assert (
        "9 weeks ago you had fika with"
        in english.get_body(  # type: ignore[union-attr]
            preferencelist=("plain",)
        ).get_content()
    )

    # the clocks started on delivery: the reminder comes reminder-days after it, not at once
    tick(configured + timedelta(days=2))
    assert "reminded 0," in capsys.readouterr().out
    tick(configured + timedelta(days=3))
    assert "reminded 5," in capsys.readouterr().out


FAMILY = HEADER + (
    # two members of one family share a phone; their buddies have their own
    "F1,2026-05-04,family,P1,Hawa,newcomer,so,sms,+46701000001,,woman\n"
    "F1,2026-05-04,family,P2,Karin,established,sv,sms,+46701000002,,woman\n"
    "F2,2026-05-04,family,P3,Abdi,newcomer,so,sms,+46701000001,,man\n"
    "F2,2026-05-04,family,P4,Erik,established,sv,sms,+46701000004,,man\n"
)


async def test_a_stop_from_a_shared_phone_stops_everyone_on_it_and_start_brings_them_back(
    db_url: str, tmp_path: Path
) -> None:
    channel = RecordingChannel("sms")
    settings = load_settings(database_url=db_url, photo_dir=tmp_path, rate_sms=100_000)
    app = App(settings, {"sms": channel})
    zone = ZoneInfo("Europe/Stockholm")

    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 5, day, hour, 5, tzinfo=zone).astimezone(UTC)

    try:
        await app.start()
        programme = await app.programme(None, at(5, 12))
        rows, errors = intake.read_csv(FAMILY.encode(), "SE")
        assert not errors
        async with app.sessions.begin() as session:
            programme = await session.get_one(Programme, programme.id)
            await intake.apply(session, programme, rows, at(5, 12), app.book.days())
        assert (await app.tick(lambda: at(25, 10))).drain.sent == 4
        stop = InboundMessage(channel="sms", provider_id="SM1", sender="+46701000001", text="STOP")
        assert await app.inbound.receive(stop, at(25, 12)) == "opted_out"
        await app.tick(lambda: at(25, 12))
        # four days later the reminders go to the two with phones of their own, not to the family
        await app.tick(lambda: at(29, 10))
        shared = [m for m in channel.sent if m.address == "+46701000001"]
        assert [m.kind for m in shared] == ["question", "question", "opted_out"], "confirmed once"
        reminded = {m.address for m in channel.sent if m.kind == "reminder"}
        assert reminded == {"+46701000002", "+46701000004"}
        async with app.sessions() as session:
            out = await session.scalars(
                select(Participant.external_id).where(Participant.opted_out_at.is_not(None))
            )
            assert sorted(out) == ["P1", "P3"]
        start = InboundMessage(
            channel="sms", provider_id="SM2", sender="+46701000001", text="START"
        )
        assert await app.inbound.receive(start, at(29, 12)) == "opted_in"
        async with app.sessions() as session:
            out = await session.scalars(
                select(Participant.external_id).where(Participant.opted_out_at.is_not(None))
            )
            assert list(out) == []
    finally:
        await app.close()


def test_import_refuses_future_and_old_first_meetings_unless_told_and_names_the_line(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    path = tmp_path / "m.csv"
    path.write_text(
        HEADER
        + "M1,2025-06-01,individual,P1,Sami,newcomer,sv,sms,+46701000001,,man\n"
        + "M1,2025-06-01,individual,P2,Karin,established,sv,sms,+46701000002,,woman\n"
        + "M2,2027-01-10,individual,P3,Erik,established,sv,sms,+46701000003,,man\n"
        + "M2,2027-01-10,individual,P4,Hawa,newcomer,sv,sms,+46701000004,,woman\n",
        encoding="utf-8",
    )
    now = "2026-12-01T12:00+01:00"
    assert main(["import", str(path), "--now", now]) == 1
    err = capsys.readouterr().err
    assert "line 2: matched_on 2025-06-01 is more than 90 days ago" in err
    assert "line 4: matched_on 2027-01-10 is in the future" in err
    # the future stays a mistake even when old meetings are accepted
    assert main(["import", str(path), "--now", now, "--accept-old"]) == 1
    err = capsys.readouterr().err
    assert "2025-06-01" not in err and "line 5: matched_on 2027-01-10 is in the future" in err
    path.write_text("\n".join(path.read_text().splitlines()[:3]) + "\n", encoding="utf-8")
    assert main(["import", str(path), "--now", now, "--max-age-days", "600"]) == 0
    capsys.readouterr()
    # the opening names how long ago the fika really was, not "three weeks"
    assert main(["tick", "--now", "2026-12-02T10:05+01:00"]) == 0
    assert "started 2 follow-ups" in capsys.readouterr().out


def test_a_large_backlog_is_spread_over_days_at_the_daily_cap(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    # its days fall on Sundays and Fridays; the send calendar (on for new programmes) is
    # tested in test_send_calendar.py
    monkeypatch.setenv("FIKAFOLLOW_SEND_CALENDAR", "off")
    assert main(["import", str(many_matches(tmp_path / "a.csv", 5)), "--now", "2026-05-05"]) == 0
    newer = many_matches(tmp_path / "b.csv", 5, matched_on="2026-05-06")
    newer.write_text(newer.read_text().replace("\nM0", "\nN0").replace(",P0", ",Q0"))
    assert main(["import", str(newer), "--now", "2026-05-06"]) == 0
    assert main(["programme", "set", "default", "--daily-cap", "6"]) == 0
    assert main(["programme", "list"]) == 0
    assert "at most 6 a day" in capsys.readouterr().out
    started = []
    for day, clock in ((28, "10:05"), (28, "15:00"), (29, "10:05"), (30, "10:05"), (31, "10:05")):
        assert main(["tick", "--now", f"2026-05-{day}T{clock}+02:00"]) == 0
        out = capsys.readouterr().out
        started.append(int(out.split("started ")[1].split(" ")[0]))
    assert started == [6, 0, 6, 6, 2]
    first_day = query(
        db_url,
        "SELECT DISTINCT m.matched_on FROM followup f JOIN matches m ON m.id = f.match_id "
        "WHERE f.started_at < '2026-05-29'",
    )
    assert [str(d) for (d,) in first_day] == ["2026-05-04"], "the oldest matches first"


def test_a_landline_is_not_for_sms_and_its_owner_is_on_the_call_list_with_the_reason(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    path = tmp_path / "m.csv"
    path.write_text(
        HEADER
        + "M1,2026-05-04,individual,P1,Sami,newcomer,sv,sms,08-123 456 78,,man\n"
        + "M1,2026-05-04,individual,P2,Karin,established,sv,sms,070-100 00 02,,woman\n",
        encoding="utf-8",
    )
    assert main(["import", str(path), "--now", "2026-05-05T12:00+02:00"]) == 0
    out = capsys.readouterr().out
    assert (
        "1 phone number(s) are landlines, not used for SMS (kept for phoning): participant P1"
        in out
    )
    assert main(["tick", "--now", "2026-05-25T10:05+02:00"]) == 0
    assert "(1 unreachable" in capsys.readouterr().out
    assert main(["calls"]) == 0
    calls = capsys.readouterr().out
    assert "Sami\t+46812345678" in calls and "SMS not possible: landline" in calls
    assert "Karin" not in calls
