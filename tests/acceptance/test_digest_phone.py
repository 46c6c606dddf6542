"""The weekly digest as a coordinator reads it on a phone: sent through a real SMTP server on
loopback and read back part by part (thumbnails as CID images the HTML refers to, tel: links,
one person per line in the text, a tap as its label), and the page laid out by Debian's
Chromium at 390 px without anything wider than the screen."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path

import pytest
from PIL import Image

from bot.channels.base import InboundMessage
from fikafollow.app import App
from fikafollow.commands import main
from fikafollow.config import load_settings
from store import intake
from store.models import Programme
from tests.acceptance.test_digest import Collector, _free_port
from tests.integration.test_email_pages_browser import CHROMIUM_ARGS
from tests.support import fixed_programmes
from tests.support.mail_support import CHROMIUM, require_or_skip
from tests.support.recording_channel import RecordingChannel

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PUBLIC = "https://fika.example.org"
# two more Persian speakers who never answer: three people to phone in one language
MORE = fixed_programmes.HEADER + (
    "A4,2026-05-04,family,P7,Shirin,newcomer,fa,sms,+46701000007,,woman\n"
    "A4,2026-05-04,family,P8,Reza,established,fa,sms,+46701000008,,man\n"
)


async def _week_with_a_tap(db_url: str, tmp_path: Path) -> None:
    """The fixed programmes, two more people to phone, and Erik tapping a button."""
    await fixed_programmes.build(db_url, tmp_path)
    settings = load_settings(database_url=db_url, photo_dir=tmp_path / "photos", rate_sms=1000)
    app = App(settings, {"sms": RecordingChannel("sms")})
    try:
        rows, errors = intake.read_csv(MORE.encode(), "SE")
        assert not errors, errors
        async with app.sessions.begin() as session:
            alpha = await session.get_one(Programme, "alpha")
            await intake.apply(session, alpha, rows, fixed_programmes.IMPORTED, app.book.days())
        await app.tick(lambda: fixed_programmes.ASKED + timedelta(minutes=5))
        tap = InboundMessage(
            channel="sms",
            provider_id="tap-1",
            sender="+46701000002",
            button_value="will_meet_again=maybe",
        )
        async with app.sessions.begin() as session:
            await app.conversation.receive(session, tap, fixed_programmes.ANSWERED)
        await app.tick(lambda: fixed_programmes.EXPIRED + timedelta(minutes=10))
    finally:
        await app.close()


@pytest.fixture
def week(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    asyncio.run(_week_with_a_tap(db_url, tmp_path))
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    monkeypatch.setenv("FIKAFOLLOW_PUBLIC_URL", PUBLIC)
    monkeypatch.setenv("FIKAFOLLOW_SECRET_KEY", "test-secret-key-0123456789abcdef")
    monkeypatch.setenv("FIKAFOLLOW_PHOTO_DIR", str(tmp_path / "photos"))
    return db_url


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Collector]:
    from aiosmtpd.controller import Controller

    collector = Collector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("FIKAFOLLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FIKAFOLLOW_SMTP_PORT", str(port))
    monkeypatch.setenv("FIKAFOLLOW_MAIL_FROM", "digest@fika.example.org")
    monkeypatch.setenv("FIKAFOLLOW_SMTP_SECURITY", "none")
    try:
        yield collector
    finally:
        controller.stop()


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8").replace("\r\n", "\n")


def _section(text: str, title: str) -> list[str]:
    body = text.split(f"== {title}\n", 1)[1].split("\n== ", 1)[0]
    return [line for line in body.splitlines() if line]


def test_sent_digest_has_inline_thumbnails_tel_links_and_one_person_a_line(
    week: str, smtp: Collector
) -> None:
    assert (
        main(["digest", "--send", "--programme", "alpha", "--now", fixed_programmes.DIGEST_AT]) == 0
    )
    [mail] = smtp.messages
    assert mail.get_content_type() == "multipart/mixed"
    types = [part.get_content_type() for part in mail.walk()]
    # the text, then the HTML with its pictures as one related whole; the CSV attached
    assert types == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/jpeg",
        "text/csv",
    ]
    parts = {part.get_content_type(): part for part in mail.walk()}
    html = _text(parts["text/html"])
    text = _text(parts["text/plain"])

    # Dawit's photo waits for a decision: a small JPEG of it is in the mail, and the HTML shows
    # it by its Content-ID, never from an address
    image = parts["image/jpeg"]
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert re.findall(r'<img src="([^"]+)"', html) == [f"cid:{cid}"]
    data = image.get_payload(decode=True)
    assert isinstance(data, bytes) and len(data) < 30_000
    with Image.open(io.BytesIO(data)) as thumbnail:
        assert thumbnail.format == "JPEG" and max(thumbnail.size) <= 240
    assert 'alt="Foto från Dawit"' in html

    # phone numbers are tap-to-call, for the pairs and the call list
    for number in ("+46701000001", "+46701000002", "+46701000007", "+46701000008"):
        assert f'href="tel:{number}"' in html, number
    # the web app's pages, for this programme
    for page in ("answers", "calls", "greetings", "notes"):
        assert f'href="{PUBLIC}/coordinator/{page}?programme=alpha"' in html, page
        assert f"{PUBLIC}/coordinator/{page}?programme=alpha" in text, page

    # words, not codes: Erik's tap reads as the button he pressed, in Swedish
    assert "will_meet_again=maybe" not in html + text
    assert "- Erik (svenska, sms, Match A1): Ska träffas igen: kanske (knapp)" in text
    assert "Ska träffas igen: kanske <span" in html

    # the text part: one person per line, in the call list as in the pairs
    calls = _section(text, "Att ringa")
    assert calls[0] == "persiska (3):"
    people = [line for line in calls if line.startswith("- ")]
    assert [line.split(",")[0] for line in people] == ["- Maryam", "- Reza", "- Shirin"]
    assert "- Reza, +46701000008, Match A4, Obesvarat: Träffats igen?, Ska träffas igen?" in calls
    pairs = _section(text, "Par som behöver uppmärksamhet")
    assert "- Erik (svenska, sms): Har träffats igen: nej, +46701000002" in pairs
    assert all(line.startswith(("- ", "Match ")) for line in pairs)


def test_digest_fits_a_phone_screen_in_chromium(week: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        require_or_skip(f"{CHROMIUM} is not installed")
    out = tmp_path / "digest"
    assert (
        main(
            [
                "digest",
                "--programme",
                "alpha",
                "--now",
                fixed_programmes.DIGEST_AT,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    [page_file] = out.glob("digest-alpha-*.html")
    asyncio.run(_look_at(page_file, ARTIFACTS / f"digest-phone-{week.split(':')[0]}.png"))


async def _look_at(page_file: Path, screenshot: Path) -> None:
    from playwright.async_api import Route, async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 390, "height": 844})

            # the page and its thumbnail from the folder; nothing else is fetched
            async def block(route: Route) -> None:
                await route.abort()

            await context.route(re.compile(r"^(?!file:).*"), block)
            page = await context.new_page()
            await page.goto(page_file.as_uri())
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the digest is {width} px wide on a 390 px phone"
            wide = await page.evaluate(
                """[...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > 390)
                   .map(e => e.tagName + ' ' + (e.textContent || '').slice(0, 40))"""
            )
            assert wide == []
            # every link is a tap target of at least 44 px
            heights = await page.evaluate(
                "[...document.querySelectorAll('a')].map(a => a.getBoundingClientRect().height)"
            )
            assert heights and min(heights) >= 44, heights
            loaded = await page.evaluate(
                "[...document.images].every(i => i.complete && i.naturalWidth > 0)"
            )
            assert loaded
            screenshot.parent.mkdir(exist_ok=True)
            await page.screenshot(path=str(screenshot), full_page=True)
        finally:
            await browser.close()
