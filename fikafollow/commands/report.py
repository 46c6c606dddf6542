"""`fikafollow report --from --to`: the funder report for matches first met in a period."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, add_language, add_programme, reading_language
from fikafollow.errors import UsageError


def register(sub: Subcommands) -> None:
    report = sub.add_parser("report", help="the funder report for matches first met in a period")
    report.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
    add_programme(report)
    report.add_argument("--format", choices=("csv", "xlsx", "html"), default="csv")
    report.add_argument(
        "--layout",
        choices=("standard", "lansstyrelsen"),
        default="standard",
        help="lansstyrelsen: the county board's final report form, in Swedish",
    )
    add_language(report, "the report")
    report.add_argument("--out", type=Path, help="file to write (default: standard output)")
    report.set_defaults(handler=cmd_report)


async def cmd_report(app: App, args: argparse.Namespace, out: TextIO) -> int:
    # openpyxl loads only for the command that writes spreadsheets
    from reports.files import to_csv, to_html, to_xlsx
    from reports.funder import lansstyrelsen_tables, tables
    from store.outcomes import funder_figures

    try:
        first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    except ValueError:
        raise UsageError("--from and --to are dates like 2026-01-31") from None
    if last < first:
        raise UsageError("--to is before --from")
    if args.format == "xlsx" and args.out is None:
        raise UsageError("an xlsx report needs --out FILE")
    await app.start()
    programme = await app.programme(args.programme, datetime.now(UTC))
    language = await reading_language(app, programme.id, args.language)
    async with app.sessions() as session:
        # the follow-up rows are the first survey's (three weeks on); answers are every survey's
        figures = await funder_figures(
            session, programme.id, first, last, survey=next(iter(app.book.surveys), None)
        )
    if args.layout == "lansstyrelsen":
        # the county board's form is Swedish, whoever prints it
        language = "sv"
        report = lansstyrelsen_tables(programme, figures, first, last, app.questions())
    else:
        report = tables(programme, figures, first, last, app.questions(), language)
    if args.format == "xlsx":
        args.out.write_bytes(to_xlsx(report))
    else:
        content = to_csv(report) if args.format == "csv" else to_html(report, language)
        if args.out is None:
            out.write(content)
            return 0
        args.out.write_text(content, encoding="utf-8")
    out.write(f"report written to {args.out}\n")
    return 0
