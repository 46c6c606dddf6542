"""SMS settings: all of Twilio's or none, checked at start with the variables named; and a
messaging service as sender."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.base import OutgoingMessage
from bot.channels.sms import TwilioConfig, TwilioSmsChannel
from fikafollow.app import App
from fikafollow.config import ConfigError, Settings, load_settings
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.support.loopback import bound_socket, serving, url_of

SMS = {
    "FIKAFOLLOW_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "FIKAFOLLOW_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "FIKAFOLLOW_TWILIO_FROM": "+46766861234",
    "FIKAFOLLOW_PUBLIC_URL": "https://fika.example.se/",
}


def _set(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)


async def _channels(settings: Settings) -> list[str]:
    app = App(settings)
    try:
        return list(app.channels)
    finally:
        await app.close()


async def test_complete_twilio_settings_turn_sms_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _set(monkeypatch, SMS)
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'f.db'}")
    settings = load_settings()
    assert settings.public_url == "https://fika.example.se"
    assert settings.twilio_api_url == "https://api.twilio.com"
    assert await _channels(settings) == ["sms"]
    off = load_settings(twilio_account_sid=None, twilio_auth_token=None, twilio_from=None)
    assert await _channels(off) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"FIKAFOLLOW_TWILIO_FROM": ""}, "SMS needs all of FIKAFOLLOW_TWILIO_ACCOUNT_SID"),
        ({"FIKAFOLLOW_TWILIO_ACCOUNT_SID": "AC123"}, "FIKAFOLLOW_TWILIO_ACCOUNT_SID: a Twilio"),
        ({"FIKAFOLLOW_TWILIO_FROM": "0701234567"}, "FIKAFOLLOW_TWILIO_FROM: use an E.164"),
        ({"FIKAFOLLOW_PUBLIC_URL": "fika.example.se"}, "FIKAFOLLOW_PUBLIC_URL: use an http"),
        ({"FIKAFOLLOW_TWILIO_API_URL": "ftp://x"}, "FIKAFOLLOW_TWILIO_API_URL: use an http"),
    ],
)
def test_incomplete_or_wrong_twilio_settings_fail_at_start(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, str], message: str
) -> None:
    _set(monkeypatch, {**SMS, **change})
    if change.get("FIKAFOLLOW_TWILIO_FROM") == "":
        monkeypatch.delenv("FIKAFOLLOW_TWILIO_FROM")
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_sms_without_a_public_url_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, SMS)
    monkeypatch.delenv("FIKAFOLLOW_PUBLIC_URL")
    with pytest.raises(ConfigError, match="SMS needs FIKAFOLLOW_PUBLIC_URL"):
        load_settings()


async def test_a_messaging_service_sid_is_sent_as_the_messaging_service() -> None:
    fake = FakeTwilio()
    sock = bound_socket()
    fake.root = url_of(sock)
    service_sid = "MG" + "ab" * 16
    channel = TwilioSmsChannel(
        TwilioConfig(ACCOUNT_SID, AUTH_TOKEN, service_sid, fake.root, "https://x.example/s")
    )
    try:
        async with serving(fake.app(), sock):
            result = await channel.send(
                OutgoingMessage(1, "sms", "+46701000001", "sv", "Hej! Träffades ni igen?")
            )
    finally:
        await channel.close()
    [sent] = fake.sent
    assert result.provider_id == sent.sid and sent.sid.startswith("SM")
    assert (sent.sender, sent.to, sent.body) == (
        service_sid,
        "+46701000001",
        "Hej! Träffades ni igen?",
    )
    assert sent.status_callback == "https://x.example/s"
