"""The EXIF a photo's outputs carry: the tags that describe the photo (camera, lens, date, exposure,
GPS), found wherever its format keeps them, as bytes Pillow writes into any output.

* JPEG, PNG, WebP, HEIC: Pillow reads the EXIF block as it is (``images.read_photo``).
* TIFF and TIFF-based RAW (DNG, CR2, NEF, ARW, PEF, SRW...): the tags of the file's own IFD 0 and its
  Exif and GPS sub-IFDs.
* CR3 (Canon, ISO base media file): the same IFDs as four small TIFF structures, ``CMT1`` (IFD 0),
  ``CMT2`` (Exif), ``CMT3`` (maker note) and ``CMT4`` (GPS), in Canon's ``uuid`` box inside ``moov``.
* RAF (Fujifilm): a fixed header points to an embedded JPEG whose EXIF is the photo's.
* ORF (Olympus) and RW2 (Panasonic): TIFF structures with a magic number of their own in place of 42
  (``IIRO``, ``IIRS``, ``MMOR``; ``IIU\\0``), which Pillow refuses; their IFDs are read as a TIFF's. A RW2's
  IFD 0 also holds the JPEG the camera rendered (``JpgFromRaw``) with the shot's full EXIF, preferred to
  IFD 0's own tags (Make, Model, Orientation, and the ISO in Panasonic's tag 0x17).

Only descriptive tags travel: the ones that describe a file's pixel data (strip offsets, sizes, DNG
colour tags, maker-note offsets into the original) would be wrong in another file.
"""
from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path
from typing import BinaryIO

from PIL import Image

#: Tags of IFD 0 that describe the photo: description, make, model, software, date, artist, copyright.
DESCRIPTIVE_TAGS = (0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298)
EXIF_IFD, GPS_IFD, INTEROP_IFD = 0x8769, 0x8825, 0xA005
ORIENTATION = 0x0112
#: Canon's box of metadata in a CR3's ``moov`` (ISO base media file format).
CR3_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")
RAF_MAGIC = b"FUJIFILMCCD-RAW "
#: The first four bytes of an ORF or RW2, and the byte order of its IFDs.
TIFF_LIKE_MAGIC = {b"IIRO": "<", b"IIRS": "<", b"MMOR": ">", b"IIU\0": "<"}
RW2_MAGIC = b"IIU\0"
#: Tags of a RW2's IFD 0: the camera's JPEG (with the shot's EXIF), and the ISO.
RW2_JPG_FROM_RAW, RW2_ISO = 0x002E, 0x0017
ISO = 0x8827
#: What a damaged or unexpected file makes the parsers here and Pillow's raise.
_UNREADABLE = (ValueError, struct.error, SyntaxError, OSError, KeyError, TypeError)
#: Largest metadata box or embedded JPEG read (a CR3's moov is a few hundred KB, a RAF's JPEG a few MB).
_MAX_READ = 64 << 20


def raw_exif(path: str | Path, orientation: int | None = None) -> bytes | None:
    """The descriptive EXIF of a camera RAW file (TIFF-based, ORF, RW2, CR3 or RAF), with ``orientation``
    (the EXIF code of the pixels it will go with) instead of the file's own; None when none is found (an
    output carries no EXIF rather than a wrong one)."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
            f.seek(0)
            if head[4:12] == b"ftypcrx ":
                return cr3_exif(f, orientation)
            if head == RAF_MAGIC:
                return raf_exif(f, orientation)
            if head[:4] in TIFF_LIKE_MAGIC:
                return tiff_like_exif(f, orientation)
    except OSError:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                return descriptive_exif(im.getexif(), orientation)
    except _UNREADABLE:
        return None  # a format Pillow cannot parse


def descriptive_exif(src: Image.Exif, orientation: int | None = None,
                     exif_ifd: dict | None = None, gps_ifd: dict | None = None) -> bytes | None:
    """The tags of ``src`` (a TIFF-structured IFD 0) that describe the photo, with its Exif and GPS
    sub-IFDs (or ``exif_ifd`` / ``gps_ifd`` when they live elsewhere, as in a CR3); None if there are none."""
    out = Image.Exif()
    for tag in DESCRIPTIVE_TAGS:
        if tag in src:
            out[tag] = src[tag]
    for tag, given in ((EXIF_IFD, exif_ifd), (GPS_IFD, gps_ifd)):
        sub = dict(given if given is not None else src.get_ifd(tag))
        sub.pop(INTEROP_IFD, None)  # an offset into the original file
        if sub:
            out[tag] = sub
    if orientation is not None:
        out[ORIENTATION] = orientation
    elif ORIENTATION in src:
        out[ORIENTATION] = src[ORIENTATION]
    return out.tobytes() if len(out) else None


def _tiff_ifd0(data: bytes) -> Image.Exif:
    """IFD 0 of a small TIFF structure (a CR3's CMTn box), parsed by Pillow."""
    ex = Image.Exif()
    ex.load(data)
    return ex


# --- CR3 ------------------------------------------------------------------------------------------
def _boxes(f: BinaryIO, end: int):
    """(type, payload start, payload end) of the ISO-BMFF boxes from ``f``'s position up to ``end``."""
    while f.tell() + 8 <= end:
        start = f.tell()
        size, kind = struct.unpack(">I4s", f.read(8))
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", f.read(8))[0], 16
        elif size == 0:
            size = end - start
        if size < header or start + size > end:
            raise ValueError(f"bad ISO-BMFF box {kind!r} at {start}")
        yield kind, start + header, start + size
        f.seek(start + size)


def _read(f: BinaryIO, start: int, end: int) -> bytes:
    if end - start > _MAX_READ:
        raise ValueError("metadata block too large")
    f.seek(start)
    data = f.read(end - start)
    if len(data) != end - start:
        raise ValueError("file ends inside a metadata block")
    return data


def cr3_exif(f: BinaryIO, orientation: int | None = None) -> bytes | None:
    """The descriptive EXIF of a Canon CR3 open as ``f``: CMT1 (IFD 0), CMT2 (Exif) and CMT4 (GPS)."""
    f.seek(0, io.SEEK_END)
    size = f.tell()
    f.seek(0)
    try:
        moov = next(((s, e) for kind, s, e in _boxes(f, size) if kind == b"moov"), None)
        if moov is None:
            return None
        f.seek(moov[0])
        canon = next(((s, e) for kind, s, e in _boxes(f, moov[1])
                      if kind == b"uuid" and _read(f, s, s + 16) == CR3_UUID), None)
        if canon is None:
            return None
        f.seek(canon[0] + 16)
        cmt = {kind: (s, e) for kind, s, e in _boxes(f, canon[1]) if kind in (b"CMT1", b"CMT2", b"CMT4")}
        if b"CMT1" not in cmt:
            return None
        ifd0 = _tiff_ifd0(_read(f, *cmt[b"CMT1"]))
        subs = {kind: dict(_tiff_ifd0(_read(f, *cmt[kind]))) if kind in cmt else {} for kind in (b"CMT2", b"CMT4")}
    except _UNREADABLE:
        return None
    return descriptive_exif(ifd0, orientation, exif_ifd=subs[b"CMT2"], gps_ifd=subs[b"CMT4"])


# --- RAF ------------------------------------------------------------------------------------------
def raf_exif(f: BinaryIO, orientation: int | None = None) -> bytes | None:
    """The descriptive EXIF of a Fujifilm RAF open as ``f``: the EXIF of the JPEG its header points to
    (offset and length, big-endian, at byte 84)."""
    try:
        header = _read(f, 0, 92)
        jpeg_at, jpeg_len = struct.unpack(">II", header[84:92])
        return _jpeg_exif(_read(f, jpeg_at, jpeg_at + jpeg_len), orientation)
    except _UNREADABLE:
        return None


def _jpeg_exif(jpeg: bytes, orientation: int | None) -> bytes | None:
    """The descriptive EXIF of a JPEG a RAW file embeds (RAF, RW2); None if it is not one or has none."""
    if not jpeg.startswith(b"\xff\xd8"):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(io.BytesIO(jpeg)) as im:
            data = im.info.get("exif")
    return descriptive_exif(_tiff_ifd0(data), orientation) if data else None


# --- ORF and RW2 ----------------------------------------------------------------------------------
def tiff_like_exif(f: BinaryIO, orientation: int | None = None) -> bytes | None:
    """The descriptive EXIF of an Olympus ORF or a Panasonic RW2 open as ``f``: Pillow reads its IFDs
    from the file as a TIFF's, in the byte order its magic number names. For a RW2 the EXIF of its
    ``JpgFromRaw`` comes first; without one, IFD 0's tags, with Panasonic's ISO as the Exif ISO."""
    try:
        head = _read(f, 0, 8)
        ifd0 = Image.Exif()
        ifd0.endian = TIFF_LIKE_MAGIC[head[:4]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ifd0.load_from_fp(f, struct.unpack(f"{ifd0.endian}I", head[4:8])[0])
            if head[:4] != RW2_MAGIC:
                return descriptive_exif(ifd0, orientation)
            jpeg = ifd0.get(RW2_JPG_FROM_RAW)
            found = _jpeg_exif(jpeg, orientation) if isinstance(jpeg, bytes) else None
            if found:
                return found
            exif_ifd = dict(ifd0.get_ifd(EXIF_IFD))
            if RW2_ISO in ifd0:
                exif_ifd.setdefault(ISO, ifd0[RW2_ISO])
            return descriptive_exif(ifd0, orientation, exif_ifd=exif_ifd)
    except _UNREADABLE:
        return None
