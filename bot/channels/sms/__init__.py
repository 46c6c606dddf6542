"""The SMS channel through Twilio: the Messages API adapter (`send`), the signed webhooks for
inbound SMS/MMS and delivery reports (`receive`), and what a text costs in parts (`segments`).

The twilio library (and aiohttp under it) loads only when the channel is set up or one of its
names is asked for: every command starts faster where SMS is off (issue 15)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.base import ChannelContext, ChannelSetup, lazy_names
from bot.channels.sms.settings import (
    INBOUND_PATH,
    STATUS_PATH,
    TwilioConfig,
    TwilioWebhookConfig,
    twilio_config,
    webhook_config,
)

if TYPE_CHECKING:
    from bot.channels.sms.receive import TwilioWebhooks
    from bot.channels.sms.send import PERMANENT_CODES, TwilioSmsChannel, classify
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
# the names whose modules import twilio, and where they live
_LAZY = {
    "TwilioWebhooks": "receive",
    "PERMANENT_CODES": "send",
    "TwilioSmsChannel": "send",
    "classify": "send",
}


__getattr__ = lazy_names(__name__, _LAZY)


def setup(settings: Settings, context: ChannelContext) -> ChannelSetup | None:
    """The adapter, and Twilio's webhooks when there is a public address; None unless all of
    FIKAFOLLOW_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _FROM are set."""
    if not settings.sms_configured:
        return None
    from bot.channels.sms.receive import TwilioWebhooks
    from bot.channels.sms.send import TwilioSmsChannel

    hooks = webhook_config(settings)
    routes = TwilioWebhooks(hooks, context.inbound, context.clock).routes() if hooks else []
    return ChannelSetup(TwilioSmsChannel(twilio_config(settings)), routes=routes)
