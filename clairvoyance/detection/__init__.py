"""Identification: find faces in a photo and cut a 256x256 crop of each.

Detectors are registered by name behind one small base class; ``DETECTORS`` feeds the CLI's choices.
"""
from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from ..errors import UnknownModelError
from ..images import Photo, read_photo
from ..types import Box, Face
from .base import Detection, Detector
from .haar import HaarDetector
from .scrfd import SCRFDDetector
from .yunet import YuNetDetector

CROP_SIZE = 256
#: Extra room around a detector's box, as a fraction of its side (hair, chin and ears give context).
CROP_MARGIN = 0.25
#: Longest side of the reduced decode that detection runs on.
DETECT_SIDE = 960
#: Smallest face judged by the pipeline, as the side of its crop in original pixels (the face box
#: and its margin; a face box of about 64 px). The quality model learnt faces of 128 px and more, and
#: below this it reads a sharp face's lack of pixels as blur: sharp held-out faces pass 95% at 96 px,
#: 53% at 80 and 7% at 64, while the same faces blurred by 0.7 px at their size all fail
#: (``scripts/check_small_faces.py``). Smaller faces (a crowd, people far away) are left out, as a
#: photographer culls by the people the photo is of; a photo with none larger is judged whole.
MIN_FACE_SIDE = 96
#: Long side of the view a photo without a judged face is seen at (``scene_tiles``): the reduced decode's.
SCENE_SIDE = DETECT_SIDE

DETECTORS: dict[str, type[Detector]] = {"yunet": YuNetDetector, "scrfd": SCRFDDetector, "haar": HaarDetector}
DEFAULT_DETECTOR = "yunet"


@lru_cache(maxsize=None)
def get_detector(name: str = DEFAULT_DETECTOR) -> Detector:
    """The detector registered as ``name`` (built once, lazily)."""
    try:
        return DETECTORS[name]()
    except KeyError:
        raise UnknownModelError("detector", name, list(DETECTORS)) from None


def square_box(box: Box, width: int, height: int, margin: float = CROP_MARGIN) -> Box:
    """A square around ``box`` enlarged by ``margin``, moved (not shrunk) to stay inside the image
    where it fits; a square larger than the image is clamped to its shorter side."""
    side = int(round(max(box.w, box.h) * (1 + 2 * margin)))
    side = max(1, min(side, width, height))
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    x = int(round(min(max(cx - side / 2, 0), width - side)))
    y = int(round(min(max(cy - side / 2, 0), height - side)))
    return Box(x, y, side, side)


def crop_square(rgb: np.ndarray, square: Box, size: int = CROP_SIZE) -> np.ndarray:
    """Cut ``square`` out of ``rgb`` and resize it to ``size`` x ``size``."""
    patch = rgb[square.y : square.y + square.h, square.x : square.x + square.w]
    interp = cv2.INTER_AREA if patch.shape[0] > size else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(patch, (size, size), interpolation=interp))


def scene_tiles(rgb: np.ndarray, side: int = SCENE_SIDE, size: int = CROP_SIZE) -> np.ndarray | None:
    """``size`` x ``size`` areas covering ``rgb`` seen at ``side`` px on its long side (never enlarged;
    a panorama keeps ``size`` px on its short side where it has them): as few as cover it, overlapping
    evenly; None when the view is smaller than one area. At that view a photo is judged as seen full
    screen: a 2 px blur there is a miss, pixel-level softness of a large original is not."""
    h, w = rgb.shape[:2]
    f = min(1.0, max(side / max(h, w), size / min(h, w)))
    if f < 1.0:
        rgb = cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
        h, w = rgb.shape[:2]
    if min(h, w) < size:
        return None
    ys = np.linspace(0, h - size, math.ceil(h / size)).round().astype(int)
    xs = np.linspace(0, w - size, math.ceil(w / size)).round().astype(int)
    return np.stack([rgb[y : y + size, x : x + size] for y in ys for x in xs])


def whole_image_face(photo: Photo) -> Face:
    """The whole photo as the subject (used when no face is found): its centre square, resized, as its
    picture, and the ``scene_tiles`` it is judged on."""
    h, w = photo.rgb.shape[:2]
    sq = square_box(Box(0, 0, w, h), w, h, margin=0.0)
    W, H = photo.size
    return Face(box=Box(0, 0, W, H), crop=crop_square(photo.rgb, sq), whole_image=True,
                native_size=int(round(sq.w / photo.scale)), tiles=scene_tiles(photo.rgb))


def identify(photo: Photo | str, detector: str | Detector = DEFAULT_DETECTOR,
             min_confidence: float | None = None, min_side: int = 0) -> list[Face]:
    """Find the faces in ``photo`` (a Photo or a path), largest first; with ``min_side``, only those
    whose crop is at least that many original pixels a side (the pipeline's ``MIN_FACE_SIDE``).

    Detection runs on a reduced decode for speed; each crop is cut from the coarsest decode that still
    gives every face at least 256 px (the full-resolution original when a face is small).
    """
    det = get_detector(detector) if isinstance(detector, str) else detector
    if not isinstance(photo, Photo):
        photo = read_photo(photo, max_side=DETECT_SIDE)
    small, s = _detection_view(photo.rgb)
    W, H = photo.size
    ratio = s * photo.scale  # detection pixels per original pixel
    faces: list[Face] = []
    for d in det.detect(small, min_confidence):
        b = Box(int(round(d.x / ratio)), int(round(d.y / ratio)), int(round(d.w / ratio)), int(round(d.h / ratio)))
        b = _clip(b, W, H)
        if b.w < 2 or b.h < 2:
            continue
        faces.append(Face(box=b, crop=np.empty(0), confidence=d.confidence))
    if not faces:
        return []
    faces.sort(key=lambda f: f.box.area, reverse=True)
    squares = [square_box(f.box, W, H) for f in faces]
    kept = [(f, sq) for f, sq in zip(faces, squares) if sq.w >= min_side]
    if not kept:
        return []
    faces, squares = [f for f, _ in kept], [sq for _, sq in kept]
    source = photo
    need = min(1.0, CROP_SIZE / min(sq.w for sq in squares))  # decode scale that keeps every crop >= 256 px
    if photo.scale < need:
        # re-decode only as finely as the smallest face needs (JPEG DCT scaling: 1/2 costs a third of 1/1)
        source = read_photo(photo.path, max_side=None if need >= 1.0 else math.ceil(max(W, H) * need))
    out = []
    for f, sq in zip(faces, squares):
        r = source.scale
        ssq = Box(int(sq.x * r), int(sq.y * r), max(1, int(sq.w * r)), max(1, int(sq.h * r)))
        out.append(Face(box=f.box, crop=crop_square(source.rgb, ssq), confidence=f.confidence, native_size=sq.w))
    return out


def _detection_view(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = rgb.shape[:2]
    s = min(1.0, DETECT_SIDE / max(h, w))
    if s < 1.0:
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return rgb, s


def subjects(photo: Photo, detector: str | Detector = DEFAULT_DETECTOR, min_side: int = 0) -> list[Face]:
    """What a photo is judged on: the faces ``identify`` finds, or when there is none, the whole photo
    as the one subject (``whole_image_face``)."""
    return identify(photo, detector, min_side=min_side) or [whole_image_face(photo)]


def _clip(b: Box, W: int, H: int) -> Box:
    x0, y0 = max(0, b.x), max(0, b.y)
    x1, y1 = min(W, b.x + b.w), min(H, b.y + b.h)
    return Box(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


__all__ = ["DETECTORS", "DEFAULT_DETECTOR", "MIN_FACE_SIDE", "Detection", "Detector", "get_detector", "identify",
           "subjects", "square_box", "crop_square", "whole_image_face", "scene_tiles", "CROP_SIZE"]
