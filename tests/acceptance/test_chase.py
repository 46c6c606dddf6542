"""Nobody falls through: reminders, the channel ladder, expiry onto the call list, phone answers."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections import defaultdict
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
from store.calls import by_language, call_list
from store.models import FollowUp, OutboxMessage, Participant, Programme
from tests.support.dbstate import query
from tests.support.fixed_programmes import HEADER
from tests.support.mail_support import SmtpServer
from tests.support.matchfiles import many_matches
from tests.support.recording_channel import RecordingChannel

ZONE = ZoneInfo("Europe/Stockholm")
MATCHES = 200
REMINDER_DAYS, LADDER_DAYS, EXPIRE_DAYS = 2, 3, 9


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def schedule() -> list[datetime]:
    """Five weeks of ticks: two in quiet hours (20:00-09:00) and one by day whose hour moves,
    so a reminder that falls due in the evening has to wait for the next morning's tick."""
    ticks = []
    start = date(2026, 5, 22)
    for n in range(35):
        day = start + timedelta(days=n)
        ticks += [local(day, 8), local(day, 11 if n % 2 else 16), local(day, 21, 30)]
    return ticks


def is_quiet(instant: datetime) -> bool:
    hour = instant.astimezone(ZONE).hour
    return hour >= 20 or hour < 9


def first_tick_from(ticks: list[datetime], due: datetime) -> datetime:
    return next(t for t in ticks if t >= due and not is_quiet(t))


def script(n: int) -> str:
    """What participant number n does: answer at once, after the reminder (only the first
    question: a partial answer), after the question on the next channel, never, or say stop."""
    if n % 40 == 3:
        return "stop"
    return ("at_once", "after_reminder", "after_ladder", "never")[n % 4]


@pytest.mark.slow
async def test_five_weeks_chase_each_as_configured_and_call_the_silent(
    db_url: str, tmp_path: Path
) -> None:
    channels = {"sms": RecordingChannel("sms"), "email": RecordingChannel("email")}
    # the token buckets pace in real time; this test is about days, not seconds
    settings = load_settings(
        database_url=db_url, photo_dir=tmp_path, rate_sms=100_000, rate_email=100_000
    )
    app = App(settings, channels)
    ticks = schedule()
    imported = local(date(2026, 5, 5), 12)
    try:
        await app.start()
        programme = await app.programme(None, imported)
        rows, errors = intake.read_csv(many_matches(tmp_path / "m.csv", MATCHES).read_bytes(), "SE")
        assert not errors
        async with app.sessions.begin() as session:
            programme = await session.get_one(Programme, programme.id)
            programme.reminder_days = REMINDER_DAYS
            programme.ladder_days = LADDER_DAYS
            programme.expire_days = EXPIRE_DAYS
            await intake.apply(session, programme, rows, imported, app.book.days())
        async with app.sessions() as session:
            people = {p.id: p for p in (await session.scalars(select(Participant))).all()}
        number = {pid: int(p.external_id[1:]) for pid, p in people.items()}
        replied: set[int] = set()
        for now in ticks:
            result = await app.tick(lambda now=now: now)  # type: ignore[misc]
            assert not (is_quiet(now) and (result.chase.reminded or result.chase.moved))
            await reply_as_scripted(app, now, number, replied)
        async with app.sessions() as session:
            out = (
                await session.scalars(
                    select(OutboxMessage).order_by(OutboxMessage.participant_id, OutboxMessage.id)
                )
            ).all()
            followups = {
                f.participant_id: f for f in (await session.scalars(select(FollowUp))).all()
            }
            calls = await call_list(session, programme.id, ["met_again", "will_meet_again"])
    finally:
        await app.close()

    asked: dict[int, list[OutboxMessage]] = defaultdict(list)
    for message in out:
        if message.kind in ("question", "reminder") and message.question == "met_again":
            asked[message.participant_id].append(message)
    first = first_tick_from(ticks, local(date(2026, 5, 25), 10))
    reminder = first_tick_from(ticks, first + timedelta(days=REMINDER_DAYS))
    ladder = first_tick_from(ticks, reminder + timedelta(days=LADDER_DAYS))
    # the reminder falls due at 16:00 after a 16:00 question but the next day tick is at 11:00
    assert reminder.astimezone(ZONE).hour == 11
    preferred = {pid: p.channel for pid, p in people.items()}
    other = {pid: "email" if p.channel == "sms" else "sms" for pid, p in people.items()}
    for pid, n in number.items():
        what = script(n)
        got = [(m.kind, m.channel, m.created_at) for m in asked[pid]]
        expected = [("question", preferred[pid], first)]
        if what in ("after_reminder", "after_ladder", "never"):
            expected.append(("reminder", preferred[pid], reminder))
        if what in ("after_ladder", "never"):
            expected.append(("question", other[pid], ladder))
        assert got == expected, (n, what)
        days = [m.created_at.astimezone(ZONE).date() for m in asked[pid]]
        assert len(days) == len(set(days)), "never twice the same local day"
        assert not any(is_quiet(m.created_at) for m in asked[pid])
        status = followups[pid].status
        if what == "never":
            assert status == "expired"
            # expiring sends nothing, so quiet hours do not hold it back
            expiry = next(t for t in ticks if t >= first + timedelta(days=EXPIRE_DAYS))
            assert followups[pid].finished_at == expiry
        elif what == "stop":
            assert status == "opted_out"
        else:
            assert status in ("active", "done")

    silent = {pid for pid, n in number.items() if script(n) == "never"}
    assert len(silent) == 90
    assert {c.participant_id for c in calls} == {people[pid].external_id for pid in silent}
    grouped = by_language(calls)
    for language, group in grouped.items():
        assert {c.language for c in group} == {language}
        assert len(group) == sum(1 for pid in silent if people[pid].language == language)
    assert all(c.unanswered == ("met_again", "will_meet_again") for c in calls)
    assert set(grouped) == {"sv", "en", "ar", "ti", "fa"}


async def reply_as_scripted(
    app: App, now: datetime, number: dict[int, int], replied: set[int]
) -> None:
    async with app.sessions.begin() as session:
        rows = (
            await session.execute(
                select(
                    OutboxMessage.participant_id,
                    OutboxMessage.kind,
                    OutboxMessage.channel,
                    OutboxMessage.address,
                )
                .where(
                    OutboxMessage.kind.in_(("question", "reminder")),
                    OutboxMessage.question == "met_again",
                )
                .order_by(OutboxMessage.id)
            )
        ).all()
        seen: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
        for pid, kind, channel, address in rows:
            seen[pid].append((kind, channel, address))
        for pid, messages in seen.items():
            if pid in replied:
                continue
            what = script(number[pid])
            kinds = [k for k, _, _ in messages]
            ready = {
                "at_once": len(kinds) >= 1,
                "stop": len(kinds) >= 1,
                "after_reminder": "reminder" in kinds,
                "after_ladder": kinds.count("question") >= 2,
                "never": False,
            }[what]
            if not ready:
                continue
            replied.add(pid)
            _, channel, address = messages[-1]
            reply = InboundMessage(
                channel=channel,
                provider_id=f"r{pid}",
                sender=address,
                text="STOP" if what == "stop" else "",
                button_value=None if what == "stop" else "met_again=yes",
            )
            outcome = await app.conversation.receive(session, reply, now)
            assert outcome in ("answered", "opted_out"), outcome


def test_calls_and_call_record_through_the_command_line(
    db_url: str,
    tmp_path: Path,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    # the clocks run from delivery: the channel must be there for anyone to be chased
    monkeypatch.setenv("FIKAFOLLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FIKAFOLLOW_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("FIKAFOLLOW_SMTP_SECURITY", "none")
    monkeypatch.setenv("FIKAFOLLOW_MAIL_FROM", "fika@example.org")
    path = many_matches(tmp_path / "m.csv", 3, channel="email")
    assert main(["import", str(path), "--now", "2026-05-05T12:00+02:00"]) == 0
    assert main(["programme", "set", "default", "--expire-days", "4"]) == 0
    assert main(["tick", "--now", "2026-05-25T10:05+02:00"]) == 0
    assert main(["tick", "--now", "2026-05-28T10:05+02:00"]) == 0
    out = capsys.readouterr().out
    assert "reminded 6," in out and "expired 0" in out
    assert main(["tick", "--now", "2026-05-29T10:05+02:00"]) == 0
    assert "expired 6" in capsys.readouterr().out
    assert main(["calls"]) == 0
    text = capsys.readouterr().out
    assert "== ar (1)" in text and "== sv (2)" in text
    assert "Person0\t+46701000000\tparticipant P00000\tmatch M0000" in text
    assert main(["calls", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "language,first_name,phone,participant_id,match_id,unanswered"
    assert len(lines) == 7
    # a phone number starts with + : neutralised like any formula-looking cell
    assert "'+46701000001" in lines[1] or "'+46701" in lines[1]
    assert (
        main(
            [
                "call",
                "record",
                "--participant",
                "P00000",
                "--match",
                "M0000",
                "--met-again",
                "yes",
                "--will-meet-again",
                "maybe",
                "--note",
                "=1+1 they met at the library",
                "--now",
                "2026-05-30T11:00+02:00",
            ]
        )
        == 0
    )
    assert (
        main(
            ["call", "record", "--participant", "P00000", "--match", "M0001", "--met-again", "yes"]
        )
        == 2
    )
    assert "no follow-up of participant P00000 in match M0001" in capsys.readouterr().err
    assert main(["calls"]) == 0
    assert "P00000" not in capsys.readouterr().out
    out_file = tmp_path / "answers.csv"
    assert main(["export", "answers", "--out", str(out_file)]) == 0
    exported = out_file.read_text(encoding="utf-8").splitlines()
    assert exported[1].startswith("M0000,P00000,sv,phone,met_again,yes,")
    assert exported[2].startswith("M0000,P00000,sv,phone,will_meet_again,maybe,")


def test_programme_chase_settings_and_coordinators_through_the_command_line(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    assert (
        main(
            [
                "programme",
                "set",
                "north",
                "--name",
                "Fika Norr",
                "--reminder-days",
                "4",
                "--ladder-days",
                "2",
                "--expire-days",
                "12",
                "--target-individual",
                "15",
                "--target-family",
                "35",
                "--target-women-percent",
                "60",
            ]
        )
        == 0
    )
    assert main(["programme", "list"]) == 0
    listed = capsys.readouterr().out
    assert "remind 4d, next channel 2d later, expire 12d" in listed
    assert "targets 15 individual, 35 family, 60% women" in listed
    assert main(["programme", "set", "north", "--expire-days", "0"]) == 2
    assert main(["programme", "set", "north", "--target-women-percent", "101"]) == 2
    err = capsys.readouterr().err
    assert "--expire-days must be between 1" in err and "--target-women-percent" in err
    add = [
        "coordinator",
        "add",
        "--programme",
        "north",
        "--name",
        "Lena",
        "--email",
        "lena@example.org",
        "--language",
        "en",
        "--timezone",
        "Europe/London",
    ]
    assert main(add) == 0
    assert main([*add[:-1], "Mars/Olympus"]) == 2
    assert "unknown time zone" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["coordinator", "add", "--name", "X", "--email", "x@example.org", "--language", "ar"])
    assert "invalid choice: 'ar'" in capsys.readouterr().err
    assert main(["coordinator", "list", "--programme", "north"]) == 0
    assert capsys.readouterr().out == (
        "north\tLena\tlena@example.org\ten\tEurope/London\tdigest weekday 1 at 09:00\n"
    )
    assert (
        main(["coordinator", "remove", "--programme", "north", "--email", "lena@example.org"]) == 0
    )
    assert (
        main(["coordinator", "remove", "--programme", "north", "--email", "lena@example.org"]) == 2
    )
    assert main(["coordinator", "list"]) == 0
    assert "lena" not in capsys.readouterr().out


@pytest.mark.slow
def test_two_tick_processes_at_once_on_postgres_remind_each_once(
    postgres_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    path = many_matches(tmp_path / "m.csv", 150, channel="email")
    # the clocks run from delivery: the questions must go out for reminders to fall due
    environ = {
        **os.environ,
        "FIKAFOLLOW_DATABASE_URL": postgres_url,
        "FIKAFOLLOW_SMTP_HOST": "127.0.0.1",
        "FIKAFOLLOW_SMTP_PORT": str(smtp_server.port),
        "FIKAFOLLOW_SMTP_SECURITY": "none",
        "FIKAFOLLOW_MAIL_FROM": "fika@example.org",
        "FIKAFOLLOW_RATE_EMAIL": "100000",
    }
    command = [sys.executable, "-m", "fikafollow"]
    run = functools.partial(subprocess.run, env=environ, check=True, stdout=subprocess.DEVNULL)
    run([*command, "import", str(path), "--now", "2026-05-05T12:00+02:00"])
    run([*command, "tick", "--now", "2026-05-25T10:05+02:00"])
    ticks = [
        subprocess.Popen(
            [*command, "tick", "--now", "2026-05-28T10:05+02:00"],
            env=environ,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [t.communicate(timeout=120)[0] for t in ticks]
    assert all(t.returncode == 0 for t in ticks)
    reminded = [int(o.split("reminded ")[1].split(",")[0]) for o in outputs]
    assert sum(reminded) == 300
    counts = query(
        postgres_url,
        "SELECT count(o.id) FROM followup f LEFT JOIN outbox o "
        "ON o.followup_id = f.id AND o.kind = 'reminder' GROUP BY f.id",
    )
    assert sorted(n for (n,) in counts) == [1] * 300


async def test_ladder_skips_dead_channels_and_waits_when_there_is_no_other(
    db_url: str, tmp_path: Path
) -> None:
    data = HEADER + (
        # SMS only: nothing to move to, the follow-up simply expires
        "M1,2026-05-04,individual,P1,Sami,newcomer,ar,sms,+46701000001,,man\n"
        # e-mail known but dead (it bounced for good): skipped, as if there were none
        "M1,2026-05-04,individual,P2,Eva,established,sv,sms,+46701000002,eva@example.org,woman\n"
        # e-mail known and alive: the question moves there
        "M2,2026-05-04,individual,P3,Omar,newcomer,ar,sms,+46701000003,omar@example.org,man\n"
        "M2,2026-05-04,individual,P4,Nils,established,sv,sms,+46701000004,,man\n"
    )
    channels = {"sms": RecordingChannel("sms"), "email": RecordingChannel("email")}
    # its days fall on Sundays; the send calendar (on for new programmes) is
    # tested in test_send_calendar.py
    app = App(load_settings(database_url=db_url, photo_dir=tmp_path, send_calendar=False), channels)
    try:
        await app.start()
        programme = await app.programme(None, local(date(2026, 5, 5), 12))
        rows, errors = intake.read_csv(data.encode(), "SE")
        assert not errors
        async with app.sessions.begin() as session:
            programme = await session.get_one(Programme, programme.id)
            await intake.apply(
                session, programme, rows, local(date(2026, 5, 5), 12), app.book.days()
            )
            eva = await session.scalar(select(Participant).where(Participant.first_name == "Eva"))
            assert eva is not None
            eva.dead_channels = "email"
        results = []
        for day in (25, 28, 31):
            now = local(date(2026, 5, day), 10, 30)
            results.append((await app.tick(lambda now=now: now)).chase)  # type: ignore[misc]
        now = local(date(2026, 6, 4), 10, 30)
        results.append((await app.tick(lambda now=now: now)).chase)  # type: ignore[misc]
    finally:
        await app.close()
    assert [(r.reminded, r.moved, r.no_other_channel, r.expired) for r in results] == [
        (0, 0, 0, 0),
        (4, 0, 0, 0),
        (0, 1, 3, 0),
        (0, 0, 0, 4),
    ]
    assert [(m.address, m.kind) for m in channels["email"].sent] == [
        ("omar@example.org", "question")
    ]
    assert [m.kind for m in channels["sms"].sent] == ["question"] * 4 + ["reminder"] * 4
