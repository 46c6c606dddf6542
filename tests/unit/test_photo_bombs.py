"""Images built to cost memory are refused from their header, before any pixel is decoded."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image

from store.photos import LONGEST_SIDE, PhotoRejected, PhotoStore


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def test_a_small_png_of_49_megapixels_is_refused_quickly(tmp_path: Path) -> None:
    bomb = png(7000, 7000)
    assert len(bomb) < 20_000
    started = time.monotonic()
    with pytest.raises(PhotoRejected) as refused:
        PhotoStore(tmp_path).encode(bomb)
    assert refused.value.reason == "too_many_pixels"
    assert time.monotonic() - started < 0.2
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_past_twice_the_limit_pillow_refuses_it_at_open(tmp_path: Path) -> None:
    with pytest.raises(PhotoRejected) as refused:
        PhotoStore(tmp_path).encode(png(12_000, 9_000))
    assert refused.value.reason == "too_many_pixels"


def test_a_large_jpeg_is_decoded_small_and_kept(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (6000, 4000), "orange").save(out, format="JPEG", quality=50)
    _kept, width, height = PhotoStore(tmp_path).encode(out.getvalue())
    assert max(width, height) == LONGEST_SIDE
