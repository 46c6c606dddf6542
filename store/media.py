"""Where kept photos live: the local photo folder, or an S3-compatible bucket when
`FIKAFOLLOW_MEDIA_URL` is set (several instances then see the same photos).

Both keep an object under the name the photo store gave it (random hex, not guessable) and nothing
else: no public ACL is ever asked for, so a bucket's objects stay private (S3's default), and a
photo is only ever served through the coordinators' signed-in pages.
"""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.util import await_

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

log = logging.getLogger(__name__)
DEFAULT_REGION = "us-east-1"
# what a bucket away or refusing looks like (aiobotocore turns aiohttp's connection errors into
# botocore's); a missing key is not among them, it is None
_UNAVAILABLE = (BotoCoreError, ClientError, OSError, TimeoutError)


class MediaUnavailable(Exception):
    """The bucket could not be reached or refused the request; the caller's request answers
    503 (nothing half-stored: the transaction that wanted the photo rolls back)."""


class MediaStorage(Protocol):
    """Photos by name; `name` is the photo store's own (hex and a suffix, never a path)."""

    async def put(self, name: str, data: bytes, content_type: str) -> None: ...

    async def get(self, name: str) -> bytes | None:
        """The object's bytes, None when there is no such object."""
        ...

    async def delete(self, name: str) -> None:
        """Delete the object; one already gone is not an error."""
        ...

    async def close(self) -> None: ...


# the session's objects stored in its open transactions, each under the (SAVEPOINT or outer)
# transaction that was innermost when it was stored
_STORED_IN = "fikafollow.media_stored_in"


def delete_on_rollback(session: AsyncSession, media: MediaStorage, name: str) -> None:
    """Delete the object `name` if the session's transaction it was stored in does not commit:
    a photo whose row never came (a constraint, a failed commit, a SAVEPOINT of a group commit
    rolled back) is not left in the folder or the bucket with nobody knowing it is there.

    Call it right after the object is stored, within the transaction that will keep its row."""
    sync = session.sync_session
    pending: list[tuple[SessionTransaction | None, str]] | None = sync.info.get(_STORED_IN)
    if pending is None:
        pending = sync.info[_STORED_IN] = []
        _watch(sync, media, pending)
    pending.append((sync.get_nested_transaction() or sync.get_transaction(), name))


def _watch(
    sync: Session, media: MediaStorage, pending: list[tuple[SessionTransaction | None, str]]
) -> None:
    def take(transaction: SessionTransaction | None) -> list[str]:
        names = [n for t, n in pending if t is transaction or t is None]
        pending[:] = [(t, n) for t, n in pending if not (t is transaction or t is None)]
        return names

    # SAVEPOINTs rolled back: SQLAlchemy ends a rolled-back SAVEPOINT (after_transaction_end)
    # before it says so (after_soft_rollback), so the end must know it was not a release
    undone: list[SessionTransaction] = []

    def rolling_back(session: Session) -> None:
        # fires inside the rollback, while the SAVEPOINT being rolled back is still current
        nested = session.get_nested_transaction()
        if nested is not None:
            undone.append(nested)

    def rolled_back(session: Session, transaction: SessionTransaction) -> None:
        _delete(media, take(transaction))

    def committed(session: Session) -> None:
        # after_commit fires for a released SAVEPOINT too: only the outer commit keeps them
        if session.get_nested_transaction() is None:
            take(session.get_transaction())

    def ended(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None:
            names = take(transaction)
            if any(t is transaction for t in undone):
                undone[:] = [t for t in undone if t is not transaction]
                _delete(media, names)
            else:
                # a released SAVEPOINT: its objects now stand or fall with the transaction
                # around it
                pending.extend((transaction.parent, n) for n in names)
        else:
            # the outer transaction ended without committing (closed, or rolled back)
            _delete(media, take(transaction))

    event.listen(sync, "after_rollback", rolling_back)
    event.listen(sync, "after_soft_rollback", rolled_back)
    event.listen(sync, "after_commit", committed)
    event.listen(sync, "after_transaction_end", ended)


def _delete(media: MediaStorage, names: list[str]) -> None:
    """Delete now: the session's events run in SQLAlchemy's greenlet, inside the awaited
    rollback or close, so the object is gone when that returns."""
    for name in names:
        try:
            await_(media.delete(name))
        except Exception as exc:  # the rollback's own error matters more; the name is random
            log.warning(
                "stored object %s of a rolled back transaction not deleted (%s)",
                name,
                type(exc).__name__,
            )


def safe_name(name: str) -> bool:
    """A name the store made: never a path out of the folder or the bucket's prefix."""
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..")


class FolderMedia:
    """The local photo folder, 0700, each photo 0600: these are people's faces."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.root / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as photo:
            photo.write(data)

    async def get(self, name: str) -> bytes | None:
        if not safe_name(name):
            return None
        path = self.root / name
        return path.read_bytes() if path.is_file() else None

    async def delete(self, name: str) -> None:
        if safe_name(name):
            (self.root / name).unlink(missing_ok=True)

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class S3Location:
    """`s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1`, parsed."""

    bucket: str
    prefix: str  # "" or ending in "/"
    endpoint: str | None
    region: str


def parse_media_url(url: str) -> S3Location:
    """The bucket, prefix, endpoint and region of a media URL; ValueError saying what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError("use s3://bucket/prefix?endpoint=https://s3.example.com&region=eu-north-1")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(query) - {"endpoint", "region"}
    if unknown:
        raise ValueError(f"unknown media URL parameter(s): {', '.join(sorted(unknown))}")
    endpoint = query.get("endpoint") or None
    if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
        raise ValueError("the media URL's endpoint must be an http(s) URL")
    prefix = parts.path.strip("/")
    return S3Location(
        bucket=parts.netloc,
        prefix=f"{prefix}/" if prefix else "",
        endpoint=endpoint.rstrip("/") if endpoint else None,
        region=query.get("region") or DEFAULT_REGION,
    )


class S3Media:
    """An S3-compatible bucket through aiobotocore (async; botocore's signing and retries).

    Credentials: `FIKAFOLLOW_MEDIA_ACCESS_KEY`/`FIKAFOLLOW_MEDIA_SECRET_KEY` when given, else
    botocore's own chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance role).
    The client is made on first use, in the event loop that uses it (its HTTP pool is bound to it).
    """

    def __init__(
        self,
        location: S3Location,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        self.location = location
        self._access_key = access_key
        self._secret_key = secret_key
        self._stack: AsyncExitStack | None = None
        self._client: S3Client | None = None
        self._opening = asyncio.Lock()

    async def _s3(self) -> S3Client:
        if self._client is not None:
            return self._client
        async with self._opening:  # two first requests at once make one client, not two
            if self._client is not None:
                return self._client
            # imported here: botocore takes a while to load, and most commands never need it
            from aiobotocore.config import AioConfig
            from aiobotocore.session import get_session

            stack = AsyncExitStack()
            # short: a webhook waiting on the bucket must answer before the provider gives up
            config = AioConfig(
                connect_timeout=3,
                read_timeout=10,
                retries={"max_attempts": 2, "mode": "standard"},
                # path style: MinIO, moto and most self-hosted servers have no bucket DNS names
                s3={"addressing_style": "path"},
            )
            client: S3Client = await stack.enter_async_context(
                get_session().create_client(
                    "s3",
                    endpoint_url=self.location.endpoint,
                    region_name=self.location.region,
                    aws_access_key_id=self._access_key,
                    aws_secret_access_key=self._secret_key,
                    config=config,
                )
            )
            self._stack, self._client = stack, client
            return client

    def _key(self, name: str) -> str:
        return self.location.prefix + name

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        s3 = await self._s3()
        try:
            # no ACL: the bucket's objects stay private
            await s3.put_object(
                Bucket=self.location.bucket,
                Key=self._key(name),
                Body=data,
                ContentType=content_type,
            )
        except _UNAVAILABLE as exc:
            raise MediaUnavailable(type(exc).__name__) from exc

    async def get(self, name: str) -> bytes | None:
        if not safe_name(name):
            return None
        s3 = await self._s3()
        try:
            found = await s3.get_object(Bucket=self.location.bucket, Key=self._key(name))
            async with found["Body"] as body:
                data: bytes = await body.read()
        except s3.exceptions.NoSuchKey:
            return None
        except _UNAVAILABLE as exc:
            raise MediaUnavailable(type(exc).__name__) from exc
        return data

    async def delete(self, name: str) -> None:
        if safe_name(name):
            s3 = await self._s3()
            try:
                # S3 answers 204 for a key that is not there: deleting twice is not an error
                await s3.delete_object(Bucket=self.location.bucket, Key=self._key(name))
            except _UNAVAILABLE as exc:
                raise MediaUnavailable(type(exc).__name__) from exc

    async def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()


def media_storage(
    media_url: str | None,
    folder: Path,
    access_key: str | None = None,
    secret_key: str | None = None,
) -> MediaStorage:
    """The bucket when a media URL is set, else the local photo folder."""
    if media_url:
        return S3Media(parse_media_url(media_url), access_key, secret_key)
    return FolderMedia(folder)
