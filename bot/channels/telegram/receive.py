"""What a Telegram update means: a chat to link, a button tap, a typed answer, a photo.

Updates come from long polling or the webhook (bot/telegram_updates.py) and are handled one at a
time, in order, so the photos of one album reach the dialogue one after another: the first asks
for consent, the others join the same greeting while the consent question is open.

Every update goes into the inbox once, keyed by `u-<update_id>` (`cb-<id>` for a button tap), so
a webhook Telegram sends again, or an update polled twice after a restart, changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Message, Update

from bot.channels.base import ChannelError, InboundMessage
from bot.channels.telegram import TelegramChannel
from bot.conversation import Conversation
from messages.render import LANGUAGES, Catalogue
from store import inbox, telegram_links
from store.models import Participant
from store.photos import MAX_BYTES

log = logging.getLogger(__name__)
# what a phone sends as "file" rather than "photo"; anything else is not a greeting photo
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "image/gif"})


def start_payload(text: str) -> str | None:
    """The deep-link token of "/start <token>" (or "/start@Bot <token>"), else None."""
    command, _, payload = text.strip().partition(" ")
    if command.split("@", 1)[0].lower() != "/start":
        return None
    return payload.strip() or None


class TelegramLinker:
    """Deep links for participants: `https://t.me/<bot>?start=<token>`."""

    def __init__(
        self, channel: TelegramChannel, lifetime: timedelta, username: str | None = None
    ) -> None:
        self.channel = channel
        self.lifetime = lifetime
        self._username = username

    async def username(self) -> str | None:
        if self._username is None:
            try:
                self._username = await self.channel.username()
            except ChannelError as exc:
                log.warning("telegram: no bot username (%s)", exc.reason)
                return None
        return self._username

    async def __call__(
        self, session: AsyncSession, participant: Participant, now: datetime
    ) -> str | None:
        username = await self.username()
        if username is None:
            return None
        token = telegram_links.issue(session, participant.id, now, self.lifetime)
        return telegram_links.deep_link(username, token)


class TelegramInbound:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        conversation: Conversation,
        catalogue: Catalogue,
        channel: TelegramChannel,
        clock: Callable[[], datetime],
        programme_name: str,
    ) -> None:
        self.sessions = sessions
        self.conversation = conversation
        self.catalogue = catalogue
        self.channel = channel
        self.clock = clock
        self.programme_name = programme_name

    async def handle(self, update: Update) -> str:
        """Act on one update; returns what became of it. Raises ChannelError when a photo could
        not be fetched, so the update is tried again (nothing was stored)."""
        if update.callback_query is not None:
            return await self._button(update)
        message = update.message
        if message is None or message.chat.type != "private":
            return "ignored"
        payload = start_payload(message.text or "")
        if payload is not None:
            return await self._link(update, message, payload)
        photo = await self._photo(message)
        inbound = InboundMessage(
            channel="telegram",
            provider_id=f"u-{update.update_id}",
            sender=str(message.chat.id),
            text=message.text or message.caption or "",
            photos=(photo[0],) if photo else (),
            photo_types=(photo[1],) if photo else (),
        )
        async with self.sessions.begin() as session:
            outcome = await self.conversation.receive(session, inbound, self.clock())
            if outcome == "opted_in":
                # whoever blocked the bot and now starts it again can be reached here again
                await self._revive(session, inbound.sender)
        if outcome == "unknown_sender" and (message.text or "").strip().lower() == "/start":
            # someone opened the bot without a link: tell them how to get one
            await self._link_unknown(message)
        return outcome

    async def _revive(self, session: AsyncSession, chat: str) -> None:
        people = await session.scalars(
            select(Participant).where(Participant.telegram_chat_id == chat)
        )
        for person in people:
            dead = {c for c in person.dead_channels.split(",") if c and c != "telegram"}
            person.dead_channels = ",".join(sorted(dead))

    async def _button(self, update: Update) -> str:
        query = update.callback_query
        assert query is not None
        chat = query.message.chat.id if query.message is not None else query.from_user.id
        inbound = InboundMessage(
            channel="telegram",
            provider_id=f"cb-{query.id}",
            sender=str(chat),
            button_value=query.data or "",
        )
        async with self.sessions.begin() as session:
            outcome = await self.conversation.receive(session, inbound, self.clock())
        try:
            message_id = query.message.message_id if query.message is not None else None
            await self.channel.settle_button(query.id, chat, message_id)
        except ChannelError as exc:
            # the answer is kept; a keyboard left on screen only allows a stale tap
            log.info("telegram: could not settle a button (%s)", exc.reason)
        return outcome

    async def _photo(self, message: Message) -> tuple[bytes, str] | None:
        """The largest size of a photo, or an image sent as a file; None when there is none."""
        if message.photo:
            largest = max(message.photo, key=lambda size: size.width * size.height)
            file_id, size, content_type = largest.file_id, largest.file_size, "image/jpeg"
        elif message.document is not None and message.document.mime_type in IMAGE_TYPES:
            document = message.document
            file_id, size = document.file_id, document.file_size
            content_type = document.mime_type or "image/jpeg"
        else:
            return None
        if size is not None and size > MAX_BYTES:
            # store/photos.py refuses it anyway; not fetching saves the download
            return b"", content_type
        try:
            data = await self.channel.download(file_id, MAX_BYTES)
        except ChannelError as exc:
            if exc.permanent:
                return b"", content_type
            raise
        return data, content_type

    async def _link(self, update: Update, message: Message, token: str) -> str:
        chat = str(message.chat.id)
        now = self.clock()
        async with self.sessions.begin() as session:
            event = await inbox.record(
                session,
                channel="telegram",
                provider_id=f"u-{update.update_id}",
                sender=chat,
                text="/start",  # the token itself is not kept
                payload={"link": True},
                now=now,
            )
            if event is None:
                return "duplicate"
            participant = await telegram_links.redeem(session, token, now)
            if participant is None:
                event.outcome = "link_unknown"
            else:
                # a chat may be linked again (a new phone, a shared phone): the newest link wins
                participant.telegram_chat_id = chat
                dead = {c for c in participant.dead_channels.split(",") if c and c != "telegram"}
                participant.dead_channels = ",".join(sorted(dead))
                participant.updated_at = now
                event.participant_id = participant.id
                event.outcome = "linked"
                await self.conversation.linked(session, participant, chat, now)
        log.info("inbound telegram event %s: %s", event.id, event.outcome)
        if event.outcome == "link_unknown":
            await self._link_unknown(message)
        return event.outcome

    async def _link_unknown(self, message: Message) -> None:
        code = (message.from_user.language_code or "") if message.from_user else ""
        language = code.split("-", 1)[0].lower()
        # in the language their Telegram app uses if we have it, else in English and Swedish
        languages = [language] if language in LANGUAGES else ["en", "sv"]
        text = "\n\n".join(
            self.catalogue.render(
                "link_unknown", lang, "telegram", programme=self.programme_name, first_name=""
            ).text
            for lang in languages
        )
        try:
            await self.channel.reply(message.chat.id, text)
        except ChannelError as exc:
            log.info("telegram: could not answer an unknown link (%s)", exc.reason)
