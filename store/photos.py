"""Photos of fikahälsningar: checked, re-encoded and stripped of EXIF/GPS before they are kept.

A refugee's location is not ours to keep, so nothing of the original file survives but its pixels.
"""

from __future__ import annotations

import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

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
    def __init__(self, root: Path, max_bytes: int = MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def save(self, data: bytes) -> StoredPhoto:
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
        name = f"{secrets.token_hex(16)}.jpg"
        # the folder and the files for the service's user alone: these are people's faces
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.root / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as photo:
            photo.write(out.getvalue())
        return StoredPhoto(name, "image/jpeg", upright.width, upright.height)

    def thumbnail(self, name: str, side: int = THUMBNAIL_SIDE) -> bytes | None:
        """A small JPEG of a kept photo (for a coordinator to decide on it in a mail), or None
        when the file is gone (erased) or unreadable."""
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            return None
        try:
            with Image.open(self.root / name) as photo:
                photo.draft("RGB", (side, side))
                small = photo.convert("RGB")
        except (OSError, ValueError, Image.DecompressionBombError):
            return None
        small.thumbnail((side, side))
        small.info.clear()  # pixels only, as in the kept photo
        out = io.BytesIO()
        small.save(out, format="JPEG", quality=70, optimize=True, exif=b"")
        return out.getvalue()

    def delete(self, name: str) -> None:
        """Delete a kept photo (erasure, retention); one already gone is not an error."""
        # a name from the database, never a path out of the folder
        if name and "/" not in name and "\\" not in name and name not in (".", ".."):
            (self.root / name).unlink(missing_ok=True)
