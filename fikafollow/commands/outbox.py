"""`fikafollow outbox retry`: send again what an outage failed for good."""

from __future__ import annotations

import argparse
from typing import TextIO

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, parse_now
from store import outbox
from store.vocabulary import CHANNELS


def register(sub: Subcommands) -> None:
    group = sub.add_parser("outbox", help="the queue of outgoing messages")
    actions = group.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    retry = actions.add_parser(
        "retry",
        help="queue again the messages whose retries ran out (an outage), not those a provider "
        "refused for good; the next tick sends them",
    )
    retry.add_argument(
        "--failed-since", metavar="T", help="only those that failed at or after T, ISO-8601"
    )
    retry.add_argument("--channel", choices=CHANNELS, help="only those on this channel")
    retry.set_defaults(handler=cmd_retry)


async def cmd_retry(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await app.start()
    now = parse_now(None, app.settings)
    since = (
        parse_now(args.failed_since, app.settings, "--failed-since")
        if args.failed_since is not None
        else None
    )
    async with app.sessions.begin() as session:
        queued = await outbox.retry_failed(session, now, since, args.channel)
    out.write(f"queued again {queued} messages\n")
    return 0
