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
from store.reporting import spreadsheet_safe, write_answers_csv

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

    imp = sub.add_parser(
        "import", help="import matches from a CSV (comma or semicolon) or .xlsx file"
    )
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
    for option, what in CHASE_OPTIONS.items():
        pset.add_argument(f"--{option}", type=int, help=what)
    prog_sub.add_parser("list", help="show programmes")

    coord = sub.add_parser("coordinator", help="who reads a programme's weekly digest")
    coord_sub = coord.add_subparsers(dest="coordinator_command", required=True, metavar="ACTION")
    cadd = coord_sub.add_parser("add", help="add a coordinator to a programme")
    cadd.add_argument("--programme", help="programme id (default: FIKAFOLLOW_PROGRAMME)")
    cadd.add_argument("--name", required=True)
    cadd.add_argument("--email", required=True)
    cadd.add_argument("--language", choices=("sv", "en"), default="sv")
    cadd.add_argument("--timezone", default="Europe/Stockholm")
    cadd.add_argument("--digest-weekday", type=int, default=1, help="1 = Monday … 7 = Sunday")
    cadd.add_argument("--digest-hour", type=int, default=9, help="local hour, 0-23")
    clist = coord_sub.add_parser("list", help="show coordinators")
    clist.add_argument("--programme", help="only this programme")
    crem = coord_sub.add_parser("remove", help="remove a coordinator")
    crem.add_argument("--programme", help="programme id (default: FIKAFOLLOW_PROGRAMME)")
    crem.add_argument("--email", required=True)

    calls = sub.add_parser("calls", help="who to phone, grouped by language")
    calls.add_argument("--programme", help="programme id (default: FIKAFOLLOW_PROGRAMME)")
    calls.add_argument("--format", choices=("text", "csv"), default="text")
    call = sub.add_parser("call", help="record what a phone call brought")
    call_sub = call.add_subparsers(dest="call_command", required=True, metavar="ACTION")
    record = call_sub.add_parser("record", help="record a call's answers (channel phone)")
    record.add_argument("--programme", help="programme id (default: FIKAFOLLOW_PROGRAMME)")
    record.add_argument("--participant", required=True, help="the participant's id")
    record.add_argument("--match", required=True, help="the match's id")
    record.add_argument("--met-again", choices=("yes", "no"))
    record.add_argument("--will-meet-again", choices=("yes", "maybe", "no"))
    record.add_argument("--note", default="", help="what was said, in a few words")
    record.add_argument("--now", help="when the call was, ISO-8601 (default: now)")

    digest = sub.add_parser("digest", help="the coordinators' weekly digest")
    digest.add_argument("--programme", help="only this programme's coordinators")
    digest.add_argument("--now", help="the instant, ISO-8601 (default: now)")
    digest.add_argument("--out", type=Path, help="write .html, .txt and .csv per coordinator here")
    digest.add_argument(
        "--send", action="store_true", help="send by e-mail (once per coordinator and week)"
    )

    report = sub.add_parser("report", help="the funder report for matches first met in a period")
    report.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
    report.add_argument("--programme", help="programme id (default: FIKAFOLLOW_PROGRAMME)")
    report.add_argument("--format", choices=("csv", "xlsx", "html"), default="csv")
    report.add_argument("--out", type=Path, help="file to write (default: standard output)")
    return parser


# programme settings for chasing and the funder's targets: option → help
CHASE_OPTIONS = {
    "reminder-days": "days without an answer before the one reminder (default 3)",
    "ladder-days": "days after the reminder before asking on the next channel (default 3)",
    "expire-days": "days in all before the follow-up expires onto the call list (default 10)",
    "target-individual": "the funder's target of individual matches",
    "target-family": "the funder's target of family matches",
    "target-women-percent": "the funder's target share of women among participants, in %",
}


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
    rows, errors = intake.read_file(data, app.settings.default_region)
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
        f"reminded {result.chase.reminded}, moved to another channel {result.chase.moved}, "
        f"expired {result.chase.expired}; "
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
                    f"{p.id}\t{p.name}\t{p.timezone}\tsend {p.send_hour:02}:00\tquiet {quiet}"
                    f"\tremind {p.reminder_days}d, next channel {p.ladder_days}d later, "
                    f"expire {p.expire_days}d\ttargets {p.target_individual} individual, "
                    f"{p.target_family} family, {p.target_women_percent}% women\n"
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
    chase = {
        option.replace("-", "_"): getattr(args, option.replace("-", "_"))
        for option in CHASE_OPTIONS
    }
    for option, value in chase.items():
        if value is None:
            continue
        low = 1 if option.endswith("_days") else 0
        high = 100 if option == "target_women_percent" else 100_000
        if not low <= value <= high:
            raise UsageError(f"--{option.replace('_', '-')} must be between {low} and {high}")
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
        for option, value in chase.items():
            if value is not None:
                setattr(programme, option, value)
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


async def cmd_coordinator(app: App, args: argparse.Namespace, out: TextIO) -> int:
    from sqlalchemy import select

    from store.models import Coordinator

    now = datetime.now(UTC)
    await app.start()
    if args.coordinator_command == "list":
        async with app.sessions() as session:
            stmt = select(Coordinator).order_by(Coordinator.programme_id, Coordinator.name)
            if args.programme:
                stmt = stmt.where(Coordinator.programme_id == args.programme)
            for c in (await session.scalars(stmt)).all():
                out.write(
                    f"{c.programme_id}\t{c.name}\t{c.email}\t{c.language}\t{c.timezone}\t"
                    f"digest weekday {c.digest_weekday} at {c.digest_hour:02}:00\n"
                )
        return 0
    programme = await app.programme(args.programme, now)
    async with app.sessions.begin() as session:
        found = await session.scalar(
            select(Coordinator).where(
                Coordinator.programme_id == programme.id, Coordinator.email == args.email
            )
        )
        if args.coordinator_command == "remove":
            if found is None:
                raise UsageError(f"no coordinator {args.email} in programme {programme.id}")
            from sqlalchemy import delete

            from store.models import DigestRun

            await session.execute(delete(DigestRun).where(DigestRun.coordinator_id == found.id))
            await session.delete(found)
            out.write(f"coordinator removed from {programme.id}\n")
            return 0
        try:
            ZoneInfo(args.timezone)
        except (KeyError, ValueError):
            raise UsageError(f"--timezone: unknown time zone {args.timezone!r}") from None
        if "@" not in args.email:
            raise UsageError("--email: not an e-mail address")
        if not 1 <= args.digest_weekday <= 7 or not 0 <= args.digest_hour <= 23:
            raise UsageError("--digest-weekday is 1-7 and --digest-hour 0-23")
        if found is None:
            found = Coordinator(programme_id=programme.id, email=args.email, created_at=now)
            session.add(found)
        found.name, found.language, found.timezone = args.name, args.language, args.timezone
        found.digest_weekday, found.digest_hour = args.digest_weekday, args.digest_hour
    out.write(f"coordinator saved in {programme.id}\n")
    return 0


async def cmd_calls(app: App, args: argparse.Namespace, out: TextIO) -> int:
    import csv

    from store.calls import by_language, call_list

    await app.start()
    programme = await app.programme(args.programme, datetime.now(UTC))
    questions = app.questions()
    async with app.sessions() as session:
        rows = await call_list(session, programme.id, questions)
    if args.format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["language", "first_name", "phone", "participant_id", "match_id", "unanswered"]
        )
        for r in rows:
            writer.writerow(
                [
                    spreadsheet_safe(v)
                    for v in (
                        r.language,
                        r.first_name,
                        r.phone,
                        r.participant_id,
                        r.match_id,
                        " ".join(r.unanswered),
                    )
                ]
            )
        return 0
    if not rows:
        out.write("nobody to call\n")
    for language, group in by_language(rows).items():
        out.write(f"== {language} ({len(group)})\n")
        for r in group:
            out.write(
                f"{r.first_name}\t{r.phone or r.email}\tparticipant {r.participant_id}\t"
                f"match {r.match_id}\tunanswered: {', '.join(r.unanswered)}\n"
            )
    return 0


async def cmd_call(app: App, args: argparse.Namespace, out: TextIO) -> int:
    from store.calls import CallError, record_call

    now = parse_now(args.now, app.settings)
    answers = {
        q: v
        for q, v in (("met_again", args.met_again), ("will_meet_again", args.will_meet_again))
        if v is not None
    }
    if not answers:
        raise UsageError("give --met-again and/or --will-meet-again")
    await app.start()
    programme = await app.programme(args.programme, now)
    try:
        async with app.sessions.begin() as session:
            n = await record_call(
                session, programme.id, args.participant, args.match, answers, args.note, now
            )
    except CallError as exc:
        raise UsageError(str(exc)) from None
    out.write(f"{n} answer(s) recorded from the call\n")
    return 0


async def cmd_digest(app: App, args: argparse.Namespace, out: TextIO) -> int:
    from messages.digest import DigestRenderer
    from scheduler.digest import run_digests
    from scheduler.digest_mail import DigestMailer

    now = parse_now(args.now, app.settings)
    if not args.send and args.out is None:
        raise UsageError("give --out DIR to write the digests, and/or --send to send them")
    await app.start()
    if args.programme:
        await app.programme(args.programme, now)
    settings = app.settings
    mailer = None
    if args.send:
        from fikafollow.channels import smtp_settings

        smtp = smtp_settings(settings)
        if smtp is None:
            raise UsageError("--send needs FIKAFOLLOW_SMTP_HOST and FIKAFOLLOW_MAIL_FROM")
        mailer = DigestMailer(smtp)
    result = await run_digests(
        app.sessions,
        DigestRenderer(),
        now,
        app.questions(),
        programme_id=args.programme,
        mailer=mailer,
        out_dir=args.out,
        review_link=app.review_link(now),
    )
    out.write(
        f"digests: {len(result.written) // 3} written, {result.sent} sent, "
        f"{result.already_sent} already sent this week, {result.failed} failed\n"
    )
    return 1 if result.failed else 0


async def cmd_report(app: App, args: argparse.Namespace, out: TextIO) -> int:
    from datetime import date

    from fikafollow.report import tables, to_csv, to_html, to_xlsx
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
    async with app.sessions() as session:
        figures = await funder_figures(session, programme.id, first, last)
    report = tables(programme, figures, first, last)
    if args.format == "xlsx":
        args.out.write_bytes(to_xlsx(report))
    else:
        content = to_csv(report) if args.format == "csv" else to_html(report)
        if args.out is None:
            out.write(content)
            return 0
        args.out.write_text(content, encoding="utf-8")
    out.write(f"report written to {args.out}\n")
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
        "coordinator": cmd_coordinator,
        "calls": cmd_calls,
        "call": cmd_call,
        "digest": cmd_digest,
        "report": cmd_report,
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
