"""The e-mail channel through a real SMTP server on loopback, and the pages behind its links."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from PIL import ExifTags, Image

from bot.answer_pages import PageContext, answer_routes
from bot.channels.base import InboundMessage, OutgoingMessage, PermanentError, TemporaryError
from bot.channels.email import EmailChannel, SmtpSettings
from bot.channels.sms.segments import segments
from bot.web import WebContext, create_web_app
from fikafollow.app import App
from fikafollow.config import load_settings
from store import intake
from store.models import FollowUp, Programme
from tests.support.dbstate import aquery
from tests.support.mail_support import NOW, SmtpServer, free_port, mail_app, photo_with_gps

LINK = re.compile(r"http://127\.0\.0\.1:8765(/[a-z]+/[A-Za-z0-9_.\-]+)")


def parsed(raw: bytes) -> EmailMessage:
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    return mail


def mail_to(server: SmtpServer, address: str) -> EmailMessage:
    found = [raw for _, rcpts, raw in server.sink.received if address in rcpts]
    assert len(found) == 1, f"{len(found)} e-mails to one address"
    return parsed(found[-1])


def text_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


@pytest.fixture
async def asked(db_url: str, tmp_path: Path, smtp_server: SmtpServer) -> AsyncIterator[App]:
    app = await mail_app(db_url, tmp_path, smtp_server.port)
    try:
        result = await app.tick(lambda: NOW)
        assert result.drain.sent == 4
        yield app
    finally:
        await app.close()


def client_for(
    app: App, now: object = None, *, raise_app_exceptions: bool = True
) -> httpx.AsyncClient:
    """The participant pages in process; without `raise_app_exceptions` a failure is the 500
    page a browser would get."""
    assert app.links is not None
    clock = (lambda: NOW) if now is None else (lambda: now)
    routes = answer_routes(PageContext(app.sessions, app.conversation, app.links, clock))  # type: ignore[arg-type]
    web = create_web_app(WebContext(app.sessions, app.book.days(), "SE", lambda: NOW), routes)
    transport = httpx.ASGITransport(app=web, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_an_email_is_multipart_with_our_message_id_reply_address_and_one_click_unsubscribe(
    asked: App, smtp_server: SmtpServer
) -> None:
    mail = mail_to(smtp_server, "amina@example.org")
    assert mail["From"] == "Fika <fika@example.org>"
    assert mail.get_content_type() == "multipart/alternative"
    html = html_of(mail)
    assert '<html lang="ar" dir="rtl">' in html
    # one link per option, in both parts, each a signed /a/ link
    text_links = LINK.findall(text_of(mail))
    assert len(text_links) == 2 and all(link.startswith("/a/") for link in text_links)
    assert all(link in html for link in text_links)
    message_id = str(mail["Message-ID"])
    assert re.fullmatch(r"<ff-\d+-[0-9a-f]{16}@example\.org>", message_id)
    stored = await aquery(
        asked.settings.database_url,
        "SELECT provider_id FROM outbox WHERE address = :a",
        a="amina@example.org",
    )
    assert stored == [(message_id,)]
    assert re.fullmatch(r"replies\+f\d+-[0-9a-f]{20}@example\.org", str(mail["Reply-To"]))
    unsubscribe = str(mail["List-Unsubscribe"])
    assert (
        "<mailto:replies+f" in unsubscribe and "<http://127.0.0.1:8765/unsubscribe/" in unsubscribe
    )
    assert str(mail["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    swedish = mail_to(smtp_server, "karin@example.org")
    assert '<html lang="sv" dir="ltr">' in html_of(swedish)
    assert "Amina" in text_of(swedish)  # the partner is named in the first question


async def test_a_refused_recipient_is_permanent_and_a_deferral_or_outage_temporary(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.sink.refuse = {
        "gone@example.org": "550 5.1.1 No such user",
        "later@example.org": "451 4.3.0 Try again later",
    }
    channel = EmailChannel(
        SmtpSettings("127.0.0.1", smtp_server.port, "fika@example.org", security="none")
    )

    def message(address: str) -> OutgoingMessage:
        return OutgoingMessage(1, "email", address, "sv", "Hej", subject="Fika")

    with pytest.raises(PermanentError):
        await channel.send(message("gone@example.org"))
    with pytest.raises(TemporaryError):
        await channel.send(message("later@example.org"))
    closed = EmailChannel(SmtpSettings("127.0.0.1", free_port(), "fika@example.org", "none"))
    with pytest.raises(TemporaryError):
        await closed.send(message("karin@example.org"))
    sent = await channel.send(message("karin@example.org"))
    assert sent.provider_id and len(smtp_server.sink.received) == 1


async def answers(app: App) -> list[tuple[object, ...]]:
    return await aquery(
        app.settings.database_url,
        "SELECT p.external_id, a.question, a.value FROM answer a JOIN followup f "
        "ON f.id = a.followup_id JOIN participant p ON p.id = f.participant_id ORDER BY a.id",
    )


async def test_opening_an_answer_link_changes_nothing_and_its_form_answers_and_can_change_it(
    asked: App, smtp_server: SmtpServer
) -> None:
    mail = mail_to(smtp_server, "amina@example.org")
    yes, no = LINK.findall(text_of(mail))
    async with client_for(asked) as http:
        page = await http.get(yes)
        assert page.status_code == 200
        assert '<html lang="ar" dir="rtl">' in page.text
        assert re.search(r'value="yes" checked', page.text)
        assert await answers(asked) == []  # a mail scanner opening the link answers nothing
        form = re.search(r'name="form" value="([^"]+)"', page.text)
        assert form
        forged = await http.post(yes, data={"value": "yes", "form": "x" * 22})
        assert forged.status_code == 403 and await answers(asked) == []
        saved = await http.post(yes, data={"value": "yes", "form": form.group(1)})
        assert saved.status_code == 200 and 'id="saved"' in saved.text
        assert await answers(asked) == [("P1", "met_again", "yes")]
        # the dialogue moved on: the next question is waiting for her in the outbox
        waiting = await aquery(
            asked.settings.database_url,
            "SELECT question FROM outbox WHERE status = 'pending' AND address = :a",
            a="amina@example.org",
        )
        assert waiting == [("will_meet_again",)]
        # opening a link again shows the answer and lets her change it
        again = await http.get(no)
        assert 'id="current"' in again.text
        changed = await http.post(no, data={"value": "no", "form": form_of(again.text)})
        assert changed.status_code == 200
        assert await answers(asked) == [("P1", "met_again", "no")]
        still = await aquery(
            asked.settings.database_url,
            "SELECT count(*) FROM outbox WHERE status = 'pending'",
        )
        assert still == [(1,)]  # a changed answer asks nothing again


def form_of(page: str) -> str:
    found = re.search(r'name="form" value="([^"]+)"', page)
    assert found
    return found.group(1)


async def test_a_forged_expired_or_misused_link_changes_nothing_and_shows_a_polite_page(
    asked: App, smtp_server: SmtpServer
) -> None:
    yes, _ = LINK.findall(text_of(mail_to(smtp_server, "amina@example.org")))
    token = yes.removeprefix("/a/")
    body, _, signature = token.partition(".")
    forged = f"/a/{body}.{'A' * len(signature)}"
    misused = f"/u/{token}"  # an answer link is no upload link
    before = await aquery(asked.settings.database_url, "SELECT count(*) FROM inbox")
    async with client_for(asked) as http:
        for url in (forged, misused, "/a/garbage", "/unsubscribe/x.y"):
            page = await http.get(url)
            assert page.status_code == 404, url
            assert "Länken fungerar inte" in page.text and "This link does not work" in page.text
            posted = await http.post(url, data={"value": "yes", "form": "x"})
            assert posted.status_code == 400, url
    async with client_for(asked, NOW + timedelta(days=61)) as late:
        expired = await late.post(yes, data={"value": "yes", "form": "x"})
        assert expired.status_code == 400 and "This link does not work" in expired.text
    assert await answers(asked) == []
    assert await aquery(asked.settings.database_url, "SELECT count(*) FROM inbox") == before


async def test_one_click_unsubscribe_opts_the_participant_out(
    asked: App, smtp_server: SmtpServer
) -> None:
    header = str(mail_to(smtp_server, "karin@example.org")["List-Unsubscribe"])
    url = re.search(r"<http://127\.0\.0\.1:8765(/unsubscribe/[^>]+)>", header)
    assert url
    async with client_for(asked) as http:
        shown = await http.get(url.group(1))
        assert shown.status_code == 200 and 'id="stop"' in shown.text
        assert await aquery(
            asked.settings.database_url,
            "SELECT opted_out_at IS NULL FROM participant WHERE external_id = 'P2'",
        ) == [(True,)]
        # RFC 8058: the mail program POSTs this body, with no form token
        done = await http.post(url.group(1), content=b"List-Unsubscribe=One-Click")
        assert done.status_code == 200 and 'id="done"' in done.text
    assert await aquery(
        asked.settings.database_url,
        "SELECT opted_out_at IS NOT NULL FROM participant WHERE external_id = 'P2'",
    ) == [(True,)]


async def upload_link(app: App, external_id: str) -> str:
    """The upload page's link, as the greeting invitation would carry it."""
    assert app.links is not None
    rows = await aquery(
        app.settings.database_url,
        "SELECT f.id FROM followup f JOIN participant p ON p.id = f.participant_id "
        "WHERE p.external_id = :p",
        p=external_id,
    )
    return app.links.upload_url(int(rows[0][0])).removeprefix("http://127.0.0.1:8765")


async def test_the_upload_page_keeps_a_photo_without_gps_and_refuses_what_is_no_photo(
    asked: App,
) -> None:
    url = await upload_link(asked, "P3")
    async with client_for(asked) as http:
        page = await http.get(url)
        assert page.status_code == 200 and '<html lang="fa" dir="rtl">' in page.text
        assert 'accept="image/*"' in page.text and "capture" in page.text
        form = form_of(page.text)
        refused = await http.post(
            url,
            data={"form": form, "words": "سلام", "consent": "yes"},
            files={"photo": ("note.jpg", b"%PDF-1.4 not a photo", "image/jpeg")},
        )
        assert refused.status_code == 400 and 'id="error"' in refused.text
        assert "لطفاً یک عکس انتخاب کنید" in refused.text
        assert await aquery(asked.settings.database_url, "SELECT count(*) FROM greeting") == [(0,)]
        assert not (asked.settings.photo_dir.exists() and any(asked.settings.photo_dir.iterdir()))
        kept = await http.post(
            url,
            data={"form": form, "words": "فیکای خوبی بود", "consent": "yes"},
            files={"photo": ("fika.jpg", photo_with_gps(), "image/jpeg")},
        )
        assert kept.status_code == 200 and 'id="thanks"' in kept.text
    rows = await aquery(
        asked.settings.database_url, "SELECT words, consent, photo_path FROM greeting"
    )
    assert [(words, consent) for words, consent, _ in rows] == [("فیکای خوبی بود", "yes")]
    with Image.open(asked.settings.photo_dir / str(rows[0][2])) as stored:
        assert ExifTags.IFD.GPSInfo not in stored.getexif()


async def test_an_iphone_heic_photo_is_accepted_on_the_upload_page(asked: App) -> None:
    url = await upload_link(asked, "P2")
    heic = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 90, 200)).save(heic, format="HEIF")
    async with client_for(asked) as http:
        form = form_of((await http.get(url)).text)
        kept = await http.post(
            url,
            data={"form": form, "words": "", "consent": "no"},
            files={"photo": ("IMG_0001.HEIC", heic.getvalue(), "image/heic")},
        )
        assert kept.status_code == 200, kept.text
    assert await aquery(asked.settings.database_url, "SELECT consent FROM greeting") == [("no",)]


async def test_after_both_link_answers_the_invitation_mail_carries_the_upload_link(
    asked: App, smtp_server: SmtpServer
) -> None:
    async with client_for(asked) as http:
        yes, _ = LINK.findall(text_of(mail_to(smtp_server, "erik@example.org")))
        await http.post(yes, data={"value": "yes", "form": form_of((await http.get(yes)).text)})
        await asked.tick(lambda: NOW)
        second = [raw for _, rcpts, raw in smtp_server.sink.received if "erik@example.org" in rcpts]
        maybe = LINK.findall(text_of(parsed(second[-1])))[1]
        await http.post(
            maybe, data={"value": "maybe", "form": form_of((await http.get(maybe)).text)}
        )
        await asked.tick(lambda: NOW)
    invitation = [raw for _, rcpts, raw in smtp_server.sink.received if "erik@example.org" in rcpts]
    assert len(invitation) == 3
    text = text_of(parsed(invitation[-1]))
    upload = re.search(r"http://127\.0\.0\.1:8765(/u/[0-9a-f]+\.[A-Za-z0-9_\-]+)", text)
    assert upload, text
    assert await answers(asked) == [("P4", "met_again", "yes"), ("P4", "will_meet_again", "maybe")]
    async with client_for(asked) as http:
        assert (await http.get(upload.group(1))).status_code == 200
    async with client_for(asked, NOW + timedelta(days=61)) as late:
        old = await late.get(upload.group(1))
        assert old.status_code == 404 and "This link does not work" in old.text


@pytest.mark.parametrize(
    ("public_url", "has_link"),
    [("https://fika.example.se", True), ("https://" + "a" * 60 + ".example.org", False)],
    ids=["short-address", "long-address"],
)
async def test_an_sms_invitation_carries_the_upload_link_within_two_parts(
    db_url: str, tmp_path: Path, public_url: str, has_link: bool
) -> None:
    csv = (
        "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
        "S1,2026-05-04,individual,Q1,Samira,newcomer,ar,sms,0701234519,,woman\n"
        "S1,2026-05-04,individual,Q2,Sven,established,sv,sms,0701234520,,man\n"
    )
    app = App(
        load_settings(
            database_url=db_url,
            photo_dir=tmp_path,
            public_url=public_url,
            secret_key="test-secret-key-not-for-production-0123",
        ),
        channels={},
    )
    try:
        await app.start()
        programme = await app.programme(None, NOW)
        rows, errors = intake.read_csv(csv.encode(), "SE")
        assert not errors
        async with app.sessions.begin() as session:
            programme = await session.get_one(Programme, programme.id)
            await intake.apply(session, programme, rows, NOW, app.book.days())
            for followup in (
                await session.scalars(__import__("sqlalchemy").select(FollowUp))
            ).all():
                await app.conversation.start(session, followup, NOW)
        for n, text in enumerate(("1", "١")):
            async with app.sessions.begin() as session:
                message = InboundMessage("sms", f"SM{n}", "+46701234519", text=text)
                assert await app.conversation.receive(session, message, NOW) == "answered"
    finally:
        await app.close()
    invitation = await aquery(db_url, "SELECT payload FROM outbox WHERE kind = 'greeting_invite'")
    assert len(invitation) == 1
    payload = invitation[0][0]
    text = (payload if isinstance(payload, dict) else json.loads(payload))["text"]
    assert ("/u/" in text) is has_link
    assert segments(text) <= 2
