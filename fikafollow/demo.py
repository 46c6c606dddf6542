"""`fikafollow demo`: three weeks of follow-ups on a bundled sample, on a virtual clock, offline.

Only the last step differs from production: the demo channel shows each message in the terminal
instead of handing it to Telegram, Twilio or a mail server, and scripted participants answer.
Everything else — intake, schedule, outbox, dialogue, reply parser, catalogue — is the real path.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, ImageDraw

from bot.channels.base import InboundMessage, OutgoingMessage
from bot.channels.demo import DemoChannel
from bot.channels.telegram import deep_link
from bot.reach import address_for
from fikafollow.app import App
from fikafollow.config import load_settings
from store import activities, greetings, intake, participants, programmes, telegram_links
from store.models import Participant, Programme
from store.reporting import summary, write_answers_csv
from store.vocabulary import CHANNELS, MessageKind

# the sample's phone numbers are from the range PTS keeps for fiction (070-174 06 05 to 99) and
# its addresses are under example.org: no real person is in it
SAMPLE = Path(__file__).with_name("demo_matches.csv")
DEMO_BOT = "FikaDemoBot"  # a name for the links the demo shows; no such bot is asked
EXPECTS_REPLY = frozenset(
    {MessageKind.QUESTION, MessageKind.REPROMPT, MessageKind.CONSENT, MessageKind.GREETING_INVITE}
)


@dataclass(frozen=True)
class Act:
    """One scripted thing a participant does when a message asks them something."""

    text: str = ""
    button: str | None = None  # the option value to tap
    photo: bool = False


def tap(value: str) -> Act:
    return Act(button=value)


def say(text: str) -> Act:
    return Act(text=text)


# who answers what; P06 never answers, P04 first writes something the parser cannot read
SCRIPT: dict[str, list[Act]] = {
    "P01": [tap("yes"), tap("yes"), Act(text="شربنا الشاي معاً ☕", photo=True), say("١")],
    # Erik is in two matches: M01 first, then M10 three days later
    "P02": [
        say("Ja, vi har träffats två gånger!"),
        say("1"),
        say("Vi gick på loppis ihop."),
        say("ja"),
        say("kanske"),
    ],
    "P03": [say("እወ"), say("ምናልባት"), say("ኣይፋል")],
    "P04": [
        say("hmm vad menar du?"),
        say("nej"),
        say("kanske"),
        say("Vi drack kaffe på biblioteket och pratade om böcker."),
    ],
    "P05": [say("۱"), say("بله حتماً"), Act(photo=True), say("نه")],
    "P07": [say("1️⃣"), say("1️⃣")],
    "P08": [say("Yes we did!"), say("not sure, maybe")],
    "P09": [say("۲"), say("شاید")],
    "P10": [say("1"), say("3")],
    "P11": [say("نعم التقينا"), say("نعم")],
    "P12": [tap("yes"), tap("maybe")],
    "P13": [say("1"), say("1")],
    "P14": [say("Ja"), say("Ja")],
    "P15": [say("آره"), say("آره")],
    "P16": [say("👍"), say("yes")],
    "P17": [say("٢"), say("توقف")],
    "P18": [tap("yes"), tap("yes")],
    "P19": [say("na3am"), say("inshallah")],  # Arabic typed in Latin letters
    "P20": [tap("yes"), tap("yes"), say("Lovely afternoon, thank you!")],
    "P21": [say("Так!"), say("можливо")],
    "P22": [say("haa"), say("laga yaabee")],
}


def demo_photo() -> bytes:
    """A small picture carrying a GPS position, to show that none of it is kept."""
    image = Image.new("RGB", (640, 480), (222, 184, 135))
    draw = ImageDraw.Draw(image)
    draw.ellipse((220, 140, 420, 340), fill=(111, 78, 55))
    draw.ellipse((250, 170, 390, 310), fill=(160, 110, 70))
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (59.0, 19.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (18.0, 4.0, 10.0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


class Participants:
    """The demo's scripted people, found by the address a message went to."""

    def __init__(self, people: list[Participant]) -> None:
        self.by_address: dict[tuple[str, str], Participant] = {}
        for person in people:
            for channel in CHANNELS:
                address = address_for(person, channel)
                if address:
                    self.by_address[(channel, address)] = person
        self.scripts = {key: list(acts) for key, acts in SCRIPT.items()}

    def describe(self, channel: str, address: str) -> str:
        person = self.by_address.get((channel, address))
        return f"{person.first_name} ({person.external_id})" if person else "?"

    def next_act(self, message: OutgoingMessage) -> tuple[Participant, Act, OutgoingMessage] | None:
        person = self.by_address.get((message.channel, message.address))
        if person is None or message.kind not in EXPECTS_REPLY:
            return None
        acts = self.scripts.get(person.external_id, [])
        return (person, acts.pop(0), message) if acts else None


# the sample's activities are data beside the sample matches (they name languages, and
# languages are data)
DEMO_ACTIVITIES = [
    activities.ActivityRow(
        name=row["name"],
        for_kind=row["for"],
        age_min=int(row["age_min"]) if row["age_min"] else None,
        age_max=int(row["age_max"]) if row["age_max"] else None,
        when=row["when"],
        where=row["where"],
        price=row["price"],
        languages=tuple(code for code in row["languages"].split(" ") if code),
        link=row["link"],
    )
    for row in csv.DictReader(
        Path(__file__).with_name("demo_activities.csv").read_text(encoding="utf-8").splitlines()
    )
]


async def run_demo(workdir: Path, out: TextIO) -> int:
    workdir = workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{workdir / 'demo.db'}",
        photo_dir=workdir / "photos",
        programme="demo",
        programme_name="Fika Sundsvall",
        timezone="Europe/Stockholm",
    )
    zone = ZoneInfo(settings.timezone)
    channels = {name: DemoChannel(name, out) for name in CHANNELS}
    app = App(settings, channels)
    try:
        return await _play(app, channels, zone, workdir, out)
    finally:
        await app.close()


async def _play(
    app: App, channels: dict[str, DemoChannel], zone: ZoneInfo, workdir: Path, out: TextIO
) -> int:
    start = datetime(2026, 5, 7, 12, 0, tzinfo=zone).astimezone(UTC)
    out.write("fikafollow demo — a programme of 11 matches, played on a virtual clock\n")
    out.write(f"working in {workdir}\n\n")
    await app.start()
    programme = await app.programme(None, start)
    rows, errors = intake.read_csv(SAMPLE.read_bytes(), app.settings.default_region)
    if errors:
        for error in errors:
            out.write(f"sample: {error}\n")
        return 1
    async with app.sessions.begin() as session:
        programme = await session.get_one(Programme, programme.id)
        # the programme runs the three-month evaluation too, and suggests local activities
        await programmes.set_surveys(
            session, programme, list(app.book.surveys), app.book.days(), start
        )
        await activities.save(session, programme.id, DEMO_ACTIVITIES, start)
        result = await intake.apply(session, programme, rows, start, app.book.days())
        people = list(await participants.of_programme(session, programme.id))
        # in real life each Telegram participant taps their link first (`fikafollow links`
        # makes them); here they all did
        links = []
        for person in people:
            if person.channel == "telegram":
                token = telegram_links.issue(session, person.id, start, timedelta(days=30))
                links.append((person, deep_link(DEMO_BOT, token)))
                person.telegram_chat_id = f"demo-chat-{person.external_id}"
    out.write(
        f"{_local(start, zone)}  imported {result.matches_created} matches, "
        f"{result.participants_created} participants, {result.followups_created} follow-ups "
        "(due 21 days after each first fika, at 10:00)\n"
    )
    for person, link in links:
        out.write(f"  Telegram link for {person.first_name} ({person.external_id}): {link}\n")
    cast = Participants(people)
    for channel in channels.values():
        channel.describe = functools.partial(cast.describe, channel.name)

    photo = demo_photo()
    replies = 0
    # three weeks of follow-ups, then the three-month evaluation's first days
    for day in [*range(25), 90, 91]:
        for hour in (9, 10, 16):
            now = start.astimezone(zone).replace(hour=hour, minute=0) + timedelta(days=day)
            now = now.astimezone(UTC)
            if now <= start:
                continue
            replies += await _tick_and_answer(app, channels, cast, zone, now, photo, out)

    out.write("\n" + "═" * 60 + "\nSummary\n")
    async with app.sessions() as session:
        for section, counts in (await summary(session, programme.id)).items():
            shown = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "none"
            out.write(f"  {section}: {shown}\n")
        for greeting in await greetings.of_programme(session, programme.id):
            kept = await app.photos.read(greeting.photo_path) if greeting.photo_path else None
            if kept is not None:
                with Image.open(io.BytesIO(kept)) as stored:
                    has_gps = ExifTags.IFD.GPSInfo in stored.getexif()
                out.write(
                    f"  stored photo {greeting.photo_path}: {stored.width}×{stored.height}, "
                    f"GPS data {'KEPT (bug!)' if has_gps else 'removed'}\n"
                )
        export = workdir / "answers.csv"
        with export.open("w", encoding="utf-8", newline="") as target:
            count = await write_answers_csv(session, programme.id, app.book.all_questions(), target)
    languages = sorted({m.language for c in channels.values() for m in c.delivered})
    out.write(f"  languages shown: {', '.join(languages)}; scripted replies played: {replies}\n")
    out.write(f"  answers export: {export} ({count} rows)\n")
    return 0


async def _tick_and_answer(
    app: App,
    channels: dict[str, DemoChannel],
    cast: Participants,
    zone: ZoneInfo,
    now: datetime,
    photo: bytes,
    out: TextIO,
) -> int:
    """Run a pass at `now`; let the scripted people answer what they got, until all is quiet."""
    played = 0
    seen = {name: len(c.delivered) for name, c in channels.items()}
    header = f"\n── {_local(now, zone)} ── tick\n"
    buffered = io.StringIO()
    for channel in channels.values():
        channel.out = buffered
    result = await app.tick(lambda: now)
    if result.drain.sent:
        out.write(header + buffered.getvalue())
    while True:
        fresh = [message for name, c in channels.items() for message in c.delivered[seen[name] :]]
        seen = {name: len(c.delivered) for name, c in channels.items()}
        acts = [turn for m in fresh if (turn := cast.next_act(m)) is not None]
        if not acts:
            break
        now += timedelta(minutes=7)
        for person, act, prompt in acts:
            played += 1
            message = _inbound(person, act, prompt, photo)
            shown = f"[taps {act.button}]" if act.button else act.text
            if act.photo:
                shown = f"[photo] {shown}".strip()
            out.write(f"  ⤷ {person.first_name} ({person.external_id}) replies: {shown}\n")
            async with app.sessions.begin() as session:
                await app.conversation.receive(session, message, now)
        buffered = io.StringIO()
        for channel in channels.values():
            channel.out = buffered
        await app.tick(functools.partial(_fixed, now))
        out.write(buffered.getvalue())
    for channel in channels.values():
        channel.out = out
    return played


_provider_ids = itertools.count(1)


def _inbound(
    person: Participant, act: Act, prompt: OutgoingMessage, photo: bytes
) -> InboundMessage:
    channel = person.channel
    address = address_for(person, channel)
    # a tap sends the value of the button it hit, as Telegram's callback data would
    button = next((b.value for b in prompt.buttons if b.value.endswith(f"={act.button}")), None)
    return InboundMessage(
        channel=channel,
        provider_id=f"demo-in-{next(_provider_ids)}",
        sender=address or "",
        text=act.text,
        button_value=button,
        photos=(photo,) if act.photo else (),
        photo_types=("image/jpeg",) if act.photo else (),
    )


def _fixed(instant: datetime) -> datetime:
    return instant


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")
