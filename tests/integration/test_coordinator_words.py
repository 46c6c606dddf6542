"""What a coordinator reads on the person timeline and the call list: words in their language
(Swedish or English), never the codes the tables keep, over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.test_coordinator_web import sign_in
from tests.support.coordinator_world import FIRST_EMAIL, World, cli, make_world
from tests.support.dbstate import aquery
from tests.support.mail_support import SmtpServer

CODE = re.compile(r"\b[a-z_]+:[a-z_]*:[a-z_]+\b")


@pytest.fixture
async def world(
    db_url: str, tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    async for w in make_world(db_url, tmp_path, smtp_server, monkeypatch):
        yield w


async def _person_id(db_url: str, external_id: str) -> int:
    rows = await aquery(
        db_url,
        "SELECT id FROM participant WHERE programme_id = 'default' AND external_id = :e",
        e=external_id,
    )
    return int(rows[0][0])


def _timeline(html: str) -> str:
    return html.split("<ol", 1)[1].split("</ol>", 1)[0]


async def test_the_timeline_names_messages_and_the_language_in_swedish(
    world: World, db_url: str
) -> None:
    client = await sign_in(world, FIRST_EMAIL)
    amina = await _person_id(db_url, "P1")
    page = (await client.get(f"/coordinator/people/{amina}")).text
    # the language by its name, and by its own name, which Amina recognises on the phone
    assert 'arabiska (<bdi lang="ar" dir="auto">العربية</bdi>) · e-post' in page
    events = _timeline(page)
    assert "utgående · e-post · fråga · Har ni träffats igen? · skickat" in events
    assert not CODE.search(events), events
    for code in ("question", "met_again", " ar ", "email"):
        assert code not in events.split('<div class="words"')[0], code


async def test_the_timeline_in_english_for_an_english_coordinator(
    world: World, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await asyncio.to_thread(
        cli, db_url, "coordinator", "add", "--name", "Ann", "--email", "ann@example.org",
        "--language", "en", monkeypatch=monkeypatch,
    )  # fmt: skip
    client = await sign_in(world, "ann@example.org")
    karin = await _person_id(db_url, "P2")
    page = (await client.get(f"/coordinator/people/{karin}")).text
    # Swedish is called the same in itself as in Swedish, not in English
    assert "Swedish (<bdi" in page and "svenska</bdi>" in page
    events = _timeline(page)
    assert "outgoing · e-mail · question · Have you met again? · sent" in events, events
    assert not CODE.search(events), events


async def _unreachable_by_bounce(db_url: str, external_id: str) -> None:
    """As a bounce leaves a person whose only address died: the e-mail refused for good
    (the reason as bot/inbound.py keeps it) and nothing else to ask on."""
    person = await _person_id(db_url, external_id)
    await aquery(
        db_url,
        "UPDATE outbox SET status = 'failed', last_error = 'bounce 5.1.1: mailbox does not"
        " exist' WHERE participant_id = :p",
        p=person,
    )
    await aquery(db_url, "UPDATE participant SET dead_channels = 'email' WHERE id = :p", p=person)
    await aquery(
        db_url, "UPDATE followup SET status = 'unreachable' WHERE participant_id = :p", p=person
    )


async def test_the_call_list_says_why_in_the_coordinators_language(
    world: World, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _unreachable_by_bounce(db_url, "P3")
    client = await sign_in(world, FIRST_EMAIL)
    page = (await client.get("/coordinator/calls")).text
    assert '<p class="problem">E-post går inte: adressen finns inte</p>' in page
    assert "not possible" not in page and "mailbox" not in page
    # each language by its name, and its own name beside it
    assert 'Persiska (<bdi lang="fa" dir="auto">فارسی</bdi>) (1)' in page
    await asyncio.to_thread(
        cli, db_url, "coordinator", "add", "--name", "Ann", "--email", "ann@example.org",
        "--language", "en", monkeypatch=monkeypatch,
    )  # fmt: skip
    english = (await (await sign_in(world, "ann@example.org")).get("/coordinator/calls")).text
    assert '<p class="problem">E-mail not possible: mailbox does not exist</p>' in english


async def test_the_notes_page_shows_what_strangers_wrote_without_their_address(
    world: World,
) -> None:
    assert await world.words_from("+46709999123", "Hej, det är Amina, ny telefon", "sms") == (
        "unknown_sender"
    )
    client = await sign_in(world, FIRST_EMAIL)
    page = (await client.get("/coordinator/notes")).text
    strangers = page.split('<h2 id="unknown">', 1)[1]
    assert strangers.startswith("Från avsändare vi inte känner (1)</h2>")
    assert "Hej, det är Amina, ny telefon" in strangers and "…123 · sms" in strangers
    assert "+46709999123" not in page


async def test_answers_name_language_and_channel_and_filter_by_name(world: World) -> None:
    client = await sign_in(world, FIRST_EMAIL)
    calls = await client.get("/coordinator/calls")
    token = re.search(r'name="csrf" value="([^"]+)"', calls.text)
    assert token
    saved = await client.post(
        "/coordinator/calls",
        data={"csrf": token[1], "participant": "P1", "match": "M1", "outcome": "reached",
              "met_again": "yes", "will_meet_again": "yes"},
    )  # fmt: skip
    assert saved.status_code == 200
    page = (await client.get("/coordinator/answers?language=ar")).text
    assert "(arabiska, telefon, M1)" in page and "(ar, phone" not in page
    assert '<option value="ar" selected>arabiska</option>' in page
    assert '<option value="phone" >telefon</option>' in page
    other = (await client.get("/coordinator/answers?language=sv")).text
    assert "(arabiska, telefon, M1)" not in other
