"""`fikafollow participant export|forget ID`: a person's data-access and erasure requests."""

from __future__ import annotations

import argparse
import json
import logging
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from fikafollow.app import App
from fikafollow.commands.options import Subcommands, add_programme
from fikafollow.errors import UnknownParticipant
from store import personal_data

log = logging.getLogger(__name__)


def register(sub: Subcommands) -> None:
    participant = sub.add_parser("participant", help="a person's data: export or erase it")
    what = participant.add_subparsers(dest="participant_what", required=True, metavar="WHAT")
    export = what.add_parser(
        "export", help="everything held about a person, as JSON (photos in FILE.zip)"
    )
    export.add_argument("id", metavar="ID", help="the participant id the matches file gave")
    export.add_argument(
        "--out", type=Path, help="file to write (default: standard output, without the photos)"
    )
    add_programme(export)
    export.set_defaults(handler=cmd_export)
    forget = what.add_parser(
        "forget", help="erase a person's personal data, keeping the report's counts"
    )
    forget.add_argument("id", metavar="ID", help="the participant id the matches file gave")
    add_programme(forget)
    forget.set_defaults(handler=cmd_forget)


def _private_file(path: Path) -> int:
    """A new file only its owner reads: it holds a person's data."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


async def cmd_export(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await app.start()
    programme = await app.programme(args.programme, datetime.now(UTC))
    async with app.sessions() as session:
        participant = await personal_data.find(session, programme.id, args.id)
        if participant is None:
            raise UnknownParticipant(args.id, programme.id)
        found = await personal_data.export(session, participant)
    text = json.dumps(found.record, ensure_ascii=False, indent=2) + "\n"
    if args.out is None:
        out.write(text)
        return 0
    with os.fdopen(_private_file(args.out), "w", encoding="utf-8") as target:
        target.write(text)
    archive = args.out.with_name(args.out.name + ".zip")
    with (
        os.fdopen(_private_file(archive), "wb") as raw,
        zipfile.ZipFile(raw, "w") as photos,
    ):
        for name in found.photos:
            # from the photo folder or the bucket, wherever the photos are kept
            data = await app.photos.read(name)
            if data is not None:
                photos.writestr(name, data)
    out.write(f"data written to {args.out}, {len(found.photos)} photo(s) to {archive}\n")
    return 0


async def cmd_forget(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await app.start()
    now = datetime.now(UTC)
    programme = await app.programme(args.programme, now)
    async with app.sessions() as session, session.begin():
        participant = await personal_data.find(session, programme.id, args.id)
        if participant is None:
            raise UnknownParticipant(args.id, programme.id)
        row_id = participant.id
        photos = await personal_data.forget(session, participant, now)
        # inside the transaction: a photo storage out of reach rolls the erasure back whole
        # (try again), rather than leaving photos nobody can find to erase any more
        for name in photos:
            await app.photos.delete(name)
    log.info("participant %s forgotten, %d photo(s) deleted", row_id, len(photos))
    out.write(f"participant {args.id} forgotten, {len(photos)} photo(s) deleted\n")
    return 0
