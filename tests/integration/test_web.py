"""The web app over HTTP: health, and POST /api/matches with a hashed bearer key."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.web import WebContext, create_web_app
from fikafollow.app import App
from fikafollow.commands import main
from store.models import ApiKey
from tests.support.dbstate import aquery

NOW = datetime(2026, 5, 10, 10, 0, tzinfo=UTC)
KEY = "test-key-0123456789abcdef"
BODY = {
    "matches": [
        {
            "match_id": "A1",
            "matched_on": "2026-05-04",
            "kind": "family",
            "participants": [
                {
                    "participant_id": "Q1",
                    "first_name": "Samira",
                    "role": "newcomer",
                    "language": "ar",
                    "channel": "sms",
                    "phone": "0701234519",
                },
                {
                    "participant_id": "Q2",
                    "first_name": "Peter",
                    "role": "established",
                    "language": "en",
                    "channel": "email",
                    "email": "peter@example.org",
                    "gender": "man",
                },
            ],
        }
    ]
}


@pytest.fixture
async def client(app: App) -> AsyncIterator[httpx.AsyncClient]:
    programme = await app.programme(None, NOW)
    async with app.sessions.begin() as session:
        session.add(
            ApiKey(
                programme_id=programme.id,
                key_hash=hashlib.sha256(KEY.encode()).hexdigest(),
                created_at=NOW,
            )
        )
    web = create_web_app(WebContext(app.sessions, app.book.days(), "SE", lambda: NOW))
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_healthz_says_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_matches_are_imported_with_a_valid_key_and_only_once(
    client: httpx.AsyncClient, app: App
) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    first = await client.post("/api/matches", json=BODY, headers=auth)
    assert first.status_code == 200
    assert first.json()["followups_created"] == 2
    again = await client.post("/api/matches", json=BODY, headers=auth)
    assert again.json() == {
        "matches_created": 0,
        "matches_changed": 0,
        "participants_created": 0,
        "participants_changed": 0,
        "followups_created": 0,
        "followups_moved": 0,
    }
    phones = await aquery(app.settings.database_url, "SELECT phone FROM participant ORDER BY id")
    assert phones == [("+46701234519",), (None,)]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}],
    ids=["missing", "wrong", "not-bearer"],
)
async def test_a_request_without_a_valid_key_is_refused(
    client: httpx.AsyncClient, app: App, headers: dict[str, str]
) -> None:
    response = await client.post("/api/matches", json=BODY, headers=headers)
    assert response.status_code == 401
    assert await aquery(app.settings.database_url, "SELECT count(*) FROM matches") == [(0,)]


async def test_bad_matches_are_all_reported_and_nothing_is_written(
    client: httpx.AsyncClient, app: App
) -> None:
    body = {"matches": [{**BODY["matches"][0], "kind": "club"}]}
    body["matches"][0]["participants"] = [
        {**BODY["matches"][0]["participants"][0], "language": "de"},
        BODY["matches"][0]["participants"][1],
    ]
    response = await client.post(
        "/api/matches", json=body, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 422
    reasons = {(e["where"], e["reason"].split(" is ")[0]) for e in response.json()["errors"]}
    assert ("matches[0].participants[0]", "language 'de'") in reasons
    assert ("matches[0].participants[1]", "kind 'club'") in reasons
    assert await aquery(app.settings.database_url, "SELECT count(*) FROM participant") == [(0,)]


def _dated(*dates: str, **extra: object) -> dict[str, object]:
    """The body with one copy of its match per date, each with ids of its own."""
    match = BODY["matches"][0]
    matches = [
        {
            **match,
            "match_id": f"D{i}",
            "matched_on": day,
            "participants": [
                {**p, "participant_id": f"D{i}{p['participant_id']}"} for p in match["participants"]
            ],
        }
        for i, day in enumerate(dates)
    ]
    return {"matches": matches, **extra}


async def test_a_first_meeting_in_the_future_or_long_ago_is_a_422_naming_the_match(
    client: httpx.AsyncClient, app: App
) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    # NOW is 2026-05-10: the 11th is tomorrow, 90 days back is 2026-02-09
    body = _dated("2026-05-04", "2026-05-11", "2026-02-08", "2026-02-09")
    response = await client.post("/api/matches", json=body, headers=auth)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["where"] for e in errors] == ["matches[1].matched_on", "matches[2].matched_on"]
    assert "in the future" in errors[0]["reason"]
    assert "more than 90 days ago" in errors[1]["reason"] and "accept_old" in errors[1]["reason"]
    assert await aquery(app.settings.database_url, "SELECT count(*) FROM matches") == [(0,)]
    # accept_old lets the old one in; the future one stays an error whatever the flag says
    response = await client.post(
        "/api/matches", json=_dated("2026-02-08", "2026-05-11", accept_old=True), headers=auth
    )
    assert response.status_code == 422
    assert [e["where"] for e in response.json()["errors"]] == ["matches[1].matched_on"]
    response = await client.post(
        "/api/matches", json=_dated("2026-02-08", accept_old=True), headers=auth
    )
    assert response.status_code == 200 and response.json()["matches_created"] == 1
    stored = await aquery(app.settings.database_url, "SELECT matched_on FROM matches")
    assert [str(day) for (day,) in stored] == ["2026-02-08"]


async def test_accept_old_must_be_a_boolean(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/matches",
        json=_dated("2026-05-04", accept_old="yes"),
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert response.status_code == 422
    assert [e["where"] for e in response.json()["errors"]] == ["accept_old"]


async def test_a_body_that_is_not_json_is_a_clear_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/matches", content=b"{nope", headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 400 and response.json()["error"] == "body is not JSON"


def _with(field: str, value: object) -> dict[str, object]:
    """BODY with the second participant's `field` set to `value`."""
    match = BODY["matches"][0]
    people = [match["participants"][0], {**match["participants"][1], field: value}]
    return {"matches": [{**match, "participants": people}]}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("first_name", {"$ne": 1}, "valid string"),
        ("first_name", ["Peter"], "valid string"),
        ("first_name", True, "valid string"),
        ("participant_id", 1.5, "valid string"),
        ("participant_id", "Q 2; drop", "match pattern"),
        ("first_name", "P" * 201, "at most 200"),
        ("first_name", "Pe\x00ter", "control character"),
        ("first_name", "Pe\x1bter", "control character"),
        ("language", "en\x00", "control character"),
        ("nickname", "Pete", "not permitted"),
    ],
    ids=[
        "object",
        "list",
        "bool",
        "float-id",
        "id-pattern",
        "long",
        "nul",
        "escape",
        "nul-word",
        "unknown-field",
    ],
)
async def test_a_value_of_the_wrong_shape_is_a_422_naming_the_field_and_nothing_is_written(
    client: httpx.AsyncClient, app: App, field: str, value: object, reason: str
) -> None:
    response = await client.post(
        "/api/matches", json=_with(field, value), headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["where"] for e in errors] == [f"matches[0].participants[1].{field}"]
    assert reason in errors[0]["reason"]
    assert "Peter" not in response.text  # a refused value is never echoed back
    assert await aquery(app.settings.database_url, "SELECT count(*) FROM participant") == [(0,)]


@pytest.mark.parametrize(
    "body", [b"[" * 100_000, b'{"matches":' * 50_000 + b"1"], ids=["list", "obj"]
)
async def test_deep_nesting_is_refused_never_a_500(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post(
        "/api/matches", content=body, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code in (400, 422)


async def test_the_key_is_checked_before_the_body_is_parsed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/matches", content=b"[" * 100_000, headers={"Authorization": "Bearer wrong"}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "unknown or revoked API key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_health_and_the_api_over_real_http(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    assert main(["apikey", "create", "--label", "test"]) == 0
    key = capsys.readouterr().out.strip()
    port = free_port()
    environ = {**os.environ, "FIKAFOLLOW_DATABASE_URL": db_url, "FIKAFOLLOW_TICK_SECONDS": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "fikafollow", "serve", "--port", str(port)],
        env=environ,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        # on the real clock: a first meeting of last week, inside the API's date window
        last_week = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
        response = httpx.post(
            f"{base}/api/matches",
            json={"matches": [{**BODY["matches"][0], "matched_on": last_week}]},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["matches_created"] == 1
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    # no personal data reaches the log
    for secret in ("Samira", "0701234519", "+46701234519", "peter@example.org", key):
        assert secret not in err
