"""Coordinators' sign-in: one-time links by e-mail, sessions, and which programmes they see.

Tokens are random and only their sha256 is stored, so the database alone signs nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Coordinator, CoordinatorLoginLink, CoordinatorSession

LINK_LIFETIME = timedelta(minutes=15)
IDLE_LIMIT = timedelta(hours=8)
# links asked for one address within LINK_LIFETIME; more are silently not sent
LINKS_PER_ADDRESS = 3


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in: their address, language, name and the programmes they coordinate."""

    email: str
    name: str
    language: str
    programme_ids: tuple[str, ...]
    csrf_token: str


async def coordinators_of(session: AsyncSession, email: str) -> list[Coordinator]:
    return list(
        await session.scalars(
            select(Coordinator)
            .where(func.lower(Coordinator.email) == email.strip().lower())
            .order_by(Coordinator.id)
        )
    )


async def new_login_link(session: AsyncSession, email: str, now: datetime) -> str | None:
    """A fresh sign-in token for a known coordinator's address, or None (unknown address, or
    too many links asked for it lately). The caller says the same either way."""
    known = await coordinators_of(session, email)
    if not known:
        return None
    address = known[0].email.lower()
    recent = await session.scalar(
        select(func.count())
        .select_from(CoordinatorLoginLink)
        .where(
            CoordinatorLoginLink.email == address,
            CoordinatorLoginLink.created_at > now - LINK_LIFETIME,
        )
    )
    if (recent or 0) >= LINKS_PER_ADDRESS:
        return None
    token = secrets.token_urlsafe(32)
    session.add(
        CoordinatorLoginLink(
            email=address,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    return token


async def use_login_link(session: AsyncSession, token: str, now: datetime) -> str | None:
    """Spend a sign-in token once; returns a new session token, or None if it is not valid."""
    used = await session.execute(
        update(CoordinatorLoginLink)
        .where(
            CoordinatorLoginLink.token_hash == _hash(token),
            CoordinatorLoginLink.used_at.is_(None),
            CoordinatorLoginLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(CoordinatorLoginLink.email)
    )
    email = used.scalar_one_or_none()
    if email is None:
        return None
    cookie = secrets.token_urlsafe(32)
    session.add(
        CoordinatorSession(
            email=email,
            token_hash=_hash(cookie),
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
    )
    return cookie


async def signed_in(session: AsyncSession, cookie: str, now: datetime) -> SignedIn | None:
    """The coordinator behind a session cookie, if the session is open and not idle too long;
    seeing them renews it."""
    row = await session.scalar(
        select(CoordinatorSession).where(
            CoordinatorSession.token_hash == _hash(cookie),
            CoordinatorSession.ended_at.is_(None),
        )
    )
    if row is None or row.last_seen_at <= now - IDLE_LIMIT:
        return None
    known = await coordinators_of(session, row.email)
    if not known:
        return None  # removed by `coordinator remove` since signing in
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now  # not on every request: one write a minute is enough
    return SignedIn(
        email=row.email,
        name=known[0].name,
        language=known[0].language,
        programme_ids=tuple(dict.fromkeys(c.programme_id for c in known)),
        csrf_token=row.csrf_token,
    )


async def sign_out(session: AsyncSession, cookie: str, now: datetime) -> None:
    await session.execute(
        update(CoordinatorSession)
        .where(CoordinatorSession.token_hash == _hash(cookie))
        .values(ended_at=now)
    )
