"""`fikafollow links`: one-time Telegram deep links for participants whose chat is not linked."""

from __future__ import annotations

import argparse
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, add_programme
from fikafollow.errors import NotConfigured
from store import telegram_links
from store.reporting import spreadsheet_safe


def register(sub: Subcommands) -> None:
    links = sub.add_parser("links", help="Telegram links for participants not linked yet (CSV)")
    links.add_argument("--out", type=Path, help="file to write (default: standard output)")
    add_programme(links)
    links.set_defaults(handler=cmd_links)


async def cmd_links(app: App, args: argparse.Namespace, out: TextIO) -> int:
    from bot.channels import telegram

    linker = telegram.linker(app.settings, app.channels.get("telegram"))
    if linker is None:
        raise NotConfigured("Telegram is not configured: set FIKAFOLLOW_TELEGRAM_TOKEN")
    username = await linker.username()
    if username is None:
        raise NotConfigured(
            "cannot ask the Bot API for the bot's name: set FIKAFOLLOW_TELEGRAM_BOT_USERNAME"
        )
    now = datetime.now(UTC)
    await app.start()
    programme = await app.programme(args.programme, now)
    lifetime = timedelta(days=app.settings.telegram_link_days)
    target = out if args.out is None else args.out.open("w", encoding="utf-8", newline="")
    try:
        writer = csv.writer(target)
        writer.writerow(["participant_id", "telegram_link"])
        async with app.sessions.begin() as session:
            people = await telegram_links.unlinked(session, programme.id)
            for person in people:
                token = telegram_links.issue(session, person.id, now, lifetime)
                writer.writerow(
                    [spreadsheet_safe(person.external_id), telegram.deep_link(username, token)]
                )
    finally:
        if args.out is not None:
            target.close()
    if args.out is not None:
        out.write(f"{len(people)} links written to {args.out}; each works once, for ")
        out.write(f"{app.settings.telegram_link_days} days\n")
    return 0
