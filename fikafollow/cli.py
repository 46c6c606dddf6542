"""The `fikafollow` command."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import secrets
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from fikafollow import __version__
from fikafollow.app import App
from fikafollow.config import ConfigError, Settings, load_settings, parse_quiet_hours
from store import intake
from store.migrate import SchemaBehind, upgrade
from store.models import ApiKey, Programme
from store.reporting import write_answers_csv

log = logging.getLogger("fikafollow")


class UsageError(Exception):
    """A wrong option value; exit code 2."""


def parse_now(value: str | None, settings: Settings) -> datetime:
    """ISO-8601; without an offset the time is read in the programme's time zone."""
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--now {value!r} is not ISO-8601, e.g. 2026-06-01T10:30+02:00") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(settings.timezone))
    return parsed.astimezone(UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fikafollow",
        description="Follow up buddy matches in the participants' own languages.",
    )
    parser.add_argument("--version", action="version", version=f"fikafollow {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="bring the schema to the newest version")

    imp = sub.add_parser("import", help="import matches from a CSV file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    imp.add_argument("--programme", help="programme id (default: FIKAFOLLOW_PROGRAMME)")
    imp.add_argument("--now", help="the import's instant, ISO-8601 (default: now)")

    tick = sub.add_parser("tick", help="run one pass: start due follow-ups, send the outbox")
    tick.add_argument("--now", help="the instant of the pass, ISO-8601 (default: now)")

    export = sub.add_parser("export", help="write data as CSV")
    export_sub = export.add_subparsers(dest="export_what", required=True, metavar="WHAT")
    answers = export_sub.add_parser("answers", help="every understood answer")
    answers.add_argument("--out", type=Path, help="file to write (default: standard output)")
    answers.add_argument("--programme", help="programme id (default: FIKAFOLLOW_PROGRAMME)")

    links = sub.add_parser("links", help="Telegram links for participants not linked yet (CSV)")
    links.add_argument("--out", type=Path, help="file to write (default: standard output)")
    links.add_argument("--programme", help="programme id (default: FIKAFOLLOW_PROGRAMME)")

    serve = sub.add_parser("serve", help="run the web app and the scheduled passes")
    serve.add_argument("--host", help="address to listen on (default: FIKAFOLLOW_HOST)")
    serve.add_argument("--port", type=int, help="port (default: FIKAFOLLOW_PORT)")

    demo = sub.add_parser("demo", help="play three weeks of follow-ups on a sample, offline")
    demo.add_argument("--dir", type=Path, default=Path("fikafollow-demo"), help="where to work")

    key = sub.add_parser("apikey", help="API keys for POST /api/matches")
    key_sub = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    create = key_sub.add_parser("create", help="make a key; it is shown once")
    create.add_argument("--programme", help="programme id (default: FIKAFOLLOW_PROGRAMME)")
    create.add_argument("--label", default="", help="who the key is for")

    mail = sub.add_parser("mail", help="e-mail replies")
    mail_sub = mail.add_subparsers(dest="mail_command", required=True, metavar="ACTION")
    poll = mail_sub.add_parser("poll", help="read replies from the mailbox (FIKAFOLLOW_IMAP_*)")
    poll.add_argument("--once", action="store_true", help="read what is there now, then stop")
    poll.add_argument("--now", help="the instant the replies are recorded at (with --once)")

    prog = sub.add_parser("programme", help="programmes and their timing")
    prog_sub = prog.add_subparsers(dest="programme_command", required=True, metavar="ACTION")
    pset = prog_sub.add_parser("set", help="create a programme or change its settings")
    pset.add_argument("id")
    pset.add_argument("--name")
    pset.add_argument("--timezone")
    pset.add_argument("--send-hour", type=int)
    pset.add_argument("--quiet-hours", help="e.g. 20:00-09:00")
    prog_sub.add_parser("list", help="show programmes")
    return parser


async def cmd_db(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await upgrade(app.engine)
    out.write("database schema is up to date\n")
    return 0


async def cmd_import(app: App, args: argparse.Namespace, out: TextIO) -> int:
    now = parse_now(args.now, app.settings)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    rows, errors = intake.read_csv(data, app.settings.default_region)
    if errors:
        sys.stderr.write(f"{args.file}: {len(errors)} problem(s), nothing was imported:\n")
        for error in errors:
            sys.stderr.write(f"  {error}\n")
        return 1
    await app.start()
    programme = await app.programme(args.programme, now)
    async with app.sessions() as session:
        programme = await session.get_one(Programme, programme.id)
        result = await intake.apply(session, programme, rows, now, app.book.days())
        if args.dry_run:
            await session.rollback()
        else:
            await session.commit()
    verb = "would change" if args.dry_run else "changed"
    out.write(
        f"{len(rows)} rows checked; {verb}: "
        f"{result.matches_created} new and {result.matches_changed} changed matches, "
        f"{result.participants_created} new and {result.participants_changed} changed "
        f"participants, {result.followups_created} new and {result.followups_moved} moved "
        "follow-ups\n"
    )
    return 0


async def cmd_tick(app: App, args: argparse.Namespace, out: TextIO) -> int:
    now = parse_now(args.now, app.settings)
    await app.start()
    await app.programme(None, now)
    result = await app.tick(lambda: now)
    out.write(
        f"at {now.isoformat()}: started {result.dispatch.started} follow-ups "
        f"({result.dispatch.unreachable} unreachable, {result.dispatch.opted_out} opted out); "
        f"sent {result.drain.sent}, to retry {result.drain.retried}, failed {result.drain.failed}\n"
    )
    waiting = await _waiting_without_channel(app)
    if waiting:
        out.write(
            "waiting in the outbox for channels that are not configured: "
            + ", ".join(f"{name} {n}" for name, n in sorted(waiting.items()))
            + "\n"
        )
    return 0


async def _waiting_without_channel(app: App) -> dict[str, int]:
    from sqlalchemy import func, select

    from store.models import OutboxMessage

    async with app.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.channel, func.count())
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.channel.not_in(list(app.channels)),
            )
            .group_by(OutboxMessage.channel)
        )
        return {channel: count for channel, count in rows}


async def cmd_export(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await app.start()
    programme = await app.programme(args.programme, datetime.now(UTC))
    target = out if args.out is None else args.out.open("w", encoding="utf-8", newline="")
    try:
        async with app.sessions() as session:
            await write_answers_csv(session, programme.id, app.book.all_questions(), target)
    finally:
        if args.out is not None:
            target.close()
    if args.out is not None:
        out.write(f"answers written to {args.out}\n")
    return 0


async def cmd_links(app: App, args: argparse.Namespace, out: TextIO) -> int:
    import csv
    from datetime import timedelta

    from fikafollow.channels import telegram_linker
    from store import telegram_links

    linker = telegram_linker(app.settings, app.channels)
    if linker is None:
        raise UsageError("Telegram is not configured: set FIKAFOLLOW_TELEGRAM_TOKEN")
    username = await linker.username()
    if username is None:
        raise UsageError(
            "cannot ask the Bot API for the bot's name: set FIKAFOLLOW_TELEGRAM_BOT_USERNAME"
        )
    now = datetime.now(UTC)
    await app.start()
    programme = await app.programme(args.programme, now)
    lifetime = timedelta(days=app.settings.telegram_link_days)
    target = out if args.out is None else args.out.open("w", encoding="utf-8", newline="")
    try:
        writer = csv.writer(target)
        writer.writerow(["participant_id", "telegram_link"])
        async with app.sessions.begin() as session:
            people = await telegram_links.unlinked(session, programme.id)
            for person in people:
                token = telegram_links.issue(session, person.id, now, lifetime)
                writer.writerow([person.external_id, telegram_links.deep_link(username, token)])
    finally:
        if args.out is not None:
            target.close()
    if args.out is not None:
        out.write(f"{len(people)} links written to {args.out}; each works once, for ")
        out.write(f"{app.settings.telegram_link_days} days\n")
    return 0


async def cmd_apikey(app: App, args: argparse.Namespace, out: TextIO) -> int:
    now = datetime.now(UTC)
    await app.start()
    programme = await app.programme(args.programme, now)
    key = secrets.token_urlsafe(32)
    async with app.sessions.begin() as session:
        session.add(
            ApiKey(
                programme_id=programme.id,
                key_hash=hashlib.sha256(key.encode()).hexdigest(),
                label=args.label,
                created_at=now,
            )
        )
    out.write(f"{key}\n")
    sys.stderr.write("keep this key now: only its hash is stored\n")
    return 0


async def cmd_programme(app: App, args: argparse.Namespace, out: TextIO) -> int:
    from sqlalchemy import select

    now = datetime.now(UTC)
    await app.start()
    if args.programme_command == "list":
        async with app.sessions() as session:
            for p in (await session.scalars(select(Programme).order_by(Programme.id))).all():
                quiet = f"{p.quiet_start // 60:02}:{p.quiet_start % 60:02}-"
                quiet += f"{p.quiet_end // 60:02}:{p.quiet_end % 60:02}"
                out.write(
                    f"{p.id}\t{p.name}\t{p.timezone}\tsend {p.send_hour:02}:00\tquiet {quiet}\n"
                )
        return 0
    try:
        checked = Settings.model_validate(
            {
                "timezone": args.timezone or app.settings.timezone,
                "send_hour": app.settings.send_hour if args.send_hour is None else args.send_hour,
                "quiet_hours": args.quiet_hours or app.settings.quiet_hours,
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"--{str(e['loc'][0]).replace('_', '-')}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise UsageError(problems) from None
    async with app.sessions.begin() as session:
        programme = await session.get(Programme, args.id)
        if programme is None:
            start, end = parse_quiet_hours(checked.quiet_hours)
            programme = Programme(
                id=args.id,
                name=args.name or args.id,
                timezone=checked.timezone,
                send_hour=checked.send_hour,
                quiet_start=start,
                quiet_end=end,
                surveys="three_weeks",
                created_at=now,
            )
            session.add(programme)
        else:
            if args.name:
                programme.name = args.name
            if args.timezone:
                programme.timezone = checked.timezone
            if args.send_hour is not None:
                programme.send_hour = checked.send_hour
            if args.quiet_hours:
                programme.quiet_start, programme.quiet_end = parse_quiet_hours(checked.quiet_hours)
    out.write(f"programme {args.id} saved\n")
    return 0


async def cmd_mail(app: App, args: argparse.Namespace, out: TextIO) -> int:
    from fikafollow.channels import mailbox_reader

    reader = mailbox_reader(app)
    if reader is None:
        raise UsageError("set FIKAFOLLOW_IMAP_HOST, _USERNAME and _PASSWORD to read replies")
    await app.start()
    await app.programme(None, datetime.now(UTC))
    if not args.once:
        await reader.run(lambda: datetime.now(UTC), float(app.settings.imap_poll_seconds))
        return 0
    now = parse_now(args.now, app.settings)
    result = await reader.poll_once(lambda: now)
    outcomes = ", ".join(f"{name} {n}" for name, n in sorted((result.outcomes or {}).items()))
    out.write(f"{result.seen} messages read" + (f": {outcomes}" if outcomes else "") + "\n")
    # what the replies caused (the next question, a thank-you) goes out now
    drained = await app.sender.drain(lambda: now)
    if drained.sent:
        out.write(f"sent {drained.sent}\n")
    return 0


async def run(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    if args.command == "demo":
        from fikafollow.demo import run_demo

        # the demo's reader wants the conversation, not the service's log lines
        logging.getLogger().setLevel(logging.WARNING)
        return await run_demo(args.dir, out)
    if args.command == "serve":
        from fikafollow.service import serve

        return await serve(settings, host=args.host, port=args.port)
    handlers = {
        "db": cmd_db,
        "import": cmd_import,
        "tick": cmd_tick,
        "export": cmd_export,
        "apikey": cmd_apikey,
        "links": cmd_links,
        "programme": cmd_programme,
        "mail": cmd_mail,
    }
    app = App(settings)
    try:
        return await handlers[args.command](app, args, out)
    finally:
        await app.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"fikafollow: configuration error: {exc}\n")
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    try:
        return asyncio.run(run(args, settings, sys.stdout))
    except UsageError as exc:
        sys.stderr.write(f"fikafollow: {exc}\n")
        return 2
    except (SchemaBehind, LookupError) as exc:
        sys.stderr.write(f"fikafollow: {exc}\n")
        return 2
    except ConfigError as exc:
        sys.stderr.write(f"fikafollow: configuration error: {exc}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
