"""The one-click answer and upload pages in a real browser: Debian's Chromium driven by Playwright.

Answer by click, upload a photo with words, see the thank-you page — in Swedish and in Arabic.
A screenshot of each page is kept in test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import uvicorn
from PIL import ExifTags, Image

from bot.answer_pages import PageContext, answer_routes
from bot.web import WebContext, create_web_app
from fikafollow.app import App
from tests.support.dbstate import aquery
from tests.support.mail_support import (
    CHROMIUM,
    NOW,
    SmtpServer,
    free_port,
    mail_app,
    photo_with_gps,
    require_or_skip,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# never `playwright install`: the browser is Debian's, and these flags keep it off the network
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LINK = re.compile(r"http://127\.0\.0\.1:8765(/a/[A-Za-z0-9_.\-]+)")


@pytest.fixture
async def served(
    sqlite_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> AsyncIterator[tuple[App, str]]:
    if not CHROMIUM.exists():
        require_or_skip("Chromium is not installed (scripts/test-services.sh installs it as root)")
    app = await mail_app(sqlite_url, tmp_path, smtp_server.port)
    assert app.links is not None
    assert (await app.tick(lambda: NOW)).drain.sent == 4
    routes = answer_routes(PageContext(app.sessions, app.conversation, app.links, lambda: NOW))
    web = create_web_app(WebContext(app.sessions, app.book.days(), "SE", lambda: NOW), routes)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            web, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        await app.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    # the browser checks the pages; the storage paths below them run on both databases elsewhere
    return f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}"


def answer_link(server: SmtpServer, address: str) -> str:
    raw = [raw for _, rcpts, raw in server.sink.received if address in rcpts][-1]
    body = message_from_bytes(raw, policy=policy.default).get_body(("plain",))  # type: ignore[attr-defined]
    links = LINK.findall(body.get_content())
    assert len(links) == 2
    return str(links[0])  # "yes"


@pytest.mark.parametrize(
    ("language", "participant", "address", "saved_text", "thanks_text"),
    [
        (
            "sv",
            "P2",
            "karin@example.org",
            "Tack! Ditt svar är sparat.",
            "Tack för din fikahälsning!",
        ),
        ("ar", "P1", "amina@example.org", "شكرًا! تم حفظ جوابك.", "شكرًا على تحية الفيكا!"),
    ],
    ids=["sv", "ar"],
)
async def test_answer_by_click_and_upload_a_photo_with_words_in_a_real_browser(
    served: tuple[App, str],
    smtp_server: SmtpServer,
    tmp_path: Path,
    language: str,
    participant: str,
    address: str,
    saved_text: str,
    thanks_text: str,
) -> None:
    from playwright.async_api import async_playwright

    app, base = served
    ARTIFACTS.mkdir(exist_ok=True)
    assert app.links is not None
    photo = tmp_path / "fika.jpg"
    photo.write_bytes(photo_with_gps())
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await page.goto(base + answer_link(smtp_server, address))
            assert await page.evaluate("document.documentElement.lang") == language
            # the link's answer is chosen; the click on the button records it
            assert await page.locator('input[name="value"][value="yes"]').is_checked()
            await page.click("#save")
            await page.wait_for_selector("#saved")
            assert saved_text in await page.inner_text("#saved")
            await page.screenshot(path=str(ARTIFACTS / f"answer-{language}.png"), full_page=True)
            rows = await aquery(
                app.settings.database_url,
                "SELECT a.question, a.value FROM answer a JOIN followup f ON f.id = a.followup_id "
                "JOIN participant p ON p.id = f.participant_id WHERE p.external_id = :p",
                p=participant,
            )
            assert rows == [("met_again", "yes")]

            followup = await aquery(
                app.settings.database_url,
                "SELECT f.id FROM followup f JOIN participant p ON p.id = f.participant_id "
                "WHERE p.external_id = :p",
                p=participant,
            )
            upload = app.links.upload_url(int(followup[0][0]))
            await page.goto(base + upload.removeprefix("http://127.0.0.1:8765"))
            direction = await page.evaluate("getComputedStyle(document.body).direction")
            assert direction == ("rtl" if language == "ar" else "ltr")
            # where the heading's text really is on the screen: at the right edge for Arabic
            left, right = await page.evaluate(
                "(() => { const r = document.createRange();"
                " r.selectNodeContents(document.querySelector('h1'));"
                " const b = r.getBoundingClientRect(); return [b.left, b.right]; })()"
            )
            if language == "ar":
                assert right > 390 - 40 and left > 40, (left, right)
            else:
                assert left < 40 and right < 390 - 40, (left, right)
            await page.set_input_files("#photo", str(photo))
            await page.fill("#words", "فيكا جميلة" if language == "ar" else "En fin fika")
            await page.check('input[name="consent"][value="yes"]')
            await page.screenshot(path=str(ARTIFACTS / f"upload-{language}.png"), full_page=True)
            await page.click("#send")
            await page.wait_for_selector("#thanks")
            assert thanks_text in await page.inner_text("#thanks")
            await page.screenshot(path=str(ARTIFACTS / f"thanks-{language}.png"), full_page=True)
        finally:
            await browser.close()
    rows = await aquery(app.settings.database_url, "SELECT consent, photo_path FROM greeting")
    assert len(rows) == 1 and rows[0][0] == "yes"
    with Image.open(app.settings.photo_dir / str(rows[0][1])) as stored:
        assert ExifTags.IFD.GPSInfo not in stored.getexif()
