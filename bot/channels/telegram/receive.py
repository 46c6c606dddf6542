"""What a Telegram update says: a chat to link, a button tap, a typed answer, a photo.

Updates come from long polling or the webhook (`updates.py`) and are handled one at a time, in
order, so the photos of one album reach the dialogue one after another: the first asks for
consent, the others join the same greeting while the consent question is open. What an update
says is handed to the `Inbound` interface, which stores it and lets the conversation act.

Every update goes into the inbox once, keyed by `u-<update_id>` (`cb-<id>` for a button tap), so
a webhook Telegram sends again, or an update polled twice after a restart, changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from telegram import Message, Update

from bot.channels.base import ChannelError, Inbound, InboundMessage
from bot.channels.telegram.links import start_payload
from bot.channels.telegram.send import TelegramChannel
from store.photos import MAX_BYTES

log = logging.getLogger(__name__)
# what a phone sends as "file" rather than "photo"; anything else is not a greeting photo
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "image/gif"})


class TelegramInbound:
    def __init__(
        self, channel: TelegramChannel, inbound: Inbound, clock: Callable[[], datetime]
    ) -> None:
        self.channel = channel
        self.inbound = inbound
        self.clock = clock

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
        outcome = await self.inbound.receive(inbound, self.clock())
        if outcome == "unknown_sender" and (message.text or "").strip().lower() == "/start":
            # someone opened the bot without a link: tell them how to get one
            await self._link_unknown(message)
        return outcome

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
        outcome = await self.inbound.receive(inbound, self.clock())
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
        opened = InboundMessage(
            channel="telegram",
            provider_id=f"u-{update.update_id}",
            sender=str(message.chat.id),
            text="/start",  # the token itself is not kept
        )
        outcome = await self.inbound.link(opened, token, self.clock())
        if outcome == "link_unknown":
            await self._link_unknown(message)
        return outcome

    async def _link_unknown(self, message: Message) -> None:
        code = (message.from_user.language_code or "") if message.from_user else ""
        # in the language their Telegram app uses, when we speak it
        text = self.inbound.stranger_reply("telegram", code.split("-", 1)[0].lower())
        try:
            await self.channel.reply(message.chat.id, text)
        except ChannelError as exc:
            log.info("telegram: could not answer an unknown link (%s)", exc.reason)
