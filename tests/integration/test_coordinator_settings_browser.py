"""The settings and activities pages in a real browser at phone size, in Swedish: every control
reached by its label, saved, and no serious accessibility problem (axe-core). Screenshots go to
test-artifacts/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.test_coordinator_browser import ARTIFACTS, PHONE, axe_script
from tests.integration.test_coordinator_settings import ACTIVITIES
from tests.integration.test_email_pages_browser import CHROMIUM_ARGS
from tests.support.coordinator_world import FIRST_EMAIL, World, make_world
from tests.support.dbstate import aquery
from tests.support.mail_support import CHROMIUM, SmtpServer, require_or_skip


@pytest.fixture
async def world(
    db_url: str, tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    if not CHROMIUM.exists():
        require_or_skip("Chromium is not installed (scripts/test-services.sh installs it as root)")
    if db_url.startswith("postgresql"):
        # the pages are the same on either database (test_coordinator_settings.py runs both
        # over HTTP); one browser run is enough for two shared cores
        pytest.skip("browser run on SQLite only")
    async for w in make_world(db_url, tmp_path, smtp_server, monkeypatch):
        yield w


async def test_settings_and_activities_on_a_phone_in_swedish(
    world: World, db_url: str, tmp_path: Path
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
        await page.screenshot(path=str(ARTIFACTS / f"coordinator-{name}.png"), full_page=True)

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

        await page.get_by_role("link", name="Inställningar").click()
        await page.get_by_label("Tre månader").check()
        await page.get_by_role("group", name="Helgdagskalender").get_by_label("På").check()
        await page.get_by_label("För deltagare vars språk tyder på det").check()
        await page.get_by_role("button", name="Spara inställningarna").click()
        await page.get_by_role("status").wait_for()
        await check(page, "phone-settings")
        rows = await aquery(
            db_url,
            "SELECT surveys, send_calendar, ramadan_by_language FROM programme"
            " WHERE id = 'default'",
        )
        assert [(s, bool(c), bool(r)) for s, c, r in rows] == [
            ("three_weeks,three_months", True, True)
        ]

        await page.get_by_role("link", name="Aktiviteter").click()
        upload = tmp_path / "aktiviteter.csv"
        upload.write_bytes(ACTIVITIES)
        await page.get_by_label("Excelfil (.xlsx) eller CSV").set_input_files(str(upload))
        await page.get_by_role("button", name="Ladda upp aktiviteterna").click()
        await page.get_by_text("Sparat: 3 nya, 0 ändrade.").wait_for()
        await check(page, "phone-activities")
        await page.get_by_role("button", name="Ta bort: Familjelördag").click()
        # a page that asks first, without JavaScript; "no" keeps it
        await page.get_by_role("heading", name="Ta bort aktiviteten?").wait_for()
        await check(page, "phone-activity-remove")
        await page.get_by_role("link", name="Nej, behåll den").click()
        await page.get_by_role("heading", name="Familjelördag").wait_for()
        await page.get_by_role("button", name="Ta bort: Familjelördag").click()
        await page.get_by_role("button", name="Ja, ta bort den").click()
        await page.get_by_text("Borttagen.").wait_for()
        assert await page.get_by_role("heading", name="Familjelördag").count() == 0
        await browser.close()
    assert not problems, problems
