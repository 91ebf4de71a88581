"""Reading photos safely: every way a file can be bad becomes one clear ImageLoadError.

Photos are decoded upright (EXIF orientation applied), as 8-bit RGB whatever their mode
(grayscale, palette, alpha, CMYK, 16-bit), with a pixel-count guard against decompression bombs.
JPEGs can be decoded at a reduced scale (DCT scaling) for detection, which is several times faster.

Formats: JPEG, PNG, TIFF (8 and 16 bit; OpenCV decodes what Pillow cannot, e.g. float TIFFs), WebP,
BMP through Pillow; HEIC/HEIF through ``pillow-heif``; camera RAW through ``rawpy`` (LibRaw). A RAW
file is scored on its embedded JPEG preview when that is large enough (fast, and what the camera
showed) and decoded by a full demosaic when full resolution is needed (correction).
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .errors import ImageLoadError
from .exif import descriptive_exif, raw_exif

#: Camera RAW formats, decoded by rawpy (LibRaw).
RAW_EXTENSIONS = {".cr2", ".cr3", ".nef", ".nrw", ".arw", ".dng", ".raf", ".orf", ".rw2", ".pef", ".srw"}
#: HEIC/HEIF (phones), decoded by pillow-heif.
HEIF_EXTENSIONS = {".heic", ".heif"}
#: File extensions scanned as photos.
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp"} | RAW_EXTENSIONS | HEIF_EXTENSIONS
#: Photo formats recognised but not decoded by this version: reported as errors, never skipped silently.
UNSUPPORTED_PHOTO_EXTENSIONS = {".avif", ".psd"}
#: Largest photo accepted, in pixels (a 200-megapixel guard against decompression bombs).
MAX_PIXELS = 200_000_000

# Pillow's own guard at our limit (it refuses twice that in Image.open); read_photo's check gives the clearer message.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass
class Photo:
    """A decoded photo: upright 8-bit RGB pixels and the upright size of the original.

    ``scale`` is pixels-of-this-array per pixel-of-the-original (1.0 for a full decode).
    ``preview`` is True when the pixels are a RAW file's embedded JPEG preview, not its own data
    (good for scoring; a correction decodes the RAW itself). ``icc`` is the colour profile, kept in outputs.
    ``rgb16`` is a RAW file's full 16-bit demosaic when asked for (``read_photo(keep_16bit=True)``);
    ``rgb`` is then its top 8 bits, exactly LibRaw's own 8-bit rendering.
    """

    path: Path
    rgb: np.ndarray
    size: tuple[int, int]
    scale: float = 1.0
    exif: bytes | None = None
    icc: bytes | None = None
    preview: bool = False
    rgb16: np.ndarray | None = None


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


def read_photo(path: str | os.PathLike, max_side: int | None = None, max_pixels: int | None = None,
               keep_16bit: bool = False) -> Photo:
    """Decode ``path`` upright as 8-bit RGB.

    ``max_side`` asks for a reduced decode whose longer side is at least that many pixels when the
    format can do it cheaply (JPEG DCT scaling); the array may then be smaller than the original,
    and ``Photo.scale`` says by how much. ``None`` decodes at full resolution. ``max_pixels``
    (default: ``MAX_PIXELS``, read at call time) is the largest image accepted. ``keep_16bit`` also
    keeps a RAW file's full-resolution 16-bit demosaic in ``Photo.rgb16`` (for a 16-bit output; it
    costs 6 more bytes per pixel).
    """
    path = Path(path)
    if max_pixels is None:
        max_pixels = MAX_PIXELS
    suffix = path.suffix.lower()
    if suffix in UNSUPPORTED_PHOTO_EXTENSIONS:
        raise ImageLoadError(f"unsupported format {suffix} (not decoded by this version)")
    try:
        if path.stat().st_size == 0:
            raise ImageLoadError("empty file (0 bytes)")
    except OSError as e:
        raise ImageLoadError(f"cannot read file: {e.strerror or e}") from e
    if suffix in RAW_EXTENSIONS:
        return _read_raw(path, max_side, max_pixels, keep_16bit)
    if suffix in HEIF_EXTENSIONS:
        register_heif()
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
                if exif is None and im.format == "TIFF":  # a TIFF's EXIF is its own tags
                    exif = descriptive_exif(im.getexif())
                icc = im.info.get("icc_profile")
                orientation = im.getexif().get(0x0112, 1)
                upright = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
                if max_side and im.format == "JPEG" and max(w, h) > max_side:
                    r = max_side / max(w, h)
                    im.draft("RGB", (max(1, int(w * r)), max(1, int(h * r))))
                im.load()
                scale = im.size[0] / w
                if orientation != 1:  # exif_transpose copies the whole image even when nothing turns
                    im = ImageOps.exif_transpose(im)
                rgb = _to_rgb8(im)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as e:
        raise ImageLoadError(f"image too large: {e}") from e
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as e:
        if suffix in (".tif", ".tiff"):  # e.g. float or unusual 16-bit layouts Pillow does not decode
            fallback = _read_tiff_cv2(path, max_pixels)
            if fallback is not None:
                return fallback
        msg = str(e)
        if suffix in HEIF_EXTENSIONS:
            msg = f"corrupt or unsupported HEIF file ({msg})"
        elif "cannot identify image file" in msg:
            msg = "not an image or corrupt header (cannot identify image file)"
        elif "truncated" in msg:
            msg = "truncated file (image data ends early)"
        raise ImageLoadError(msg) from e
    return Photo(path=path, rgb=rgb, size=upright, scale=scale, exif=exif, icc=icc)


def register_heif() -> None:
    """Teach Pillow HEIC/HEIF (pillow-heif), once, on first use: nothing heavy at import time."""
    global _HEIF_REGISTERED
    if not _HEIF_REGISTERED:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _HEIF_REGISTERED = True


_HEIF_REGISTERED = False


def _read_tiff_cv2(path: Path, max_pixels: int) -> Photo | None:
    """A TIFF that Pillow cannot decode, through OpenCV, scaled to 8 bits (None if OpenCV cannot either)."""
    import cv2

    a = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if a is None or a.size == 0:
        return None
    if a.shape[0] * a.shape[1] > max_pixels:
        raise ImageLoadError(f"image too large: {a.shape[1]}x{a.shape[0]} (limit {max_pixels / 1e6:.0f} megapixels)")
    if a.ndim == 2:
        a = a[..., None]
    a = a[..., :3][..., ::-1] if a.shape[2] >= 3 else np.repeat(a[..., :1], 3, axis=2)  # BGR(A) -> RGB
    if a.dtype == np.uint8:
        rgb = a
    elif np.issubdtype(a.dtype, np.integer):
        rgb = (a.astype(np.float64) / np.iinfo(a.dtype).max * 255.0 + 0.5).astype(np.uint8)
    else:  # float: [0, 1] by convention
        rgb = (np.clip(np.nan_to_num(a.astype(np.float64)), 0, 1) * 255.0 + 0.5).astype(np.uint8)
    rgb = np.ascontiguousarray(rgb)
    return Photo(path=path, rgb=rgb, size=(rgb.shape[1], rgb.shape[0]))


# LibRaw's flip code -> the EXIF orientation it stands for
_RAW_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}


def _read_raw(path: Path, max_side: int | None, max_pixels: int, keep_16bit: bool = False) -> Photo:
    """A camera RAW file: its embedded preview when ``max_side`` allows one that large, else a demosaic
    (half size when that is still at least ``max_side``); with ``keep_16bit`` a full one at 16 bits too."""
    import rawpy

    try:
        with rawpy.imread(str(path)) as raw:
            s = raw.sizes
            orientation = _RAW_FLIP_TO_ORIENTATION.get(s.flip, 1)
            w, h = s.width, s.height
            if w * h > max_pixels:
                raise ImageLoadError(f"image too large: {w}x{h} = {w * h / 1e6:.0f} megapixels (limit {max_pixels / 1e6:.0f})")
            upright = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
            exif = raw_exif(path, orientation)
            if max_side:
                preview = _raw_preview(raw, orientation)
                if preview is not None and max(preview.shape[:2]) >= min(max_side, max(w, h)):
                    return Photo(path=path, rgb=preview, size=upright, scale=preview.shape[1] / upright[0],
                                 exif=exif, preview=True)
            half = bool(max_side) and max(w, h) // 2 >= max_side
            rgb16 = None
            if keep_16bit and not half:
                rgb16 = np.ascontiguousarray(raw.postprocess(use_camera_wb=True, output_bps=16))
                rgb = (rgb16 >> 8).astype(np.uint8)  # LibRaw's 8-bit output is exactly its 16-bit one >> 8
            else:
                rgb = raw.postprocess(use_camera_wb=True, output_bps=8, half_size=half)
    except ImageLoadError:
        raise
    except (rawpy.LibRawError, OSError, ValueError, MemoryError) as e:
        raise ImageLoadError(f"corrupt or unsupported RAW file ({type(e).__name__}: {e})") from e
    rgb = np.ascontiguousarray(rgb)
    return Photo(path=path, rgb=rgb, size=upright, scale=rgb.shape[1] / upright[0], exif=exif, rgb16=rgb16)


def _raw_preview(raw, orientation: int) -> np.ndarray | None:
    """The embedded preview of an open rawpy file, upright 8-bit RGB, or None when it has none."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawError, ValueError):
        return None
    if thumb.format == rawpy.ThumbFormat.JPEG:
        import io

        try:
            with Image.open(io.BytesIO(thumb.data)) as im:
                rgb = _to_rgb8(im)
        except (OSError, SyntaxError, ValueError):
            return None
    elif thumb.format == rawpy.ThumbFormat.BITMAP:
        rgb = np.asarray(thumb.data, dtype=np.uint8)
    else:
        return None
    # the preview is stored as the sensor sees it; the RAW's own orientation turns it upright
    return np.ascontiguousarray({3: np.rot90(rgb, 2), 6: np.rot90(rgb, -1), 8: np.rot90(rgb, 1)}.get(orientation, rgb))
