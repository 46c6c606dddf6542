"""API keys for `POST /api/matches`: made here, shown once, kept only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ApiKey


def _hash(key: str) -> str:
    # sha256 of a 256-bit random key: a slow hash buys nothing for keys nobody can guess
    return hashlib.sha256(key.encode()).hexdigest()


def create(session: AsyncSession, programme_id: str, label: str, now: datetime) -> str:
    """A new key for the programme; the caller shows it once, only its hash is stored."""
    key = secrets.token_urlsafe(32)
    session.add(ApiKey(programme_id=programme_id, key_hash=_hash(key), label=label, created_at=now))
    return key


async def verify(session: AsyncSession, key: str) -> ApiKey | None:
    """The key's record if it is known and not revoked, else None."""
    key = key.strip()
    if not key:
        return None
    found: ApiKey | None = await session.scalar(
        select(ApiKey).where(ApiKey.key_hash == _hash(key), ApiKey.revoked_at.is_(None))
    )
    return found
