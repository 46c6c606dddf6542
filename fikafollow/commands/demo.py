"""`fikafollow demo`: three weeks of follow-ups on a sample, offline, in its own folder."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TextIO

from fikafollow.commands.options import Subcommands
from fikafollow.config import Settings


def register(sub: Subcommands) -> None:
    demo = sub.add_parser("demo", help="play three weeks of follow-ups on a sample, offline")
    demo.add_argument("--dir", type=Path, default=Path("fikafollow-demo"), help="where to work")
    demo.set_defaults(standalone=cmd_demo)


async def cmd_demo(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from fikafollow.demo import run_demo

    # the demo's reader wants the conversation, not the service's log lines
    logging.getLogger().setLevel(logging.WARNING)
    return await run_demo(args.dir, out)
