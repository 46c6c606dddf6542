"""The pages that now say words instead of codes, in a real browser at phone size in Swedish:
the call list with why a person is unreachable, a person's timeline, and the words of senders
we do not know. No serious accessibility problem (axe-core), nothing wider than the phone;
screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.test_coordinator_browser import ARTIFACTS, OVERFLOW, PHONE, axe_script
from tests.integration.test_coordinator_words import _person_id, _unreachable_by_bounce
from tests.integration.test_email_pages_browser import CHROMIUM_ARGS
from tests.support.coordinator_world import FIRST_EMAIL, World, make_world
from tests.support.mail_support import CHROMIUM, SmtpServer, require_or_skip


@pytest.fixture
async def world(
    db_url: str, tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    if not CHROMIUM.exists():
        require_or_skip("Chromium is not installed (scripts/test-services.sh installs it as root)")
    if db_url.startswith("postgresql"):
        # the words are the same on either database (test_coordinator_words.py runs both)
        pytest.skip("browser run on SQLite only")
    async for w in make_world(db_url, tmp_path, smtp_server, monkeypatch):
        yield w


async def test_calls_timeline_and_strangers_read_as_words_on_a_phone(
    world: World, db_url: str
) -> None:
    from playwright.async_api import Page, async_playwright

    axe = axe_script()
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []

    async def check(page: Page, name: str) -> None:
        await page.add_script_tag(content=axe)
        result = await page.evaluate("async () => await axe.run(document)")
        for v in result["violations"]:
            if v["impact"] in ("serious", "critical"):
                problems.append(f"{name}: {v['id']} {v['help']}")
        outside = await page.evaluate(OVERFLOW)
        if outside:
            problems.append(f"{name}: wider than the screen: {outside}")
        await page.screenshot(path=str(ARTIFACTS / f"coordinator-{name}.png"), full_page=True)

    await _unreachable_by_bounce(db_url, "P3")
    assert await world.words_from("+46709999123", "Hej, det är Amina, ny telefon", "sms") == (
        "unknown_sender"
    )
    amina = await _person_id(db_url, "P1")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport=PHONE, locale="sv-SE", bypass_csp=True)
        page = await context.new_page()
        await page.goto(world.base + "/coordinator/login")
        await page.get_by_label("Din e-postadress").fill(FIRST_EMAIL)
        await page.get_by_role("button", name="Skicka en länk").click()
        await page.get_by_role("heading", name="Titta i din e-post").wait_for()
        await page.goto(world.sign_in_link(FIRST_EMAIL))
        await page.get_by_role("button", name="Logga in i fikafollow").click()
        await page.get_by_role("heading", name="Den här veckan").wait_for()

        await page.get_by_role("link", name="Samtal").click()
        await page.get_by_role("heading", name="Persiska (فارسی) (1)").wait_for()
        await page.get_by_text("E-post går inte: adressen finns inte").wait_for()
        await check(page, "phone-calls-reason")

        await page.goto(world.base + f"/coordinator/people/{amina}")
        await page.get_by_role("heading", name="Amina").wait_for()
        await page.get_by_text(
            "utgående · e-post · fråga · Har ni träffats igen? · skickat"
        ).wait_for()
        await check(page, "phone-person-words")

        await page.goto(world.base + "/coordinator/notes#unknown")
        await page.get_by_role("heading", name="Från avsändare vi inte känner (1)").wait_for()
        await page.get_by_text("Hej, det är Amina, ny telefon").wait_for()
        await check(page, "phone-notes-strangers")
        await browser.close()
    assert not problems, problems
