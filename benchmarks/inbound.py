"""Figure 3: signed inbound SMS webhooks per second through `fikafollow serve`, each committed
before it is answered (durable), 20 in flight, on SQLite and PostgreSQL; beside a bare Starlette
endpoint parsing the same form on the same server setup. The senders are not participants, so
each post is stored, found to be from nobody, and answered: the path every post takes first.

The load comes from a raw HTTP/1.1 keep-alive client (`Posting`): 20 connections, every
request's bytes prepared before the clock starts, each response read to the end of its
Content-Length. A general client (httpx) spends ~1 ms of CPU per request on this machine and so
measured itself (760/s for the bare endpoint), not the server. Beside each rate, the server's own
CPU time per post (from /proc, user + system) says what a post costs whatever the machine's load.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select

from benchmarks.fakes import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio, bound_socket
from benchmarks.outbound import NOW
from benchmarks.population import ROOT, create_schema, database, env
from benchmarks.report import Report
from store.database import make_engine
from store.models import InboxEvent

CONCURRENCY = 20
PATH = "/webhooks/twilio/sms"
# set to a folder to have each server run under cProfile (one .prof file per run there)
PROFILE_ENV = "FIKAFOLLOW_BENCH_PROFILE"


def free_port() -> int:
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def signed_posts(port: int, count: int) -> list[bytes]:
    """Each post's request bytes, signed over the URL the server knows itself by."""
    twilio = FakeTwilio()
    url = f"http://127.0.0.1:{port}{PATH}"
    requests = []
    for i in range(count):
        form = twilio.inbound_form(f"+4673{i:07d}", "ja", sid=f"SM{uuid.uuid4().hex}")
        body = urlencode(form).encode()
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-Twilio-Signature: {twilio.sign(url, form)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


class _Connection(asyncio.Protocol):
    """One keep-alive connection that sends its next request when the last answer is in."""

    def __init__(self, posting: Posting) -> None:
        self.posting = posting
        self.buffer = b""
        self.started = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send_next(self) -> None:
        request = self.posting.next_request()
        if request is None:
            self.posting.connection_done()
            return
        self.started = time.perf_counter()
        assert self.transport is not None
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            length = None
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length is None:
                self.posting.fail(f"no Content-Length in {head[0]!r}")
                return
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            status = head[0].split(" ", 2)
            if len(status) < 2 or status[1] != "200":
                self.posting.fail(f"answered {head[0]!r}")
                return
            self.posting.latencies.append(time.perf_counter() - self.started)
            self.send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.posting.finished.done():
            self.posting.fail(f"connection lost ({type(exc).__name__ if exc else 'closed'})")


class Posting:
    """`requests` posted over `CONCURRENCY` keep-alive connections; every answer must be 200."""

    def __init__(self, requests: list[bytes]) -> None:
        self.requests = iter(requests)
        self.latencies: list[float] = []
        self.open = 0
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def next_request(self) -> bytes | None:
        return next(self.requests, None)

    def connection_done(self) -> None:
        self.open -= 1
        if self.open == 0 and not self.finished.done():
            self.finished.set_result(None)

    def fail(self, why: str) -> None:
        if not self.finished.done():
            self.finished.set_exception(RuntimeError(why))

    async def run(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        connections = []
        for _ in range(CONCURRENCY):
            transport, connection = await loop.create_connection(
                lambda: _Connection(self), "127.0.0.1", port
            )
            connections.append((transport, connection))
        self.open = len(connections)
        for _transport, connection in connections:
            connection.send_next()
        try:
            await asyncio.wait_for(self.finished, 300)
        finally:
            for transport, _connection in connections:
                transport.close()


async def _healthy(port: int, server: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(60):
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                pass
            else:
                writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
                status = await reader.readline()
                writer.close()
                if status.split(b" ")[1:2] == [b"200"]:
                    return
            if server.returncode is not None:
                raise RuntimeError(f"the server stopped ({server.returncode})")
            await asyncio.sleep(0.1)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5); here after the name, from field 3 on
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def post_all(
    port: int, posts: list[bytes], server: asyncio.subprocess.Process
) -> tuple[float, float, float]:
    """Posts per second, p99 latency (ms) and the server's CPU ms per post, after a warm-up of
    the first tenth."""
    await _healthy(port, server)
    warmup = len(posts) // 10
    await Posting(posts[:warmup]).run(port)
    measured = Posting(posts[warmup:])
    cpu = _cpu_seconds(server.pid)
    started = time.perf_counter()
    await measured.run(port)
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds(server.pid) - cpu
    latencies = sorted(measured.latencies)
    p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000
    count = len(posts) - warmup
    return count / elapsed, p99, cpu * 1000 / count


async def _server(
    argv: list[str], environment: dict[str, str] | None, cwd: Path, name: str
) -> asyncio.subprocess.Process:
    profile = os.environ.get(PROFILE_ENV)
    if profile:
        out = Path(profile) / f"{name}-{uuid.uuid4().hex[:6]}.prof"
        argv = ["cProfile", "-o", str(out), "-m", *argv]
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", *argv, env=environment, cwd=cwd
    )


async def _stop(server: asyncio.subprocess.Process) -> None:
    if server.returncode is None:
        server.terminate()
    await asyncio.wait_for(server.wait(), 30)


async def through_serve(kind: str, count: int, work: Path) -> tuple[float, str]:
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    posts = signed_posts(port, count)
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
        server = await _server(
            ["fikafollow", "serve", "--port", str(port)], environment, work, f"serve-{kind}"
        )
        try:
            rate, p99, cpu_ms = await post_all(port, posts, server)
        finally:
            await _stop(server)
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                distinct = func.count(func.distinct(InboxEvent.provider_id))
                stored = await conn.scalar(select(distinct))
        finally:
            await engine.dispose()
    note = f"p99 {p99:.0f} ms, server CPU {cpu_ms:.2f} ms/post"
    if stored != count:
        note += f"; {stored} of {count} stored"
    return rate, note


async def bare(count: int, work: Path) -> tuple[float, str]:
    port = free_port()
    posts = signed_posts(port, count)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = await _server(["benchmarks.bare_endpoint", str(port)], environment, work, "bare")
    try:
        rate, p99, cpu_ms = await post_all(port, posts, server)
    finally:
        await _stop(server)
    return rate, f"p99 {p99:.0f} ms, server CPU {cpu_ms:.2f} ms/post"


async def run(report: Report, quick: bool, work: Path) -> None:
    count = 100 if quick else 3000
    # the bare endpoint is cheap: enough posts that the ceiling is not its warm-up
    ceiling, note = await bare(max(count * 5, 500), work)
    report.add("inbound.bare_starlette", ceiling, "posts/s", note=note)
    for kind in ("sqlite", "postgres"):
        rate, note = await through_serve(kind, count, work)
        report.add(f"inbound.{kind}", rate, "posts/s", ceiling, note)
