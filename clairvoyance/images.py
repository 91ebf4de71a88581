"""Reading photos safely: every way a file can be bad becomes one clear ImageLoadError.

Photos are decoded upright (EXIF orientation applied), as 8-bit RGB whatever their mode
(grayscale, palette, alpha, CMYK, 16-bit), with a pixel-count guard against decompression bombs.
JPEGs can be decoded at a reduced scale (DCT scaling) for detection, which is several times faster.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .errors import ImageLoadError

#: File extensions scanned as photos.
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp"}
#: Photo formats recognised but not decoded by this version: reported as errors, never skipped silently.
UNSUPPORTED_PHOTO_EXTENSIONS = {
    ".heic", ".heif", ".avif", ".cr2", ".cr3", ".nef", ".arw", ".dng", ".raf", ".orf", ".rw2", ".psd",
}
#: Largest photo accepted, in pixels (a 200-megapixel guard against decompression bombs).
MAX_PIXELS = 200_000_000

# Pillow's own guard at our limit (it refuses twice that in Image.open); read_photo's check gives the clearer message.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass
class Photo:
    """A decoded photo: upright 8-bit RGB pixels and the upright size of the original.

    ``scale`` is pixels-of-this-array per pixel-of-the-original (1.0 for a full decode).
    """

    path: Path
    rgb: np.ndarray
    size: tuple[int, int]
    scale: float = 1.0
    exif: bytes | None = None


def is_photo_path(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS | UNSUPPORTED_PHOTO_EXTENSIONS


def _to_rgb8(im: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to an HxWx3 uint8 array, compositing alpha onto white."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        a = np.asarray(im, dtype=np.float64)
        peak = 65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0
        g = np.clip(a / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if mode == "F":
        a = np.asarray(im, dtype=np.float64)
        a = a / 255.0 if a.max() > 1.0 else a
        g = np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


def read_photo(path: str | os.PathLike, max_side: int | None = None, max_pixels: int | None = None) -> Photo:
    """Decode ``path`` upright as 8-bit RGB.

    ``max_side`` asks for a reduced decode whose longer side is at least that many pixels when the
    format can do it cheaply (JPEG DCT scaling); the array may then be smaller than the original,
    and ``Photo.scale`` says by how much. ``None`` decodes at full resolution. ``max_pixels``
    (default: ``MAX_PIXELS``, read at call time) is the largest image accepted.
    """
    path = Path(path)
    if max_pixels is None:
        max_pixels = MAX_PIXELS
    suffix = path.suffix.lower()
    if suffix in UNSUPPORTED_PHOTO_EXTENSIONS:
        raise ImageLoadError(f"unsupported format {suffix} (RAW and HEIC are not decoded by this version)")
    try:
        if path.stat().st_size == 0:
            raise ImageLoadError("empty file (0 bytes)")
    except OSError as e:
        raise ImageLoadError(f"cannot read file: {e.strerror or e}") from e
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as src:  # closed whatever happens below, errors included
                im = src
                w, h = im.size
                if w * h > max_pixels:
                    raise ImageLoadError(
                        f"image too large: {w}x{h} = {w * h / 1e6:.0f} megapixels (limit {max_pixels / 1e6:.0f})"
                    )
                exif = im.info.get("exif")
                orientation = im.getexif().get(0x0112, 1)
                upright = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
                if max_side and im.format == "JPEG" and max(w, h) > max_side:
                    r = max_side / max(w, h)
                    im.draft("RGB", (max(1, int(w * r)), max(1, int(h * r))))
                im.load()
                scale = im.size[0] / w
                im = ImageOps.exif_transpose(im)
                rgb = _to_rgb8(im)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as e:
        raise ImageLoadError(f"image too large: {e}") from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        msg = str(e)
        if "cannot identify image file" in msg:
            msg = "not an image or corrupt header (cannot identify image file)"
        elif "truncated" in msg:
            msg = "truncated file (image data ends early)"
        raise ImageLoadError(msg) from e
    return Photo(path=path, rgb=rgb, size=upright, scale=scale, exif=exif)
