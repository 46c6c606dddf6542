"""A programme's settings and activities in the coordinators' web app, over HTTP on SQLite and
PostgreSQL: the same store functions as the command line, CSRF on every form, each coordinator
only their own programme."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_coordinator_web import CSRF, sign_in
from tests.support.coordinator_world import FIRST_EMAIL, OTHER_EMAIL, World, cli, make_world
from tests.support.dbstate import aquery
from tests.support.mail_support import SmtpServer

ACTIVITIES = """name,for,ages,when,where,price,languages,link
Yoga för kvinnor,individual,,tisdagar 18-19,Folkets hus,gratis,"ar,fa,sv",https://example.org/yoga
Familjelördag,family,2-10,lördagar 10-13,Stadsbiblioteket,gratis,,
Drop-in-fotboll,both,12+,onsdagar 17,Idrottsplatsen,20 kr,,
""".encode()
BAD = b"name,for,ages\nBoule,alla,3-1\n"


@pytest.fixture
async def world(
    db_url: str, tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    async for w in make_world(db_url, tmp_path, smtp_server, monkeypatch):
        yield w


async def token(client: Any, path: str) -> str:
    found = CSRF.search((await client.get(path)).text)
    assert found
    return found[1]


async def programme_row(db_url: str, programme: str) -> tuple[Any, ...]:
    rows = await aquery(
        db_url,
        "SELECT surveys, send_calendar, ramadan_evenings, ramadan_by_language FROM programme"
        " WHERE id = :p",
        p=programme,
    )
    surveys, calendar, evenings, by_language = rows[0]
    return surveys, bool(calendar), bool(evenings), bool(by_language)


async def count(db_url: str, sql: str, **params: Any) -> int:
    return int((await aquery(db_url, sql, **params))[0][0])


async def test_settings_change_surveys_calendar_and_ramadan_as_programme_set_does(
    world: World, db_url: str
) -> None:
    client = await sign_in(world, FIRST_EMAIL)
    page = await client.get("/coordinator/settings")
    assert page.status_code == 200
    for words in ("Enkäter", "Helgdagskalender", "Kvällar under ramadan", "Efter tre månader"):
        assert words in page.text
    assert 'value="three_weeks" checked' in page.text
    assert 'value="three_months" >' in page.text
    before = await programme_row(db_url, "default")
    choices = {
        "surveys": ["three_weeks", "three_months"],
        "send_calendar": "on",
        "ramadan": "language",
    }
    # no CSRF token, or a stale one: nothing changes
    assert (await client.post("/coordinator/settings", data=choices)).status_code == 403
    forged = {**choices, "csrf": "x" * 32}
    assert (await client.post("/coordinator/settings", data=forged)).status_code == 403
    assert await programme_row(db_url, "default") == before
    # a value the page never offers: refused whole
    csrf = await token(client, "/coordinator/settings")
    bad = await client.post(
        "/coordinator/settings", data={**choices, "ramadan": "sometimes", "csrf": csrf}
    )
    assert bad.status_code == 422 and "Inte sparat" in bad.text
    assert await programme_row(db_url, "default") == before
    saved = await client.post("/coordinator/settings", data={**choices, "csrf": csrf})
    assert saved.status_code == 200
    assert "Sparat." in saved.text
    assert await programme_row(db_url, "default") == ("three_weeks,three_months", True, True, True)
    # the three-month survey reaches the existing matches, as `programme set --surveys` does
    months = "SELECT count(*) FROM followup WHERE programme_id = :p AND survey = 'three_months'"
    assert await count(db_url, months, p="default") == 4
    assert "Uppföljningar planerade för matchningar som redan finns: 4" in saved.text
    # the blocked days of the next 30: nationaldagen and midsommarafton (from 25 May 2026)
    assert "2026-06-19: hela dagen, Midsommarafton" in saved.text
    assert 'value="language" checked' in saved.text
    # turned off again: the follow-ups not started are withdrawn
    csrf = await token(client, "/coordinator/settings")
    off = {"surveys": "three_weeks", "send_calendar": "off", "ramadan": "off", "csrf": csrf}
    assert (await client.post("/coordinator/settings", data=off)).status_code == 200
    assert await programme_row(db_url, "default") == ("three_weeks", False, False, False)
    assert await count(db_url, months, p="default") == 0


async def test_a_coordinator_sets_only_their_own_programme(world: World, db_url: str) -> None:
    client = await sign_in(world, OTHER_EMAIL)
    before = await programme_row(db_url, "default")
    csrf = await token(client, "/coordinator/settings?programme=default")
    changed = await client.post(
        "/coordinator/settings?programme=default",
        data={"surveys": "three_months", "send_calendar": "on", "ramadan": "on", "csrf": csrf},
    )
    assert changed.status_code == 200
    assert await programme_row(db_url, "default") == before
    assert await programme_row(db_url, "other") == ("three_months", True, True, False)


async def test_activities_are_listed_uploaded_and_removed(world: World, db_url: str) -> None:
    client = await sign_in(world, FIRST_EMAIL)
    page = await client.get("/coordinator/activities")
    assert page.status_code == 200 and "Inga aktiviteter än." in page.text
    csrf = await token(client, "/coordinator/activities")
    upload = {"file": ("aktiviteter.csv", ACTIVITIES, "text/csv")}
    refused = await client.post("/coordinator/activities", files=upload)
    assert refused.status_code == 403
    saved = await client.post("/coordinator/activities", data={"csrf": csrf}, files=upload)
    assert saved.status_code == 200
    assert "Sparat: 3 nya, 0 ändrade." in saved.text
    assert "Familjelördag" in saved.text and "ålder 2–10" in saved.text
    assert "För familjer" in saved.text and "arabiska, persiska, svenska" in saved.text
    acts = "SELECT count(*) FROM activity WHERE programme_id = :p"
    assert await count(db_url, acts, p="default") == 3
    # a bad file saves nothing and says where
    bad = await client.post(
        "/coordinator/activities",
        data={"csrf": csrf},
        files={"file": ("bad.csv", BAD, "text/csv")},
    )
    assert bad.status_code == 422
    assert "line 2: for must be individual, family, both" in bad.text
    assert "Inget sparades" in bad.text
    assert await count(db_url, acts, p="default") == 3
    # the same file again changes nothing
    again = await client.post("/coordinator/activities", data={"csrf": csrf}, files=upload)
    assert "Sparat: 0 nya, 0 ändrade." in again.text
    # the Remove button only asks; the removal is the confirm page's own POST
    asked = await client.post(
        "/coordinator/activities", data={"csrf": csrf, "name": "Familjelördag"}
    )
    assert asked.status_code == 200 and "Ta bort aktiviteten?" in asked.text
    assert 'name="confirm" value="yes"' in asked.text and csrf in asked.text
    assert await count(db_url, acts, p="default") == 3
    kept = await client.get("/coordinator/activities")
    assert "Familjelördag" in kept.text
    unconfirmed = await client.post(
        "/coordinator/activities", data={"csrf": csrf, "name": "Familjelördag", "confirm": "no"}
    )
    assert "Ta bort aktiviteten?" in unconfirmed.text
    assert await count(db_url, acts, p="default") == 3
    forged = await client.post(
        "/coordinator/activities", data={"name": "Familjelördag", "confirm": "yes"}
    )
    assert forged.status_code == 403
    assert await count(db_url, acts, p="default") == 3
    removed = await client.post(
        "/coordinator/activities",
        data={"csrf": csrf, "name": "Familjelördag", "confirm": "yes"},
    )
    assert removed.status_code == 200 and "Borttagen." in removed.text
    assert "Familjelördag" not in removed.text
    assert await count(db_url, acts, p="default") == 2
    no_csrf = await client.post("/coordinator/activities", data={"name": "Drop-in-fotboll"})
    assert no_csrf.status_code == 403
    # the other programme's coordinator cannot remove the first's activities
    other = await sign_in(world, OTHER_EMAIL)
    other_csrf = await token(other, "/coordinator/activities")
    for confirm in ("", "yes"):
        guess = await other.post(
            "/coordinator/activities?programme=default",
            data={"csrf": other_csrf, "name": "Drop-in-fotboll", "confirm": confirm},
        )
        assert guess.status_code == 404 and "Drop-in-fotboll" not in guess.text
    assert "Drop-in-fotboll" not in (await other.get("/coordinator/activities")).text
    assert await count(db_url, acts, p="default") == 2


async def test_the_pages_in_english(
    world: World, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await asyncio.to_thread(
        cli, db_url, "coordinator", "add", "--name", "Ann", "--email", "ann@example.org",
        "--language", "en", monkeypatch=monkeypatch,
    )  # fmt: skip
    client = await sign_in(world, "ann@example.org")
    page = (await client.get("/coordinator/settings")).text
    for words in (
        "Surveys",
        'After three months <span class="muted">(90 days after the first fika)',
        "Holiday calendar",
        'For participants whose language suggests it <span class="muted">(Arabic, Persian, Somali)',
        "For every participant",
    ):
        assert words in page
    activities = (await client.get("/coordinator/activities")).text
    assert "No activities yet." in activities and "Upload the activities" in activities
