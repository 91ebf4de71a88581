"""Writing outputs: atomically, never over a different file, never touching an original."""
from __future__ import annotations

import filecmp
import io
import os
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Callable

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


def copy_file(src: Path, dst: Path, on_write: Callable[[Path], None] | None = None) -> Path:
    """Copy ``src`` byte for byte to ``dst`` (or a free variant of it); idempotent on reruns.
    ``on_write`` is told the path when a file was written (not when an identical one was reused)."""
    final, same = _free_name(dst, lambda p: filecmp.cmp(src, p, shallow=False))
    if not same:
        def write(f):
            with open(src, "rb") as s:
                shutil.copyfileobj(s, f)
        _atomic_write(final, write)
        if on_write:
            on_write(final)
    return final


def write_bytes(data: bytes, dst: Path, on_write: Callable[[Path], None] | None = None) -> Path:
    """Write ``data`` to ``dst`` (or a free variant of it) atomically; identical content is reused.
    ``on_write`` is told the path when a file was written."""
    final, same = _free_name(dst, lambda p: p.read_bytes() == data)
    if not same:
        _atomic_write(final, lambda f: f.write(data))
        if on_write:
            on_write(final)
    return final


def remove_output(path: Path, size: int, mtime_ns: int, root: Path) -> bool:
    """Delete ``path``, an output written earlier, only while it is still exactly as written (``size``
    and ``mtime_ns``), is a plain file (not a link) and lies inside ``root``; then remove the folders
    it leaves empty, up to ``root``. True when it was deleted."""
    try:
        root = root.resolve()
        if path.is_symlink() or not path.resolve().is_relative_to(root):
            return False
        st = path.stat()
    except OSError:
        return False
    if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
        return False
    path.unlink()
    parent = path.parent.resolve()
    while parent != root and parent.is_relative_to(root):
        try:
            parent.rmdir()  # only if empty
        except OSError:
            break
        parent = parent.parent
    return True


def encode_image(rgb: np.ndarray, suffix: str, exif: bytes | None = None, icc: bytes | None = None) -> bytes:
    """Encode an RGB array in the format its ``suffix`` names, keeping ``exif`` and the ``icc`` colour
    profile where the format can hold them. A 16-bit (uint16) array is written as a 48-bit TIFF."""
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF",
           ".webp": "WEBP", ".bmp": "BMP", ".heic": "HEIF", ".heif": "HEIF"}.get(suffix.lower(), "PNG")
    if rgb.dtype == np.uint16:
        if fmt != "TIFF":
            raise ValueError(f"16-bit pixels are written as TIFF only, not {suffix}")
        return _tiff16(rgb, _marked_exif(exif), icc)
    im = Image.fromarray(rgb)
    opts: dict = {}
    if fmt == "JPEG":
        opts = {"quality": 95, "subsampling": 0}
    if fmt == "HEIF":
        from .images import register_heif

        register_heif()
        opts = {"quality": 95}
    if fmt in ("JPEG", "PNG", "TIFF", "WEBP", "HEIF"):  # also when the original had none: we mark our edits
        opts["exif"] = _marked_exif(exif).tobytes()
    if icc and fmt in ("JPEG", "PNG", "TIFF", "WEBP", "HEIF"):
        opts["icc_profile"] = icc
    buf = io.BytesIO()
    im.save(buf, format=fmt, **opts)
    return buf.getvalue()


def _marked_exif(exif: bytes | None) -> Image.Exif:
    """The original's EXIF for an output: stored upright, and marked as edited by Clairvoyance."""
    exif_obj = Image.Exif()
    if exif:
        exif_obj.load(exif)
    exif_obj[0x0112] = 1  # pixels are stored upright now
    exif_obj[0x0131] = "Clairvoyance"  # Software: marks the file as edited by us
    return exif_obj


#: Rows of a 48-bit TIFF per strip: about 256 KB of pixels, so readers can decode it piece by piece.
_STRIP_BYTES = 1 << 18
#: zlib level of its strips: 1, twice as fast as 6 on a 24-megapixel photo (4 s against 8 s here) and
#: within 1% of its size, since the low bits of a sensor's 16-bit data are noise that no level compresses.
_DEFLATE_LEVEL = 1


def _tiff16(rgb: np.ndarray, exif: Image.Exif, icc: bytes | None) -> bytes:
    """A 48-bit RGB TIFF of ``rgb`` (uint16), deflate-compressed with the horizontal predictor, whose
    IFD 0 also holds ``exif``'s tags and sub-IFDs and the ``icc`` profile. Pillow cannot hold 16-bit RGB
    pixels, so the file is laid out here; Pillow's IFD writer writes the tags (as for any EXIF)."""
    h, w = rgb.shape[:2]
    rows = max(1, _STRIP_BYTES // (w * 6))
    dtype = "<u2" if exif.endian == "<" else ">u2"  # the pixels follow the byte order of the tags (MM by default)
    strips = []
    for y in range(0, h, rows):
        band = rgb[y : y + rows]
        diff = band.copy()
        diff[:, 1:] -= band[:, :-1]  # predictor 2: each sample minus its left neighbour, modulo 2^16
        strips.append(zlib.compress(diff.astype(dtype).tobytes(), _DEFLATE_LEVEL))
    ifd = exif  # a fresh object from _marked_exif: the image's own tags join the original's
    ifd.update({256: w, 257: h, 258: (16, 16, 16), 259: 8, 262: 2, 277: 3, 278: rows, 284: 1, 317: 2, 339: (1, 1, 1),
                279: tuple(len(s) for s in strips)})
    for tag, value in ((282, 72), (283, 72), (296, 2)):  # 72 dpi unless the original says otherwise
        ifd.setdefault(tag, value)
    if icc:
        ifd[34675] = icc
    # Pillow's IFD writer counts strip offsets from the end of the tags' data, where the strips go
    ifd[273] = tuple(np.cumsum([0] + [len(s) for s in strips[:-1]]).tolist())
    head = ifd.tobytes(8)[6:]  # without "Exif\0\0": a TIFF header, IFD 0 at 8, then the tags' data
    return head + b"".join(strips)


def write_text(text: str, dst: Path) -> None:
    """Replace ``dst`` with ``text`` atomically (reports are rewritten on every run)."""
    _atomic_write(dst, lambda f: f.write(text.encode("utf-8")))
