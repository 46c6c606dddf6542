"""Benchmark: 600 queued Telegram messages at a configured 30/s through the real sender,
python-telegram-bot and the loopback Bot API. Run from the repository root, with the test extras
installed (`make .venv/bin/.installed-test`): `.venv/bin/python -m benchmarks.bench_telegram`.

The acceptance range is 19.5-22 s: the token bucket allows 30 per second with a burst of one, so
600 take at least 599/30 s, and overhead beyond ~2 s would mean the sender cannot keep up.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_load import deliver

COUNT = 600
RATE = 30.0


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        async with FakeTelegram() as fake:
            result = await deliver(url, fake, Path(tmp), count=COUNT, rate=RATE, chats=COUNT)
    once = result.sent_rows == COUNT and set(result.delivered.values()) == {1}
    ok = once and 19.5 <= result.seconds <= 22.0 and len(result.delivered) == COUNT
    print(
        f"{COUNT} messages at {RATE:g}/s: {result.seconds:.2f} s "
        f"({COUNT / result.seconds:.1f} msg/s), each delivered once: {once}; "
        f"{'within' if ok else 'OUTSIDE'} 19.5-22 s"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
