"""What several commands share: the shape of a handler, `--programme`, reading `--now`."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO, TypeAlias
from zoneinfo import ZoneInfo

from fikafollow.config import Settings
from fikafollow.errors import UsageError
from messages.code_names import COORDINATOR_LANGUAGES, coordinator_language

if TYPE_CHECKING:
    from fikafollow.app import App

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
# a command that works on the database and channels; `main` builds the App and closes it after
Handler: TypeAlias = "Callable[[App, argparse.Namespace, TextIO], Awaitable[int]]"
# a command that builds what it needs itself (serve, demo)
Standalone: TypeAlias = "Callable[[argparse.Namespace, Settings, TextIO], Awaitable[int]]"

PROGRAMME_HELP = "programme id (default: FIKAFOLLOW_PROGRAMME)"


def add_programme(parser: argparse.ArgumentParser, help: str = PROGRAMME_HELP) -> None:
    parser.add_argument("--programme", help=help)


def parse_now(value: str | None, settings: Settings, option: str = "--now") -> datetime:
    """ISO-8601; without an offset the time is read in the programme's time zone."""
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option} {value!r} is not ISO-8601, e.g. 2026-06-01T10:30+02:00"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(settings.timezone))
    return parsed.astimezone(UTC)


def add_language(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--language",
        choices=COORDINATOR_LANGUAGES,
        help=f"the language of {what} (default: the programme's first coordinator's, else sv)",
    )


async def reading_language(app: App, programme_id: str, chosen: str | None) -> str:
    """`--language`, else the language the programme's first coordinator reads, else Swedish."""
    from store.digests import coordinators

    if chosen is not None:
        return chosen
    async with app.sessions() as session:
        staff = await coordinators(session, programme_id)
    return coordinator_language(staff[0].language if staff else None)
