"""Every request and response of the web app, over real HTTP on loopback: a body too large is
refused with 413 while it streams in (chunked too), and HTML pages carry the security headers."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import uvicorn

from bot.web import MAX_BODY, WebContext, create_web_app
from fikafollow.app import App
from fikafollow.coordinator_web import web_routes_for_coordinators
from store.models import ApiKey
from tests.support.fake_telegram import free_port


@asynccontextmanager
async def serving(app: App, https: bool = False) -> AsyncIterator[str]:
    web = create_web_app(
        WebContext(app.sessions, app.book.days(), "SE", lambda: datetime.now(UTC), https=https),
        web_routes_for_coordinators(app),
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_a_chunked_body_past_the_limit_is_refused_while_it_streams(app: App) -> None:
    # a valid key: the API checks it before reading the body, so only a key holder streams one
    programme = await app.programme(None, datetime.now(UTC))
    async with app.sessions.begin() as session:
        session.add(
            ApiKey(
                programme_id=programme.id,
                key_hash=hashlib.sha256(b"any-key").hexdigest(),
                created_at=datetime.now(UTC),
            )
        )
    async with serving(app) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(
                b"POST /api/matches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer any-key\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"[" * 64 * 1024
            # a little more than the limit, and the body never ends: a server that reads it
            # whole first would wait for the rest and never answer
            for _ in range(MAX_BODY // len(chunk) + 2):
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
            status = await asyncio.wait_for(reader.readline(), timeout=10)
        finally:
            writer.close()
    assert status.startswith(b"HTTP/1.1 413")


async def test_a_declared_length_past_the_limit_is_refused_before_reading(app: App) -> None:
    async with serving(app) as url, httpx.AsyncClient() as client:
        response = await client.post(
            f"{url}/api/matches",
            content=b"x" * (MAX_BODY + 1),
            headers={"Authorization": "Bearer any-key"},
        )
        assert response.status_code == 413
        # a webhook's limit is tighter than a page's
        response = await client.post(f"{url}/webhooks/telegram", content=b"x" * (2 * 1024 * 1024))
        assert response.status_code == 413
        # under the limit, the endpoint answers as before
        small = await client.post(
            f"{url}/api/matches", content=b"{}", headers={"Authorization": "Bearer any-key"}
        )
        assert small.status_code == 401


async def test_html_pages_carry_the_security_headers(app: App) -> None:
    async with serving(app) as url, httpx.AsyncClient() as client:
        page = await client.get(f"{url}/coordinator/login")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in page.headers
        health = await client.get(f"{url}/healthz")
        assert health.headers["x-content-type-options"] == "nosniff"
    async with serving(app, https=True) as url, httpx.AsyncClient() as client:
        page = await client.get(f"{url}/coordinator/login")
        assert page.headers["strict-transport-security"].startswith("max-age=")
