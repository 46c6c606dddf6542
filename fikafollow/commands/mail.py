"""`fikafollow mail poll`: read e-mail replies from the mailbox and send what they cause."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TextIO

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, parse_now
from fikafollow.errors import NotConfigured


def register(sub: Subcommands) -> None:
    mail = sub.add_parser("mail", help="e-mail replies")
    actions = mail.add_subparsers(dest="mail_command", required=True, metavar="ACTION")
    poll = actions.add_parser("poll", help="read replies from the mailbox (FIKAFOLLOW_IMAP_*)")
    poll.add_argument("--once", action="store_true", help="read what is there now, then stop")
    poll.add_argument("--now", help="the instant the replies are recorded at (with --once)")
    poll.set_defaults(handler=cmd_poll)


async def cmd_poll(app: App, args: argparse.Namespace, out: TextIO) -> int:
    from bot.channels import email

    reader = email.mailbox_reader(app.settings, app.channel_context())
    if reader is None:
        raise NotConfigured("set FIKAFOLLOW_IMAP_HOST, _USERNAME and _PASSWORD to read replies")
    await app.start()
    await app.programme(None, datetime.now(UTC))
    if not args.once:
        await reader.run(lambda: datetime.now(UTC), float(app.settings.imap_poll_seconds))
        return 0
    now = parse_now(args.now, app.settings)
    result = await reader.poll_once(lambda: now)
    outcomes = ", ".join(f"{name} {n}" for name, n in sorted((result.outcomes or {}).items()))
    out.write(f"{result.seen} messages read" + (f": {outcomes}" if outcomes else "") + "\n")
    # what the replies caused (the next question, a thank-you) goes out now
    drained = await app.sender.drain(lambda: now)
    if drained.sent:
        out.write(f"sent {drained.sent}\n")
    return 0
