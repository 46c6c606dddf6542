"""The SMS channel through Twilio: the Messages API adapter (`send`), the signed webhooks for
inbound SMS/MMS and delivery reports (`receive`), and what a text costs in parts (`segments`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.base import ChannelContext, ChannelSetup
from bot.channels.sms.receive import TwilioWebhooks
from bot.channels.sms.send import PERMANENT_CODES, TwilioSmsChannel, classify
from bot.channels.sms.settings import (
    INBOUND_PATH,
    STATUS_PATH,
    TwilioConfig,
    TwilioWebhookConfig,
    twilio_config,
    webhook_config,
)

if TYPE_CHECKING:
    from fikafollow.config import Settings

__all__ = [
    "INBOUND_PATH",
    "NAME",
    "PERMANENT_CODES",
    "STATUS_PATH",
    "TwilioConfig",
    "TwilioSmsChannel",
    "TwilioWebhookConfig",
    "TwilioWebhooks",
    "classify",
    "setup",
    "twilio_config",
    "webhook_config",
]
NAME = "sms"


def setup(settings: Settings, context: ChannelContext) -> ChannelSetup | None:
    """The adapter, and Twilio's webhooks when there is a public address; None unless all of
    FIKAFOLLOW_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _FROM are set."""
    if not settings.sms_configured:
        return None
    hooks = webhook_config(settings)
    routes = TwilioWebhooks(hooks, context.inbound, context.clock).routes() if hooks else []
    return ChannelSetup(TwilioSmsChannel(twilio_config(settings)), routes=routes)
