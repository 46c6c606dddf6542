"""Deep links that bind a participant's Telegram chat: `https://t.me/<bot>?start=<token>`.

A bot cannot write first, so a participant who chose Telegram is sent such a link on another
channel; opening it sends "/start <token>" to the bot. The tokens themselves are issued and
redeemed in `store/telegram_links.py`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.channels.base import ChannelError
from store import telegram_links

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.channels.telegram.send import TelegramChannel
    from store.models import Participant

log = logging.getLogger(__name__)


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def start_payload(text: str) -> str | None:
    """The deep-link token of "/start <token>" (or "/start@Bot <token>"), else None."""
    command, _, payload = text.strip().partition(" ")
    if command.split("@", 1)[0].lower() != "/start":
        return None
    return payload.strip() or None


class TelegramLinker:
    """Makes a participant's deep link inside the transaction of the message that carries it."""

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
        return deep_link(username, token)
