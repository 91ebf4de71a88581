"""File-level helpers behind ``clairvoyance score`` and ``clairvoyance correct``."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

from . import detection
from .correction import ORDER
from .errors import ImageLoadError
from .images import RAW_EXTENSIONS, read_photo
from .publish import write_bytes
from .scoring import QualityModel
from .types import Box, Face, FaceResult, ImageResult, Tolerances


def _faces(path: Path, detector: str, no_detect: bool, for_correction: bool = False,
           min_face: int = detection.MIN_FACE_SIDE):
    if no_detect:  # the full decode: for a correction, a RAW's with its 16 bits
        photo = read_photo(path, keep_16bit=for_correction and path.suffix.lower() in RAW_EXTENSIONS)
        h, w = photo.rgb.shape[:2]
        # a crop is scored as given: squashed to 256x256 if not square, never re-framed
        interp = cv2.INTER_AREA if min(h, w) > 256 else cv2.INTER_CUBIC
        crop = np.ascontiguousarray(cv2.resize(photo.rgb, (256, 256), interpolation=interp))
        return photo, [Face(box=Box(0, 0, w, h), crop=crop, native_size=min(h, w))]
    photo = read_photo(path, max_side=detection.DETECT_SIDE)
    return photo, detection.subjects(photo, detector, min_side=min_face)


def score_files(files: Sequence[Path], model: QualityModel, detector: str = detection.DEFAULT_DETECTOR,
                no_detect: bool = False, tolerances: Tolerances | None = None,
                min_face: int = detection.MIN_FACE_SIDE) -> list[ImageResult]:
    """Score the faces of each file (or each file as one face with ``no_detect``), those too small to
    judge (``min_face``, as ``Clairvoyance``) left out; copies nothing."""
    tol = tolerances or Tolerances()
    out = []
    for p in files:
        p = Path(p)
        try:
            _, faces = _faces(p, detector, no_detect, min_face=min_face)
        except ImageLoadError as e:
            out.append(ImageResult(str(p), "error", error=str(e), reason=str(e)))
            continue
        scores = model.score_faces(faces)
        res = tuple(FaceResult(f.box, s, tuple(tol.failed(s)), f.whole_image) for f, s in zip(faces, scores))
        failing = any(r.failed for r in res)
        status = "no_face" if faces[0].whole_image else ("rejected" if failing else "selected")
        out.append(ImageResult(str(p), status, res))
    return out


def correct_files(files: Sequence[Path], metric: str, no_detect: bool, output_dir: Path, model: QualityModel,
                  tolerances: Tolerances | None = None, corrector: str | None = None
                  ) -> Iterator[tuple[Path, Path | None, str | None]]:
    """Correct each file on ``metric`` (or, for ``auto``, on its failing axes); yields (file, output, error).

    With ``no_detect`` the whole file is one face and the output has the input's size. The output is
    ``output_dir/<stem>.png``, or for a RAW ``<stem>.tif`` with 16 bits per channel, with the original's
    EXIF and colour profile.
    """
    from .pipeline import Clairvoyance, encode_corrected, full_decode

    tol = tolerances or Tolerances()
    cv = Clairvoyance(model=model, tolerances=tol, corrector=corrector)
    fixer = cv.corrector
    for p in files:
        p = Path(p)
        try:
            photo, faces = _faces(p, detection.DEFAULT_DETECTOR, no_detect, for_correction=True)
            full = full_decode(p, photo)  # as in a run: a RAW from its 16-bit demosaic, not its preview
            if metric == "auto":
                scores = model.score_faces(faces)
                axes = [tol.failed(s) for s in scores]
            else:
                axes = [[metric] for _ in faces]
            if no_detect:
                fixed = full.rgb
                if "lighting" in axes[0]:
                    fixed = fixer.correct_lighting(fixed, faces[0].crop)
                local = [a for a in ORDER if a in axes[0] and a != "lighting"]
                fixed = fixer.correct(fixed, local) if local else fixed
            else:  # auto, as `run`: an axis the correction pushed over gets a second round
                fixed = cv.correct_and_rejudge(full.rgb, faces, axes, second_round=metric == "auto")[0]
            suffix = ".png" if full.rgb16 is None else ".tif"  # a RAW: a 16-bit TIFF, as in a run
            dst = write_bytes(encode_corrected(full, fixed, suffix), output_dir / f"{p.stem}{suffix}")
            yield p, dst, None
        except ImageLoadError as e:
            yield p, None, str(e)
