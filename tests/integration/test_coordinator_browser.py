"""A coordinator's week in a real browser (Debian's Chromium, Playwright), in Swedish, on SQLite
and PostgreSQL: sign in from the mailed link, bring in a semicolon Latin-1 CSV and an .xlsx,
see a bad file's row problems, record a call, approve a photo after seeing it, download the zip,
read the report. Screenshots at phone and desktop size go to test-artifacts/; axe-core checks
every page for serious accessibility problems."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.integration.test_email_pages_browser import CHROMIUM_ARGS
from tests.support.coordinator_world import FIRST_EMAIL, World, make_world
from tests.support.dbstate import aquery
from tests.support.mail_support import CHROMIUM, SmtpServer, require_or_skip

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE_DIR = Path(os.environ.get("FIKAFOLLOW_AXE_DIR", "/tmp/fikafollow-axe"))
AXE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

LATIN1_CSV = (
    "match_id;matched_on;kind;participant_id;first_name;role;language;channel;phone;email;gender\r\n"
    "B1;4/5/2026;Individ;S1;Åsa;Nyanländ;Arabiska;SMS;070-174 06 30;;Kvinna\r\n"
    "B1;4/5/2026;Individ;S2;Jörgen;Etablerad;Svenska;E-post;;jorgen@example.org;Man\r\n"
).encode("latin-1")
BAD_CSV = (
    "match_id;matched_on;kind;participant_id;first_name;role;language;channel;phone;email;gender\r\n"
    "B9;igår;Grupp;S9;Ulla;Nyanländ;Klingon;SMS;;;Kvinna\r\n"
).encode("latin-1")

# an Arabic participant's words (a note that becomes an answer, a photo's caption) and a Persian's
AMINA_WORDS = "شربنا القهوة معا وتحدثنا طويلا عن العمل والأطفال"
AMINA_CAPTION = "صورتنا في المقهى بعد أسبوعين"
DARIUSH_WORDS = "ما در کافه بودیم و خیلی حرف زدیم"

OVERFLOW = """() => [...document.querySelectorAll("body *")]
  .filter(e => !e.closest(".scroll"))
  .filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && (r.left < -1 || r.right > innerWidth + 1
      || e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === "visible");
  })
  .map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : ""))"""


def axe_script() -> str:
    """axe-core as scripts/test-services.sh installed it (pinned, into a folder of its own)."""
    if not AXE.exists():
        require_or_skip(
            f"axe-core is not installed at {AXE} (scripts/test-services.sh installs it)"
        )
    return AXE.read_text(encoding="utf-8")


def xlsx_upload() -> bytes:
    """What a spreadsheet program saves: date cells, a phone number in a number cell."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "Match_ID",
            "Matched_On",
            "Kind",
            "Participant_ID",
            "First_Name",
            "Role",
            "Language",
            "Channel",
            "Phone",
            "Email",
            "Gender",
        ]
    )
    sheet.append(
        [
            "C1",
            datetime(2026, 5, 11),
            "Familj",
            "T1",
            "Mulu",
            "Nyanländ",
            "Tigrinja",
            "sms",
            46701740640,
            None,
            "Man",
        ]
    )
    sheet.append(
        [
            "C1",
            datetime(2026, 5, 11),
            "Familj",
            "T2",
            "Lena",
            "Etablerad",
            "Svenska",
            "e-post",
            None,
            "lena@example.org",
            "Kvinna",
        ]
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
async def world(
    db_url: str, tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    if not CHROMIUM.exists():
        require_or_skip("Chromium is not installed (scripts/test-services.sh installs it as root)")
    async for w in make_world(db_url, tmp_path, smtp_server, monkeypatch):
        yield w


async def test_a_coordinators_week_in_swedish_in_a_real_browser(
    world: World, db_url: str, tmp_path: Path
) -> None:
    from playwright.async_api import Page, async_playwright

    axe = axe_script()
    ARTIFACTS.mkdir(exist_ok=True)
    backend = "pg" if db_url.startswith("postgresql") else "sqlite"
    problems: list[str] = []

    async def check(page: Page, name: str) -> None:
        await page.add_script_tag(content=axe)
        result = await page.evaluate("async () => await axe.run(document)")
        for v in result["violations"]:
            if v["impact"] in ("serious", "critical"):
                problems.append(f"{name}: {v['id']} {v['help']}")
        await page.screenshot(
            path=str(ARTIFACTS / f"coordinator-{backend}-{name}.png"), full_page=True
        )
        # nothing runs off the screen, to the right nor (right to left) to the left: a box past
        # the viewport's edges, or words wider than their box (a table scrolls in its region)
        outside = await page.evaluate(OVERFLOW)
        if outside:
            problems.append(f"{name}: wider than the screen: {outside}")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        # the pages' policy forbids inline scripts; the accessibility checker is one, injected
        # by the test, not the page
        context = await browser.new_context(
            viewport=PHONE, locale="sv-SE", accept_downloads=True, bypass_csp=True
        )
        page = await context.new_page()
        await page.goto(world.base + "/coordinator/login")
        await check(page, "phone-login")
        await page.get_by_label("Din e-postadress").fill(FIRST_EMAIL)
        await page.get_by_role("button", name="Skicka en länk").click()
        await page.get_by_role("heading", name="Titta i din e-post").wait_for()
        await page.goto(world.sign_in_link(FIRST_EMAIL))
        await page.get_by_role("button", name="Logga in i fikafollow").click()
        await page.get_by_role("heading", name="Den här veckan").wait_for()
        await check(page, "phone-dashboard")

        # a bad file: every problem named by its row, nothing written
        await page.get_by_role("link", name="Matchningar").click()
        bad = tmp_path / "fel.csv"
        bad.write_bytes(BAD_CSV)
        await page.get_by_label("Excelfil (.xlsx) eller CSV").set_input_files(str(bad))
        await page.get_by_role("button", name="Kontrollera filen").click()
        alert = page.get_by_role("alert")
        await alert.wait_for()
        text = await alert.inner_text()
        # in the coordinator's language, Swedish
        assert "rad 2: matched_on 'igår' är inget datum" in text, text
        assert "rad 2: kind 'grupp' är inte något av individual, family" in text, text
        assert "rad 2: language 'klingon'" in text, text
        await check(page, "phone-matches-errors")

        # a semicolon Latin-1 CSV, previewed, then confirmed
        good = tmp_path / "matchningar.csv"
        good.write_bytes(LATIN1_CSV)
        await page.get_by_label("Excelfil (.xlsx) eller CSV").set_input_files(str(good))
        await page.get_by_role("button", name="Kontrollera filen").click()
        await page.get_by_text("Förhandsvisning: inget är sparat än").wait_for()
        assert await page.get_by_text("Åsa").count() >= 1
        await check(page, "phone-matches-preview")
        assert await aquery(db_url, "SELECT count(*) FROM participant WHERE external_id='S1'") == [
            (0,)
        ]
        await page.get_by_role("button", name="Lägg in de här matchningarna").click()
        await page.get_by_role("heading", name="Inlagt").wait_for()
        assert await aquery(
            db_url, "SELECT first_name, language FROM participant WHERE external_id='S1'"
        ) == [("Åsa", "ar")]

        # an .xlsx with date cells
        book = tmp_path / "matchningar.xlsx"
        book.write_bytes(xlsx_upload())
        await page.get_by_label("Excelfil (.xlsx) eller CSV").set_input_files(str(book))
        await page.get_by_role("button", name="Kontrollera filen").click()
        await page.get_by_role("button", name="Lägg in de här matchningarna").click()
        await page.get_by_role("heading", name="Inlagt").wait_for()
        assert await aquery(
            db_url, "SELECT language, phone FROM participant WHERE external_id='T1'"
        ) == [("ti", "+46701740640")]

        # phone Amina and record what she said
        await page.get_by_role("link", name="Samtal").click()
        card = page.locator(".card", has_text="Amina")
        assert await card.locator("a[href^='tel:']").count() == 1
        await check(page, "phone-calls")
        await card.get_by_label("nådde personen: svar").check()
        # the question as she was asked it, the options as she saw them
        await card.locator("fieldset", has_text="Har ni träffats igen?").get_by_label("Ja").check()
        await card.get_by_role("button", name="Spara samtalet").click()
        await page.get_by_role("status").wait_for()
        assert await aquery(
            db_url,
            "SELECT a.value, a.channel FROM answer a JOIN followup f ON f.id = a.followup_id "
            "JOIN participant p ON p.id = f.participant_id WHERE p.external_id = 'P1'",
        ) == [("yes", "phone")]

        # see Karin's photo, approve it, download the zip
        await page.get_by_role("link", name="Bilder").click()
        image = page.get_by_role("img", name="Bild från Karin")
        await image.wait_for()
        assert await image.evaluate("i => i.complete && i.naturalWidth > 0")
        await check(page, "phone-greetings")
        await page.get_by_role("button", name="Godkänn").click()
        await page.get_by_role("status").wait_for()
        async with page.expect_download() as info:
            await page.get_by_role("link", name="Ladda ner de godkända (zip)").click()
        download = await info.value
        archive = zipfile.ZipFile(await download.path())
        assert "captions.csv" in archive.namelist() and len(archive.namelist()) == 2

        # Amina writes in Arabic after the call, Dariush in Persian; Amina sends a photo with
        # Arabic words (not to be shared): her words on every page, right to left
        assert await world.words_from("amina@example.org", AMINA_WORDS) == "no_open_followup"
        await world.words_from("dariush@example.org", DARIUSH_WORDS)
        await world.greeting_from("P1", AMINA_CAPTION, consent="no")
        await page.get_by_role("link", name="Ord", exact=True).click()
        await page.get_by_role("heading", name="Ord att läsa").wait_for()
        amina = page.locator(".note", has_text=AMINA_WORDS)
        assert await amina.locator(".words").evaluate("e => getComputedStyle(e).direction") == (
            "rtl"
        )
        await check(page, "phone-notes")
        await amina.get_by_label("Vad svarade de?").select_option("will_meet_again=yes")
        await amina.get_by_role("button", name="Spara som svar").click()
        await page.get_by_role("status").wait_for()
        dariush = page.locator(".note", has_text=DARIUSH_WORDS)
        await dariush.get_by_role("button", name="Markera som läst").click()
        await page.get_by_role("status").wait_for()
        assert await aquery(
            db_url,
            "SELECT a.value, a.raw_text FROM answer a JOIN followup f ON f.id = a.followup_id "
            "JOIN participant p ON p.id = f.participant_id WHERE p.external_id = 'P1' "
            "AND a.question = 'will_meet_again'",
        ) == [("yes", AMINA_WORDS)]
        await check(page, "phone-notes-done")
        await page.get_by_role("link", name="Svar", exact=True).click()
        words = page.locator("td .words", has_text=AMINA_WORDS)
        assert await words.evaluate("e => getComputedStyle(e).direction") == "rtl"
        await check(page, "phone-answers")
        await page.get_by_role("link", name="Bilder").click()
        caption = page.locator(".card", has_text=AMINA_CAPTION)
        assert await caption.locator(".words").evaluate("e => getComputedStyle(e).direction") == (
            "rtl"
        )
        await check(page, "phone-greetings-ar")
        await caption.get_by_role("link", name="Amina").click()
        await page.get_by_role("heading", name="Amina").wait_for()
        assert await page.get_by_text(AMINA_WORDS).count() >= 1
        await check(page, "phone-person-ar")
        assert await page.evaluate(
            "() => document.documentElement.scrollWidth <= window.innerWidth"
        ), "the person page is wider than the phone"

        # the report
        await page.get_by_role("link", name="Rapport").click()
        await page.get_by_role("heading", name="Rapport till finansiären").wait_for()
        await check(page, "phone-report")

        # the same pages at desktop size
        await page.set_viewport_size(DESKTOP)
        for path, name in (
            ("/coordinator/", "dashboard"),
            ("/coordinator/greetings", "greetings"),
            ("/coordinator/answers", "answers"),
            ("/coordinator/notes", "notes"),
        ):
            await page.goto(world.base + path)
            await check(page, f"desktop-{name}")
        await browser.close()
    assert problems == []
