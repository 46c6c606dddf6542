"""`fikafollow db upgrade`: bring the schema to the newest version."""

from __future__ import annotations

import argparse
from typing import TextIO

from fikafollow.app import App
from fikafollow.commands.options import Subcommands
from store.migrate import upgrade


def register(sub: Subcommands) -> None:
    db = sub.add_parser("db", help="database schema")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="bring the schema to the newest version").set_defaults(
        handler=cmd_upgrade
    )


async def cmd_upgrade(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await upgrade(app.engine)
    out.write("database schema is up to date\n")
    return 0
