"""Encoding pictures for the browser: thumbnails, display-size renditions and inline crops."""
from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image

from ..images import read_photo

#: Longest side of the rendition of a photo shown in the browser (boxes are in original pixels;
#: the page scales them).
DISPLAY_SIDE = 2048


def jpeg(rgb: np.ndarray, quality: int = 90, max_side: int | None = None) -> bytes:
    im = Image.fromarray(rgb)
    if max_side and max(im.size) > max_side:
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def data_url(data: bytes, mime: str = "image/jpeg") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def rendition(path: Path, side: int, quality: int = 88) -> bytes:
    """The upright photo at ``path`` as a JPEG whose longer side is at most ``side``."""
    photo = read_photo(path, max_side=side)
    return jpeg(photo.rgb, quality, max_side=side)
