"""A bounded fuzz run over the HTTP endpoints that strangers can reach: generated JSON and form
bodies, unsigned and signed, posted over real HTTP to the running app. None may answer 5xx."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.telegram.updates import SECRET_HEADER, WEBHOOK_PATH
from store.models import ApiKey
from tests.integration.test_hostile_http import SECRET, SMS, running

KEY = "fuzz-key-0123456789abcdef"

leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
any_json = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
PERSON_FIELDS = ("participant_id", "first_name", "role", "language", "channel", "phone", "email")
person = st.dictionaries(st.sampled_from(PERSON_FIELDS), leaves | any_json, max_size=8)
match = st.fixed_dictionaries(
    {
        "match_id": leaves,
        "matched_on": st.sampled_from(["2026-05-04", "4/5/2026", "x"]) | leaves,
        "kind": st.sampled_from(["individual", "family"]) | leaves,
        "participants": st.lists(person, max_size=3) | any_json,
    }
)
matches_body = st.fixed_dictionaries({"matches": st.lists(match, max_size=3)}) | any_json
MESSAGE_FIELDS = ("message_id", "date", "chat", "text", "photo", "document", "from", "caption")
update = (
    st.fixed_dictionaries(
        {
            "update_id": st.integers(min_value=-(2**70), max_value=2**70) | leaves,
            "message": st.dictionaries(st.sampled_from(MESSAGE_FIELDS), any_json, max_size=6)
            | any_json,
        }
    )
    | any_json
)
TWILIO_FIELDS = (
    "From",
    "To",
    "Body",
    "MessageSid",
    "SmsSid",
    "NumMedia",
    "AccountSid",
    "MessageStatus",
    "ErrorCode",
    "MediaContentType0",
)
form = st.dictionaries(
    st.sampled_from(TWILIO_FIELDS) | st.text(max_size=10), st.text(max_size=40), max_size=8
)
request = st.one_of(
    st.tuples(st.just("api"), matches_body, st.booleans()),
    st.tuples(st.just("telegram"), update, st.booleans()),
    st.tuples(st.just("sms"), form, st.booleans()),
    st.tuples(st.just("status"), form, st.booleans()),
)


async def test_no_generated_request_gets_a_5xx(db_url: str, tmp_path: Path) -> None:
    async with running(db_url, tmp_path) as service:
        programme = await service.app.programme(None, datetime.now(UTC))
        async with service.app.sessions.begin() as session:
            session.add(
                ApiKey(
                    programme_id=programme.id,
                    key_hash=hashlib.sha256(KEY.encode()).hexdigest(),
                    created_at=datetime.now(UTC),
                )
            )
        seen: list[tuple[str, int]] = []

        @settings(
            max_examples=200,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(request)
        def post(req: tuple[str, object, bool]) -> None:
            where, body, signed = req
            with httpx.Client(base_url=service.url, timeout=30) as http:
                if where == "api":
                    headers = {"Authorization": f"Bearer {KEY if signed else 'nope'}"}
                    response = http.post("/api/matches", content=json.dumps(body), headers=headers)
                elif where == "telegram":
                    headers = {SECRET_HEADER: SECRET if signed else "nope"}
                    response = http.post(WEBHOOK_PATH, content=json.dumps(body), headers=headers)
                else:
                    assert isinstance(body, dict)
                    path = SMS if where == "sms" else "/webhooks/twilio/status"
                    headers = {"X-Twilio-Signature": service.twilio.sign(service.url + path, body)}
                    response = http.post(path, data=body, headers=headers if signed else {})
            seen.append((where, response.status_code))
            assert response.status_code < 500, (where, signed, response.status_code)

        await asyncio.to_thread(post)
        assert {where for where, _ in seen} == {"api", "telegram", "sms", "status"}
