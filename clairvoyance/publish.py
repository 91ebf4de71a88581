"""Writing outputs: atomically, never over a different file, never touching an original."""
from __future__ import annotations

import filecmp
import io
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image


def _free_name(dst: Path, same) -> tuple[Path, bool]:
    """``dst`` if free or already holding the same content (then True); else the first free ``stem-N``."""
    cand, n = dst, 0
    while cand.exists():
        if same(cand):
            return cand, True
        n += 1
        cand = dst.with_name(f"{dst.stem}-{n}{dst.suffix}")
    return cand, False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: mkstemp creates files readable by their owner only; outputs get the usual permissions.
_FILE_MODE = 0o666 & ~_umask()


def _atomic_write(dst: Path, write) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_file(src: Path, dst: Path) -> Path:
    """Copy ``src`` byte for byte to ``dst`` (or a free variant of it); idempotent on reruns."""
    final, same = _free_name(dst, lambda p: filecmp.cmp(src, p, shallow=False))
    if not same:
        def write(f):
            with open(src, "rb") as s:
                shutil.copyfileobj(s, f)
        _atomic_write(final, write)
    return final


def write_bytes(data: bytes, dst: Path) -> Path:
    """Write ``data`` to ``dst`` (or a free variant of it) atomically; identical content is reused."""
    final, same = _free_name(dst, lambda p: p.read_bytes() == data)
    if not same:
        _atomic_write(final, lambda f: f.write(data))
    return final


def encode_image(rgb: np.ndarray, suffix: str, exif: bytes | None = None, icc: bytes | None = None) -> bytes:
    """Encode an RGB array in the format its ``suffix`` names, keeping ``exif`` and the ``icc`` colour
    profile where the format can hold them."""
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF",
           ".webp": "WEBP", ".bmp": "BMP", ".heic": "HEIF", ".heif": "HEIF"}.get(suffix.lower(), "PNG")
    im = Image.fromarray(rgb)
    opts: dict = {}
    if fmt == "JPEG":
        opts = {"quality": 95, "subsampling": 0}
    if fmt == "HEIF":
        from .images import register_heif

        register_heif()
        opts = {"quality": 95}
    if fmt in ("JPEG", "PNG", "TIFF", "WEBP", "HEIF"):  # also when the original had none: we mark our edits
        exif_obj = Image.Exif()
        if exif:
            exif_obj.load(exif)
        exif_obj[0x0112] = 1  # pixels are stored upright now
        exif_obj[0x0131] = "Clairvoyance"  # Software: marks the file as edited by us
        opts["exif"] = exif_obj.tobytes()
    if icc and fmt in ("JPEG", "PNG", "TIFF", "WEBP", "HEIF"):
        opts["icc_profile"] = icc
    buf = io.BytesIO()
    im.save(buf, format=fmt, **opts)
    return buf.getvalue()


def write_text(text: str, dst: Path) -> None:
    """Replace ``dst`` with ``text`` atomically (reports are rewritten on every run)."""
    _atomic_write(dst, lambda f: f.write(text.encode("utf-8")))
