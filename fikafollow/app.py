"""Composes the parts from settings: one place that knows which adapter goes where."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.base import Channel
from bot.conversation import Conversation
from bot.surveys import SurveyBook, default_book
from fikafollow.channels import configured_channels, configured_links, telegram_linker
from fikafollow.config import Settings, parse_quiet_hours
from messages.render import default_catalogue
from scheduler.passes import ChaseResult, DispatchResult, chase, dispatch_due
from scheduler.rate_limit import TokenBucket
from scheduler.sender import DrainResult, RetryPolicy, Sender
from store import programmes
from store.database import make_engine, make_sessionmaker
from store.migrate import ensure_schema
from store.models import Programme
from store.photos import PhotoStore


@dataclass
class TickResult:
    dispatch: DispatchResult
    drain: DrainResult
    chase: ChaseResult


class App:
    def __init__(self, settings: Settings, channels: Mapping[str, Channel] | None = None) -> None:
        self.settings = settings
        self.engine: AsyncEngine = make_engine(settings.database_url)
        self.sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(self.engine)
        self.book: SurveyBook = default_book()
        self.catalogue = default_catalogue()
        self.photos = PhotoStore(settings.photo_dir)
        self.conversation = Conversation(self.book, self.catalogue, self.photos)
        self.links = configured_links(settings)
        self.conversation.links = self.links
        self.channels: dict[str, Channel] = (
            dict(channels) if channels is not None else configured_channels(settings)
        )
        self.conversation.telegram_linker = telegram_linker(settings, self.channels)
        rates = {
            "telegram": settings.rate_telegram,
            "sms": settings.rate_sms,
            "email": settings.rate_email,
        }
        self.sender = Sender(
            self.sessions,
            self.channels,
            {name: TokenBucket(rates.get(name, 10.0)) for name in self.channels},
            RetryPolicy(settings.max_attempts, settings.retry_base_seconds),
            on_failure=self.conversation.failed_for_good,
        )

    def questions(self) -> list[str]:
        """Every survey question once, in the order the surveys ask them."""
        seen: dict[str, None] = {}
        for survey in self.book.surveys.values():
            seen.update(dict.fromkeys(survey.question_names))
        return list(seen)

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
        await self.engine.dispose()

    async def programme(self, programme_id: str | None, now: datetime) -> Programme:
        """The named programme; the default one is created from settings on first use."""
        wanted = programme_id or self.settings.programme
        async with self.sessions.begin() as session:
            if wanted != self.settings.programme:
                found = await session.get(Programme, wanted)
                if found is None:
                    raise LookupError(f"no programme {wanted!r}")
                return found
            return await programmes.get_or_create(
                session,
                wanted,
                now,
                name=self.settings.programme_name,
                timezone=self.settings.timezone,
                send_hour=self.settings.send_hour,
                quiet=parse_quiet_hours(self.settings.quiet_hours),
            )

    async def tick(self, clock: Callable[[], datetime]) -> TickResult:
        """One pass at `clock()`: start due follow-ups, chase unanswered ones, then send what
        the outbox holds."""
        dispatched = await dispatch_due(self.sessions, self.conversation, clock())
        chased = await chase(self.sessions, self.conversation, clock())
        drained = await self.sender.drain(clock)
        return TickResult(dispatched, drained, chased)
