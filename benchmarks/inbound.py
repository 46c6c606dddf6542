"""Figure 3: signed inbound SMS webhooks per second through `fikafollow serve`, each committed
before it is answered (durable), 20 in flight, on SQLite and PostgreSQL; beside a bare Starlette
endpoint parsing the same form on the same server setup. The senders are not participants, so
each post is stored, found to be from nobody, and answered: the path every post takes first.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import func, select

from benchmarks.fakes import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio, bound_socket
from benchmarks.outbound import NOW
from benchmarks.population import ROOT, create_schema, database, env
from benchmarks.report import Report
from store.database import make_engine
from store.models import InboxEvent

CONCURRENCY = 20
Signed = list[tuple[dict[str, str], dict[str, str]]]


def free_port() -> int:
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def signed_posts(url: str, count: int) -> Signed:
    twilio = FakeTwilio()
    forms = [
        twilio.inbound_form(f"+4673{i:07d}", "ja", sid=f"SM{uuid.uuid4().hex}")
        for i in range(count)
    ]
    return [(form, {"X-Twilio-Signature": twilio.sign(url, form)}) for form in forms]


async def post_all(
    root: str, posts: Signed, server: asyncio.subprocess.Process
) -> tuple[float, float]:
    """Posts per second and p99 latency (ms), after a warm-up of the first tenth."""
    url = root + "/webhooks/twilio/sms"
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        async with asyncio.timeout(60):
            while True:
                try:
                    if (await http.get(root + "/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.returncode is not None:
                    raise RuntimeError(f"the server stopped ({server.returncode})")
                await asyncio.sleep(0.1)
        latencies: list[float] = []

        async def send(batch: Signed) -> None:
            items = iter(batch)

            async def worker() -> None:
                for form, headers in items:
                    started = time.perf_counter()
                    response = await http.post(url, data=form, headers=headers)
                    latencies.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise RuntimeError(f"HTTP {response.status_code}")

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))

        warmup = len(posts) // 10
        await send(posts[:warmup])
        latencies.clear()
        started = time.perf_counter()
        await send(posts[warmup:])
        elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000
    return (len(posts) - warmup) / elapsed, p99


async def _server(
    argv: list[str], environment: dict[str, str] | None, cwd: Path
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", *argv, env=environment, cwd=cwd
    )


async def _stop(server: asyncio.subprocess.Process) -> None:
    if server.returncode is None:
        server.terminate()
    await asyncio.wait_for(server.wait(), 30)


async def through_serve(kind: str, count: int, work: Path) -> tuple[float, float, str]:
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    posts = signed_posts(root + "/webhooks/twilio/sms", count)
    async with database(kind, work) as url:
        await create_schema(url, work, NOW)
        environment = env(
            url,
            work,
            FIKAFOLLOW_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            FIKAFOLLOW_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            FIKAFOLLOW_TWILIO_FROM=FROM_NUMBER,
            # nothing is sent here; a closed port all the same
            FIKAFOLLOW_TWILIO_API_URL="http://127.0.0.1:9",
            FIKAFOLLOW_PUBLIC_URL=root,
        )
        server = await _server(["fikafollow", "serve", "--port", str(port)], environment, work)
        try:
            rate, p99 = await post_all(root, posts, server)
        finally:
            await _stop(server)
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                distinct = func.count(func.distinct(InboxEvent.provider_id))
                stored = await conn.scalar(select(distinct))
        finally:
            await engine.dispose()
    note = f"p99 {p99:.0f} ms"
    if stored != count:
        note += f"; {stored} of {count} stored"
    return rate, p99, note


async def bare(count: int, work: Path) -> float:
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    posts = signed_posts(root + "/webhooks/twilio/sms", count)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = await _server(["benchmarks.bare_endpoint", str(port)], environment, work)
    try:
        rate, _ = await post_all(root, posts, server)
    finally:
        await _stop(server)
    return rate


async def run(report: Report, quick: bool, work: Path) -> None:
    count = 100 if quick else 3000
    # the bare endpoint is cheap: enough posts that the ceiling is not its warm-up
    ceiling = await bare(max(count * 2, 400), work)
    report.add("inbound.bare_starlette", ceiling, "posts/s")
    for kind in ("sqlite", "postgres"):
        rate, _, note = await through_serve(kind, count, work)
        report.add(f"inbound.{kind}", rate, "posts/s", ceiling, note)
