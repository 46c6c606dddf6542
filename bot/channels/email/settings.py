"""What the configured channels add to the process: adapters, web routes and background tasks.

Each channel joins here when its settings are present; with none, messages wait in the outbox.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from bot.answer_pages import PageContext, answer_routes
from bot.channels.base import Channel
from bot.channels.email import EmailChannel, SmtpSettings
from bot.channels.sms import TwilioConfig, TwilioSmsChannel
from bot.channels.telegram import TelegramChannel
from bot.email_inbound import ImapSettings, MailboxReader
from bot.greeting_review import review_routes
from bot.links import LinkMaker, LinkSigner, load_or_create_secret
from bot.telegram_inbound import TelegramInbound, TelegramLinker
from bot.telegram_updates import WEBHOOK_PATH, TelegramUpdates
from bot.twilio_webhooks import STATUS_PATH, TwilioWebhookConfig, TwilioWebhooks
from fikafollow.config import ConfigError, Settings

if TYPE_CHECKING:
    from fikafollow.app import App

BackgroundTask = Callable[[], Coroutine[Any, Any, None]]
SQLITE_PREFIX = "sqlite+aiosqlite:///"


def utc_now() -> datetime:
    return datetime.now(UTC)


# one update handler per app, shared by its web route and its background task (one lock)
_TELEGRAM: weakref.WeakKeyDictionary[App, TelegramUpdates] = weakref.WeakKeyDictionary()


def smtp_settings(settings: Settings) -> SmtpSettings | None:
    """The mail server participants' e-mail and the coordinators' digest go through, if set."""
    if not (settings.smtp_host and settings.mail_from):
        return None
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        mail_from=settings.mail_from,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password,
        reply_to=settings.mail_reply_to,
    )


def configured_channels(settings: Settings) -> dict[str, Channel]:
    """The channel adapters whose settings are present, by channel name."""
    channels: dict[str, Channel] = {}
    smtp = smtp_settings(settings)
    if smtp is not None:
        channels["email"] = EmailChannel(smtp)
    if settings.telegram_token:
        channels["telegram"] = TelegramChannel(
            settings.telegram_token,
            settings.telegram_api_url,
            chat_interval=settings.telegram_chat_interval,
            poll_timeout=settings.telegram_poll_timeout,
        )
    if settings.sms_configured:
        channels["sms"] = TwilioSmsChannel(twilio_config(settings))
    return channels


def link_secret(settings: Settings) -> bytes:
    """FIKAFOLLOW_SECRET_KEY, or for SQLite one made once and kept beside the database file."""
    if settings.secret_key:
        return settings.secret_key.encode()
    url = settings.database_url
    if url.startswith(SQLITE_PREFIX) and url[len(SQLITE_PREFIX) :] not in ("", ":memory:"):
        database = Path(url[len(SQLITE_PREFIX) :])
        return load_or_create_secret(database.with_name(database.name + ".secret"))
    # several instances on one PostgreSQL database must sign alike: they need a shared secret
    raise ConfigError(
        "FIKAFOLLOW_SECRET_KEY: needed with PostgreSQL when FIKAFOLLOW_PUBLIC_URL is set"
    )


def configured_links(settings: Settings) -> LinkMaker | None:
    """Signed links (one-click answers, upload page, unsubscribe) when there is a public URL."""
    if not settings.public_url:
        return None
    return LinkMaker(settings.public_url, LinkSigner(link_secret(settings)))


def telegram_linker(settings: Settings, channels: Mapping[str, Channel]) -> TelegramLinker | None:
    """Deep links for unlinked Telegram participants, when Telegram is configured."""
    channel = channels.get("telegram")
    if not isinstance(channel, TelegramChannel):
        return None
    return TelegramLinker(
        channel, timedelta(days=settings.telegram_link_days), settings.telegram_bot_username
    )


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
            utc_now,
            app.settings.programme_name,
        )
        _TELEGRAM[app] = TelegramUpdates(channel, inbound)
    return _TELEGRAM[app]


def _webhook_mode(settings: Settings) -> bool:
    return settings.telegram_mode == "webhook" and bool(settings.public_url)


def twilio_config(settings: Settings) -> TwilioConfig:
    assert settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from
    return TwilioConfig(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        sender=settings.twilio_from,
        api_url=settings.twilio_api_url,
        status_callback_url=f"{settings.public_url}{STATUS_PATH}" if settings.public_url else None,
    )


def sms_routes(app: App, clock: Callable[[], datetime] = utc_now) -> list[BaseRoute]:
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
    if app.links is not None:
        routes += answer_routes(PageContext(app.sessions, app.conversation, app.links, utc_now))
    updates = telegram_updates(app)
    secret = app.settings.telegram_webhook_secret
    if updates is not None and _webhook_mode(app.settings) and secret:
        routes.append(updates.webhook_route(secret))
    routes += sms_routes(app)
    if app.links is not None:
        routes += review_routes(app.sessions, app.links.signer, utc_now)
    return routes


def mailbox_reader(app: App) -> MailboxReader | None:
    s = app.settings
    if not (s.imap_host and s.imap_username and s.imap_password):
        return None
    return MailboxReader(
        ImapSettings(
            host=s.imap_host,
            port=s.imap_port,
            username=s.imap_username,
            password=s.imap_password,
            mailbox=s.imap_mailbox,
            security=s.imap_security,
        ),
        app.sessions,
        app.conversation,
        app.links.signer if app.links is not None else None,
    )


def background_tasks(app: App) -> list[BackgroundTask]:
    """Long-running tasks `serve` runs beside the web app (polling a bot, reading a mailbox)."""
    tasks: list[BackgroundTask] = []
    reader = mailbox_reader(app)
    if reader is not None:
        every = float(app.settings.imap_poll_seconds)

        async def read_mailbox() -> None:
            await reader.run(utc_now, every)

        tasks.append(read_mailbox)
    updates = telegram_updates(app)
    secret = app.settings.telegram_webhook_secret
    if updates is not None:
        if _webhook_mode(app.settings) and secret:
            url = f"{str(app.settings.public_url).rstrip('/')}{WEBHOOK_PATH}"
            tasks.append(lambda: updates.keep_webhook(url, secret))
        else:
            tasks.append(updates.poll)
    return tasks
