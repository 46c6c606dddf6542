"""What the configured channels add to the process: adapters, web routes and background tasks.

Each channel joins here when its settings are present; with none, messages wait in the outbox.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel
from bot.telegram_inbound import TelegramInbound, TelegramLinker
from bot.telegram_updates import WEBHOOK_PATH, TelegramUpdates
from fikafollow.config import Settings

if TYPE_CHECKING:
    from fikafollow.app import App

BackgroundTask = Callable[[], Coroutine[Any, Any, None]]
# one update handler per app, shared by its web route and its background task (one lock)
_TELEGRAM: weakref.WeakKeyDictionary[App, TelegramUpdates] = weakref.WeakKeyDictionary()


def configured_channels(settings: Settings) -> dict[str, Channel]:
    """The channel adapters whose settings are present, by channel name."""
    channels: dict[str, Channel] = {}
    if settings.telegram_token:
        channels["telegram"] = TelegramChannel(
            settings.telegram_token,
            settings.telegram_api_url,
            chat_interval=settings.telegram_chat_interval,
            poll_timeout=settings.telegram_poll_timeout,
        )
    return channels


def telegram_linker(settings: Settings, channels: Mapping[str, Channel]) -> TelegramLinker | None:
    """Deep links for unlinked Telegram participants, when Telegram is configured."""
    channel = channels.get("telegram")
    if not isinstance(channel, TelegramChannel):
        return None
    return TelegramLinker(
        channel, timedelta(days=settings.telegram_link_days), settings.telegram_bot_username
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


def telegram_updates(app: App) -> TelegramUpdates | None:
    channel = app.channels.get("telegram")
    if not isinstance(channel, TelegramChannel):
        return None
    if app not in _TELEGRAM:
        inbound = TelegramInbound(
            app.sessions,
            app.conversation,
            app.catalogue,
            channel,
            _utc_now,
            app.settings.programme_name,
        )
        _TELEGRAM[app] = TelegramUpdates(channel, inbound)
    return _TELEGRAM[app]


def _webhook_mode(settings: Settings) -> bool:
    return settings.telegram_mode == "webhook" and bool(settings.public_url)


def web_routes(app: App) -> list[BaseRoute]:
    """Routes the channels add to the web app (webhooks, answer pages)."""
    routes: list[BaseRoute] = []
    updates = telegram_updates(app)
    secret = app.settings.telegram_webhook_secret
    if updates is not None and _webhook_mode(app.settings) and secret:
        routes.append(updates.webhook_route(secret))
    return routes


def background_tasks(app: App) -> list[BackgroundTask]:
    """Long-running tasks `serve` runs beside the web app (polling a bot, reading a mailbox)."""
    tasks: list[BackgroundTask] = []
    updates = telegram_updates(app)
    secret = app.settings.telegram_webhook_secret
    if updates is not None:
        if _webhook_mode(app.settings) and secret:
            url = f"{str(app.settings.public_url).rstrip('/')}{WEBHOOK_PATH}"
            tasks.append(lambda: updates.keep_webhook(url, secret))
        else:
            tasks.append(updates.poll)
    return tasks
