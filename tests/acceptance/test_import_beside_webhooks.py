"""A large import does not shut out the webhooks on SQLite (issue #14): `fikafollow serve` and
a 50,000-row `fikafollow import` in subprocesses on one SQLite file, signed Twilio SMS posts
throughout the import. The import writes in committed batches, so every post gets its turn at
the one write lock: all answered 2xx, all stored."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from store.database import make_engine
from tests.support.dbstate import aquery
from tests.support.fake_telegram import free_port
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

ROWS = 50_000
LANGUAGES = ("sv", "en", "ar", "ti", "fa")
NOW = "2026-06-10T10:30:00+02:00"


def match_file(path: Path, rows: int) -> Path:
    lines = ["match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone"]
    lines[0] += ",email,gender"
    for n in range(rows):
        role = ("newcomer", "established")[n % 2]
        lines.append(
            f"M{n // 2},2026-06-01,individual,P{n},Person,{role},{LANGUAGES[n % 5]},sms,"
            f"+46731{n:06d},,"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def environ(db_url: str, tmp: Path, root: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIKAFOLLOW_")}
    env.update(
        FIKAFOLLOW_DATABASE_URL=db_url,
        FIKAFOLLOW_PHOTO_DIR=str(tmp / "photos"),
        FIKAFOLLOW_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        FIKAFOLLOW_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        FIKAFOLLOW_TWILIO_FROM=FROM_NUMBER,
        # the posts come from no participant: nothing is sent, and nowhere it could go
        FIKAFOLLOW_TWILIO_API_URL="http://127.0.0.1:9",
        FIKAFOLLOW_PUBLIC_URL=root,
        FIKAFOLLOW_SECRET_KEY="test-secret-key-0123456789",
        FIKAFOLLOW_LOG_LEVEL="WARNING",
        FIKAFOLLOW_TICK_SECONDS="3600",
        FIKAFOLLOW_QUIET_HOURS="00:00-00:01",
    )
    return env


async def fikafollow(
    args: list[str], env: dict[str, str], piped: bool = False
) -> asyncio.subprocess.Process:
    pipe = asyncio.subprocess.PIPE if piped else None
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fikafollow", *args, env=env, stdout=pipe, stderr=pipe
    )


async def until_healthy(
    http: httpx.AsyncClient, root: str, server: asyncio.subprocess.Process
) -> None:
    async with asyncio.timeout(60):
        while True:
            try:
                if (await http.get(root + "/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert server.returncode is None, f"serve exited {server.returncode}"
            await asyncio.sleep(0.1)


async def test_signed_sms_posts_during_a_50000_row_import_all_get_2xx(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'fika.db'}"
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    env = environ(db_url, tmp_path, root)
    setup = await fikafollow(["programme", "set", "default", "--quiet-hours", "00:00-00:01"], env)
    assert await asyncio.wait_for(setup.wait(), 60) == 0
    csv = match_file(tmp_path / "matches.csv", ROWS)
    twilio = FakeTwilio()
    url = root + "/webhooks/twilio/sms"
    statuses: list[int] = []
    during = 0
    slowest = 0.0
    server = await fikafollow(["serve", "--port", str(port)], env)
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            await until_healthy(http, root, server)
            started = time.monotonic()
            importing = await fikafollow(
                ["import", str(csv), "--now", NOW],
                env,
                piped=True,
            )
            output = asyncio.ensure_future(importing.communicate())

            async def poster(lane: int) -> None:
                nonlocal during, slowest
                n = 0
                while not output.done():
                    form = twilio.inbound_form(f"+4670{lane}{n:06d}", "ja")
                    signature = {"X-Twilio-Signature": twilio.sign(url, form)}
                    sent = time.monotonic()
                    response = await http.post(url, data=form, headers=signature)
                    slowest = max(slowest, time.monotonic() - sent)
                    statuses.append(response.status_code)
                    if importing.returncode is None:
                        during += 1
                    n += 1

            seen: set[int] = set()

            async def watcher() -> None:
                # what a reader sees mid-import: batches committed one by one (a plain reader,
                # which WAL never blocks nor lets block a writer)
                reader = sqlite3.connect(f"file:{tmp_path / 'fika.db'}?mode=ro", uri=True)
                try:
                    while not output.done():
                        seen.add(reader.execute("SELECT count(*) FROM matches").fetchone()[0])
                        await asyncio.sleep(0.05)
                finally:
                    reader.close()

            async with asyncio.timeout(600):
                await asyncio.gather(watcher(), *(poster(lane) for lane in range(4)))
                out, err = await output
            seconds = time.monotonic() - started
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
    assert importing.returncode == 0, err.decode()[-2000:]
    assert f"{ROWS} rows checked" in out.decode()
    print(
        f"import {seconds:.1f} s; {len(statuses)} posts, {during} while importing, "
        f"slowest {slowest * 1000:.0f} ms; match counts seen {len(seen)}"
    )
    assert during > 0
    # the import's writes became visible in steps, not all at once at the end
    assert any(0 < count < ROWS // 2 for count in seen), sorted(seen)
    assert [s for s in statuses if not 200 <= s < 300] == []
    stored = await aquery(db_url, "SELECT count(DISTINCT provider_id) FROM inbox")
    assert stored == [(len(statuses),)]
    counts = await aquery(
        db_url,
        "SELECT (SELECT count(*) FROM matches), (SELECT count(*) FROM participant), "
        "(SELECT count(*) FROM followup)",
    )
    assert counts == [(ROWS // 2, ROWS, ROWS)]


async def test_an_import_killed_mid_write_leaves_whole_matches_and_runs_again_to_the_end(
    db_url: str, tmp_path: Path
) -> None:
    # Large enough that its writes take seconds (30 batches): the kill lands mid-write even on
    # a loaded CI machine. At 10,000 rows (10 batches, a few hundred ms) a busy machine once let
    # the whole file commit before the kill.
    rows = 30_000
    env = environ(db_url, tmp_path, "http://127.0.0.1:9")
    csv = match_file(tmp_path / "matches.csv", rows)
    importing = await fikafollow(
        ["import", str(csv), "--now", NOW],
        env,
        piped=True,
    )
    # One connection polled throughout (opening an engine per look costs more than a batch).
    # On SQLite a plain read-only reader: the service's engine begins every transaction with
    # BEGIN IMMEDIATE, so its reader would queue behind the import's write lock and look late.
    count = "SELECT count(*) FROM matches"
    if db_url.startswith("sqlite"):
        reader = sqlite3.connect(f"file:{db_url.split(':///', 1)[1]}?mode=ro", uri=True)

        async def matches_now() -> int:
            return int(reader.execute(count).fetchone()[0])

        close: Any = reader.close
    else:
        watcher = make_engine(db_url)
        conn = await watcher.connect()

        async def matches_now() -> int:
            found = (await conn.execute(text(count))).scalar_one()
            await conn.rollback()
            return int(found)

        async def close() -> None:
            await conn.close()
            await watcher.dispose()

    try:
        async with asyncio.timeout(300):
            # killed as soon as its first batches are committed
            while importing.returncode is None:
                if await matches_now() > 0:
                    importing.kill()
                    break
                await asyncio.sleep(0.01)
    finally:
        closed = close()
        if asyncio.iscoroutine(closed):
            await closed
    async with asyncio.timeout(60):
        _, err = await importing.communicate()
    assert importing.returncode == -9, err.decode()[-2000:]
    written = (await aquery(db_url, "SELECT count(*) FROM matches"))[0][0]
    print(f"killed with {written} of {rows // 2} matches written")
    assert 0 < written < rows // 2
    # what was written is the file's first matches, each whole
    assert await aquery(
        db_url,
        "SELECT count(*) FROM matches WHERE CAST(substr(external_id, 2) AS INTEGER) >= :n",
        n=written,
    ) == [(0,)]
    assert await whole_matches(db_url) == written

    for expected in (f"{rows // 2 - written} new and 0 changed matches", "0 new and 0 changed"):
        again = await fikafollow(
            ["import", str(csv), "--now", NOW],
            env,
            piped=True,
        )
        out, err = await asyncio.wait_for(again.communicate(), 300)
        assert again.returncode == 0, err.decode()[-2000:]
        assert expected in out.decode()
    assert await whole_matches(db_url) == rows // 2
    assert await aquery(db_url, "SELECT count(*) FROM participant") == [(rows,)]


async def whole_matches(db_url: str) -> int:
    """Matches with both members and a follow-up each; fails on any that is not whole."""
    found = await aquery(
        db_url,
        "SELECT m.id, (SELECT count(*) FROM match_member mm WHERE mm.match_id = m.id),"
        " (SELECT count(*) FROM followup f WHERE f.match_id = m.id) FROM matches m",
    )
    assert [row for row in found if row[1:] != (2, 2)] == []
    return len(found)
