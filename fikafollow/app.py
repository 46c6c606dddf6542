"""Composes the parts from settings: one place that knows which adapter goes where.

`CHANNELS` is the registry: each channel package's `setup` says what it adds when its settings
are present (an adapter, web routes, background tasks); with none, messages wait in the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.routing import BaseRoute

from bot.answer_pages import PageContext, answer_routes
from bot.channels import email, sms, telegram
from bot.channels.base import BackgroundTask, Channel, ChannelContext, ChannelSetup
from bot.conversation import Conversation
from bot.greeting_review import review_routes
from bot.inbound import ConversationInbound
from bot.links import LinkMaker, LinkSigner, load_or_create_secret
from bot.surveys import SurveyBook, default_book
from fikafollow.config import ConfigError, Settings, parse_quiet_hours
from fikafollow.errors import UnknownProgramme
from messages.render import default_catalogue
from scheduler.passes import ChaseResult, DispatchResult, chase, dispatch_due
from scheduler.rate_limit import UNSHARED_RATE, Bucket, SharedBucket, TokenBucket
from scheduler.sender import DrainResult, RetryPolicy, Sender
from store import leader, programmes, rate_slots
from store.database import make_engine, make_sessionmaker
from store.group_commit import GroupCommit, inbound_writers
from store.media import media_storage
from store.migrate import ensure_schema
from store.models import Programme
from store.personal_data import retention_pass
from store.photos import PhotoStore

# every channel package, each with NAME and setup(settings, context) -> ChannelSetup | None
CHANNELS = (telegram, sms, email)
SQLITE_PREFIX = "sqlite+aiosqlite:///"


def utc_now() -> datetime:
    return datetime.now(UTC)


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


@dataclass
class TickResult:
    dispatch: DispatchResult
    drain: DrainResult
    chase: ChaseResult


class App:
    """The parts, composed. `channels` stands in for the configured channels (the demo, tests):
    then no channel is set up from settings, and none adds routes or tasks."""

    def __init__(self, settings: Settings, channels: Mapping[str, Channel] | None = None) -> None:
        self.settings = settings
        self.engine: AsyncEngine = make_engine(settings.database_url)
        self.sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(self.engine)
        self.book: SurveyBook = default_book()
        self.catalogue = default_catalogue()
        self.photos = PhotoStore(
            settings.photo_dir,
            media=media_storage(
                settings.media_url,
                settings.photo_dir,
                settings.media_access_key,
                settings.media_secret_key,
            ),
        )
        self.conversation = Conversation(self.book, self.catalogue, self.photos)
        self.links = configured_links(settings)
        self.conversation.links = self.links
        self.inbound = ConversationInbound(
            self.sessions,
            self.conversation,
            self.catalogue,
            settings.programme_name,
            GroupCommit(self.sessions, writers=inbound_writers(self.engine)),
        )
        self.setups: dict[str, ChannelSetup] = {}
        if channels is None:
            for package in CHANNELS:
                found = package.setup(settings, self.channel_context())
                if found is not None:
                    self.setups[package.NAME] = found
        self.channels: dict[str, Channel] = (
            dict(channels)
            if channels is not None
            else {name: s.adapter for name, s in self.setups.items() if s.adapter is not None}
        )
        self.conversation.telegram_linker = telegram.linker(settings, self.channels.get("telegram"))
        rates = {
            "telegram": settings.rate_telegram,
            "sms": settings.rate_sms,
            "email": settings.rate_email,
        }
        self.sender = Sender(
            self.sessions,
            self.channels,
            {name: self._bucket(name, rates.get(name, 10.0)) for name in self.channels},
            RetryPolicy(settings.max_attempts, settings.retry_base_seconds),
            on_failure=self.conversation.failed_for_good,
            refresh=self.conversation.refresh,
        )

    def _bucket(self, channel: str, rate: float) -> Bucket:
        """On PostgreSQL the instances share each channel's rate (a timeline in the database);
        on SQLite, one instance, the bucket is its own."""
        if self.engine.dialect.name != "postgresql" or rate >= UNSHARED_RATE:
            return TokenBucket(rate)

        async def reserve(seconds: float, hold: float) -> tuple[float, float]:
            async with self.sessions.begin() as session:
                return await rate_slots.reserve(session, channel, seconds, hold)

        return SharedBucket(rate, reserve)

    def channel_context(self, clock: Callable[[], datetime] = utc_now) -> ChannelContext:
        """What a channel's setup is lent: the way in, a clock, the reply-token signer."""
        signer = self.links.signer if self.links is not None else None
        return ChannelContext(self.inbound, clock, signer)

    def web_routes(self) -> list[BaseRoute]:
        """What `serve` mounts beside health and the API: the answer pages, the channels'
        webhooks and the digest's review page."""
        routes: list[BaseRoute] = []
        if self.links is not None:
            context = PageContext(self.sessions, self.conversation, self.links, utc_now)
            routes += answer_routes(context)
        for setup in self.setups.values():
            routes += setup.routes
        if self.links is not None:
            routes += review_routes(self.sessions, self.links.signer, utc_now)
        return routes

    def background_tasks(self) -> list[BackgroundTask]:
        """Long-running tasks `serve` runs beside the web app (polling a bot, reading a mailbox);
        among several instances on one PostgreSQL database each runs in one instance only."""
        return [
            self._alone(f"{name}.task.{n}", task)
            for name, setup in self.setups.items()
            for n, task in enumerate(setup.tasks)
        ]

    def _alone(self, name: str, task: BackgroundTask) -> BackgroundTask:
        async def run() -> None:
            await leader.run_alone(self.engine, name, task)

        return run

    def questions(self) -> list[str]:
        """Every survey question once, in the order the surveys ask them."""
        seen: dict[str, None] = {}
        for survey in self.book.surveys.values():
            seen.update(dict.fromkeys(survey.question_names))
        return list(seen)

    def survey_questions(self) -> dict[str, list[str]]:
        """Each survey's questions, in the order it asks them."""
        return {name: list(s.question_names) for name, s in self.book.surveys.items()}

    def review_link(self, now: datetime) -> Callable[[int, str], str] | None:
        """Signed approve/reject links for fikahälsningar in a digest made at `now`, when the
        web app has a public address."""
        links = self.links
        if links is None:
            return None
        return lambda greeting_id, decision: links.review_url(greeting_id, decision, now)

    async def start(self) -> None:
        """Create the schema in an empty database and the default programme."""
        await ensure_schema(self.engine)

    async def close(self) -> None:
        for channel in self.channels.values():
            # adapters holding a connection pool (Telegram's bot, Twilio's session) let it go here
            close = getattr(channel, "close", None)
            if close is not None:
                await close()
        await self.photos.close()
        await self.engine.dispose()

    async def programme(self, programme_id: str | None, now: datetime) -> Programme:
        """The named programme; the default one is created from settings on first use."""
        wanted = programme_id or self.settings.programme
        async with self.sessions.begin() as session:
            if wanted != self.settings.programme:
                found = await session.get(Programme, wanted)
                if found is None:
                    raise UnknownProgramme(wanted)
                return found
            return await programmes.get_or_create(
                session,
                wanted,
                now,
                name=self.settings.programme_name,
                timezone=self.settings.timezone,
                send_hour=self.settings.send_hour,
                quiet=parse_quiet_hours(self.settings.quiet_hours),
                send_calendar=self.settings.send_calendar,
            )

    async def tick(self, clock: Callable[[], datetime]) -> TickResult:
        """One pass at `clock()`: start due follow-ups, chase unanswered ones, then send what
        the outbox holds."""
        dispatched = await dispatch_due(self.sessions, self.conversation, clock())
        chased = await chase(self.sessions, self.conversation, clock())
        drained = await self.sender.drain(clock)
        await retention_pass(self.sessions, self.photos, self.settings.retention_days, clock())
        return TickResult(dispatched, drained, chased)
