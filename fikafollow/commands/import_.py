"""`fikafollow import FILE.csv`: matches from a CSV file, all rows or none.

(The module has a trailing underscore because `import` is a Python keyword.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, add_programme, parse_now
from fikafollow.errors import UsageError
from store import intake
from store.checked_rows import CheckedRows


def register(sub: Subcommands) -> None:
    imp = sub.add_parser(
        "import", help="import matches from a CSV (comma or semicolon) or .xlsx file"
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    add_programme(imp)
    imp.add_argument("--now", help="the import's instant, ISO-8601 (default: now)")
    imp.add_argument(
        "--max-age-days",
        type=int,
        default=intake.MAX_AGE_DAYS,
        metavar="N",
        help=f"a first meeting more than N days ago is a row error (default {intake.MAX_AGE_DAYS})",
    )
    imp.add_argument(
        "--accept-old", action="store_true", help="import first meetings older than that too"
    )
    imp.set_defaults(handler=cmd_import)


async def cmd_import(app: App, args: argparse.Namespace, out: TextIO) -> int:
    now = parse_now(args.now, app.settings)
    if args.max_age_days < 0:
        raise UsageError("--max-age-days must be 0 or more")
    # every row checked first (nothing is written if any row is bad), the good ones kept aside
    # in a private temporary database, then written in committed batches (store.intake)
    with CheckedRows() as checked:
        today = now.astimezone(ZoneInfo(app.settings.timezone)).date()
        try:
            errors = intake.check_import(
                args.file,
                app.settings.default_region,
                today,
                args.max_age_days,
                args.accept_old,
                checked,
            )
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
        if errors:
            sys.stderr.write(f"{args.file}: {len(errors)} problem(s), nothing was imported:\n")
            for error in errors:
                sys.stderr.write(f"  {error}\n")
            return 1
        await app.start()
        programme = await app.programme(args.programme, now)
        result = await intake.apply_in_batches(
            app.sessions, programme.id, checked, now, app.book.days(), commit=not args.dry_run
        )
    verb = "would change" if args.dry_run else "changed"
    out.write(
        f"{checked.count} rows checked; {verb}: "
        f"{result.matches_created} new and {result.matches_changed} changed matches, "
        f"{result.participants_created} new and {result.participants_changed} changed "
        f"participants, {result.followups_created} new and {result.followups_moved} moved "
        "follow-ups\n"
    )
    if result.landlines:
        out.write(
            f"{len(result.landlines)} phone number(s) are landlines, not used for SMS (kept for "
            f"phoning): participant {', '.join(result.landlines)}\n"
        )
    return 0
