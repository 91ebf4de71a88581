"""Real files in the formats photographers bring, made here from arrays: a tiny DNG (camera RAW that
LibRaw decodes, with an embedded JPEG preview), CR3, RAF, ORF and RW2 with a camera's structure (for
their EXIF), HEIC, 16-bit and float TIFF, and an sRGB ICC profile."""
from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image

_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _UNDEF, _SRATIONAL = 1, 2, 3, 4, 5, 7, 10
_SIZE = {_BYTE: 1, _ASCII: 1, _SHORT: 2, _LONG: 4, _RATIONAL: 8, _UNDEF: 1, _SRATIONAL: 8}


def _pack(typ: int, vals, endian: str = "<") -> bytes:
    if typ == _ASCII:
        return vals.encode() + b"\0"
    if typ in (_BYTE, _UNDEF):
        return bytes(vals)
    if typ in (_SHORT, _LONG):
        return struct.pack(f"{endian}{len(vals)}{'H' if typ == _SHORT else 'I'}", *vals)
    rational = f"{endian}ii" if typ == _SRATIONAL else f"{endian}II"
    return b"".join(struct.pack(rational, int(round(v * 10000)), 10000) for v in vals)


def tiff_file(ifds: dict[str, list], blobs: dict[str, bytes] | None = None, magic: bytes = b"II*\0",
              header: bytes = b"") -> bytes:
    """A TIFF structure as cameras lay their RAW files out: ``magic`` (its first two bytes name the
    byte order), the offset of the first IFD, ``header`` (what some formats put before it), the IFDs
    ``ifds`` (name -> entries (tag, type, values)) one after the other, their values that do not fit in
    an entry, then ``blobs`` (name -> data: pixels, a preview). A LONG entry whose value is a name of an
    IFD or blob holds its offset."""
    endian = "<" if magic[:2] == b"II" else ">"
    blobs = blobs or {}
    where = dict.fromkeys(blobs, 0)  # where blobs go is known after a first pass
    at = 8 + len(header)
    for name, entries in ifds.items():
        where[name], at = at, at + 2 + 12 * len(entries) + 4
    data_at = at
    extra = bytearray()

    def ifd(entries) -> bytes:
        out = struct.pack(f"{endian}H", len(entries))
        for tag, typ, vals in sorted(entries, key=lambda e: e[0]):
            data = _pack(typ, [where[vals]] if typ == _LONG and isinstance(vals, str) else vals, endian)
            if len(data) <= 4:
                out += struct.pack(f"{endian}HHI", tag, typ, len(data) // _SIZE[typ]) + data.ljust(4, b"\0")
            else:
                out += struct.pack(f"{endian}HHII", tag, typ, len(data) // _SIZE[typ], data_at + len(extra))
                extra.extend(data + b"\0" * (len(data) % 2))
        return out + struct.pack(f"{endian}I", 0)

    for entries in ifds.values():  # a first pass measures the out-of-line values
        ifd(entries)
    at = data_at + len(extra)
    for name, blob in blobs.items():
        where[name], at = at, at + len(blob) + len(blob) % 2
    extra.clear()
    head = b"".join(ifd(entries) for entries in ifds.values())
    return (magic + struct.pack(f"{endian}I", 8 + len(header)) + header + head + bytes(extra)
            + b"".join(blob + b"\0" * (len(blob) % 2) for blob in blobs.values()))


def _mosaic(rgb: np.ndarray, endian: str = "<") -> np.ndarray:
    """A sensor's view of ``rgb``: the 16-bit RGGB Bayer mosaic in linear light (black level 64)."""
    h, w = rgb.shape[:2]
    lin = (rgb.astype(np.float64) / 255.0) ** 2.2
    cfa = np.empty((h, w))
    cfa[0::2, 0::2], cfa[0::2, 1::2] = lin[0::2, 0::2, 0], lin[0::2, 1::2, 1]
    cfa[1::2, 0::2], cfa[1::2, 1::2] = lin[1::2, 0::2, 1], lin[1::2, 1::2, 2]
    return (cfa * 4000 + 64).astype(f"{endian}u2")


def _jpeg(rgb: np.ndarray, quality: int = 85, exif: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality, **({"exif": exif} if exif else {}))
    return buf.getvalue()


def write_dng(path: Path, rgb: np.ndarray, orientation: int = 1, make: str = "Clairvoyance",
              model: str = "Test DNG") -> Path:
    """A DNG 1.4 of ``rgb`` as a camera would store it: IFD 0 a full-size JPEG preview, a SubIFD the
    16-bit RGGB Bayer mosaic (linear light), with ``orientation`` (EXIF code) and Make/Model."""
    h, w = rgb.shape[:2]
    raw = _mosaic(rgb)
    jpeg = _jpeg(rgb, quality=90)
    ifd0 = [(254, _LONG, [1]), (256, _LONG, [w]), (257, _LONG, [h]), (258, _SHORT, [8, 8, 8]), (259, _SHORT, [7]),
            (262, _SHORT, [6]), (271, _ASCII, make), (272, _ASCII, model), (273, _LONG, "JPEG"),
            (274, _SHORT, [orientation]), (277, _SHORT, [3]), (278, _LONG, [h]), (279, _LONG, [len(jpeg)]),
            (330, _LONG, "SUB"), (50706, _BYTE, [1, 4, 0, 0]), (50707, _BYTE, [1, 1, 0, 0]),
            (50708, _ASCII, f"{make} {model}"), (50721, _SRATIONAL, [1, 0, 0, 0, 1, 0, 0, 0, 1]),
            (50727, _RATIONAL, [1, 1, 1]), (50728, _RATIONAL, [1, 1, 1]), (50778, _SHORT, [21])]
    sub = [(254, _LONG, [0]), (256, _LONG, [w]), (257, _LONG, [h]), (258, _SHORT, [16]), (259, _SHORT, [1]),
           (262, _SHORT, [32803]), (273, _LONG, "RAW"), (277, _SHORT, [1]), (278, _LONG, [h]),
           (279, _LONG, [raw.nbytes]), (284, _SHORT, [1]), (33421, _SHORT, [2, 2]), (33422, _BYTE, [0, 1, 1, 2]),
           (50714, _SHORT, [64]), (50717, _SHORT, [4064])]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tiff_file({"IFD0": ifd0, "SUB": sub}, {"JPEG": jpeg, "RAW": raw.tobytes()}))
    return path


def srgb_icc() -> bytes:
    """A real sRGB ICC profile (LittleCMS, through Pillow)."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def camera_exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "TestCam", "Model 7", orientation
    exif[0x8769] = {0x8827: 400, 0x829A: (1, 125)}  # ISO 400, 1/125 s
    return exif.tobytes()


def write_heic(path: Path, rgb: np.ndarray, exif: bytes | None = None, icc: bytes | None = None) -> Path:
    """A HEIC written by libheif (pillow-heif)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    path.parent.mkdir(parents=True, exist_ok=True)
    opts = {k: v for k, v in (("exif", exif), ("icc_profile", icc)) if v}
    Image.fromarray(rgb).save(path, format="HEIF", quality=92, **opts)
    return path


def write_tiff16(path: Path, rgb: np.ndarray) -> Path:
    """A 48-bit RGB TIFF (16 bits per channel), as a scanner or a RAW converter writes it."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]).astype(np.uint16) * 257)
    return path


# --- camera RAW whose EXIF is not a plain TIFF's: CR3, RAF, ORF, RW2 --------------------------------
#: What a camera writes about a shot: IFD 0, Exif and GPS tags as (tag, type, values); read back by exiftool.
SHOT_IFD0 = [(271, _ASCII, "Canon"), (272, _ASCII, "Canon EOS R5"), (274, _SHORT, [1]),
             (306, _ASCII, "2024:05:01 10:00:00")]
SHOT_EXIF = [(33434, _RATIONAL, [1 / 125]), (33437, _RATIONAL, [2.8]), (34855, _SHORT, [400]),
             (36867, _ASCII, "2024:05:01 10:00:00"), (42036, _ASCII, "RF24-70mm F2.8 L IS USM")]
SHOT_GPS = [(0, _BYTE, [2, 3, 0, 0]), (1, _ASCII, "N"), (2, _RATIONAL, [48, 51, 29.5]), (3, _ASCII, "E"),
            (4, _RATIONAL, [2, 17, 40])]


def tiff_ifd(entries) -> bytes:
    """A little-endian TIFF structure holding one IFD of ``entries`` (tag, type, values), as a CR3's
    CMTn boxes do."""
    return tiff_file({"IFD0": entries})


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def write_cr3(path: Path, rgb: np.ndarray, ifd0=SHOT_IFD0, exif=SHOT_EXIF, gps=SHOT_GPS) -> Path:
    """A Canon CR3's structure (ISO base media file): ``ftyp`` brand ``crx ``, then ``moov`` holding
    Canon's ``uuid`` box with CMT1 (IFD 0), CMT2 (Exif), CMT3 (maker note), CMT4 (GPS) and a THMB
    thumbnail, then ``mdat`` with a JPEG. Real readers (exiftool) read its EXIF; LibRaw cannot decode
    its pixels (there is no CRX-coded image in it)."""
    from clairvoyance.exif import CR3_UUID

    jpeg = _jpeg(rgb)
    canon = (_box(b"CNCV", b"CanonCR3_001/00.09.00/00.00.00")
             + _box(b"CMT1", tiff_ifd(ifd0)) + _box(b"CMT2", tiff_ifd(exif))
             + _box(b"CMT3", tiff_ifd([(6, _ASCII, "Canon EOS R5")])) + _box(b"CMT4", tiff_ifd(gps))
             + _box(b"THMB", b"\0" * 16))
    ftyp = _box(b"ftyp", b"crx " + struct.pack(">I", 1) + b"crx isom")
    moov = _box(b"moov", _box(b"uuid", CR3_UUID + canon))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ftyp + moov + _box(b"mdat", jpeg))
    return path


def write_raf(path: Path, rgb: np.ndarray, exif: bytes) -> Path:
    """A Fujifilm RAF's structure: the 84-byte header (magic, version, camera id and name, directory
    version), the offset and length of the embedded JPEG (which carries ``exif``) and of the CFA
    header and data, big-endian, then the JPEG and a small mosaic."""
    jpeg = _jpeg(rgb, exif=exif)
    cfa = bytes(64)
    head = (b"FUJIFILMCCD-RAW 0201FF383501" + b"X-T5".ljust(32, b"\0") + b"0100" + bytes(20))
    assert len(head) == 84
    jpeg_at = 148  # header, the offset table, and room as in real files
    cfa_at = jpeg_at + len(jpeg)
    table = struct.pack(">IIIIII", jpeg_at, len(jpeg), 0, 0, cfa_at, len(cfa))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((head + table).ljust(jpeg_at, b"\0") + jpeg + cfa)
    return path


def shot_exif(make: str = "FUJIFILM", model: str = "X-T5", lens: str = "XF56mmF1.2 R WR") -> bytes:
    """The same shot's EXIF as a JPEG (a RAF's or RW2's embedded one) carries it, written by Pillow."""
    from fractions import Fraction

    from PIL.TiffImagePlugin import IFDRational

    exif = Image.Exif()
    for tag, _, v in SHOT_IFD0:
        exif[tag] = v if isinstance(v, str) else v[0]
    exif[0x010F], exif[0x0110] = make, model
    exif[0x8769] = {0x829A: IFDRational(1, 125), 0x829D: IFDRational(28, 10), 0x8827: 400,
                    0x9003: "2024:05:01 10:00:00", 0xA434: lens}
    exif[0x8825] = {0: b"\x02\x03\x00\x00", 1: "N", 2: tuple(IFDRational(Fraction(x)) for x in (48, 51, 29.5)),
                    3: "E", 4: tuple(IFDRational(Fraction(x)) for x in (2, 17, 40))}
    return exif.tobytes()


def _retag(entries, **values):
    """``entries`` with the values of the tags named (Make=..., Model=..., LensModel=...) replaced."""
    tags = {"Make": 271, "Model": 272, "LensModel": 42036}
    new = {tags[k]: v for k, v in values.items()}
    return [(tag, typ, new.get(tag, vals)) for tag, typ, vals in entries]


#: An Olympus maker note as cameras write it: its own header and byte order, offsets from its start.
OLYMPUS_MAKERNOTE = b"OLYMPUS\0II\x03\0" + struct.pack("<HHHI4sI", 1, 0x0000, _UNDEF, 4, b"0100", 0)


def write_orf(path: Path, rgb: np.ndarray, magic: bytes = b"IIRO") -> Path:
    """An Olympus ORF's structure: a TIFF whose magic number is ``IIRO`` (``IIRS`` in older cameras,
    ``MMOR`` big-endian), IFD 0 with the camera, date and strip of 16-bit Bayer data, and Exif (with
    Olympus's maker note) and GPS sub-IFDs holding the shot (``SHOT_*``)."""
    h, w = rgb.shape[:2]
    raw = _mosaic(rgb, "<" if magic[:2] == b"II" else ">").tobytes()
    ifd0 = [(254, _LONG, [0]), (256, _LONG, [w]), (257, _LONG, [h]), (258, _SHORT, [16]), (259, _SHORT, [1]),
            (262, _SHORT, [32803]), (273, _LONG, "RAW"), (277, _SHORT, [1]), (278, _LONG, [h]),
            (279, _LONG, [len(raw)]), (282, _RATIONAL, [314]), (283, _RATIONAL, [314]), (296, _SHORT, [2]),
            (305, _ASCII, "Version 1.40"), (34665, _LONG, "EXIF"), (34853, _LONG, "GPS"),
            *_retag(SHOT_IFD0, Make="OLYMPUS CORPORATION", Model="E-M1MarkIII")]
    exif = [*_retag(SHOT_EXIF, LensModel="OLYMPUS M.25mm F1.2"), (37500, _UNDEF, OLYMPUS_MAKERNOTE)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tiff_file({"IFD0": ifd0, "EXIF": exif, "GPS": SHOT_GPS}, {"RAW": raw}, magic=magic))
    return path


#: What follows a RW2's 8-byte header (exiftool checks it), before IFD 0 at 0x18.
RW2_SIGNATURE = bytes.fromhex("88e774d8f8251d4d947a6e77822b5d6a")


def write_rw2(path: Path, rgb: np.ndarray, exif: bytes | None = None) -> Path:
    """A Panasonic RW2's structure: magic ``IIU\\0``, a signature, then IFD 0 with Panasonic's sensor
    tags (size, borders, bit depth, ISO in tag 0x17), Make, Model, Orientation, the 12-bit data, and in
    tag 0x2E ("JpgFromRaw") the camera's JPEG carrying ``exif``, the shot's full EXIF (without ``exif``,
    no JPEG: as in the older Panasonic RAW files)."""
    h, w = rgb.shape[:2]
    raw = (_mosaic(rgb) >> 4).astype("<u2").tobytes()
    ifd0 = [(0x01, _UNDEF, b"0340"), (0x02, _SHORT, [w]), (0x03, _SHORT, [h]), (0x04, _SHORT, [0]),
            (0x05, _SHORT, [0]), (0x06, _SHORT, [h]), (0x07, _SHORT, [w]), (0x09, _SHORT, [1]),
            (0x0A, _SHORT, [12]), (0x0B, _SHORT, [34316]), (0x17, _SHORT, [400]),
            (271, _ASCII, "Panasonic"), (272, _ASCII, "DC-GH5"), (273, _LONG, "RAW"), (274, _SHORT, [1]),
            (278, _SHORT, [h]), (279, _LONG, [len(raw)]), (280, _LONG, "RAW")]
    if exif is not None:
        ifd0.append((0x2E, _UNDEF, _jpeg(rgb, exif=exif)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tiff_file({"IFD0": ifd0}, {"RAW": raw}, magic=b"IIU\0", header=RW2_SIGNATURE))
    return path
