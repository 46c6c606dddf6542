"""Bounces read from a real mailbox (Dovecot on loopback): delivery status notifications as
Postfix, Exchange, Gmail and Exim write them mark the address dead, move the person down the
ladder or onto the call list with the reason, and are never notes, answers or read twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from fikafollow.commands import main
from store import intake
from store.models import Programme
from tests.support import bounces
from tests.support.dbstate import aquery, query
from tests.support.mail_support import (
    MATCH_CSV,
    NOW,
    ImapServer,
    SmtpServer,
    mail_app,
    mail_settings,
)

from .test_email_inbound import append, reader

CSV = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
    "M1,2026-05-04,individual,P1,Amina,newcomer,ar,email,,amina@example.org,woman\n"
    "M1,2026-05-04,individual,P2,Karin,established,sv,email,0701234567,karin@example.org,woman\n"
    "M2,2026-05-04,individual,P3,Dariush,newcomer,fa,email,,dariush@example.org,man\n"
    "M2,2026-05-04,individual,P4,Erik,established,en,email,,erik@example.org,man\n"
)
ADDRESSES = ("amina@", "karin@", "dariush@", "erik@", "nobody@")


def sent_to(server: SmtpServer, address: str) -> EmailMessage:
    raw = [raw for _, rcpts, raw in server.sink.received if address in rcpts][-1]
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    return mail


@pytest.fixture
def cli(
    db_url: str,
    tmp_path: Path,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[str]:
    """The four imported and asked by e-mail on the command line, the mailbox configured."""
    settings = mail_settings(db_url, tmp_path, smtp_server.port)
    settings.update(
        imap_host="127.0.0.1",
        imap_port=imap_server.port,
        imap_username=imap_server.username,
        imap_password=imap_server.password,
        imap_security="none",
    )
    for name, value in settings.items():
        monkeypatch.setenv(f"FIKAFOLLOW_{name.upper()}", str(value))
    (tmp_path / "m.csv").write_text(CSV, encoding="utf-8")
    assert main(["import", str(tmp_path / "m.csv"), "--now", NOW.isoformat()]) == 0
    assert main(["tick", "--now", NOW.isoformat()]) == 0
    assert len(smtp_server.sink.received) == 4
    capsys.readouterr()
    yield db_url


def poll(capsys: pytest.CaptureFixture[str], hours: int) -> str:
    capsys.readouterr()
    when = (NOW + timedelta(hours=hours)).isoformat()
    assert main(["mail", "poll", "--once", "--now", when]) == 0
    return capsys.readouterr().out


def people(db_url: str) -> dict[str, tuple[object, ...]]:
    rows = query(
        db_url,
        "SELECT p.first_name, p.dead_channels, f.status, f.channel FROM participant p "
        "JOIN followup f ON f.participant_id = p.id ORDER BY p.id",
    )
    return {str(name): tuple(rest) for name, *rest in rows}


def test_permanent_bounces_mark_the_address_dead_and_are_read_once_across_restarts(
    cli: str,
    tmp_path: Path,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    postfix = bounces.postfix_failed(
        sent_to(smtp_server, "amina@example.org"), "amina@example.org", "<p1@mx.example.org>"
    )
    asyncio.run(
        append(
            imap_server,
            # matched by our Message-ID in the attached original
            message_from_bytes(postfix, policy=policy.default),
            # by the Message-ID in the returned headers
            message_from_bytes(
                bounces.exchange_ndr(
                    sent_to(smtp_server, "karin@example.org"),
                    "karin@example.org",
                    "<e1@AM0PR01MB1234.example.com>",
                ),
                policy=policy.default,
            ),
            # by the signed reply address Gmail quotes (no Message-ID in its copy)
            message_from_bytes(
                bounces.gmail_unstructured(
                    sent_to(smtp_server, "dariush@example.org"),
                    "dariush@example.org",
                    "<g1@mx.google.com>",
                ),
                policy=policy.default,
            ),
            # a delay: nothing is marked
            message_from_bytes(
                bounces.postfix_delayed(
                    sent_to(smtp_server, "erik@example.org"),
                    "erik@example.org",
                    "<d1@mx.example.org>",
                ),
                policy=policy.default,
            ),
        )
    )
    assert poll(capsys, 1) == "4 messages read: bounced 3, delayed 1\n"
    assert people(cli) == {
        # no other channel: on the call list
        "Amina": ("email", "unreachable", "email"),
        # down the ladder: her question waits for SMS (not configured here)
        "Karin": ("email", "active", "sms"),
        "Dariush": ("email", "unreachable", "email"),
        "Erik": ("", "active", "email"),
    }
    assert query(
        cli,
        "SELECT o.address, o.last_error FROM outbox o WHERE o.status = 'failed' ORDER BY o.id",
    ) == [
        ("amina@example.org", "bounce 5.1.1: mailbox does not exist"),
        ("karin@example.org", "bounce 5.1.10: mailbox does not exist"),
        ("dariush@example.org", "bounce 5.1.1: mailbox does not exist"),
    ]
    assert query(
        cli, "SELECT channel, kind, status FROM outbox WHERE address = '+46701234567'"
    ) == [("sms", "question", "pending")]

    # Erik's server gives up after all, in prose naming only his address (Exim, no copy);
    # a notification for an address we never wrote to changes nothing
    asyncio.run(
        append(
            imap_server,
            message_from_bytes(
                bounces.exim_failed("erik@example.org", "<x1@mx.example.net>"),
                policy=policy.default,
            ),
            message_from_bytes(
                bounces.exim_failed("nobody@example.org", "<x2@mx.example.net>"),
                policy=policy.default,
            ),
        )
    )
    assert poll(capsys, 30) == "2 messages read: bounce_unmatched 1, bounced 1\n"
    assert people(cli)["Erik"] == ("email", "unreachable", "email")

    # a restart finds the mailbox read; the same notification delivered again counts once
    assert poll(capsys, 31) == "0 messages read\n"
    asyncio.run(append(imap_server, message_from_bytes(postfix, policy=policy.default)))
    assert poll(capsys, 32) == "1 messages read: duplicate 1\n"
    assert query(cli, "SELECT count(*) FROM outbox WHERE status = 'failed'") == [(4,)]
    # a bounce is never a note and never an answer, and keeps none of the server's words
    assert query(cli, "SELECT count(*) FROM note") == [(0,)]
    assert query(cli, "SELECT count(*) FROM answer") == [(0,)]
    assert query(cli, "SELECT outcome, sender, text FROM inbox ORDER BY id") == [
        ("bounced", "", ""),
        ("bounced", "", ""),
        ("bounced", "", ""),
        ("delayed", "", ""),
        ("bounced", "", ""),
        ("bounce_unmatched", "", ""),
    ]

    # the call list and the digest say why
    capsys.readouterr()
    assert main(["calls"]) == 0
    calls = capsys.readouterr().out
    for name in ("Amina", "Dariush", "Erik"):
        line = next(line for line in calls.splitlines() if line.startswith(f"{name}\t"))
        assert line.endswith("E-mail not possible: mailbox does not exist")
    assert "Karin" not in calls
    assert main(["coordinator", "add", "--name", "Lena", "--email", "lena@example.org"]) == 0
    out = tmp_path / "digest"
    when = (NOW + timedelta(days=1)).isoformat()
    assert main(["digest", "--out", str(out), "--now", when]) == 0
    (text,) = [p.read_text(encoding="utf-8") for p in out.glob("digest-*.txt")]
    # the digest says it in its coordinator's language (Lena reads Swedish), from the codes
    assert text.count("(E-post går inte: adressen finns inte)") == 3

    leaked = [r.getMessage() for r in caplog.records if any(a in r.getMessage() for a in ADDRESSES)]
    assert leaked == []


async def test_a_late_bounce_of_an_address_since_changed_leaves_the_new_one_alive(
    db_url: str, tmp_path: Path, smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    app = await mail_app(db_url, tmp_path, smtp_server.port)
    try:
        assert (await app.tick(lambda: NOW)).drain.sent == 4
        old = sent_to(smtp_server, "erik@example.org")
        # the coordinator corrects Erik's address before his old one bounces
        rows, errors = intake.read_csv(
            MATCH_CSV.replace("erik@example.org", "erik.new@example.org").encode(), "SE"
        )
        assert not errors
        async with app.sessions.begin() as session:
            programme = await session.get_one(Programme, app.settings.programme)
            await intake.apply(session, programme, rows, NOW, app.book.days())
        raw = bounces.postfix_failed(old, "erik@example.org", "<p9@mx.example.org>")
        await append(imap_server, message_from_bytes(raw, policy=policy.default))
        result = await reader(app, imap_server).poll_once(lambda: NOW + timedelta(hours=1))
        assert result.outcomes == {"bounced": 1}
        found = await aquery(
            db_url,
            "SELECT p.email, p.dead_channels, f.status FROM participant p "
            "JOIN followup f ON f.participant_id = p.id WHERE p.external_id = 'P4'",
        )
        assert found == [("erik.new@example.org", "", "active")]
        failed = await aquery(db_url, "SELECT address FROM outbox WHERE status = 'failed'")
        assert failed == [("erik@example.org",)]
    finally:
        await app.close()
