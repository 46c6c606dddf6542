"""Benchmark: signed inbound SMS webhooks per second against `fikafollow serve`, on SQLite and
PostgreSQL. Not a test: run it by hand and compare figures from the same machine.

    python -m benchmarks.bench_sms [--count 2000] [--concurrency 20] [--only sqlite|postgres]

from the repository root with the .venv's Python and its test extras (`make
.venv/bin/.installed-test`): it uses the loopback Twilio look-alike in tests/support/.

The server runs as its own process (as in production) on a free loopback port; this process
only signs and posts the forms (signed before the clock starts) and checks afterwards that each
MessageSid was stored exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import func, select

from store.database import make_engine
from store.models import InboxEvent
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.support.loopback import bound_socket

PG_ADMIN_DSN = os.environ.get(
    "FIKAFOLLOW_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    sock.close()
    return port


async def run_one(name: str, database_url: str, count: int, concurrency: int, work: Path) -> None:
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FIKAFOLLOW_")},
        "FIKAFOLLOW_DATABASE_URL": database_url,
        "FIKAFOLLOW_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "FIKAFOLLOW_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "FIKAFOLLOW_TWILIO_FROM": FROM_NUMBER,
        # nothing is sent during the benchmark; a closed port all the same
        "FIKAFOLLOW_TWILIO_API_URL": "http://127.0.0.1:9",
        "FIKAFOLLOW_PUBLIC_URL": root,
        "FIKAFOLLOW_SECRET_KEY": "bench-secret-key-0123456789",
        "FIKAFOLLOW_PHOTO_DIR": str(work / "photos"),
        "FIKAFOLLOW_LOG_LEVEL": "WARNING",
        "FIKAFOLLOW_TICK_SECONDS": "3600",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fikafollow", "serve", "--port", str(port), env=env, cwd=work
    )
    twilio = FakeTwilio()
    url = root + "/webhooks/twilio/sms"
    warmup = 100
    forms = [
        twilio.inbound_form(f"+4673{i:07d}", "ja", sid=f"SM{uuid.uuid4().hex}")
        for i in range(warmup + count)
    ]
    signed = [(form, {"X-Twilio-Signature": twilio.sign(url, form)}) for form in forms]
    try:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            async with asyncio.timeout(30):
                while True:
                    try:
                        if (await http.get(root + "/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if server.returncode is not None:
                        raise SystemExit(f"{name}: the server stopped ({server.returncode})")
                    await asyncio.sleep(0.1)
            latencies: list[float] = []

            async def post_all(batch: list[tuple[dict[str, str], dict[str, str]]]) -> None:
                items = iter(batch)

                async def worker() -> None:
                    for form, headers in items:
                        started = time.perf_counter()
                        response = await http.post(url, data=form, headers=headers)
                        latencies.append(time.perf_counter() - started)
                        if response.status_code != 200:
                            raise SystemExit(f"{name}: HTTP {response.status_code}")

                await asyncio.gather(*(worker() for _ in range(concurrency)))

            await post_all(signed[:warmup])
            latencies.clear()
            started = time.perf_counter()
            async with asyncio.timeout(600):
                await post_all(signed[warmup:])
            elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            stored = await conn.scalar(select(func.count(func.distinct(InboxEvent.provider_id))))
            rows = await conn.scalar(select(func.count()).select_from(InboxEvent))
    finally:
        await engine.dispose()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    check = "ok" if stored == rows == warmup + count else f"MISMATCH {rows} rows"
    print(
        f"{name:10} {count} signed inbound SMS, {concurrency} in flight: "
        f"{count / elapsed:7.0f} req/s  (p50 {p50:.1f} ms, p99 {p99:.1f} ms; stored once each: "
        f"{check})",
        flush=True,
    )


async def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_sms")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.only in (None, "sqlite"):
            url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
            await run_one("SQLite", url, args.count, args.concurrency, work)
        if args.only in (None, "postgres"):
            name = f"fikafollow_bench_{uuid.uuid4().hex[:8]}"
            admin = await asyncpg.connect(PG_ADMIN_DSN)
            await admin.execute(f'CREATE DATABASE "{name}"')
            base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            try:
                await run_one("PostgreSQL", f"{base}/{name}", args.count, args.concurrency, work)
            finally:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
