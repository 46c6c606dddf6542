"""`fikafollow calendar`: the times a programme's send calendar keeps free of new conversations."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, add_programme
from fikafollow.errors import UsageError
from messages.languages import codes, names_in
from store.programmes import send_window
from store.send_calendar import Block

DEFAULT_DAYS = 60


def register(sub: Subcommands) -> None:
    cal = sub.add_parser("calendar", help="the blocked days and hours of a programme")
    add_programme(cal)
    cal.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (default: today)")
    cal.add_argument("--to", dest="last", help=f"last day (default: {DEFAULT_DAYS} days on)")
    cal.set_defaults(handler=cmd_calendar)


def _day(value: str | None, option: str, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date like 2026-06-19") from None


def _for_whom(block: Block) -> str:
    """Which participants a block keeps free, when not everyone: their languages."""
    if block.languages is None:
        return ""
    names = names_in("en")
    listed = ", ".join(f"{code} {names[code]}" for code in codes() if code in block.languages)
    return f" (for participants in {listed or 'no language'})"


async def cmd_calendar(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await app.start()
    programme = await app.programme(args.programme, datetime.now(UTC))
    today = datetime.now(ZoneInfo(programme.timezone)).date()
    first = _day(args.first, "--from", today)
    last = _day(args.last, "--to", first + timedelta(days=DEFAULT_DAYS))
    if last < first:
        raise UsageError("--to is before --from")
    window = send_window(programme)
    if not window.calendar.active:
        out.write(
            f"programme {programme.id}: the send calendar is off "
            f"(fikafollow programme set {programme.id} --send-calendar on)\n"
        )
        return 0
    blocks = window.calendar.between(first, last)
    for block in blocks:
        day = block.start.date().isoformat()
        when = "all day" if block.whole_day else f"{block.start:%H:%M}-{block.end:%H:%M}"
        if not block.whole_day and block.end.time() == block.start.time().min:
            when = f"{block.start:%H:%M}-24:00"
        out.write(f"{day}\t{block.start:%a}\t{when}\t{block.reason}{_for_whom(block)}\n")
    quiet = f"{programme.quiet_start // 60:02}:{programme.quiet_start % 60:02}-"
    quiet += f"{programme.quiet_end // 60:02}:{programme.quiet_end % 60:02}"
    out.write(
        f"{len(blocks)} blocked from {first} to {last} ({programme.timezone}); also quiet hours "
        f"{quiet} every day; what falls due then goes at the next allowed time\n"
    )
    return 0
