"""YuNet (libfacedetection), compiled into the ``yuface`` wheel: no weights to download."""
from __future__ import annotations

import numpy as np

from .base import Detection, Detector


class YuNetDetector(Detector):
    """A small modern CNN detector: finds profiles, small and dim faces that Haar misses.

    ``min_confidence`` (0-1) trades recall for precision; 0.8 (the default) rejects dog faces while keeping real ones at 0.9+.
    """

    name = "yunet"
    default_confidence = 0.8

    def __init__(self) -> None:
        import yuface  # noqa: F401  (imported lazily: it loads a shared library)

        self._detect = yuface.detect

    def detect(self, rgb: np.ndarray, min_confidence: float | None = None) -> list[Detection]:
        conf = self.default_confidence if min_confidence is None else min_confidence
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        confs, boxes, _ = self._detect(bgr, conf=conf)
        return [Detection(float(x), float(y), float(w), float(h), float(c) / 100.0)
                for c, (x, y, w, h) in zip(confs, boxes)]
