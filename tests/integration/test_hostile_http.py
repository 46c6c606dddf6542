"""Hostile requests to the running web app over real HTTP on loopback (uvicorn), on SQLite and
PostgreSQL: Telegram bodies the library trips on, NUL bytes in an SMS, a database that goes
away. Each gets the status named (200 for what Telegram must not send again, 503 while the
database is away), never a 500, and no log line carries what was sent."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.channels.telegram.updates import SECRET_HEADER, WEBHOOK_PATH
from bot.web import WebContext, create_web_app
from fikafollow.app import App, utc_now
from fikafollow.config import load_settings
from store.models import InboxEvent
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.support.loopback import bound_socket, serving, url_of
from tests.support.tcp_proxy import TcpProxy

SECRET = "s3cret-webhook_token"
SMS = "/webhooks/twilio/sms"
STRANGER = "+46701999888"


@dataclass
class Service:
    app: App
    url: str
    http: httpx.AsyncClient
    telegram: FakeTelegram
    twilio: FakeTwilio

    async def telegram_post(self, body: bytes) -> httpx.Response:
        return await self.http.post(
            self.url + WEBHOOK_PATH, content=body, headers={SECRET_HEADER: SECRET}
        )

    async def sms(self, form: dict[str, str], signed: bool = True) -> httpx.Response:
        return await self.twilio.post(
            self.http, self.url + SMS, form, signature="sign" if signed else None
        )


@asynccontextmanager
async def running(database_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    twilio = FakeTwilio()
    twilio_sock = bound_socket()
    twilio.root = url_of(twilio_sock)
    sock = bound_socket()
    async with FakeTelegram() as telegram, serving(twilio.app(), twilio_sock):
        settings = load_settings(
            database_url=database_url,
            photo_dir=tmp_path / "photos",
            public_url=url_of(sock),
            secret_key="test-secret-key-0123456789",
            telegram_token=TOKEN,
            telegram_api_url=telegram.url,
            telegram_mode="webhook",
            telegram_webhook_secret=SECRET,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_from=FROM_NUMBER,
            twilio_api_url=twilio.root,
        )
        app = App(settings)
        await app.start()
        web = create_web_app(
            WebContext(app.sessions, app.book.days(), "SE", utc_now), app.web_routes()
        )
        try:
            async with serving(web, sock) as url, httpx.AsyncClient(timeout=30) as http:
                telegram.webhook = (url + WEBHOOK_PATH, SECRET)
                yield Service(app, url, http, telegram, twilio)
        finally:
            await app.close()


@pytest.fixture
async def service(db_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    async with running(db_url, tmp_path) as started:
        yield started


def _message(**fields: object) -> dict[str, object]:
    return {"message_id": 1, "date": 1_780_000_000, "chat": {"id": 5, "type": "private"}, **fields}


MALFORMED = {
    "message-a-string": {"update_id": 1, "message": "x"},
    "date-far-future": {"update_id": 2, "message": _message(date=10**20, text="hej")},
    "date-far-past": {"update_id": 3, "message": _message(date=-(10**15), text="hej")},
    "chat-a-string": {"update_id": 4, "message": _message(chat="x")},
    "no-update-id": {"message": _message(text="hej")},
    "update-id-a-string": {"update_id": "x", "message": _message(text="hej")},
    "callback-without-user": {"update_id": 5, "callback_query": {"id": "7"}},
    "photo-sizes-wrong": {"update_id": 6, "message": _message(photo=[{"file_id": 1}])},
    "entities-wrong": {"update_id": 7, "message": _message(text="hej", entities="x")},
    "a-list": [1, 2],
    "empty": {},
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_telegram_body_the_library_trips_on_is_a_200_and_logs_no_content(
    service: Service, body: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await service.telegram_post(json.dumps(body).encode())
    assert response.status_code == 200
    assert "hej" not in caplog.text


async def test_a_telegram_body_that_is_not_json_is_a_200(service: Service) -> None:
    assert (await service.telegram_post(b"{nope")).status_code == 200
    assert (await service.telegram_post(b"\xff\xfe")).status_code == 200


async def test_a_getfile_answer_without_a_path_is_a_200_not_a_500(service: Service) -> None:
    service.telegram.pathless.add("doc1")
    service.telegram.files["doc1"] = b"whatever"
    document = {"file_id": "doc1", "file_unique_id": "udoc1", "mime_type": "image/jpeg"}
    status = await service.telegram.push({"message": _message(document=document)})
    assert status == 200


async def test_nul_bytes_in_an_sms_are_dropped_before_storing(service: Service) -> None:
    response = await service.sms(service.twilio.inbound_form(STRANGER, "hej\x00 d\x00å"))
    assert response.status_code == 200, response.text
    async with service.app.sessions() as session:
        texts = list(await session.scalars(select(InboxEvent.text)))
    assert texts == ["hej då"]


async def test_a_database_that_goes_away_answers_503_and_comes_back(
    postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = TcpProxy(5432)
    await proxy.start()
    through_proxy = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert through_proxy != postgres_url
    try:
        async with running(through_proxy, tmp_path) as service:
            form = service.twilio.inbound_form(STRANGER, "hej")
            assert (await service.sms(form)).status_code == 200
            await proxy.cut()
            caplog.clear()
            answers = [
                await service.sms(service.twilio.inbound_form(STRANGER, "hej igen")),
                await service.telegram_post(
                    json.dumps({"update_id": 9, "message": _message(text="hej")}).encode()
                ),
                await service.http.post(
                    service.url + "/api/matches",
                    json={"matches": []},
                    headers={"Authorization": "Bearer some-key"},
                ),
            ]
            assert [a.status_code for a in answers] == [503, 503, 503]
            assert all(a.headers["retry-after"] == "5" for a in answers)
            assert "Traceback" not in caplog.text and "hej" not in caplog.text
            assert STRANGER not in caplog.text
            # the server is back: the same pool reconnects by itself, Twilio's retry is stored
            await proxy.start()
            again = await service.sms(service.twilio.inbound_form(STRANGER, "hej igen"))
            assert again.status_code == 200
    finally:
        await proxy.cut()


async def test_a_png_bomb_gets_the_photo_rejected_answer_quickly(app: App) -> None:
    # the conversation's own path for a bad photo, in the participant's language
    from tests.integration.test_conversation import outbox_kinds, send, started
    from tests.unit.test_photo_bombs import png

    await started(app)
    begun = time.monotonic()
    assert await send(app, photos=(png(7000, 7000),), photo_types=("image/png",)) == (
        "photo_rejected"
    )
    assert time.monotonic() - begun < 2
    assert await outbox_kinds(app) == ["question", "photo_rejected"]
