"""The Telegram channel: the Bot API adapter (`send`), updates by long polling or webhook
(`updates`, read in `receive`), and the deep links that bind a chat (`links`).

python-telegram-bot (and httpx's HTTP/2 stack under it) loads only when the channel is set up
or one of its names is asked for: every command starts faster where Telegram is off (issue 15).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.channels.base import Channel, ChannelContext, ChannelSetup, lazy_names
from bot.channels.telegram.links import TelegramLinker, deep_link, start_payload

if TYPE_CHECKING:
    from bot.channels.telegram.receive import TelegramInbound
    from bot.channels.telegram.send import ChatPacer, TelegramChannel
    from bot.channels.telegram.updates import WEBHOOK_PATH, TelegramUpdates
    from fikafollow.config import Settings

__all__ = [
    "NAME",
    "WEBHOOK_PATH",
    "ChatPacer",
    "TelegramChannel",
    "TelegramInbound",
    "TelegramLinker",
    "TelegramUpdates",
    "deep_link",
    "linker",
    "setup",
    "start_payload",
]
NAME = "telegram"
# the names whose modules import python-telegram-bot, and where they live
_LAZY = {
    "TelegramInbound": "receive",
    "ChatPacer": "send",
    "TelegramChannel": "send",
    "WEBHOOK_PATH": "updates",
    "TelegramUpdates": "updates",
}


__getattr__ = lazy_names(__name__, _LAZY)


def setup(settings: Settings, context: ChannelContext) -> ChannelSetup | None:
    """The adapter and one update handler, shared by the webhook route or the polling task
    (one lock keeps updates in order); None without FIKAFOLLOW_TELEGRAM_TOKEN."""
    if not settings.telegram_token:
        return None
    from bot.channels.telegram.receive import TelegramInbound
    from bot.channels.telegram.send import TelegramChannel
    from bot.channels.telegram.updates import WEBHOOK_PATH, TelegramUpdates

    channel = TelegramChannel(
        settings.telegram_token,
        settings.telegram_api_url,
        chat_interval=settings.telegram_chat_interval,
        poll_timeout=settings.telegram_poll_timeout,
    )
    updates = TelegramUpdates(channel, TelegramInbound(channel, context.inbound, context.clock))
    secret = settings.telegram_webhook_secret
    if settings.telegram_mode == "webhook" and settings.public_url and secret:
        url = f"{settings.public_url.rstrip('/')}{WEBHOOK_PATH}"

        async def keep_webhook() -> None:
            await updates.keep_webhook(url, secret)

        return ChannelSetup(channel, routes=(updates.webhook_route(secret),), tasks=(keep_webhook,))
    return ChannelSetup(channel, tasks=(updates.poll,))


def linker(settings: Settings, channel: Channel | None) -> TelegramLinker | None:
    """Deep links for unlinked Telegram participants, when the adapter is Telegram's."""
    if channel is None:
        return None  # and python-telegram-bot stays unloaded
    from bot.channels.telegram.send import TelegramChannel

    if not isinstance(channel, TelegramChannel):
        return None
    return TelegramLinker(
        channel, timedelta(days=settings.telegram_link_days), settings.telegram_bot_username
    )
