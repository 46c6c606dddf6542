"""A small fixed data set in two programmes, for checking the digest and the report by hand.

Programme alpha ("Fika Alpha"), matches of 2026-05-04, asked 2026-05-25 10:05 (Stockholm):
  A1 individual: Amina (ar, sms, woman, newcomer) "نعم" then "نعم", then words "=HYPERLINK(1) fika";
                 Erik (sv, sms, man, established) "Nej"                       → partners disagree
  A2 individual: Dawit (ti, sms, man, newcomer) "2" (no) then "2" (maybe), a photo, consent "1";
                 Karin (sv, email→sms, woman, established): e-mail fails for good, asked by SMS,
                 "nej, tyvärr, vi hann inte"                                  → both say not met
  A3 family:     Maryam (fa, email, woman, newcomer) silent                   → call list
                 Johan (sv, sms, man, established) STOP                       → opted out
  expire_days 3, tick on 2026-05-29 10:05: Maryam's follow-up expires.
Programme beta ("Fika Beta"): B1 Zara (en, sms, woman) "yes we met at the café", Olle (sv) silent.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from bot.channels.base import InboundMessage, PermanentError
from fikafollow.app import App
from fikafollow.config import load_settings
from store import intake
from store.models import Coordinator, Programme
from tests.support.recording_channel import RecordingChannel

HEADER = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
)
ALPHA = HEADER + (
    "A1,2026-05-04,individual,P1,Amina,newcomer,ar,sms,+46701000001,,woman\n"
    "A1,2026-05-04,individual,P2,Erik,established,sv,sms,+46701000002,,man\n"
    "A2,2026-05-04,individual,P3,Dawit,newcomer,ti,sms,+46701000003,,man\n"
    "A2,2026-05-04,individual,P4,Karin,established,sv,email,+46701000004,karin@example.org,woman\n"
    "A3,2026-05-04,family,P5,Maryam,newcomer,fa,email,,maryam@example.org,woman\n"
    "A3,2026-05-04,family,P6,Johan,established,sv,sms,+46701000006,,man\n"
)
BETA = HEADER + (
    "B1,2026-05-04,individual,Q1,Zara,newcomer,en,sms,+46702000001,,woman\n"
    "B1,2026-05-04,individual,Q2,Olle,established,sv,sms,+46702000002,,man\n"
)
IMPORTED = datetime(2026, 5, 5, 10, tzinfo=UTC)
ASKED = datetime(2026, 5, 25, 8, 5, tzinfo=UTC)  # 10:05 in Stockholm
ANSWERED = datetime(2026, 5, 26, 10, tzinfo=UTC)
EXPIRED = datetime(2026, 5, 29, 8, 5, tzinfo=UTC)
DIGEST_AT = "2026-06-01T09:30+02:00"


PHOTO = "<photo>"


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


async def build(db_url: str, tmp_path: Path) -> None:
    sms, email = RecordingChannel("sms"), RecordingChannel("email")
    # Karin's e-mail bounces for good: the ladder moves her to SMS
    email.failures.append(PermanentError("mailbox does not exist"))
    settings = load_settings(
        database_url=db_url, photo_dir=tmp_path / "photos", rate_sms=1000, rate_email=1000
    )
    app = App(settings, {"sms": sms, "email": email})
    try:
        await app.start()
        for pid, name, data in (("alpha", "Fika Alpha", ALPHA), ("beta", "Fika Beta", BETA)):
            rows, errors = intake.read_csv(data.encode(), "SE")
            assert not errors, errors
            async with app.sessions.begin() as session:
                programme = Programme(
                    id=pid,
                    name=name,
                    created_at=IMPORTED,
                    expire_days=3,
                    reminder_days=5,
                    target_individual=3,
                    target_family=2,
                    target_women_percent=60,
                )
                session.add(programme)
                await session.flush()
                await intake.apply(session, programme, rows, IMPORTED, app.book.days())
                session.add(
                    Coordinator(
                        programme_id=pid,
                        name=f"Coordinator {name}",
                        email=f"{pid}@example.org",
                        language="sv" if pid == "alpha" else "en",
                        timezone="Europe/Stockholm",
                        created_at=IMPORTED,
                    )
                )
        await app.tick(lambda: ASKED)
        replies = [
            ("sms", "+46701000001", "نعم"),
            ("sms", "+46701000001", "نعم"),
            ("sms", "+46701000001", "=HYPERLINK(1) fika"),
            ("sms", "+46701000002", "Nej"),
            ("sms", "+46701000003", "2"),
            ("sms", "+46701000003", "2"),
            ("sms", "+46701000003", PHOTO),
            ("sms", "+46701000003", "1"),
            ("sms", "+46701000004", "nej, tyvärr, vi hann inte"),
            ("sms", "+46701000006", "STOP"),
            ("sms", "+46702000001", "yes we met at the café"),
        ]
        for n, (channel, sender, text) in enumerate(replies):
            photo = (_jpeg(),) if text == PHOTO else ()
            message = InboundMessage(
                channel=channel,
                provider_id=f"in-{n}",
                sender=sender,
                text="" if photo else text,
                photos=photo,
                photo_types=("image/jpeg",) if photo else (),
            )
            async with app.sessions.begin() as session:
                await app.conversation.receive(session, message, ANSWERED)
        await app.tick(lambda: EXPIRED)
    finally:
        await app.close()
