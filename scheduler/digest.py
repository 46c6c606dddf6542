"""The weekly digest job: once per coordinator and ISO week, at their local weekday and hour.

The database guarantees "once": the week is claimed (store/digests.py) before anything is sent,
so two processes running the job at the same moment send one digest. A send that fails gives its
claim back, and the next run tries again. A crash between the claim and the send loses that
week's digest rather than sending it twice; `fikafollow digest --out` can always render it again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelError
from messages.digest import DigestRenderer, InlineImage, RenderedDigest
from scheduler.digest_mail import DigestMailer
from store import digests, followups, notes
from store.calls import by_language, call_list
from store.coordinator_pages import pairs_needing_attention
from store.models import Coordinator, Programme
from store.outcomes import (
    Outcome,
    Tally,
    answers_between,
    failures_between,
    greetings_between,
    outcomes,
    tally,
    tally_by,
)
from store.photos import PhotoStore
from store.reporting import spreadsheet_safe

log = logging.getLogger(__name__)
# (greeting id, "approved" or "rejected") → a signed URL
ReviewLink = Callable[[int, str], str]
# thumbnails inline in one digest, at most: the rest are a tap away in the web app
MAX_THUMBNAILS = 20
# the web app's pages a digest links to, by the section that leads there
WEB_PAGES = {
    "home": "/coordinator/",
    "answers": "/coordinator/answers",
    "calls": "/coordinator/calls",
    "greetings": "/coordinator/greetings",
    "notes": "/coordinator/notes",
}


@dataclass
class DigestResult:
    sent: int = 0
    already_sent: int = 0
    failed: int = 0
    written: list[Path] = field(default_factory=list)


def latest_due(coordinator: Coordinator, now: datetime) -> datetime:
    """The last moment at or before `now` when this coordinator's digest fell due (their
    weekday and hour, in their time zone)."""
    zone = ZoneInfo(coordinator.timezone)
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.isoweekday() - 1)
    day = monday + timedelta(days=coordinator.digest_weekday - 1)
    due = datetime.combine(day, time(coordinator.digest_hour), tzinfo=zone)
    if due > local:
        due = datetime.combine(day - timedelta(days=7), time(coordinator.digest_hour), tzinfo=zone)
    return due.astimezone(UTC)


def _numbers(week: Tally, total: Tally) -> list[tuple[str, object, object]]:
    return [
        ("sent", week.sent, total.sent),
        ("answered", week.answered, total.answered),
        ("rate", f"{week.rate:.0f} %", f"{total.rate:.0f} %"),
        ("met_again", week.met_again, total.met_again),
        ("will_yes", week.will_meet_again["yes"], total.will_meet_again["yes"]),
        ("will_maybe", week.will_meet_again["maybe"], total.will_meet_again["maybe"]),
        ("will_no", week.will_meet_again["no"], total.will_meet_again["no"]),
    ]


def _side_by_side(
    week: list[Outcome], total: list[Outcome], key: str
) -> list[tuple[str, Tally, Tally]]:
    weekly = tally_by(week, lambda o: str(getattr(o, key)))
    overall = tally_by(total, lambda o: str(getattr(o, key)))
    return [(code, weekly.get(code, Tally()), t) for code, t in overall.items()]


async def digest_context(
    session: AsyncSession,
    coordinator: Coordinator,
    programme: Programme,
    due: datetime,
    questions: Sequence[str] | Mapping[str, Sequence[str]],
    review_link: ReviewLink | None = None,
    configured: Collection[str] = (),
    web_url: str | None = None,
    photos: PhotoStore | None = None,
) -> dict[str, Any]:
    """Everything one coordinator's digest shows: the week is the seven days before `due`;
    "so far" is the programme until `due`. Only this coordinator's programme is read.

    With the service's public address (`web_url`) each section links to its page of the web
    app; with the photo folder, photos waiting for a decision come as thumbnails."""
    start = due - timedelta(days=7)
    pid = programme.id
    # a follow-up counts in the week it was asked; its answers count whenever they came before due
    week = await outcomes(session, pid, started=(start, due), until=due)
    total = await outcomes(session, pid, until=due)
    answers = await answers_between(session, pid, start, due)
    pairs = await pairs_needing_attention(session, pid, until=due)
    calls = await call_list(session, pid, questions)
    greetings = await greetings_between(session, pid, start, due)
    problems = await failures_between(session, pid, start, due)
    zone = ZoneInfo(coordinator.timezone)
    rows: list[list[str]] = []
    for a in answers:
        rows.append(
            [
                "answer",
                a.language,
                a.channel,
                a.first_name,
                a.match_id,
                a.question,
                a.value,
                a.raw_text,
            ]
        )
    for pair in pairs:
        rows.append(
            [
                pair.reason,
                "/".join(p.language for p in pair.people),
                "",
                "/".join(p.first_name for p in pair.people),
                pair.match_id,
                "met_again",
                "/".join(p.met_again or "" for p in pair.people),
                "",
            ]
        )
    for c in calls:
        rows.append(
            [
                "call",
                c.language,
                "phone",
                c.first_name,
                c.match_id,
                " ".join(c.unanswered),
                c.phone or c.email,
                "",
            ]
        )
    for g in greetings:
        rows.append(
            [
                "greeting",
                "",
                "",
                g.first_name,
                g.match_id,
                "photo" if g.has_photo else "words",
                g.consent or "",
                g.words,
            ]
        )
    rows += [["problem", p.language, p.channel, p.first_name, "", p.what, "", ""] for p in problems]
    # photos still waiting for a decision, small enough to decide on in the mail itself
    images: list[InlineImage] = []
    thumbnails: dict[int, str] = {}
    for g in greetings:
        if photos is None or not g.photo_path or g.social is not None:
            continue
        if len(images) >= MAX_THUMBNAILS:
            break
        data = await photos.thumbnail(g.photo_path)
        if data is not None:
            image = InlineImage(f"photo-{g.greeting_id}@fikafollow", data)
            images.append(image)
            thumbnails[g.greeting_id] = image.cid
    base = (web_url or "").rstrip("/")
    query = "?" + urlencode({"programme": pid})
    return {
        "coordinator": coordinator.name,
        "programme": programme.name,
        "week": f"{start.astimezone(zone).isocalendar().week}",
        "start": start.astimezone(zone).date().isoformat(),
        "end": (due.astimezone(zone) - timedelta(days=1)).date().isoformat(),
        "numbers": _numbers(tally(week), tally(total)),
        "by_language": _side_by_side(week, total, "language"),
        "by_channel": _side_by_side(week, total, "channel"),
        "answers": answers,
        "pairs": pairs,
        "calls": list(by_language(calls).items()),
        # a photo may be approved for social media only if its sender said yes to sharing
        "greetings": [
            (
                g,
                review_link(g.greeting_id, "approved")
                if review_link and g.has_photo and g.consent == "yes"
                else None,
                review_link(g.greeting_id, "rejected") if review_link else None,
                thumbnails.get(g.greeting_id),
            )
            for g in greetings
        ],
        "images": images,
        # section → its page in the web app, when the service has a public address
        "links": {
            **{name: f"{base}{path}{query}" if base else None for name, path in WEB_PAGES.items()},
            # the notes page's part for the words of senders we do not know
            "strangers": f"{base}{WEB_PAGES['notes']}{query}#unknown" if base else None,
        },
        "problems": problems,
        # words that became no answer, the start of each: the whole is in the web app
        "notes": await notes.listing(session, pid, since=start, until=due, limit=100),
        # words from senders we know nobody by, only counted: a stranger's words and address
        # stay out of the mail, and the web app's notes page has them
        "strangers": await notes.unknown_senders(session, since=start, until=due),
        # follow-ups whose question never went out: (channel, how many, whether it is set up)
        "waiting": [
            (channel, n, channel in configured)
            for channel, n in sorted((await followups.waiting(session, pid)).items())
        ],
        "csv_rows": [[spreadsheet_safe(cell) for cell in row] for row in rows],
    }


def week_key(coordinator: Coordinator, due: datetime) -> tuple[int, int]:
    """The ISO year and week of a due digest, in the coordinator's zone."""
    year, week, _ = due.astimezone(ZoneInfo(coordinator.timezone)).isocalendar()
    return year, week


async def run_digests(
    sessions: async_sessionmaker[AsyncSession],
    renderer: DigestRenderer,
    now: datetime,
    questions: Sequence[str] | Mapping[str, Sequence[str]],
    *,
    programme_id: str | None = None,
    mailer: DigestMailer | None = None,
    out_dir: Path | None = None,
    review_link: ReviewLink | None = None,
    configured: Collection[str] = (),
    web_url: str | None = None,
    photos: PhotoStore | None = None,
) -> DigestResult:
    """Render each coordinator's latest due digest; write it to `out_dir` and/or send it with
    `mailer` (sending claims the week first, so each goes out once)."""
    result = DigestResult()
    async with sessions() as session:
        coordinators = await digests.coordinators(session, programme_id)
    for coordinator in coordinators:
        due = latest_due(coordinator, now)
        year, week = week_key(coordinator, due)
        if mailer is not None:
            async with sessions.begin() as session:
                if not await digests.claim_week(session, coordinator.id, year, week, now):
                    result.already_sent += 1
                    continue
        async with sessions() as session:
            programme = await session.get_one(Programme, coordinator.programme_id)
            context = await digest_context(
                session,
                coordinator,
                programme,
                due,
                questions,
                review_link,
                configured,
                web_url=web_url,
                photos=photos,
            )
        digest = renderer.render(coordinator.language, context)
        stem = f"digest-{coordinator.programme_id}-{coordinator.id}-{context['start']}"
        if out_dir is not None:
            result.written += _write(out_dir, stem, digest)
        if mailer is None:
            continue
        try:
            await mailer.send(coordinator.email, digest, f"{stem}.csv")
        except ChannelError as exc:
            # the reason holds an SMTP code or an error type, never an address
            log.warning("digest for coordinator %s not sent: %s", coordinator.id, exc.reason)
            result.failed += 1
            async with sessions.begin() as session:
                await digests.give_back_week(session, coordinator.id, year, week)
            continue
        async with sessions.begin() as session:
            await digests.mark_week_sent(session, coordinator.id, year, week, now)
        result.sent += 1
        log.info("digest sent to coordinator %s", coordinator.id)
    return result


def _write(out_dir: Path, stem: str, digest: RenderedDigest) -> list[Path]:
    """The digest's .html, .txt and .csv (the paths returned); a thumbnail beside them as a
    file, which the written page shows where the mail shows its inline part."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html = digest.html
    for n, image in enumerate(digest.images, start=1):
        name = f"{stem}-photo-{n}.jpg"
        # a face: for the operator's user alone, like the photo folder
        fd = os.open(out_dir / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as photo:
            photo.write(image.data)
        html = html.replace(f'src="cid:{image.cid}"', f'src="{name}"')
    paths = []
    for suffix, content in ((".html", html), (".txt", digest.text), (".csv", digest.csv)):
        path = out_dir / f"{stem}{suffix}"
        path.write_text(content, encoding="utf-8")
        paths.append(path)
    return paths
