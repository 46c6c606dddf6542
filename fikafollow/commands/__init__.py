"""The `fikafollow` command: one module per command group, each declaring its arguments beside
its handler (`register(sub)` adds the subparser and `set_defaults(handler=...)`).

Errors: what the person at the terminal can put right (`fikafollow.errors.CommandError`, a bad
setting, an old schema) is one line on standard error and exit 2; a database that cannot be
opened is one line naming FIKAFOLLOW_DATABASE_URL and exit 1; anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import TextIO

from fikafollow import __version__
from fikafollow.app import App
from fikafollow.commands import (
    activities,
    apikey,
    calendar,
    calls,
    coordinator,
    db,
    demo,
    digest,
    export,
    import_,
    links,
    mail,
    notes,
    outbox,
    participant,
    programme,
    report,
    serve,
    tick,
)
from fikafollow.config import ConfigError, Settings, load_settings
from fikafollow.errors import CommandError
from store.database import DatabaseUnreachable
from store.media import MediaUnavailable
from store.migrate import SchemaBehind

# in the order `fikafollow --help` lists them
COMMANDS = (
    db,
    import_,
    tick,
    outbox,
    export,
    links,
    serve,
    demo,
    apikey,
    mail,
    programme,
    calendar,
    activities,
    coordinator,
    calls,
    notes,
    digest,
    report,
    participant,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fikafollow",
        description="Follow up buddy matches in the participants' own languages.",
    )
    parser.add_argument("--version", action="version", version=f"fikafollow {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


async def run(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Run the parsed command: a standalone one as it is, the others with an App they share."""
    standalone = getattr(args, "standalone", None)
    if standalone is not None:
        code: int = await standalone(args, settings, out)
        return code
    app = App(settings)
    try:
        code = await args.handler(app, args, out)
        return code
    finally:
        await app.close()


# libraries that log values at INFO or DEBUG: aiosqlite every statement's parameters, httpx every
# request URL (a Telegram URL carries the bot token, a webhook's query string a phone number),
# the providers' clients their request bodies. They say nothing below WARNING that an operator
# needs, whatever FIKAFOLLOW_LOG_LEVEL says.
DRIVER_LOGGERS = (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy",
    "httpx",
    "httpcore",
    "hpack",
    "telegram",
    "twilio",
    "aiosmtplib",
    "aioimaplib",
    "multipart",
    "PIL",
    # the photo bucket's client: at DEBUG botocore logs request headers (the signature) and
    # bodies (the photo), aiohttp the object URLs
    "botocore",
    "aiobotocore",
    "aiohttp",
)


def cap_driver_loggers() -> None:
    """No driver logs values, at any level the service is set to."""
    for name in DRIVER_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"fikafollow: {message}\n")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        return _fail(f"configuration error: {exc}", 2)
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    cap_driver_loggers()
    try:
        # a command may ask for a faster event loop (serve: uvloop); the others run on asyncio's
        with asyncio.Runner(loop_factory=getattr(args, "loop_factory", None)) as runner:
            return runner.run(run(args, settings, sys.stdout))
    except CommandError as exc:
        return _fail(str(exc), exc.exit_code)
    except SchemaBehind as exc:
        return _fail(str(exc), 2)
    except ConfigError as exc:
        return _fail(f"configuration error: {exc}", 2)
    except DatabaseUnreachable as exc:
        return _fail(str(exc), 1)
    except MediaUnavailable as exc:
        return _fail(f"the photo storage (FIKAFOLLOW_MEDIA_URL) is not reachable ({exc})", 1)
