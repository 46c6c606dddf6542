"""The Telegram channel: the Bot API adapter (`send`), updates by long polling or webhook
(`updates`, read in `receive`), and the deep links that bind a chat (`links`)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.channels.base import Channel, ChannelContext, ChannelSetup
from bot.channels.telegram.links import TelegramLinker, deep_link, start_payload
from bot.channels.telegram.receive import TelegramInbound
from bot.channels.telegram.send import ChatPacer, TelegramChannel
from bot.channels.telegram.updates import WEBHOOK_PATH, TelegramUpdates

if TYPE_CHECKING:
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


def setup(settings: Settings, context: ChannelContext) -> ChannelSetup | None:
    """The adapter and one update handler, shared by the webhook route or the polling task
    (one lock keeps updates in order); None without FIKAFOLLOW_TELEGRAM_TOKEN."""
    if not settings.telegram_token:
        return None
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
    if not isinstance(channel, TelegramChannel):
        return None
    return TelegramLinker(
        channel, timedelta(days=settings.telegram_link_days), settings.telegram_bot_username
    )
