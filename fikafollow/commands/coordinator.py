"""`fikafollow coordinator add|list|remove`: who reads a programme's weekly digest."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, add_programme
from fikafollow.errors import UnknownCoordinator, UsageError
from store import coordinators


def register(sub: Subcommands) -> None:
    coord = sub.add_parser("coordinator", help="who reads a programme's weekly digest")
    actions = coord.add_subparsers(dest="coordinator_command", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="add a coordinator to a programme")
    add_programme(add)
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--language", choices=("sv", "en"), default="sv")
    add.add_argument("--timezone", default="Europe/Stockholm")
    add.add_argument("--digest-weekday", type=int, default=1, help="1 = Monday … 7 = Sunday")
    add.add_argument("--digest-hour", type=int, default=9, help="local hour, 0-23")
    add.set_defaults(handler=cmd_add)

    listing = actions.add_parser("list", help="show coordinators")
    add_programme(listing, help="only this programme")
    listing.set_defaults(handler=cmd_list)

    remove = actions.add_parser("remove", help="remove a coordinator")
    add_programme(remove)
    remove.add_argument("--email", required=True)
    remove.set_defaults(handler=cmd_remove)


async def cmd_list(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await app.start()
    async with app.sessions() as session:
        found = await coordinators.listing(session, args.programme or None)
    for c in found:
        out.write(
            f"{c.programme_id}\t{c.name}\t{c.email}\t{c.language}\t{c.timezone}\t"
            f"digest weekday {c.digest_weekday} at {c.digest_hour:02}:00\n"
        )
    return 0


async def cmd_remove(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await app.start()
    programme = await app.programme(args.programme, datetime.now(UTC))
    async with app.sessions.begin() as session:
        if not await coordinators.remove(session, programme.id, args.email):
            raise UnknownCoordinator(args.email, programme.id)
    out.write(f"coordinator removed from {programme.id}\n")
    return 0


async def cmd_add(app: App, args: argparse.Namespace, out: TextIO) -> int:
    now = datetime.now(UTC)
    await app.start()
    programme = await app.programme(args.programme, now)
    try:
        ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--timezone: unknown time zone {args.timezone!r}") from None
    if "@" not in args.email:
        raise UsageError("--email: not an e-mail address")
    if not 1 <= args.digest_weekday <= 7 or not 0 <= args.digest_hour <= 23:
        raise UsageError("--digest-weekday is 1-7 and --digest-hour 0-23")
    digest = coordinators.DigestTime(args.timezone, args.digest_weekday, args.digest_hour)
    async with app.sessions.begin() as session:
        await coordinators.save(
            session,
            programme.id,
            args.email,
            now,
            name=args.name,
            language=args.language,
            digest=digest,
        )
    out.write(f"coordinator saved in {programme.id}\n")
    return 0
