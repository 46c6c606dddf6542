"""`fikafollow apikey create`: a key for `POST /api/matches`, shown once."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TextIO

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, add_programme
from store import api_keys


def register(sub: Subcommands) -> None:
    key = sub.add_parser("apikey", help="API keys for POST /api/matches")
    actions = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="make a key; it is shown once")
    add_programme(create)
    create.add_argument("--label", default="", help="who the key is for")
    create.set_defaults(handler=cmd_create)


async def cmd_create(app: App, args: argparse.Namespace, out: TextIO) -> int:
    now = datetime.now(UTC)
    await app.start()
    programme = await app.programme(args.programme, now)
    async with app.sessions.begin() as session:
        key = api_keys.create(session, programme.id, args.label, now)
    out.write(f"{key}\n")
    sys.stderr.write("keep this key now: only its hash is stored\n")
    return 0
