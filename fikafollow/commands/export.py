"""`fikafollow export answers`: every understood answer as CSV."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, add_language, add_programme, reading_language
from messages.code_names import option_name
from store.reporting import write_answers_csv


def register(sub: Subcommands) -> None:
    export = sub.add_parser("export", help="write data as CSV")
    what = export.add_subparsers(dest="export_what", required=True, metavar="WHAT")
    answers = what.add_parser("answers", help="every understood answer")
    answers.add_argument("--out", type=Path, help="file to write (default: standard output)")
    add_programme(answers)
    add_language(answers, "answer_label")
    answers.set_defaults(handler=cmd_answers)


async def cmd_answers(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await app.start()
    programme = await app.programme(args.programme, datetime.now(UTC))
    language = await reading_language(app, programme.id, args.language)
    target = out if args.out is None else args.out.open("w", encoding="utf-8", newline="")
    try:
        async with app.sessions() as session:
            await write_answers_csv(
                session,
                programme.id,
                app.book.all_questions(),
                target,
                # a tap reads as its option's label ("yes" → "Ja"), a number stays a number
                label=lambda value: option_name(language, value),
            )
    finally:
        if args.out is not None:
            target.close()
    if args.out is not None:
        out.write(f"answers written to {args.out}\n")
    return 0
