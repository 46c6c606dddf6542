"""What the configured channels add to the process: adapters, web routes and background tasks.

Each channel joins here when its settings are present; with none, messages wait in the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from bot.channels.base import Channel
from bot.channels.sms import TwilioConfig, TwilioSmsChannel
from bot.twilio_webhooks import STATUS_PATH, TwilioWebhookConfig, TwilioWebhooks
from fikafollow.config import Settings

if TYPE_CHECKING:
    from fikafollow.app import App

BackgroundTask = Callable[[], Coroutine[Any, Any, None]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def configured_channels(settings: Settings) -> dict[str, Channel]:
    """The channel adapters whose settings are present, by channel name."""
    channels: dict[str, Channel] = {}
    if settings.sms_configured:
        channels["sms"] = TwilioSmsChannel(twilio_config(settings))
    return channels


def twilio_config(settings: Settings) -> TwilioConfig:
    assert settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from
    return TwilioConfig(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        sender=settings.twilio_from,
        api_url=settings.twilio_api_url,
        status_callback_url=f"{settings.public_url}{STATUS_PATH}" if settings.public_url else None,
    )


def sms_routes(app: App, clock: Callable[[], datetime] = _utc_now) -> list[BaseRoute]:
    """Twilio's webhooks (inbound SMS, delivery reports); none when SMS is not configured."""
    settings = app.settings
    if not (settings.sms_configured and settings.public_url):
        return []
    assert settings.twilio_account_sid and settings.twilio_auth_token
    config = TwilioWebhookConfig(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        public_url=settings.public_url,
        api_url=settings.twilio_api_url,
    )
    return list(TwilioWebhooks(config, app.sessions, app.conversation, clock).routes())


def web_routes(app: App) -> list[BaseRoute]:
    """Routes the channels add to the web app (webhooks, answer pages)."""
    routes: list[BaseRoute] = []
    routes += sms_routes(app)
    return routes


def background_tasks(app: App) -> list[BackgroundTask]:
    """Long-running tasks `serve` runs beside the web app (polling a bot, reading a mailbox)."""
    tasks: list[BackgroundTask] = []
    return tasks
