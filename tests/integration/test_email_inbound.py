"""E-mail replies read from a real IMAP server (Dovecot on loopback) by the mailbox reader."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aioimaplib
import pytest
from PIL import ExifTags, Image

from bot.channels.email import ImapSettings, MailboxReader, strip_quoted
from bot.channels.email.receive import close
from fikafollow.app import App
from fikafollow.commands import main
from tests.support.dbstate import aquery
from tests.support.mail_support import (
    MATCH_CSV,
    NOW,
    ImapServer,
    SmtpServer,
    mail_app,
    mail_settings,
    photo_with_gps,
)


@pytest.fixture
async def asked(db_url: str, tmp_path: Path, smtp_server: SmtpServer) -> AsyncIterator[App]:
    app = await mail_app(db_url, tmp_path, smtp_server.port)
    try:
        assert (await app.tick(lambda: NOW)).drain.sent == 4
        yield app
    finally:
        await app.close()


def sent_to(server: SmtpServer, address: str) -> EmailMessage:
    from email import message_from_bytes, policy

    raw = [raw for _, rcpts, raw in server.sink.received if address in rcpts][-1]
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    return mail


def reply(original: EmailMessage, sender: str, body: str, *, to_token: bool = True) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = str(original["Reply-To"]) if to_token else "replies@example.org"
    mail["Subject"] = f"Re: {original['Subject']}"
    mail["Message-ID"] = make_msgid(domain="mail.example.net")
    mail["In-Reply-To"] = str(original["Message-ID"])
    mail["References"] = str(original["Message-ID"])
    mail.set_content(body)
    return mail


async def append(server: ImapServer, *mails: EmailMessage) -> None:
    client = aioimaplib.IMAP4("127.0.0.1", server.port, timeout=10)
    await client.wait_hello_from_server()
    assert (await client.login(server.username, server.password)).result == "OK"
    for mail in mails:
        assert (await client.append(bytes(mail), mailbox="INBOX")).result == "OK"
    await client.logout()
    close(client)


def reader(app: App, server: ImapServer) -> MailboxReader:
    assert app.links is not None
    settings = ImapSettings(
        "127.0.0.1", server.port, server.username, server.password, security="none"
    )
    return MailboxReader(settings, app.inbound, app.links.signer)


async def answers(app: App) -> list[tuple[object, ...]]:
    return await aquery(
        app.settings.database_url,
        "SELECT p.external_id, a.question, a.value, a.raw_text FROM answer a JOIN followup f "
        "ON f.id = a.followup_id JOIN participant p ON p.id = f.participant_id ORDER BY a.id",
    )


async def test_a_persian_reply_quoted_under_the_original_answers_once_across_restarts(
    asked: App, smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    original = sent_to(smtp_server, "dariush@example.org")
    quoted = "\n".join(
        f"> {line}" for line in original.get_body(("plain",)).get_content().splitlines()
    )  # type: ignore[union-attr]
    body = f"نه\n\n‫در تاریخ دوشنبه ۲۵ مه ۲۰۲۶، Fika <fika@example.org> نوشت:‬\n{quoted}\n"
    # sent from another address of his: the signed reply address still finds his follow-up
    await append(imap_server, reply(original, "D <dariush.other@example.net>", body))
    first = await reader(asked, imap_server).poll_once(lambda: NOW)
    assert first.seen == 1 and first.outcomes == {"answered": 1}
    # only his new word counted: the quoted "1 بله / 2 نه" below it did not
    assert await answers(asked) == [("P3", "met_again", "no", "نه")]
    # a restart reads the mailbox again: the message is \Seen and is not counted twice
    again = await reader(asked, imap_server).poll_once(lambda: NOW)
    assert again.seen == 0
    assert len(await answers(asked)) == 1


async def test_a_reply_matched_by_in_reply_to_alone_and_one_with_a_photo(
    asked: App, smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    to_amina = sent_to(smtp_server, "amina@example.org")
    await append(
        imap_server,
        reply(to_amina, "amina@example.org", "نعم\n\n-- \nأمينة", to_token=False),
    )
    assert (await reader(asked, imap_server).poll_once(lambda: NOW)).outcomes == {"answered": 1}
    to_karin = sent_to(smtp_server, "karin@example.org")
    with_photo = reply(
        to_karin,
        "karin@example.org",
        "Här är vi på fikat!\n\nDen 25 maj skrev Fika:\n> Har ni träffats igen?",
    )
    with_photo.add_attachment(
        photo_with_gps(), maintype="image", subtype="jpeg", filename="fika.jpg"
    )
    await append(imap_server, with_photo)
    result = await reader(asked, imap_server).poll_once(lambda: NOW)
    assert result.outcomes == {"greeting": 1}
    rows = await aquery(asked.settings.database_url, "SELECT words, photo_path FROM greeting")
    assert [words for words, _ in rows] == ["Här är vi på fikat!"]
    with Image.open(asked.settings.photo_dir / str(rows[0][1])) as stored:
        assert ExifTags.IFD.GPSInfo not in stored.getexif()
    assert [row[:3] for row in await answers(asked)] == [("P1", "met_again", "yes")]
    # the consent question went out to Karin, by e-mail
    asked_consent = await aquery(
        asked.settings.database_url,
        "SELECT kind FROM outbox WHERE address = 'karin@example.org' AND status = 'pending'",
    )
    assert asked_consent == [("consent",)]


@pytest.mark.parametrize(
    ("reply_text", "new_words"),
    [
        ("2\n\nOn Mon, 25 May 2026 at 10:30, Fika <fika@example.org> wrote:\n> 1 Yes\n> 2 No", "2"),
        ("Ja!\n\nDen mån 25 maj 2026 kl 10:30 skrev Fika <fika@example.org>:\n> 1 Ja", "Ja!"),
        ("نعم\n\nفي الاثنين، 25 مايو 2026، كتب Fika <fika@example.org>:\n> 1 نعم", "نعم"),
        ("بله\n\n\u202bدر تاریخ ۲۵ مه ۲۰۲۶ Fika نوشت:\u202c\n> ۱ بله", "بله"),
        (
            "Yes we did\n\nOn Mon, 25 May 2026 at 10:30, Fika <fika@example.org>\nwrote:\n\n> 1",
            "Yes we did",
        ),
        ("No\n-- \nErik Svensson\n070 123 45 67", "No"),
        ("Yes\n\nFrom: Fika <fika@example.org>\nSent: Monday\nSubject: a question\n1 Yes", "Yes"),
        ("Maybe\n\n-----Original Message-----\nFrom: Fika", "Maybe"),
        ("Ja\n\nSkickat från min iPhone", "Ja"),
    ],
    ids=["en", "sv", "ar", "fa", "en-wrapped", "signature", "outlook", "original", "iphone"],
)
def test_quoted_text_and_signatures_are_stripped(reply_text: str, new_words: str) -> None:
    assert strip_quoted(reply_text) == new_words


def test_a_line_that_only_mentions_writing_is_kept() -> None:
    text = "We had fika and she wrote:\nthanks for the coffee"
    assert (
        re.sub(r"\s+", " ", strip_quoted(text))
        == "We had fika and she wrote: thanks for the coffee"
    )


def test_mail_poll_once_on_the_command_line_reads_a_reply_and_sends_the_next_question(
    db_url: str,
    tmp_path: Path,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
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
    (tmp_path / "m.csv").write_text(MATCH_CSV, encoding="utf-8")
    when = NOW.isoformat()
    assert main(["import", str(tmp_path / "m.csv"), "--now", when]) == 0
    assert main(["tick", "--now", when]) == 0
    asyncio.run(
        append(
            imap_server, reply(sent_to(smtp_server, "erik@example.org"), "erik@example.org", "Yes!")
        )
    )
    capsys.readouterr()
    assert main(["mail", "poll", "--once", "--now", when]) == 0
    assert capsys.readouterr().out == "1 messages read: answered 1\nsent 1\n"
    assert main(["mail", "poll", "--once", "--now", when]) == 0
    assert capsys.readouterr().out == "0 messages read\n"
    second = sent_to(smtp_server, "erik@example.org")
    assert "Will you meet again?" in str(second.get_body(("plain",)).get_content())  # type: ignore[union-attr]


async def test_an_html_only_reply_is_read_without_its_quote_and_an_auto_reply_is_ignored(
    asked: App, smtp_server: SmtpServer, imap_server: ImapServer
) -> None:
    original = sent_to(smtp_server, "erik@example.org")
    away = reply(original, "erik@example.org", "I am on holiday until June.")
    away["Auto-Submitted"] = "auto-replied"
    html_only = reply(original, "erik@example.org", "")
    html_only.set_content(
        "<div dir='ltr'>2</div><br><div class='gmail_quote'>On Mon wrote:"
        "<blockquote>1 Yes<br>2 No</blockquote></div>",
        subtype="html",
    )
    await append(imap_server, away, html_only)
    result = await reader(asked, imap_server).poll_once(lambda: NOW)
    assert result.seen == 2 and result.outcomes == {"auto_reply": 1, "answered": 1}
    assert [row[:3] for row in await answers(asked)] == [("P4", "met_again", "no")]
