"""What the configured channels add to the process: adapters, web routes and background tasks.

Each channel joins here when its settings are present; with none, messages wait in the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from bot.channels.base import Channel
from fikafollow.config import Settings

if TYPE_CHECKING:
    from fikafollow.app import App

BackgroundTask = Callable[[], Coroutine[Any, Any, None]]


def configured_channels(settings: Settings) -> dict[str, Channel]:
    """The channel adapters whose settings are present, by channel name."""
    channels: dict[str, Channel] = {}
    return channels


def web_routes(app: App) -> list[BaseRoute]:
    """Routes the channels add to the web app (webhooks, answer pages)."""
    routes: list[BaseRoute] = []
    if app.settings.review_secret and app.settings.public_url:
        from datetime import UTC, datetime

        from bot.greeting_review import review_routes

        routes += review_routes(app.sessions, app.settings.review_secret, lambda: datetime.now(UTC))
    return routes


def background_tasks(app: App) -> list[BackgroundTask]:
    """Long-running tasks `serve` runs beside the web app (polling a bot, reading a mailbox)."""
    tasks: list[BackgroundTask] = []
    return tasks
