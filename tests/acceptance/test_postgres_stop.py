"""PostgreSQL stopped for 8 seconds under load, with `fikafollow serve` taking signed Twilio SMS
webhooks all along: every answer is 2xx or 503 with Retry-After (never 500), nothing answered 2xx
is lost, and `serve` serves again by itself once the database is back.

The test runs its own PostgreSQL cluster (Debian's initdb and pg_ctl, as the `postgres` user, in a
temporary folder, on a free loopback port): stopping the machine's shared server would break
every other test running at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from fikafollow.config import load_settings
from store.database import make_engine
from store.models import InboxEvent
from tests.support.fake_telegram import TOKEN, FakeTelegram, free_port
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.support.loopback import bound_socket, serving, url_of

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REQUIRE_PG = os.environ.get("FIKAFOLLOW_TEST_REQUIRE_POSTGRES") == "1"
WORKERS = 8
AWAY_SECONDS = 8.0
SMS = "/webhooks/twilio/sms"


def _unavailable(reason: str) -> None:
    if REQUIRE_PG:
        pytest.fail(f"FIKAFOLLOW_TEST_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@dataclass
class Cluster:
    """A PostgreSQL cluster of the test's own, run as `postgres` (initdb refuses root)."""

    root: Path
    port: int
    as_postgres: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *command: str) -> None:
        subprocess.run([*self.as_postgres, *command], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self.run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            # its socket in its own folder, TCP on loopback only
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}",
            "-w",
            "start",
        )

    def stop(self) -> None:
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not (PG_BIN / "initdb").exists():
        _unavailable(f"no {PG_BIN}/initdb (Debian's postgresql-15)")
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no postgres user for initdb")
        runuser = shutil.which("runuser")
        if runuser is None:
            _unavailable("running as root and there is no runuser to become postgres")
        as_postgres = [str(runuser), "-u", "postgres", "--"]
    # not under pytest's tmp_path: that folder is root's alone and postgres must write here
    root = Path(tempfile.mkdtemp(prefix="fikafollow-pg-"))
    if as_postgres:
        shutil.chown(root, "postgres")
    made = Cluster(root, free_port(), as_postgres)
    try:
        made.run(
            str(PG_BIN / "initdb"),
            "-D",
            str(made.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        )
        made.start()
    except (subprocess.CalledProcessError, OSError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"could not run a PostgreSQL cluster of the test's own ({exc})")
    try:
        yield made
    finally:
        # already stopped when a test failed while the database was away
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            made.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Load:
    """What the posting workers saw, by phase."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    acknowledged: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    missing_retry_after: int = 0
    transport_errors: Counter[str] = field(default_factory=Counter)
    phase: str = "before"


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_postgres_stopped_for_8_seconds_under_load(cluster: Cluster, tmp_path: Path) -> None:
    twilio = FakeTwilio()
    twilio_sock = bound_socket()
    twilio.root = url_of(twilio_sock)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FIKAFOLLOW_")}
    environ.update(
        FIKAFOLLOW_DATABASE_URL=cluster.url,
        FIKAFOLLOW_PUBLIC_URL=public,
        FIKAFOLLOW_SECRET_KEY="test-secret-key-0123456789",
        FIKAFOLLOW_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        FIKAFOLLOW_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        FIKAFOLLOW_TWILIO_FROM=FROM_NUMBER,
        FIKAFOLLOW_TWILIO_API_URL=twilio.root,
        FIKAFOLLOW_PHOTO_DIR=str(tmp_path / "photos"),
        FIKAFOLLOW_TICK_SECONDS="1",
        FIKAFOLLOW_QUIET_HOURS="00:00-00:01",
    )
    log_path = tmp_path / "serve.log"
    load = Load()
    async with serving(twilio.app(), twilio_sock):
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "fikafollow",
                "serve",
                "--port",
                str(port),
                env=environ,
                stdout=log_file,
                stderr=log_file,
            )
            try:
                async with httpx.AsyncClient(timeout=30) as http:
                    await _until_healthy(http, public, process)
                    await _drive(http, public, twilio, cluster, load)
                    # recovered by itself: the health check and a fresh post are 2xx again
                    health = await http.get(public + "/healthz")
                    assert health.status_code == 200
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(process.wait(), 30)

    logged = log_path.read_text(errors="replace")
    engine = make_engine(load_settings(database_url=cluster.url).database_url)
    try:
        async with engine.connect() as connection:
            stored = set(
                await connection.scalars(
                    select(InboxEvent.provider_id).where(InboxEvent.channel == "sms")
                )
            )
    finally:
        await engine.dispose()
    lost = load.acknowledged - stored
    figures = {
        "statuses": {f"{phase} {code}": n for (phase, code), n in sorted(load.statuses.items())},
        "acknowledged": len(load.acknowledged),
        "refused_503": len(load.refused),
        "stored": len(stored),
        "acknowledged_lost": len(lost),
        "transport_errors": dict(load.transport_errors),
        "tracebacks_in_serve_log": logged.count("Traceback"),
    }
    print("postgres stop figures:", json.dumps(figures, sort_keys=True))
    codes = {code for _phase, code in load.statuses}
    assert codes <= {200, 503}, figures
    assert load.missing_retry_after == 0, figures
    assert not lost, figures
    # the outage was seen (else the test proved nothing) and the service came back
    assert load.statuses[("away", 503)] > 0, figures
    assert load.statuses[("after", 200)] > 0, figures
    assert not load.transport_errors, figures
    assert "Traceback" not in logged, logged[-4000:]


async def _until_healthy(
    http: httpx.AsyncClient, public: str, process: asyncio.subprocess.Process
) -> None:
    async with asyncio.timeout(60):
        while True:
            if process.returncode is not None:
                raise AssertionError(f"serve exited with {process.returncode}")
            try:
                if (await http.get(public + "/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)


async def _drive(
    http: httpx.AsyncClient, public: str, twilio: FakeTwilio, cluster: Cluster, load: Load
) -> None:
    """WORKERS posters throughout: 2 s before the stop, the 8 s away, then until each worker has
    had a run of 2xx again (bounded by the test's timeout)."""
    done = asyncio.Event()
    all_recovered = asyncio.Event()
    recovered: set[int] = set()

    async def worker(number: int) -> None:
        sent = 0
        ok_in_a_row = 0
        while not done.is_set():
            sent += 1
            sid = f"SM{number:02d}{sent:06d}" + "0" * 22
            # a few senders: unknown numbers, so each post is an inbox write plus a look-up
            form = twilio.inbound_form(f"+4670100{number:04d}", f"hej {sent}", sid=sid)
            phase = load.phase
            try:
                response = await twilio.post(http, public + SMS, form)
            except httpx.TransportError as exc:
                load.transport_errors[type(exc).__name__] += 1
                await asyncio.sleep(0.05)
                continue
            load.statuses[(phase, response.status_code)] += 1
            if 200 <= response.status_code < 300:
                load.acknowledged.add(sid)
                ok_in_a_row += 1
                if load.phase == "after" and ok_in_a_row >= 20:
                    recovered.add(number)
                    if len(recovered) == WORKERS:
                        all_recovered.set()
            else:
                ok_in_a_row = 0
                if response.status_code == 503:
                    load.refused.add(sid)
                    if "retry-after" not in response.headers:
                        load.missing_retry_after += 1
                # Twilio waits before trying again; so do we, a little
                await asyncio.sleep(0.05)

    tasks = [asyncio.create_task(worker(n)) for n in range(WORKERS)]
    try:
        await asyncio.sleep(2)
        load.phase = "away"
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(AWAY_SECONDS)
        await asyncio.to_thread(cluster.start)
        load.phase = "after"
        await asyncio.wait_for(all_recovered.wait(), 60)
    finally:
        done.set()
        await asyncio.gather(*tasks)


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_telegram_polling_loses_no_update_while_postgres_is_stopped(
    cluster: Cluster, tmp_path: Path
) -> None:
    """In polling mode the offset is the acknowledgement: updates that arrive while the
    database is away are polled again until they are stored, none skipped."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FIKAFOLLOW_")}
    async with FakeTelegram() as fake:
        environ.update(
            FIKAFOLLOW_DATABASE_URL=cluster.url,
            FIKAFOLLOW_SECRET_KEY="test-secret-key-0123456789",
            FIKAFOLLOW_TELEGRAM_TOKEN=TOKEN,
            FIKAFOLLOW_TELEGRAM_API_URL=fake.url,
            FIKAFOLLOW_TELEGRAM_POLL_TIMEOUT="1",
            FIKAFOLLOW_PHOTO_DIR=str(tmp_path / "photos"),
            FIKAFOLLOW_TICK_SECONDS="1",
            FIKAFOLLOW_QUIET_HOURS="00:00-00:01",
        )
        log_path = tmp_path / "serve.log"
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "fikafollow",
                "serve",
                "--port",
                str(port),
                env=environ,
                stdout=log_file,
                stderr=log_file,
            )
            try:
                async with httpx.AsyncClient(timeout=30) as http:
                    await _until_healthy(http, f"http://127.0.0.1:{port}", process)
                sent = 0

                async def send(count: int) -> None:
                    nonlocal sent
                    for _ in range(count):
                        sent += 1
                        await fake.text(7_000_000 + sent, f"hej {sent}")
                        await asyncio.sleep(0.1)

                await send(10)
                await asyncio.to_thread(cluster.stop)
                await send(40)  # about four seconds with the database away
                await asyncio.sleep(AWAY_SECONDS - 4)
                await asyncio.to_thread(cluster.start)
                await send(10)
                stored = await _telegram_events(cluster, until=sent, within=60)
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(process.wait(), 30)
    logged = log_path.read_text(errors="replace")
    print(f"telegram polling: {sent} updates sent, {stored} stored")
    assert stored == sent, logged[-4000:]
    assert "could not be handled" not in logged


async def _telegram_events(cluster: Cluster, until: int, within: float) -> int:
    """How many Telegram inbound events are stored, waiting up to `within` s for `until`."""
    engine = make_engine(load_settings(database_url=cluster.url).database_url)
    count = 0
    try:
        async with asyncio.timeout(within):
            while True:
                try:
                    async with engine.connect() as connection:
                        found = await connection.scalars(
                            select(InboxEvent.provider_id).where(InboxEvent.channel == "telegram")
                        )
                        count = len(list(found))
                except OSError:
                    count = 0  # the cluster is still starting
                if count >= until:
                    return count
                await asyncio.sleep(0.5)
    except TimeoutError:
        return count
    finally:
        await engine.dispose()
