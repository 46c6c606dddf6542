"""The coordinators' web app over HTTP: sign-in by a mailed link, one programme's data only,
uploads previewed before anything is written, calls and photo decisions recorded."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from store.models import FollowUp, Participant
from tests.support.coordinator_world import (
    FIRST_EMAIL,
    FIRST_SECRETS,
    OTHER_EMAIL,
    World,
    cli,
    make_world,
)
from tests.support.dbstate import aquery
from tests.support.mail_support import SmtpServer

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
HREF = re.compile(r'(?:href|src)="(/coordinator/[^"]*)"')


@pytest.fixture
async def world(
    db_url: str, tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    async for w in make_world(db_url, tmp_path, smtp_server, monkeypatch):
        yield w


async def sign_in(world: World, address: str) -> Any:
    client = world.client()
    page = await client.get("/coordinator/login")
    token = CSRF.search(page.text)
    assert token
    sent = await client.post("/coordinator/login", data={"email": address, "csrf": token[1]})
    assert sent.status_code == 200
    link = world.sign_in_link(address)
    assert (await client.get(link)).status_code == 200  # a button, not a sign-in yet
    signed = await client.post(link)
    assert signed.status_code == 303
    return client


async def test_a_mailed_link_signs_in_once_with_a_safe_cookie(world: World) -> None:
    client = await sign_in(world, FIRST_EMAIL)
    cookie = [h for k, h in client.cookies.jar._cookies.items()]
    assert cookie
    home = await client.get("/coordinator/")
    assert home.status_code == 200
    assert "Den här veckan" in home.text
    assert "<b>4</b>tillfrågade" in home.text  # the four asked this week, not the other's two
    # the same link a second time signs nobody in
    link = world.sign_in_link(FIRST_EMAIL)
    again = await world.client().post(link)
    assert again.status_code == 403


async def test_set_cookie_is_httponly_and_lax(world: World) -> None:
    client = world.client()
    page = await client.get("/coordinator/login")
    token = CSRF.search(page.text)
    assert token
    await client.post("/coordinator/login", data={"email": FIRST_EMAIL, "csrf": token[1]})
    signed = await client.post(world.sign_in_link(FIRST_EMAIL))
    header = signed.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header
    assert "secure" not in header  # the public URL is http here


async def test_the_same_page_whatever_the_address_and_no_mail_for_strangers(
    world: World,
) -> None:
    client = world.client()
    token = CSRF.search((await client.get("/coordinator/login")).text)
    assert token
    known = await client.post("/coordinator/login", data={"email": FIRST_EMAIL, "csrf": token[1]})
    unknown = await client.post(
        "/coordinator/login", data={"email": "nobody@example.org", "csrf": token[1]}
    )
    assert known.text == unknown.text
    assert not [r for _, rcpts, r in world.smtp.sink.received if "nobody@example.org" in rcpts]


async def test_links_expire_after_15_minutes(world: World) -> None:
    client = world.client()
    token = CSRF.search((await client.get("/coordinator/login")).text)
    assert token
    await client.post("/coordinator/login", data={"email": FIRST_EMAIL, "csrf": token[1]})
    world.clock.move(minutes=16)
    assert (await client.post(world.sign_in_link(FIRST_EMAIL))).status_code == 403


async def test_login_without_csrf_and_login_floods_are_refused(world: World) -> None:
    client = world.client()
    refused = await client.post("/coordinator/login", data={"email": FIRST_EMAIL})
    assert refused.status_code == 403
    token = CSRF.search((await client.get("/coordinator/login")).text)
    assert token
    statuses = [
        (
            await client.post(
                "/coordinator/login", data={"email": "x@example.org", "csrf": token[1]}
            )
        ).status_code
        for _ in range(12)
    ]
    assert 429 in statuses


async def test_a_session_ends_after_8_idle_hours_and_at_sign_out(world: World) -> None:
    client = await sign_in(world, FIRST_EMAIL)
    world.clock.move(hours=7)
    assert (await client.get("/coordinator/")).status_code == 200
    world.clock.move(hours=7)
    assert (await client.get("/coordinator/")).status_code == 200  # seen 7 h ago: still open
    page = await client.get("/coordinator/")
    token = CSRF.search(page.text)
    assert token
    out = await client.post("/coordinator/logout", data={"csrf": token[1]})
    assert out.status_code == 303
    assert (await client.get("/coordinator/")).status_code == 303
    other = await sign_in(world, FIRST_EMAIL)
    world.clock.move(hours=8, minutes=1)
    assert (await other.get("/coordinator/")).status_code == 303


async def test_upload_is_previewed_with_row_problems_and_written_only_when_confirmed(
    world: World, db_url: str
) -> None:
    client = await sign_in(world, FIRST_EMAIL)
    token = CSRF.search((await client.get("/coordinator/matches")).text)
    assert token
    bad = (
        "match_id;matched_on;kind;participant_id;first_name;role;language;channel;phone;email;gender\n"
        "N1;someday;Individ;R1;Åsa;Nyanländ;Arabiska;SMS;070-174 06 20;;Kvinna\n"
    ).encode("cp1252")
    shown = await client.post(
        "/coordinator/matches", data={"csrf": token[1]}, files={"file": ("m.csv", bad)}
    )
    assert shown.status_code == 422
    # said in the coordinator's language (Swedish), by row
    assert "rad 2: matched_on &#39;someday&#39; är inget datum" in shown.text
    assert "rad 2: matchning N1 har bara en deltagare" in shown.text
    good = bad.replace(b"someday", b"4/5/2026") + (
        "N1;4/5/2026;Individ;R2;Björn;Etablerad;Svenska;E-post;;bjorn@example.org;Man\n"
    ).encode("cp1252")
    before = await aquery(db_url, "SELECT count(*) FROM participant")
    preview = await client.post(
        "/coordinator/matches", data={"csrf": token[1]}, files={"file": ("m.csv", good)}
    )
    assert preview.status_code == 200
    assert "Förhandsvisning" in preview.text and "Åsa" in preview.text
    assert await aquery(db_url, "SELECT count(*) FROM participant") == before
    data = re.search(r'name="data" value="([^"]+)"', preview.text)
    assert data
    done = await client.post(
        "/coordinator/matches", data={"csrf": token[1], "data": data[1], "confirm": "yes"}
    )
    assert done.status_code == 200
    assert await aquery(
        db_url, "SELECT first_name, language FROM participant WHERE external_id = 'R1'"
    ) == [("Åsa", "ar")]


async def test_a_form_without_the_session_csrf_token_changes_nothing(
    world: World, db_url: str
) -> None:
    client = await sign_in(world, FIRST_EMAIL)
    sent = await client.post(
        "/coordinator/greetings",
        data={"greeting": str(world.greeting_ids["first"]), "decision": "approved"},
    )
    assert sent.status_code == 403
    assert await aquery(
        db_url, "SELECT social FROM greeting WHERE id = :i", i=world.greeting_ids["first"]
    ) == [(None,)]


async def test_a_call_is_recorded_as_call_record_does(world: World, db_url: str) -> None:
    client = await sign_in(world, FIRST_EMAIL)
    page = await client.get("/coordinator/calls")
    assert 'href="tel:' in page.text and "Amina" in page.text
    token = CSRF.search(page.text)
    assert token
    saved = await client.post(
        "/coordinator/calls",
        data={
            "csrf": token[1],
            "participant": "P1",
            "match": "M1",
            "outcome": "reached",
            "met_again": "yes",
            "will_meet_again": "maybe",
            "note": "glad",
        },
    )
    assert saved.status_code == 200
    assert "Amina" not in saved.text.split("Att ringa", 1)[1].split("Logga ut")[0]
    assert await aquery(
        db_url,
        "SELECT question, value, answer.channel FROM answer JOIN followup ON followup.id = "
        "answer.followup_id JOIN participant ON participant.id = followup.participant_id "
        "WHERE participant.external_id = 'P1' ORDER BY question",
    ) == [("met_again", "yes", "phone"), ("will_meet_again", "maybe", "phone")]


async def test_photos_approved_with_consent_and_downloaded_as_a_zip(world: World) -> None:
    client = await sign_in(world, FIRST_EMAIL)
    page = await client.get("/coordinator/greetings")
    gid = world.greeting_ids["first"]
    assert f"/coordinator/greetings/{gid}/photo" in page.text
    photo = await client.get(f"/coordinator/greetings/{gid}/photo")
    assert photo.status_code == 200 and photo.content[:2] == b"\xff\xd8"
    token = CSRF.search(page.text)
    assert token
    await client.post(
        "/coordinator/greetings",
        data={"csrf": token[1], "greeting": str(gid), "decision": "approved"},
    )
    archive = zipfile.ZipFile(
        io.BytesIO((await client.get("/coordinator/greetings/approved.zip")).content)
    )
    names = archive.namelist()
    assert "captions.csv" in names
    assert any(n.startswith("2026-05-04_M1_") and n.endswith(".jpg") for n in names)
    assert "Vi drack kaffe" in archive.read("captions.csv").decode("utf-8-sig")
    # nobody signed out of it sees a photo
    assert (await world.client().get(f"/coordinator/greetings/{gid}/photo")).status_code == 404


async def test_another_programmes_coordinator_reaches_nothing_of_the_first(world: World) -> None:
    """Crawl every link the second coordinator's pages show, and guess the first's ids."""
    client = await sign_in(world, OTHER_EMAIL)
    seen: set[str] = set()
    todo = [
        "/coordinator/",
        "/coordinator/answers.csv",
        "/coordinator/greetings/approved.zip",
        "/coordinator/report?format=csv",
        "/coordinator/report?format=html",
    ]
    while todo:
        path = todo.pop()
        if path in seen or "logout" in path:
            continue
        seen.add(path)
        response = await client.get(path.replace("&amp;", "&"))
        assert response.status_code == 200, path
        body = response.content
        if response.headers.get("content-type", "").startswith("application/zip"):
            archive = zipfile.ZipFile(io.BytesIO(body))
            body = b"".join(archive.read(n) for n in archive.namelist())
        text = body.decode("utf-8", "replace")
        for secret in FIRST_SECRETS:
            assert secret not in text, (path, secret)
        todo += HREF.findall(text)
    assert len(seen) > 8
    first_photo = world.greeting_ids["first"]
    assert (await client.get(f"/coordinator/greetings/{first_photo}/photo")).status_code == 404
    for guess in range(1, 12):
        person = await client.get(f"/coordinator/people/{guess}")
        assert not any(secret in person.text for secret in FIRST_SECRETS)
    assert (await client.get("/coordinator/?programme=default")).text.count("Sara") == 0


# Persian and Arabic words a parser reads as no answer: they become notes
DARIUSH_WORDS = "ما در کافه بودیم و خیلی حرف زدیم"
AMINA_WORDS = "شربنا القهوة معا وتحدثنا طويلا"


async def test_words_to_read_become_answers_or_are_marked_read(world: World, db_url: str) -> None:
    assert await world.words_from("dariush@example.org", DARIUSH_WORDS) in (
        "not_understood",
        "reprompted",
    )
    assert await world.words_from("amina@example.org", AMINA_WORDS) == "no_open_followup"
    await world.words_from("+46701740611", "مرحبا، من أنتم؟", channel="sms")  # Zainab, other
    notes = dict(
        await aquery(
            db_url,
            "SELECT p.external_id, n.id FROM note n JOIN participant p ON p.id = n.participant_id",
        )
    )
    client = await sign_in(world, FIRST_EMAIL)
    home = await client.get("/coordinator/")
    assert "Ord att läsa (2)" in home.text and 'href="/coordinator/notes' in home.text
    page = await client.get("/coordinator/notes")
    assert page.status_code == 200
    assert f'<p class="words" dir="auto" lang="fa">{DARIUSH_WORDS}</p>' in page.text
    assert f'<p class="words" dir="auto" lang="ar">{AMINA_WORDS}</p>' in page.text
    assert "مرحبا" not in page.text  # the other programme's words
    # every survey's questions can be chosen, in the coordinator's language
    assert (
        'value="met_again=yes"' in page.text and 'value="practised_swedish=a_little"' in page.text
    )
    assert "Efter tre månader" in page.text
    token = CSRF.search(page.text)
    assert token
    # a form without the session's token, and another programme's note: nothing changes
    forged = await client.post(
        "/coordinator/notes", data={"note": str(notes["P1"]), "action": "read"}
    )
    assert forged.status_code == 403
    theirs = await client.post(
        "/coordinator/notes",
        data={
            "csrf": token[1],
            "note": str(notes["Q1"]),
            "action": "answer",
            "answer": "met_again=yes",
        },
    )
    assert theirs.status_code == 404
    wrong = await client.post(
        "/coordinator/notes",
        data={
            "csrf": token[1],
            "note": str(notes["P1"]),
            "action": "answer",
            "answer": "met_again=perhaps",
        },
    )
    assert wrong.status_code == 422
    assert await aquery(db_url, "SELECT count(*) FROM note WHERE read_at IS NOT NULL") == [(0,)]
    # Amina's words become her answer; Dariush's are read
    made = await client.post(
        "/coordinator/notes",
        data={
            "csrf": token[1],
            "note": str(notes["P1"]),
            "action": "answer",
            "answer": "met_again=yes",
        },
    )
    assert made.status_code == 200 and "Sparat." in made.text
    assert "Blev ett svar:</strong> Har ni träffats igen? Ja" in made.text
    read = await client.post(
        "/coordinator/notes", data={"csrf": token[1], "note": str(notes["P3"]), "action": "read"}
    )
    assert read.status_code == 200
    assert await aquery(
        db_url,
        "SELECT a.question, a.value, a.raw_text FROM answer a JOIN followup f ON f.id = "
        "a.followup_id JOIN participant p ON p.id = f.participant_id WHERE p.external_id = 'P1'",
    ) == [("met_again", "yes", AMINA_WORDS)]
    assert await aquery(
        db_url,
        "SELECT p.external_id, n.resolved_as, n.read_at IS NOT NULL FROM note n "
        "JOIN participant p ON p.id = n.participant_id ORDER BY p.external_id",
    ) == [("P1", "met_again=yes", True), ("P3", None, True), ("Q1", None, False)]
    home = await client.get("/coordinator/")
    assert "Ord att läsa (0)" in home.text


async def test_the_call_form_asks_the_questions_of_the_persons_survey(
    world: World, db_url: str
) -> None:
    """Amina's three-month follow-up ran out too: her card for it asks its own questions."""
    async with world.app.sessions.begin() as session:
        amina = await session.scalar(select(Participant).where(Participant.external_id == "P1"))
        assert amina is not None
        first = await session.scalar(select(FollowUp).where(FollowUp.participant_id == amina.id))
        assert first is not None
        session.add(
            FollowUp(
                programme_id=first.programme_id,
                match_id=first.match_id,
                participant_id=amina.id,
                survey="three_months",
                due_at=first.due_at,
                status="expired",
            )
        )
    client = await sign_in(world, FIRST_EMAIL)
    page = await client.get("/coordinator/calls")
    assert page.text.count("Amina</a>") == 2
    assert 'name="practised_swedish" value="a_little"' in page.text
    assert "Har du övat svenska med din fikakompis?" in page.text  # the question as she was asked
    assert 'name="met_again" value="yes"' in page.text
    token = CSRF.search(page.text)
    assert token
    saved = await client.post(
        "/coordinator/calls",
        data={
            "csrf": token[1],
            "participant": "P1",
            "match": "M1",
            "outcome": "reached",
            "practised_swedish": "a_little",
            "new_people": "yes",
        },
    )
    assert saved.status_code == 200 and "Sparat." in saved.text
    assert await aquery(
        db_url,
        "SELECT f.survey, a.question, a.value, a.channel FROM answer a JOIN followup f ON "
        "f.id = a.followup_id JOIN participant p ON p.id = f.participant_id "
        "WHERE p.external_id = 'P1' ORDER BY a.question",
    ) == [
        ("three_months", "new_people", "yes", "phone"),
        ("three_months", "practised_swedish", "a_little", "phone"),
    ]
    refused = await client.post(
        "/coordinator/calls",
        data={
            "csrf": token[1],
            "participant": "P1",
            "match": "M1",
            "outcome": "reached",
            "practised_swedish": "lots",
        },
    )
    assert refused.status_code == 422


async def test_row_problems_read_in_english_for_an_english_coordinator(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await asyncio.to_thread(
        cli,
        world.app.settings.database_url,
        "coordinator",
        "add",
        "--name",
        "Emma",
        "--email",
        "emma@example.org",
        "--language",
        "en",
        monkeypatch=monkeypatch,
    )
    client = await sign_in(world, "emma@example.org")
    token = CSRF.search((await client.get("/coordinator/matches")).text)
    assert token
    bad = (
        "match_id;matched_on;kind;participant_id;first_name;role;language;channel;phone;email;gender\n"
        "N1;someday;Individ;R1;Åsa;Nyanländ;Arabiska;SMS;070-174 06 20;;Kvinna\n"
    ).encode("cp1252")
    shown = await client.post(
        "/coordinator/matches", data={"csrf": token[1]}, files={"file": ("m.csv", bad)}
    )
    assert shown.status_code == 422
    assert "line 2: matched_on &#39;someday&#39; is not a date like 2026-05-14" in shown.text
    assert "line 2: match N1 has only one participant" in shown.text
