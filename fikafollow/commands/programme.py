"""`fikafollow programme set ID` / `programme list`: programmes, timing, chasing, targets."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TextIO

from pydantic import ValidationError

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, parse_now
from fikafollow.config import Settings, parse_quiet_hours
from fikafollow.errors import UsageError
from store import programmes
from store.timing import SendWindow

# chasing and the funder's targets: option → (help, lowest, highest); help texts go through
# argparse's %-formatting, so a per cent sign is written %%
CHASE_OPTIONS: dict[str, tuple[str, int, int]] = {
    "reminder-days": ("days without an answer before the one reminder (default 3)", 1, 100_000),
    "ladder-days": (
        "days after the reminder before asking on the next channel (default 3)",
        1,
        100_000,
    ),
    "expire-days": (
        "days in all before the follow-up expires onto the call list (default 10)",
        1,
        100_000,
    ),
    "daily-cap": (
        "at most this many follow-ups start on one local day, oldest match first (default 1000)",
        1,
        1_000_000,
    ),
    "target-individual": ("the funder's target of individual matches", 0, 100_000),
    "target-family": ("the funder's target of family matches", 0, 100_000),
    "target-women-percent": (
        "the funder's target share of women among participants, in %%",
        0,
        100,
    ),
}


def register(sub: Subcommands) -> None:
    prog = sub.add_parser("programme", help="programmes and their timing")
    actions = prog.add_subparsers(dest="programme_command", required=True, metavar="ACTION")
    pset = actions.add_parser("set", help="create a programme or change its settings")
    pset.add_argument("id")
    pset.add_argument("--name")
    pset.add_argument("--timezone")
    pset.add_argument("--send-hour", type=int)
    pset.add_argument("--quiet-hours", help="e.g. 20:00-09:00")
    pset.add_argument(
        "--surveys",
        help="the surveys it runs, comma-separated (bot/surveys.toml): three_weeks,three_months",
    )
    for option, (what, _low, _high) in CHASE_OPTIONS.items():
        pset.add_argument(f"--{option}", type=int, help=what)
    pset.add_argument(
        "--send-calendar",
        choices=("on", "off"),
        help="on: no conversation starts on Swedish public holidays and eves, Sundays or Friday"
        " midday (`fikafollow calendar` shows them)",
    )
    pset.add_argument(
        "--ramadan",
        choices=tuple(programmes.RAMADAN_CHOICES),
        help="nor on Ramadan evenings (from 16:00, around iftar): off (the default), on (for"
        " every participant) or language (for those whose language's data file says"
        " ramadan_hint = true; `fikafollow calendar` names them)",
    )
    pset.add_argument("--now", help="ISO-8601; when a survey turned on is late (default: now)")
    pset.set_defaults(handler=cmd_set)
    actions.add_parser("list", help="show programmes").set_defaults(handler=cmd_list)


async def cmd_list(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await app.start()
    async with app.sessions() as session:
        found = await programmes.listing(session)
    for p in found:
        quiet = f"{p.quiet_start // 60:02}:{p.quiet_start % 60:02}-"
        quiet += f"{p.quiet_end // 60:02}:{p.quiet_end % 60:02}"
        out.write(
            f"{p.id}\t{p.name}\t{p.timezone}\tsend {p.send_hour:02}:00\tquiet {quiet}"
            f"\tremind {p.reminder_days}d, next channel {p.ladder_days}d later, "
            f"expire {p.expire_days}d, at most {p.daily_cap} a day"
            f"\ttargets {p.target_individual} individual, "
            f"{p.target_family} family, {p.target_women_percent}% women"
            f"\tsurveys {p.surveys or '-'}"
            f"\tcalendar {'on' if p.send_calendar else 'off'}"
            f"{_RAMADAN_LISTED[programmes.ramadan_choice(p)]}\n"
        )
    return 0


_RAMADAN_LISTED = {
    "off": "",
    "on": ", ramadan evenings",
    "language": ", ramadan evenings by language",
}


def _timing(args: argparse.Namespace, settings: Settings) -> SendWindow:
    """The programme's timing from the options, the settings' where an option is not given."""
    try:
        checked = Settings.model_validate(
            {
                "timezone": args.timezone or settings.timezone,
                "send_hour": settings.send_hour if args.send_hour is None else args.send_hour,
                "quiet_hours": args.quiet_hours or settings.quiet_hours,
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"--{str(e['loc'][0]).replace('_', '-')}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise UsageError(problems) from None
    start, end = parse_quiet_hours(checked.quiet_hours)
    return SendWindow(
        timezone=checked.timezone, send_hour=checked.send_hour, quiet_start=start, quiet_end=end
    )


def _changes(args: argparse.Namespace, timing: SendWindow) -> dict[str, str | int | bool]:
    """The columns the options change, checked."""
    changes: dict[str, str | int | bool] = {}
    if args.send_calendar is not None:
        changes["send_calendar"] = args.send_calendar == "on"
    if args.ramadan is not None:
        changes.update(programmes.ramadan_changes(args.ramadan))
    if args.name:
        changes["name"] = args.name
    if args.timezone:
        changes["timezone"] = timing.timezone
    if args.send_hour is not None:
        changes["send_hour"] = timing.send_hour
    if args.quiet_hours:
        changes["quiet_start"], changes["quiet_end"] = timing.quiet_start, timing.quiet_end
    for option, (_what, low, high) in CHASE_OPTIONS.items():
        value = getattr(args, option.replace("-", "_"))
        if value is None:
            continue
        if not low <= value <= high:
            raise UsageError(f"--{option} must be between {low} and {high}")
        changes[option.replace("-", "_")] = value
    return changes


def _surveys(args: argparse.Namespace, known: Sequence[str]) -> list[str] | None:
    """The surveys --surveys names, checked against bot/surveys.toml; None when not given."""
    if args.surveys is None:
        return None
    names = [name.strip() for name in args.surveys.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(
            f"--surveys: unknown survey {', '.join(unknown)}; known: {', '.join(known)}"
        )
    return list(dict.fromkeys(names))


async def cmd_set(app: App, args: argparse.Namespace, out: TextIO) -> int:
    now = parse_now(args.now, app.settings)
    await app.start()
    timing = _timing(args, app.settings)
    changes = _changes(args, timing)
    surveys = _surveys(args, list(app.book.surveys))
    async with app.sessions.begin() as session:
        programme = await programmes.save(
            session,
            args.id,
            now,
            defaults=timing,
            changes=changes,
            send_calendar=app.settings.send_calendar,
        )
        change = None
        if surveys is not None:
            change = await programmes.set_surveys(session, programme, surveys, app.book.days(), now)
    out.write(f"programme {args.id} saved\n")
    if change is not None:
        out.write(
            f"surveys {','.join(surveys or []) or '-'}: {change.scheduled} follow-up(s) scheduled "
            f"for existing matches, {change.withdrawn} not yet started withdrawn\n"
        )
    return 0
