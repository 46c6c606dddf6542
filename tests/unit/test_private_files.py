"""What is kept on disk: photos with nothing but pixels, files and folders for their owner alone."""

from __future__ import annotations

import io
import stat
from pathlib import Path

from PIL import Image, ImageCms

from bot.links import load_or_create_secret
from store.photos import PhotoStore

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description>'
    b"<dc:description>Amina at Storgatan 5</dc:description></rdf:Description></rdf:RDF>"
    b"</x:xmpmeta>"
)


def _tagged_jpeg() -> bytes:
    """A phone photo carrying a comment, an ICC profile with its description text, XMP and EXIF."""
    image = Image.new("RGB", (40, 30), (10, 200, 30))
    exif = Image.Exif()
    exif[0x010E] = "Storgatan 5"  # ImageDescription
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    image.save(
        buffer,
        "JPEG",
        comment=b"Amina at Storgatan 5",
        icc_profile=profile,
        exif=exif.tobytes(),
        xmp=XMP,
    )
    return buffer.getvalue()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_kept_photo_has_no_comment_xmp_icc_or_exif(tmp_path: Path) -> None:
    original = _tagged_jpeg()
    with Image.open(io.BytesIO(original)) as tagged:
        assert tagged.info.get("comment") and tagged.info.get("icc_profile")
        assert tagged.info.get("xmp")
    store = PhotoStore(tmp_path / "photos")
    kept = (tmp_path / "photos" / (await store.save(original)).path).read_bytes()
    assert b"Storgatan" not in kept and b"xmpmeta" not in kept and b"ICC_PROFILE" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert not image.info.get("comment") and not image.info.get("icc_profile")
        assert not image.info.get("xmp") and not image.info.get("exif")
        assert len(image.getexif()) == 0


async def test_photo_folder_and_files_are_the_owners_alone(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path / "photos")
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    saved = await store.save(buffer.getvalue())
    assert _mode(tmp_path / "photos") == 0o700
    assert _mode(tmp_path / "photos" / saved.path) == 0o600
    await store.delete(saved.path)
    assert not (tmp_path / "photos" / saved.path).exists()
    await store.delete("../secret")  # a name that leaves the folder is never followed


def test_secret_is_created_for_its_owner_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "fikafollow.db.secret"
    first = load_or_create_secret(path)
    assert _mode(path) == 0o600
    assert load_or_create_secret(path) == first
