"""`fikafollow notes` (words to read) and `notes resolve` (make an answer of one)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TextIO

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, add_programme, parse_now
from fikafollow.errors import UsageError
from store import notes


def register(sub: Subcommands) -> None:
    listing = sub.add_parser("notes", help="what participants wrote that became no answer")
    add_programme(listing)
    listing.add_argument("--unread", action="store_true", help="only the notes not read yet")
    actions = listing.add_subparsers(dest="notes_command", metavar="ACTION")
    resolve = actions.add_parser("resolve", help="record a note as an answer")
    add_programme(resolve)
    resolve.add_argument("note_id", type=int, metavar="NOTE_ID")
    resolve.add_argument(
        "--answer",
        action="append",
        required=True,
        metavar="QUESTION=VALUE",
        help="e.g. met_again=yes; may be given once per question",
    )
    resolve.add_argument("--now", help="when, ISO-8601 (default: now)")
    resolve.set_defaults(handler=cmd_resolve)
    listing.set_defaults(handler=cmd_notes)


async def cmd_notes(app: App, args: argparse.Namespace, out: TextIO) -> int:
    if getattr(args, "notes_command", None) == "resolve":
        return await cmd_resolve(app, args, out)
    await app.start()
    programme = await app.programme(args.programme, datetime.now(UTC))
    async with app.sessions() as session:
        # strangers' words belong to no programme: they are listed where none is asked for
        rows = await notes.listing(
            session, programme.id, unread=args.unread, unknown_senders=args.programme is None
        )
    if not rows:
        out.write("no notes\n")
    for r in rows:
        if r.unknown_sender:
            who = f"unknown sender {r.sender_tail}"
        else:
            who = f"{r.first_name} (participant {r.participant_id}, {r.language})"
        state = f"resolved {r.resolved_as}" if r.resolved_as else ("read" if r.read else "unread")
        out.write(
            f"{r.id}\t{r.created_at.isoformat()}\t{who}\t{r.channel}\t{r.reason}\t{state}\t"
            f"{' '.join(r.text.split())}\n"
        )
    return 0


async def cmd_resolve(app: App, args: argparse.Namespace, out: TextIO) -> int:
    now = parse_now(args.now, app.settings)
    given: dict[str, str] = {}
    for item in args.answer:
        question, sep, value = item.partition("=")
        if not sep or not question or not value:
            raise UsageError(f"--answer {item!r}: write it as QUESTION=VALUE, e.g. met_again=yes")
        given[question.strip()] = value.strip()
    allowed = {
        name: frozenset(question.options)
        for survey in app.book.surveys.values()
        for name, question in survey.questions.items()
    }
    await app.start()
    programme = await app.programme(args.programme, now)
    try:
        async with app.sessions.begin() as session:
            await notes.resolve(session, programme.id, args.note_id, given, allowed, now)
    except notes.NoteError as exc:
        raise UsageError(str(exc)) from None
    out.write(f"note {args.note_id}: {len(given)} answer(s) recorded\n")
    return 0
