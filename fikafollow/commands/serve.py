"""`fikafollow serve`: the web app, the passes on a timer and the mailbox reader."""

from __future__ import annotations

import argparse
import asyncio
from typing import TextIO

from fikafollow.commands.options import Subcommands
from fikafollow.config import Settings


def register(sub: Subcommands) -> None:
    serve = sub.add_parser("serve", help="run the web app and the scheduled passes")
    serve.add_argument("--host", help="address to listen on (default: FIKAFOLLOW_HOST)")
    serve.add_argument("--port", type=int, help="port (default: FIKAFOLLOW_PORT)")
    serve.set_defaults(standalone=cmd_serve, loop_factory=fast_loop)


def fast_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when it is installed (Linux, macOS), else asyncio's own.

    `serve` awaits uvicorn's `Server.serve()` inside the command's event loop, so uvicorn's
    own loop setting never applies: the loop is chosen here, before it starts. The webhooks'
    throughput is mostly event-loop overhead on this path (issue 15)."""
    try:
        import uvloop
    except ImportError:  # Windows has none; asyncio's loop serves the same, slower
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def cmd_serve(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    # uvicorn and APScheduler load only for the command that runs them
    from fikafollow.service import serve

    return await serve(settings, host=args.host, port=args.port)
