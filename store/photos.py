"""Photos of fikahälsningar: checked, re-encoded and stripped of EXIF/GPS before they are kept.

A refugee's location is not ours to keep, so nothing of the original file survives but its pixels.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener
from sqlalchemy.ext.asyncio import AsyncSession

from store.media import FolderMedia, MediaStorage, delete_on_rollback

# iPhones send HEIC: Pillow opens it once pillow-heif has registered its opener
register_heif_opener()

MAX_BYTES = 15 * 1024 * 1024
# A 12-megapixel phone photo is 12e6. A JPEG is decoded at a fraction of its size (draft mode,
# down to what is kept), so even a 48-megapixel camera's costs little; every other format is
# decoded whole (a 5 kB PNG of 49 megapixels is 150 MB of pixels), so its limit is lower. Both
# are read from the header, before a pixel is decoded.
MAX_PIXELS = 50_000_000
MAX_DECODED_PIXELS = 25_000_000
DRAFT_FORMATS = {"JPEG", "MPO"}
LONGEST_SIDE = 2048
# a thumbnail in the coordinators' digest: enough to recognise faces, a few kB
THUMBNAIL_SIDE = 240
# Pillow's own guard, for any path that opens an image without this module's checks
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ACCEPTED = {"JPEG", "PNG", "WEBP", "GIF", "HEIF", "MPO"}


class PhotoRejected(Exception):
    """Not a photo we keep; `reason` is one of too_big, not_an_image, too_many_pixels."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StoredPhoto:
    path: str  # relative to the photo folder
    content_type: str
    width: int
    height: int


class PhotoStore:
    """Checks and re-encodes a photo, then keeps it in its media storage (the local folder by
    default, an S3 bucket when configured): every photo is stored, read and erased here."""

    def __init__(
        self, root: Path, max_bytes: int = MAX_BYTES, media: MediaStorage | None = None
    ) -> None:
        # the local folder (also where `media` is when it is the folder)
        self.root = root
        self.max_bytes = max_bytes
        self.media: MediaStorage = media if media is not None else FolderMedia(root)

    async def save(self, data: bytes, session: AsyncSession | None = None) -> StoredPhoto:
        """Check, re-encode and keep `data`; PhotoRejected (and nothing kept) when it is not a
        photo we keep. Within `session`'s transaction (the one that writes the photo's row),
        the photo is deleted again if that transaction rolls back."""
        encoded, width, height = self.encode(data)
        name = f"{secrets.token_hex(16)}.jpg"
        await self.media.put(name, encoded, "image/jpeg")
        if session is not None:
            delete_on_rollback(session, self.media, name)
        return StoredPhoto(name, "image/jpeg", width, height)

    def encode(self, data: bytes) -> tuple[bytes, int, int]:
        """The JPEG kept for `data` and its size; PhotoRejected for anything else (never
        another exception: `data` comes from strangers)."""
        if len(data) > self.max_bytes:
            raise PhotoRejected("too_big")
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED:
                    raise PhotoRejected("not_an_image")
                width, height = probe.size
                drafted = probe.format in DRAFT_FORMATS
                if width * height > (MAX_PIXELS if drafted else MAX_DECODED_PIXELS):
                    raise PhotoRejected("too_many_pixels")
                if drafted:
                    probe.draft(None, (LONGEST_SIDE, LONGEST_SIDE))
                probe.load()
                # turn the picture the way the phone meant, then forget every tag
                upright = ImageOps.exif_transpose(probe).convert("RGB")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            # past twice MAX_PIXELS Pillow refuses at open (a warning under -W error)
            raise PhotoRejected("too_many_pixels") from exc
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise PhotoRejected("not_an_image") from exc
        upright.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
        out = io.BytesIO()
        # nothing but pixels: no EXIF, no ICC profile, no comment, no XMP (Pillow carries some
        # of these over from the source's info unless told otherwise)
        upright.info.clear()
        upright.save(
            out, format="JPEG", quality=85, optimize=True, exif=b"", icc_profile=None, comment=b""
        )
        return out.getvalue(), upright.width, upright.height

    async def thumbnail(self, name: str, side: int = THUMBNAIL_SIDE) -> bytes | None:
        """A small JPEG of a kept photo (for a coordinator to decide on it in a mail), or None
        when it is gone (erased) or unreadable."""
        data = await self.read(name)
        if data is None:
            return None
        try:
            with Image.open(io.BytesIO(data)) as photo:
                photo.draft("RGB", (side, side))
                small = photo.convert("RGB")
        except (OSError, ValueError, Image.DecompressionBombError):
            return None
        small.thumbnail((side, side))
        small.info.clear()  # pixels only, as in the kept photo
        out = io.BytesIO()
        small.save(out, format="JPEG", quality=70, optimize=True, exif=b"")
        return out.getvalue()

    async def read(self, name: str) -> bytes | None:
        """A kept photo's bytes; None when it is gone (erased, or never there)."""
        return await self.media.get(name)

    async def delete(self, name: str) -> None:
        """Delete a kept photo (erasure, retention); one already gone is not an error."""
        # a name from the database, never a path out of the folder or the bucket's prefix
        await self.media.delete(name)

    async def close(self) -> None:
        await self.media.close()
