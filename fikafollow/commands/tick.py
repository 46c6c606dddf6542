"""`fikafollow tick`: one pass at an instant: start, chase, send."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import TextIO

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, parse_now
from store import followups, outbox


def register(sub: Subcommands) -> None:
    tick = sub.add_parser("tick", help="run one pass: start due follow-ups, send the outbox")
    tick.add_argument("--now", help="the instant of the pass, ISO-8601 (default: now)")
    tick.set_defaults(handler=cmd_tick)


async def cmd_tick(app: App, args: argparse.Namespace, out: TextIO) -> int:
    now = parse_now(args.now, app.settings)
    await app.start()
    await app.programme(None, now)
    # SIGTERM (a deploy, a container stop): the pass finishes the message it is sending, gives
    # back the rest of its batch and exits, so nothing waits out a lease
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, app.sender.stop)
    try:
        result = await app.tick(lambda: now)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
    out.write(
        f"at {now.isoformat()}: started {result.dispatch.started} follow-ups "
        f"({result.dispatch.unreachable} unreachable, {result.dispatch.opted_out} opted out); "
        f"reminded {result.chase.reminded}, moved to another channel {result.chase.moved}, "
        f"expired {result.chase.expired}; "
        f"sent {result.drain.sent}, to retry {result.drain.retried}, failed {result.drain.failed}\n"
    )
    async with app.sessions() as session:
        waiting = await outbox.waiting_without_channel(session, app.channels)
        unreached = await followups.waiting(session)
    if unreached:
        out.write(
            f"waiting: {sum(unreached.values())} follow-ups not yet reachable ("
            + ", ".join(
                f"{name or 'no channel'} {n}" + ("" if name in app.channels else " not configured")
                for name, n in sorted(unreached.items())
            )
            + "); their clocks start when a question goes out\n"
        )
    if waiting:
        out.write(
            "waiting in the outbox for channels that are not configured: "
            + ", ".join(f"{name} {n}" for name, n in sorted(waiting.items()))
            + "\n"
        )
    return 0
