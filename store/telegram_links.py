"""One-time deep links that bind a participant's Telegram chat: a bot cannot write first.

A link carries a random token (`https://t.me/<bot>?start=<token>`, made in
`bot/channels/telegram/links.py`); only its sha256 is stored, it works once and expires.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Participant, TelegramLink

# what Telegram accepts as a /start payload
TOKEN_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: AsyncSession, participant_id: int, now: datetime, lifetime: timedelta) -> str:
    """A new token for the participant (192 random bits, 32 characters)."""
    token = secrets.token_urlsafe(24)
    session.add(
        TelegramLink(
            participant_id=participant_id,
            token_hash=_digest(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


async def redeem(session: AsyncSession, token: str, now: datetime) -> Participant | None:
    """The participant a valid token belongs to, spending it; None for an unknown, used or
    expired one (which changes nothing)."""
    if not TOKEN_FORMAT.match(token):
        return None
    spent = await session.scalar(
        update(TelegramLink)
        .where(
            TelegramLink.token_hash == _digest(token),
            TelegramLink.used_at.is_(None),
            TelegramLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(TelegramLink.participant_id)
    )
    if spent is None:
        return None
    return await session.get(Participant, spent)


def bind_chat(participant: Participant, chat: str, now: datetime) -> None:
    """Bind the chat to the participant, and Telegram works for them again. A chat may be
    linked again (a new phone, a shared phone): the newest link wins."""
    participant.telegram_chat_id = chat
    _reopen(participant)
    participant.updated_at = now


async def reopen_chat(session: AsyncSession, chat: str) -> None:
    """Telegram works again for everyone behind the chat (it had blocked the bot)."""
    for person in await session.scalars(
        select(Participant).where(Participant.telegram_chat_id == chat)
    ):
        _reopen(person)


def _reopen(participant: Participant) -> None:
    participant.revive("telegram")


async def unlinked(session: AsyncSession, programme_id: str) -> Sequence[Participant]:
    """Participants who prefer Telegram and have no chat bound yet."""
    return (
        await session.scalars(
            select(Participant)
            .where(
                Participant.programme_id == programme_id,
                Participant.channel == "telegram",
                Participant.telegram_chat_id.is_(None),
                Participant.opted_out_at.is_(None),
            )
            .order_by(Participant.external_id)
        )
    ).all()
