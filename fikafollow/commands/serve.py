"""`fikafollow serve`: the web app, the passes on a timer and the mailbox reader."""

from __future__ import annotations

import argparse
from typing import TextIO

from fikafollow.commands.options import Subcommands
from fikafollow.config import Settings


def register(sub: Subcommands) -> None:
    serve = sub.add_parser("serve", help="run the web app and the scheduled passes")
    serve.add_argument("--host", help="address to listen on (default: FIKAFOLLOW_HOST)")
    serve.add_argument("--port", type=int, help="port (default: FIKAFOLLOW_PORT)")
    serve.set_defaults(standalone=cmd_serve)


async def cmd_serve(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    # uvicorn and APScheduler load only for the command that runs them
    from fikafollow.service import serve

    return await serve(settings, host=args.host, port=args.port)
