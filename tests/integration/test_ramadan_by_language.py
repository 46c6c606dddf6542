"""Ramadan evenings by language: with `--ramadan language` the sender holds back a question to
an Arabic speaker on a Ramadan evening and sends the Swedish one; `on` holds both, `off` none."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fikafollow.app import App
from fikafollow.config import load_settings
from messages.languages import all_languages
from store import intake, programmes
from store.models import Programme
from tests.support.recording_channel import RecordingChannel

ZONE = ZoneInfo("Europe/Stockholm")
# 2 March 2026 is in Ramadan 1447; the follow-ups are due at the send hour, 10:00, and the
# pass runs late, at 16:30, inside the evening kept free from 16:00
MATCHES = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
    "M1,2026-02-09,individual,P1,Amina,newcomer,ar,sms,+46701760001,,woman\n"
    "M1,2026-02-09,individual,P2,Karin,established,sv,sms,+46701760002,,woman\n"
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(UTC)


async def sent_to(db_url: str, tmp_path: Path, choice: str, clocks: list[str]) -> list[set[str]]:
    """Who had a message after each pass, with the programme's Ramadan setting `choice`."""
    channel = RecordingChannel("sms")
    settings = load_settings(database_url=db_url, photo_dir=tmp_path / "p", rate_sms=100_000)
    app = App(settings, {"sms": channel})
    await app.start()
    try:
        programme = await app.programme(None, at("2026-02-10T12:00"))
        rows, errors = intake.read_csv(MATCHES.encode(), "SE")
        assert not errors
        async with app.sessions.begin() as session:
            programme = await session.get_one(Programme, programme.id)
            for column, value in programmes.ramadan_changes(choice).items():
                setattr(programme, column, value)
            await intake.apply(session, programme, rows, at("2026-02-10T12:00"), app.book.days())
        seen = []
        for clock in clocks:
            await app.tick(lambda clock=clock: at(clock))  # type: ignore[misc]
            seen.append({m.address for m in channel.sent})
        return seen
    finally:
        await app.close()


ARABIC, SWEDISH = "+46701760001", "+46701760002"


@pytest.mark.parametrize(
    ("choice", "evening", "morning", "send_hour"),
    [
        # the sender holds back the Arabic speaker's question to the next send hour
        ("language", {SWEDISH}, {SWEDISH}, {SWEDISH, ARABIC}),
        # the programme as a whole sleeps: nothing starts until the evening and night are over
        ("on", set(), {SWEDISH, ARABIC}, {SWEDISH, ARABIC}),
        ("off", {SWEDISH, ARABIC}, {SWEDISH, ARABIC}, {SWEDISH, ARABIC}),
    ],
)
async def test_a_ramadan_evening_holds_back_only_those_it_is_kept_for(
    db_url: str,
    tmp_path: Path,
    choice: str,
    evening: set[str],
    morning: set[str],
    send_hour: set[str],
) -> None:
    seen = await sent_to(
        db_url, tmp_path, choice, ["2026-03-02T16:30", "2026-03-03T09:55", "2026-03-03T10:00"]
    )
    assert seen == [evening, morning, send_hour]


def test_the_hint_is_data_and_chosen_with_care() -> None:
    hinted = {code for code, language in all_languages().items() if language.ramadan_hint}
    # Tigrinya speakers are largely Orthodox Christian; Swedish, English, Ukrainian: no
    assert hinted == {"ar", "fa", "so"}
