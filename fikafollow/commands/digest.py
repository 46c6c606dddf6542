"""`fikafollow digest`: the coordinators' weekly digest, written to files and/or mailed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, add_programme, parse_now
from fikafollow.errors import NotConfigured, UsageError


def register(sub: Subcommands) -> None:
    digest = sub.add_parser("digest", help="the coordinators' weekly digest")
    add_programme(digest, help="only this programme's coordinators")
    digest.add_argument("--now", help="the instant, ISO-8601 (default: now)")
    digest.add_argument("--out", type=Path, help="write .html, .txt and .csv per coordinator here")
    digest.add_argument(
        "--send", action="store_true", help="send by e-mail (once per coordinator and week)"
    )
    digest.set_defaults(handler=cmd_digest)


async def cmd_digest(app: App, args: argparse.Namespace, out: TextIO) -> int:
    from bot.channels.email import smtp_settings
    from messages.digest import DigestRenderer
    from scheduler.digest import run_digests
    from scheduler.digest_mail import DigestMailer

    now = parse_now(args.now, app.settings)
    if not args.send and args.out is None:
        raise UsageError("give --out DIR to write the digests, and/or --send to send them")
    await app.start()
    if args.programme:
        await app.programme(args.programme, now)
    mailer = None
    if args.send:
        smtp = smtp_settings(app.settings)
        if smtp is None:
            raise NotConfigured("--send needs FIKAFOLLOW_SMTP_HOST and FIKAFOLLOW_MAIL_FROM")
        mailer = DigestMailer(smtp)
    result = await run_digests(
        app.sessions,
        DigestRenderer(),
        now,
        app.survey_questions(),
        programme_id=args.programme,
        mailer=mailer,
        out_dir=args.out,
        review_link=app.review_link(now),
        configured=list(app.channels),
        web_url=app.settings.public_url,
        photos=app.photos,
    )
    out.write(
        f"digests: {len(result.written) // 3} written, {result.sent} sent, "
        f"{result.already_sent} already sent this week, {result.failed} failed\n"
    )
    return 1 if result.failed else 0
