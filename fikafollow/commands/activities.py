"""`fikafollow activities import FILE | list | remove NAME`: a programme's local activities."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, add_programme
from fikafollow.errors import UsageError
from store import activities
from store.match_files import FileProblem, read_table


def register(sub: Subcommands) -> None:
    acts = sub.add_parser("activities", help="the local activities a programme suggests")
    actions = acts.add_subparsers(dest="activities_command", required=True, metavar="ACTION")
    imp = actions.add_parser(
        "import",
        help=f"add or change activities from a CSV or .xlsx ({', '.join(activities.COLUMNS)})",
    )
    imp.add_argument("file", type=Path)
    add_programme(imp)
    imp.set_defaults(handler=cmd_import)
    listing = actions.add_parser("list", help="show a programme's activities")
    add_programme(listing)
    listing.set_defaults(handler=cmd_list)
    remove = actions.add_parser("remove", help="remove an activity by its name")
    remove.add_argument("name")
    add_programme(remove)
    remove.set_defaults(handler=cmd_remove)


async def cmd_import(app: App, args: argparse.Namespace, out: TextIO) -> int:
    now = datetime.now(UTC)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        checked = activities.check_table(read_table(data))
    except FileProblem as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    if checked.errors:
        # a file with any bad row imports nothing, and says every problem
        lines = "; ".join(f"{where}: {reason}" for where, reason in checked.errors)
        raise UsageError(f"{args.file}: nothing imported: {lines}")
    await app.start()
    programme = await app.programme(args.programme, now)
    async with app.sessions.begin() as session:
        added, changed = await activities.save(session, programme.id, checked.rows, now)
    out.write(f"{len(checked.rows)} activities read: {added} new, {changed} changed\n")
    return 0


async def cmd_list(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await app.start()
    programme = await app.programme(args.programme, datetime.now(UTC))
    async with app.sessions() as session:
        found = await activities.listing(session, programme.id)
    if not found:
        out.write("no activities\n")
    for a in found:
        if a.age_min is None:
            ages = ""
        else:
            ages = f"{a.age_min}+" if a.age_max is None else f"{a.age_min}-{a.age_max}"
        out.write(
            "\t".join(
                (a.name, a.for_kind, ages, a.when, a.where, a.price, a.languages, a.link)
            ).rstrip("\t")
            + "\n"
        )
    return 0


async def cmd_remove(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await app.start()
    programme = await app.programme(args.programme, datetime.now(UTC))
    async with app.sessions.begin() as session:
        removed = await activities.remove(session, programme.id, args.name)
    if not removed:
        raise UsageError(f"no activity named {args.name!r} in programme {programme.id}")
    out.write(f"activity {args.name!r} removed\n")
    return 0
