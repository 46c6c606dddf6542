"""The SMS channel's settings, made from `FIKAFOLLOW_TWILIO_*` and the public address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fikafollow.config import Settings

# where Twilio calls us: the numbers' and the status callback's webhook URLs end so
INBOUND_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    # an E.164 number, or a messaging service SID ("MG…")
    sender: str
    api_url: str
    status_callback_url: str | None
    timeout: float = 15.0


@dataclass(frozen=True)
class TwilioWebhookConfig:
    account_sid: str
    auth_token: str
    # the service's public root as Twilio sees it; signatures are over this URL, not the
    # address the request arrived at behind a proxy
    public_url: str
    # media is fetched with the account's credentials only from under this root
    api_url: str
    media_timeout: float = 20.0


def twilio_config(settings: Settings) -> TwilioConfig:
    assert settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from
    return TwilioConfig(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        sender=settings.twilio_from,
        api_url=settings.twilio_api_url,
        status_callback_url=f"{settings.public_url}{STATUS_PATH}" if settings.public_url else None,
    )


def webhook_config(settings: Settings) -> TwilioWebhookConfig | None:
    """None without a public address: Twilio has nowhere to call."""
    if not (settings.sms_configured and settings.public_url):
        return None
    assert settings.twilio_account_sid and settings.twilio_auth_token
    return TwilioWebhookConfig(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        public_url=settings.public_url,
        api_url=settings.twilio_api_url,
    )
